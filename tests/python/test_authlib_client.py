"""Interoperability of Tollgate's OAuth2 endpoints with a real third-party client, authlib.

Covers the client-credentials grant with `client_secret_basic` and `client_secret_post`,
the `invalid_client` error as authlib sees it, the token response's caching headers, and
introspection (RFC 7662) and revocation (RFC 7009) of an issued token.

It needs a running server and a confidential client that has the `ocr:read` scope, given by
TOLLGATE_URL (e.g. http://127.0.0.1:8123), TOLLGATE_CLIENT_ID and TOLLGATE_CLIENT_SECRET.
The Rust integration suite starts a server, creates the client and runs
`python -m pytest tests/python` with those variables set. Without them every test fails.
"""

import os
import time

import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

TIMEOUT = 10


def config():
    """(url, client_id, client_secret) from the environment; fails the test if any is unset."""
    names = ("TOLLGATE_URL", "TOLLGATE_CLIENT_ID", "TOLLGATE_CLIENT_SECRET")
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not set: these tests need a running Tollgate server and a "
            "client with the ocr:read scope (the Rust integration suite sets them)",
            pytrace=False,
        )
    url, client_id, client_secret = (os.environ[n] for n in names)
    return url.rstrip("/"), client_id, client_secret


def session(url, client_id, client_secret, method, scope=None):
    return OAuth2Session(
        client_id,
        client_secret,
        token_endpoint_auth_method=method,
        scope=scope,
        token_endpoint=f"{url}/oauth/token",
        default_timeout=TIMEOUT,
    )


def test_client_secret_basic():
    url, client_id, client_secret = config()
    s = session(url, client_id, client_secret, "client_secret_basic", scope="ocr:read")
    token = s.fetch_token(f"{url}/oauth/token", grant_type="client_credentials")
    assert token["token_type"].lower() == "bearer"
    assert token["expires_in"] > 0
    assert token["scope"] == "ocr:read"

    me = s.get(f"{url}/v1/me")
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["kind"] == "client"
    assert body["id"] == client_id
    assert body["scopes"] == ["ocr:read"]
    assert isinstance(body["tenant_id"], str) and body["tenant_id"]


def test_client_secret_post():
    url, client_id, client_secret = config()
    s = session(url, client_id, client_secret, "client_secret_post")
    token = s.fetch_token(f"{url}/oauth/token", grant_type="client_credentials")
    assert token["token_type"].lower() == "bearer"

    me = s.get(f"{url}/v1/me")
    assert me.status_code == 200, me.text
    scopes = me.json()["scopes"]
    assert isinstance(scopes, list)
    assert "ocr:read" in scopes


def test_wrong_secret_is_invalid_client():
    url, client_id, _ = config()
    s = session(url, client_id, "tgs_wrong", "client_secret_basic")
    # authlib 1.3 raises OAuthError itself (OAuth2Session.oauth_error_class) for any JSON
    # token response with an `error` member, whatever the status.
    with pytest.raises(OAuthError) as exc:
        s.fetch_token(f"{url}/oauth/token", grant_type="client_credentials")
    assert exc.type is OAuthError
    assert exc.value.error == "invalid_client"


def test_token_response_headers():
    url, client_id, client_secret = config()
    r = requests.post(
        f"{url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, client_secret),
        timeout=TIMEOUT,
    )
    assert r.status_code == 200, r.text
    assert "no-store" in r.headers.get("Cache-Control", "")
    body = r.json()
    for field in ("access_token", "token_type", "expires_in"):
        assert field in body, body


def test_introspect_and_revoke():
    url, client_id, client_secret = config()
    basic = (client_id, client_secret)
    s = session(url, client_id, client_secret, "client_secret_basic")
    access_token = s.fetch_token(f"{url}/oauth/token", grant_type="client_credentials")[
        "access_token"
    ]

    def introspect():
        r = requests.post(
            f"{url}/oauth/introspect", data={"token": access_token}, auth=basic, timeout=TIMEOUT
        )
        assert r.status_code == 200, r.text
        return r.json()

    def me_status():
        return requests.get(
            f"{url}/v1/me",
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=TIMEOUT,
        ).status_code

    info = introspect()
    assert info["active"] is True
    assert info["client_id"] == client_id
    assert me_status() == 200

    r = requests.post(
        f"{url}/oauth/revoke", data={"token": access_token}, auth=basic, timeout=TIMEOUT
    )
    assert r.status_code == 200, r.text

    deadline = time.monotonic() + 2.0
    status = me_status()
    while status != 401 and time.monotonic() < deadline:
        time.sleep(0.1)
        status = me_status()
    assert status == 401, "a revoked token was still accepted by /v1/me after 2 s"

    assert introspect() == {"active": False}
