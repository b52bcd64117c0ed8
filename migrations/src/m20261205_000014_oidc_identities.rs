//! Identity-provider sign-in after an attacker's review.
//!
//! - `tenant_oidc.provider_metadata`: the provider's discovery document as it was checked when
//!   the operator configured it (its endpoints pinned: a provider that later changes what its
//!   discovery says cannot send Tollgate's requests elsewhere). Rows configured before this
//!   migration have none; the first sign-in fetches, checks and pins it.
//! - `admins.oidc_issuer`: the issuer of the `oidc_subject` a member is linked to. A member is
//!   found by (tenant, issuer, subject) first, so an identity is one member even when the
//!   email the provider gives for it changes; the pair is unique per tenant. Existing links
//!   are cleared: a link made before this migration does not say which issuer's `sub` it
//!   holds (the tenant may have switched providers since), and stamping the current issuer
//!   on it would hand the member to whoever holds that `sub` at the new provider. Each such
//!   member is linked again at their next sign-in, by their verified email.

use sea_orm_migration::prelude::*;

/// Adds the two columns and the unique identity index.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000014_oidc_identities"
    }
}

#[derive(DeriveIden)]
enum TenantOidc {
    Table,
    ProviderMetadata,
}

#[derive(DeriveIden)]
enum Admins {
    Table,
    TenantId,
    OidcIssuer,
    OidcSubject,
}

const INDEX: &str = "admins_oidc_identity";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(TenantOidc::Table)
                    .add_column(ColumnDef::new(TenantOidc::ProviderMetadata).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Admins::Table)
                    .add_column(ColumnDef::new(Admins::OidcIssuer).text().null())
                    .to_owned(),
            )
            .await?;
        // Plain SQL that PostgreSQL and SQLite both read.
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE admins SET oidc_subject = NULL WHERE oidc_subject IS NOT NULL",
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Admins::Table)
                    .col(Admins::TenantId)
                    .col(Admins::OidcIssuer)
                    .col(Admins::OidcSubject)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Admins::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Admins::Table)
                    .drop_column(Admins::OidcIssuer)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(TenantOidc::Table)
                    .drop_column(TenantOidc::ProviderMetadata)
                    .to_owned(),
            )
            .await
    }
}
