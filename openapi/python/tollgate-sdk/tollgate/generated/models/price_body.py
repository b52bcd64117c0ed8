from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.price_model import PriceModel
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.tier_body import TierBody
  from ..models.unit_price_body import UnitPriceBody





T = TypeVar("T", bound="PriceBody")



@_attrs_define
class PriceBody:
    """ A plan's price. Money is integer minor units of `currency`; a line is rounded half to
    even, once. Tier bounds count overage units (those past `included_units`).

        Attributes:
            currency (str): ISO 4217 code, e.g. `USD`.
            base_fee (int): Charged every period.
            included_units (int): Units the base fee includes.
            model (PriceModel): How units past the included ones are priced.
            unit (UnitPriceBody | Unset): `amount` minor units per `per` units (a tenth of a cent a page: `1` per `10`).
            tiers (list[TierBody] | Unset): For `graduated` and `volume`: in order, the last without `up_to`.
            package_size (int | Unset): For `package`: units in a package.
            package_price (int | Unset): For `package`: minor units a package costs.
     """

    currency: str
    base_fee: int
    included_units: int
    model: PriceModel
    unit: UnitPriceBody | Unset = UNSET
    tiers: list[TierBody] | Unset = UNSET
    package_size: int | Unset = UNSET
    package_price: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.tier_body import TierBody # noqa: PLC0415
        from ..models.unit_price_body import UnitPriceBody # noqa: PLC0415
        currency = self.currency

        base_fee = self.base_fee

        included_units = self.included_units

        model = self.model.value

        unit: dict[str, Any] | Unset = UNSET
        if not isinstance(self.unit, Unset):
            unit = self.unit.to_dict()

        tiers: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.tiers, Unset):
            tiers = []
            for tiers_item_data in self.tiers:
                tiers_item = tiers_item_data.to_dict()
                tiers.append(tiers_item)



        package_size = self.package_size

        package_price = self.package_price


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "currency": currency,
            "base_fee": base_fee,
            "included_units": included_units,
            "model": model,
        })
        if unit is not UNSET:
            field_dict["unit"] = unit
        if tiers is not UNSET:
            field_dict["tiers"] = tiers
        if package_size is not UNSET:
            field_dict["package_size"] = package_size
        if package_price is not UNSET:
            field_dict["package_price"] = package_price

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.tier_body import TierBody # noqa: PLC0415
        from ..models.unit_price_body import UnitPriceBody # noqa: PLC0415
        d = dict(src_dict)
        currency = d.pop("currency")

        base_fee = d.pop("base_fee")

        included_units = d.pop("included_units")

        model = PriceModel(d.pop("model"))




        _unit = d.pop("unit", UNSET)
        unit: UnitPriceBody | Unset
        if isinstance(_unit,  Unset):
            unit = UNSET
        else:
            unit = UnitPriceBody.from_dict(_unit)




        _tiers = d.pop("tiers", UNSET)
        tiers: list[TierBody] | Unset = UNSET
        if _tiers is not UNSET:
            tiers = []
            for tiers_item_data in _tiers:
                tiers_item = TierBody.from_dict(tiers_item_data)



                tiers.append(tiers_item)


        package_size = d.pop("package_size", UNSET)

        package_price = d.pop("package_price", UNSET)

        price_body = cls(
            currency=currency,
            base_fee=base_fee,
            included_units=included_units,
            model=model,
            unit=unit,
            tiers=tiers,
            package_size=package_size,
            package_price=package_price,
        )


        price_body.additional_properties = d
        return price_body

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
