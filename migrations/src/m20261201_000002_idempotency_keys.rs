//! Idempotency keys: one row per (tenant, `Idempotency-Key`), claimed before a metered
//! request runs and completed, in the same transaction as its usage event, with the answer a
//! retry gets back. Usage events get server-generated ids from now on; the key lives here.

use sea_orm_migration::prelude::*;

/// Creates `idempotency_keys`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000002_idempotency_keys"
    }
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    TenantId,
    Key,
    Fingerprint,
    State,
    Claim,
    LockedUntil,
    EventId,
    ResponseStatus,
    ResponseBody,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let ts = |c: IdempotencyKeys| {
            ColumnDef::new(c)
                .timestamp_with_time_zone()
                .not_null()
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(ColumnDef::new(IdempotencyKeys::TenantId).uuid().not_null())
                    .col(ColumnDef::new(IdempotencyKeys::Key).text().not_null())
                    .col(
                        ColumnDef::new(IdempotencyKeys::Fingerprint)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(IdempotencyKeys::State).text().not_null())
                    .col(ColumnDef::new(IdempotencyKeys::Claim).text().not_null())
                    .col(ts(IdempotencyKeys::LockedUntil))
                    .col(ColumnDef::new(IdempotencyKeys::EventId).text().null())
                    .col(
                        ColumnDef::new(IdempotencyKeys::ResponseStatus)
                            .integer()
                            .null(),
                    )
                    .col(ColumnDef::new(IdempotencyKeys::ResponseBody).text().null())
                    .col(ts(IdempotencyKeys::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::TenantId)
                            .col(IdempotencyKeys::Key),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idempotency_keys_created")
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned())
            .await
    }
}
