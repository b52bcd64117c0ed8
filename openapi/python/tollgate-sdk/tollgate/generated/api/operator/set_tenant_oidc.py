from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.oidc_config import OidcConfig
from ...models.oidc_config_body import OidcConfigBody
from ...models.problem import Problem
from typing import cast



def _get_kwargs(
    tenant_id: str,
    *,
    body: OidcConfigBody,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/v1/operator/tenants/{tenant_id}/oidc".format(tenant_id=quote(str(tenant_id), safe=""),),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json; charset=utf-8"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> OidcConfig | Problem | None:
    if response.status_code == 200:
        response_200 = OidcConfig.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[OidcConfig | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    tenant_id: str,
    *,
    client: AuthenticatedClient,
    body: OidcConfigBody,

) -> Response[OidcConfig | Problem]:
    """ Set a tenant's identity provider for portal sign-in (replacing any it had).

     Each setting is checked (422 `invalid_oidc_config`), then the issuer's discovery
    document is fetched (422 `oidc_discovery_failed`) and pinned: its token endpoint and
    key set must be https on public hosts (http and loopback only for an issuer on
    loopback; else 422 `oidc_endpoint_refused`), and sign-ins use the endpoints checked
    here (set the provider again to pick up moved ones). Another tenant's domain is 409
    `oidc_domain_taken`; a domain where other tenants have members, 409
    `oidc_domain_in_use`. A new issuer unlinks the tenant's members from their old
    provider's identities (each is linked again at their next sign-in, by email). Register
    `redirect_uri` (in the answer) at the provider.

    **Permissions**: scope `operator`.

    Args:
        tenant_id (str):
        body (OidcConfigBody): A tenant's identity provider, as the operator sets it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OidcConfig | Problem]
     """


    kwargs = _get_kwargs(
        tenant_id=tenant_id,
body=body,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    tenant_id: str,
    *,
    client: AuthenticatedClient,
    body: OidcConfigBody,

) -> OidcConfig | Problem | None:
    """ Set a tenant's identity provider for portal sign-in (replacing any it had).

     Each setting is checked (422 `invalid_oidc_config`), then the issuer's discovery
    document is fetched (422 `oidc_discovery_failed`) and pinned: its token endpoint and
    key set must be https on public hosts (http and loopback only for an issuer on
    loopback; else 422 `oidc_endpoint_refused`), and sign-ins use the endpoints checked
    here (set the provider again to pick up moved ones). Another tenant's domain is 409
    `oidc_domain_taken`; a domain where other tenants have members, 409
    `oidc_domain_in_use`. A new issuer unlinks the tenant's members from their old
    provider's identities (each is linked again at their next sign-in, by email). Register
    `redirect_uri` (in the answer) at the provider.

    **Permissions**: scope `operator`.

    Args:
        tenant_id (str):
        body (OidcConfigBody): A tenant's identity provider, as the operator sets it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OidcConfig | Problem
     """


    return sync_detailed(
        tenant_id=tenant_id,
client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    tenant_id: str,
    *,
    client: AuthenticatedClient,
    body: OidcConfigBody,

) -> Response[OidcConfig | Problem]:
    """ Set a tenant's identity provider for portal sign-in (replacing any it had).

     Each setting is checked (422 `invalid_oidc_config`), then the issuer's discovery
    document is fetched (422 `oidc_discovery_failed`) and pinned: its token endpoint and
    key set must be https on public hosts (http and loopback only for an issuer on
    loopback; else 422 `oidc_endpoint_refused`), and sign-ins use the endpoints checked
    here (set the provider again to pick up moved ones). Another tenant's domain is 409
    `oidc_domain_taken`; a domain where other tenants have members, 409
    `oidc_domain_in_use`. A new issuer unlinks the tenant's members from their old
    provider's identities (each is linked again at their next sign-in, by email). Register
    `redirect_uri` (in the answer) at the provider.

    **Permissions**: scope `operator`.

    Args:
        tenant_id (str):
        body (OidcConfigBody): A tenant's identity provider, as the operator sets it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OidcConfig | Problem]
     """


    kwargs = _get_kwargs(
        tenant_id=tenant_id,
body=body,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    tenant_id: str,
    *,
    client: AuthenticatedClient,
    body: OidcConfigBody,

) -> OidcConfig | Problem | None:
    """ Set a tenant's identity provider for portal sign-in (replacing any it had).

     Each setting is checked (422 `invalid_oidc_config`), then the issuer's discovery
    document is fetched (422 `oidc_discovery_failed`) and pinned: its token endpoint and
    key set must be https on public hosts (http and loopback only for an issuer on
    loopback; else 422 `oidc_endpoint_refused`), and sign-ins use the endpoints checked
    here (set the provider again to pick up moved ones). Another tenant's domain is 409
    `oidc_domain_taken`; a domain where other tenants have members, 409
    `oidc_domain_in_use`. A new issuer unlinks the tenant's members from their old
    provider's identities (each is linked again at their next sign-in, by email). Register
    `redirect_uri` (in the answer) at the provider.

    **Permissions**: scope `operator`.

    Args:
        tenant_id (str):
        body (OidcConfigBody): A tenant's identity provider, as the operator sets it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OidcConfig | Problem
     """


    return (await asyncio_detailed(
        tenant_id=tenant_id,
client=client,
body=body,

    )).parsed
