from enum import StrEnum

class OcrMode(StrEnum):
    AUTO = "auto"
    LINE = "line"
    PAGE = "page"

    def __str__(self) -> str:
        return str(self.value)
