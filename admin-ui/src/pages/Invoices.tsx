// Invoices: this period's draft (rated from the usage recorded so far), the finalized
// invoices, and one invoice's lines with its CSV and JSON downloads.
import { api, ApiError, call, type Schemas } from "../api/client";
import { Empty, ErrorLine, Loading, useLoad } from "../components/ui";
import { InvoiceLines } from "../components/InvoiceLines";
import { money, when } from "../format";
import { BASE, navigate } from "../router";

export function Invoices({ id }: { id: string | null }) {
  return id ? <InvoiceDetail id={id} /> : <InvoiceList />;
}

function InvoiceList() {
  const data = useLoad(async () => {
    const [list, draft] = await Promise.all([
      call(api.GET("/v1/invoices")),
      call(api.GET("/v1/invoices/upcoming")).catch((e) => {
        if (e instanceof ApiError && e.code === "no_price") return null;
        throw e;
      }),
    ]);
    return { list: list.invoices, draft };
  });
  return (
    <section aria-labelledby="inv-title">
      <h1 id="inv-title">Invoices</h1>
      <ErrorLine error={data.error} />
      {data.loading && !data.data && <Loading what="invoices" />}
      {data.data && (
        <>
          <div className="card">
            <h2>This period (draft)</h2>
            {data.data.draft ? <Draft draft={data.data.draft} /> : <p className="muted">Your plan has no price: nothing is billed.</p>}
          </div>
          <h2>Finalized invoices</h2>
          {data.data.list.length === 0 ? (
            <Empty>No finalized invoices yet. A period's invoice is finalized after the month ends.</Empty>
          ) : (
            <div className="table-wrap" tabIndex={0} role="region" aria-label="Finalized invoices">
              <table>
                <caption className="sr-only">Finalized invoices</caption>
                <thead>
                  <tr>
                    <th scope="col">Number</th>
                    <th scope="col">Period</th>
                    <th scope="col">Units</th>
                    <th scope="col">Total</th>
                    <th scope="col">Status</th>
                    <th scope="col">Due</th>
                  </tr>
                </thead>
                <tbody>
                  {data.data.list.map((inv: Schemas["InvoiceSummary"]) => (
                    <tr key={inv.id}>
                      <td>
                        <a
                          href={`${BASE}/invoices/${inv.id}`}
                          onClick={(e) => {
                            e.preventDefault();
                            navigate(`/invoices/${inv.id}`);
                          }}
                        >
                          #{inv.number}
                        </a>
                      </td>
                      <td>{inv.period}</td>
                      <td>{inv.units.toLocaleString()}</td>
                      <td>{money(inv.total, inv.currency)}</td>
                      <td>{inv.status}</td>
                      <td>{when(inv.due_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}

function Draft({ draft }: { draft: Schemas["UpcomingInvoice"] }) {
  return (
    <>
      <p>
        {draft.period}, plan “{draft.plan}”: {draft.units.toLocaleString()} units so far.
      </p>
      <InvoiceLines lines={draft.lines} currency={draft.currency} total={draft.total} />
    </>
  );
}

function InvoiceDetail({ id }: { id: string }) {
  const inv = useLoad(() => call(api.GET("/v1/invoices/{invoice_id}", { params: { path: { invoice_id: id } } })), [id]);
  const download = (format: "csv" | "json") => `/v1/invoices/${encodeURIComponent(id)}/download?format=${format}`;
  return (
    <section aria-labelledby="invd-title">
      <h1 id="invd-title">{inv.data ? `Invoice #${inv.data.number}` : "Invoice"}</h1>
      <p>
        <a
          href={`${BASE}/invoices`}
          onClick={(e) => {
            e.preventDefault();
            navigate("/invoices");
          }}
        >
          All invoices
        </a>
      </p>
      <ErrorLine error={inv.error} />
      {inv.loading && !inv.data && <Loading what="the invoice" />}
      {inv.data && (
        <>
          <p>
            Period {inv.data.period}, plan “{inv.data.plan}”, {inv.data.status}; finalized {when(inv.data.finalized_at)},
            due {when(inv.data.due_at)}
            {inv.data.paid_at ? `, paid ${when(inv.data.paid_at)}` : ""}.
          </p>
          <InvoiceLines lines={inv.data.lines} currency={inv.data.currency} total={inv.data.total} />
          <p className="actions">
            <a className="button" href={download("csv")} download>
              Download CSV
            </a>{" "}
            <a className="button" href={download("json")} download>
              Download JSON
            </a>
          </p>
        </>
      )}
    </section>
  );
}
