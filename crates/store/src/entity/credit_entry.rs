//! `credit_entries`: the append-only ledger of prepaid credit (grants positive; consumption
//! and expiry negative, each naming its grant).
use sea_orm::entity::prelude::*;

/// A credit-ledger row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credit_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// The grant this entry belongs to (a grant's own entry names itself).
    pub grant_id: Uuid,
    /// `grant`, `consume` or `expire`.
    pub kind: String,
    /// Unique per grant: `grant`, `expire`, or `invoice:<id>`.
    pub reference: String,
    /// Minor units; positive for a grant, negative otherwise.
    pub amount: i64,
    pub currency: String,
    pub expires_at: Option<DateTimeUtc>,
    pub invoice_id: Option<Uuid>,
    pub memo: Option<String>,
    pub actor: String,
    pub created_at: DateTimeUtc,
}

/// No navigable relations are declared.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
