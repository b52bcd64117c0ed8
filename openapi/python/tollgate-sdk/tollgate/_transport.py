"""Retries of 429 and 503 that honour ``Retry-After``, with one ``Idempotency-Key`` per call."""

from __future__ import annotations

import time
import uuid
from typing import Callable

import httpx

from .errors import retry_after_seconds

# Methods whose retry could repeat an effect: they get an Idempotency-Key, generated once
# per logical call, so every attempt of that call carries the same key (the server answers a
# retry of a completed call with its first answer and charges once).
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
# Writes the server deduplicates by Idempotency-Key. A 429 was refused before anything ran,
# so any call is retried after one; a 503 may come after a write committed, so only reads
# and these are retried after one.
IDEMPOTENT_WRITES = ("/v1/ocr",)


def retryable(request: httpx.Request, status: int) -> bool:
    if status == 429:
        return True
    if status == 503:
        return request.method not in UNSAFE or request.url.path in IDEMPOTENT_WRITES
    return False


class RetryTransport(httpx.BaseTransport):
    """Wraps a transport: answers 429 (and 503 to reads and OCR calls) are retried up to
    ``max_retries`` times, each after the server's ``Retry-After`` (or an exponential backoff
    without one). A wait longer than ``max_wait`` seconds is not waited for: the answer is
    returned, and raised as a typed error with its ``retry_after``."""

    def __init__(
        self,
        inner: httpx.BaseTransport | None = None,
        *,
        max_retries: int = 3,
        max_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.inner = inner or httpx.HTTPTransport()
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method in UNSAFE and "idempotency-key" not in request.headers:
            request.headers["Idempotency-Key"] = str(uuid.uuid4())
        # The body is read once so that every attempt sends the same bytes.
        request.read()
        attempt = 0
        while True:
            response = self.inner.handle_request(request)
            if not retryable(request, response.status_code) or attempt >= self.max_retries:
                return response
            wait = retry_after_seconds(response)
            if wait is None:
                wait = min(0.5 * 2**attempt, self.max_wait)
            if wait > self.max_wait:
                return response
            response.close()
            self.sleep(wait)
            attempt += 1

    def close(self) -> None:
        self.inner.close()
