from enum import StrEnum

class ReadAs(StrEnum):
    LINE = "line"
    PAGE = "page"
    TEXT_LAYER = "text_layer"

    def __str__(self) -> str:
        return str(self.value)
