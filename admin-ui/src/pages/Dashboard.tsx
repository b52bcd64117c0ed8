// The dashboard: units per day this month (chart), used vs included (gauge), the plan's
// rate limit, spend this period against the spend cap (owners edit it), credit balance
// and the draft invoice's total.
import { useState, type FormEvent } from "react";
import { api, ApiError, call, type Schemas } from "../api/client";
import { atLeast, useSession } from "../session";
import { ErrorLine, Loading, useLoad } from "../components/ui";
import { money, minorPerMajor } from "../format";
import { UnitsGauge, UsageChart, type DayUnits } from "../components/UsageChart";

/** The draft invoice, or null when the plan has no price (nothing is billed). */
async function upcoming(): Promise<Schemas["UpcomingInvoice"] | null> {
  try {
    return await call(api.GET("/v1/invoices/upcoming"));
  } catch (e) {
    if (e instanceof ApiError && e.code === "no_price") return null;
    throw e;
  }
}

function monthDays(report: Schemas["UsageReport"], now: Date): DayUnits[] {
  const byDay = new Map<string, number>();
  for (const b of report.buckets) byDay.set(b.start.slice(0, 10), (byDay.get(b.start.slice(0, 10)) ?? 0) + b.units);
  const days: DayUnits[] = [];
  const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0)).getUTCDate();
  for (let d = 1; d <= last; d++) {
    const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), d));
    days.push({ day, units: byDay.get(day.toISOString().slice(0, 10)) ?? 0 });
  }
  return days;
}

export function Dashboard() {
  const { session } = useSession();
  const now = new Date();
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
  const data = useLoad(async () => {
    const [usage, plan, settings, credits, invoice] = await Promise.all([
      call(api.GET("/v1/usage", { params: { query: { from, granularity: "day" } } })),
      call(api.GET("/v1/plan")),
      call(api.GET("/v1/billing/settings")),
      call(api.GET("/v1/billing/credits")),
      upcoming(),
    ]);
    return { usage, plan, settings, credits, invoice };
  });

  if (!data.data) {
    return (
      <section aria-labelledby="dash-title">
        <h1 id="dash-title">Dashboard</h1>
        {data.loading ? <Loading what="the dashboard" /> : <ErrorLine error={data.error} />}
      </section>
    );
  }
  const { usage, plan, settings, credits, invoice } = data.data;
  const days = monthDays(usage, now);
  return (
    <section aria-labelledby="dash-title">
      <h1 id="dash-title">Dashboard</h1>
      <ErrorLine error={data.error} />
      <div className="cards">
        <div className="card">
          <h2>Units this month</h2>
          <UnitsGauge used={plan.period_units} included={plan.monthly_units} />
          <p className="muted">
            {plan.overage ? "Past the included units, calls go on and are billed as overage." : "Past the included units, calls are refused until next month."}
          </p>
        </div>
        <div className="card">
          <h2>Rate limit</h2>
          <p className="big" data-testid="rate-limit">
            {plan.rate_per_second}/s
          </p>
          <p className="muted">
            Plan “{plan.name}”: bursts of {plan.burst}, {plan.max_concurrent} calls at once.
          </p>
        </div>
        <div className="card">
          <h2>Spend this period</h2>
          {invoice ? (
            <>
              <p className="big" data-testid="draft-total">
                {money(invoice.total, invoice.currency)}
              </p>
              <p className="muted">
                Draft invoice for {invoice.period}: {invoice.units.toLocaleString()} units, subtotal{" "}
                {money(invoice.subtotal, invoice.currency)}, credit applied {money(invoice.credit_applied, invoice.currency)}.
              </p>
            </>
          ) : (
            <p className="muted">Your plan has no price: nothing is billed.</p>
          )}
          <SpendCap
            settings={settings}
            currency={invoice?.currency ?? null}
            canEdit={atLeast(session.role, "owner")}
            onSaved={data.reload}
          />
        </div>
        <div className="card">
          <h2>Credit balance</h2>
          {credits.balances.length === 0 ? (
            <p className="muted">No prepaid credit.</p>
          ) : (
            credits.balances.map((b) => (
              <p className="big" key={b.currency} data-testid="credit-balance">
                {money(b.amount, b.currency)}
              </p>
            ))
          )}
        </div>
      </div>
      <div className="card">
        <h2>Units per day</h2>
        {usage.total_units === 0 ? (
          <p className="muted">No metered calls this month yet. Call POST /v1/ocr with a key, or try the OCR playground.</p>
        ) : null}
        <UsageChart days={days} />
      </div>
    </section>
  );
}

function SpendCap({
  settings,
  currency,
  canEdit,
  onSaved,
}: {
  settings: Schemas["BillingSettingsBody"];
  currency: string | null;
  canEdit: boolean;
  onSaved: () => void;
}) {
  const cap = settings.spend_cap ?? null;
  const [value, setValue] = useState(cap && currency ? String(cap.amount / minorPerMajor(cap.currency)) : "");
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);

  async function save(e: FormEvent) {
    e.preventDefault();
    if (!currency) return;
    setError(null);
    setSaved(false);
    const trimmed = value.trim();
    let spend_cap: Schemas["Money"] | undefined;
    if (trimmed !== "") {
      const major = Number(trimmed);
      if (!Number.isFinite(major) || major < 0) {
        setError(new Error("The cap is an amount of money, like 50 or 49.99."));
        return;
      }
      spend_cap = { amount: Math.round(major * minorPerMajor(currency)), currency };
    }
    try {
      await call(
        api.PUT("/v1/billing/settings", {
          body: { spend_cap, credit_alert_below: settings.credit_alert_below ?? undefined },
        }),
      );
      setSaved(true);
      onSaved();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <div>
      <p>
        Spend cap:{" "}
        <strong data-testid="spend-cap">{cap ? money(cap.amount, cap.currency) : "none"}</strong>
      </p>
      {canEdit && currency && (
        <form onSubmit={save} aria-label="Spend cap">
          <label>
            New cap in {currency} (empty for none)
            <input inputMode="decimal" value={value} onChange={(e) => setValue(e.target.value)} />
          </label>
          <ErrorLine error={error} />
          {saved && <p role="status">Spend cap saved.</p>}
          <button type="submit">Save cap</button>
        </form>
      )}
    </div>
  );
}
