"""Credentials: OAuth2 client credentials (fetched and refreshed before expiry) or an API key."""

from __future__ import annotations

import threading
import time
from typing import Callable, Generator

import httpx

from .errors import TollgateError


class ClientCredentials(httpx.Auth):
    """Gets an access token from ``/oauth/token`` (``client_secret_basic``) and keeps it:
    a new one is fetched when less than ``refresh_margin`` of its lifetime is left (at most
    60 seconds), and once more if the server refuses it (401) — e.g. after a key rotation."""

    # The body is kept so that a request refused with 401 can be sent again with a new token.
    requires_request_body = True

    def __init__(
        self,
        token_client: httpx.Client,
        client_id: str,
        client_secret: str,
        scopes: list[str] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = token_client
        self._id = client_id
        self._secret = client_secret
        self._scope = " ".join(scopes) if scopes else None
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0
        self.fetches = 0
        """How many tokens this has fetched."""

    def token(self, *, force: bool = False) -> str:
        with self._lock:
            if force or self._token is None or self._clock() >= self._refresh_at:
                self._fetch()
            assert self._token is not None
            return self._token

    def _fetch(self) -> None:
        form = {"grant_type": "client_credentials"}
        if self._scope:
            form["scope"] = self._scope
        now = self._clock()
        response = self._http.post("/oauth/token", data=form, auth=(self._id, self._secret))
        if response.status_code != 200:
            response.read()
            raise TollgateError.from_response(response)
        body = response.json()
        lifetime = float(body["expires_in"])
        self._token = body["access_token"]
        self._refresh_at = now + lifetime - min(60.0, lifetime / 10)
        self.fetches += 1

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        sent = self.token()
        request.headers["Authorization"] = f"Bearer {sent}"
        response = yield request
        if response.status_code == 401:
            with self._lock:
                stale = self._token == sent
            request.headers["Authorization"] = f"Bearer {self.token(force=stale)}"
            yield request


class ApiKey(httpx.Auth):
    """An API key, sent as a bearer token."""

    def __init__(self, key: str) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._key}"
        yield request
