// OAuth2 clients: list, create (the secret shown once), rotate the secret with an overlap,
// delete. Programs exchange a client's id and secret for tokens at /oauth/token.
import { useState, type FormEvent } from "react";
import { api, call, type Schemas } from "../api/client";
import { atLeast, useSession } from "../session";
import { Empty, ErrorLine, Loading, SecretOnce, useAction, useLoad } from "../components/ui";
import { ScopePicker } from "../components/ScopePicker";
import { when } from "../format";

type Created = { client_id: string; name: string; secret: string };

export function Clients() {
  const { session } = useSession();
  const canEdit = atLeast(session.role, "admin");
  const clients = useLoad(() => call(api.GET("/v1/clients")));
  const [created, setCreated] = useState<Created | null>(null);
  const action = useAction();

  const act = (work: () => Promise<void>) => action.run(work).then(clients.reload);

  return (
    <section aria-labelledby="clients-title">
      <h1 id="clients-title">OAuth2 clients</h1>
      <p className="muted">
        Programs get tokens with <code>POST /oauth/token</code> (grant type <code>client_credentials</code>).
      </p>
      {canEdit && (
        <NewClientForm
          onCreated={(c) => {
            setCreated({ client_id: c.client.client_id, name: c.client.name, secret: c.client_secret });
            clients.reload();
          }}
        />
      )}
      {created && (
        <SecretOnce
          value={created.secret}
          testId="new-client-secret"
          copyLabel="Copy the client secret"
          onDone={() => setCreated(null)}
        >
          <strong>Client “{created.name}”</strong>: id <code>{created.client_id}</code>. Copy the secret now: it is
          never shown again.
        </SecretOnce>
      )}
      <ErrorLine error={action.error ?? clients.error} />
      {clients.loading && !clients.data && <Loading what="clients" />}
      {clients.data?.length === 0 && (
        <Empty>No clients yet. {canEdit ? "Create one above for a program that uses tokens." : ""}</Empty>
      )}
      {clients.data && clients.data.length > 0 && (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="OAuth2 clients">
          <table>
            <caption className="sr-only">OAuth2 clients</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Client id</th>
                <th scope="col">Scopes</th>
                <th scope="col">Created</th>
                <th scope="col">Old secret works until</th>
                {canEdit && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {clients.data.map((c: Schemas["Client"]) => (
                <tr key={c.client_id}>
                  <td>{c.name}</td>
                  <td>
                    <code>{c.client_id}</code>
                  </td>
                  <td>{c.scopes.join(" ")}</td>
                  <td>{when(c.created_at)}</td>
                  <td>{when(c.previous_secret_expires_at)}</td>
                  {canEdit && (
                    <td className="actions">
                      <button
                        type="button"
                        className="secondary"
                        aria-label={`Rotate the secret of ${c.name}`}
                        onClick={() =>
                          act(async () => {
                            const r = await call(
                              api.POST("/v1/clients/{client_id}/rotate", {
                                params: { path: { client_id: c.client_id } },
                                body: { overlap_seconds: 3600 },
                              }),
                            );
                            setCreated({ client_id: r.client.client_id, name: r.client.name, secret: r.client_secret });
                          })
                        }
                      >
                        Rotate secret
                      </button>
                      <button
                        type="button"
                        className="danger"
                        aria-label={`Delete ${c.name}`}
                        onClick={() =>
                          window.confirm(`Delete “${c.name}”? Its tokens stop working.`) &&
                          act(async () => {
                            await call(api.DELETE("/v1/clients/{client_id}", { params: { path: { client_id: c.client_id } } }));
                          })
                        }
                      >
                        Delete
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function NewClientForm({ onCreated }: { onCreated: (c: Schemas["ClientWithSecret"]) => void }) {
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<string[]>(["ocr:read"]);
  const { busy, error, run } = useAction();
  async function submit(e: FormEvent) {
    e.preventDefault();
    await run(async () => {
      onCreated(await call(api.POST("/v1/clients", { body: { name, scopes } })));
      setName("");
    });
  }
  return (
    <form onSubmit={submit} aria-label="Create an OAuth2 client" className="card">
      <h2>Create a client</h2>
      <label>
        Name
        <input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <ScopePicker value={scopes} onChange={setScopes} />
      <ErrorLine error={error} />
      <button type="submit" disabled={busy || scopes.length === 0}>
        {busy ? "Creating…" : "Create client"}
      </button>
    </form>
  );
}
