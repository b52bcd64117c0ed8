from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.key_environment import KeyEnvironment
from ..types import UNSET, Unset
from typing import cast
import datetime






T = TypeVar("T", bound="NewKey")



@_attrs_define
class NewKey:
    """ New key.

        Attributes:
            name (str): Display name.
            scopes (list[str]): Scopes, e.g. `["ocr:read"]`.
            expires_at (datetime.datetime | Unset): Optional expiry.
            environment (KeyEnvironment | Unset): Which keys a key is: `live` keys (`tg_live_…`) or `test` keys
                (`tg_test_…`), told apart
                by their prefix so a leaked key's kind is obvious.
     """

    name: str
    scopes: list[str]
    expires_at: datetime.datetime | Unset = UNSET
    environment: KeyEnvironment | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        name = self.name

        scopes = self.scopes



        expires_at: str | Unset = UNSET
        if not isinstance(self.expires_at, Unset):
            expires_at = self.expires_at.isoformat()

        environment: str | Unset = UNSET
        if not isinstance(self.environment, Unset):
            environment = self.environment.value



        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "name": name,
            "scopes": scopes,
        })
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if environment is not UNSET:
            field_dict["environment"] = environment

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        scopes = cast(list[str], d.pop("scopes"))


        _expires_at = d.pop("expires_at", UNSET)
        expires_at: datetime.datetime | Unset
        if isinstance(_expires_at,  Unset):
            expires_at = UNSET
        else:
            expires_at = datetime.datetime.fromisoformat(_expires_at)




        _environment = d.pop("environment", UNSET)
        environment: KeyEnvironment | Unset
        if isinstance(_environment,  Unset):
            environment = UNSET
        else:
            environment = KeyEnvironment(_environment)




        new_key = cls(
            name=name,
            scopes=scopes,
            expires_at=expires_at,
            environment=environment,
        )


        new_key.additional_properties = d
        return new_key

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
