//! Portal sign-in hardening.
//!
//! - `admins.must_change_password`: set for a member created with a generated one-time
//!   password; until they choose their own, their session can do nothing but change it.
//! - `sessions.last_seen_at`: when the session was last used, so a session idle for longer
//!   than the configured inactivity timeout ends (`NULL` on rows from before: their
//!   `created_at` stands in).

use sea_orm_migration::prelude::*;

/// Adds the two columns.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000012_portal_sessions"
    }
}

#[derive(DeriveIden)]
enum Admins {
    Table,
    MustChangePassword,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    LastSeenAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite takes no more.
        manager
            .alter_table(
                Table::alter()
                    .table(Admins::Table)
                    .add_column(
                        ColumnDef::new(Admins::MustChangePassword)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(
                        ColumnDef::new(Sessions::LastSeenAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(Sessions::LastSeenAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Admins::Table)
                    .drop_column(Admins::MustChangePassword)
                    .to_owned(),
            )
            .await
    }
}
