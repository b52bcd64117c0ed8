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
    email: str | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["email"] = email


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/session/oidc/start",
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
    email: str | Unset = UNSET,

) -> Response[Any]:
    """ Start signing in with the identity provider of the email's domain.

     A browser navigation: 303 to the provider's authorization endpoint (authorization
    code flow with PKCE S256, a fresh `state` and `nonce`), with the `state` in an
    HttpOnly cookie valid for 10 minutes. A refusal is a 303 to the portal with
    `?oidc_error=` `invalid_email`, `oidc_not_configured`, `too_many_attempts` or
    `unavailable`.

    **Permissions**: none.

    Args:
        email (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any]
     """


    kwargs = _get_kwargs(
        email=email,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    email: str | Unset = UNSET,

) -> Response[Any]:
    """ Start signing in with the identity provider of the email's domain.

     A browser navigation: 303 to the provider's authorization endpoint (authorization
    code flow with PKCE S256, a fresh `state` and `nonce`), with the `state` in an
    HttpOnly cookie valid for 10 minutes. A refusal is a 303 to the portal with
    `?oidc_error=` `invalid_email`, `oidc_not_configured`, `too_many_attempts` or
    `unavailable`.

    **Permissions**: none.

    Args:
        email (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any]
     """


    kwargs = _get_kwargs(
        email=email,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

