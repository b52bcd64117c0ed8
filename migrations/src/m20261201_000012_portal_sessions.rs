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

/// The columns, in the order they are added (and dropped in reverse).
fn columns() -> Vec<(DynIden, ColumnDef)> {
    vec![
        (
            Admins::Table.into_iden(),
            ColumnDef::new(Admins::MustChangePassword)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
        ),
        (
            Sessions::Table.into_iden(),
            ColumnDef::new(Sessions::LastSeenAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ),
        (Admins::Table.into_iden(), epoch(Admins::PasswordEpoch)),
        (Sessions::Table.into_iden(), epoch(Sessions::PasswordEpoch)),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite takes no more.
        for (table, mut column) in columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in columns().into_iter().rev() {
            let name = column.get_column_name();
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .drop_column(Alias::new(name))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
