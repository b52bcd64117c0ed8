from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.delivery_status import DeliveryStatus
from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.webhook_attempt import WebhookAttempt





T = TypeVar("T", bound="WebhookDelivery")



@_attrs_define
class WebhookDelivery:
    """ One event for one endpoint.

        Attributes:
            id (str): Id (for replays).
            message_id (str): The `webhook-id` every attempt carries.
            event_type (str): The event.
            status (DeliveryStatus): A delivery's state.
            attempts (int): Attempts so far.
            body (Any): The exact body every attempt sends.
            created_at (datetime.datetime): When the event was fanned out to this endpoint.
            log (list[WebhookAttempt]): Its attempts, oldest first.
            next_attempt_at (datetime.datetime | Unset): When it is attempted next (pending deliveries).
            delivered_at (datetime.datetime | Unset): When it was delivered.
     """

    id: str
    message_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    body: Any
    created_at: datetime.datetime
    log: list[WebhookAttempt]
    next_attempt_at: datetime.datetime | Unset = UNSET
    delivered_at: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.webhook_attempt import WebhookAttempt # noqa: PLC0415
        id = self.id

        message_id = self.message_id

        event_type = self.event_type

        status = self.status.value

        attempts = self.attempts

        body = self.body

        created_at = self.created_at.isoformat()

        log = []
        for log_item_data in self.log:
            log_item = log_item_data.to_dict()
            log.append(log_item)



        next_attempt_at: str | Unset = UNSET
        if not isinstance(self.next_attempt_at, Unset):
            next_attempt_at = self.next_attempt_at.isoformat()

        delivered_at: str | Unset = UNSET
        if not isinstance(self.delivered_at, Unset):
            delivered_at = self.delivered_at.isoformat()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "message_id": message_id,
            "event_type": event_type,
            "status": status,
            "attempts": attempts,
            "body": body,
            "created_at": created_at,
            "log": log,
        })
        if next_attempt_at is not UNSET:
            field_dict["next_attempt_at"] = next_attempt_at
        if delivered_at is not UNSET:
            field_dict["delivered_at"] = delivered_at

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.webhook_attempt import WebhookAttempt # noqa: PLC0415
        d = dict(src_dict)
        id = d.pop("id")

        message_id = d.pop("message_id")

        event_type = d.pop("event_type")

        status = DeliveryStatus(d.pop("status"))




        attempts = d.pop("attempts")

        body = d.pop("body")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        log = []
        _log = d.pop("log")
        for log_item_data in (_log):
            log_item = WebhookAttempt.from_dict(log_item_data)



            log.append(log_item)


        _next_attempt_at = d.pop("next_attempt_at", UNSET)
        next_attempt_at: datetime.datetime | Unset
        if isinstance(_next_attempt_at,  Unset):
            next_attempt_at = UNSET
        else:
            next_attempt_at = datetime.datetime.fromisoformat(_next_attempt_at)




        _delivered_at = d.pop("delivered_at", UNSET)
        delivered_at: datetime.datetime | Unset
        if isinstance(_delivered_at,  Unset):
            delivered_at = UNSET
        else:
            delivered_at = datetime.datetime.fromisoformat(_delivered_at)




        webhook_delivery = cls(
            id=id,
            message_id=message_id,
            event_type=event_type,
            status=status,
            attempts=attempts,
            body=body,
            created_at=created_at,
            log=log,
            next_attempt_at=next_attempt_at,
            delivered_at=delivered_at,
        )


        webhook_delivery.additional_properties = d
        return webhook_delivery

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
