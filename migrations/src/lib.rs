//! Tollgate's schema, one file per change; every migration runs on PostgreSQL and SQLite.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_auth_spine;
mod m20261123_000001_metering;

/// The ordered list of migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_auth_spine::Migration),
            Box::new(m20261123_000001_metering::Migration),
        ]
    }
}
