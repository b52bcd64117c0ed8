//! `usage_events`: one row per metered call, unique per tenant by event id.
use sea_orm::entity::prelude::*;

/// A usage-event row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub event_id: String,
    pub principal_kind: String,
    pub principal_id: String,
    pub operation: String,
    pub units: i64,
    pub status: i32,
    pub latency_ms: i32,
    pub fingerprint: Option<String>,
    pub period: String,
    pub hour_epoch: i64,
    pub created_at: DateTimeUtc,
}

/// No navigable relations are declared.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
