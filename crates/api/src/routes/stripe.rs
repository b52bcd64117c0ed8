//! Stripe's webhooks: `POST /v1/stripe/webhooks`. Stripe signs each delivery; an unsigned,
//! forged or stale one is refused (400 `webhook_refused`) and audited on the platform chain
//! (within the anonymous-failure budget, then counted). A verified event is acted on once
//! per event id, so Stripe's retries and replays within the tolerance change nothing.

use super::{ctx, Tag};
use crate::problem::ApiResult;
use crate::state::AppState;
use poem::web::Data;
use poem_openapi::param::Header;
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{Enum, Object, OpenApi};
use std::sync::Arc;
use tollgate_auth::anonymous::Subject;
use tollgate_billing::EventOutcome;
use tollgate_core::{Code, DomainError};

/// What a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum Outcome {
    /// Acted on now.
    Applied,
    /// Processed before; nothing changed.
    Duplicate,
    /// Not an event Tollgate acts on.
    Ignored,
}

/// The answer to Stripe.
#[derive(Debug, Object)]
pub struct WebhookAnswer {
    /// Stripe's event id.
    pub event_id: String,
    /// What it did.
    pub outcome: Outcome,
}

/// Stripe's webhooks.
pub struct StripeApi;

#[OpenApi]
impl StripeApi {
    /// Receives a Stripe event (`invoice.paid`, `invoice.payment_succeeded`,
    /// `invoice.payment_failed`; others are recorded and ignored), verified by its
    /// `Stripe-Signature` under `STRIPE_WEBHOOK_SECRET` with a five-minute tolerance.
    ///
    /// **Permissions**: Stripe's signature (no credential).
    #[oai(
        path = "/v1/stripe/webhooks",
        method = "post",
        tag = "Tag::Billing",
        operation_id = "receiveStripeWebhook"
    )]
    async fn webhook(
        &self,
        state: Data<&Arc<AppState>>,
        req: &poem::Request,
        #[oai(name = "Stripe-Signature")] signature: Header<Option<String>>,
        body: Binary<Vec<u8>>,
    ) -> ApiResult<Json<WebhookAnswer>> {
        let c = ctx(req);
        let now = state.auth.clock.now();
        let secret = state
            .config
            .stripe_webhook_secret
            .as_ref()
            .map(|s| s.0.as_str());
        let event = match tollgate_billing::stripe_sync::webhooks::verify(
            secret,
            signature.0.as_deref(),
            &body.0,
            now,
        ) {
            Ok(e) => e,
            Err(refused) => {
                let subject = Subject {
                    tenant: None,
                    action: "stripe.webhook_refused",
                    target: None,
                    reason: refused.reason(),
                };
                state.auth.audit_anonymous_failure(subject, &c).await?;
                return Err(DomainError::invalid(Code::WebhookRefused, refused.to_string()).into());
            }
        };
        let outcome = state.billing.stripe_event(&event, &c).await?;
        if outcome == EventOutcome::Applied {
            state.meter.forget_limits(None);
        }
        Ok(Json(WebhookAnswer {
            event_id: event.id,
            outcome: match outcome {
                EventOutcome::Applied => Outcome::Applied,
                EventOutcome::Duplicate => Outcome::Duplicate,
                EventOutcome::Ignored => Outcome::Ignored,
            },
        }))
    }
}
