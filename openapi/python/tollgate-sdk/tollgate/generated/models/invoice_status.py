from enum import StrEnum

class InvoiceStatus(StrEnum):
    DRAFT = "draft"

    def __str__(self) -> str:
        return str(self.value)
