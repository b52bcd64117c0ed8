// The portal shell: resolves the session (GET /v1/session) on load, shows sign-in when
// there is none, the password change when the session is on a one-time password, and
// otherwise the navigation and the page of the current path.
import { useCallback, useEffect, useState, type ReactNode } from "react";
import { api, ApiError, call, messageOf, SESSION_ENDED, setCsrfToken } from "./api/client";
import { navigate, usePath, BASE } from "./router";
import { SessionContext, type Session } from "./session";
import { SignIn } from "./pages/SignIn";
import { ChangePassword } from "./pages/ChangePassword";
import { Dashboard } from "./pages/Dashboard";
import { Keys } from "./pages/Keys";
import { Clients } from "./pages/Clients";
import { Members } from "./pages/Members";
import { Invoices } from "./pages/Invoices";
import { Audit } from "./pages/Audit";
import { Webhooks } from "./pages/Webhooks";
import { Playground } from "./pages/Playground";
import { atLeast, type Role } from "./session";

interface PageDef {
  path: string;
  title: string;
  /** The least role that may open it (the API enforces the same). */
  role: Role;
  /** Renders the page; `rest` is what follows its path (an invoice id), if anything. */
  render: (rest: string | null) => ReactNode;
}

const PAGES: PageDef[] = [
  { path: "/", title: "Dashboard", role: "viewer", render: () => <Dashboard /> },
  { path: "/keys", title: "API keys", role: "viewer", render: () => <Keys /> },
  { path: "/clients", title: "OAuth2 clients", role: "viewer", render: () => <Clients /> },
  { path: "/members", title: "Members", role: "viewer", render: () => <Members /> },
  { path: "/invoices", title: "Invoices", role: "viewer", render: (rest) => <Invoices id={rest} /> },
  { path: "/audit", title: "Audit log", role: "admin", render: () => <Audit /> },
  { path: "/webhooks", title: "Webhooks", role: "viewer", render: () => <Webhooks /> },
  { path: "/playground", title: "OCR playground", role: "viewer", render: () => <Playground /> },
];

/** The page for `path` and what follows its own path (`/invoices/ID` → invoices, `ID`). */
function route(path: string): [PageDef | undefined, string | null] {
  for (const p of PAGES) {
    if (path === p.path) return [p, null];
    if (p.path !== "/" && path.startsWith(p.path + "/") && p.path === "/invoices") {
      try {
        return [p, decodeURIComponent(path.slice(p.path.length + 1))];
      } catch {
        return [undefined, null];
      }
    }
  }
  return [undefined, null];
}

type Boot = { kind: "loading" } | { kind: "signed-out"; notice: string | null } | { kind: "in"; session: Session };

const EXPIRED_NOTICE = "Your session ended after a period of inactivity. Sign in again.";

export function App() {
  const [boot, setBoot] = useState<Boot>({ kind: "loading" });
  const [bootError, setBootError] = useState<string | null>(null);
  const path = usePath();

  const signedIn = useCallback((session: Session) => {
    setCsrfToken(session.csrf_token);
    setBoot({ kind: "in", session });
  }, []);

  const load = useCallback(async () => {
    try {
      signedIn(await call(api.GET("/v1/session")));
      setBootError(null);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        setBoot({ kind: "signed-out", notice: e.code === "session_expired" ? EXPIRED_NOTICE : null });
      } else {
        setBootError(messageOf(e));
      }
    }
  }, [signedIn]);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    const ended = (e: Event) => {
      setCsrfToken(null);
      const code = (e as CustomEvent<string>).detail;
      setBoot({ kind: "signed-out", notice: code === "session_expired" ? EXPIRED_NOTICE : "Please sign in." });
    };
    window.addEventListener(SESSION_ENDED, ended);
    return () => window.removeEventListener(SESSION_ENDED, ended);
  }, []);

  const [page, rest] = route(path);
  useEffect(() => {
    document.title = `${page?.title ?? (path === "/password" ? "Password" : "Not found")} · Tollgate portal`;
  }, [page, path]);

  if (bootError) {
    return (
      <main className="signin">
        <h1>Tollgate portal</h1>
        <p className="error" role="alert">
          The portal could not reach the server: {bootError}
        </p>
        <button type="button" onClick={() => void load()}>
          Try again
        </button>
      </main>
    );
  }
  if (boot.kind === "loading") {
    return (
      <main className="signin">
        <p role="status">Loading…</p>
      </main>
    );
  }
  if (boot.kind === "signed-out") {
    return <SignIn notice={boot.notice} onSignedIn={signedIn} />;
  }

  const session = boot.session;
  const signOut = async () => {
    try {
      await call(api.DELETE("/v1/session"));
    } catch (e) {
      // A 401 means the session had ended already; anything else means it may still be
      // alive, so say so instead of pretending.
      if (!(e instanceof ApiError && e.status === 401)) {
        window.alert(`Signing out failed: ${messageOf(e)}. Try again.`);
        return;
      }
    }
    setCsrfToken(null);
    setBoot({ kind: "signed-out", notice: "You signed out." });
  };
  const state = { session, signOut, refresh: load };

  return (
    <SessionContext.Provider value={state}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Tollgate</span>
        <nav aria-label="Portal">
          <ul>
            {!session.must_change_password &&
              PAGES.filter((p) => atLeast(session.role, p.role)).map((p) => (
                <li key={p.path}>
                  <a
                    href={BASE + p.path}
                    aria-current={p.path === path ? "page" : undefined}
                    onClick={(e) => {
                      e.preventDefault();
                      navigate(p.path);
                    }}
                  >
                    {p.title}
                  </a>
                </li>
              ))}
          </ul>
        </nav>
        <div className="who">
          <a
            href={BASE + "/password"}
            onClick={(e) => {
              e.preventDefault();
              navigate("/password");
            }}
          >
            {session.email}
          </a>{" "}
          <span className="role">({session.role})</span>{" "}
          <button type="button" className="secondary" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {session.must_change_password || path === "/password" ? (
          <ChangePassword
            required={session.must_change_password}
            onChanged={(s) => {
              signedIn(s);
              if (session.must_change_password) navigate("/");
            }}
          />
        ) : page && atLeast(session.role, page.role) ? (
          page.render(rest)
        ) : page ? (
          <section>
            <h1>{page.title}</h1>
            <p>Your role ({session.role}) cannot open this page; an {page.role} or owner can.</p>
          </section>
        ) : (
          <section>
            <h1>Page not found</h1>
            <p>
              There is no portal page at <code>{window.location.pathname}</code>.{" "}
              <a href={BASE + "/"}>Go to the dashboard</a>.
            </p>
          </section>
        )}
      </main>
    </SessionContext.Provider>
  );
}
