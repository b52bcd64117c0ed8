// Sign in with email and password (a one-time password leads to the password change next).
import { useState, type FormEvent } from "react";
import { api, call, setCsrfToken } from "../api/client";
import type { Session } from "../session";
import { ErrorLine, useAction } from "../components/ui";

export function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn: (s: Session) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, run } = useAction();

  async function submit(e: FormEvent) {
    e.preventDefault();
    await run(async () => {
      const s = await call(api.POST("/v1/session", { body: { email, password } }));
      setCsrfToken(s.csrf_token);
      onSignedIn(s);
    });
  }

  return (
    <main className="signin">
      <h1>Tollgate portal</h1>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={submit} aria-label="Sign in">
        <label>
          Email
          <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <ErrorLine error={error} />
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
