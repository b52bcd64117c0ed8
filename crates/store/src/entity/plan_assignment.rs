//! `plan_assignments`: when a tenant was put on which plan.
use sea_orm::entity::prelude::*;

/// One assignment: from `assigned_at`, the tenant is on `plan_id`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_assignments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub assigned_at: DateTimeUtc,
    pub plan_id: Uuid,
}

/// No navigable relations are declared.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
