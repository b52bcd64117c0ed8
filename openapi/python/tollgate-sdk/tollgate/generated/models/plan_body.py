from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset






T = TypeVar("T", bound="PlanBody")



@_attrs_define
class PlanBody:
    """ A plan.

        Attributes:
            name (str): Unique name.
            rate (float): Sustained requests per second (per tenant, and per credential).
            burst (int): Requests that may arrive at once on top of the rate.
            monthly_units (int): Units (pages) included per calendar month.
            max_concurrent (int | Unset): Requests of a tenant in flight at once (default 4). Default: 4.
            overage (bool | Unset): Past the included units: serve and count overage (`true`) or refuse (`false`). Default:
                False.
            max_image_bytes (int | Unset): Largest image in bytes (default 20 MiB). Default: 20971520.
            max_pixels (int | Unset): Largest image in pixels (default 40 million). Default: 40000000.
            max_pdf_pages (int | Unset): Most pages of one PDF, 1 to 1000 (default 50); each page is a unit. Default: 50.
            audit_retention_days (int | Unset): Days the tenants' audit events are kept (1 to 36500); omitted, they are kept
                forever.
     """

    name: str
    rate: float
    burst: int
    monthly_units: int
    max_concurrent: int | Unset = 4
    overage: bool | Unset = False
    max_image_bytes: int | Unset = 20971520
    max_pixels: int | Unset = 40000000
    max_pdf_pages: int | Unset = 50
    audit_retention_days: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        name = self.name

        rate = self.rate

        burst = self.burst

        monthly_units = self.monthly_units

        max_concurrent = self.max_concurrent

        overage = self.overage

        max_image_bytes = self.max_image_bytes

        max_pixels = self.max_pixels

        max_pdf_pages = self.max_pdf_pages

        audit_retention_days = self.audit_retention_days


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "name": name,
            "rate": rate,
            "burst": burst,
            "monthly_units": monthly_units,
        })
        if max_concurrent is not UNSET:
            field_dict["max_concurrent"] = max_concurrent
        if overage is not UNSET:
            field_dict["overage"] = overage
        if max_image_bytes is not UNSET:
            field_dict["max_image_bytes"] = max_image_bytes
        if max_pixels is not UNSET:
            field_dict["max_pixels"] = max_pixels
        if max_pdf_pages is not UNSET:
            field_dict["max_pdf_pages"] = max_pdf_pages
        if audit_retention_days is not UNSET:
            field_dict["audit_retention_days"] = audit_retention_days

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        rate = d.pop("rate")

        burst = d.pop("burst")

        monthly_units = d.pop("monthly_units")

        max_concurrent = d.pop("max_concurrent", UNSET)

        overage = d.pop("overage", UNSET)

        max_image_bytes = d.pop("max_image_bytes", UNSET)

        max_pixels = d.pop("max_pixels", UNSET)

        max_pdf_pages = d.pop("max_pdf_pages", UNSET)

        audit_retention_days = d.pop("audit_retention_days", UNSET)

        plan_body = cls(
            name=name,
            rate=rate,
            burst=burst,
            monthly_units=monthly_units,
            max_concurrent=max_concurrent,
            overage=overage,
            max_image_bytes=max_image_bytes,
            max_pixels=max_pixels,
            max_pdf_pages=max_pdf_pages,
            audit_retention_days=audit_retention_days,
        )


        plan_body.additional_properties = d
        return plan_body

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
