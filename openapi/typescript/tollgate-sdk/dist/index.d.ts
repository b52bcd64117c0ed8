import { type Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";
export type { components, paths } from "./schema.js";
type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];
export type Me = Schemas["Me"];
export type OcrResult = Schemas["OcrResult"];
export type UsageReport = Schemas["UsageReport"];
export type InvoiceList = Schemas["InvoiceList"];
export type UsageQuery = NonNullable<paths["/v1/usage"]["get"]["parameters"]["query"]>;
/** An error answer (400 or more) from Tollgate. `code` is the problem document's stable code
 * (`rate_limited`, …) or the token endpoint's OAuth2 `error` (`invalid_client`, …);
 * `requestId` is the server's `X-Request-Id`; `retryAfter` is `Retry-After` in seconds. */
export declare class TollgateError extends Error {
    readonly status: number;
    readonly code: string;
    readonly detail: string;
    readonly requestId: string | null;
    readonly retryAfter: number | null;
    readonly body: Record<string, unknown> | null;
    constructor(status: number, code: string, detail: string, requestId: string | null, retryAfter: number | null, body: Record<string, unknown> | null);
    static fromResponse(response: Response): Promise<TollgateError>;
}
/** 400 or 422: the request is malformed or its content is refused. */
export declare class BadRequest extends TollgateError {
}
/** 401: no valid credentials. */
export declare class Unauthorized extends TollgateError {
}
/** 402: the call would pass the tenant's spend cap (`spend_cap_reached`). */
export declare class PaymentRequired extends TollgateError {
}
/** 403: the credentials lack the scope or role. */
export declare class Forbidden extends TollgateError {
}
/** 404. */
export declare class NotFound extends TollgateError {
}
/** 409: e.g. `idempotency_in_progress`. */
export declare class Conflict extends TollgateError {
}
/** 429: a rate limit, the concurrency cap or a used-up quota; see `retryAfter`. */
export declare class RateLimited extends TollgateError {
}
/** 503: the server or the OCR engine is busy; see `retryAfter`. */
export declare class Unavailable extends TollgateError {
}
/** `Retry-After` in seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export declare function retryAfterSeconds(response: Response): number | null;
type Fetch = (request: Request) => Promise<Response>;
export interface RetryOptions {
    /** Retries of a 429 or 503 (default 3). */
    maxRetries?: number;
    /** Waits longer than this many seconds are not waited for: the error is thrown (default 30). */
    maxRetryWait?: number;
    sleep?: (seconds: number) => Promise<void>;
}
/** A fetch that retries 429 (and 503 to reads and OCR calls) after the server's
 * `Retry-After` (or an exponential backoff without one), and gives unsafe methods one
 * `Idempotency-Key` for all attempts. */
export declare function retryingFetch(inner: Fetch, options?: RetryOptions): Fetch;
/** OAuth2 client credentials: a token from `/oauth/token` (`client_secret_basic`), fetched
 * again when less than a tenth of its lifetime (at most 60 s) is left, or when the server
 * refuses it (401). Concurrent callers share one fetch; while a refresh is under way, callers
 * whose token is still valid go on with it instead of waiting. */
export declare class ClientCredentials {
    #private;
    /** How many tokens this has fetched. */
    fetches: number;
    constructor(baseUrl: string, fetchFn: Fetch, clientId: string, clientSecret: string, scopes?: string[], now?: () => number);
    /** A token to send. A token the server refused (`refused`) is dropped, so no caller is
     * handed it again; if an early refresh fails, the current token is used while still valid. */
    token(refused?: string): Promise<string>;
}
export interface TollgateOptions extends RetryOptions {
    baseUrl: string;
    /** OAuth2 client credentials (tokens are fetched and refreshed by the SDK)… */
    clientId?: string;
    clientSecret?: string;
    scopes?: string[];
    /** …or an API key. */
    apiKey?: string;
    /** The fetch underneath (default: the global one). */
    fetch?: Fetch;
    /** Milliseconds clock for token lifetimes (default `Date.now`). */
    now?: () => number;
}
/** A Tollgate API client. Every answer of 400 or more is thrown as a `TollgateError` subclass
 * (`RateLimited`, `Forbidden`, …) with its `code`, `requestId` and `retryAfter`; 429 and 503
 * are retried first (see `RetryOptions`). `client` is the typed openapi-fetch client, for any
 * operation of the spec: `await tg.client.GET("/v1/keys")`. */
export declare class Tollgate {
    readonly client: Client<paths>;
    readonly credentials: ClientCredentials | null;
    constructor(options: TollgateOptions);
    /** The caller: tenant, credential and scopes. */
    me(): Promise<Me>;
    /** Reads the text in an image (one unit). Pass your own `idempotencyKey` to make retries
     * across processes safe; otherwise one is generated for this call. `mode`: `auto` (an
     * image shaped like a text line is read as one line, anything else as a page), `page`, or
     * `line` (the whole image as one line, for cropped lines). */
    ocr(image: Blob | ArrayBuffer | Uint8Array, options?: {
        contentType?: string;
        fileName?: string;
        idempotencyKey?: string;
        mode?: Schemas["OcrMode"];
    }): Promise<OcrResult>;
    /** Usage this period (the query of `GET /v1/usage`). */
    usage(query?: UsageQuery): Promise<UsageReport>;
    /** The tenant's finalized invoices, newest first. */
    invoices(): Promise<InvoiceList>;
}
