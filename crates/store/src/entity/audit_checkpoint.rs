//! `audit_checkpoints`: per audit chain, what retention dropped from its start, MAC-sealed.
use sea_orm::entity::prelude::*;

/// A chain's checkpoint: every event up to `seq` was dropped; the next one links to `hash`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_checkpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain: String,
    /// Seq of the newest dropped event.
    pub seq: i64,
    /// Hash of the newest dropped event: the `prev_hash` of the first kept one.
    pub hash: String,
    /// Events dropped from this chain in all (every purge's).
    pub dropped: i64,
    /// When the newest purge ran.
    pub at: DateTimeUtc,
    /// MAC over the other fields under the audit key.
    pub mac: String,
}

/// No navigable relations are declared.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
