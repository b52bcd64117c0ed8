"""The entry point: a configured client for the generated API functions, plus the calls a
tenant developer makes most, typed."""

from __future__ import annotations

import io
from typing import Any, Callable

import httpx

from ._auth import ApiKey, ClientCredentials
from ._transport import RetryTransport
from .errors import TollgateError
from .generated import AuthenticatedClient
from .generated.api.billing import list_invoices
from .generated.api.ocr import ocr
from .generated.api.principal import get_me
from .generated.api.usage import get_usage
from .generated.models import InvoiceList, Me, OcrFilesBody, OcrMode, OcrResult, UsageReport
from .generated.types import File, Unset


class _RaisingClient(httpx.Client):
    """An httpx client that raises every answer of 400 or more as a typed error, after
    authentication has had its say (a refused token is replaced before this sees a 401)."""

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = super().send(request, **kwargs)
        if response.status_code >= 400:
            response.read()
            raise TollgateError.from_response(response)
        return response


class Tollgate:
    """A Tollgate API client. Authenticate with OAuth2 client credentials
    (``client_id`` + ``client_secret``; tokens are fetched and refreshed by the client) or an
    ``api_key``.

    Every answer of 400 or more is raised as a :class:`tollgate.TollgateError` subclass
    (``RateLimited``, ``Forbidden``, …) with its ``code``, ``request_id`` and ``retry_after``.
    429 (and 503 to reads and OCR calls) is retried up to ``max_retries`` times after the
    server's ``Retry-After`` (waits over ``max_retry_wait`` seconds are not waited for), and
    each POST, PUT, PATCH or DELETE carries an ``Idempotency-Key`` generated once per call, so
    a retried OCR is charged once.

    ``client`` is the generated client, for any operation of the spec::

        from tollgate.generated.api.keys import list_keys
        keys = list_keys.sync(client=tg.client)
    """

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        scopes: list[str] | None = None,
        api_key: str | None = None,
        max_retries: int = 3,
        max_retry_wait: float = 30.0,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if (api_key is None) == (client_id is None or client_secret is None):
            raise ValueError("give either client_id and client_secret, or api_key")
        retry_args: dict[str, Any] = {"max_retries": max_retries, "max_wait": max_retry_wait}
        if sleep is not None:
            retry_args["sleep"] = sleep
        self.transport = RetryTransport(transport, **retry_args)
        self._token_http = httpx.Client(base_url=base_url, transport=self.transport, timeout=timeout)
        self.auth: httpx.Auth
        if api_key is not None:
            self.auth = ApiKey(api_key)
        else:
            assert client_id is not None and client_secret is not None
            self.auth = ClientCredentials(
                self._token_http, client_id, client_secret, scopes, **({"clock": clock} if clock else {})
            )
        self.client = AuthenticatedClient(base_url=base_url, token="", timeout=httpx.Timeout(timeout))
        self.client.set_httpx_client(
            _RaisingClient(base_url=base_url, auth=self.auth, transport=self.transport, timeout=timeout)
        )

    def me(self) -> Me:
        """The caller: tenant, credential and scopes."""
        return _ok(get_me.sync(client=self.client))

    def ocr(
        self,
        image: bytes,
        *,
        content_type: str = "application/octet-stream",
        file_name: str = "image",
        idempotency_key: str | None = None,
        mode: str | OcrMode = OcrMode.AUTO,
    ) -> OcrResult:
        """Reads the text in an image (one unit). Pass your own ``idempotency_key`` to make
        retries across processes safe; otherwise one is generated for this call. ``mode``:
        ``auto`` (an image shaped like a text line is read as one line, anything else as a
        page), ``page`` or ``line`` (the whole image as one line, for cropped lines)."""
        body = OcrFilesBody(file=File(payload=io.BytesIO(image), file_name=file_name, mime_type=content_type))
        key: str | Unset = idempotency_key if idempotency_key is not None else Unset()
        return _ok(ocr.sync(client=self.client, body=body, idempotency_key=key, mode=OcrMode(mode)))

    def usage(self, **query: Any) -> UsageReport:
        """Usage this period (``from_``, ``to``, ``granularity``, ``group_by`` as in the spec)."""
        return _ok(get_usage.sync(client=self.client, **query))

    def invoices(self) -> InvoiceList:
        """The tenant's finalized invoices, newest first."""
        return _ok(list_invoices.sync(client=self.client))

    def close(self) -> None:
        self.client.get_httpx_client().close()
        self._token_http.close()

    def __enter__(self) -> "Tollgate":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ok(value: Any) -> Any:
    # Error answers were raised by the response hook; None means an answer outside the spec.
    if value is None:
        raise TollgateError(0, "unexpected_response", "the server's answer is not in the spec", None, None, None)
    return value
