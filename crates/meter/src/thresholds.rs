//! Usage thresholds (50, 80 and 100 % of the included units): each is announced once per
//! tenant and period — once per process by memory, once across instances through Redis —
//! as a `quota.threshold` audit event.

use crate::Meter;
use tollgate_core::TenantId;
use tollgate_store::audit::NewAuditEvent;

/// How long Redis remembers an announced threshold (past the end of any month).
const REMEMBER_SECS: u64 = 40 * 24 * 3600;

impl Meter {
    pub(crate) async fn announce_threshold(
        &self,
        tenant: TenantId,
        period: &str,
        percent: u32,
        used: i64,
        limit: i64,
    ) {
        let first_here = self
            .announced
            .lock()
            .is_ok_and(|mut seen| seen.insert((tenant, period.to_owned(), percent)));
        if !first_here {
            return;
        }
        if let Some((conn, prefix)) = &self.redis {
            let mut conn = conn.clone();
            let set: Result<Option<String>, _> = redis::cmd("SET")
                .arg(format!(
                    "{prefix}:threshold:{}:{period}:{percent}",
                    tenant.0
                ))
                .arg(1)
                .arg("NX")
                .arg("EX")
                .arg(REMEMBER_SECS)
                .query_async(&mut conn)
                .await;
            if matches!(set, Ok(None)) {
                return;
            }
        }
        let event = NewAuditEvent {
            tenant: Some(tenant),
            actor: "system".into(),
            action: "quota.threshold",
            target: Some(format!("period:{period}")),
            ip: None,
            user_agent: None,
            outcome: "success",
            detail: serde_json::json!({ "percent": percent, "used": used, "included": limit }),
            at: self.clock.now(),
        };
        if let Err(e) = self.store.append_audit(event).await {
            tracing::warn!(error = %e, %percent, "quota threshold event not recorded");
        }
    }
}
