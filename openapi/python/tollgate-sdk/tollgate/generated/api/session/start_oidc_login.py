from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.oidc_start import OidcStart
from ...models.oidc_started import OidcStarted
from ...models.problem import Problem
from typing import cast



def _get_kwargs(
    *,
    body: OidcStart,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/session/oidc/start",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json; charset=utf-8"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> OidcStarted | Problem | None:
    if response.status_code == 200:
        response_200 = OidcStarted.from_dict(response.json())



        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())



        return response_401

    if response.status_code == 402:
        response_402 = Problem.from_dict(response.json())



        return response_402

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())



        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())



        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())



        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())



        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())



        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())



        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())



        return response_429

    if response.status_code == 500:
        response_500 = Problem.from_dict(response.json())



        return response_500

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[OidcStarted | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: OidcStart,

) -> Response[OidcStarted | Problem]:
    """ Start signing in with the identity provider of the email's domain.

     Answers the provider's authorization URL (authorization code flow with PKCE S256, a
    fresh `state` and `nonce`) for the page to navigate to, and sets the `state` in an
    HttpOnly cookie valid for 10 minutes. A JSON body, and a browser's `Sec-Fetch-Site`
    of `same-origin` when it sends one: another site cannot start a sign-in in a
    visitor's browser (and so cannot sign them in to an account of its choosing).

    **Permissions**: none.

    Args:
        body (OidcStart): Who is signing in.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OidcStarted | Problem]
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
    client: AuthenticatedClient | Client,
    body: OidcStart,

) -> OidcStarted | Problem | None:
    """ Start signing in with the identity provider of the email's domain.

     Answers the provider's authorization URL (authorization code flow with PKCE S256, a
    fresh `state` and `nonce`) for the page to navigate to, and sets the `state` in an
    HttpOnly cookie valid for 10 minutes. A JSON body, and a browser's `Sec-Fetch-Site`
    of `same-origin` when it sends one: another site cannot start a sign-in in a
    visitor's browser (and so cannot sign them in to an account of its choosing).

    **Permissions**: none.

    Args:
        body (OidcStart): Who is signing in.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OidcStarted | Problem
     """


    return sync_detailed(
        client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: OidcStart,

) -> Response[OidcStarted | Problem]:
    """ Start signing in with the identity provider of the email's domain.

     Answers the provider's authorization URL (authorization code flow with PKCE S256, a
    fresh `state` and `nonce`) for the page to navigate to, and sets the `state` in an
    HttpOnly cookie valid for 10 minutes. A JSON body, and a browser's `Sec-Fetch-Site`
    of `same-origin` when it sends one: another site cannot start a sign-in in a
    visitor's browser (and so cannot sign them in to an account of its choosing).

    **Permissions**: none.

    Args:
        body (OidcStart): Who is signing in.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OidcStarted | Problem]
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
    client: AuthenticatedClient | Client,
    body: OidcStart,

) -> OidcStarted | Problem | None:
    """ Start signing in with the identity provider of the email's domain.

     Answers the provider's authorization URL (authorization code flow with PKCE S256, a
    fresh `state` and `nonce`) for the page to navigate to, and sets the `state` in an
    HttpOnly cookie valid for 10 minutes. A JSON body, and a browser's `Sec-Fetch-Site`
    of `same-origin` when it sends one: another site cannot start a sign-in in a
    visitor's browser (and so cannot sign them in to an account of its choosing).

    **Permissions**: none.

    Args:
        body (OidcStart): Who is signing in.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OidcStarted | Problem
     """


    return (await asyncio_detailed(
        client=client,
body=body,

    )).parsed
