from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.model_info import ModelInfo





T = TypeVar("T", bound="ModelSetInfo")



@_attrs_define
class ModelSetInfo:
    """ A model set `/v1/ocr` can read with.

        Attributes:
            id (str): Its name, as `model=` takes it and `/v1/ocr` reports it.
            default (bool): Whether a request that names no model is read with it.
            characters (int): Characters its recogniser knows.
            models (list[ModelInfo]): Its models: detection, classification, recognition.
     """

    id: str
    default: bool
    characters: int
    models: list[ModelInfo]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.model_info import ModelInfo # noqa: PLC0415
        id = self.id

        default = self.default

        characters = self.characters

        models = []
        for models_item_data in self.models:
            models_item = models_item_data.to_dict()
            models.append(models_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "default": default,
            "characters": characters,
            "models": models,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.model_info import ModelInfo # noqa: PLC0415
        d = dict(src_dict)
        id = d.pop("id")

        default = d.pop("default")

        characters = d.pop("characters")

        models = []
        _models = d.pop("models")
        for models_item_data in (_models):
            models_item = ModelInfo.from_dict(models_item_data)



            models.append(models_item)


        model_set_info = cls(
            id=id,
            default=default,
            characters=characters,
            models=models,
        )


        model_set_info.additional_properties = d
        return model_set_info

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
