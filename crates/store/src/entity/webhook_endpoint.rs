//! `webhook_endpoints`: a tenant's webhook endpoint and its (encrypted) signing secret.
use sea_orm::entity::prelude::*;

/// An endpoint row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub url: String,
    pub description: Option<String>,
    /// Subscribed event types, space-separated wire names.
    pub event_types: String,
    /// `active`, `paused` or `failing`.
    pub status: String,
    pub timeout_secs: i32,
    /// The signing secret, sealed under the master key with the endpoint id as AAD.
    pub secret_sealed: String,
    /// The previous secret, still signed with until `prev_secret_expires_at`.
    pub prev_secret_sealed: Option<String>,
    pub prev_secret_expires_at: Option<DateTimeUtc>,
    /// Failed attempts since the last success.
    pub consecutive_failures: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No navigable relations are declared.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
