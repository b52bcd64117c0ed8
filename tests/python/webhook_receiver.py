"""A tenant's webhook receiver for the end-to-end tests: an HTTP server on a free loopback
port that verifies every delivery with the `standardwebhooks` package (an implementation of
the Standard Webhooks specification independent of Tollgate's), answers 500 to the first
`fail_first` attempts of each message id and 204 after, and records what it saw.

    python webhook_receiver.py            # prints the port, then serves until killed

Control (JSON): PUT /_config {"secrets": ["whsec_…", …], "fail_first": 0}
                GET /_received -> [{"id", "timestamp", "signature", "verified_with",
                                   "error", "attempt", "answered", "body"}, …]
Deliveries go to any other path.
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

LOCK = threading.Lock()
STATE = {"secrets": [], "fail_first": 0, "received": [], "attempts": {}}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _json(self, status, value):
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        return self.rfile.read(int(self.headers.get("content-length", "0")))

    def do_GET(self):
        if self.path == "/_received":
            with LOCK:
                self._json(200, STATE["received"])
        else:
            self._json(404, {})

    def do_PUT(self):
        if self.path != "/_config":
            return self._json(404, {})
        config = json.loads(self._body())
        with LOCK:
            STATE["secrets"] = config.get("secrets", [])
            STATE["fail_first"] = config.get("fail_first", 0)
        self._json(200, {})

    def do_POST(self):
        body = self._body().decode()
        headers = {k: v for k, v in self.headers.items()}
        with LOCK:
            secrets = list(STATE["secrets"])
            fail_first = STATE["fail_first"]
        verified_with, error = [], None
        for i, secret in enumerate(secrets):
            try:
                Webhook(secret).verify(body, headers)
                verified_with.append(i)
            except WebhookVerificationError as e:
                error = str(e)
        msg_id = headers.get("webhook-id") or headers.get("Webhook-Id")
        with LOCK:
            attempt = STATE["attempts"].get(msg_id, 0) + 1
            STATE["attempts"][msg_id] = attempt
            answered = 500 if attempt <= fail_first else 204
            STATE["received"].append({
                "id": msg_id,
                "timestamp": headers.get("webhook-timestamp") or headers.get("Webhook-Timestamp"),
                "signature": headers.get("webhook-signature") or headers.get("Webhook-Signature"),
                "verified_with": verified_with,
                "error": None if verified_with else error,
                "attempt": attempt,
                "answered": answered,
                "body": json.loads(body),
            })
        if answered == 204:
            self.send_response(204)
            self.end_headers()
        else:
            self._json(500, {"error": "failing on purpose", "attempt": attempt})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
