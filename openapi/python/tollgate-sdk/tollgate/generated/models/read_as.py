from enum import StrEnum

class ReadAs(StrEnum):
    LINE = "line"
    PAGE = "page"

    def __str__(self) -> str:
        return str(self.value)
