// The TypeScript SDK, installed from openapi/typescript/tollgate-sdk into a scratch project,
// against a real server (tests/it/sdk.rs starts it, copies this file into that project and
// checks what it prints: one JSON object of what it saw, of the same shape as python_e2e.py's).
import { readFileSync } from "node:fs";
import { RateLimited, Tollgate, TollgateError } from "@tollgate/sdk";

const url = process.env.TOLLGATE_URL;
const clientId = process.env.TOLLGATE_CLIENT_ID;
const clientSecret = process.env.TOLLGATE_CLIENT_SECRET;
const image = readFileSync(process.env.TOLLGATE_IMAGE);

// The real fetch, with a record of every attempt that went over the wire.
const seen = [];
const recording = async (request) => {
  const entry = {
    method: request.method,
    path: new URL(request.url).pathname,
    idempotency_key: request.headers.get("idempotency-key"),
    authorization: request.headers.get("authorization"),
  };
  const response = await fetch(request);
  seen.push({ ...entry, status: response.status });
  return response;
};
let now = 1_000_000;
const sleeps = [];
const sleep = (s) => {
  sleeps.push(s);
  return new Promise((r) => setTimeout(r, s * 1000));
};

const tg = new Tollgate({
  baseUrl: url,
  clientId,
  clientSecret,
  scopes: ["ocr:read", "usage:read", "billing:read"],
  fetch: recording,
  sleep,
  now: () => now,
});
const out = {};

// A token, and the tenant it belongs to.
const me = await tg.me();
out.tenant_id = me.tenant_id;
out.fetches_after_first_call = tg.credentials.fetches;

// Refreshed before expiry: not while most of its lifetime is left, then within the margin.
now += 60_000;
await tg.me();
out.fetches_a_minute_later = tg.credentials.fetches;
const basic = "Basic " + btoa(`${clientId}:${clientSecret}`);
const form = (fields) => ({ method: "POST", headers: { Authorization: basic }, body: new URLSearchParams(fields) });
const tokenBody = await (await fetch(`${url}/oauth/token`, form({ grant_type: "client_credentials" }))).json();
now += (tokenBody.expires_in - 60 - 1) * 1000;
await tg.me();
out.fetches_near_expiry = tg.credentials.fetches;
const auths = seen.filter((c) => c.path === "/v1/me").map((c) => c.authorization);
out.distinct_bearers = new Set(auths).size;

// A refused token (revoked here) is replaced once, and the call succeeds.
const current = auths.at(-1).replace(/^Bearer /, "");
out.revoke_status = (await fetch(`${url}/oauth/revoke`, form({ token: current }))).status;
await tg.me();
out.fetches_after_revocation = tg.credentials.fetches;

// OCR, usage, the upcoming invoice and the finalized ones, typed.
const result = await tg.ocr(image, { contentType: "image/png", fileName: "hello.png", mode: "line" });
out.text = result.text;
out.read_as = result.read_as;
out.usage = await tg.usage();
out.upcoming = (await tg.client.GET("/v1/invoices/upcoming")).data;
out.invoices = (await tg.invoices()).invoices;

// A 429, typed: a client that does not retry, calling until the plan's burst is spent.
const strict = new Tollgate({ baseUrl: url, clientId, clientSecret, maxRetries: 0 });
let error = null;
for (let i = 0; i < 50 && !error; i++) {
  try {
    await strict.me();
  } catch (e) {
    if (!(e instanceof RateLimited)) throw e;
    error = e;
  }
}
if (!error) throw new Error("no 429 in 50 calls");
out.rate_limited = {
  class: error.constructor.name,
  is_tollgate_error: error instanceof TollgateError,
  status: error.status,
  code: error.code,
  request_id: error.requestId,
  retry_after: error.retryAfter,
};

// The same 429 retried: one OCR call, throttled, then served after Retry-After; every
// attempt carries the same Idempotency-Key, and the next call another.
seen.length = 0;
const first = await tg.ocr(image, { contentType: "image/png" });
const second = await tg.ocr(image, { contentType: "image/png" });
out.retried = {
  texts: [first.text, second.text],
  attempts: seen.filter((c) => c.path === "/v1/ocr").map((c) => [c.status, c.idempotency_key]),
  sleeps,
};

// A refresh in flight holds up no one whose token is still valid: one call's token request is
// held at the wire while another call goes on with the current token; then one new token.
let release;
let held = false;
let gateClosed = false;
const released = new Promise((r) => (release = r));
const gated = async (request) => {
  if (gateClosed && new URL(request.url).pathname === "/oauth/token") {
    held = true;
    await released;
  }
  return fetch(request);
};
let clock2 = 1_000_000;
const tg2 = new Tollgate({ baseUrl: url, clientId, clientSecret, fetch: gated, now: () => clock2 });
await tg2.me();
clock2 += (tokenBody.expires_in - 30) * 1000; // inside the refresh margin, still valid
gateClosed = true;
const refreshing = tg2.me();
while (!held) await new Promise((r) => setTimeout(r, 10));
const other = await Promise.race([tg2.me().then(() => true), new Promise((r) => setTimeout(() => r(false), 10_000))]);
release();
await refreshing;
out.refresh = { token_request_held: held, served_while_refreshing: other, fetches: tg2.credentials.fetches };
console.log(JSON.stringify(out));
