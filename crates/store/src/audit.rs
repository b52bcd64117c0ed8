//! The audit log: append-only and chained per tenant. Each row stores the previous row's hash
//! and its own, a keyed MAC (HMAC-SHA256 under a key derived from the master key) over a fixed
//! serialisation of its fields, so deleting, reordering or editing any row breaks every hash
//! after it, and recomputing the hashes needs the key. Each chain's *head* (its last seq and
//! hash, MAC-sealed too) lives in its own table, updated in the append's transaction, so a
//! missing tail — the newest rows deleted, or the whole chain emptied — is found as well.

use crate::entity::{audit_checkpoint, audit_event, audit_head};
use crate::{map_db_err, Store};
use chrono::{DateTime, SubsecRound, Utc};
use ring::hmac;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use std::future::Future;
use std::pin::Pin;

/// The work of an [`Store::audited`] transaction: its result and the event that audits it,
/// or `None` for nothing done.
pub type TxnWork<'c, T> =
    Pin<Box<dyn Future<Output = Result<Option<(T, NewAuditEvent)>, DomainError>> + Send + 'c>>;
use serde::Serialize;
use std::hash::{Hash, Hasher};
use tollgate_core::Code;
use tollgate_core::{DomainError, TenantId};

pub use crate::audit_verify::{check_chain, check_rows, ChainCheck, ChainFault, ChainVerifier};
pub use audit_checkpoint::Model as AuditCheckpoint;
pub use audit_event::Model as AuditEvent;
pub use audit_head::Model as AuditHead;

/// The chain of events that belong to no tenant (operator actions, platform key rotation).
pub const PLATFORM_CHAIN: &str = "platform";
/// `prev_hash` of the first event of a chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The key that seals audit rows and heads. Debug prints `***`.
#[derive(Clone)]
pub struct AuditKey(hmac::Key);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(***)")
    }
}

impl AuditKey {
    /// A key from 32 bytes of key material (derived from the master key by the caller).
    pub fn new(material: &[u8; 32]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, material))
    }

    fn mac(&self, data: &[u8]) -> String {
        hex::encode(hmac::sign(&self.0, data).as_ref())
    }

    pub(crate) fn head_mac(&self, h: &AuditHead) -> String {
        self.mac(
            format!(
                "tollgate-audit-head\n{}\n{}\n{}\n{}",
                h.chain, h.last_seq, h.last_hash, h.keyed_from
            )
            .as_bytes(),
        )
    }

    pub(crate) fn checkpoint_mac(&self, c: &AuditCheckpoint) -> String {
        self.mac(
            format!(
                "tollgate-audit-checkpoint\n{}\n{}\n{}\n{}\n{}",
                c.chain,
                c.seq,
                c.hash,
                c.dropped,
                c.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            )
            .as_bytes(),
        )
    }
}

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

impl NewAuditEvent {
    /// A successful `action` by `actor` at `at`, from where `ctx` says (address, user agent);
    /// on the platform chain until [`tenant`](Self::tenant) says otherwise.
    pub fn new(
        actor: &str,
        action: &'static str,
        ctx: &tollgate_core::RequestCtx,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            tenant: None,
            actor: actor.to_owned(),
            action,
            target: None,
            ip: ctx.ip.clone(),
            user_agent: ctx.user_agent.clone(),
            outcome: "success",
            detail: serde_json::json!({}),
            at,
        }
    }

    /// Who did it, when only the action itself says (a member it creates).
    pub fn actor(mut self, actor: &str) -> Self {
        self.actor = actor.to_owned();
        self
    }

    /// The tenant whose chain records it.
    pub fn tenant(mut self, tenant: Option<TenantId>) -> Self {
        self.tenant = tenant;
        self
    }

    /// What it happened to.
    pub fn target(mut self, target: Option<String>) -> Self {
        self.target = target;
        self
    }

    /// `success` or `failure`.
    pub fn outcome(mut self, outcome: &'static str) -> Self {
        self.outcome = outcome;
        self
    }

    /// Structured context (never secrets).
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
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

/// The chain of `tenant`'s events; the platform tenant's are the platform chain's.
pub(crate) fn chain_of(tenant: Option<TenantId>) -> String {
    match tenant {
        Some(t) if !t.is_platform() => t.to_string(),
        _ => PLATFORM_CHAIN.to_owned(),
    }
}

/// A row's hash: its MAC under `key`, or — for a row before its chain's `keyed_from`, written
/// before keyed hashes — its unkeyed SHA-256.
pub(crate) fn hash_row(
    key: &AuditKey,
    keyed_from: i64,
    row: &AuditEvent,
) -> Result<String, DomainError> {
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
    Ok(if row.seq >= keyed_from {
        key.mac(&bytes)
    } else {
        crate::sha256_hex(&bytes)
    })
}

/// Appends to one chain are serialised per process by one of these locks (picked by the
/// chain's hash), so a flood on one tenant's chain does not stall the others'.
pub(crate) type AuditLocks = std::sync::Arc<[tokio::sync::Mutex<()>; 64]>;

fn lock_of<'a>(locks: &'a AuditLocks, chain: &str) -> &'a tokio::sync::Mutex<()> {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    chain.hash(&mut h);
    &locks[(h.finish() % 64) as usize]
}

impl Store {
    pub(crate) fn audit_key(&self) -> Result<&AuditKey, DomainError> {
        self.audit_key.as_ref().ok_or_else(|| {
            DomainError::internal("no audit key: Store::with_audit_key was not called")
        })
    }

    /// Appends an event to its tenant's chain, moving the chain's head in the same
    /// transaction. Concurrent appends to one chain race on the `(chain, seq)` key and the
    /// head; the loser retries on top of the winner.
    pub async fn append_audit(&self, event: NewAuditEvent) -> Result<AuditEvent, DomainError> {
        let done = self
            .audited(event.tenant, |_| {
                let event = event.clone();
                Box::pin(async move { Ok(Some(((), event))) })
            })
            .await?;
        done.map(|((), row)| row)
            .ok_or_else(|| DomainError::internal("an audit append did nothing"))
    }

    /// Runs `work` and appends the audit event it returns in one transaction, so the action
    /// and its audit row commit together or not at all; a lost race for the chain's next
    /// seq reruns both (so `work` decides again on what committed meanwhile — the chain's
    /// head serialises the actions audited on it). `work` answers `None` to change nothing
    /// (rolled back, nothing audited): an action that turned out to be done already. Its
    /// event must belong to `tenant`'s chain.
    pub async fn audited<T, F>(
        &self,
        tenant: Option<TenantId>,
        work: F,
    ) -> Result<Option<(T, AuditEvent)>, DomainError>
    where
        T: Send,
        F: for<'c> Fn(&'c DatabaseTransaction) -> TxnWork<'c, T> + Send + Sync,
    {
        let chain = chain_of(tenant);
        let _serial = lock_of(&self.audit_locks, &chain).lock().await;
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
            let done = match work(&txn).await {
                Ok(Some((_, event))) if chain_of(event.tenant) != chain => Err(
                    DomainError::internal("an audited action's event belongs to another chain"),
                ),
                Ok(Some((value, event))) => match self.append_audit_in(&txn, event).await {
                    Ok(row) => txn
                        .commit()
                        .await
                        .map_err(map_db_err)
                        .map(|()| Some((value, row))),
                    Err(e) => Err(e),
                },
                Ok(None) => return Ok(None),
                Err(e) => Err(e),
            };
            match done {
                Ok(done) => return Ok(done),
                Err(err) if retryable(&err) => last_err = Some(err),
                Err(err) => return Err(err),
            }
        }
        Err(last_err.unwrap_or_else(|| DomainError::internal("audit append retries exhausted")))
    }

    /// Appends an event inside the caller's transaction, so an action and its audit event
    /// commit together or not at all (one attempt: a lost race is a `Conflict`, and the
    /// caller retries its whole transaction).
    pub async fn append_audit_in(
        &self,
        txn: &impl ConnectionTrait,
        event: NewAuditEvent,
    ) -> Result<AuditEvent, DomainError> {
        let key = self.audit_key()?;
        let chain = chain_of(event.tenant);
        let at = event.at.trunc_subsecs(6);
        let head = audit_head::Entity::find_by_id(chain.clone())
            .one(txn)
            .await
            .map_err(map_db_err)?;
        let (seq, prev_hash) = match &head {
            Some(h) => {
                if key.head_mac(h) != h.mac {
                    return Err(tampered(format!(
                        "audit chain {chain}: its head fails its MAC (tampered); \
                         nothing is appended until an operator looks"
                    )));
                }
                (h.last_seq + 1, h.last_hash.clone())
            }
            None => {
                let rows = audit_event::Entity::find()
                    .filter(audit_event::Column::Chain.eq(chain.clone()))
                    .count(txn)
                    .await
                    .map_err(map_db_err)?;
                if rows > 0 {
                    return Err(tampered(format!(
                        "audit chain {chain} has {rows} events but no head (deleted, or \
                         written before keyed hashes); nothing is appended until an \
                         operator looks"
                    )));
                }
                (1, GENESIS_HASH.to_owned())
            }
        };
        let mut row = AuditEvent {
            chain: chain.clone(),
            seq,
            tenant_id: event.tenant.map(|t| t.0),
            at,
            actor: event.actor,
            action: event.action.to_owned(),
            target: event.target,
            ip: event.ip,
            user_agent: event.user_agent,
            outcome: event.outcome.to_owned(),
            detail: event.detail.to_string(),
            prev_hash,
            hash: String::new(),
        };
        let keyed_from = head.as_ref().map_or(1, |h| h.keyed_from);
        row.hash = hash_row(key, keyed_from, &row)?;
        audit_event::ActiveModel::from(row.clone())
            .insert(txn)
            .await
            .map_err(map_db_err)?;
        self.enqueue_webhook_event(txn, &row).await?;
        let moved = AuditHead {
            chain: chain.clone(),
            last_seq: seq,
            last_hash: row.hash.clone(),
            mac: String::new(),
            updated_at: at,
            keyed_from,
        };
        let mac = key.head_mac(&moved);
        if head.is_some() {
            let res = audit_head::Entity::update_many()
                .col_expr(audit_head::Column::LastSeq, Expr::value(seq))
                .col_expr(audit_head::Column::LastHash, Expr::value(row.hash.clone()))
                .col_expr(audit_head::Column::Mac, Expr::value(mac))
                .col_expr(audit_head::Column::UpdatedAt, Expr::value(at))
                .filter(audit_head::Column::Chain.eq(chain))
                .filter(audit_head::Column::LastSeq.eq(seq - 1))
                .exec(txn)
                .await
                .map_err(map_db_err)?;
            if res.rows_affected != 1 {
                return Err(DomainError::conflict(Code::AuditRace, "the head moved"));
            }
        } else {
            audit_head::ActiveModel::from(AuditHead { mac, ..moved })
                .insert(txn)
                .await
                .map_err(map_db_err)?;
        }
        Ok(row)
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

    /// The head of one chain, if it has one.
    pub async fn audit_head(
        &self,
        tenant: Option<TenantId>,
    ) -> Result<Option<AuditHead>, DomainError> {
        audit_head::Entity::find_by_id(chain_of(tenant))
            .one(self.conn())
            .await
            .map_err(map_db_err)
    }
}

/// An append refused because its chain was tampered with: logged loudly; the caller's action
/// is not performed (it could not be recorded) and is answered 503 `audit_unavailable`.
fn tampered(cause: String) -> DomainError {
    tracing::error!(%cause, "audit append refused");
    DomainError::Busy {
        code: Code::AuditUnavailable,
        detail: "the audit log cannot record this action right now; nothing was changed".into(),
        retry_after: 30,
    }
}

/// A lost race (unique violation, a moved head) or, on SQLite, a busy database: worth
/// another try.
fn retryable(err: &DomainError) -> bool {
    match err {
        // A lost race for the chain's head, or a row another transaction wrote first (the
        // retry sees it); other conflicts are the caller's answer.
        DomainError::Conflict { code, .. } => matches!(code, Code::AuditRace | Code::AlreadyExists),
        DomainError::Internal(m) | DomainError::Unavailable(m) => {
            m.contains("locked") || m.contains("busy")
        }
        _ => false,
    }
}
