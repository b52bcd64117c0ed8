from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.money import Money





T = TypeVar("T", bound="BillingSettingsBody")



@_attrs_define
class BillingSettingsBody:
    """ A tenant's billing settings.

        Attributes:
            spend_cap (Money | Unset): An amount of money.
            credit_alert_below (int | Unset): Alert (`credit.low`) when the prepaid credit left, after this period's spend
                so far,
                falls below this many minor units. Absent (or null in a request): no alert.
     """

    spend_cap: Money | Unset = UNSET
    credit_alert_below: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.money import Money # noqa: PLC0415
        spend_cap: dict[str, Any] | Unset = UNSET
        if not isinstance(self.spend_cap, Unset):
            spend_cap = self.spend_cap.to_dict()

        credit_alert_below = self.credit_alert_below


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
        })
        if spend_cap is not UNSET:
            field_dict["spend_cap"] = spend_cap
        if credit_alert_below is not UNSET:
            field_dict["credit_alert_below"] = credit_alert_below

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.money import Money # noqa: PLC0415
        d = dict(src_dict)
        _spend_cap = d.pop("spend_cap", UNSET)
        spend_cap: Money | Unset
        if isinstance(_spend_cap,  Unset):
            spend_cap = UNSET
        else:
            spend_cap = Money.from_dict(_spend_cap)




        credit_alert_below = d.pop("credit_alert_below", UNSET)

        billing_settings_body = cls(
            spend_cap=spend_cap,
            credit_alert_below=credit_alert_below,
        )


        billing_settings_body.additional_properties = d
        return billing_settings_body

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
