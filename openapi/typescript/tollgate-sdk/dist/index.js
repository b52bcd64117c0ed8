// Tollgate's TypeScript SDK: `Tollgate` for the common calls and `client` (openapi-fetch,
// typed by `schema.ts`, which openapi-typescript generates from openapi/openapi.yaml) for every
// operation of the spec; plus what generators leave out: client-credentials tokens fetched and
// refreshed before expiry, typed errors, and retries of 429/503 that honour `Retry-After` with
// one `Idempotency-Key` per call.
import createClient from "openapi-fetch";
/** An error answer (400 or more) from Tollgate. `code` is the problem document's stable code
 * (`rate_limited`, …) or the token endpoint's OAuth2 `error` (`invalid_client`, …);
 * `requestId` is the server's `X-Request-Id`; `retryAfter` is `Retry-After` in seconds. */
export class TollgateError extends Error {
    status;
    code;
    detail;
    requestId;
    retryAfter;
    body;
    constructor(status, code, detail, requestId, retryAfter, body) {
        super(`${status} ${code}: ${detail}${requestId ? ` (request ${requestId})` : ""}`);
        this.status = status;
        this.code = code;
        this.detail = detail;
        this.requestId = requestId;
        this.retryAfter = retryAfter;
        this.body = body;
        this.name = new.target.name;
    }
    static async fromResponse(response) {
        let body = null;
        try {
            const parsed = JSON.parse(await response.text());
            if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
                body = parsed;
            }
        }
        catch {
            // Not JSON: the status says what there is to say.
        }
        const text = (key) => (typeof body?.[key] === "string" ? body[key] : null);
        const Kind = BY_STATUS[response.status] ?? TollgateError;
        return new Kind(response.status, text("code") ?? text("error") ?? `http_${response.status}`, text("detail") ?? text("error_description") ?? response.statusText, text("request_id") ?? response.headers.get("x-request-id"), retryAfterSeconds(response), body);
    }
}
/** 400 or 422: the request is malformed or its content is refused. */
export class BadRequest extends TollgateError {
}
/** 401: no valid credentials. */
export class Unauthorized extends TollgateError {
}
/** 402: the call would pass the tenant's spend cap (`spend_cap_reached`). */
export class PaymentRequired extends TollgateError {
}
/** 403: the credentials lack the scope or role. */
export class Forbidden extends TollgateError {
}
/** 404. */
export class NotFound extends TollgateError {
}
/** 409: e.g. `idempotency_in_progress`. */
export class Conflict extends TollgateError {
}
/** 429: a rate limit, the concurrency cap or a used-up quota; see `retryAfter`. */
export class RateLimited extends TollgateError {
}
/** 503: the server or the OCR engine is busy; see `retryAfter`. */
export class Unavailable extends TollgateError {
}
const BY_STATUS = {
    400: BadRequest,
    401: Unauthorized,
    402: PaymentRequired,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: BadRequest,
    429: RateLimited,
    503: Unavailable,
};
/** `Retry-After` in seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterSeconds(response) {
    const value = response.headers.get("retry-after")?.trim();
    if (!value)
        return null;
    if (/^\d{1,10}$/.test(value))
        return Number(value);
    // Only an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"): Date.parse takes far more.
    if (!/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(value))
        return null;
    const when = Date.parse(value);
    return Number.isNaN(when) ? null : Math.max(0, (when - Date.now()) / 1000);
}
// Methods whose retry could repeat an effect get an Idempotency-Key, generated once per
// logical call, so every attempt carries the same key (the server answers a retry of a
// completed call with its first answer and charges once).
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);
// Writes the server deduplicates by Idempotency-Key. A 429 was refused before anything ran,
// so any call is retried after one; a 503 may come after a write committed, so only reads
// and these are retried after one.
const IDEMPOTENT_WRITES = new Set(["/v1/ocr"]);
function retryable(request, status) {
    if (status === 429)
        return true;
    if (status === 503)
        return !UNSAFE.has(request.method) || IDEMPOTENT_WRITES.has(new URL(request.url).pathname);
    return false;
}
/** `request` with an Idempotency-Key if it is an unsafe method without one. */
function withIdempotencyKey(request) {
    if (!UNSAFE.has(request.method) || request.headers.has("idempotency-key"))
        return request;
    const headers = new Headers(request.headers);
    headers.set("Idempotency-Key", crypto.randomUUID());
    return new Request(request, { headers });
}
/** A fetch that retries 429 (and 503 to reads and OCR calls) after the server's
 * `Retry-After` (or an exponential backoff without one), and gives unsafe methods one
 * `Idempotency-Key` for all attempts. */
export function retryingFetch(inner, options = {}) {
    const maxRetries = options.maxRetries ?? 3;
    const maxWait = options.maxRetryWait ?? 30;
    const sleep = options.sleep ?? ((s) => new Promise((r) => setTimeout(r, s * 1000)));
    return async (original) => {
        const request = withIdempotencyKey(original);
        const headers = new Headers(request.headers);
        // The body is read once so that every attempt sends the same bytes.
        const body = request.body ? await request.arrayBuffer() : undefined;
        for (let attempt = 0;; attempt++) {
            const response = await inner(new Request(request.url, { method: request.method, headers, body, signal: request.signal }));
            if (!retryable(request, response.status) || attempt >= maxRetries)
                return response;
            const wait = retryAfterSeconds(response) ?? Math.min(0.5 * 2 ** attempt, maxWait);
            if (wait > maxWait)
                return response;
            await response.body?.cancel();
            await sleep(wait);
        }
    };
}
/** OAuth2 client credentials: a token from `/oauth/token` (`client_secret_basic`), fetched
 * again when less than a tenth of its lifetime (at most 60 s) is left, or when the server
 * refuses it (401). Concurrent callers share one fetch; while a refresh is under way, callers
 * whose token is still valid go on with it instead of waiting. */
export class ClientCredentials {
    // Runtime-private (#): logging or inspecting the object shows neither secret nor token.
    #current = null;
    #pending = null;
    #baseUrl;
    #fetchFn;
    #clientId;
    #clientSecret;
    #scopes;
    #now;
    /** How many tokens this has fetched. */
    fetches = 0;
    constructor(baseUrl, fetchFn, clientId, clientSecret, scopes = [], now = () => Date.now()) {
        this.#baseUrl = baseUrl;
        this.#fetchFn = fetchFn;
        this.#clientId = clientId;
        this.#clientSecret = clientSecret;
        this.#scopes = scopes;
        this.#now = now;
    }
    /** A token to send. A token the server refused (`refused`) is dropped, so no caller is
     * handed it again; if an early refresh fails, the current token is used while still valid. */
    async token(refused) {
        if (refused !== undefined && this.#current?.token === refused)
            this.#current = null;
        const current = this.#current;
        const now = this.#now();
        if (current && now < current.refreshAt)
            return current.token;
        // Due for refresh but still valid, and another call is refreshing: go on with it.
        if (current && this.#pending && now < current.expiresAt)
            return current.token;
        this.#pending ??= this.#fetchToken().finally(() => {
            this.#pending = null;
        });
        try {
            return await this.#pending;
        }
        catch (error) {
            const still = this.#current;
            if (still && this.#now() < still.expiresAt)
                return still.token;
            throw error;
        }
    }
    async #fetchToken() {
        const form = new URLSearchParams({ grant_type: "client_credentials" });
        if (this.#scopes.length)
            form.set("scope", this.#scopes.join(" "));
        const basic = btoa(`${encodeURIComponent(this.#clientId)}:${encodeURIComponent(this.#clientSecret)}`);
        const started = this.#now();
        const response = await this.#fetchFn(new Request(`${this.#baseUrl}/oauth/token`, {
            method: "POST",
            headers: { Authorization: `Basic ${basic}`, "Content-Type": "application/x-www-form-urlencoded" },
            body: form.toString(),
        }));
        if (response.status !== 200)
            throw await TollgateError.fromResponse(response);
        const body = (await response.json());
        const lifetime = body.expires_in * 1000;
        this.#current = {
            token: body.access_token,
            refreshAt: started + lifetime - Math.min(60_000, lifetime / 10),
            expiresAt: started + lifetime,
        };
        this.fetches++;
        return body.access_token;
    }
}
/** A Tollgate API client. Every answer of 400 or more is thrown as a `TollgateError` subclass
 * (`RateLimited`, `Forbidden`, …) with its `code`, `requestId` and `retryAfter`; 429 and 503
 * are retried first (see `RetryOptions`). `client` is the typed openapi-fetch client, for any
 * operation of the spec: `await tg.client.GET("/v1/keys")`. */
export class Tollgate {
    client;
    credentials;
    constructor(options) {
        const baseUrl = options.baseUrl.replace(/\/+$/, "");
        const hasCredentials = options.clientId !== undefined && options.clientSecret !== undefined;
        if ((options.apiKey === undefined) === !hasCredentials) {
            throw new TypeError("give either clientId and clientSecret, or apiKey");
        }
        const inner = options.fetch ?? ((request) => fetch(request));
        const retrying = retryingFetch(inner, options);
        const credentials = hasCredentials
            ? new ClientCredentials(baseUrl, retrying, options.clientId, options.clientSecret, options.scopes, options.now)
            : null;
        this.credentials = credentials;
        const authorized = async (original) => {
            // One Idempotency-Key for the call, the second attempt with a new token included.
            let request = withIdempotencyKey(original);
            const send = (token) => {
                const headers = new Headers(request.headers);
                headers.set("Authorization", `Bearer ${token}`);
                return retrying(new Request(request, { headers }));
            };
            if (!credentials)
                return send(options.apiKey);
            // Kept for a second attempt with a new token if this one is refused.
            const copy = request.clone();
            const token = await credentials.token();
            const response = await send(token);
            if (response.status !== 401)
                return response;
            await response.body?.cancel();
            request = copy;
            return send(await credentials.token(token));
        };
        const throwProblems = {
            async onResponse({ response }) {
                if (response.status >= 400)
                    throw await TollgateError.fromResponse(response);
                return undefined;
            },
        };
        this.client = createClient({ baseUrl, fetch: authorized });
        this.client.use(throwProblems);
    }
    /** The caller: tenant, credential and scopes. */
    async me() {
        return ok((await this.client.GET("/v1/me")).data);
    }
    /** Reads the text in an image (one unit). Pass your own `idempotencyKey` to make retries
     * across processes safe; otherwise one is generated for this call. `mode`: `auto` (an
     * image shaped like a text line is read as one line, anything else as a page), `page`, or
     * `line` (the whole image as one line, for cropped lines). */
    async ocr(image, options = {}) {
        const blob = image instanceof Blob ? image : new Blob([new Uint8Array(image)], { type: options.contentType ?? "application/octet-stream" });
        const form = new FormData();
        form.set("file", blob, options.fileName ?? "image");
        const header = options.idempotencyKey ? { "Idempotency-Key": options.idempotencyKey } : {};
        const query = options.mode ? { mode: options.mode } : {};
        const { data } = await this.client.POST("/v1/ocr", {
            params: { header, query },
            // The spec's multipart body, sent as the FormData built here.
            body: form,
            bodySerializer: (body) => body,
        });
        return ok(data);
    }
    /** Usage this period (the query of `GET /v1/usage`). */
    async usage(query = {}) {
        return ok((await this.client.GET("/v1/usage", { params: { query } })).data);
    }
    /** The tenant's finalized invoices, newest first. */
    async invoices() {
        return ok((await this.client.GET("/v1/invoices")).data);
    }
}
function ok(data) {
    // Error answers were thrown by the middleware; no data means an answer outside the spec.
    if (data === undefined)
        throw new TollgateError(0, "unexpected_response", "the server's answer is not in the spec", null, null, null);
    return data;
}
