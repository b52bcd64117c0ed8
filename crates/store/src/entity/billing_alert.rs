//! `billing_alerts`: a threshold reached, once per tenant, period, kind and level.
use sea_orm::entity::prelude::*;

/// A billing-alert row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "billing_alerts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub period: String,
    /// `usage`, `spend` or `credit`.
    pub kind: String,
    /// Percent for `usage` and `spend`; 0 for `credit`.
    pub level: i32,
    /// JSON: the numbers at the crossing.
    pub detail: String,
    pub created_at: DateTimeUtc,
}

/// No navigable relations are declared.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
