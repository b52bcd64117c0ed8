//! `idempotency_keys`: a client's `Idempotency-Key`, per tenant, with the request it named.
use sea_orm::entity::prelude::*;

/// An idempotency-key row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Digest of the request the key first named.
    pub fingerprint: String,
    /// `running` or `done`.
    pub state: String,
    /// A random token of the request that holds the key while it runs.
    pub claim: String,
    /// While `running`: when the holder is presumed gone (crashed) and a retry may take over.
    pub locked_until: DateTimeUtc,
    /// The usage event the completed request recorded.
    pub event_id: Option<String>,
    pub response_status: Option<i32>,
    /// The completed request's answer, as sent.
    pub response_body: Option<String>,
    pub created_at: DateTimeUtc,
}

/// No navigable relations are declared.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
