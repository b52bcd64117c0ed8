from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.spend_problem import SpendProblem





T = TypeVar("T", bound="Problem")



@_attrs_define
class Problem:
    """ An RFC 9457 problem document.

        Attributes:
            type_ (str): A URI reference identifying the problem type.
            title (str): Short summary of the problem type.
            status (int): HTTP status.
            detail (str): Explanation specific to this occurrence; never internal details.
            code (str): Stable machine-readable code, snake_case.
            request_id (str | Unset): The request id, also in `X-Request-Id`.
            spend (SpendProblem | Unset): Where the tenant stands against its spend cap, in minor units of `currency`.
     """

    type_: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str | Unset = UNSET
    spend: SpendProblem | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.spend_problem import SpendProblem # noqa: PLC0415
        type_ = self.type_

        title = self.title

        status = self.status

        detail = self.detail

        code = self.code

        request_id = self.request_id

        spend: dict[str, Any] | Unset = UNSET
        if not isinstance(self.spend, Unset):
            spend = self.spend.to_dict()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "type": type_,
            "title": title,
            "status": status,
            "detail": detail,
            "code": code,
        })
        if request_id is not UNSET:
            field_dict["request_id"] = request_id
        if spend is not UNSET:
            field_dict["spend"] = spend

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.spend_problem import SpendProblem # noqa: PLC0415
        d = dict(src_dict)
        type_ = d.pop("type")

        title = d.pop("title")

        status = d.pop("status")

        detail = d.pop("detail")

        code = d.pop("code")

        request_id = d.pop("request_id", UNSET)

        _spend = d.pop("spend", UNSET)
        spend: SpendProblem | Unset
        if isinstance(_spend,  Unset):
            spend = UNSET
        else:
            spend = SpendProblem.from_dict(_spend)




        problem = cls(
            type_=type_,
            title=title,
            status=status,
            detail=detail,
            code=code,
            request_id=request_id,
            spend=spend,
        )


        problem.additional_properties = d
        return problem

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
