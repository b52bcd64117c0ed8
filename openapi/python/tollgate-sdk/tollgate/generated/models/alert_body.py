from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime






T = TypeVar("T", bound="AlertBody")



@_attrs_define
class AlertBody:
    """ A threshold reached, once per period.

        Attributes:
            kind (str): `usage` (percent of the plan's units), `spend` (percent of the spend cap) or
                `credit` (credit left below the alert amount).
            level (int): Percent (50, 80, 100); 0 for `credit`.
            period (str): The period (`YYYY-MM`).
            detail (Any): The numbers at the crossing.
            created_at (datetime.datetime): When.
     """

    kind: str
    level: int
    period: str
    detail: Any
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        kind = self.kind

        level = self.level

        period = self.period

        detail = self.detail

        created_at = self.created_at.isoformat()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "kind": kind,
            "level": level,
            "period": period,
            "detail": detail,
            "created_at": created_at,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        kind = d.pop("kind")

        level = d.pop("level")

        period = d.pop("period")

        detail = d.pop("detail")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        alert_body = cls(
            kind=kind,
            level=level,
            period=period,
            detail=detail,
            created_at=created_at,
        )


        alert_body.additional_properties = d
        return alert_body

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
