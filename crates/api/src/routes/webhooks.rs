//! The tenant's webhook endpoints and their delivery log, for the portal: owners and admins
//! change them (with the session's CSRF token), every member reads them.

use super::members::{parse_uuid, Deleted};
use super::{ctx, Tag};
use crate::problem::ApiResult;
use crate::security::SessionCookie;
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use poem::web::Data;
use poem::Request;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use std::sync::Arc;
use tollgate_core::webhook::EventType;
use tollgate_core::{DomainError, Role};
use tollgate_store::webhooks::{delivery_status, endpoint_status};
use tollgate_webhooks::service::{DeliveryView, EndpointUpdate, EndpointView, NewEndpoint};

/// An event a webhook endpoint can receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum WebhookEventType {
    /// The period's units crossed 50, 80 or 100 % of the plan's included units.
    #[oai(rename = "usage.threshold_crossed")]
    UsageThresholdCrossed,
    /// The period's spend crossed 50, 80 or 100 % of the spend cap.
    #[oai(rename = "spend.threshold_crossed")]
    SpendThresholdCrossed,
    /// The prepaid credit left fell below the alert amount.
    #[oai(rename = "credit.low")]
    CreditLow,
    /// An invoice was finalized.
    #[oai(rename = "invoice.finalized")]
    InvoiceFinalized,
    /// An invoice was paid.
    #[oai(rename = "invoice.paid")]
    InvoicePaid,
    /// A payment of an invoice failed.
    #[oai(rename = "invoice.payment_failed")]
    InvoicePaymentFailed,
    /// The metered API was suspended for an unpaid invoice.
    #[oai(rename = "account.suspended")]
    AccountSuspended,
    /// An API key expires within 7 days.
    #[oai(rename = "api_key.expiring")]
    ApiKeyExpiring,
    /// An API key was revoked.
    #[oai(rename = "api_key.revoked")]
    ApiKeyRevoked,
    /// An OAuth2 client's secret was rotated.
    #[oai(rename = "client.secret_rotated")]
    ClientSecretRotated,
}

impl WebhookEventType {
    fn domain(self) -> EventType {
        match self {
            Self::UsageThresholdCrossed => EventType::UsageThresholdCrossed,
            Self::SpendThresholdCrossed => EventType::SpendThresholdCrossed,
            Self::CreditLow => EventType::CreditLow,
            Self::InvoiceFinalized => EventType::InvoiceFinalized,
            Self::InvoicePaid => EventType::InvoicePaid,
            Self::InvoicePaymentFailed => EventType::InvoicePaymentFailed,
            Self::AccountSuspended => EventType::AccountSuspended,
            Self::ApiKeyExpiring => EventType::ApiKeyExpiring,
            Self::ApiKeyRevoked => EventType::ApiKeyRevoked,
            Self::ClientSecretRotated => EventType::ClientSecretRotated,
        }
    }

    fn of(t: EventType) -> Self {
        match t {
            EventType::UsageThresholdCrossed => Self::UsageThresholdCrossed,
            EventType::SpendThresholdCrossed => Self::SpendThresholdCrossed,
            EventType::CreditLow => Self::CreditLow,
            EventType::InvoiceFinalized => Self::InvoiceFinalized,
            EventType::InvoicePaid => Self::InvoicePaid,
            EventType::InvoicePaymentFailed => Self::InvoicePaymentFailed,
            EventType::AccountSuspended => Self::AccountSuspended,
            EventType::ApiKeyExpiring => Self::ApiKeyExpiring,
            EventType::ApiKeyRevoked => Self::ApiKeyRevoked,
            EventType::ClientSecretRotated => Self::ClientSecretRotated,
        }
    }
}

fn wire(types: &[WebhookEventType]) -> Vec<String> {
    types
        .iter()
        .map(|t| t.domain().as_str().to_owned())
        .collect()
}

/// An endpoint's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum EndpointStatus {
    /// Receiving events.
    Active,
    /// Paused: deliveries wait, none is lost, until it is resumed.
    Paused,
    /// Receiving events, but its last attempts failed.
    Failing,
}

/// A webhook endpoint (never its secret).
#[derive(Debug, Object)]
pub struct WebhookEndpoint {
    /// Id.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// What it is for.
    #[oai(skip_serializing_if_is_none)]
    pub description: Option<String>,
    /// The events it receives.
    pub event_types: Vec<WebhookEventType>,
    /// Its state.
    pub status: EndpointStatus,
    /// How long one attempt may take, seconds.
    pub timeout_seconds: u32,
    /// Until when deliveries are also signed with the previous secret (after a rotation).
    #[oai(skip_serializing_if_is_none)]
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<EndpointView> for WebhookEndpoint {
    fn from(v: EndpointView) -> Self {
        let status = match v.row.status.as_str() {
            endpoint_status::PAUSED => EndpointStatus::Paused,
            endpoint_status::FAILING => EndpointStatus::Failing,
            _ => EndpointStatus::Active,
        };
        Self {
            id: v.row.id.to_string(),
            url: v.row.url,
            description: v.row.description,
            event_types: v
                .event_types
                .into_iter()
                .map(WebhookEventType::of)
                .collect(),
            status,
            timeout_seconds: u32::try_from(v.row.timeout_secs).unwrap_or(0),
            previous_secret_until: v.previous_secret_until,
            created_at: v.row.created_at,
            updated_at: v.row.updated_at,
        }
    }
}

/// An endpoint to register.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewWebhookEndpoint {
    /// `https://…` (plain http and private addresses only where the operator allows them).
    pub url: String,
    /// What it is for (at most 500 characters).
    pub description: Option<String>,
    /// The events it receives: at least one, none twice.
    pub event_types: Vec<WebhookEventType>,
    /// How long one attempt may take, 1 to 30 seconds (default 10).
    pub timeout_seconds: Option<u32>,
}

/// Changes to an endpoint; absent fields stay as they are.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct WebhookEndpointUpdate {
    /// New URL (checked like a new endpoint's).
    pub url: Option<String>,
    /// New description; an empty string clears it.
    pub description: Option<String>,
    /// New subscription.
    pub event_types: Option<Vec<WebhookEventType>>,
    /// Pause (`true`: deliveries wait) or resume (`false`: what waited is delivered).
    pub paused: Option<bool>,
    /// New per-attempt timeout, 1 to 30 seconds.
    pub timeout_seconds: Option<u32>,
}

/// A secret rotation.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct RotateWebhookSecret {
    /// How long the previous secret keeps signing beside the new one, 0 to 604800 seconds.
    pub overlap_seconds: i64,
}

/// An endpoint with its signing secret, shown this once.
#[derive(Debug, Object)]
pub struct WebhookEndpointWithSecret {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// `whsec_…`: verify deliveries with it (Standard Webhooks). Not shown again.
    pub secret: String,
}

/// An endpoint and its new secret.
#[derive(ApiResponse)]
pub enum EndpointCreated {
    /// Created.
    #[oai(status = 201)]
    Created(
        Json<WebhookEndpointWithSecret>,
        #[oai(header = "Cache-Control")] String,
    ),
}

/// A rotated secret.
#[derive(ApiResponse)]
pub enum SecretRotated {
    /// Rotated.
    #[oai(status = 200)]
    Rotated(
        Json<WebhookEndpointWithSecret>,
        #[oai(header = "Cache-Control")] String,
    ),
}

/// A delivery's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Every attempt failed.
    Failed,
}

/// One attempt of a delivery.
#[derive(Debug, Object)]
pub struct WebhookAttempt {
    /// 1 for the first.
    pub attempt: i32,
    /// When it was made.
    pub at: DateTime<Utc>,
    /// What the endpoint answered; absent when no answer came.
    #[oai(skip_serializing_if_is_none)]
    pub status_code: Option<i32>,
    /// How long it took.
    pub latency_ms: i64,
    /// Why it failed.
    #[oai(skip_serializing_if_is_none)]
    pub error: Option<String>,
    /// The start of the answer's body (at most 1 KiB).
    #[oai(skip_serializing_if_is_none)]
    pub response: Option<String>,
    /// Whether a replay asked for it.
    pub replay: bool,
}

/// One event for one endpoint.
#[derive(Debug, Object)]
pub struct WebhookDelivery {
    /// Id (for replays).
    pub id: String,
    /// The `webhook-id` every attempt carries.
    pub message_id: String,
    /// The event.
    pub event_type: String,
    /// Its state.
    pub status: DeliveryStatus,
    /// Attempts so far.
    pub attempts: i32,
    /// When it is attempted next (pending deliveries).
    #[oai(skip_serializing_if_is_none)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The exact body every attempt sends.
    pub body: serde_json::Value,
    /// When the event was fanned out to this endpoint.
    pub created_at: DateTime<Utc>,
    /// When it was delivered.
    #[oai(skip_serializing_if_is_none)]
    pub delivered_at: Option<DateTime<Utc>>,
    /// Its attempts, oldest first.
    pub log: Vec<WebhookAttempt>,
}

impl From<DeliveryView> for WebhookDelivery {
    fn from(v: DeliveryView) -> Self {
        let d = v.delivery;
        let status = match d.status.as_str() {
            delivery_status::DELIVERED => DeliveryStatus::Delivered,
            delivery_status::FAILED => DeliveryStatus::Failed,
            _ => DeliveryStatus::Pending,
        };
        Self {
            id: d.id.to_string(),
            message_id: d.message_id,
            event_type: d.event_type,
            status,
            attempts: d.attempts,
            next_attempt_at: (status == DeliveryStatus::Pending).then_some(d.next_attempt_at),
            body: serde_json::from_str(&d.body).unwrap_or(serde_json::Value::Null),
            created_at: d.created_at,
            delivered_at: d.delivered_at,
            log: v
                .attempts
                .into_iter()
                .map(|a| WebhookAttempt {
                    attempt: a.attempt,
                    at: a.at,
                    status_code: a.status_code,
                    latency_ms: a.latency_ms,
                    error: a.error,
                    response: a.response,
                    replay: a.replay,
                })
                .collect(),
        }
    }
}

/// A page of deliveries.
#[derive(Debug, Object)]
pub struct DeliveryPage {
    /// Newest first.
    pub deliveries: Vec<WebhookDelivery>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

/// A replay.
#[derive(Debug, Object)]
pub struct ReplayQueued {
    /// `false` when an attempt was already queued (nothing more was).
    pub queued: bool,
}

/// A replay's answer.
#[derive(ApiResponse)]
pub enum Replayed {
    /// Queued: the worker sends it within a second or so.
    #[oai(status = 202)]
    Accepted(Json<ReplayQueued>),
}

fn endpoint_id(s: &str) -> Result<uuid::Uuid, DomainError> {
    parse_uuid(s, "webhook endpoint")
}

/// Webhook operations.
pub struct WebhooksApi;

#[OpenApi]
impl WebhooksApi {
    /// List the tenant's webhook endpoints.
    ///
    /// **Permissions**: a portal session (any role).
    #[oai(
        path = "/v1/webhooks/endpoints",
        method = "get",
        tag = "Tag::Webhooks",
        operation_id = "listWebhookEndpoints"
    )]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        session: SessionCookie,
    ) -> ApiResult<Json<Vec<WebhookEndpoint>>> {
        let s = state.admin(&session, None, false).await?;
        let all = state.webhooks.endpoints(s.tenant_id).await?;
        Ok(Json(all.into_iter().map(WebhookEndpoint::from).collect()))
    }

    /// Register a webhook endpoint; its signing secret is in this answer only.
    ///
    /// Deliveries follow the Standard Webhooks specification: headers `webhook-id` (the same
    /// on every retry), `webhook-timestamp` and `webhook-signature` (`v1,` + base64
    /// HMAC-SHA256 of `id.timestamp.body` under the secret's bytes). The URL must resolve to
    /// public addresses only.
    ///
    /// **Permissions**: portal session with role `admin` or `owner`, plus `X-CSRF-Token`.
    #[oai(
        path = "/v1/webhooks/endpoints",
        method = "post",
        tag = "Tag::Webhooks",
        operation_id = "createWebhookEndpoint"
    )]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        session: SessionCookie,
        #[oai(name = "X-CSRF-Token")] csrf: Header<Option<String>>,
        body: Json<NewWebhookEndpoint>,
    ) -> ApiResult<EndpointCreated> {
        let s = state.admin(&session, csrf.0.as_deref(), true).await?;
        s.require(Role::Admin)?;
        let b = body.0;
        let new = NewEndpoint {
            url: b.url,
            description: b.description,
            event_types: wire(&b.event_types),
            timeout_secs: b.timeout_seconds,
        };
        let (endpoint, secret) = state
            .webhooks
            .create_endpoint(s.tenant_id, new, &s.actor(), &ctx(req))
            .await?;
        Ok(EndpointCreated::Created(
            Json(WebhookEndpointWithSecret {
                endpoint: endpoint.into(),
                secret,
            }),
            "no-store".into(),
        ))
    }

    /// Get a webhook endpoint.
    ///
    /// **Permissions**: a portal session (any role).
    #[oai(
        path = "/v1/webhooks/endpoints/:endpoint_id",
        method = "get",
        tag = "Tag::Webhooks",
        operation_id = "getWebhookEndpoint"
    )]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        session: SessionCookie,
        endpoint_id: Path<String>,
    ) -> ApiResult<Json<WebhookEndpoint>> {
        let s = state.admin(&session, None, false).await?;
        let id = self::endpoint_id(&endpoint_id.0)?;
        Ok(Json(state.webhooks.endpoint(s.tenant_id, id).await?.into()))
    }

    /// Change a webhook endpoint: URL, description, event types, timeout, or pause/resume.
    ///
    /// **Permissions**: portal session with role `admin` or `owner`, plus `X-CSRF-Token`.
    #[oai(
        path = "/v1/webhooks/endpoints/:endpoint_id",
        method = "patch",
        tag = "Tag::Webhooks",
        operation_id = "updateWebhookEndpoint"
    )]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        session: SessionCookie,
        #[oai(name = "X-CSRF-Token")] csrf: Header<Option<String>>,
        endpoint_id: Path<String>,
        body: Json<WebhookEndpointUpdate>,
    ) -> ApiResult<Json<WebhookEndpoint>> {
        let s = state.admin(&session, csrf.0.as_deref(), true).await?;
        s.require(Role::Admin)?;
        let id = self::endpoint_id(&endpoint_id.0)?;
        let b = body.0;
        let update = EndpointUpdate {
            url: b.url,
            description: b.description.map(|d| Some(d).filter(|d| !d.is_empty())),
            event_types: b.event_types.as_deref().map(wire),
            paused: b.paused,
            timeout_secs: b.timeout_seconds,
        };
        let view = state
            .webhooks
            .update_endpoint(s.tenant_id, id, update, &s.actor(), &ctx(req))
            .await?;
        Ok(Json(view.into()))
    }

    /// Rotate a webhook endpoint's signing secret; the new one is in this answer only.
    ///
    /// During the overlap every delivery carries two signatures, the new secret's and the
    /// previous one's, so a receiver can switch without missing a delivery.
    ///
    /// **Permissions**: portal session with role `admin` or `owner`, plus `X-CSRF-Token`.
    #[oai(
        path = "/v1/webhooks/endpoints/:endpoint_id/rotate",
        method = "post",
        tag = "Tag::Webhooks",
        operation_id = "rotateWebhookSecret"
    )]
    async fn rotate(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        session: SessionCookie,
        #[oai(name = "X-CSRF-Token")] csrf: Header<Option<String>>,
        endpoint_id: Path<String>,
        body: Json<RotateWebhookSecret>,
    ) -> ApiResult<SecretRotated> {
        let s = state.admin(&session, csrf.0.as_deref(), true).await?;
        s.require(Role::Admin)?;
        let id = self::endpoint_id(&endpoint_id.0)?;
        let overlap = Duration::try_seconds(body.0.overlap_seconds).unwrap_or(Duration::MAX);
        let (endpoint, secret) = state
            .webhooks
            .rotate_secret(s.tenant_id, id, overlap, &s.actor(), &ctx(req))
            .await?;
        Ok(SecretRotated::Rotated(
            Json(WebhookEndpointWithSecret {
                endpoint: endpoint.into(),
                secret,
            }),
            "no-store".into(),
        ))
    }

    /// Delete a webhook endpoint with its pending deliveries and log.
    ///
    /// **Permissions**: portal session with role `admin` or `owner`, plus `X-CSRF-Token`.
    #[oai(
        path = "/v1/webhooks/endpoints/:endpoint_id",
        method = "delete",
        tag = "Tag::Webhooks",
        operation_id = "deleteWebhookEndpoint"
    )]
    async fn delete(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        session: SessionCookie,
        #[oai(name = "X-CSRF-Token")] csrf: Header<Option<String>>,
        endpoint_id: Path<String>,
    ) -> ApiResult<Deleted> {
        let s = state.admin(&session, csrf.0.as_deref(), true).await?;
        s.require(Role::Admin)?;
        let id = self::endpoint_id(&endpoint_id.0)?;
        state
            .webhooks
            .delete_endpoint(s.tenant_id, id, &s.actor(), &ctx(req))
            .await?;
        Ok(Deleted::Done)
    }

    /// An endpoint's deliveries, newest first, each with its attempts (status, latency,
    /// answer).
    ///
    /// **Permissions**: a portal session (any role).
    #[oai(
        path = "/v1/webhooks/endpoints/:endpoint_id/deliveries",
        method = "get",
        tag = "Tag::Webhooks",
        operation_id = "listWebhookDeliveries"
    )]
    async fn deliveries(
        &self,
        state: Data<&Arc<AppState>>,
        session: SessionCookie,
        endpoint_id: Path<String>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Deliveries per page, 1 to 100 (default 20).
        limit: Query<Option<u32>>,
    ) -> ApiResult<Json<DeliveryPage>> {
        let s = state.admin(&session, None, false).await?;
        let id = self::endpoint_id(&endpoint_id.0)?;
        let cursor = super::paging::cursor(cursor.0, |_: &uuid::Uuid| true)?;
        let limit = super::paging::limit(limit.0, 20, 100)?;
        let page = state
            .webhooks
            .deliveries(s.tenant_id, id, cursor, u64::from(limit))
            .await?;
        let next_cursor = super::paging::next(&page, limit, |d| d.delivery.id.to_string());
        Ok(Json(DeliveryPage {
            deliveries: page.into_iter().map(WebhookDelivery::from).collect(),
            next_cursor,
        }))
    }

    /// Send a delivery again now, with the same `webhook-id` and body; on failure it is
    /// retried within what is left of its schedule.
    ///
    /// **Permissions**: portal session with role `admin` or `owner`, plus `X-CSRF-Token`.
    #[oai(
        path = "/v1/webhooks/deliveries/:delivery_id/replay",
        method = "post",
        tag = "Tag::Webhooks",
        operation_id = "replayWebhookDelivery"
    )]
    async fn replay(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        session: SessionCookie,
        #[oai(name = "X-CSRF-Token")] csrf: Header<Option<String>>,
        delivery_id: Path<String>,
    ) -> ApiResult<Replayed> {
        let s = state.admin(&session, csrf.0.as_deref(), true).await?;
        s.require(Role::Admin)?;
        let id = parse_uuid(&delivery_id.0, "webhook delivery")?;
        let queued = state
            .webhooks
            .replay(s.tenant_id, id, &s.actor(), &ctx(req))
            .await?;
        Ok(Replayed::Accepted(Json(ReplayQueued { queued })))
    }
}
