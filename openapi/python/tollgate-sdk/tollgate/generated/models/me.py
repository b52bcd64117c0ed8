from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast






T = TypeVar("T", bound="Me")



@_attrs_define
class Me:
    """ The authenticated API principal.

        Attributes:
            tenant_id (str): The tenant the credential belongs to.
            kind (str): `client` (OAuth2 access token) or `key` (API key).
            id (str): Client id or key id.
            scopes (list[str]): Granted scopes.
     """

    tenant_id: str
    kind: str
    id: str
    scopes: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        tenant_id = self.tenant_id

        kind = self.kind

        id = self.id

        scopes = self.scopes




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "tenant_id": tenant_id,
            "kind": kind,
            "id": id,
            "scopes": scopes,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        tenant_id = d.pop("tenant_id")

        kind = d.pop("kind")

        id = d.pop("id")

        scopes = cast(list[str], d.pop("scopes"))


        me = cls(
            tenant_id=tenant_id,
            kind=kind,
            id=id,
            scopes=scopes,
        )


        me.additional_properties = d
        return me

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
