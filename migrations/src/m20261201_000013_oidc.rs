//! Portal sign-in with a tenant's own OpenID Connect provider.
//!
//! - `tenant_oidc`: one provider per tenant, set by the operator: its issuer, the client id
//!   and secret Tollgate was registered with there (the secret encrypted under the master key:
//!   it is read back for each code exchange), the email domain whose people may sign in
//!   (unique: one tenant per domain, which is how the sign-in page finds the tenant), and the
//!   role a person gets on first sign-in.
//! - `oidc_logins`: a sign-in under way, from its start to the provider's callback: the
//!   digest of its `state` (the key, also bound to the browser by a cookie), the `nonce` the
//!   ID token must carry and the PKCE verifier of the code exchange. Deleted when the callback
//!   uses it (so a replayed callback finds nothing) or when it expires.
//! - `admins.oidc_subject`: the provider's `sub` of the person a member signed in as first;
//!   a later sign-in with the same email but another subject is refused.

use sea_orm_migration::prelude::*;

/// Creates the two tables and the column.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000013_oidc"
    }
}

#[derive(DeriveIden)]
enum TenantOidc {
    Table,
    TenantId,
    Issuer,
    ClientId,
    ClientSecretSealed,
    AllowedDomain,
    DefaultRole,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OidcLogins {
    Table,
    StateHash,
    TenantId,
    Nonce,
    PkceVerifier,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Admins {
    Table,
    OidcSubject,
}

fn text<T: IntoIden>(c: T) -> ColumnDef {
    ColumnDef::new(c).text().not_null().to_owned()
}

fn ts<T: IntoIden>(c: T) -> ColumnDef {
    ColumnDef::new(c)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TenantOidc::Table)
                    .col(
                        ColumnDef::new(TenantOidc::TenantId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(TenantOidc::Issuer))
                    .col(text(TenantOidc::ClientId))
                    .col(text(TenantOidc::ClientSecretSealed))
                    .col(text(TenantOidc::AllowedDomain))
                    .col(text(TenantOidc::DefaultRole))
                    .col(ts(TenantOidc::CreatedAt))
                    .col(ts(TenantOidc::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("tenant_oidc_domain")
                    .table(TenantOidc::Table)
                    .col(TenantOidc::AllowedDomain)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OidcLogins::Table)
                    .col(
                        ColumnDef::new(OidcLogins::StateHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(OidcLogins::TenantId).uuid().not_null())
                    .col(text(OidcLogins::Nonce))
                    .col(text(OidcLogins::PkceVerifier))
                    .col(ts(OidcLogins::CreatedAt))
                    .col(ts(OidcLogins::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("oidc_logins_expiry")
                    .table(OidcLogins::Table)
                    .col(OidcLogins::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Admins::Table)
                    .add_column(ColumnDef::new(Admins::OidcSubject).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Admins::Table)
                    .drop_column(Admins::OidcSubject)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(OidcLogins::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(TenantOidc::Table).to_owned())
            .await
    }
}
