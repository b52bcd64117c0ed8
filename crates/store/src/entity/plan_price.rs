//! `plan_prices`: a plan's price from a billing period on (JSON of `tollgate_core::pricing::Price`).
use sea_orm::entity::prelude::*;

/// A plan-price row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_prices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub plan_id: Uuid,
    /// The first period (`YYYY-MM`) the price applies to.
    pub effective_period: String,
    /// The price, as JSON.
    pub price: String,
    pub created_at: DateTimeUtc,
}

/// No navigable relations are declared.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
