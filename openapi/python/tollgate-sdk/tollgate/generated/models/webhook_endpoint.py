from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.endpoint_status import EndpointStatus
from ..models.webhook_event_type import WebhookEventType
from ..types import UNSET, Unset
from typing import cast
import datetime






T = TypeVar("T", bound="WebhookEndpoint")



@_attrs_define
class WebhookEndpoint:
    """ A webhook endpoint (never its secret).

        Attributes:
            id (str): Id.
            url (str): Where events are POSTed.
            event_types (list[WebhookEventType]): The events it receives.
            status (EndpointStatus): An endpoint's state.
            timeout_seconds (int): How long one attempt may take, seconds.
            created_at (datetime.datetime): When it was registered.
            updated_at (datetime.datetime): When it last changed.
            description (str | Unset): What it is for.
            previous_secret_until (datetime.datetime | Unset): Until when deliveries are also signed with the previous
                secret (after a rotation).
     """

    id: str
    url: str
    event_types: list[WebhookEventType]
    status: EndpointStatus
    timeout_seconds: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    description: str | Unset = UNSET
    previous_secret_until: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        id = self.id

        url = self.url

        event_types = []
        for event_types_item_data in self.event_types:
            event_types_item = event_types_item_data.value
            event_types.append(event_types_item)



        status = self.status.value

        timeout_seconds = self.timeout_seconds

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        description = self.description

        previous_secret_until: str | Unset = UNSET
        if not isinstance(self.previous_secret_until, Unset):
            previous_secret_until = self.previous_secret_until.isoformat()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "url": url,
            "event_types": event_types,
            "status": status,
            "timeout_seconds": timeout_seconds,
            "created_at": created_at,
            "updated_at": updated_at,
        })
        if description is not UNSET:
            field_dict["description"] = description
        if previous_secret_until is not UNSET:
            field_dict["previous_secret_until"] = previous_secret_until

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        url = d.pop("url")

        event_types = []
        _event_types = d.pop("event_types")
        for event_types_item_data in (_event_types):
            event_types_item = WebhookEventType(event_types_item_data)



            event_types.append(event_types_item)


        status = EndpointStatus(d.pop("status"))




        timeout_seconds = d.pop("timeout_seconds")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))




        description = d.pop("description", UNSET)

        _previous_secret_until = d.pop("previous_secret_until", UNSET)
        previous_secret_until: datetime.datetime | Unset
        if isinstance(_previous_secret_until,  Unset):
            previous_secret_until = UNSET
        else:
            previous_secret_until = datetime.datetime.fromisoformat(_previous_secret_until)




        webhook_endpoint = cls(
            id=id,
            url=url,
            event_types=event_types,
            status=status,
            timeout_seconds=timeout_seconds,
            created_at=created_at,
            updated_at=updated_at,
            description=description,
            previous_secret_until=previous_secret_until,
        )


        webhook_endpoint.additional_properties = d
        return webhook_endpoint

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
