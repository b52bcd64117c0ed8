from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.price_body import PriceBody





T = TypeVar("T", bound="PriceSetBody")



@_attrs_define
class PriceSetBody:
    """ A price and the first period it applies to.

        Attributes:
            plan (str): The plan.
            effective_period (str): The first period (`YYYY-MM`): the current one when the plan had no price in it, the
                next one otherwise (no period is rated with two prices).
            price (PriceBody): A plan's price. Money is integer minor units of `currency`; a line is rounded half to
                even, once. Tier bounds count overage units (those past `included_units`).
     """

    plan: str
    effective_period: str
    price: PriceBody
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.price_body import PriceBody # noqa: PLC0415
        plan = self.plan

        effective_period = self.effective_period

        price = self.price.to_dict()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "plan": plan,
            "effective_period": effective_period,
            "price": price,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.price_body import PriceBody # noqa: PLC0415
        d = dict(src_dict)
        plan = d.pop("plan")

        effective_period = d.pop("effective_period")

        price = PriceBody.from_dict(d.pop("price"))




        price_set_body = cls(
            plan=plan,
            effective_period=effective_period,
            price=price,
        )


        price_set_body.additional_properties = d
        return price_set_body

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
