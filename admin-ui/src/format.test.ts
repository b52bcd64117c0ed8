// Money shown to people is the API's integer minor units, converted by the currency's own
// number of decimals.
import { describe, expect, it } from "vitest";
import { minorPerMajor, money } from "./format";

describe("money", () => {
  it("uses the currency's minor units", () => {
    expect(minorPerMajor("USD")).toBe(100);
    expect(minorPerMajor("JPY")).toBe(1);
    expect(minorPerMajor("BHD")).toBe(1000);
  });
  it("formats integer minor units", () => {
    expect(money(4900, "USD")).toContain("49.00");
    expect(money(4900, "JPY")).toContain("4,900");
  });
  it("says what it shows when the currency is unknown to the browser", () => {
    expect(money(12, "XXXX")).toBe("12 XXXX (minor units)");
  });
});
