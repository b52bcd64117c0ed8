//! Verifying a chain: every row's MAC, its link to the row before and its seq, then the tail
//! against the chain's sealed head, starting from the chain's sealed checkpoint when retention
//! dropped its oldest rows. [`ChainVerifier`] takes rows one at a time, so a chain of any
//! length is checked in pages without holding it in memory.

use crate::audit::GENESIS_HASH;
use crate::audit::{chain_of, hash_row, AuditCheckpoint, AuditEvent, AuditHead, AuditKey};
use crate::entity::audit_checkpoint;
use crate::{map_db_err, Store};
use futures::TryStreamExt;
use sea_orm::EntityTrait;
use tollgate_core::{DomainError, TenantId};

/// What is wrong at the first bad place of a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainFault {
    /// The row's MAC does not match its fields (edited, or hashed without the key).
    Forged,
    /// The row does not link to the one before it (a row removed or moved before it).
    Link,
    /// The row is missing: a gap, or the newest rows (or all of them) are gone.
    Missing,
    /// The head's MAC does not match it: the head was rewritten.
    HeadForged,
    /// Rows exist but the chain has no head (it was deleted).
    HeadMissing,
    /// Rows exist past the head: appended outside Tollgate.
    BeyondHead,
    /// The retention checkpoint's MAC does not match it: rewritten, or made outside Tollgate.
    CheckpointForged,
}

impl ChainFault {
    /// Stable name, for the CLI's output.
    pub fn as_str(self) -> &'static str {
        match self {
            ChainFault::Forged => "forged",
            ChainFault::Link => "link",
            ChainFault::Missing => "missing",
            ChainFault::HeadForged => "head_forged",
            ChainFault::HeadMissing => "head_missing",
            ChainFault::BeyondHead => "beyond_head",
            ChainFault::CheckpointForged => "checkpoint_forged",
        }
    }
}

/// Result of checking a chain.
#[derive(Debug, PartialEq, Eq)]
pub enum ChainCheck {
    /// Every row's MAC and link verified, and the last one is the head.
    Intact {
        /// Rows checked.
        events: u64,
    },
    /// The first bad seq and what is wrong there.
    BrokenAt {
        /// Its sequence number.
        seq: i64,
        /// What is wrong.
        fault: ChainFault,
    },
}

/// Checks a chain's rows one at a time, in seq order: each must carry the next seq, link to
/// the one before and match its MAC (its unkeyed SHA-256 before `keyed_from`).
#[derive(Debug)]
pub struct ChainVerifier<'k> {
    key: &'k AuditKey,
    keyed_from: i64,
    /// Seq and hash of the last row accepted (or of the checkpoint, or 0 and genesis).
    last_seq: i64,
    last_hash: String,
    events: u64,
    fault: Option<(i64, ChainFault)>,
}

impl<'k> ChainVerifier<'k> {
    /// A verifier for a chain that starts at seq 1.
    pub fn new(key: &'k AuditKey, keyed_from: i64) -> Self {
        Self::after(key, keyed_from, 0, GENESIS_HASH.to_owned())
    }

    /// A verifier for a chain whose rows up to `seq` were dropped behind a checkpoint: the
    /// first row must be `seq + 1` and link to `hash`.
    pub fn after(key: &'k AuditKey, keyed_from: i64, seq: i64, hash: String) -> Self {
        Self {
            key,
            keyed_from,
            last_seq: seq,
            last_hash: hash,
            events: 0,
            fault: None,
        }
    }

    /// Checks the next row; `false` once the chain is broken (later rows are not looked at).
    pub fn push(&mut self, row: &AuditEvent) -> bool {
        if self.fault.is_some() {
            return false;
        }
        let expected = self.last_seq + 1;
        self.fault = if row.seq > expected {
            Some((expected, ChainFault::Missing))
        } else if row.seq != expected || row.prev_hash != self.last_hash {
            Some((row.seq, ChainFault::Link))
        } else if !hash_row(self.key, self.keyed_from, row).is_ok_and(|h| h == row.hash) {
            Some((row.seq, ChainFault::Forged))
        } else {
            None
        };
        if self.fault.is_some() {
            return false;
        }
        self.last_seq = row.seq;
        self.last_hash.clone_from(&row.hash);
        self.events += 1;
        true
    }

    /// The verdict on the rows alone (what an export without its head can tell).
    pub fn rows_verdict(&self) -> ChainCheck {
        match self.fault {
            Some((seq, fault)) => ChainCheck::BrokenAt { seq, fault },
            None => ChainCheck::Intact {
                events: self.events,
            },
        }
    }

    /// The verdict once every row was pushed: the rows', then the tail against `head` (the
    /// last row must be the one the head names, so deleted newest rows are found too). The
    /// head's own MAC is checked by the caller.
    pub fn finish(self, head: &AuditHead) -> ChainCheck {
        if self.fault.is_some() {
            return self.rows_verdict();
        }
        if self.last_seq < head.last_seq {
            return ChainCheck::BrokenAt {
                seq: self.last_seq + 1,
                fault: ChainFault::Missing,
            };
        }
        if self.last_seq > head.last_seq {
            return ChainCheck::BrokenAt {
                seq: head.last_seq + 1,
                fault: ChainFault::BeyondHead,
            };
        }
        if self.last_hash != head.last_hash && self.last_seq > 0 {
            return ChainCheck::BrokenAt {
                seq: self.last_seq,
                fault: ChainFault::Forged,
            };
        }
        ChainCheck::Intact {
            events: self.events,
        }
    }
}

/// Checks links, sequence and MACs of a chain's rows (in `seq` order, from seq 1), without
/// its head: what an export alone can tell.
pub fn check_rows(key: &AuditKey, keyed_from: i64, rows: &[AuditEvent]) -> ChainCheck {
    let mut v = ChainVerifier::new(key, keyed_from);
    for row in rows {
        if !v.push(row) {
            break;
        }
    }
    v.rows_verdict()
}

/// [`check_rows`], then the tail against the chain's head.
pub fn check_chain(key: &AuditKey, head: Option<&AuditHead>, rows: &[AuditEvent]) -> ChainCheck {
    let Some(head) = head else {
        return match rows.first() {
            None => ChainCheck::Intact { events: 0 },
            Some(first) => ChainCheck::BrokenAt {
                seq: first.seq,
                fault: ChainFault::HeadMissing,
            },
        };
    };
    if key.head_mac(head) != head.mac {
        return ChainCheck::BrokenAt {
            seq: head.last_seq,
            fault: ChainFault::HeadForged,
        };
    }
    let mut v = ChainVerifier::new(key, head.keyed_from);
    for row in rows {
        if !v.push(row) {
            break;
        }
    }
    v.finish(head)
}

impl Store {
    /// The retention checkpoint of one chain, if retention ever dropped rows from it.
    pub async fn audit_checkpoint(
        &self,
        tenant: Option<TenantId>,
    ) -> Result<Option<AuditCheckpoint>, DomainError> {
        audit_checkpoint::Entity::find_by_id(chain_of(tenant))
            .one(self.conn())
            .await
            .map_err(map_db_err)
    }

    /// Checks every MAC and link of one chain, from its checkpoint (if retention dropped its
    /// oldest rows) to its head, reading it in pages. A tenant's chain (and the platform
    /// chain) always has events — the first is the tenant's creation — so a chain with
    /// neither rows nor head was erased. An unknown tenant is `NotFound`.
    ///
    /// Rows appended while it runs are not checked (the head was read first); a purge that
    /// ran meanwhile makes it start over from the new checkpoint, once.
    pub async fn verify_audit_chain(
        &self,
        tenant: Option<TenantId>,
    ) -> Result<ChainCheck, DomainError> {
        if let Some(t) = tenant.filter(|t| !t.is_platform()) {
            self.tenant(t).await?;
        }
        let checkpoint = self.audit_checkpoint(tenant).await?;
        let check = self.verify_once(tenant, checkpoint.as_ref()).await?;
        if matches!(check, ChainCheck::BrokenAt { .. })
            && self.audit_checkpoint(tenant).await? != checkpoint
        {
            let checkpoint = self.audit_checkpoint(tenant).await?;
            return self.verify_once(tenant, checkpoint.as_ref()).await;
        }
        Ok(check)
    }

    async fn verify_once(
        &self,
        tenant: Option<TenantId>,
        checkpoint: Option<&AuditCheckpoint>,
    ) -> Result<ChainCheck, DomainError> {
        let key = self.audit_key()?;
        let broken = |seq, fault| Ok(ChainCheck::BrokenAt { seq, fault });
        if let Some(c) = checkpoint {
            if key.checkpoint_mac(c) != c.mac {
                return broken(c.seq, ChainFault::CheckpointForged);
            }
        }
        let Some(head) = self.audit_head(tenant).await? else {
            let first = std::pin::pin!(self.audit_rows(tenant, 0, i64::MAX, 1))
                .try_next()
                .await?;
            return match first.and_then(|page| page.into_iter().next()) {
                Some(row) => broken(row.seq, ChainFault::HeadMissing),
                None => broken(1, ChainFault::HeadMissing),
            };
        };
        if key.head_mac(&head) != head.mac {
            return broken(head.last_seq, ChainFault::HeadForged);
        }
        let mut v = match checkpoint {
            Some(c) => ChainVerifier::after(key, head.keyed_from, c.seq, c.hash.clone()),
            None => ChainVerifier::new(key, head.keyed_from),
        };
        // Every row (not only those past the checkpoint, so one left behind it is found) up
        // to the head, and the first one beyond it, if any.
        let mut pages = std::pin::pin!(self.audit_rows(
            tenant,
            0,
            head.last_seq.saturating_add(1),
            crate::audit_read::PAGE
        ));
        while let Some(page) = pages.try_next().await? {
            if !page.iter().all(|row| v.push(row)) {
                break;
            }
        }
        let check = v.finish(&head);
        if let ChainCheck::BrokenAt {
            fault: ChainFault::BeyondHead,
            seq,
        } = check
        {
            // Appended by Tollgate after the head was read, if the head has moved past it.
            if self
                .audit_head(tenant)
                .await?
                .is_some_and(|now| now.last_seq >= seq && key.head_mac(&now) == now.mac)
            {
                return Ok(ChainCheck::Intact {
                    events: (head.last_seq - checkpoint.map_or(0, |c| c.seq)) as u64,
                });
            }
        }
        Ok(check)
    }
}
