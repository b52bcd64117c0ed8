// The portal's one API client: typed by the paths generated from openapi/openapi.yaml
// (src/api/schema.gen.ts, written by `npm run gen`), same-origin with the session cookie,
// the session's CSRF token on every state-changing request, problem+json as ApiError.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.gen";

export type Schemas = components["schemas"];

let csrfToken: string | null = null;

/** Remembers the signed-in session's CSRF token (from GET /v1/session or sign-in). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** A problem+json answer: its stable `code`, what to show, and what retries need. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly requestId: string | null,
    readonly retryAfter: number | null,
  ) {
    super(detail);
  }
}

/** Fired when the server says the session is gone, so the app can ask to sign in again. */
export const SESSION_ENDED = "tollgate:session-ended";

const csrf: Middleware = {
  onRequest({ request }) {
    if (!["GET", "HEAD", "OPTIONS"].includes(request.method) && csrfToken) {
      request.headers.set("X-CSRF-Token", csrfToken);
    }
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: "same-origin" });
api.use(csrf);

function problemOf(response: Response, body: unknown): ApiError {
  const p = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const retry = response.headers.get("Retry-After");
  const code = typeof p.code === "string" ? p.code : `http_${response.status}`;
  const detail =
    typeof p.detail === "string" ? p.detail : typeof p.title === "string" ? p.title : response.statusText;
  const requestId =
    (typeof p.request_id === "string" ? p.request_id : null) ?? response.headers.get("X-Request-Id");
  return new ApiError(response.status, code, detail || "the request failed", requestId, retry ? Number(retry) : null);
}

/** Awaits an openapi-fetch call: its data, or an ApiError (and SESSION_ENDED on a 401). */
export async function call<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
  { session = true }: { session?: boolean } = {},
): Promise<T> {
  const { data, error, response } = await pending;
  if (!response.ok) {
    const err = problemOf(response, error);
    // Any 401 on a portal call means the session is gone (no cookie: `unauthenticated`;
    // ended: `session_expired`), except on /v1/session itself, whose callers handle it
    // (a wrong password is a 401 too).
    if (session && response.status === 401 && new URL(response.url).pathname !== "/v1/session") {
      window.dispatchEvent(new CustomEvent(SESSION_ENDED, { detail: err.code }));
    }
    throw err;
  }
  return data as T;
}

/** A message for any error thrown by `call`. */
export function messageOf(e: unknown): string {
  if (e instanceof ApiError) {
    return e.requestId ? `${e.message} (request ${e.requestId})` : e.message;
  }
  return e instanceof Error ? e.message : String(e);
}

/**
 * A call the typed client cannot express (a raw image body) with a credential of its own,
 * not the session: its 401 is the credential's, so it does not sign the admin out.
 */
export async function callWithCredential<T>(path: string, init: RequestInit): Promise<T> {
  const response = await fetch(path, { ...init, credentials: "omit" });
  const body: unknown = await response.json().catch(() => undefined);
  return call(Promise.resolve({ data: body as T, error: response.ok ? undefined : body, response }), {
    session: false,
  });
}
