// API keys: list (last used, expiry, state), create (the key shown once, with a copy
// button), rotate with a grace period, revoke. Viewers see the list only.
import { useState, type FormEvent } from "react";
import { api, call, type Schemas } from "../api/client";
import { atLeast, useSession } from "../session";
import { Empty, ErrorLine, Loading, SecretOnce, useAction, useLoad } from "../components/ui";
import { when } from "../format";
import { ScopePicker } from "../components/ScopePicker";

type Key = Schemas["Key"];
type KeyWithSecret = Schemas["KeyWithSecret"];

function stateOf(k: Key): string {
  if (k.revoked_at) return "revoked";
  if (k.expires_at && new Date(k.expires_at) <= new Date()) return "expired";
  return "active";
}

export function Keys() {
  const { session } = useSession();
  const canEdit = atLeast(session.role, "admin");
  const keys = useLoad(() => call(api.GET("/v1/keys")));
  const [created, setCreated] = useState<KeyWithSecret | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function act(work: () => Promise<unknown>) {
    setError(null);
    try {
      await work();
      keys.reload();
    } catch (e) {
      setError(e);
    }
  }

  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">API keys</h1>
      <p className="muted">Programs send a key in the <code>X-API-Key</code> header.</p>
      {canEdit && <NewKeyForm onCreated={(k) => (setCreated(k), keys.reload())} />}
      {created && (
        <SecretOnce
          value={created.key}
          testId="new-key"
          copyLabel="Copy the new key"
          onDone={() => setCreated(null)}
        >
          <strong>Key “{created.name}” created.</strong> Copy it now: it is never shown again.
        </SecretOnce>
      )}
      <ErrorLine error={error ?? keys.error} />
      {keys.loading && !keys.data && <Loading what="keys" />}
      {keys.data && keys.data.length === 0 && (
        <Empty>
          No API keys yet. {canEdit ? "Create one above to call the API." : "An admin or owner can create one."}
        </Empty>
      )}
      {keys.data && keys.data.length > 0 && (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="API keys">
          <table>
            <caption className="sr-only">API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Scopes</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">State</th>
                {canEdit && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {keys.data.map((k) => (
                <tr key={k.key_id} data-key-id={k.key_id}>
                  <td>{k.name}</td>
                  <td>
                    <code>{k.prefix}…</code>
                  </td>
                  <td>{k.scopes.join(" ")}</td>
                  <td>{when(k.last_used_at)}</td>
                  <td>{when(k.expires_at)}</td>
                  <td>{stateOf(k)}</td>
                  {canEdit && (
                    <td className="actions">
                      {stateOf(k) === "active" && (
                        <>
                          <button
                            type="button"
                            className="secondary"
                            aria-label={`Rotate key ${k.name}`}
                            onClick={() =>
                              act(async () =>
                                setCreated(
                                  await call(
                                    api.POST("/v1/keys/{key_id}/rotate", {
                                      params: { path: { key_id: k.key_id } },
                                      body: { grace_seconds: 86400 },
                                    }),
                                  ),
                                ),
                              )
                            }
                          >
                            Rotate
                          </button>
                          <button
                            type="button"
                            className="danger"
                            aria-label={`Revoke key ${k.name}`}
                            onClick={() =>
                              window.confirm(`Revoke “${k.name}”? Programs using it stop working at once.`) &&
                              act(() => call(api.DELETE("/v1/keys/{key_id}", { params: { path: { key_id: k.key_id } } })))
                            }
                          >
                            Revoke
                          </button>
                        </>
                      )}
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

function NewKeyForm({ onCreated }: { onCreated: (k: KeyWithSecret) => void }) {
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<string[]>(["ocr:read"]);
  const [environment, setEnvironment] = useState<"live" | "test">("live");
  const [expires, setExpires] = useState("");
  const { busy, error, run } = useAction();

  async function submit(e: FormEvent) {
    e.preventDefault();
    await run(async () => {
      const k = await call(
        api.POST("/v1/keys", {
          body: {
            name,
            scopes,
            environment,
            expires_at: expires ? new Date(expires).toISOString() : undefined,
          },
        }),
      );
      setName("");
      onCreated(k);
    });
  }

  return (
    <form onSubmit={submit} aria-label="Create an API key" className="card">
      <h2>Create a key</h2>
      <label>
        Name
        <input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <ScopePicker value={scopes} onChange={setScopes} />
      <label>
        Environment
        <select value={environment} onChange={(e) => setEnvironment(e.target.value as "live" | "test")}>
          <option value="live">live</option>
          <option value="test">test</option>
        </select>
      </label>
      <label>
        Expires (optional)
        <input type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
      </label>
      <ErrorLine error={error} />
      <button type="submit" disabled={busy || scopes.length === 0}>
        {busy ? "Creating…" : "Create key"}
      </button>
    </form>
  );
}
