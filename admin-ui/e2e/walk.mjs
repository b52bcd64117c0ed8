// The portal walked as a person uses it, in Debian's Chromium driven by Playwright, against
// a real `tollgate serve` on PostgreSQL that tests/it/portal.rs started. That test restarts
// the server when this script prints `RESTART` and answers `RESTARTED` on stdin; it checks
// the database afterwards. Every page is checked with axe (no serious or critical
// violation) and photographed at 1280 px and 390 px into $SCREENSHOTS.
//
// Env: BASE (http://127.0.0.1:PORT), OWNER_EMAIL, OWNER_PASSWORD, OTP_EMAIL, OTP_PASSWORD,
// IMAGE (a PNG that reads "hello"), OCR_CALLS, SCREENSHOTS.
import { chromium } from "playwright-core";
import { AxeBuilder } from "@axe-core/playwright";
import { createInterface } from "node:readline";
import { mkdirSync, readFileSync } from "node:fs";
import assert from "node:assert/strict";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`walk.mjs needs ${name}`);
  return v;
};
const BASE = env("BASE");
const SHOTS = env("SCREENSHOTS");
mkdirSync(SHOTS, { recursive: true });
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

async function restartServer() {
  process.stdout.write("RESTART\n");
  const { value } = await lines.next();
  assert.equal(value, "RESTARTED", "the test did not restart the server");
}

const step = (name) => process.stderr.write(`walk: ${name}\n`);

/** axe on the current page: no serious or critical violation. */
async function accessible(page, name) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
    [],
    `axe violations on ${name}`,
  );
}

/** Screenshots of the current page at both widths, and axe at both. */
async function photograph(page, name) {
  for (const [label, width] of [
    ["1280", 1280],
    ["390", 390],
  ]) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(100);
    await accessible(page, `${name} at ${width}px`);
    // Usable at this width: nothing sticks out sideways (wide tables scroll in their box).
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(overflow <= width, `${name} is ${overflow}px wide at ${width}px`);
    await page.screenshot({ path: `${SHOTS}/${name}-${label}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** Calls the API from the page's own context (same origin, as a program on it would). */
async function fromPage(page, path, init) {
  return page.evaluate(
    async ({ path, init }) => {
      const r = await fetch(path, init);
      let body = null;
      try {
        body = await r.json();
      } catch {
        body = null;
      }
      return { status: r.status, body };
    },
    { path, init },
  );
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
  ],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on("dialog", (d) => d.accept());

  step("a deep link, signed out, is the app's sign-in");
  const deep = await page.goto(`${BASE}/admin/keys`);
  assert.equal(deep.status(), 200);
  assert.match(deep.headers()["content-type"], /text\/html/);
  await page.getByRole("heading", { name: "Tollgate portal" }).waitFor();
  await photograph(page, "sign-in");

  step("a wrong password is refused on the page");
  await page.getByLabel("Email").fill(env("OWNER_EMAIL"));
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "invalid email or password" }).waitFor();

  step("sign in; the deep link's page shows");
  await page.getByLabel("Password").fill(env("OWNER_PASSWORD"));
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "API keys" }).waitFor();

  step("refresh: still signed in");
  await page.reload();
  await page.getByRole("heading", { name: "API keys" }).waitFor();

  step("restart the server: still signed in");
  await restartServer();
  await page.reload();
  await page.getByRole("heading", { name: "API keys" }).waitFor();
  await page.getByText("No API keys yet").or(page.locator("table")).first().waitFor();
  await photograph(page, "keys-empty");

  step("create a key; it is shown once and works on /v1/me from the page");
  await page.getByLabel("Name").fill("browser key");
  await page.getByRole("button", { name: "Create key" }).click();
  const key = (await page.getByTestId("new-key").textContent())?.trim() ?? "";
  assert.match(key, /^tg_live_[0-9A-Za-z]+$/);
  await photograph(page, "keys-created");
  const me = await fromPage(page, "/v1/me", { headers: { "X-API-Key": key } });
  assert.equal(me.status, 200, JSON.stringify(me.body));
  assert.deepEqual(me.body.scopes, ["ocr:read"]);

  step("real OCR calls with the key, from the page");
  const image = Array.from(readFileSync(env("IMAGE")));
  const calls = Number(env("OCR_CALLS"));
  for (let i = 0; i < calls; i++) {
    const r = await page.evaluate(
      async ({ key, image }) => {
        const resp = await fetch("/v1/ocr", {
          method: "POST",
          headers: { "X-API-Key": key, "Content-Type": "image/png" },
          body: new Uint8Array(image),
        });
        return { status: resp.status, body: await resp.json() };
      },
      { key, image },
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.match(JSON.stringify(r.body.text ?? r.body).toLowerCase(), /hello/);
  }

  step("revoke it; it is refused");
  await page.getByRole("button", { name: "I have stored it" }).click();
  await page.getByRole("button", { name: "Revoke key browser key" }).click();
  await page.locator("tr", { hasText: "browser key" }).getByText("revoked").waitFor();
  const refused = await fromPage(page, "/v1/me", { headers: { "X-API-Key": key } });
  assert.equal(refused.status, 401);
  assert.equal(refused.body.code, "invalid_token");

  step("the dashboard shows the calls, the plan and the draft invoice");
  await page.getByRole("link", { name: "Dashboard" }).click();
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  await page.getByTestId("units-used").filter({ hasText: String(calls) }).waitFor();
  assert.ok((await page.getByTestId("usage-chart").locator("canvas").count()) >= 1, "the chart drew");
  const draft = (await page.getByTestId("draft-total").textContent()) ?? "";
  assert.match(draft, /\$/);
  await photograph(page, "dashboard");

  step("an unknown portal page says so, inside the app");
  await page.goto(`${BASE}/admin/no-such-page`);
  await page.getByRole("heading", { name: "Page not found" }).waitFor();

  step("sign out");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByText("You signed out.").waitFor();
  await page.reload();
  await page.getByRole("button", { name: "Sign in" }).waitFor();

  step("a one-time password must be changed first; the API refuses anything else");
  const otp = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const p2 = await otp.newPage();
  await p2.goto(`${BASE}/admin/`);
  await p2.getByLabel("Email").fill(env("OTP_EMAIL"));
  await p2.getByLabel("Password").fill(env("OTP_PASSWORD"));
  await p2.getByRole("button", { name: "Sign in" }).click();
  await p2.getByRole("heading", { name: "Choose your password" }).waitFor();
  assert.equal(await p2.getByRole("link", { name: "API keys" }).count(), 0);
  const blocked = await fromPage(p2, "/v1/keys");
  assert.equal(blocked.status, 403);
  assert.equal(blocked.body.code, "password_change_required");
  await photograph(p2, "password-required");
  await p2.getByLabel("One-time password").fill(env("OTP_PASSWORD"));
  await p2.getByLabel("New password (at least 12 characters)").fill("a brand new passphrase");
  await p2.getByLabel("New password again").fill("a brand new passphrase");
  await p2.getByRole("button", { name: "Change password" }).click();
  await p2.getByRole("heading", { name: "Dashboard" }).waitFor();
  const keys = await fromPage(p2, "/v1/keys");
  assert.equal(keys.status, 200);
  step("a viewer sees keys but no create form");
  await p2.getByRole("link", { name: "API keys" }).click();
  await p2.getByRole("heading", { name: "API keys" }).waitFor();
  assert.equal(await p2.getByRole("button", { name: "Create key" }).count(), 0);
  await otp.close();
  step("done");
} finally {
  await browser.close();
}
process.exit(0);
