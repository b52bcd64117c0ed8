//! Every stable error `code` an answer can carry, with its HTTP status, in one table: the API
//! maps errors to HTTP through it and nowhere else, and SDKs and the portal can rely on the
//! set (meilisearch's `make_error_codes!` is the model). OAuth endpoints answer RFC 6749
//! `error` values instead, which are the RFC's, not ours.

macro_rules! error_codes {
    ($($name:ident = $code:literal, $status:literal, $doc:literal;)*) => {
        /// A stable, machine-readable error code (snake_case on the wire).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $(#[doc = $doc] $name,)*
        }

        impl Code {
            /// Every code, in the table's order.
            pub const ALL: &'static [Code] = &[$(Code::$name),*];

            /// The wire name, e.g. `rate_limited`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$name => $code,)* }
            }

            /// The HTTP status answered with this code.
            pub fn status(self) -> u16 {
                match self { $(Code::$name => $status,)* }
            }

            /// What it means, for documentation.
            pub fn description(self) -> &'static str {
                match self { $(Code::$name => $doc,)* }
            }
        }
    };
}

error_codes! {
    BadRequest = "bad_request", 400, "The request could not be parsed.";
    Unauthenticated = "unauthenticated", 401, "No credentials, or they are not valid.";
    InvalidToken = "invalid_token", 401, "The access token or API key is invalid, expired or revoked.";
    SessionRequired = "session_required", 401, "A portal session is required: sign in first.";
    SessionExpired = "session_expired", 401, "The portal session ended (inactivity or its lifetime): sign in again.";
    Forbidden = "forbidden", 403, "Authenticated, but the role does not allow this.";
    InsufficientScope = "insufficient_scope", 403, "The credential lacks the scope this needs.";
    PasswordChangeRequired = "password_change_required", 403, "Signed in with a one-time password: choose a new one (POST /v1/session/password) first.";
    WrongPassword = "wrong_password", 403, "The current password given is not the account's.";
    OidcDenied = "oidc_denied", 403, "The identity provider did not sign the person in (they cancelled, or it refused).";
    OidcEmailUnverified = "oidc_email_unverified", 403, "The identity provider gave no verified email for the person.";
    OidcEmailDomain = "oidc_email_domain", 403, "The email the identity provider gave is outside the domain allowed for this tenant.";
    OidcSubjectMismatch = "oidc_subject_mismatch", 403, "This member signed in as another person of the identity provider before.";
    CsrfFailed = "csrf_failed", 403, "A state-changing portal request without its session's X-CSRF-Token.";
    AccountSuspended = "account_suspended", 402, "The tenant is suspended for an unpaid invoice; the portal still works.";
    SpendCapReached = "spend_cap_reached", 402, "The call would take the period's spend past the tenant's spend cap.";
    NotFound = "not_found", 404, "No such thing (another tenant's is not found either).";
    OidcNotConfigured = "oidc_not_configured", 404, "No identity provider signs in people of this email's domain.";
    NoPrice = "no_price", 404, "The tenant's plan has no price: nothing is billed.";
    MethodNotAllowed = "method_not_allowed", 405, "The route does not take this method.";
    RequestTimeout = "request_timeout", 408, "The request body did not arrive in time.";
    AlreadyExists = "already_exists", 409, "A record with these values already exists.";
    AuditRace = "audit_race", 409, "Another append moved the audit chain's head first (retried internally).";
    EmailTaken = "email_taken", 409, "An admin with this email already exists.";
    ClientExists = "client_exists", 409, "A client with this id already exists.";
    KeyExists = "key_exists", 409, "A key with this value already exists.";
    PlanExists = "plan_exists", 409, "A plan with this name already exists.";
    PasswordChanged = "password_changed", 409, "The password was changed by another request meanwhile: sign in again.";
    OidcDomainTaken = "oidc_domain_taken", 409, "Another tenant's identity provider signs in this email domain.";
    OidcEmailInUse = "oidc_email_in_use", 409, "The email belongs to a member of another tenant.";
    OidcDomainInUse = "oidc_domain_in_use", 409, "Members of other tenants have emails at this domain: it cannot be given to one tenant's identity provider.";
    EmailDomainClaimed = "email_domain_claimed", 409, "Another tenant's identity provider signs in this email's domain: its people are that tenant's.";
    KeyRevoked = "key_revoked", 409, "A revoked key cannot be rotated.";
    KeyExpired = "key_expired", 409, "An expired key cannot be rotated.";
    EndpointLimit = "endpoint_limit", 409, "The tenant has as many webhook endpoints as allowed.";
    KeyWithoutScopes = "key_without_scopes", 409, "The key holds no scope it may keep.";
    PeriodOpen = "period_open", 409, "The period (and its grace for late usage) has not ended: it cannot be finalized yet.";
    PeriodOrder = "period_order", 409, "A later period of this tenant is already finalized.";
    LastOwner = "last_owner", 409, "A tenant must keep at least one owner.";
    IdempotencyInProgress = "idempotency_in_progress", 409, "A request with this Idempotency-Key is running; retry for its answer.";
    PayloadTooLarge = "payload_too_large", 413, "The body is over a size limit.";
    UnsupportedMediaType = "unsupported_media_type", 415, "The body's media type is not accepted here.";
    InvalidBody = "invalid_body", 422, "The body is well-formed but does not match the schema.";
    InvalidName = "invalid_name", 422, "A name must be 1 to 200 printable characters.";
    InvalidEmail = "invalid_email", 422, "Not a valid email address.";
    WeakPassword = "weak_password", 422, "The password is too weak.";
    InvalidRole = "invalid_role", 422, "Not a role: owner, admin or viewer.";
    InvalidScope = "invalid_scope", 422, "Not exactly known scope names, or not grantable here.";
    InvalidExpiry = "invalid_expiry", 422, "An expiry must be in the future.";
    InvalidGrace = "invalid_grace", 422, "A key rotation's grace is out of range.";
    InvalidOverlap = "invalid_overlap", 422, "A secret rotation's overlap is out of range.";
    InvalidPlan = "invalid_plan", 422, "A plan's settings are out of range.";
    InvalidLimit = "invalid_limit", 422, "A limit override's settings are out of range.";
    InvalidRange = "invalid_range", 422, "A report's time range is empty or too long.";
    InvalidCursor = "invalid_cursor", 422, "A page cursor is not one this endpoint returned.";
    InvalidPageSize = "invalid_page_size", 422, "A page's `limit` is out of range.";
    InvalidEventType = "invalid_event_type", 422, "Not exactly known webhook event type names, or one listed twice.";
    InvalidWebhookUrl = "invalid_webhook_url", 422, "A webhook URL must be https (http only where the operator allows private endpoints), without credentials, and resolve to public addresses.";
    InvalidTimeout = "invalid_timeout", 422, "A webhook endpoint's timeout is out of range.";
    InvalidFilter = "invalid_filter", 422, "A filter value is empty, too long or holds control characters.";
    OidcStateInvalid = "oidc_state_invalid", 400, "The sign-in's state is missing, not this browser's, used already or expired: start again.";
    OidcIssuerMismatch = "oidc_issuer_mismatch", 400, "The callback names another issuer than the tenant's identity provider.";
    OidcNonceMismatch = "oidc_nonce_mismatch", 400, "The ID token's nonce is not the one this sign-in sent.";
    OidcCodeRefused = "oidc_code_refused", 400, "The identity provider refused the code exchange (a used, expired or stolen code).";
    OidcTokenInvalid = "oidc_token_invalid", 400, "The ID token did not verify (signature, issuer, audience or expiry).";
    InvalidOidcConfig = "invalid_oidc_config", 422, "An identity provider needs an https issuer (http only on a loopback host), a client id and secret, an email domain and the role viewer or admin.";
    OidcDiscoveryFailed = "oidc_discovery_failed", 422, "The issuer's OpenID configuration could not be fetched or read.";
    OidcEndpointRefused = "oidc_endpoint_refused", 422, "The provider's discovery document names an endpoint that is not https on a public host.";
    WebhookRefused = "webhook_refused", 400, "A webhook delivery is unsigned, its signature does not match, or its timestamp is outside the tolerance.";
    InvalidMoney = "invalid_money", 422, "An amount is not a whole number of minor units in range, or its currency is not the plan's.";
    InvalidTenant = "invalid_tenant", 422, "Not a tenant id.";
    PlatformTenant = "platform_tenant", 422, "The platform tenant has no portal members.";
    BadMasterKey = "bad_master_key", 422, "The master key is not 32 bytes of base64.";
    InvalidIdempotencyKey = "invalid_idempotency_key", 422, "An Idempotency-Key is 1 to 255 visible ASCII characters, sent once.";
    IdempotencyKeyReused = "idempotency_key_reused", 422, "This Idempotency-Key was used for a different request.";
    CorruptImage = "corrupt_image", 422, "The image could not be decoded.";
    EmptyImage = "empty_image", 422, "The image is empty or has no pixels.";
    UnsupportedImage = "unsupported_image", 422, "Not PNG, JPEG, WebP, TIFF or BMP.";
    ImageTooLarge = "image_too_large", 422, "The image has more pixels than allowed.";
    PdfInvalid = "pdf_invalid", 422, "The PDF could not be read or has no pages (truncated or corrupt).";
    PdfEncrypted = "pdf_encrypted", 422, "The PDF is encrypted with a password.";
    PdfTooManyPages = "pdf_too_many_pages", 422, "The PDF has more pages than the plan reads in one request.";
    PdfPageTooLarge = "pdf_page_too_large", 422, "A page of the PDF is larger than 200 inches a side.";
    PdfJavascript = "pdf_javascript", 422, "The PDF contains JavaScript.";
    PdfTooSlow = "pdf_too_slow", 422, "Checking the PDF or rendering one of its pages took longer than its budget.";
    PdfRenderFailed = "pdf_render_failed", 422, "A page of the PDF could not be rendered.";
    ModelNotLoaded = "model_not_loaded", 422, "The model set asked for is not served by this server (GET /v1/models lists those that are).";
    RateLimited = "rate_limited", 429, "Over a rate limit; retry after Retry-After.";
    ConcurrencyLimited = "concurrency_limited", 429, "All of the plan's concurrent requests are in flight.";
    QuotaExhausted = "quota_exhausted", 429, "The plan's units for this period are used up.";
    TooManyAttempts = "too_many_attempts", 429, "Too many failed attempts from here; retry later.";
    Internal = "internal", 500, "An unexpected failure (logged; nothing about it is shown).";
    OidcProviderUnavailable = "oidc_provider_unavailable", 503, "The identity provider could not be reached, or answered what is not OpenID Connect.";
    Unavailable = "unavailable", 503, "A dependency is unavailable; retry shortly.";
    MeteringUnavailable = "metering_unavailable", 503, "Usage cannot be metered right now; retry shortly.";
    UsageUnavailable = "usage_unavailable", 503, "Usage could not be recorded, so nothing was charged; retry.";
    AuditUnavailable = "audit_unavailable", 503, "The audit log cannot record this action now; nothing was changed.";
    OcrBusy = "ocr_busy", 503, "The OCR engine or its upload budget is saturated; retry.";
    OcrTimeout = "ocr_timeout", 503, "The OCR request missed its deadline; retry.";
    OcrNotReady = "ocr_not_ready", 503, "The OCR models are still loading.";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn codes_are_unique_snake_case_with_error_statuses() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{s}");
            assert!((400..600).contains(&code.status()), "{s}");
            assert!(!code.description().is_empty());
        }
    }
}
