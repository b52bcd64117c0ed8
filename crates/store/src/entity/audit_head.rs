//! `audit_heads`: per audit chain, its last sequence number and hash, MAC-sealed.
use sea_orm::entity::prelude::*;

/// A chain's head.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_heads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain: String,
    /// Seq of the chain's newest event.
    pub last_seq: i64,
    /// Hash of the chain's newest event.
    pub last_hash: String,
    /// MAC over chain, seq, hash and `keyed_from` under the audit key; empty for a head the
    /// migrations made for a chain older than keyed hashes, until the server seals it.
    pub mac: String,
    pub updated_at: DateTimeUtc,
    /// Events from this seq on are keyed MACs; those before it (written before keyed hashes)
    /// are unkeyed SHA-256.
    pub keyed_from: i64,
}

/// No navigable relations are declared.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
