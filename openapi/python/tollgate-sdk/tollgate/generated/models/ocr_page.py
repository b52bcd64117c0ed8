from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.read_as import ReadAs
from typing import cast

if TYPE_CHECKING:
  from ..models.ocr_line import OcrLine





T = TypeVar("T", bound="OcrPage")



@_attrs_define
class OcrPage:
    """ What one page of a PDF says.

        Attributes:
            page (int): Page number, from 1.
            lines (list[OcrLine]): Lines in reading order; boxes in the pixels of the page as rendered (`width` x
                `height`).
            text (str): The page's lines, joined by newlines.
            width (int): Width of the rendered page in pixels (rendered at up to 300 dpi, at most 3000 px on
                its longer side).
            height (int): Height of the rendered page in pixels.
            upside_down (bool): Whether the page was read turned by 180°.
            read_as (ReadAs): How an image was read.
     """

    page: int
    lines: list[OcrLine]
    text: str
    width: int
    height: int
    upside_down: bool
    read_as: ReadAs
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.ocr_line import OcrLine # noqa: PLC0415
        page = self.page

        lines = []
        for lines_item_data in self.lines:
            lines_item = lines_item_data.to_dict()
            lines.append(lines_item)



        text = self.text

        width = self.width

        height = self.height

        upside_down = self.upside_down

        read_as = self.read_as.value


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "page": page,
            "lines": lines,
            "text": text,
            "width": width,
            "height": height,
            "upside_down": upside_down,
            "read_as": read_as,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.ocr_line import OcrLine # noqa: PLC0415
        d = dict(src_dict)
        page = d.pop("page")

        lines = []
        _lines = d.pop("lines")
        for lines_item_data in (_lines):
            lines_item = OcrLine.from_dict(lines_item_data)



            lines.append(lines_item)


        text = d.pop("text")

        width = d.pop("width")

        height = d.pop("height")

        upside_down = d.pop("upside_down")

        read_as = ReadAs(d.pop("read_as"))




        ocr_page = cls(
            page=page,
            lines=lines,
            text=text,
            width=width,
            height=height,
            upside_down=upside_down,
            read_as=read_as,
        )


        ocr_page.additional_properties = d
        return ocr_page

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
