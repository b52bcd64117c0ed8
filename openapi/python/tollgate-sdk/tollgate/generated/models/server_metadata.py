from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast






T = TypeVar("T", bound="ServerMetadata")



@_attrs_define
class ServerMetadata:
    """ RFC 8414 authorization server metadata.

        Attributes:
            issuer (str): Issuer identifier (the `iss` of every token).
            token_endpoint (str): Token endpoint.
            jwks_uri (str): JWKS location.
            revocation_endpoint (str): Revocation endpoint (RFC 7009).
            introspection_endpoint (str): Introspection endpoint (RFC 7662).
            grant_types_supported (list[str]): Supported grants.
            response_types_supported (list[str]): No authorization endpoint, so no response types.
            token_endpoint_auth_methods_supported (list[str]): Client authentication methods at the token endpoint.
            revocation_endpoint_auth_methods_supported (list[str]): Client authentication methods at the revocation
                endpoint.
            introspection_endpoint_auth_methods_supported (list[str]): Client authentication methods at the introspection
                endpoint.
            scopes_supported (list[str]): Scopes a client can be granted.
            service_documentation (str): Where the API is documented.
     """

    issuer: str
    token_endpoint: str
    jwks_uri: str
    revocation_endpoint: str
    introspection_endpoint: str
    grant_types_supported: list[str]
    response_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_methods_supported: list[str]
    introspection_endpoint_auth_methods_supported: list[str]
    scopes_supported: list[str]
    service_documentation: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        issuer = self.issuer

        token_endpoint = self.token_endpoint

        jwks_uri = self.jwks_uri

        revocation_endpoint = self.revocation_endpoint

        introspection_endpoint = self.introspection_endpoint

        grant_types_supported = self.grant_types_supported



        response_types_supported = self.response_types_supported



        token_endpoint_auth_methods_supported = self.token_endpoint_auth_methods_supported



        revocation_endpoint_auth_methods_supported = self.revocation_endpoint_auth_methods_supported



        introspection_endpoint_auth_methods_supported = self.introspection_endpoint_auth_methods_supported



        scopes_supported = self.scopes_supported



        service_documentation = self.service_documentation


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "issuer": issuer,
            "token_endpoint": token_endpoint,
            "jwks_uri": jwks_uri,
            "revocation_endpoint": revocation_endpoint,
            "introspection_endpoint": introspection_endpoint,
            "grant_types_supported": grant_types_supported,
            "response_types_supported": response_types_supported,
            "token_endpoint_auth_methods_supported": token_endpoint_auth_methods_supported,
            "revocation_endpoint_auth_methods_supported": revocation_endpoint_auth_methods_supported,
            "introspection_endpoint_auth_methods_supported": introspection_endpoint_auth_methods_supported,
            "scopes_supported": scopes_supported,
            "service_documentation": service_documentation,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        issuer = d.pop("issuer")

        token_endpoint = d.pop("token_endpoint")

        jwks_uri = d.pop("jwks_uri")

        revocation_endpoint = d.pop("revocation_endpoint")

        introspection_endpoint = d.pop("introspection_endpoint")

        grant_types_supported = cast(list[str], d.pop("grant_types_supported"))


        response_types_supported = cast(list[str], d.pop("response_types_supported"))


        token_endpoint_auth_methods_supported = cast(list[str], d.pop("token_endpoint_auth_methods_supported"))


        revocation_endpoint_auth_methods_supported = cast(list[str], d.pop("revocation_endpoint_auth_methods_supported"))


        introspection_endpoint_auth_methods_supported = cast(list[str], d.pop("introspection_endpoint_auth_methods_supported"))


        scopes_supported = cast(list[str], d.pop("scopes_supported"))


        service_documentation = d.pop("service_documentation")

        server_metadata = cls(
            issuer=issuer,
            token_endpoint=token_endpoint,
            jwks_uri=jwks_uri,
            revocation_endpoint=revocation_endpoint,
            introspection_endpoint=introspection_endpoint,
            grant_types_supported=grant_types_supported,
            response_types_supported=response_types_supported,
            token_endpoint_auth_methods_supported=token_endpoint_auth_methods_supported,
            revocation_endpoint_auth_methods_supported=revocation_endpoint_auth_methods_supported,
            introspection_endpoint_auth_methods_supported=introspection_endpoint_auth_methods_supported,
            scopes_supported=scopes_supported,
            service_documentation=service_documentation,
        )


        server_metadata.additional_properties = d
        return server_metadata

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
