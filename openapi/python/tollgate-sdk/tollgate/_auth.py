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
        # `_state` guards the token and its times and is never held across a request;
        # `_fetching` lets one thread fetch at a time (the others use the current token while
        # it is still valid, or wait for the new one when it is not).
        self._state = threading.Lock()
        self._fetching = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0
        self._expires_at = 0.0
        self.fetches = 0
        """How many tokens this has fetched."""

    def token(self, *, refused: str | None = None) -> str:
        """A token to send: the current one until its refresh time, then a new one. A token the
        server refused (``refused``) is dropped, so no caller is handed it again. If an early
        refresh fails, the current token is used while it is still valid."""
        with self._state:
            if refused is not None and self._token == refused:
                self._token = None
            current = self._token
            fresh = self._clock() < self._refresh_at
            valid = self._clock() < self._expires_at
        if current is not None and fresh:
            return current
        if current is not None and valid:
            # Due for refresh but still valid: refresh unless another thread is at it.
            if not self._fetching.acquire(blocking=False):
                return current
        else:
            self._fetching.acquire()
        try:
            with self._state:
                latest, fresh = self._token, self._clock() < self._refresh_at
            if latest is not None and fresh:
                return latest  # another thread fetched it meanwhile
            try:
                return self._fetch()
            except (TollgateError, httpx.TransportError):
                with self._state:
                    latest, valid = self._token, self._clock() < self._expires_at
                if latest is not None and valid:
                    return latest
                raise
        finally:
            self._fetching.release()

    def _fetch(self) -> str:
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
        token = body["access_token"]
        with self._state:
            self._token = token
            self._refresh_at = now + lifetime - min(60.0, lifetime / 10)
            self._expires_at = now + lifetime
            self.fetches += 1
        return token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        sent = self.token()
        request.headers["Authorization"] = f"Bearer {sent}"
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = f"Bearer {self.token(refused=sent)}"
            yield request


class ApiKey(httpx.Auth):
    """An API key, sent as a bearer token."""

    def __init__(self, key: str) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._key}"
        yield request
