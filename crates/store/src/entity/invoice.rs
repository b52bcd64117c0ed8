//! `invoices`: a tenant's finalized invoice for a period.
use sea_orm::entity::prelude::*;

/// An invoice row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Per tenant, from 1, without gaps.
    pub number: i64,
    /// `YYYY-MM`.
    pub period: String,
    /// `open` (finalized, unpaid) or `paid`.
    pub status: String,
    pub plan: String,
    pub currency: String,
    /// Units billed (the period's, plus any recorded late for earlier invoiced periods).
    pub units: i64,
    pub subtotal: i64,
    pub credit_applied: i64,
    pub total: i64,
    /// The price it was rated with (JSON of `tollgate_core::pricing::Price`).
    pub price: String,
    /// The usage it was rated from (JSON).
    pub snapshot: String,
    pub finalized_at: DateTimeUtc,
    pub due_at: DateTimeUtc,
    pub paid_at: Option<DateTimeUtc>,
    pub stripe_invoice_id: Option<String>,
}

/// No navigable relations are declared.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
