//! `limit_overrides`: tighter rate limits for one API key or OAuth2 client.
use sea_orm::entity::prelude::*;

/// An override row, keyed by the principal id (key id or client id).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "limit_overrides")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub principal_id: String,
    pub tenant_id: Uuid,
    pub rate: Option<f64>,
    pub burst: Option<i32>,
    pub created_at: DateTimeUtc,
}

/// No navigable relations are declared.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
