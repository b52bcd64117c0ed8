"""Typed errors: every answer of 400 or more from Tollgate is raised as one of these."""

from __future__ import annotations

import datetime
import email.utils
import re
import time
from typing import Any

import httpx


class TollgateError(Exception):
    """An error answer from Tollgate.

    ``code`` is the stable machine-readable code of the problem document (``rate_limited``,
    ``quota_exhausted``, …), or the OAuth2 ``error`` of the token endpoint
    (``invalid_client``, …). ``request_id`` is the server's ``X-Request-Id``, to quote to
    support. ``retry_after`` is the ``Retry-After`` header in seconds, when the server sent one.
    """

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        request_id: str | None,
        retry_after: float | None,
        body: dict[str, Any] | None,
    ) -> None:
        super().__init__(f"{status} {code}: {detail}" + (f" (request {request_id})" if request_id else ""))
        self.status = status
        self.code = code
        self.detail = detail
        self.request_id = request_id
        self.retry_after = retry_after
        self.body = body

    @classmethod
    def from_response(cls, response: httpx.Response) -> "TollgateError":
        body: dict[str, Any] | None = None
        try:
            parsed = response.json()
            if isinstance(parsed, dict):
                body = parsed
        except ValueError:
            pass
        body_or_empty = body or {}
        code = body_or_empty.get("code") or body_or_empty.get("error") or f"http_{response.status_code}"
        detail = (
            body_or_empty.get("detail")
            or body_or_empty.get("error_description")
            or response.reason_phrase
            or ""
        )
        request_id = body_or_empty.get("request_id") or response.headers.get("x-request-id")
        kind = _BY_STATUS.get(response.status_code, TollgateError)
        return kind(
            response.status_code,
            str(code),
            str(detail),
            request_id,
            retry_after_seconds(response),
            body,
        )


class BadRequest(TollgateError):
    """400 or 422: the request is malformed or its content is refused."""


class Unauthorized(TollgateError):
    """401: no valid credentials."""


class PaymentRequired(TollgateError):
    """402: the call would pass the tenant's spend cap (``spend_cap_reached``)."""


class Forbidden(TollgateError):
    """403: the credentials lack the scope or role."""


class NotFound(TollgateError):
    """404."""


class Conflict(TollgateError):
    """409: e.g. ``idempotency_in_progress``."""


class RateLimited(TollgateError):
    """429: a rate limit, the concurrency cap or a used-up quota; see ``retry_after``."""


class Unavailable(TollgateError):
    """503: the server or the OCR engine is busy; see ``retry_after``."""


_BY_STATUS: dict[int, type[TollgateError]] = {
    400: BadRequest,
    401: Unauthorized,
    402: PaymentRequired,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: BadRequest,
    429: RateLimited,
    503: Unavailable,
}


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]{1,10}", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, says RFC 5322
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, when.timestamp() - time.time())
