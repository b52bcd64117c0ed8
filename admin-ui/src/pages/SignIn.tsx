// Sign in with email and password (a one-time password leads to the password change next),
// or with the company's identity provider (OpenID Connect: the browser goes to the provider
// and comes back signed in, or with `?oidc_error=<code>`, explained here).
import { useState, type FormEvent } from "react";
import { api, call, setCsrfToken } from "../api/client";
import type { Session } from "../session";
import { ErrorLine, useAction } from "../components/ui";

const VERIFY_FAILED = "Your identity provider's answer did not verify. Start again.";
const OIDC_ERRORS: Record<string, string> = {
  invalid_email: "Enter your work email.",
  oidc_not_configured: "No identity provider signs in people of that email's domain. Sign in with your password, or ask your operator.",
  oidc_state_invalid: "That sign-in expired, was used already or was started in another browser. Start again.",
  oidc_denied: "Your identity provider did not sign you in.",
  oidc_email_unverified: "Your identity provider gave no verified email for you.",
  oidc_email_domain: "The email your identity provider gave is outside the domain this organisation allows.",
  oidc_email_in_use: "That email belongs to a member of another organisation.",
  oidc_subject_mismatch: "This member is linked to another person at your identity provider.",
  oidc_issuer_mismatch: VERIFY_FAILED,
  oidc_code_refused: VERIFY_FAILED,
  oidc_token_invalid: VERIFY_FAILED,
  oidc_nonce_mismatch: VERIFY_FAILED,
  too_many_attempts: "Too many sign-in attempts from here. Wait a minute and try again.",
  oidc_provider_unavailable: "Your identity provider could not be reached. Try again shortly.",
  unavailable: "Sign-in is unavailable right now. Try again shortly.",
};

/** The refusal the identity-provider sign-in came back with, once (removed from the URL). */
function takeOidcError(): string | null {
  const url = new URL(window.location.href);
  const code = url.searchParams.get("oidc_error");
  if (code === null) return null;
  url.searchParams.delete("oidc_error");
  window.history.replaceState(null, "", url.pathname + url.search + url.hash);
  return OIDC_ERRORS[code] ?? `Signing in with your identity provider failed (${code}).`;
}

export function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn: (s: Session) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [ssoEmail, setSsoEmail] = useState("");
  const [ssoError] = useState(takeOidcError);
  const { busy, error, run } = useAction();

  const sso = useAction();

  async function continueWithProvider(e: FormEvent) {
    e.preventDefault();
    await sso.run(async () => {
      // The server sets this browser's state cookie and says where the provider is.
      const started = await call(api.POST("/v1/session/oidc/start", { body: { email: ssoEmail.trim() } }));
      window.location.assign(started.authorize_url);
    });
  }

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
      <h2>Or with your company's identity provider</h2>
      <form onSubmit={continueWithProvider} aria-label="Sign in with your identity provider">
        <label>
          Work email
          <input type="email" autoComplete="email" required value={ssoEmail} onChange={(e) => setSsoEmail(e.target.value)} />
        </label>
        {ssoError && !sso.error && (
          <p className="error" role="alert">
            {ssoError}
          </p>
        )}
        <ErrorLine error={sso.error} />
        <button type="submit" disabled={sso.busy}>
          Continue with your identity provider
        </button>
      </form>
    </main>
  );
}
