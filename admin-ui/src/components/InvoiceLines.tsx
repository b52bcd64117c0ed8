// An invoice's lines and totals (the lines sum to the total; money is integer minor units).
import type { Schemas } from "../api/client";
import { money } from "../format";

const KIND: Record<Schemas["LineKindBody"], string> = {
  base_fee: "Base fee",
  included: "Included units",
  overage: "Overage",
  credit: "Credit applied",
};

export function InvoiceLines({
  lines,
  currency,
  total,
}: {
  lines: Schemas["InvoiceLineBody"][];
  currency: string;
  total: number;
}) {
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label="Invoice lines">
      <table>
        <caption className="sr-only">Invoice lines</caption>
        <thead>
          <tr>
            <th scope="col">Line</th>
            <th scope="col">Quantity</th>
            <th scope="col">Amount</th>
          </tr>
        </thead>
        <tbody>
          {lines.map((l, i) => (
            <tr key={i}>
              <td>
                {l.description ?? KIND[l.kind]}
                {l.tier !== undefined && l.description === undefined ? ` (tier ${l.tier})` : ""}
              </td>
              <td>{l.quantity.toLocaleString()}</td>
              <td>{money(l.amount, currency)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row" colSpan={2}>
              Total
            </th>
            <td data-testid="invoice-total">
              <strong>{money(total, currency)}</strong>
            </td>
          </tr>
        </tfoot>
      </table>
    </div>
  );
}
