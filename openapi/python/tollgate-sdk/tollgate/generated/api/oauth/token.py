from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.o_auth_error_body import OAuthErrorBody
from ...models.token_body import TokenBody
from ...models.token_request import TokenRequest
from typing import cast



def _get_kwargs(
    *,
    body: TokenRequest,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/oauth/token",
    }

    _kwargs["data"] = body.to_dict()
    headers["Content-Type"] = "application/x-www-form-urlencoded"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> OAuthErrorBody | TokenBody | None:
    if response.status_code == 200:
        response_200 = TokenBody.from_dict(response.json())



        return response_200

    if response.status_code == 400:
        response_400 = OAuthErrorBody.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        response_401 = OAuthErrorBody.from_dict(response.json())



        return response_401

    if response.status_code == 429:
        response_429 = OAuthErrorBody.from_dict(response.json())



        return response_429

    if response.status_code == 500:
        response_500 = OAuthErrorBody.from_dict(response.json())



        return response_500

    if response.status_code == 503:
        response_503 = OAuthErrorBody.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[OAuthErrorBody | TokenBody]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: TokenRequest,

) -> Response[OAuthErrorBody | TokenBody]:
    """ Get an access token (client-credentials grant).

     Client authentication by `client_secret_basic` or `client_secret_post`. The token is
    an RFC 9068 JWT signed with EdDSA; verify it with the JWKS.

    **Permissions**: a client id and secret.

    Args:
        body (TokenRequest): Token request (`application/x-www-form-urlencoded`). Unknown
            parameters are ignored (RFC 6749 §3.2).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OAuthErrorBody | TokenBody]
     """


    kwargs = _get_kwargs(
        body=body,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    body: TokenRequest,

) -> OAuthErrorBody | TokenBody | None:
    """ Get an access token (client-credentials grant).

     Client authentication by `client_secret_basic` or `client_secret_post`. The token is
    an RFC 9068 JWT signed with EdDSA; verify it with the JWKS.

    **Permissions**: a client id and secret.

    Args:
        body (TokenRequest): Token request (`application/x-www-form-urlencoded`). Unknown
            parameters are ignored (RFC 6749 §3.2).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OAuthErrorBody | TokenBody
     """


    return sync_detailed(
        client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: TokenRequest,

) -> Response[OAuthErrorBody | TokenBody]:
    """ Get an access token (client-credentials grant).

     Client authentication by `client_secret_basic` or `client_secret_post`. The token is
    an RFC 9068 JWT signed with EdDSA; verify it with the JWKS.

    **Permissions**: a client id and secret.

    Args:
        body (TokenRequest): Token request (`application/x-www-form-urlencoded`). Unknown
            parameters are ignored (RFC 6749 §3.2).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OAuthErrorBody | TokenBody]
     """


    kwargs = _get_kwargs(
        body=body,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    body: TokenRequest,

) -> OAuthErrorBody | TokenBody | None:
    """ Get an access token (client-credentials grant).

     Client authentication by `client_secret_basic` or `client_secret_post`. The token is
    an RFC 9068 JWT signed with EdDSA; verify it with the JWKS.

    **Permissions**: a client id and secret.

    Args:
        body (TokenRequest): Token request (`application/x-www-form-urlencoded`). Unknown
            parameters are ignored (RFC 6749 §3.2).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OAuthErrorBody | TokenBody
     """


    return (await asyncio_detailed(
        client=client,
body=body,

    )).parsed
