// Change the signed-in admin's password; required first after a one-time password.
import { useState, type FormEvent } from "react";
import { api, call } from "../api/client";
import type { Session } from "../session";
import { ErrorLine, useAction } from "../components/ui";

export function ChangePassword({ required, onChanged }: { required: boolean; onChanged: (s: Session) => void }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [done, setDone] = useState(false);
  const { busy, error, setError, run } = useAction();

  async function submit(e: FormEvent) {
    e.preventDefault();
    setDone(false);
    if (next !== again) {
      setError(new Error("The two new passwords differ."));
      return;
    }
    await run(async () => {
      const s = await call(
        api.POST("/v1/session/password", { body: { current_password: current, new_password: next } }),
      );
      setCurrent("");
      setNext("");
      setAgain("");
      setDone(true);
      onChanged(s);
    });
  }

  return (
    <section aria-labelledby="pw-title">
      <h1 id="pw-title">{required ? "Choose your password" : "Change password"}</h1>
      {required && (
        <p className="notice" role="status">
          You signed in with a one-time password. Choose your own password to continue.
        </p>
      )}
      <form onSubmit={submit} aria-label="Change password" className="narrow">
        <label>
          {required ? "One-time password" : "Current password"}
          <input type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
        </label>
        <label>
          New password (at least 12 characters)
          <input type="password" autoComplete="new-password" required minLength={12} value={next} onChange={(e) => setNext(e.target.value)} />
        </label>
        <label>
          New password again
          <input type="password" autoComplete="new-password" required minLength={12} value={again} onChange={(e) => setAgain(e.target.value)} />
        </label>
        <ErrorLine error={error} />
        {done && <p role="status">Password changed. Your other sessions were signed out.</p>}
        <button type="submit" disabled={busy}>
          {busy ? "Saving…" : "Change password"}
        </button>
      </form>
    </section>
  );
}
