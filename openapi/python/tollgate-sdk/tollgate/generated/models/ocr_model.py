from enum import StrEnum

class OcrModel(StrEnum):
    PP_OCRV4 = "pp-ocrv4"
    PP_OCRV5 = "pp-ocrv5"
    PP_OCRV6 = "pp-ocrv6"

    def __str__(self) -> str:
        return str(self.value)
