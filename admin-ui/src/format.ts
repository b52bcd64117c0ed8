// Values for people: times in their locale, money from integer minor units.

/** A date-time for people, in their locale; "—" for none. */
export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : "—";
}

/** Integer minor units of an ISO 4217 currency, for people (5000 USD → $50.00). */
export function money(amount: number, currency: string): string {
  try {
    const f = new Intl.NumberFormat(undefined, { style: "currency", currency });
    const digits = f.resolvedOptions().maximumFractionDigits ?? 2;
    return f.format(amount / 10 ** digits);
  } catch {
    return `${amount} ${currency} (minor units)`;
  }
}

/** The number of minor units in one major unit of `currency` (USD: 100, JPY: 1). */
export function minorPerMajor(currency: string): number {
  try {
    const digits = new Intl.NumberFormat(undefined, { style: "currency", currency }).resolvedOptions()
      .maximumFractionDigits;
    return 10 ** (digits ?? 2);
  } catch {
    return 100;
  }
}
