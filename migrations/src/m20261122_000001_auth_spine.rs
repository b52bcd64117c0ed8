//! The authenticated spine: tenants, admins, sessions, OAuth2 clients, API keys, signing keys,
//! revoked tokens and the hash-chained audit log.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// Creates the auth-spine tables.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000001_auth_spine"
    }
}

fn id(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .uuid()
        .not_null()
        .primary_key()
        .to_owned()
}

fn uuid_col(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).uuid().not_null().to_owned()
}

fn text(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).text().not_null().to_owned()
}

fn text_null(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).text().null().to_owned()
}

fn ts(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn ts_null(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

fn tenant_fk(table: impl IntoIden + 'static) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, Alias::new("tenant_id"))
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .col(id(Tenants::Id))
                    .col(text(Tenants::Name))
                    .col(ts(Tenants::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Admins::Table)
                    .col(id(Admins::Id))
                    .col(uuid_col(Admins::TenantId))
                    .col(text(Admins::Email).unique_key().to_owned())
                    .col(text(Admins::PasswordHash))
                    .col(text(Admins::Role))
                    .col(ts(Admins::CreatedAt))
                    .foreign_key(&mut tenant_fk(Admins::Table))
                    .to_owned(),
            )
            .await?;
        index(manager, "admins_tenant", Admins::Table, Admins::TenantId).await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(text(Sessions::IdHash).primary_key().to_owned())
                    .col(uuid_col(Sessions::AdminId))
                    .col(uuid_col(Sessions::TenantId))
                    .col(text(Sessions::CsrfToken))
                    .col(ts(Sessions::CreatedAt))
                    .col(ts(Sessions::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::AdminId)
                            .to(Admins::Table, Admins::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(&mut tenant_fk(Sessions::Table))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OauthClients::Table)
                    .col(id(OauthClients::Id))
                    .col(uuid_col(OauthClients::TenantId))
                    .col(text(OauthClients::ClientId).unique_key().to_owned())
                    .col(text(OauthClients::Name))
                    .col(text(OauthClients::Scopes))
                    .col(text(OauthClients::SecretDigest))
                    .col(text_null(OauthClients::PrevSecretDigest))
                    .col(ts_null(OauthClients::PrevSecretExpiresAt))
                    .col(ts(OauthClients::CreatedAt))
                    .col(ts(OauthClients::UpdatedAt))
                    .foreign_key(&mut tenant_fk(OauthClients::Table))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "oauth_clients_tenant",
            OauthClients::Table,
            OauthClients::TenantId,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(id(ApiKeys::Id))
                    .col(uuid_col(ApiKeys::TenantId))
                    .col(text(ApiKeys::Name))
                    .col(text(ApiKeys::Prefix))
                    .col(text(ApiKeys::Digest).unique_key().to_owned())
                    .col(text(ApiKeys::Scopes))
                    .col(ts(ApiKeys::CreatedAt))
                    .col(ts_null(ApiKeys::LastUsedAt))
                    .col(ts_null(ApiKeys::ExpiresAt))
                    .col(ts_null(ApiKeys::RevokedAt))
                    .foreign_key(&mut tenant_fk(ApiKeys::Table))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "api_keys_tenant",
            ApiKeys::Table,
            ApiKeys::TenantId,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(text(SigningKeys::Kid).primary_key().to_owned())
                    .col(text(SigningKeys::Alg))
                    .col(text(SigningKeys::PrivateKeyEnc))
                    .col(text(SigningKeys::PublicKey))
                    .col(ts(SigningKeys::CreatedAt))
                    .col(ts_null(SigningKeys::ActivatedAt))
                    .col(ts_null(SigningKeys::RetiredAt))
                    .col(ts_null(SigningKeys::PublishUntil))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RevokedTokens::Table)
                    .col(text(RevokedTokens::Jti).primary_key().to_owned())
                    .col(ts(RevokedTokens::ExpiresAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(text(AuditEvents::Chain))
                    .col(ColumnDef::new(AuditEvents::Seq).big_integer().not_null())
                    .col(ColumnDef::new(AuditEvents::TenantId).uuid().null())
                    .col(ts(AuditEvents::At))
                    .col(text(AuditEvents::Actor))
                    .col(text(AuditEvents::Action))
                    .col(text_null(AuditEvents::Target))
                    .col(text_null(AuditEvents::Ip))
                    .col(text_null(AuditEvents::UserAgent))
                    .col(text(AuditEvents::Outcome))
                    .col(text(AuditEvents::Detail))
                    .col(text(AuditEvents::PrevHash))
                    .col(text(AuditEvents::Hash))
                    .primary_key(
                        Index::create()
                            .col(AuditEvents::Chain)
                            .col(AuditEvents::Seq),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "audit_events_at",
            AuditEvents::Table,
            AuditEvents::At,
        )
        .await?;

        // The audit log is append-only in the database itself, not just by convention.
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$ \
                     BEGIN RAISE EXCEPTION 'audit_events is append-only'; END; $$ LANGUAGE plpgsql; \
                     CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events \
                     FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();",
                )
                .await?;
            }
            DbBackend::Sqlite => {
                db.execute_unprepared(
                    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events \
                     BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events \
                     BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;",
                )
                .await?;
            }
            DbBackend::MySql => {}
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS audit_events_append_only() CASCADE")
                .await?;
        }
        for table in [
            AuditEvents::Table.into_iden(),
            RevokedTokens::Table.into_iden(),
            SigningKeys::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            OauthClients::Table.into_iden(),
            Sessions::Table.into_iden(),
            Admins::Table.into_iden(),
            Tenants::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden + 'static,
    col: impl IntoIden + 'static,
) -> Result<(), DbErr> {
    manager
        .create_index(Index::create().name(name).table(table).col(col).to_owned())
        .await
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Admins {
    Table,
    Id,
    TenantId,
    Email,
    PasswordHash,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    IdHash,
    AdminId,
    TenantId,
    CsrfToken,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    Id,
    TenantId,
    ClientId,
    Name,
    Scopes,
    SecretDigest,
    PrevSecretDigest,
    PrevSecretExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    TenantId,
    Name,
    Prefix,
    Digest,
    Scopes,
    CreatedAt,
    LastUsedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Kid,
    Alg,
    PrivateKeyEnc,
    PublicKey,
    CreatedAt,
    ActivatedAt,
    RetiredAt,
    PublishUntil,
}

#[derive(DeriveIden)]
enum RevokedTokens {
    Table,
    Jti,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Chain,
    Seq,
    TenantId,
    At,
    Actor,
    Action,
    Target,
    Ip,
    UserAgent,
    Outcome,
    Detail,
    PrevHash,
    Hash,
}
