from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.audit_outcome import AuditOutcome
from ..types import UNSET, Unset
from typing import cast
import datetime






T = TypeVar("T", bound="AuditEventBody")



@_attrs_define
class AuditEventBody:
    """ One event of the tenant's chain.

        Attributes:
            seq (int): Position in the tenant's chain, from 1, without gaps (retention drops the oldest).
            at (datetime.datetime): When.
            actor (str): Who acted: `admin:<id>`, `client:<id>`, `key:<id>`, `operator`, `anonymous`, `system`.
            action (str): What happened, e.g. `api_key.created`.
            outcome (AuditOutcome): Whether the action succeeded.
            detail (Any): Structured context (never secrets).
            prev_hash (str): The previous event's `hash`: each event links to the one before it.
            hash_ (str): This event's MAC under the platform's audit key.
            target (str | Unset): What it happened to.
            ip (str | Unset): The caller's address.
            user_agent (str | Unset): The caller's user agent.
     """

    seq: int
    at: datetime.datetime
    actor: str
    action: str
    outcome: AuditOutcome
    detail: Any
    prev_hash: str
    hash_: str
    target: str | Unset = UNSET
    ip: str | Unset = UNSET
    user_agent: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        seq = self.seq

        at = self.at.isoformat()

        actor = self.actor

        action = self.action

        outcome = self.outcome.value

        detail = self.detail

        prev_hash = self.prev_hash

        hash_ = self.hash_

        target = self.target

        ip = self.ip

        user_agent = self.user_agent


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "seq": seq,
            "at": at,
            "actor": actor,
            "action": action,
            "outcome": outcome,
            "detail": detail,
            "prev_hash": prev_hash,
            "hash": hash_,
        })
        if target is not UNSET:
            field_dict["target"] = target
        if ip is not UNSET:
            field_dict["ip"] = ip
        if user_agent is not UNSET:
            field_dict["user_agent"] = user_agent

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        seq = d.pop("seq")

        at = datetime.datetime.fromisoformat(d.pop("at"))




        actor = d.pop("actor")

        action = d.pop("action")

        outcome = AuditOutcome(d.pop("outcome"))




        detail = d.pop("detail")

        prev_hash = d.pop("prev_hash")

        hash_ = d.pop("hash")

        target = d.pop("target", UNSET)

        ip = d.pop("ip", UNSET)

        user_agent = d.pop("user_agent", UNSET)

        audit_event_body = cls(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            outcome=outcome,
            detail=detail,
            prev_hash=prev_hash,
            hash_=hash_,
            target=target,
            ip=ip,
            user_agent=user_agent,
        )


        audit_event_body.additional_properties = d
        return audit_event_body

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
