//! Audit chain heads: per chain, the last sequence number and hash, sealed with a MAC under a
//! key derived from the master key. A head lives outside `audit_events`, so deleting the
//! newest events (or all of them: `TRUNCATE` skips row triggers) leaves a head that says what
//! is missing. From this migration on, event hashes are keyed MACs too; chains written before
//! it get their heads in `m20261201_000004_audit_legacy_heads`.

use sea_orm_migration::prelude::*;

/// Creates `audit_heads`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000003_audit_heads"
    }
}

#[derive(DeriveIden)]
enum AuditHeads {
    Table,
    Chain,
    LastSeq,
    LastHash,
    Mac,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditHeads::Table)
                    .col(
                        ColumnDef::new(AuditHeads::Chain)
                            .text()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AuditHeads::LastSeq).big_integer().not_null())
                    .col(ColumnDef::new(AuditHeads::LastHash).text().not_null())
                    .col(ColumnDef::new(AuditHeads::Mac).text().not_null())
                    .col(
                        ColumnDef::new(AuditHeads::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditHeads::Table).to_owned())
            .await
    }
}
