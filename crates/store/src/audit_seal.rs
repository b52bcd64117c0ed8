//! Sealing the heads of chains older than keyed hashes, once. The migration
//! `m20261201_000004_audit_legacy_heads` gave every such chain an unsealed head (no MAC) with
//! `keyed_from` past its newest event. At start-up, before anything is appended, the server
//! checks each one (its events link up and hash, unkeyed, to the head) and seals it, then
//! records `audit.legacy_sealed` in the platform chain. That event is written on every
//! database's first start, legacy chains or not, and once it exists nothing is ever sealed
//! again: a head made unsealed later (someone lowering `keyed_from` to pass off rewritten
//! events as old ones) stays unsealed, fails verification and refuses appends.

use crate::audit::{check_rows, AuditHead, ChainCheck, NewAuditEvent, PLATFORM_CHAIN};
use crate::entity::{audit_event, audit_head};
use crate::{map_db_err, Store};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use tollgate_core::DomainError;

/// The platform event that closes sealing for good.
pub const SEALED_ACTION: &str = "audit.legacy_sealed";

impl Store {
    /// Seals the heads the migrations left unsealed, if this database never did (see the
    /// module documentation). Returns the chains sealed; chains that fail their check stay
    /// unsealed and are logged.
    pub async fn seal_legacy_audit_heads(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, DomainError> {
        let key = self.audit_key()?.clone();
        let done = audit_event::Entity::find()
            .filter(audit_event::Column::Chain.eq(PLATFORM_CHAIN))
            .filter(audit_event::Column::Action.eq(SEALED_ACTION))
            .one(self.conn())
            .await
            .map_err(map_db_err)?
            .is_some();
        let unsealed = audit_head::Entity::find()
            .filter(audit_head::Column::Mac.eq(""))
            .order_by_asc(audit_head::Column::Chain)
            .all(self.conn())
            .await
            .map_err(map_db_err)?;
        if done {
            for h in &unsealed {
                tracing::error!(chain = %h.chain, "audit chain head is unsealed after sealing closed: tampering");
            }
            return Ok(Vec::new());
        }
        // The platform chain first: the closing event is appended to it.
        let (platform, others): (Vec<AuditHead>, Vec<AuditHead>) = unsealed
            .into_iter()
            .partition(|h| h.chain == PLATFORM_CHAIN);
        let mut sealed = Vec::new();
        for head in platform {
            if self.seal_one(&key, head.clone()).await? {
                sealed.push(head);
            }
        }
        let listed: Vec<serde_json::Value> = others
            .iter()
            .map(|h| serde_json::json!({ "chain": h.chain, "legacy_events": h.keyed_from - 1 }))
            .collect();
        self.append_audit(NewAuditEvent {
            tenant: None,
            actor: "system".into(),
            action: SEALED_ACTION,
            target: None,
            ip: None,
            user_agent: None,
            outcome: "success",
            detail: serde_json::json!({ "chains": listed }),
            at: now,
        })
        .await?;
        for head in others {
            if self.seal_one(&key, head.clone()).await? {
                sealed.push(head);
            }
        }
        Ok(sealed.into_iter().map(|h| h.chain).collect())
    }

    /// Checks one legacy chain against its unsealed head and seals the head when it holds.
    async fn seal_one(
        &self,
        key: &crate::audit::AuditKey,
        head: AuditHead,
    ) -> Result<bool, DomainError> {
        let rows = audit_event::Entity::find()
            .filter(audit_event::Column::Chain.eq(head.chain.clone()))
            .order_by_asc(audit_event::Column::Seq)
            .all(self.conn())
            .await
            .map_err(map_db_err)?;
        let intact = check_rows(key, head.keyed_from, &rows)
            == ChainCheck::Intact {
                events: rows.len() as u64,
            };
        let ends_at_head = rows
            .last()
            .is_some_and(|r| r.seq == head.last_seq && r.hash == head.last_hash)
            && head.keyed_from == head.last_seq + 1;
        if !(intact && ends_at_head) {
            tracing::error!(chain = %head.chain, "a chain older than keyed hashes fails its check; its head stays unsealed");
            return Ok(false);
        }
        let mac = key.head_mac(&head);
        audit_head::Entity::update_many()
            .col_expr(audit_head::Column::Mac, Expr::value(mac))
            .filter(audit_head::Column::Chain.eq(head.chain.clone()))
            .filter(audit_head::Column::Mac.eq(""))
            .filter(audit_head::Column::LastSeq.eq(head.last_seq))
            .exec(self.conn())
            .await
            .map_err(map_db_err)?;
        tracing::info!(chain = %head.chain, events = rows.len(), "a chain older than keyed hashes was checked and sealed");
        Ok(true)
    }
}
