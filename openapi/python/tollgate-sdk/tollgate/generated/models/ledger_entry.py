from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast
import datetime






T = TypeVar("T", bound="LedgerEntry")



@_attrs_define
class LedgerEntry:
    """ One entry of the credit ledger.

        Attributes:
            id (str): Id.
            grant_id (str): The grant it belongs to.
            kind (str): `grant` (positive), `consume` or `expire` (negative).
            amount (int): Minor units.
            currency (str): ISO 4217.
            created_at (datetime.datetime): Booked.
            expires_at (datetime.datetime | Unset): For a grant: when what is left of it expires.
            invoice_id (str | Unset): For a consumption: the invoice.
            memo (str | Unset): A note.
     """

    id: str
    grant_id: str
    kind: str
    amount: int
    currency: str
    created_at: datetime.datetime
    expires_at: datetime.datetime | Unset = UNSET
    invoice_id: str | Unset = UNSET
    memo: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        id = self.id

        grant_id = self.grant_id

        kind = self.kind

        amount = self.amount

        currency = self.currency

        created_at = self.created_at.isoformat()

        expires_at: str | Unset = UNSET
        if not isinstance(self.expires_at, Unset):
            expires_at = self.expires_at.isoformat()

        invoice_id = self.invoice_id

        memo = self.memo


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "grant_id": grant_id,
            "kind": kind,
            "amount": amount,
            "currency": currency,
            "created_at": created_at,
        })
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if invoice_id is not UNSET:
            field_dict["invoice_id"] = invoice_id
        if memo is not UNSET:
            field_dict["memo"] = memo

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        grant_id = d.pop("grant_id")

        kind = d.pop("kind")

        amount = d.pop("amount")

        currency = d.pop("currency")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        _expires_at = d.pop("expires_at", UNSET)
        expires_at: datetime.datetime | Unset
        if isinstance(_expires_at,  Unset):
            expires_at = UNSET
        else:
            expires_at = datetime.datetime.fromisoformat(_expires_at)




        invoice_id = d.pop("invoice_id", UNSET)

        memo = d.pop("memo", UNSET)

        ledger_entry = cls(
            id=id,
            grant_id=grant_id,
            kind=kind,
            amount=amount,
            currency=currency,
            created_at=created_at,
            expires_at=expires_at,
            invoice_id=invoice_id,
            memo=memo,
        )


        ledger_entry.additional_properties = d
        return ledger_entry

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
