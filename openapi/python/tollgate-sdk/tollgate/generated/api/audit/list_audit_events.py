from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.audit_page import AuditPage
from ...models.page_order import PageOrder
from ...models.problem import Problem
from ...types import UNSET, Unset
from typing import cast
import datetime



def _get_kwargs(
    *,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    action: str | Unset = UNSET,
    actor: str | Unset = UNSET,
    cursor: str | Unset = UNSET,
    limit: int | Unset = UNSET,
    order: PageOrder | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    json_from_: str | Unset = UNSET
    if not isinstance(from_, Unset):
        json_from_ = from_.isoformat()
    params["from"] = json_from_

    json_to: str | Unset = UNSET
    if not isinstance(to, Unset):
        json_to = to.isoformat()
    params["to"] = json_to

    params["action"] = action

    params["actor"] = actor

    params["cursor"] = cursor

    params["limit"] = limit

    json_order: str | Unset = UNSET
    if not isinstance(order, Unset):
        json_order = order.value

    params["order"] = json_order


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/audit-events",
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> AuditPage | Problem | None:
    if response.status_code == 200:
        response_200 = AuditPage.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[AuditPage | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    action: str | Unset = UNSET,
    actor: str | Unset = UNSET,
    cursor: str | Unset = UNSET,
    limit: int | Unset = UNSET,
    order: PageOrder | Unset = UNSET,

) -> Response[AuditPage | Problem]:
    """ The tenant's audit events, a page at a time.

     Keyset-paginated by `seq`: pass `next_cursor` back as `cursor` until it is absent.
    Filters combine; `action` and `actor` match exactly. Each call is itself recorded in
    the log as `audit.read`.

    **Permissions**: scope `audit:read`, or a portal session with role `admin` or `owner`.

    Args:
        from_ (datetime.datetime | Unset):
        to (datetime.datetime | Unset):
        action (str | Unset):
        actor (str | Unset):
        cursor (str | Unset):
        limit (int | Unset):
        order (PageOrder | Unset): Which way a page runs.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AuditPage | Problem]
     """


    kwargs = _get_kwargs(
        from_=from_,
to=to,
action=action,
actor=actor,
cursor=cursor,
limit=limit,
order=order,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    action: str | Unset = UNSET,
    actor: str | Unset = UNSET,
    cursor: str | Unset = UNSET,
    limit: int | Unset = UNSET,
    order: PageOrder | Unset = UNSET,

) -> AuditPage | Problem | None:
    """ The tenant's audit events, a page at a time.

     Keyset-paginated by `seq`: pass `next_cursor` back as `cursor` until it is absent.
    Filters combine; `action` and `actor` match exactly. Each call is itself recorded in
    the log as `audit.read`.

    **Permissions**: scope `audit:read`, or a portal session with role `admin` or `owner`.

    Args:
        from_ (datetime.datetime | Unset):
        to (datetime.datetime | Unset):
        action (str | Unset):
        actor (str | Unset):
        cursor (str | Unset):
        limit (int | Unset):
        order (PageOrder | Unset): Which way a page runs.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AuditPage | Problem
     """


    return sync_detailed(
        client=client,
from_=from_,
to=to,
action=action,
actor=actor,
cursor=cursor,
limit=limit,
order=order,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    action: str | Unset = UNSET,
    actor: str | Unset = UNSET,
    cursor: str | Unset = UNSET,
    limit: int | Unset = UNSET,
    order: PageOrder | Unset = UNSET,

) -> Response[AuditPage | Problem]:
    """ The tenant's audit events, a page at a time.

     Keyset-paginated by `seq`: pass `next_cursor` back as `cursor` until it is absent.
    Filters combine; `action` and `actor` match exactly. Each call is itself recorded in
    the log as `audit.read`.

    **Permissions**: scope `audit:read`, or a portal session with role `admin` or `owner`.

    Args:
        from_ (datetime.datetime | Unset):
        to (datetime.datetime | Unset):
        action (str | Unset):
        actor (str | Unset):
        cursor (str | Unset):
        limit (int | Unset):
        order (PageOrder | Unset): Which way a page runs.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AuditPage | Problem]
     """


    kwargs = _get_kwargs(
        from_=from_,
to=to,
action=action,
actor=actor,
cursor=cursor,
limit=limit,
order=order,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    action: str | Unset = UNSET,
    actor: str | Unset = UNSET,
    cursor: str | Unset = UNSET,
    limit: int | Unset = UNSET,
    order: PageOrder | Unset = UNSET,

) -> AuditPage | Problem | None:
    """ The tenant's audit events, a page at a time.

     Keyset-paginated by `seq`: pass `next_cursor` back as `cursor` until it is absent.
    Filters combine; `action` and `actor` match exactly. Each call is itself recorded in
    the log as `audit.read`.

    **Permissions**: scope `audit:read`, or a portal session with role `admin` or `owner`.

    Args:
        from_ (datetime.datetime | Unset):
        to (datetime.datetime | Unset):
        action (str | Unset):
        actor (str | Unset):
        cursor (str | Unset):
        limit (int | Unset):
        order (PageOrder | Unset): Which way a page runs.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AuditPage | Problem
     """


    return (await asyncio_detailed(
        client=client,
from_=from_,
to=to,
action=action,
actor=actor,
cursor=cursor,
limit=limit,
order=order,

    )).parsed
