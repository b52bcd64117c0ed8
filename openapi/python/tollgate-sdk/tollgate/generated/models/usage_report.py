from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.granularity import Granularity
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.usage_row import UsageRow





T = TypeVar("T", bound="UsageReport")



@_attrs_define
class UsageReport:
    """ A usage report.

        Attributes:
            from_ (datetime.datetime): Start (inclusive), rounded down to the granularity.
            to (datetime.datetime): End (exclusive).
            granularity (Granularity): Bucket size.
            unit (str): The unit counted: `page`.
            buckets (list[UsageRow]): Buckets in time order.
            total_units (int): Units over the whole range.
            total_calls (int): Calls over the whole range.
     """

    from_: datetime.datetime
    to: datetime.datetime
    granularity: Granularity
    unit: str
    buckets: list[UsageRow]
    total_units: int
    total_calls: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.usage_row import UsageRow # noqa: PLC0415
        from_ = self.from_.isoformat()

        to = self.to.isoformat()

        granularity = self.granularity.value

        unit = self.unit

        buckets = []
        for buckets_item_data in self.buckets:
            buckets_item = buckets_item_data.to_dict()
            buckets.append(buckets_item)



        total_units = self.total_units

        total_calls = self.total_calls


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "from": from_,
            "to": to,
            "granularity": granularity,
            "unit": unit,
            "buckets": buckets,
            "total_units": total_units,
            "total_calls": total_calls,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.usage_row import UsageRow # noqa: PLC0415
        d = dict(src_dict)
        from_ = datetime.datetime.fromisoformat(d.pop("from"))




        to = datetime.datetime.fromisoformat(d.pop("to"))




        granularity = Granularity(d.pop("granularity"))




        unit = d.pop("unit")

        buckets = []
        _buckets = d.pop("buckets")
        for buckets_item_data in (_buckets):
            buckets_item = UsageRow.from_dict(buckets_item_data)



            buckets.append(buckets_item)


        total_units = d.pop("total_units")

        total_calls = d.pop("total_calls")

        usage_report = cls(
            from_=from_,
            to=to,
            granularity=granularity,
            unit=unit,
            buckets=buckets,
            total_units=total_units,
            total_calls=total_calls,
        )


        usage_report.additional_properties = d
        return usage_report

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
