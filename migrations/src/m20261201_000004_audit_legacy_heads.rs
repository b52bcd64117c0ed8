//! Chains written before keyed hashes get a head too, so they keep working: each chain with
//! events but no head gets one naming its newest event, with `keyed_from` just past it (its
//! events stay verifiable by their unkeyed SHA-256; later ones are keyed MACs) and no MAC yet.
//! The server seals these heads at its first start after this migration, once, after checking
//! the old chains (see `tollgate_store::audit`); a head left unsealed later is tampering.

use sea_orm_migration::prelude::*;

/// Adds `audit_heads.keyed_from` and heads for chains that predate them.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000004_audit_legacy_heads"
    }
}

#[derive(DeriveIden)]
enum AuditHeads {
    Table,
    KeyedFrom,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AuditHeads::Table)
                    .add_column(
                        ColumnDef::new(AuditHeads::KeyedFrom)
                            .big_integer()
                            .not_null()
                            .default(1),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO audit_heads (chain, last_seq, last_hash, mac, updated_at, keyed_from) \
                 SELECT e.chain, e.seq, e.hash, '', e.at, e.seq + 1 FROM audit_events e \
                 WHERE e.seq = (SELECT MAX(x.seq) FROM audit_events x WHERE x.chain = e.chain) \
                 AND NOT EXISTS (SELECT 1 FROM audit_heads h WHERE h.chain = e.chain)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM audit_heads WHERE keyed_from > 1")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuditHeads::Table)
                    .drop_column(AuditHeads::KeyedFrom)
                    .to_owned(),
            )
            .await
    }
}
