from enum import StrEnum

class WebhookEventType(StrEnum):
    ACCOUNT_SUSPENDED = "account.suspended"
    API_KEY_EXPIRING = "api_key.expiring"
    API_KEY_REVOKED = "api_key.revoked"
    CLIENT_SECRET_ROTATED = "client.secret_rotated"
    CREDIT_LOW = "credit.low"
    INVOICE_FINALIZED = "invoice.finalized"
    INVOICE_PAID = "invoice.paid"
    INVOICE_PAYMENT_FAILED = "invoice.payment_failed"
    SPEND_THRESHOLD_CROSSED = "spend.threshold_crossed"
    USAGE_THRESHOLD_CROSSED = "usage.threshold_crossed"

    def __str__(self) -> str:
        return str(self.value)
