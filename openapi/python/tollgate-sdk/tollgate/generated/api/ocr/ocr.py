from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.ocr_files_body import OcrFilesBody
from ...models.ocr_mode import OcrMode
from ...models.ocr_model import OcrModel
from ...models.ocr_result import OcrResult
from ...models.problem import Problem
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    body: OcrFilesBody,
    mode: OcrMode | Unset = UNSET,
    model: OcrModel | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key



    

    params: dict[str, Any] = {}

    json_mode: str | Unset = UNSET
    if not isinstance(mode, Unset):
        json_mode = mode.value

    params["mode"] = json_mode

    json_model: str | Unset = UNSET
    if not isinstance(model, Unset):
        json_model = model.value

    params["model"] = json_model


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/ocr",
        "params": params,
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> OcrResult | Problem | None:
    if response.status_code == 200:
        response_200 = OcrResult.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[OcrResult | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: OcrFilesBody,
    mode: OcrMode | Unset = UNSET,
    model: OcrModel | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,

) -> Response[OcrResult | Problem]:
    """ Read the text in an image or a PDF.

     Send the image as `multipart/form-data` (a `file` part) or as the raw body with its
    media type. PNG, JPEG, WebP, TIFF and BMP are accepted; EXIF orientation is honoured.
    Size limits are checked before decoding: too many bytes is 413 (`payload_too_large`),
    too many pixels 422 (`image_too_large`); an undecodable image is 422
    (`corrupt_image`, `unsupported_image`, `empty_image`); another media type is 415.
    When the engine is saturated the answer is 503 (`ocr_busy`, `ocr_timeout`) with
    `Retry-After`.

    A PDF (`application/pdf`, or a multipart file starting with `%PDF-`) is read page by
    page, each rendered at up to 300 dpi; the answer's `pages` holds each page's lines and
    text. It is checked before anything is charged: more pages than the plan reads in one
    request is 422 `pdf_too_many_pages`; an encrypted PDF `pdf_encrypted`; an unreadable
    one `pdf_invalid`; a page over 200 inches a side `pdf_page_too_large`; an embedded
    image declaring over 100 million pixels `image_too_large`; JavaScript
    anywhere in it `pdf_javascript`; a page that takes longer than the engine's timeout to
    render `pdf_too_slow`.

    Metered: an image is one unit (`page`), a PDF one unit per page — reserved together,
    and all given back if any page fails. Rate limits answer 429 `rate_limited`, the
    plan's concurrency cap 429 `concurrency_limited`, a used-up hard quota 429
    `quota_exhausted` (with `Retry-After` at the next period), and a call that would take
    the period's rated spend past the tenant's own spend cap 402 `spend_cap_reached` (with
    the amounts in `spend`), before the OCR runs; the `RateLimit-Policy`,
    `RateLimit` and `Tollgate-Units` headers say where the caller stands. A request is
    charged only when it succeeds, and every request that succeeds is charged and recorded
    (`X-Request-Id` is for tracing only). A retry with the same `Idempotency-Key` (within
    24 hours, same image, `mode` and `model`) gets the first answer back and is not charged
    again; while the first runs it is 409 `idempotency_in_progress` with `Retry-After`; the
    same key with another image, `mode` or `model` is 422 `idempotency_key_reused`.

    `mode` and `model` are the only query parameters, each at most once: any other name,
    or one of them twice, is 400 `bad_request`.

    Credentials, rate limits and the concurrency cap are checked from the headers before
    the body is read: without valid credentials the answer is 401 (403 without
    `ocr:read`), over a limit 429, and when too many uploads are being received at once
    503 `ocr_busy` — and the upload is never read.

    **Permissions**: scope `ocr:read`.

    Args:
        mode (OcrMode | Unset): How to read the image.
        model (OcrModel | Unset): A model set: a text detector, the angle classifier and a
            recogniser with its dictionary.
            `GET /v1/models` says which is the default and what each holds.
        idempotency_key (str | Unset):
        body (OcrFilesBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OcrResult | Problem]
     """


    kwargs = _get_kwargs(
        body=body,
mode=mode,
model=model,
idempotency_key=idempotency_key,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    body: OcrFilesBody,
    mode: OcrMode | Unset = UNSET,
    model: OcrModel | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,

) -> OcrResult | Problem | None:
    """ Read the text in an image or a PDF.

     Send the image as `multipart/form-data` (a `file` part) or as the raw body with its
    media type. PNG, JPEG, WebP, TIFF and BMP are accepted; EXIF orientation is honoured.
    Size limits are checked before decoding: too many bytes is 413 (`payload_too_large`),
    too many pixels 422 (`image_too_large`); an undecodable image is 422
    (`corrupt_image`, `unsupported_image`, `empty_image`); another media type is 415.
    When the engine is saturated the answer is 503 (`ocr_busy`, `ocr_timeout`) with
    `Retry-After`.

    A PDF (`application/pdf`, or a multipart file starting with `%PDF-`) is read page by
    page, each rendered at up to 300 dpi; the answer's `pages` holds each page's lines and
    text. It is checked before anything is charged: more pages than the plan reads in one
    request is 422 `pdf_too_many_pages`; an encrypted PDF `pdf_encrypted`; an unreadable
    one `pdf_invalid`; a page over 200 inches a side `pdf_page_too_large`; an embedded
    image declaring over 100 million pixels `image_too_large`; JavaScript
    anywhere in it `pdf_javascript`; a page that takes longer than the engine's timeout to
    render `pdf_too_slow`.

    Metered: an image is one unit (`page`), a PDF one unit per page — reserved together,
    and all given back if any page fails. Rate limits answer 429 `rate_limited`, the
    plan's concurrency cap 429 `concurrency_limited`, a used-up hard quota 429
    `quota_exhausted` (with `Retry-After` at the next period), and a call that would take
    the period's rated spend past the tenant's own spend cap 402 `spend_cap_reached` (with
    the amounts in `spend`), before the OCR runs; the `RateLimit-Policy`,
    `RateLimit` and `Tollgate-Units` headers say where the caller stands. A request is
    charged only when it succeeds, and every request that succeeds is charged and recorded
    (`X-Request-Id` is for tracing only). A retry with the same `Idempotency-Key` (within
    24 hours, same image, `mode` and `model`) gets the first answer back and is not charged
    again; while the first runs it is 409 `idempotency_in_progress` with `Retry-After`; the
    same key with another image, `mode` or `model` is 422 `idempotency_key_reused`.

    `mode` and `model` are the only query parameters, each at most once: any other name,
    or one of them twice, is 400 `bad_request`.

    Credentials, rate limits and the concurrency cap are checked from the headers before
    the body is read: without valid credentials the answer is 401 (403 without
    `ocr:read`), over a limit 429, and when too many uploads are being received at once
    503 `ocr_busy` — and the upload is never read.

    **Permissions**: scope `ocr:read`.

    Args:
        mode (OcrMode | Unset): How to read the image.
        model (OcrModel | Unset): A model set: a text detector, the angle classifier and a
            recogniser with its dictionary.
            `GET /v1/models` says which is the default and what each holds.
        idempotency_key (str | Unset):
        body (OcrFilesBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OcrResult | Problem
     """


    return sync_detailed(
        client=client,
body=body,
mode=mode,
model=model,
idempotency_key=idempotency_key,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: OcrFilesBody,
    mode: OcrMode | Unset = UNSET,
    model: OcrModel | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,

) -> Response[OcrResult | Problem]:
    """ Read the text in an image or a PDF.

     Send the image as `multipart/form-data` (a `file` part) or as the raw body with its
    media type. PNG, JPEG, WebP, TIFF and BMP are accepted; EXIF orientation is honoured.
    Size limits are checked before decoding: too many bytes is 413 (`payload_too_large`),
    too many pixels 422 (`image_too_large`); an undecodable image is 422
    (`corrupt_image`, `unsupported_image`, `empty_image`); another media type is 415.
    When the engine is saturated the answer is 503 (`ocr_busy`, `ocr_timeout`) with
    `Retry-After`.

    A PDF (`application/pdf`, or a multipart file starting with `%PDF-`) is read page by
    page, each rendered at up to 300 dpi; the answer's `pages` holds each page's lines and
    text. It is checked before anything is charged: more pages than the plan reads in one
    request is 422 `pdf_too_many_pages`; an encrypted PDF `pdf_encrypted`; an unreadable
    one `pdf_invalid`; a page over 200 inches a side `pdf_page_too_large`; an embedded
    image declaring over 100 million pixels `image_too_large`; JavaScript
    anywhere in it `pdf_javascript`; a page that takes longer than the engine's timeout to
    render `pdf_too_slow`.

    Metered: an image is one unit (`page`), a PDF one unit per page — reserved together,
    and all given back if any page fails. Rate limits answer 429 `rate_limited`, the
    plan's concurrency cap 429 `concurrency_limited`, a used-up hard quota 429
    `quota_exhausted` (with `Retry-After` at the next period), and a call that would take
    the period's rated spend past the tenant's own spend cap 402 `spend_cap_reached` (with
    the amounts in `spend`), before the OCR runs; the `RateLimit-Policy`,
    `RateLimit` and `Tollgate-Units` headers say where the caller stands. A request is
    charged only when it succeeds, and every request that succeeds is charged and recorded
    (`X-Request-Id` is for tracing only). A retry with the same `Idempotency-Key` (within
    24 hours, same image, `mode` and `model`) gets the first answer back and is not charged
    again; while the first runs it is 409 `idempotency_in_progress` with `Retry-After`; the
    same key with another image, `mode` or `model` is 422 `idempotency_key_reused`.

    `mode` and `model` are the only query parameters, each at most once: any other name,
    or one of them twice, is 400 `bad_request`.

    Credentials, rate limits and the concurrency cap are checked from the headers before
    the body is read: without valid credentials the answer is 401 (403 without
    `ocr:read`), over a limit 429, and when too many uploads are being received at once
    503 `ocr_busy` — and the upload is never read.

    **Permissions**: scope `ocr:read`.

    Args:
        mode (OcrMode | Unset): How to read the image.
        model (OcrModel | Unset): A model set: a text detector, the angle classifier and a
            recogniser with its dictionary.
            `GET /v1/models` says which is the default and what each holds.
        idempotency_key (str | Unset):
        body (OcrFilesBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OcrResult | Problem]
     """


    kwargs = _get_kwargs(
        body=body,
mode=mode,
model=model,
idempotency_key=idempotency_key,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    body: OcrFilesBody,
    mode: OcrMode | Unset = UNSET,
    model: OcrModel | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,

) -> OcrResult | Problem | None:
    """ Read the text in an image or a PDF.

     Send the image as `multipart/form-data` (a `file` part) or as the raw body with its
    media type. PNG, JPEG, WebP, TIFF and BMP are accepted; EXIF orientation is honoured.
    Size limits are checked before decoding: too many bytes is 413 (`payload_too_large`),
    too many pixels 422 (`image_too_large`); an undecodable image is 422
    (`corrupt_image`, `unsupported_image`, `empty_image`); another media type is 415.
    When the engine is saturated the answer is 503 (`ocr_busy`, `ocr_timeout`) with
    `Retry-After`.

    A PDF (`application/pdf`, or a multipart file starting with `%PDF-`) is read page by
    page, each rendered at up to 300 dpi; the answer's `pages` holds each page's lines and
    text. It is checked before anything is charged: more pages than the plan reads in one
    request is 422 `pdf_too_many_pages`; an encrypted PDF `pdf_encrypted`; an unreadable
    one `pdf_invalid`; a page over 200 inches a side `pdf_page_too_large`; an embedded
    image declaring over 100 million pixels `image_too_large`; JavaScript
    anywhere in it `pdf_javascript`; a page that takes longer than the engine's timeout to
    render `pdf_too_slow`.

    Metered: an image is one unit (`page`), a PDF one unit per page — reserved together,
    and all given back if any page fails. Rate limits answer 429 `rate_limited`, the
    plan's concurrency cap 429 `concurrency_limited`, a used-up hard quota 429
    `quota_exhausted` (with `Retry-After` at the next period), and a call that would take
    the period's rated spend past the tenant's own spend cap 402 `spend_cap_reached` (with
    the amounts in `spend`), before the OCR runs; the `RateLimit-Policy`,
    `RateLimit` and `Tollgate-Units` headers say where the caller stands. A request is
    charged only when it succeeds, and every request that succeeds is charged and recorded
    (`X-Request-Id` is for tracing only). A retry with the same `Idempotency-Key` (within
    24 hours, same image, `mode` and `model`) gets the first answer back and is not charged
    again; while the first runs it is 409 `idempotency_in_progress` with `Retry-After`; the
    same key with another image, `mode` or `model` is 422 `idempotency_key_reused`.

    `mode` and `model` are the only query parameters, each at most once: any other name,
    or one of them twice, is 400 `bad_request`.

    Credentials, rate limits and the concurrency cap are checked from the headers before
    the body is read: without valid credentials the answer is 401 (403 without
    `ocr:read`), over a limit 429, and when too many uploads are being received at once
    503 `ocr_busy` — and the upload is never read.

    **Permissions**: scope `ocr:read`.

    Args:
        mode (OcrMode | Unset): How to read the image.
        model (OcrModel | Unset): A model set: a text detector, the angle classifier and a
            recogniser with its dictionary.
            `GET /v1/models` says which is the default and what each holds.
        idempotency_key (str | Unset):
        body (OcrFilesBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OcrResult | Problem
     """


    return (await asyncio_detailed(
        client=client,
body=body,
mode=mode,
model=model,
idempotency_key=idempotency_key,

    )).parsed
