from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.model_info import ModelInfo
  from ..models.model_set_info import ModelSetInfo





T = TypeVar("T", bound="Models")



@_attrs_define
class Models:
    """ What the OCR engine has loaded.

        Attributes:
            model (str): The default model set, as `/v1/ocr` reports it.
            ready (bool): Whether the models are loaded and warmed up.
            models (list[ModelInfo]): The default set's models.
            sets (list[ModelSetInfo]): Every model set served, the default first.
            device (str | Unset): The device they run on (once ready).
     """

    model: str
    ready: bool
    models: list[ModelInfo]
    sets: list[ModelSetInfo]
    device: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.model_info import ModelInfo # noqa: PLC0415
        from ..models.model_set_info import ModelSetInfo # noqa: PLC0415
        model = self.model

        ready = self.ready

        models = []
        for models_item_data in self.models:
            models_item = models_item_data.to_dict()
            models.append(models_item)



        sets = []
        for sets_item_data in self.sets:
            sets_item = sets_item_data.to_dict()
            sets.append(sets_item)



        device = self.device


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "model": model,
            "ready": ready,
            "models": models,
            "sets": sets,
        })
        if device is not UNSET:
            field_dict["device"] = device

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.model_info import ModelInfo # noqa: PLC0415
        from ..models.model_set_info import ModelSetInfo # noqa: PLC0415
        d = dict(src_dict)
        model = d.pop("model")

        ready = d.pop("ready")

        models = []
        _models = d.pop("models")
        for models_item_data in (_models):
            models_item = ModelInfo.from_dict(models_item_data)



            models.append(models_item)


        sets = []
        _sets = d.pop("sets")
        for sets_item_data in (_sets):
            sets_item = ModelSetInfo.from_dict(sets_item_data)



            sets.append(sets_item)


        device = d.pop("device", UNSET)

        models = cls(
            model=model,
            ready=ready,
            models=models,
            sets=sets,
            device=device,
        )


        models.additional_properties = d
        return models

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
