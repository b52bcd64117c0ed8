//! Audit retention: a tenant's plan keeps its audit events for a number of days; older ones
//! are dropped from the start of its chain behind a **checkpoint** (the last dropped seq and
//! hash, the count dropped in all, when, MAC-sealed), so the chain that is left still verifies
//! from the checkpoint to its head. The rows to drop are verified first, and nothing is
//! dropped from a chain that does not verify (dropping would erase the evidence). The drop,
//! the checkpoint and the `audit.purged` event that records it commit together; the database
//! refuses to delete a row no checkpoint covers (migration `m20261201_000010`).

use crate::audit::{chain_of, AuditCheckpoint, NewAuditEvent};
use crate::audit_verify::{ChainCheck, ChainVerifier};
use crate::entity::{audit_checkpoint, audit_event, plan, tenant};
use crate::{map_db_err, Store};
use chrono::{DateTime, Duration, Utc};
use futures::TryStreamExt;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tollgate_core::{DomainError, RequestCtx, TenantId};

/// The audit action of a purge.
pub const PURGED_ACTION: &str = "audit.purged";

/// What one purge dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purged {
    /// The tenant.
    pub tenant: TenantId,
    /// Events dropped now.
    pub dropped: u64,
    /// The checkpoint left: every event up to its seq is gone.
    pub checkpoint: AuditCheckpoint,
}

impl Store {
    /// Drops `tenant`'s audit events older than `before` (the oldest contiguous run of them:
    /// an event stamped before `before` that follows a newer one waits for the next purge),
    /// after verifying them. `None`: nothing to drop.
    pub async fn purge_audit(
        &self,
        tenant: TenantId,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<Purged>, DomainError> {
        let chain = chain_of(Some(tenant));
        let key = self.audit_key()?.clone();
        let old = self.audit_checkpoint(Some(tenant)).await?;
        let from = old.as_ref().map_or(0, |c| c.seq);
        // The head first: only events it already covers may be dropped, so one appended while
        // this runs (after the head was read) is never among them.
        let Some(head) = self.audit_head(Some(tenant)).await? else {
            return Ok(None);
        };
        // The first event to keep; with none newer than `before`, every event up to the head
        // is dropped (the purge's own event is appended after them).
        let keep = audit_event::Entity::find()
            .filter(audit_event::Column::Chain.eq(chain.clone()))
            .filter(audit_event::Column::Seq.gt(from))
            .filter(audit_event::Column::Seq.lte(head.last_seq))
            .filter(audit_event::Column::At.gte(before))
            .order_by_asc(audit_event::Column::Seq)
            .one(self.conn())
            .await
            .map_err(map_db_err)?;
        let through = keep.map_or(head.last_seq, |row| row.seq - 1);
        if through <= from {
            return Ok(None);
        }
        let keyed_from = head.keyed_from;
        let mut v = match &old {
            Some(c) if key.checkpoint_mac(c) == c.mac => {
                ChainVerifier::after(&key, keyed_from, c.seq, c.hash.clone())
            }
            Some(c) => return Err(refused(&chain, c.seq, "its checkpoint fails its MAC")),
            None => ChainVerifier::new(&key, keyed_from),
        };
        let mut last_hash = None;
        let mut pages =
            std::pin::pin!(self.audit_rows(Some(tenant), from, through, crate::audit_read::PAGE));
        while let Some(page) = pages.try_next().await? {
            if !page.iter().all(|row| v.push(row)) {
                break;
            }
            last_hash = page.last().map(|r| r.hash.clone());
        }
        let hash = match (v.rows_verdict(), last_hash) {
            (ChainCheck::Intact { events }, Some(hash)) if events == (through - from) as u64 => {
                hash
            }
            (ChainCheck::BrokenAt { seq, fault }, _) => {
                return Err(refused(&chain, seq, fault.as_str()))
            }
            _ => return Err(refused(&chain, through, "missing")),
        };
        let checkpoint = AuditCheckpoint {
            chain: chain.clone(),
            seq: through,
            hash,
            dropped: old.as_ref().map_or(0, |c| c.dropped) + (through - from),
            at: now,
            mac: String::new(),
        };
        let checkpoint = AuditCheckpoint {
            mac: key.checkpoint_mac(&checkpoint),
            ..checkpoint
        };
        let done = self
            .audited(Some(tenant), |txn| {
                let (old, checkpoint, chain) = (old.clone(), checkpoint.clone(), chain.clone());
                Box::pin(async move {
                    // Another purge (here or in another process) moved the checkpoint since
                    // it was read: the rows it verified may be gone; leave it to the next run.
                    let now_at = audit_checkpoint::Entity::find_by_id(chain.clone())
                        .one(txn)
                        .await
                        .map_err(map_db_err)?;
                    if now_at != old {
                        return Ok(None);
                    }
                    match &old {
                        Some(o) => {
                            let moved = audit_checkpoint::Entity::update_many()
                                .col_expr(audit_checkpoint::Column::Seq, Expr::value(through))
                                .col_expr(
                                    audit_checkpoint::Column::Hash,
                                    Expr::value(checkpoint.hash.clone()),
                                )
                                .col_expr(
                                    audit_checkpoint::Column::Dropped,
                                    Expr::value(checkpoint.dropped),
                                )
                                .col_expr(audit_checkpoint::Column::At, Expr::value(now))
                                .col_expr(
                                    audit_checkpoint::Column::Mac,
                                    Expr::value(checkpoint.mac.clone()),
                                )
                                .filter(audit_checkpoint::Column::Chain.eq(chain.clone()))
                                .filter(audit_checkpoint::Column::Seq.eq(o.seq))
                                .exec(txn)
                                .await
                                .map_err(map_db_err)?;
                            if moved.rows_affected != 1 {
                                // Another purge moved it first: nothing to do here.
                                return Ok(None);
                            }
                        }
                        None => {
                            audit_checkpoint::ActiveModel::from(checkpoint.clone())
                                .insert(txn)
                                .await
                                .map_err(map_db_err)?;
                        }
                    }
                    let gone = audit_event::Entity::delete_many()
                        .filter(audit_event::Column::Chain.eq(chain))
                        .filter(audit_event::Column::Seq.gt(from))
                        .filter(audit_event::Column::Seq.lte(through))
                        .exec(txn)
                        .await
                        .map_err(map_db_err)?
                        .rows_affected;
                    if gone != (through - from) as u64 {
                        return Err(DomainError::internal(format!(
                            "an audit purge deleted {gone} rows, not {}",
                            through - from
                        )));
                    }
                    let event =
                        NewAuditEvent::new("system", PURGED_ACTION, &RequestCtx::default(), now)
                            .tenant(Some(tenant))
                            .target(Some(format!("seq:{}..={through}", from + 1)))
                            .detail(serde_json::json!({
                                "dropped": gone,
                                "through_seq": through,
                                "before": before.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                            }));
                    Ok(Some((gone, event)))
                })
            })
            .await?;
        Ok(done.map(|(dropped, _)| Purged {
            tenant,
            dropped,
            checkpoint,
        }))
    }

    /// Runs [`Store::purge_audit`] for every tenant whose plan sets a retention, with
    /// `before = now - days`. A tenant whose purge fails is logged and skipped.
    pub async fn purge_expired_audit(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<Purged>, DomainError> {
        let plans = plan::Entity::find()
            .filter(plan::Column::AuditRetentionDays.is_not_null())
            .all(self.conn())
            .await
            .map_err(map_db_err)?;
        let mut done = Vec::new();
        for p in plans {
            let Some(days) = p.audit_retention_days.filter(|d| *d > 0) else {
                continue;
            };
            let before = now - Duration::days(i64::from(days));
            let tenants: Vec<uuid::Uuid> = tenant::Entity::find()
                .select_only()
                .column(tenant::Column::Id)
                .filter(tenant::Column::PlanId.eq(p.id))
                .into_tuple()
                .all(self.conn())
                .await
                .map_err(map_db_err)?;
            for t in tenants {
                match self.purge_audit(TenantId(t), before, now).await {
                    Ok(Some(purged)) => done.push(purged),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::error!(tenant = %t, error = %e, "audit retention: purge refused");
                    }
                }
            }
        }
        Ok(done)
    }
}

/// A purge refused because the rows it would drop do not verify.
fn refused(chain: &str, seq: i64, why: &str) -> DomainError {
    tracing::error!(
        chain,
        seq,
        why,
        "audit retention refuses to drop rows that do not verify"
    );
    DomainError::internal(format!(
        "audit chain {chain} does not verify at seq {seq} ({why}); nothing was dropped"
    ))
}
