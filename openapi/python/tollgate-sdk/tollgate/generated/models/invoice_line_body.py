from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.line_kind_body import LineKindBody
from ..types import UNSET, Unset






T = TypeVar("T", bound="InvoiceLineBody")



@_attrs_define
class InvoiceLineBody:
    """ One line of an invoice.

        Attributes:
            kind (LineKindBody): What an invoice line is for.
            quantity (int): Units counted (packages, for a package price's overage; 1 for the base fee).
            amount (int): Minor units.
            tier (int | Unset): The tier (from 0), for tiered prices' overage.
            description (str | Unset): What it is, in words (finalized invoices).
     """

    kind: LineKindBody
    quantity: int
    amount: int
    tier: int | Unset = UNSET
    description: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        kind = self.kind.value

        quantity = self.quantity

        amount = self.amount

        tier = self.tier

        description = self.description


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "kind": kind,
            "quantity": quantity,
            "amount": amount,
        })
        if tier is not UNSET:
            field_dict["tier"] = tier
        if description is not UNSET:
            field_dict["description"] = description

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        kind = LineKindBody(d.pop("kind"))




        quantity = d.pop("quantity")

        amount = d.pop("amount")

        tier = d.pop("tier", UNSET)

        description = d.pop("description", UNSET)

        invoice_line_body = cls(
            kind=kind,
            quantity=quantity,
            amount=amount,
            tier=tier,
            description=description,
        )


        invoice_line_body.additional_properties = d
        return invoice_line_body

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
