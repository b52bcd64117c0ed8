//! `plans`: what tenants may do (rates, concurrency, monthly units, image limits).
use sea_orm::entity::prelude::*;

/// A plan row.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "plans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub rate: f64,
    pub burst: i32,
    pub max_concurrent: i32,
    pub monthly_units: i64,
    pub overage: bool,
    pub max_image_bytes: i64,
    pub max_pixels: i64,
    pub max_pdf_pages: i32,
    pub audit_retention_days: Option<i32>,
    pub created_at: DateTimeUtc,
}

/// No navigable relations are declared.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
