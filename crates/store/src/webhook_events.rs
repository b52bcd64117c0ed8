//! Tenant webhook events, written to the outbox (topic [`TOPIC`]) by the audit append itself:
//! a successful audited action of a tenant that a webhook event reports
//! ([`EventType::of_audit_action`]) enqueues its event in the transaction of its audit row, so
//! an event exists exactly when what it reports committed, and no action site can forget it.

use crate::audit::AuditEvent;
use crate::Store;
use sea_orm::ConnectionTrait;
use tollgate_core::webhook::EventType;
use tollgate_core::{DomainError, TenantId};

/// The outbox topic of tenant webhook events.
pub const TOPIC: &str = "webhook";

/// The outbox key of the event an audit row reports: the row's place in its chain, except
/// for a key's expiry, announced once per key and expiry however often it is looked for.
pub fn event_key(kind: EventType, row: &AuditEvent) -> String {
    match kind {
        EventType::ApiKeyExpiring => expiring_key(
            row.target.as_deref().unwrap_or_default(),
            serde_json::from_str::<serde_json::Value>(&row.detail)
                .ok()
                .and_then(|d| d["expires_at"].as_str().map(str::to_owned))
                .as_deref()
                .unwrap_or_default(),
        ),
        _ => format!("audit:{}:{}", row.chain, row.seq),
    }
}

/// The outbox key of `api_key.expiring` for the key `target` (`key:<id>`) expiring at
/// `expires_at` (as its audit detail writes it).
pub fn expiring_key(target: &str, expires_at: &str) -> String {
    format!(
        "{}:{target}:{expires_at}",
        EventType::ApiKeyExpiring.as_str()
    )
}

/// The event's `data`: the audit row's detail, the tenant, and what it happened to
/// (`key:<id>` becomes `key_id`, `invoice:<id>` `invoice_id`, `period:<p>` `period`).
fn data(tenant: TenantId, row: &AuditEvent) -> serde_json::Value {
    let mut data = match serde_json::from_str::<serde_json::Value>(&row.detail) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    data.insert("tenant_id".into(), tenant.to_string().into());
    if let Some((kind, id)) = row.target.as_deref().and_then(|t| t.split_once(':')) {
        let field = if kind == "period" {
            "period".to_owned()
        } else {
            format!("{kind}_id")
        };
        data.insert(field, id.into());
    }
    serde_json::Value::Object(data)
}

impl Store {
    /// Enqueues the webhook event `row` reports, if it reports one (see the module
    /// documentation); in the caller's transaction.
    pub(crate) async fn enqueue_webhook_event(
        &self,
        txn: &impl ConnectionTrait,
        row: &AuditEvent,
    ) -> Result<(), DomainError> {
        let Some(tenant) = row.tenant_id.map(TenantId).filter(|t| !t.is_platform()) else {
            return Ok(());
        };
        let Some(kind) = (row.outcome == "success")
            .then(|| EventType::of_audit_action(&row.action))
            .flatten()
        else {
            return Ok(());
        };
        let payload = serde_json::json!({
            "type": kind.as_str(),
            "timestamp": row.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "data": data(tenant, row),
        });
        self.enqueue(txn, TOPIC, &event_key(kind, row), tenant, &payload, row.at)
            .await?;
        Ok(())
    }
}
