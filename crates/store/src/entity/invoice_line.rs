//! `invoice_lines`: an invoice's lines, in order.
use sea_orm::entity::prelude::*;

/// An invoice-line row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub invoice_id: Uuid,
    /// From 0.
    pub position: i32,
    /// `base_fee`, `included`, `overage` or `credit`.
    pub kind: String,
    pub tier: Option<i32>,
    pub quantity: i64,
    /// Minor units (negative for credit).
    pub amount: i64,
    pub description: String,
}

/// No navigable relations are declared.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
