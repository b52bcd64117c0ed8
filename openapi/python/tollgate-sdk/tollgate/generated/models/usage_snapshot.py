from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.late_usage import LateUsage





T = TypeVar("T", bound="UsageSnapshot")



@_attrs_define
class UsageSnapshot:
    """ The usage an invoice was rated from.

        Attributes:
            period_units (int): Units recorded in the period when it was finalized.
            late (list[LateUsage]): Units recorded late for earlier periods.
     """

    period_units: int
    late: list[LateUsage]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.late_usage import LateUsage # noqa: PLC0415
        period_units = self.period_units

        late = []
        for late_item_data in self.late:
            late_item = late_item_data.to_dict()
            late.append(late_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "period_units": period_units,
            "late": late,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.late_usage import LateUsage # noqa: PLC0415
        d = dict(src_dict)
        period_units = d.pop("period_units")

        late = []
        _late = d.pop("late")
        for late_item_data in (_late):
            late_item = LateUsage.from_dict(late_item_data)



            late.append(late_item)


        usage_snapshot = cls(
            period_units=period_units,
            late=late,
        )


        usage_snapshot.additional_properties = d
        return usage_snapshot

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
