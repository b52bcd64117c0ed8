from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.read_as import ReadAs
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.ocr_line import OcrLine
  from ..models.ocr_page import OcrPage
  from ..models.ocr_timing import OcrTiming
  from ..models.ocr_usage import OcrUsage





T = TypeVar("T", bound="OcrResult")



@_attrs_define
class OcrResult:
    """ What the image or PDF says.

        Attributes:
            lines (list[OcrLine]): Lines in reading order (for a PDF: empty, see `pages`).
            text (str): All lines, joined by newlines; for a PDF, each page's text, joined by a line holding
                a form feed (`\\n\\f\\n`).
            width (int): Image width in pixels (after EXIF orientation; for a PDF, its first page's).
            height (int): Image height in pixels (after EXIF orientation; for a PDF, its first page's).
            upside_down (bool): Whether the page was read turned by 180° (most lines were upside down; for a PDF,
                its first page).
            read_as (ReadAs): How an image was read.
            model (str): The model set that read it.
            timing (OcrTiming): Where the time went, in milliseconds.
            usage (OcrUsage): What the call was charged.
            pages (list[OcrPage] | Unset): A PDF's pages, in order (absent for an image).
     """

    lines: list[OcrLine]
    text: str
    width: int
    height: int
    upside_down: bool
    read_as: ReadAs
    model: str
    timing: OcrTiming
    usage: OcrUsage
    pages: list[OcrPage] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.ocr_line import OcrLine # noqa: PLC0415
        from ..models.ocr_page import OcrPage # noqa: PLC0415
        from ..models.ocr_timing import OcrTiming # noqa: PLC0415
        from ..models.ocr_usage import OcrUsage # noqa: PLC0415
        lines = []
        for lines_item_data in self.lines:
            lines_item = lines_item_data.to_dict()
            lines.append(lines_item)



        text = self.text

        width = self.width

        height = self.height

        upside_down = self.upside_down

        read_as = self.read_as.value

        model = self.model

        timing = self.timing.to_dict()

        usage = self.usage.to_dict()

        pages: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.pages, Unset):
            pages = []
            for pages_item_data in self.pages:
                pages_item = pages_item_data.to_dict()
                pages.append(pages_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "lines": lines,
            "text": text,
            "width": width,
            "height": height,
            "upside_down": upside_down,
            "read_as": read_as,
            "model": model,
            "timing": timing,
            "usage": usage,
        })
        if pages is not UNSET:
            field_dict["pages"] = pages

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.ocr_line import OcrLine # noqa: PLC0415
        from ..models.ocr_page import OcrPage # noqa: PLC0415
        from ..models.ocr_timing import OcrTiming # noqa: PLC0415
        from ..models.ocr_usage import OcrUsage # noqa: PLC0415
        d = dict(src_dict)
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




        model = d.pop("model")

        timing = OcrTiming.from_dict(d.pop("timing"))




        usage = OcrUsage.from_dict(d.pop("usage"))




        _pages = d.pop("pages", UNSET)
        pages: list[OcrPage] | Unset = UNSET
        if _pages is not UNSET:
            pages = []
            for pages_item_data in _pages:
                pages_item = OcrPage.from_dict(pages_item_data)



                pages.append(pages_item)


        ocr_result = cls(
            lines=lines,
            text=text,
            width=width,
            height=height,
            upside_down=upside_down,
            read_as=read_as,
            model=model,
            timing=timing,
            usage=usage,
            pages=pages,
        )


        ocr_result.additional_properties = d
        return ocr_result

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
