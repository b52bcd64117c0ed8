from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.download_format import DownloadFormat
from ...models.invoice_body import InvoiceBody
from ...models.problem import Problem
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    invoice_id: str,
    *,
    format_: DownloadFormat | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    json_format_: str | Unset = UNSET
    if not isinstance(format_, Unset):
        json_format_ = format_.value

    params["format"] = json_format_


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/invoices/{invoice_id}/download".format(invoice_id=quote(str(invoice_id), safe=""),),
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> InvoiceBody | Problem | None:
    if response.status_code == 200:
        response_200 = InvoiceBody.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[InvoiceBody | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    invoice_id: str,
    *,
    client: AuthenticatedClient,
    format_: DownloadFormat | Unset = UNSET,

) -> Response[InvoiceBody | Problem]:
    """ One of the tenant's invoices as a file: JSON (the default) or CSV, one row per line.

     **Permissions**: scope `billing:read`, or a portal session (any role).

    Args:
        invoice_id (str):
        format_ (DownloadFormat | Unset): The format of a download.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[InvoiceBody | Problem]
     """


    kwargs = _get_kwargs(
        invoice_id=invoice_id,
format_=format_,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    invoice_id: str,
    *,
    client: AuthenticatedClient,
    format_: DownloadFormat | Unset = UNSET,

) -> InvoiceBody | Problem | None:
    """ One of the tenant's invoices as a file: JSON (the default) or CSV, one row per line.

     **Permissions**: scope `billing:read`, or a portal session (any role).

    Args:
        invoice_id (str):
        format_ (DownloadFormat | Unset): The format of a download.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        InvoiceBody | Problem
     """


    return sync_detailed(
        invoice_id=invoice_id,
client=client,
format_=format_,

    ).parsed

async def asyncio_detailed(
    invoice_id: str,
    *,
    client: AuthenticatedClient,
    format_: DownloadFormat | Unset = UNSET,

) -> Response[InvoiceBody | Problem]:
    """ One of the tenant's invoices as a file: JSON (the default) or CSV, one row per line.

     **Permissions**: scope `billing:read`, or a portal session (any role).

    Args:
        invoice_id (str):
        format_ (DownloadFormat | Unset): The format of a download.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[InvoiceBody | Problem]
     """


    kwargs = _get_kwargs(
        invoice_id=invoice_id,
format_=format_,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    invoice_id: str,
    *,
    client: AuthenticatedClient,
    format_: DownloadFormat | Unset = UNSET,

) -> InvoiceBody | Problem | None:
    """ One of the tenant's invoices as a file: JSON (the default) or CSV, one row per line.

     **Permissions**: scope `billing:read`, or a portal session (any role).

    Args:
        invoice_id (str):
        format_ (DownloadFormat | Unset): The format of a download.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        InvoiceBody | Problem
     """


    return (await asyncio_detailed(
        invoice_id=invoice_id,
client=client,
format_=format_,

    )).parsed
