// The tenant's audit log: filter by action, actor and time, page back through it (newest
// first), and export it whole as NDJSON or CSV (every row with its chain hashes).
import { useState, type FormEvent } from "react";
import { api, call, type Schemas } from "../api/client";
import { Empty, ErrorLine, Loading, useLoad } from "../components/ui";
import { when } from "../format";

interface Filter {
  action: string;
  actor: string;
  from: string;
  to: string;
}

const NONE: Filter = { action: "", actor: "", from: "", to: "" };

const iso = (local: string) => (local ? new Date(local).toISOString() : undefined);

function query(f: Filter) {
  return {
    action: f.action.trim() || undefined,
    actor: f.actor.trim() || undefined,
    from: iso(f.from),
    to: iso(f.to),
  };
}

export function Audit() {
  const [draft, setDraft] = useState<Filter>(NONE);
  const [filter, setFilter] = useState<Filter>(NONE);
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(
    () => call(api.GET("/v1/audit-events", { params: { query: { ...query(filter), cursor, limit: 50 } } })),
    [filter, cursor],
  );

  function apply(e: FormEvent) {
    e.preventDefault();
    setCursors([]);
    setFilter(draft);
  }

  const exportUrl = (format: "ndjson" | "csv") => {
    const q = new URLSearchParams({ format });
    const { from, to } = query(filter);
    if (from) q.set("from", from);
    if (to) q.set("to", to);
    return `/v1/audit-events/export?${q}`;
  };
  const set = (k: keyof Filter) => (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value });

  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <form onSubmit={apply} aria-label="Filter the audit log" className="card filters">
        <label>
          Action (exact, e.g. key.created)
          <input value={draft.action} onChange={set("action")} maxLength={200} />
        </label>
        <label>
          Actor (exact, e.g. admin:…)
          <input value={draft.actor} onChange={set("actor")} maxLength={200} />
        </label>
        <label>
          From
          <input type="datetime-local" value={draft.from} onChange={set("from")} />
        </label>
        <label>
          To
          <input type="datetime-local" value={draft.to} onChange={set("to")} />
        </label>
        <button type="submit">Apply filter</button>
      </form>
      <p className="actions">
        Export {filter.from || filter.to ? "this time range" : "everything"}:{" "}
        <a className="button" href={exportUrl("ndjson")} download>
          Export NDJSON
        </a>{" "}
        <a className="button" href={exportUrl("csv")} download>
          Export CSV
        </a>
      </p>
      <ErrorLine error={page.error} />
      {page.loading && !page.data && <Loading what="audit events" />}
      {page.data && page.data.events.length === 0 && <Empty>No events match. Clear the filter to see everything.</Empty>}
      {page.data && page.data.events.length > 0 && <Events events={page.data.events} />}
      <p className="actions">
        {cursors.length > 0 && (
          <button type="button" className="secondary" onClick={() => setCursors(cursors.slice(0, -1))}>
            Newer
          </button>
        )}
        {page.data?.next_cursor && (
          <button
            type="button"
            className="secondary"
            onClick={() => page.data?.next_cursor && setCursors([...cursors, page.data.next_cursor])}
          >
            Older
          </button>
        )}
      </p>
    </section>
  );
}

function Events({ events }: { events: Schemas["AuditEventBody"][] }) {
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label="Audit events, newest first">
      <table>
        <caption className="sr-only">Audit events, newest first</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">When</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Outcome</th>
            <th scope="col">From</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.seq}>
              <td>{e.seq}</td>
              <td>{when(e.at)}</td>
              <td>
                <code>{e.actor}</code>
              </td>
              <td>{e.action}</td>
              <td>{e.target ? <code>{e.target}</code> : "—"}</td>
              <td>{e.outcome}</td>
              <td>{e.ip ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
