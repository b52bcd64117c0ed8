from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="OcrTiming")



@_attrs_define
class OcrTiming:
    """ Where the time went, in milliseconds.

        Attributes:
            decode_ms (float): Decoding the image.
            queue_ms (float): Waiting for the model.
            inference_ms (float): Running the models on the batch this image was part of.
            total_ms (float): The whole request, as the server saw it.
     """

    decode_ms: float
    queue_ms: float
    inference_ms: float
    total_ms: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        decode_ms = self.decode_ms

        queue_ms = self.queue_ms

        inference_ms = self.inference_ms

        total_ms = self.total_ms


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "decode_ms": decode_ms,
            "queue_ms": queue_ms,
            "inference_ms": inference_ms,
            "total_ms": total_ms,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        decode_ms = d.pop("decode_ms")

        queue_ms = d.pop("queue_ms")

        inference_ms = d.pop("inference_ms")

        total_ms = d.pop("total_ms")

        ocr_timing = cls(
            decode_ms=decode_ms,
            queue_ms=queue_ms,
            inference_ms=inference_ms,
            total_ms=total_ms,
        )


        ocr_timing.additional_properties = d
        return ocr_timing

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
