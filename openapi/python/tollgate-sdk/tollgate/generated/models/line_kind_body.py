from enum import StrEnum

class LineKindBody(StrEnum):
    BASE_FEE = "base_fee"
    CREDIT = "credit"
    INCLUDED = "included"
    OVERAGE = "overage"

    def __str__(self) -> str:
        return str(self.value)
