from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.webhook_event_type import WebhookEventType
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="NewWebhookEndpoint")



@_attrs_define
class NewWebhookEndpoint:
    """ An endpoint to register.

        Attributes:
            url (str): `https://…` (plain http and private addresses only where the operator allows them).
            event_types (list[WebhookEventType]): The events it receives: at least one, none twice.
            description (str | Unset): What it is for (at most 500 characters).
            timeout_seconds (int | Unset): How long one attempt may take, 1 to 30 seconds (default 10).
     """

    url: str
    event_types: list[WebhookEventType]
    description: str | Unset = UNSET
    timeout_seconds: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        url = self.url

        event_types = []
        for event_types_item_data in self.event_types:
            event_types_item = event_types_item_data.value
            event_types.append(event_types_item)



        description = self.description

        timeout_seconds = self.timeout_seconds


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "url": url,
            "event_types": event_types,
        })
        if description is not UNSET:
            field_dict["description"] = description
        if timeout_seconds is not UNSET:
            field_dict["timeout_seconds"] = timeout_seconds

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        url = d.pop("url")

        event_types = []
        _event_types = d.pop("event_types")
        for event_types_item_data in (_event_types):
            event_types_item = WebhookEventType(event_types_item_data)



            event_types.append(event_types_item)


        description = d.pop("description", UNSET)

        timeout_seconds = d.pop("timeout_seconds", UNSET)

        new_webhook_endpoint = cls(
            url=url,
            event_types=event_types,
            description=description,
            timeout_seconds=timeout_seconds,
        )


        new_webhook_endpoint.additional_properties = d
        return new_webhook_endpoint

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
