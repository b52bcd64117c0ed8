from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.audit_format import AuditFormat
from ...models.problem import Problem
from ...types import File, FileTypes
from ...types import UNSET, Unset
from io import BytesIO
from typing import cast
import datetime



def _get_kwargs(
    *,
    format_: AuditFormat | Unset = UNSET,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    json_format_: str | Unset = UNSET
    if not isinstance(format_, Unset):
        json_format_ = format_.value

    params["format"] = json_format_

    json_from_: str | Unset = UNSET
    if not isinstance(from_, Unset):
        json_from_ = from_.isoformat()
    params["from"] = json_from_

    json_to: str | Unset = UNSET
    if not isinstance(to, Unset):
        json_to = to.isoformat()
    params["to"] = json_to


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/audit-events/export",
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> File | Problem | None:
    if response.status_code == 200:
        response_200 = File(
             payload = BytesIO(response.text)
        )



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[File | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    format_: AuditFormat | Unset = UNSET,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,

) -> Response[File | Problem]:
    """ Exports the tenant's audit events, streamed.

     Every event in `[from, to)`, oldest first, with its `seq`, `prev_hash` and `hash`, so
    a consumer can check that none is missing, added or reordered (each links to the one
    before); recomputing a hash needs the platform's audit key (`tollgate audit verify`).
    Any size: the server reads the log a page at a time and holds no more. The export is
    recorded as `audit.exported` first, and runs through that event.

    **Permissions**: scope `audit:read`, or a portal session with role `admin` or `owner`.

    Args:
        format_ (AuditFormat | Unset): The format of an export.
        from_ (datetime.datetime | Unset):
        to (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
     """


    kwargs = _get_kwargs(
        format_=format_,
from_=from_,
to=to,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    format_: AuditFormat | Unset = UNSET,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,

) -> File | Problem | None:
    """ Exports the tenant's audit events, streamed.

     Every event in `[from, to)`, oldest first, with its `seq`, `prev_hash` and `hash`, so
    a consumer can check that none is missing, added or reordered (each links to the one
    before); recomputing a hash needs the platform's audit key (`tollgate audit verify`).
    Any size: the server reads the log a page at a time and holds no more. The export is
    recorded as `audit.exported` first, and runs through that event.

    **Permissions**: scope `audit:read`, or a portal session with role `admin` or `owner`.

    Args:
        format_ (AuditFormat | Unset): The format of an export.
        from_ (datetime.datetime | Unset):
        to (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        File | Problem
     """


    return sync_detailed(
        client=client,
format_=format_,
from_=from_,
to=to,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    format_: AuditFormat | Unset = UNSET,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,

) -> Response[File | Problem]:
    """ Exports the tenant's audit events, streamed.

     Every event in `[from, to)`, oldest first, with its `seq`, `prev_hash` and `hash`, so
    a consumer can check that none is missing, added or reordered (each links to the one
    before); recomputing a hash needs the platform's audit key (`tollgate audit verify`).
    Any size: the server reads the log a page at a time and holds no more. The export is
    recorded as `audit.exported` first, and runs through that event.

    **Permissions**: scope `audit:read`, or a portal session with role `admin` or `owner`.

    Args:
        format_ (AuditFormat | Unset): The format of an export.
        from_ (datetime.datetime | Unset):
        to (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
     """


    kwargs = _get_kwargs(
        format_=format_,
from_=from_,
to=to,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    format_: AuditFormat | Unset = UNSET,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,

) -> File | Problem | None:
    """ Exports the tenant's audit events, streamed.

     Every event in `[from, to)`, oldest first, with its `seq`, `prev_hash` and `hash`, so
    a consumer can check that none is missing, added or reordered (each links to the one
    before); recomputing a hash needs the platform's audit key (`tollgate audit verify`).
    Any size: the server reads the log a page at a time and holds no more. The export is
    recorded as `audit.exported` first, and runs through that event.

    **Permissions**: scope `audit:read`, or a portal session with role `admin` or `owner`.

    Args:
        format_ (AuditFormat | Unset): The format of an export.
        from_ (datetime.datetime | Unset):
        to (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        File | Problem
     """


    return (await asyncio_detailed(
        client=client,
format_=format_,
from_=from_,
to=to,

    )).parsed
