from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.role_name import RoleName
from typing import cast
import datetime






T = TypeVar("T", bound="SessionInfo")



@_attrs_define
class SessionInfo:
    """ The signed-in admin.

        Attributes:
            admin_id (str): Admin id.
            tenant_id (str): Tenant id.
            email (str): Email.
            role (RoleName): A portal role: `viewer` reads, `admin` also manages credentials, webhooks and prices'
                settings, `owner` also manages members and the spend cap.
            must_change_password (bool): Signed in with a one-time password: every other portal call answers 403
                `password_change_required` until `POST /v1/session/password`.
            expires_at (datetime.datetime): The session ends at this time whatever its use.
            idle_timeout_seconds (int): The session ends after this many seconds without a request.
            csrf_token (str): Send this in `X-CSRF-Token` on every state-changing request.
     """

    admin_id: str
    tenant_id: str
    email: str
    role: RoleName
    must_change_password: bool
    expires_at: datetime.datetime
    idle_timeout_seconds: int
    csrf_token: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        admin_id = self.admin_id

        tenant_id = self.tenant_id

        email = self.email

        role = self.role.value

        must_change_password = self.must_change_password

        expires_at = self.expires_at.isoformat()

        idle_timeout_seconds = self.idle_timeout_seconds

        csrf_token = self.csrf_token


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "admin_id": admin_id,
            "tenant_id": tenant_id,
            "email": email,
            "role": role,
            "must_change_password": must_change_password,
            "expires_at": expires_at,
            "idle_timeout_seconds": idle_timeout_seconds,
            "csrf_token": csrf_token,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        admin_id = d.pop("admin_id")

        tenant_id = d.pop("tenant_id")

        email = d.pop("email")

        role = RoleName(d.pop("role"))




        must_change_password = d.pop("must_change_password")

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))




        idle_timeout_seconds = d.pop("idle_timeout_seconds")

        csrf_token = d.pop("csrf_token")

        session_info = cls(
            admin_id=admin_id,
            tenant_id=tenant_id,
            email=email,
            role=role,
            must_change_password=must_change_password,
            expires_at=expires_at,
            idle_timeout_seconds=idle_timeout_seconds,
            csrf_token=csrf_token,
        )


        session_info.additional_properties = d
        return session_info

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
