//! `sessions`: server-side portal sessions, keyed by a digest of the cookie value.
use sea_orm::entity::prelude::*;

/// A session row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_hash: String,
    pub admin_id: Uuid,
    pub tenant_id: Uuid,
    pub csrf_token: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Last use (`None`: not used since `created_at`).
    pub last_seen_at: Option<DateTimeUtc>,
    /// The admin's password epoch when the password this session signed in with was checked.
    pub password_epoch: i64,
}

/// No navigable relations are declared.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
