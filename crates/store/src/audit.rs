//! The audit log: append-only and hash-chained per tenant. Each row stores the previous
//! row's hash and its own, computed over a fixed serialisation of its fields, so deleting,
//! reordering or editing any row breaks every hash after it.

use crate::entity::audit_event;
use crate::{map_db_err, sha256_hex, Store};
use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde::Serialize;
use tollgate_core::{DomainError, TenantId};

pub use audit_event::Model as AuditEvent;

/// The chain of events that belong to no tenant (operator actions, platform key rotation).
pub const PLATFORM_CHAIN: &str = "platform";
/// `prev_hash` of the first event of a chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewAuditEvent {
    /// The tenant the event concerns; `None` for platform events.
    pub tenant: Option<TenantId>,
    /// Who acted: `admin:<id>`, `client:<id>`, `key:<id>`, `operator`, `anonymous`.
    pub actor: String,
    /// What happened, e.g. `login`, `client.created`.
    pub action: &'static str,
    /// What it happened to.
    pub target: Option<String>,
    /// Caller's address.
    pub ip: Option<String>,
    /// Caller's user agent.
    pub user_agent: Option<String>,
    /// `success` or `failure`.
    pub outcome: &'static str,
    /// Extra structured context (never secrets).
    pub detail: serde_json::Value,
    /// When.
    pub at: DateTime<Utc>,
}

/// The hashed form: field order here is the chain's wire format; never reorder.
#[derive(Serialize)]
struct Hashed<'a> {
    chain: &'a str,
    seq: i64,
    tenant_id: Option<String>,
    at: String,
    actor: &'a str,
    action: &'a str,
    target: Option<&'a str>,
    ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    outcome: &'a str,
    detail: &'a str,
    prev_hash: &'a str,
}

fn chain_of(tenant: Option<TenantId>) -> String {
    tenant.map_or_else(|| PLATFORM_CHAIN.to_owned(), |t| t.to_string())
}

fn hash_row(row: &AuditEvent) -> Result<String, DomainError> {
    let hashed = Hashed {
        chain: &row.chain,
        seq: row.seq,
        tenant_id: row.tenant_id.map(|t| t.to_string()),
        at: row.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        actor: &row.actor,
        action: &row.action,
        target: row.target.as_deref(),
        ip: row.ip.as_deref(),
        user_agent: row.user_agent.as_deref(),
        outcome: &row.outcome,
        detail: &row.detail,
        prev_hash: &row.prev_hash,
    };
    let bytes = serde_json::to_vec(&hashed).map_err(DomainError::internal)?;
    Ok(sha256_hex(&bytes))
}

/// Result of checking a chain.
#[derive(Debug, PartialEq, Eq)]
pub enum ChainCheck {
    /// Every row's hash and link verified.
    Intact {
        /// Rows checked.
        events: u64,
    },
    /// The first row whose link or hash is wrong.
    BrokenAt {
        /// Its sequence number.
        seq: i64,
    },
}

impl Store {
    /// Appends an event to its tenant's chain. Concurrent appends to one chain race on the
    /// `(chain, seq)` key; the loser retries on top of the winner.
    pub async fn append_audit(&self, event: NewAuditEvent) -> Result<AuditEvent, DomainError> {
        let chain = chain_of(event.tenant);
        let detail = event.detail.to_string();
        let at = event.at.trunc_subsecs(6);
        let _serial = self.audit_lock.lock().await;
        let mut last_err = None;
        for attempt in 0..20u64 {
            if attempt > 0 {
                // Another process won the race for this sequence number: back off with jitter.
                let jitter = (uuid::Uuid::new_v4().as_u128() % 10) as u64;
                tokio::time::sleep(std::time::Duration::from_millis(
                    attempt.min(10) * 2 + jitter,
                ))
                .await;
            }
            let txn = self.conn().begin().await.map_err(map_db_err)?;
            let last = audit_event::Entity::find()
                .filter(audit_event::Column::Chain.eq(chain.clone()))
                .order_by_desc(audit_event::Column::Seq)
                .one(&txn)
                .await
                .map_err(map_db_err)?;
            let (seq, prev_hash) =
                last.map_or((1, GENESIS_HASH.to_owned()), |l| (l.seq + 1, l.hash));
            let mut row = AuditEvent {
                chain: chain.clone(),
                seq,
                tenant_id: event.tenant.map(|t| t.0),
                at,
                actor: event.actor.clone(),
                action: event.action.to_owned(),
                target: event.target.clone(),
                ip: event.ip.clone(),
                user_agent: event.user_agent.clone(),
                outcome: event.outcome.to_owned(),
                detail: detail.clone(),
                prev_hash,
                hash: String::new(),
            };
            row.hash = hash_row(&row)?;
            let active: audit_event::ActiveModel = row.clone().into();
            match active.insert(&txn).await {
                Ok(_) => match txn.commit().await {
                    Ok(()) => return Ok(row),
                    Err(e) => last_err = Some(map_db_err(e)),
                },
                Err(e) => {
                    let err = map_db_err(e);
                    if !retryable(&err) {
                        return Err(err);
                    }
                    last_err = Some(err);
                }
            }
        }
        Err(last_err.unwrap_or_else(|| DomainError::internal("audit append retries exhausted")))
    }

    /// Events of one chain (`tenant` or the platform chain), in order.
    pub async fn audit_events(
        &self,
        tenant: Option<TenantId>,
    ) -> Result<Vec<AuditEvent>, DomainError> {
        audit_event::Entity::find()
            .filter(audit_event::Column::Chain.eq(chain_of(tenant)))
            .order_by_asc(audit_event::Column::Seq)
            .all(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// Recomputes every hash and link of one chain.
    pub async fn verify_audit_chain(
        &self,
        tenant: Option<TenantId>,
    ) -> Result<ChainCheck, DomainError> {
        let rows = self.audit_events(tenant).await?;
        Ok(check_rows(&rows))
    }
}

/// A lost race (unique violation) or, on SQLite, a busy database: worth another try.
fn retryable(err: &DomainError) -> bool {
    match err {
        DomainError::Conflict { .. } => true,
        DomainError::Internal(m) | DomainError::Unavailable(m) => {
            m.contains("locked") || m.contains("busy")
        }
        _ => false,
    }
}

/// Checks links, sequence and hashes of a chain's rows (in `seq` order).
pub fn check_rows(rows: &[AuditEvent]) -> ChainCheck {
    let mut prev = GENESIS_HASH.to_owned();
    for (i, row) in rows.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        let ok = row.seq == expected_seq
            && row.prev_hash == prev
            && hash_row(row).is_ok_and(|h| h == row.hash);
        if !ok {
            return ChainCheck::BrokenAt { seq: row.seq };
        }
        prev = row.hash.clone();
    }
    ChainCheck::Intact {
        events: rows.len() as u64,
    }
}
