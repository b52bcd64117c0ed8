//! The usage index by tenant and period also holds `units`, so a period's sum (the quota's
//! seed, the draft and the finalized invoice) is read from the index alone, as `count(*)` is,
//! without visiting the table's rows (`rate_bench`: 10 million events).

use sea_orm_migration::prelude::*;

/// Replaces `usage_events_tenant_period` with a covering index.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000008_usage_units_index"
    }
}

#[derive(DeriveIden)]
enum UsageEvents {
    Table,
    TenantId,
    Period,
    Units,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("usage_events_tenant_period_units")
                    .table(UsageEvents::Table)
                    .col(UsageEvents::TenantId)
                    .col(UsageEvents::Period)
                    .col(UsageEvents::Units)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("usage_events_tenant_period")
                    .table(UsageEvents::Table)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("usage_events_tenant_period")
                    .table(UsageEvents::Table)
                    .col(UsageEvents::TenantId)
                    .col(UsageEvents::Period)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("usage_events_tenant_period_units")
                    .table(UsageEvents::Table)
                    .to_owned(),
            )
            .await
    }
}
