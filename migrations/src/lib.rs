//! Tollgate's schema, one file per change; every migration runs on PostgreSQL and SQLite.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_auth_spine;
mod m20261123_000001_metering;
mod m20261201_000001_platform_tenant;
mod m20261201_000002_idempotency_keys;
mod m20261201_000003_audit_heads;
mod m20261201_000004_audit_legacy_heads;
mod m20261201_000005_plan_prices;
mod m20261201_000006_credits_and_caps;
mod m20261201_000007_invoices;
mod m20261201_000008_usage_units_index;
mod m20261201_000009_stripe;
mod m20261201_000010_audit_retention;
mod m20261201_000011_webhooks;
mod m20261201_000012_portal_sessions;
mod m20261201_000013_oidc;
mod m20261205_000014_oidc_identities;
mod m20261205_000015_pdf_pages;

/// The ordered list of migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_auth_spine::Migration),
            Box::new(m20261123_000001_metering::Migration),
            Box::new(m20261201_000001_platform_tenant::Migration),
            Box::new(m20261201_000002_idempotency_keys::Migration),
            Box::new(m20261201_000003_audit_heads::Migration),
            Box::new(m20261201_000004_audit_legacy_heads::Migration),
            Box::new(m20261201_000005_plan_prices::Migration),
            Box::new(m20261201_000006_credits_and_caps::Migration),
            Box::new(m20261201_000007_invoices::Migration),
            Box::new(m20261201_000008_usage_units_index::Migration),
            Box::new(m20261201_000009_stripe::Migration),
            Box::new(m20261201_000010_audit_retention::Migration),
            Box::new(m20261201_000011_webhooks::Migration),
            Box::new(m20261201_000012_portal_sessions::Migration),
            Box::new(m20261201_000013_oidc::Migration),
            Box::new(m20261205_000014_oidc_identities::Migration),
            Box::new(m20261205_000015_pdf_pages::Migration),
        ]
    }
}
