"""The Python SDK, installed from openapi/python/tollgate-sdk, against a real server
(tests/it/sdk.rs starts it and checks what this prints). It prints one JSON object of what
it saw; the Rust side asserts it against the server's own records."""

import json
import os
import sys
import threading
import time

import httpx

import tollgate
from tollgate.generated.api.billing import get_upcoming_invoice

url = os.environ["TOLLGATE_URL"]
client_id = os.environ["TOLLGATE_CLIENT_ID"]
client_secret = os.environ["TOLLGATE_CLIENT_SECRET"]
image = open(os.environ["TOLLGATE_IMAGE"], "rb").read()


class Recording(httpx.BaseTransport):
    """The real transport, with a record of every attempt that went over the wire."""

    def __init__(self):
        self.inner = httpx.HTTPTransport()
        self.seen = []

    def handle_request(self, request):
        response = self.inner.handle_request(request)
        self.seen.append(
            {
                "method": request.method,
                "path": request.url.path,
                "idempotency_key": request.headers.get("idempotency-key"),
                "authorization": request.headers.get("authorization"),
                "status": response.status_code,
            }
        )
        return response


now = [1000.0]
wire = Recording()
sleeps = []


def sleep(seconds):
    sleeps.append(seconds)
    time.sleep(seconds)


tg = tollgate.Tollgate(
    url,
    client_id=client_id,
    client_secret=client_secret,
    scopes=["ocr:read", "usage:read", "billing:read"],
    transport=wire,
    sleep=sleep,
    clock=lambda: now[0],
)
out = {}

# A token, and the tenant it belongs to.
me = tg.me()
out["tenant_id"] = me.tenant_id
out["fetches_after_first_call"] = tg.auth.fetches

# Refreshed before expiry: not while most of its lifetime is left, then within the margin.
now[0] += 60
tg.me()
out["fetches_a_minute_later"] = tg.auth.fetches
token_body = httpx.post(
    f"{url}/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, client_secret)
).json()
now[0] += token_body["expires_in"] - 60 - 1
tg.me()
out["fetches_near_expiry"] = tg.auth.fetches
auths = [c["authorization"] for c in wire.seen if c["path"] == "/v1/me"]
out["distinct_bearers"] = len(set(auths))

# A refused token (revoked here) is replaced once, and the call succeeds.
current = auths[-1].removeprefix("Bearer ")
revoked = httpx.post(f"{url}/oauth/revoke", data={"token": current}, auth=(client_id, client_secret))
out["revoke_status"] = revoked.status_code
tg.me()
out["fetches_after_revocation"] = tg.auth.fetches

# OCR, usage, the upcoming invoice and the finalized ones, typed.
result = tg.ocr(image, content_type="image/png", file_name="hello.png", mode="line")
out["text"] = result.text
out["read_as"] = str(result.read_as)
usage = tg.usage()
out["usage"] = usage.to_dict()
upcoming = get_upcoming_invoice.sync(client=tg.client)
out["upcoming"] = upcoming.to_dict()
out["invoices"] = [i.to_dict() for i in tg.invoices().invoices]

# A 429, typed: a client that does not retry, calling until the plan's burst is spent.
strict = tollgate.Tollgate(url, client_id=client_id, client_secret=client_secret, max_retries=0)
error = None
for _ in range(50):
    try:
        strict.me()
    except tollgate.RateLimited as e:
        error = e
        break
if error is None:
    sys.exit("no 429 in 50 calls")
out["rate_limited"] = {
    "class": type(error).__name__,
    "is_tollgate_error": isinstance(error, tollgate.TollgateError),
    "status": error.status,
    "code": error.code,
    "request_id": error.request_id,
    "retry_after": error.retry_after,
}

# The same 429 retried: one OCR call, throttled, then served after Retry-After; every
# attempt carries the same Idempotency-Key, and the next call another.
wire.seen.clear()
first = tg.ocr(image, content_type="image/png")
second = tg.ocr(image, content_type="image/png")
ocr_calls = [c for c in wire.seen if c["path"] == "/v1/ocr"]
out["retried"] = {
    "texts": [first.text, second.text],
    "attempts": [[c["status"], c["idempotency_key"]] for c in ocr_calls],
    "sleeps": sleeps,
}


# A refresh in flight holds up no one whose token is still valid: one thread's token request
# is held at the wire while another thread calls with the current token; then one new token.
class Gate(httpx.BaseTransport):
    """The real transport; token requests wait while the gate is closed."""

    def __init__(self):
        self.inner = httpx.HTTPTransport()
        self.open = threading.Event()
        self.open.set()
        self.waiting = threading.Event()

    def handle_request(self, request):
        if request.url.path == "/oauth/token" and not self.open.is_set():
            self.waiting.set()
            self.open.wait(timeout=20)
        return self.inner.handle_request(request)


gate = Gate()
clock2 = [1000.0]
tg2 = tollgate.Tollgate(
    url, client_id=client_id, client_secret=client_secret, transport=gate, clock=lambda: clock2[0]
)
tg2.me()
clock2[0] += token_body["expires_in"] - 30  # inside the refresh margin, still valid
gate.open.clear()
refresher = threading.Thread(target=tg2.me)
refresher.start()
held = gate.waiting.wait(timeout=10)
other = threading.Thread(target=tg2.me)
other.start()
other.join(timeout=10)
served_while_refreshing = held and not other.is_alive()
gate.open.set()
refresher.join(timeout=20)
other.join(timeout=20)
out["refresh"] = {
    "token_request_held": held,
    "served_while_refreshing": served_while_refreshing,
    "fetches": tg2.auth.fetches,
}
tg2.close()
tg.close()
strict.close()
print(json.dumps(out))
