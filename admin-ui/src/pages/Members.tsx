// Members and roles: everyone sees the list; owners add members (a one-time password shown
// once, to be replaced at first sign-in), change roles and remove members. The API keeps a
// tenant with at least one owner (409 last_owner).
import { useState, type FormEvent } from "react";
import { api, call, type Schemas } from "../api/client";
import { atLeast, useSession, type Role } from "../session";
import { ErrorLine, Loading, SecretOnce, useAction, useLoad } from "../components/ui";
import { when } from "../format";

const ROLES: Role[] = ["viewer", "admin", "owner"];

export function Members() {
  const { session } = useSession();
  const isOwner = atLeast(session.role, "owner");
  const members = useLoad(() => call(api.GET("/v1/members")));
  const [created, setCreated] = useState<Schemas["CreatedMemberBody"] | null>(null);
  const action = useAction();
  const act = (work: () => Promise<void>) => action.run(work).then(members.reload);

  return (
    <section aria-labelledby="members-title">
      <h1 id="members-title">Members</h1>
      <p className="muted">Viewers read; admins also manage keys, clients and webhooks; owners also members and the spend cap.</p>
      {isOwner && <NewMemberForm onCreated={(m) => (setCreated(m), members.reload())} />}
      {created && (
        <SecretOnce
          value={created.password}
          testId="new-member-password"
          copyLabel="Copy the one-time password"
          done="Done"
          onDone={() => setCreated(null)}
        >
          <strong>{created.member.email}</strong> was added as {created.member.role}. Give them this one-time password;
          they choose their own at first sign-in.
        </SecretOnce>
      )}
      <ErrorLine error={action.error ?? members.error} />
      {members.loading && !members.data && <Loading what="members" />}
      {members.data && (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Members">
          <table>
            <caption className="sr-only">Members</caption>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Password</th>
                <th scope="col">Added</th>
                {isOwner && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {members.data.map((m) => (
                <tr key={m.id}>
                  <td>{m.email}</td>
                  <td>
                    {isOwner && m.id !== session.admin_id ? (
                      <select
                        aria-label={`Role of ${m.email}`}
                        value={m.role}
                        onChange={(e) =>
                          act(async () => {
                            await call(
                              api.PATCH("/v1/members/{id}", {
                                params: { path: { id: m.id } },
                                body: { role: e.target.value as Role },
                              }),
                            );
                          })
                        }
                      >
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                      </select>
                    ) : (
                      m.role
                    )}
                  </td>
                  <td>{m.must_change_password ? "one-time, not yet changed" : "chosen"}</td>
                  <td>{when(m.created_at)}</td>
                  {isOwner && (
                    <td className="actions">
                      {m.id !== session.admin_id && (
                        <button
                          type="button"
                          className="danger"
                          aria-label={`Remove ${m.email}`}
                          onClick={() =>
                            window.confirm(`Remove ${m.email}? Their sessions end at once.`) &&
                            act(async () => {
                              await call(api.DELETE("/v1/members/{id}", { params: { path: { id: m.id } } }));
                            })
                          }
                        >
                          Remove
                        </button>
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

function NewMemberForm({ onCreated }: { onCreated: (m: Schemas["CreatedMemberBody"]) => void }) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const { busy, error, run } = useAction();
  async function submit(e: FormEvent) {
    e.preventDefault();
    await run(async () => {
      onCreated(await call(api.POST("/v1/members", { body: { email, role } })));
      setEmail("");
    });
  }
  return (
    <form onSubmit={submit} aria-label="Add a member" className="card">
      <h2>Add a member</h2>
      <label>
        Email
        <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label>
        Role
        <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </label>
      <ErrorLine error={error} />
      <button type="submit" disabled={busy}>
        {busy ? "Adding…" : "Add member"}
      </button>
    </form>
  );
}
