from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset






T = TypeVar("T", bound="IntrospectionBody")



@_attrs_define
class IntrospectionBody:
    """ RFC 7662 response; only `active` when inactive.

        Attributes:
            active (bool): Whether the token is active.
            scope (str | Unset): Scopes.
            client_id (str | Unset): Client (or key) id.
            sub (str | Unset): Subject.
            exp (int | Unset): Expiry.
            iat (int | Unset): Issued at.
            iss (str | Unset): Issuer.
            jti (str | Unset): Token id.
            tenant_id (str | Unset): Tenant.
            token_type (str | Unset): `Bearer` or `api_key`.
     """

    active: bool
    scope: str | Unset = UNSET
    client_id: str | Unset = UNSET
    sub: str | Unset = UNSET
    exp: int | Unset = UNSET
    iat: int | Unset = UNSET
    iss: str | Unset = UNSET
    jti: str | Unset = UNSET
    tenant_id: str | Unset = UNSET
    token_type: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        active = self.active

        scope = self.scope

        client_id = self.client_id

        sub = self.sub

        exp = self.exp

        iat = self.iat

        iss = self.iss

        jti = self.jti

        tenant_id = self.tenant_id

        token_type = self.token_type


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "active": active,
        })
        if scope is not UNSET:
            field_dict["scope"] = scope
        if client_id is not UNSET:
            field_dict["client_id"] = client_id
        if sub is not UNSET:
            field_dict["sub"] = sub
        if exp is not UNSET:
            field_dict["exp"] = exp
        if iat is not UNSET:
            field_dict["iat"] = iat
        if iss is not UNSET:
            field_dict["iss"] = iss
        if jti is not UNSET:
            field_dict["jti"] = jti
        if tenant_id is not UNSET:
            field_dict["tenant_id"] = tenant_id
        if token_type is not UNSET:
            field_dict["token_type"] = token_type

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        active = d.pop("active")

        scope = d.pop("scope", UNSET)

        client_id = d.pop("client_id", UNSET)

        sub = d.pop("sub", UNSET)

        exp = d.pop("exp", UNSET)

        iat = d.pop("iat", UNSET)

        iss = d.pop("iss", UNSET)

        jti = d.pop("jti", UNSET)

        tenant_id = d.pop("tenant_id", UNSET)

        token_type = d.pop("token_type", UNSET)

        introspection_body = cls(
            active=active,
            scope=scope,
            client_id=client_id,
            sub=sub,
            exp=exp,
            iat=iat,
            iss=iss,
            jti=jti,
            tenant_id=tenant_id,
            token_type=token_type,
        )


        introspection_body.additional_properties = d
        return introspection_body

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
