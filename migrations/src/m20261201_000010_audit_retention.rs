//! Audit retention: a plan may keep its tenants' audit events for a number of days
//! (`plans.audit_retention_days`, `NULL` keeps them forever). Deleting the oldest events of a
//! chain leaves a **checkpoint** (`audit_checkpoints`: the last dropped seq and hash, how many
//! rows were dropped in all, when, and a MAC under the audit key), and verification starts
//! from it. The append-only trigger now lets a row be deleted only once a checkpoint covers
//! it, so rows are dropped oldest first and never without a checkpoint written first in the
//! same transaction; updates stay refused. A checkpoint itself only moves forward (a higher
//! seq and count) and is never deleted, so it cannot be raised over rows and lowered again.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// Adds the retention column, the checkpoints table and the covered-delete trigger.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000010_audit_retention"
    }
}

#[derive(DeriveIden)]
enum Plans {
    Table,
    AuditRetentionDays,
}

#[derive(DeriveIden)]
enum AuditCheckpoints {
    Table,
    Chain,
    Seq,
    Hash,
    Dropped,
    At,
    Mac,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Plans::Table)
                    .add_column(ColumnDef::new(Plans::AuditRetentionDays).integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditCheckpoints::Table)
                    .col(
                        ColumnDef::new(AuditCheckpoints::Chain)
                            .text()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AuditCheckpoints::Seq)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditCheckpoints::Hash).text().not_null())
                    .col(
                        ColumnDef::new(AuditCheckpoints::Dropped)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuditCheckpoints::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditCheckpoints::Mac).text().not_null())
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$ \
                     BEGIN \
                       IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM audit_checkpoints c \
                          WHERE c.chain = OLD.chain AND c.seq >= OLD.seq) THEN RETURN OLD; END IF; \
                       RAISE EXCEPTION 'audit_events is append-only'; \
                     END; $$ LANGUAGE plpgsql;",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE FUNCTION audit_checkpoints_forward_only() RETURNS trigger AS $$ \
                     BEGIN \
                       IF TG_OP = 'UPDATE' AND NEW.chain = OLD.chain AND NEW.seq > OLD.seq \
                          AND NEW.dropped > OLD.dropped THEN RETURN NEW; END IF; \
                       RAISE EXCEPTION 'audit_checkpoints only move forward'; \
                     END; $$ LANGUAGE plpgsql; \
                     CREATE TRIGGER audit_checkpoints_forward BEFORE UPDATE OR DELETE \
                     ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_forward_only();",
                )
                .await?;
            }
            DbBackend::Sqlite => {
                db.execute_unprepared(
                    "DROP TRIGGER IF EXISTS audit_events_no_delete; \
                     CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events \
                     WHEN NOT EXISTS (SELECT 1 FROM audit_checkpoints c \
                       WHERE c.chain = OLD.chain AND c.seq >= OLD.seq) \
                     BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints \
                     BEGIN SELECT RAISE(ABORT, 'audit_checkpoints only move forward'); END; \
                     CREATE TRIGGER audit_checkpoints_forward BEFORE UPDATE ON audit_checkpoints \
                     WHEN NOT (NEW.chain = OLD.chain AND NEW.seq > OLD.seq AND NEW.dropped > OLD.dropped) \
                     BEGIN SELECT RAISE(ABORT, 'audit_checkpoints only move forward'); END;",
                )
                .await?;
            }
            DbBackend::MySql => {}
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$ \
                     BEGIN RAISE EXCEPTION 'audit_events is append-only'; END; $$ LANGUAGE plpgsql; \
                     DROP TRIGGER IF EXISTS audit_checkpoints_forward ON audit_checkpoints; \
                     DROP FUNCTION IF EXISTS audit_checkpoints_forward_only();",
                )
                .await?;
            }
            DbBackend::Sqlite => {
                db.execute_unprepared(
                    "DROP TRIGGER IF EXISTS audit_events_no_delete; \
                     CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events \
                     BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;",
                )
                .await?;
            }
            DbBackend::MySql => {}
        }
        manager
            .drop_table(Table::drop().table(AuditCheckpoints::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Plans::Table)
                    .drop_column(Plans::AuditRetentionDays)
                    .to_owned(),
            )
            .await
    }
}
