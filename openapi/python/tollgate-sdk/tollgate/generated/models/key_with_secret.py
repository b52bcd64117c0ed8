from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.key_environment import KeyEnvironment
from ..types import UNSET, Unset
from typing import cast
import datetime






T = TypeVar("T", bound="KeyWithSecret")



@_attrs_define
class KeyWithSecret:
    """ A key with its secret value, shown once.

        Attributes:
            key_id (str): Id.
            name (str): Display name.
            prefix (str): First characters of the key, to tell keys apart.
            environment (KeyEnvironment): Which keys a key is: `live` keys (`tg_live_…`) or `test` keys (`tg_test_…`), told
                apart
                by their prefix so a leaked key's kind is obvious.
            scopes (list[str]): Granted scopes.
            created_at (datetime.datetime): Created.
            key (str): The key; store it now, it is never shown again.
            last_used_at (datetime.datetime | Unset): Last use (minute resolution); absent before the first use.
            expires_at (datetime.datetime | Unset): Expiry; absent for a key that does not expire.
            revoked_at (datetime.datetime | Unset): Revocation time; absent unless revoked.
     """

    key_id: str
    name: str
    prefix: str
    environment: KeyEnvironment
    scopes: list[str]
    created_at: datetime.datetime
    key: str
    last_used_at: datetime.datetime | Unset = UNSET
    expires_at: datetime.datetime | Unset = UNSET
    revoked_at: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        key_id = self.key_id

        name = self.name

        prefix = self.prefix

        environment = self.environment.value

        scopes = self.scopes



        created_at = self.created_at.isoformat()

        key = self.key

        last_used_at: str | Unset = UNSET
        if not isinstance(self.last_used_at, Unset):
            last_used_at = self.last_used_at.isoformat()

        expires_at: str | Unset = UNSET
        if not isinstance(self.expires_at, Unset):
            expires_at = self.expires_at.isoformat()

        revoked_at: str | Unset = UNSET
        if not isinstance(self.revoked_at, Unset):
            revoked_at = self.revoked_at.isoformat()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "key_id": key_id,
            "name": name,
            "prefix": prefix,
            "environment": environment,
            "scopes": scopes,
            "created_at": created_at,
            "key": key,
        })
        if last_used_at is not UNSET:
            field_dict["last_used_at"] = last_used_at
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if revoked_at is not UNSET:
            field_dict["revoked_at"] = revoked_at

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        key_id = d.pop("key_id")

        name = d.pop("name")

        prefix = d.pop("prefix")

        environment = KeyEnvironment(d.pop("environment"))




        scopes = cast(list[str], d.pop("scopes"))


        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        key = d.pop("key")

        _last_used_at = d.pop("last_used_at", UNSET)
        last_used_at: datetime.datetime | Unset
        if isinstance(_last_used_at,  Unset):
            last_used_at = UNSET
        else:
            last_used_at = datetime.datetime.fromisoformat(_last_used_at)




        _expires_at = d.pop("expires_at", UNSET)
        expires_at: datetime.datetime | Unset
        if isinstance(_expires_at,  Unset):
            expires_at = UNSET
        else:
            expires_at = datetime.datetime.fromisoformat(_expires_at)




        _revoked_at = d.pop("revoked_at", UNSET)
        revoked_at: datetime.datetime | Unset
        if isinstance(_revoked_at,  Unset):
            revoked_at = UNSET
        else:
            revoked_at = datetime.datetime.fromisoformat(_revoked_at)




        key_with_secret = cls(
            key_id=key_id,
            name=name,
            prefix=prefix,
            environment=environment,
            scopes=scopes,
            created_at=created_at,
            key=key,
            last_used_at=last_used_at,
            expires_at=expires_at,
            revoked_at=revoked_at,
        )


        key_with_secret.additional_properties = d
        return key_with_secret

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
