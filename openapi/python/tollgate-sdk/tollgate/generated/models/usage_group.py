from enum import StrEnum

class UsageGroup(StrEnum):
    CLIENT = "client"
    KEY = "key"
    OPERATION = "operation"

    def __str__(self) -> str:
        return str(self.value)
