//! Metering: plans, tenants' plan assignment, per-credential limit overrides, and usage
//! events (one per metered call, keyed per tenant by request id or `Idempotency-Key`).

use sea_orm_migration::prelude::*;

/// Creates the metering tables.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000001_metering"
    }
}

#[derive(DeriveIden)]
enum Plans {
    Table,
    Id,
    Name,
    Rate,
    Burst,
    MaxConcurrent,
    MonthlyUnits,
    Overage,
    MaxImageBytes,
    MaxPixels,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    PlanId,
}

#[derive(DeriveIden)]
enum LimitOverrides {
    Table,
    PrincipalId,
    TenantId,
    Rate,
    Burst,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UsageEvents {
    Table,
    TenantId,
    EventId,
    PrincipalKind,
    PrincipalId,
    Operation,
    Units,
    Status,
    LatencyMs,
    Fingerprint,
    Period,
    HourEpoch,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Plans::Table)
                    .col(ColumnDef::new(Plans::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Plans::Name).text().not_null().unique_key())
                    .col(ColumnDef::new(Plans::Rate).double().not_null())
                    .col(ColumnDef::new(Plans::Burst).integer().not_null())
                    .col(ColumnDef::new(Plans::MaxConcurrent).integer().not_null())
                    .col(ColumnDef::new(Plans::MonthlyUnits).big_integer().not_null())
                    .col(ColumnDef::new(Plans::Overage).boolean().not_null())
                    .col(
                        ColumnDef::new(Plans::MaxImageBytes)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Plans::MaxPixels).big_integer().not_null())
                    .col(
                        ColumnDef::new(Plans::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // A tenant without a plan gets the built-in default plan. SQLite cannot add a column
        // with a foreign key to an existing table, so the reference is enforced by the code
        // that sets it (plans are never deleted).
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(ColumnDef::new(Tenants::PlanId).uuid().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LimitOverrides::Table)
                    .col(
                        ColumnDef::new(LimitOverrides::PrincipalId)
                            .text()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(LimitOverrides::TenantId).uuid().not_null())
                    .col(ColumnDef::new(LimitOverrides::Rate).double().null())
                    .col(ColumnDef::new(LimitOverrides::Burst).integer().null())
                    .col(
                        ColumnDef::new(LimitOverrides::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("limit_overrides_tenant")
                    .table(LimitOverrides::Table)
                    .col(LimitOverrides::TenantId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UsageEvents::Table)
                    .col(ColumnDef::new(UsageEvents::TenantId).uuid().not_null())
                    .col(ColumnDef::new(UsageEvents::EventId).text().not_null())
                    .col(ColumnDef::new(UsageEvents::PrincipalKind).text().not_null())
                    .col(ColumnDef::new(UsageEvents::PrincipalId).text().not_null())
                    .col(ColumnDef::new(UsageEvents::Operation).text().not_null())
                    .col(ColumnDef::new(UsageEvents::Units).big_integer().not_null())
                    .col(ColumnDef::new(UsageEvents::Status).integer().not_null())
                    .col(ColumnDef::new(UsageEvents::LatencyMs).integer().not_null())
                    .col(ColumnDef::new(UsageEvents::Fingerprint).text().null())
                    .col(ColumnDef::new(UsageEvents::Period).text().not_null())
                    .col(
                        ColumnDef::new(UsageEvents::HourEpoch)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UsageEvents::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(UsageEvents::TenantId)
                            .col(UsageEvents::EventId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("usage_events_tenant_hour")
                    .table(UsageEvents::Table)
                    .col(UsageEvents::TenantId)
                    .col(UsageEvents::HourEpoch)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("usage_events_tenant_period")
                    .table(UsageEvents::Table)
                    .col(UsageEvents::TenantId)
                    .col(UsageEvents::Period)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UsageEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(LimitOverrides::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .drop_column(Tenants::PlanId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Plans::Table).to_owned())
            .await
    }
}
