from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast
import datetime






T = TypeVar("T", bound="WebhookAttempt")



@_attrs_define
class WebhookAttempt:
    """ One attempt of a delivery.

        Attributes:
            attempt (int): 1 for the first.
            at (datetime.datetime): When it was made.
            latency_ms (int): How long it took.
            replay (bool): Whether a replay asked for it.
            status_code (int | Unset): What the endpoint answered; absent when no answer came.
            error (str | Unset): Why it failed.
            response (str | Unset): The start of the answer's body (at most 1 KiB).
     """

    attempt: int
    at: datetime.datetime
    latency_ms: int
    replay: bool
    status_code: int | Unset = UNSET
    error: str | Unset = UNSET
    response: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        attempt = self.attempt

        at = self.at.isoformat()

        latency_ms = self.latency_ms

        replay = self.replay

        status_code = self.status_code

        error = self.error

        response = self.response


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "attempt": attempt,
            "at": at,
            "latency_ms": latency_ms,
            "replay": replay,
        })
        if status_code is not UNSET:
            field_dict["status_code"] = status_code
        if error is not UNSET:
            field_dict["error"] = error
        if response is not UNSET:
            field_dict["response"] = response

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        attempt = d.pop("attempt")

        at = datetime.datetime.fromisoformat(d.pop("at"))




        latency_ms = d.pop("latency_ms")

        replay = d.pop("replay")

        status_code = d.pop("status_code", UNSET)

        error = d.pop("error", UNSET)

        response = d.pop("response", UNSET)

        webhook_attempt = cls(
            attempt=attempt,
            at=at,
            latency_ms=latency_ms,
            replay=replay,
            status_code=status_code,
            error=error,
            response=response,
        )


        webhook_attempt.additional_properties = d
        return webhook_attempt

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
