from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.unit_price_body import UnitPriceBody





T = TypeVar("T", bound="TierBody")



@_attrs_define
class TierBody:
    """ A tier of a graduated or volume price.

        Attributes:
            unit (UnitPriceBody): `amount` minor units per `per` units (a tenth of a cent a page: `1` per `10`).
            up_to (int | Unset): The last overage unit it covers; absent for the last tier (no end).
            flat (int | Unset): A flat fee charged once when the tier is used (default 0). Default: 0.
     """

    unit: UnitPriceBody
    up_to: int | Unset = UNSET
    flat: int | Unset = 0
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.unit_price_body import UnitPriceBody # noqa: PLC0415
        unit = self.unit.to_dict()

        up_to = self.up_to

        flat = self.flat


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "unit": unit,
        })
        if up_to is not UNSET:
            field_dict["up_to"] = up_to
        if flat is not UNSET:
            field_dict["flat"] = flat

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.unit_price_body import UnitPriceBody # noqa: PLC0415
        d = dict(src_dict)
        unit = UnitPriceBody.from_dict(d.pop("unit"))




        up_to = d.pop("up_to", UNSET)

        flat = d.pop("flat", UNSET)

        tier_body = cls(
            unit=unit,
            up_to=up_to,
            flat=flat,
        )


        tier_body.additional_properties = d
        return tier_body

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
