from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.role_name import RoleName
from typing import cast
import datetime






T = TypeVar("T", bound="Member")



@_attrs_define
class Member:
    """ A member (never with a password hash).

        Attributes:
            id (str): Id.
            email (str): Email.
            role (RoleName): A portal role: `viewer` reads, `admin` also manages credentials, webhooks and prices'
                settings, `owner` also manages members and the spend cap.
            must_change_password (bool): Still on the one-time password they were created with.
            created_at (datetime.datetime): Created.
     """

    id: str
    email: str
    role: RoleName
    must_change_password: bool
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        id = self.id

        email = self.email

        role = self.role.value

        must_change_password = self.must_change_password

        created_at = self.created_at.isoformat()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "email": email,
            "role": role,
            "must_change_password": must_change_password,
            "created_at": created_at,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        email = d.pop("email")

        role = RoleName(d.pop("role"))




        must_change_password = d.pop("must_change_password")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        member = cls(
            id=id,
            email=email,
            role=role,
            must_change_password=must_change_password,
            created_at=created_at,
        )


        member.additional_properties = d
        return member

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
