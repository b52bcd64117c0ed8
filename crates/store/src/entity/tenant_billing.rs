//! `tenant_billing`: a tenant's own billing settings.
use sea_orm::entity::prelude::*;

/// A tenant-billing row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenant_billing")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    /// The monthly spend cap, minor units of `spend_cap_currency`.
    pub spend_cap: Option<i64>,
    pub spend_cap_currency: Option<String>,
    /// Alert when the credit left falls below this (minor units).
    pub credit_alert_below: Option<i64>,
    pub updated_at: DateTimeUtc,
    /// Set while the tenant is suspended for an unpaid invoice.
    pub suspended_at: Option<DateTimeUtc>,
}

/// No navigable relations are declared.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
