from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.role_name import RoleName






T = TypeVar("T", bound="OidcConfigBody")



@_attrs_define
class OidcConfigBody:
    """ A tenant's identity provider, as the operator sets it.

        Attributes:
            issuer (str): The provider's issuer URL: `https://`, or `http://` on a loopback host. Its discovery
                document (`/.well-known/openid-configuration`) is fetched to check it.
            client_id (str): The client id Tollgate is registered with at the provider.
            client_secret (str): Its client secret (stored encrypted; never returned).
            allowed_domain (str): People whose verified email is at this domain sign in to this tenant (one tenant per
                domain; IDNs in punycode).
            default_role (RoleName): A portal role: `viewer` reads, `admin` also manages credentials, webhooks and prices'
                settings, `owner` also manages members and the spend cap.
     """

    issuer: str
    client_id: str
    client_secret: str
    allowed_domain: str
    default_role: RoleName
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        issuer = self.issuer

        client_id = self.client_id

        client_secret = self.client_secret

        allowed_domain = self.allowed_domain

        default_role = self.default_role.value


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "issuer": issuer,
            "client_id": client_id,
            "client_secret": client_secret,
            "allowed_domain": allowed_domain,
            "default_role": default_role,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        issuer = d.pop("issuer")

        client_id = d.pop("client_id")

        client_secret = d.pop("client_secret")

        allowed_domain = d.pop("allowed_domain")

        default_role = RoleName(d.pop("default_role"))




        oidc_config_body = cls(
            issuer=issuer,
            client_id=client_id,
            client_secret=client_secret,
            allowed_domain=allowed_domain,
            default_role=default_role,
        )


        oidc_config_body.additional_properties = d
        return oidc_config_body

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
