from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.client import Client





T = TypeVar("T", bound="ClientWithSecret")



@_attrs_define
class ClientWithSecret:
    """ A client with its secret, shown once.

        Attributes:
            client (Client): A client (never with its secret).
            client_secret (str): The secret; store it now, it is never shown again.
     """

    client: Client
    client_secret: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.client import Client # noqa: PLC0415
        client = self.client.to_dict()

        client_secret = self.client_secret


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "client": client,
            "client_secret": client_secret,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.client import Client # noqa: PLC0415
        d = dict(src_dict)
        client = Client.from_dict(d.pop("client"))




        client_secret = d.pop("client_secret")

        client_with_secret = cls(
            client=client,
            client_secret=client_secret,
        )


        client_with_secret.additional_properties = d
        return client_with_secret

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
