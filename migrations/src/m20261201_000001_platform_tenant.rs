//! The platform tenant: a fixed row (id `00000000-0000-0000-0000-000000000001`, which no
//! generated id can take) that holds the operator's credentials. Only credentials of this
//! tenant can carry the `operator` scope, so the platform is never found by a name a
//! customer could also choose.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::prelude::Uuid;

/// Inserts the platform tenant.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000001_platform_tenant"
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Name,
    CreatedAt,
}

/// The platform tenant's id (`tollgate_core::TenantId::PLATFORM`).
const PLATFORM: u128 = 1;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let insert = Query::insert()
            .into_table(Tenants::Table)
            .columns([Tenants::Id, Tenants::Name, Tenants::CreatedAt])
            .values([
                Uuid::from_u128(PLATFORM).into(),
                "Tollgate platform".into(),
                chrono::Utc::now().into(),
            ])
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let delete = Query::delete()
            .from_table(Tenants::Table)
            .and_where(Expr::col(Tenants::Id).eq(Uuid::from_u128(PLATFORM)))
            .to_owned();
        manager.exec_stmt(delete).await
    }
}
