from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="PlanStanding")



@_attrs_define
class PlanStanding:
    """ The tenant's plan and this period's units.

        Attributes:
            name (str): Plan name (`default` for a tenant never given one).
            rate_per_second (float): Sustained requests per second, for the tenant as a whole.
            burst (int): Requests that may arrive at once on top of the rate.
            max_concurrent (int): Requests in flight at once.
            monthly_units (int): Units (pages) included per calendar month.
            overage (bool): Past the included units: `true` keeps serving (overage is billed), `false` refuses
                (429 `quota_exhausted`).
            period (str): The period these figures are for, `YYYY-MM` (UTC).
            period_units (int): Units recorded this period.
     """

    name: str
    rate_per_second: float
    burst: int
    max_concurrent: int
    monthly_units: int
    overage: bool
    period: str
    period_units: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        name = self.name

        rate_per_second = self.rate_per_second

        burst = self.burst

        max_concurrent = self.max_concurrent

        monthly_units = self.monthly_units

        overage = self.overage

        period = self.period

        period_units = self.period_units


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "name": name,
            "rate_per_second": rate_per_second,
            "burst": burst,
            "max_concurrent": max_concurrent,
            "monthly_units": monthly_units,
            "overage": overage,
            "period": period,
            "period_units": period_units,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        rate_per_second = d.pop("rate_per_second")

        burst = d.pop("burst")

        max_concurrent = d.pop("max_concurrent")

        monthly_units = d.pop("monthly_units")

        overage = d.pop("overage")

        period = d.pop("period")

        period_units = d.pop("period_units")

        plan_standing = cls(
            name=name,
            rate_per_second=rate_per_second,
            burst=burst,
            max_concurrent=max_concurrent,
            monthly_units=monthly_units,
            overage=overage,
            period=period,
            period_units=period_units,
        )


        plan_standing.additional_properties = d
        return plan_standing

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
