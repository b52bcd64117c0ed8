//! `webhook_deliveries`: one event for one endpoint, sent with the same id on every attempt.
use sea_orm::entity::prelude::*;

/// A delivery row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub endpoint_id: Uuid,
    /// The `webhook-id` header: the event's id, the same on every attempt.
    pub message_id: String,
    pub event_type: String,
    /// The exact body every attempt sends.
    pub body: String,
    /// `pending`, `delivered` or `failed` (retries exhausted).
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    /// A replay was asked for: the next attempt is one more try, outside the schedule.
    pub replay_pending: bool,
    /// While an attempt is in flight: until when its claim holds.
    pub leased_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
}

/// No navigable relations are declared.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
