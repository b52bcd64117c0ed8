//! `outbox`: messages to other systems, written with what they announce, sent by a relay.
use sea_orm::entity::prelude::*;

/// An outbox row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// What kind of message (`stripe.invoice`).
    pub topic: String,
    /// Unique per topic (the invoice id): a message is written once.
    pub key: String,
    pub tenant_id: Uuid,
    /// JSON.
    pub payload: String,
    /// `pending`, `done` or `failed` (given up; an operator looks).
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub last_error: Option<String>,
    /// JSON: what the other system answered (its ids).
    pub result: Option<String>,
    pub created_at: DateTimeUtc,
    pub done_at: Option<DateTimeUtc>,
}

/// No navigable relations are declared.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
