from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset






T = TypeVar("T", bound="OcrUsage")



@_attrs_define
class OcrUsage:
    """ What the call was charged.

        Attributes:
            units (int): Units charged by this call: 0 for a retry answered with the stored answer of a
                completed request with the same `Idempotency-Key` (marked `Idempotent-Replayed`).
            unit (str): The unit: `page` (one image is one page).
            remaining (int | Unset): Units left in the plan's period, when known (negative: overage).
     """

    units: int
    unit: str
    remaining: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        units = self.units

        unit = self.unit

        remaining = self.remaining


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "units": units,
            "unit": unit,
        })
        if remaining is not UNSET:
            field_dict["remaining"] = remaining

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        units = d.pop("units")

        unit = d.pop("unit")

        remaining = d.pop("remaining", UNSET)

        ocr_usage = cls(
            units=units,
            unit=unit,
            remaining=remaining,
        )


        ocr_usage.additional_properties = d
        return ocr_usage

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
