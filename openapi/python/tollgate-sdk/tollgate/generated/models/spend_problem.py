from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="SpendProblem")



@_attrs_define
class SpendProblem:
    """ Where the tenant stands against its spend cap, in minor units of `currency`.

        Attributes:
            currency (str): ISO 4217.
            cap (int): The tenant's monthly spend cap.
            spent (int): The period's rated spend so far.
            would_be (int): What it would be with the refused call.
     """

    currency: str
    cap: int
    spent: int
    would_be: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        currency = self.currency

        cap = self.cap

        spent = self.spent

        would_be = self.would_be


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "currency": currency,
            "cap": cap,
            "spent": spent,
            "would_be": would_be,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        currency = d.pop("currency")

        cap = d.pop("cap")

        spent = d.pop("spent")

        would_be = d.pop("would_be")

        spend_problem = cls(
            currency=currency,
            cap=cap,
            spent=spent,
            would_be=would_be,
        )


        spend_problem.additional_properties = d
        return spend_problem

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
