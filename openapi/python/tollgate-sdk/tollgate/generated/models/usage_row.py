from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast
import datetime






T = TypeVar("T", bound="UsageRow")



@_attrs_define
class UsageRow:
    """ One bucket of a report.

        Attributes:
            start (datetime.datetime): Start of the bucket.
            tenant_id (str): Tenant (in operator reports; the caller's own otherwise).
            units (int): Units (pages) in the bucket.
            calls (int): Metered calls in the bucket.
            group (str | Unset): The group (`key:<id>`, `client:<id>`, an operation), when grouped.
     """

    start: datetime.datetime
    tenant_id: str
    units: int
    calls: int
    group: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        start = self.start.isoformat()

        tenant_id = self.tenant_id

        units = self.units

        calls = self.calls

        group = self.group


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "start": start,
            "tenant_id": tenant_id,
            "units": units,
            "calls": calls,
        })
        if group is not UNSET:
            field_dict["group"] = group

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        start = datetime.datetime.fromisoformat(d.pop("start"))




        tenant_id = d.pop("tenant_id")

        units = d.pop("units")

        calls = d.pop("calls")

        group = d.pop("group", UNSET)

        usage_row = cls(
            start=start,
            tenant_id=tenant_id,
            units=units,
            calls=calls,
            group=group,
        )


        usage_row.additional_properties = d
        return usage_row

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
