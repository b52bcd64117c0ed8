from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.grant_body import GrantBody
  from ..models.ledger_entry import LedgerEntry
  from ..models.money import Money





T = TypeVar("T", bound="CreditsBody")



@_attrs_define
class CreditsBody:
    """ A tenant's prepaid credit.

        Attributes:
            balances (list[Money]): Usable now, per currency.
            grants (list[GrantBody]): The grants, oldest first.
            ledger (list[LedgerEntry]): Every ledger entry, oldest first.
     """

    balances: list[Money]
    grants: list[GrantBody]
    ledger: list[LedgerEntry]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.grant_body import GrantBody # noqa: PLC0415
        from ..models.ledger_entry import LedgerEntry # noqa: PLC0415
        from ..models.money import Money # noqa: PLC0415
        balances = []
        for balances_item_data in self.balances:
            balances_item = balances_item_data.to_dict()
            balances.append(balances_item)



        grants = []
        for grants_item_data in self.grants:
            grants_item = grants_item_data.to_dict()
            grants.append(grants_item)



        ledger = []
        for ledger_item_data in self.ledger:
            ledger_item = ledger_item_data.to_dict()
            ledger.append(ledger_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "balances": balances,
            "grants": grants,
            "ledger": ledger,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.grant_body import GrantBody # noqa: PLC0415
        from ..models.ledger_entry import LedgerEntry # noqa: PLC0415
        from ..models.money import Money # noqa: PLC0415
        d = dict(src_dict)
        balances = []
        _balances = d.pop("balances")
        for balances_item_data in (_balances):
            balances_item = Money.from_dict(balances_item_data)



            balances.append(balances_item)


        grants = []
        _grants = d.pop("grants")
        for grants_item_data in (_grants):
            grants_item = GrantBody.from_dict(grants_item_data)



            grants.append(grants_item)


        ledger = []
        _ledger = d.pop("ledger")
        for ledger_item_data in (_ledger):
            ledger_item = LedgerEntry.from_dict(ledger_item_data)



            ledger.append(ledger_item)


        credits_body = cls(
            balances=balances,
            grants=grants,
            ledger=ledger,
        )


        credits_body.additional_properties = d
        return credits_body

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
