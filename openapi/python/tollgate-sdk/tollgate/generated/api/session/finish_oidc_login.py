from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...types import UNSET, Unset



def _get_kwargs(
    *,
    code: str | Unset = UNSET,
    state: str | Unset = UNSET,
    error: str | Unset = UNSET,
    error_description: str | Unset = UNSET,
    iss: str | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["code"] = code

    params["state"] = state

    params["error"] = error

    params["error_description"] = error_description

    params["iss"] = iss


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/session/oidc/callback",
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | None:
    if response.status_code == 303:
        return None

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    code: str | Unset = UNSET,
    state: str | Unset = UNSET,
    error: str | Unset = UNSET,
    error_description: str | Unset = UNSET,
    iss: str | Unset = UNSET,

) -> Response[Any]:
    """ The identity provider's redirect back: signs the person in.

     The `state` must be this browser's (its cookie) and unused; the code is exchanged
    with the PKCE verifier; the ID token's signature, issuer, audience, expiry and nonce
    are checked; its verified email must be at the tenant's domain. A person new to the
    tenant becomes a member with the tenant's default role. Then 303 to the portal with
    the session cookie set. A refusal is a 303 to the portal with `?oidc_error=` one of
    `oidc_state_invalid`, `oidc_denied`, `oidc_issuer_mismatch`, `oidc_code_refused`,
    `oidc_token_invalid`, `oidc_nonce_mismatch`, `oidc_email_unverified`,
    `oidc_email_domain`, `oidc_email_in_use`, `oidc_subject_mismatch`,
    `oidc_not_configured`, `oidc_provider_unavailable`, `too_many_attempts` or
    `unavailable`. A `tollgate_oidc` cookie sent twice is no state at all.

    **Permissions**: none (the provider's answer).

    Args:
        code (str | Unset):
        state (str | Unset):
        error (str | Unset):
        error_description (str | Unset):
        iss (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any]
     """


    kwargs = _get_kwargs(
        code=code,
state=state,
error=error,
error_description=error_description,
iss=iss,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    code: str | Unset = UNSET,
    state: str | Unset = UNSET,
    error: str | Unset = UNSET,
    error_description: str | Unset = UNSET,
    iss: str | Unset = UNSET,

) -> Response[Any]:
    """ The identity provider's redirect back: signs the person in.

     The `state` must be this browser's (its cookie) and unused; the code is exchanged
    with the PKCE verifier; the ID token's signature, issuer, audience, expiry and nonce
    are checked; its verified email must be at the tenant's domain. A person new to the
    tenant becomes a member with the tenant's default role. Then 303 to the portal with
    the session cookie set. A refusal is a 303 to the portal with `?oidc_error=` one of
    `oidc_state_invalid`, `oidc_denied`, `oidc_issuer_mismatch`, `oidc_code_refused`,
    `oidc_token_invalid`, `oidc_nonce_mismatch`, `oidc_email_unverified`,
    `oidc_email_domain`, `oidc_email_in_use`, `oidc_subject_mismatch`,
    `oidc_not_configured`, `oidc_provider_unavailable`, `too_many_attempts` or
    `unavailable`. A `tollgate_oidc` cookie sent twice is no state at all.

    **Permissions**: none (the provider's answer).

    Args:
        code (str | Unset):
        state (str | Unset):
        error (str | Unset):
        error_description (str | Unset):
        iss (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any]
     """


    kwargs = _get_kwargs(
        code=code,
state=state,
error=error,
error_description=error_description,
iss=iss,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

