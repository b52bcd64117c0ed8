from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.role_name import RoleName






T = TypeVar("T", bound="OidcConfig")



@_attrs_define
class OidcConfig:
    """ A tenant's identity provider (the secret is never shown).

        Attributes:
            tenant_id (str): Tenant id.
            issuer (str): Issuer, as its discovery document states it.
            client_id (str): Client id.
            allowed_domain (str): Email domain.
            default_role (RoleName): A portal role: `viewer` reads, `admin` also manages credentials, webhooks and prices'
                settings, `owner` also manages members and the spend cap.
            redirect_uri (str): The redirect URI to register at the provider for this client.
     """

    tenant_id: str
    issuer: str
    client_id: str
    allowed_domain: str
    default_role: RoleName
    redirect_uri: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        tenant_id = self.tenant_id

        issuer = self.issuer

        client_id = self.client_id

        allowed_domain = self.allowed_domain

        default_role = self.default_role.value

        redirect_uri = self.redirect_uri


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "tenant_id": tenant_id,
            "issuer": issuer,
            "client_id": client_id,
            "allowed_domain": allowed_domain,
            "default_role": default_role,
            "redirect_uri": redirect_uri,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        tenant_id = d.pop("tenant_id")

        issuer = d.pop("issuer")

        client_id = d.pop("client_id")

        allowed_domain = d.pop("allowed_domain")

        default_role = RoleName(d.pop("default_role"))




        redirect_uri = d.pop("redirect_uri")

        oidc_config = cls(
            tenant_id=tenant_id,
            issuer=issuer,
            client_id=client_id,
            allowed_domain=allowed_domain,
            default_role=default_role,
            redirect_uri=redirect_uri,
        )


        oidc_config.additional_properties = d
        return oidc_config

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
