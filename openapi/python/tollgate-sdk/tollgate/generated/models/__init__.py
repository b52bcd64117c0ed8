""" Contains all the data models used in inputs/outputs """

from .alert_body import AlertBody
from .alert_list import AlertList
from .audit_event_body import AuditEventBody
from .audit_format import AuditFormat
from .audit_outcome import AuditOutcome
from .audit_page import AuditPage
from .billing_settings_body import BillingSettingsBody
from .client import Client
from .client_patch import ClientPatch
from .client_with_secret import ClientWithSecret
from .created_member_body import CreatedMemberBody
from .credits_body import CreditsBody
from .delivery_page import DeliveryPage
from .delivery_status import DeliveryStatus
from .download_format import DownloadFormat
from .endpoint_status import EndpointStatus
from .final_status import FinalStatus
from .finalize_failure import FinalizeFailure
from .finalize_report import FinalizeReport
from .finalize_request import FinalizeRequest
from .grant_body import GrantBody
from .granularity import Granularity
from .introspection_body import IntrospectionBody
from .invoice_body import InvoiceBody
from .invoice_line_body import InvoiceLineBody
from .invoice_list import InvoiceList
from .invoice_status import InvoiceStatus
from .invoice_summary import InvoiceSummary
from .key import Key
from .key_environment import KeyEnvironment
from .key_with_secret import KeyWithSecret
from .late_usage import LateUsage
from .ledger_entry import LedgerEntry
from .line_kind_body import LineKindBody
from .login_request import LoginRequest
from .me import Me
from .member import Member
from .member_patch import MemberPatch
from .model_info import ModelInfo
from .model_set_info import ModelSetInfo
from .models import Models
from .money import Money
from .new_client import NewClient
from .new_credit_grant import NewCreditGrant
from .new_key import NewKey
from .new_member import NewMember
from .new_webhook_endpoint import NewWebhookEndpoint
from .o_auth_error_body import OAuthErrorBody
from .ocr_files_body import OcrFilesBody
from .ocr_line import OcrLine
from .ocr_mode import OcrMode
from .ocr_model import OcrModel
from .ocr_page import OcrPage
from .ocr_result import OcrResult
from .ocr_timing import OcrTiming
from .ocr_usage import OcrUsage
from .oidc_config import OidcConfig
from .oidc_config_body import OidcConfigBody
from .oidc_start import OidcStart
from .oidc_started import OidcStarted
from .outcome import Outcome
from .page_order import PageOrder
from .password_change import PasswordChange
from .payment_record import PaymentRecord
from .plan_body import PlanBody
from .plan_standing import PlanStanding
from .price_body import PriceBody
from .price_model import PriceModel
from .price_set_body import PriceSetBody
from .problem import Problem
from .read_as import ReadAs
from .readiness import Readiness
from .replay_queued import ReplayQueued
from .role_name import RoleName
from .rotate_key import RotateKey
from .rotate_secret import RotateSecret
from .rotate_webhook_secret import RotateWebhookSecret
from .server_metadata import ServerMetadata
from .session_info import SessionInfo
from .spend_problem import SpendProblem
from .tenant_plan import TenantPlan
from .tier_body import TierBody
from .token_body import TokenBody
from .token_param import TokenParam
from .token_request import TokenRequest
from .unit_price_body import UnitPriceBody
from .upcoming_invoice import UpcomingInvoice
from .usage_group import UsageGroup
from .usage_report import UsageReport
from .usage_row import UsageRow
from .usage_snapshot import UsageSnapshot
from .webhook_answer import WebhookAnswer
from .webhook_attempt import WebhookAttempt
from .webhook_delivery import WebhookDelivery
from .webhook_endpoint import WebhookEndpoint
from .webhook_endpoint_update import WebhookEndpointUpdate
from .webhook_endpoint_with_secret import WebhookEndpointWithSecret
from .webhook_event_type import WebhookEventType

__all__ = (
    "AlertBody",
    "AlertList",
    "AuditEventBody",
    "AuditFormat",
    "AuditOutcome",
    "AuditPage",
    "BillingSettingsBody",
    "Client",
    "ClientPatch",
    "ClientWithSecret",
    "CreatedMemberBody",
    "CreditsBody",
    "DeliveryPage",
    "DeliveryStatus",
    "DownloadFormat",
    "EndpointStatus",
    "FinalizeFailure",
    "FinalizeReport",
    "FinalizeRequest",
    "FinalStatus",
    "GrantBody",
    "Granularity",
    "IntrospectionBody",
    "InvoiceBody",
    "InvoiceLineBody",
    "InvoiceList",
    "InvoiceStatus",
    "InvoiceSummary",
    "Key",
    "KeyEnvironment",
    "KeyWithSecret",
    "LateUsage",
    "LedgerEntry",
    "LineKindBody",
    "LoginRequest",
    "Me",
    "Member",
    "MemberPatch",
    "ModelInfo",
    "Models",
    "ModelSetInfo",
    "Money",
    "NewClient",
    "NewCreditGrant",
    "NewKey",
    "NewMember",
    "NewWebhookEndpoint",
    "OAuthErrorBody",
    "OcrFilesBody",
    "OcrLine",
    "OcrMode",
    "OcrModel",
    "OcrPage",
    "OcrResult",
    "OcrTiming",
    "OcrUsage",
    "OidcConfig",
    "OidcConfigBody",
    "OidcStart",
    "OidcStarted",
    "Outcome",
    "PageOrder",
    "PasswordChange",
    "PaymentRecord",
    "PlanBody",
    "PlanStanding",
    "PriceBody",
    "PriceModel",
    "PriceSetBody",
    "Problem",
    "ReadAs",
    "Readiness",
    "ReplayQueued",
    "RoleName",
    "RotateKey",
    "RotateSecret",
    "RotateWebhookSecret",
    "ServerMetadata",
    "SessionInfo",
    "SpendProblem",
    "TenantPlan",
    "TierBody",
    "TokenBody",
    "TokenParam",
    "TokenRequest",
    "UnitPriceBody",
    "UpcomingInvoice",
    "UsageGroup",
    "UsageReport",
    "UsageRow",
    "UsageSnapshot",
    "WebhookAnswer",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEndpointUpdate",
    "WebhookEndpointWithSecret",
    "WebhookEventType",
)
