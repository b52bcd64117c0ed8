// Webhook endpoints: create (the signing secret shown once), pause and resume, rotate the
// secret, delete; each endpoint's deliveries with their attempts, and replay.
import { useState, type FormEvent } from "react";
import { api, call, type Schemas } from "../api/client";
import { atLeast, useSession } from "../session";
import { Empty, ErrorLine, Loading, SecretOnce, useAction, useLoad } from "../components/ui";
import { when } from "../format";

type EventType = Schemas["WebhookEventType"];
const EVENT_TYPES: EventType[] = [
  "usage.threshold_crossed",
  "spend.threshold_crossed",
  "credit.low",
  "invoice.finalized",
  "invoice.paid",
  "invoice.payment_failed",
  "account.suspended",
  "api_key.expiring",
  "api_key.revoked",
  "client.secret_rotated",
];

export function Webhooks() {
  const { session } = useSession();
  const canEdit = atLeast(session.role, "admin");
  const endpoints = useLoad(() => call(api.GET("/v1/webhooks/endpoints")));
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const action = useAction();
  const act = (work: () => Promise<void>) => action.run(work).then(endpoints.reload);
  const path = (id: string) => ({ params: { path: { endpoint_id: id } } });

  return (
    <section aria-labelledby="wh-title">
      <h1 id="wh-title">Webhooks</h1>
      <p className="muted">Signed with Standard Webhooks (headers webhook-id, webhook-timestamp, webhook-signature).</p>
      {canEdit && (
        <NewEndpointForm onCreated={(e) => (setSecret({ url: e.endpoint.url, secret: e.secret }), endpoints.reload())} />
      )}
      {secret && (
        <SecretOnce
          value={secret.secret}
          testId="new-webhook-secret"
          copyLabel="Copy the signing secret"
          onDone={() => setSecret(null)}
        >
          Signing secret for <code>{secret.url}</code>. Copy it now: it is never shown again.
        </SecretOnce>
      )}
      <ErrorLine error={action.error ?? endpoints.error} />
      {endpoints.loading && !endpoints.data && <Loading what="endpoints" />}
      {endpoints.data?.length === 0 && (
        <Empty>No endpoints. {canEdit ? "Add one above to hear about invoices, limits and keys." : ""}</Empty>
      )}
      {endpoints.data?.map((ep) => (
        <div className="card" key={ep.id}>
          <h2>
            <code>{ep.url}</code> <span className="muted">({ep.status})</span>
          </h2>
          {ep.description && <p>{ep.description}</p>}
          <p className="muted">
            Events: {ep.event_types.join(", ")}. Timeout {ep.timeout_seconds}s.
            {ep.previous_secret_until ? ` The previous secret still signs until ${when(ep.previous_secret_until)}.` : ""}
          </p>
          <p className="actions">
            <button type="button" className="secondary" aria-expanded={open === ep.id} onClick={() => setOpen(open === ep.id ? null : ep.id)}>
              {open === ep.id ? "Hide deliveries" : "Deliveries"}
            </button>
            {canEdit && (
              <>
                <button
                  type="button"
                  className="secondary"
                  onClick={() =>
                    act(async () => {
                      await call(api.PATCH("/v1/webhooks/endpoints/{endpoint_id}", { ...path(ep.id), body: { paused: ep.status !== "paused" } }));
                    })
                  }
                >
                  {ep.status === "paused" ? "Resume" : "Pause"}
                </button>
                <button
                  type="button"
                  className="secondary"
                  onClick={() =>
                    act(async () => {
                      const r = await call(
                        api.POST("/v1/webhooks/endpoints/{endpoint_id}/rotate", { ...path(ep.id), body: { overlap_seconds: 86400 } }),
                      );
                      setSecret({ url: r.endpoint.url, secret: r.secret });
                    })
                  }
                >
                  Rotate secret
                </button>
                <button
                  type="button"
                  className="danger"
                  onClick={() =>
                    window.confirm(`Delete the endpoint ${ep.url} and its delivery log?`) &&
                    act(async () => {
                      await call(api.DELETE("/v1/webhooks/endpoints/{endpoint_id}", path(ep.id)));
                    })
                  }
                >
                  Delete
                </button>
              </>
            )}
          </p>
          {open === ep.id && <Deliveries endpointId={ep.id} canReplay={canEdit} />}
        </div>
      ))}
    </section>
  );
}

function Deliveries({ endpointId, canReplay }: { endpointId: string; canReplay: boolean }) {
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const page = useLoad(
    () =>
      call(
        api.GET("/v1/webhooks/endpoints/{endpoint_id}/deliveries", {
          params: { path: { endpoint_id: endpointId }, query: { cursor, limit: 20 } },
        }),
      ),
    [endpointId, cursor],
  );
  const action = useAction();
  return (
    <div>
      <ErrorLine error={action.error ?? page.error} />
      {page.loading && !page.data && <Loading what="deliveries" />}
      {page.data?.deliveries.length === 0 && <Empty>Nothing delivered yet.</Empty>}
      {page.data && page.data.deliveries.length > 0 && (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Deliveries">
          <table>
            <caption className="sr-only">Deliveries</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last answer</th>
                <th scope="col">Created</th>
                {canReplay && <th scope="col">Replay</th>}
              </tr>
            </thead>
            <tbody>
              {page.data.deliveries.map((d) => {
                const last = d.log[d.log.length - 1];
                return (
                  <tr key={d.id}>
                    <td>{d.event_type}</td>
                    <td>{d.status}</td>
                    <td>{d.attempts}</td>
                    <td>{last ? (last.status_code ?? last.error ?? "—") : "—"}</td>
                    <td>{when(d.created_at)}</td>
                    {canReplay && (
                      <td>
                        <button
                          type="button"
                          className="secondary"
                          onClick={() =>
                            action
                              .run(async () => {
                                await call(api.POST("/v1/webhooks/deliveries/{delivery_id}/replay", { params: { path: { delivery_id: d.id } } }));
                              })
                              .then(page.reload)
                          }
                        >
                          Replay
                        </button>
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {page.data?.next_cursor && (
        <button type="button" className="secondary" onClick={() => setCursor(page.data?.next_cursor)}>
          Older
        </button>
      )}
    </div>
  );
}

function NewEndpointForm({ onCreated }: { onCreated: (e: Schemas["WebhookEndpointWithSecret"]) => void }) {
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [types, setTypes] = useState<EventType[]>(["invoice.finalized"]);
  const { busy, error, run } = useAction();
  async function submit(e: FormEvent) {
    e.preventDefault();
    await run(async () => {
      onCreated(
        await call(
          api.POST("/v1/webhooks/endpoints", {
            body: { url, description: description || undefined, event_types: types },
          }),
        ),
      );
      setUrl("");
      setDescription("");
    });
  }
  return (
    <form onSubmit={submit} aria-label="Add a webhook endpoint" className="card">
      <h2>Add an endpoint</h2>
      <label>
        URL (https)
        <input type="url" required value={url} onChange={(e) => setUrl(e.target.value)} />
      </label>
      <label>
        Description (optional)
        <input value={description} maxLength={200} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <fieldset>
        <legend>Events</legend>
        {EVENT_TYPES.map((t) => (
          <label key={t} className="inline">
            <input
              type="checkbox"
              checked={types.includes(t)}
              onChange={(e) => setTypes(e.target.checked ? [...types, t] : types.filter((x) => x !== t))}
            />
            {t}
          </label>
        ))}
      </fieldset>
      <ErrorLine error={error} />
      <button type="submit" disabled={busy || types.length === 0}>
        {busy ? "Adding…" : "Add endpoint"}
      </button>
    </form>
  );
}
