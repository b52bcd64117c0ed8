//! Portal sign-in hardening.
//!
//! - `admins.must_change_password`: set for a member created with a generated one-time
//!   password; until they choose their own, their session can do nothing but change it.
//! - `sessions.last_seen_at`: when the session was last used, so a session idle for longer
//!   than the configured inactivity timeout ends (`NULL` on rows from before: their
//!   `created_at` stands in).
//! - `admins.password_epoch` and `sessions.password_epoch`: a password change moves the
//!   admin's epoch on, and a session lives only while its epoch is the admin's, so a sign-in
//!   checked against the old password while the change committed cannot outlive it.

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
    PasswordEpoch,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    LastSeenAt,
    PasswordEpoch,
}

fn epoch<T: IntoIden>(c: T) -> ColumnDef {
    ColumnDef::new(c)
        .big_integer()
        .not_null()
        .default(0)
        .to_owned()
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
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Admins::Table)
                    .add_column(epoch(Admins::PasswordEpoch))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(epoch(Sessions::PasswordEpoch))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            (
                Sessions::Table.into_iden(),
                Sessions::PasswordEpoch.into_iden(),
            ),
            (Admins::Table.into_iden(), Admins::PasswordEpoch.into_iden()),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
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
