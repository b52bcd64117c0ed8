//! `tenant_oidc`: a tenant's OpenID Connect provider for portal sign-in.
use sea_orm::entity::prelude::*;

/// A tenant's provider. `client_secret_sealed` never leaves the auth layer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenant_oidc")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    pub issuer: String,
    pub client_id: String,
    /// The client secret, sealed under the master key (bound to the tenant id).
    pub client_secret_sealed: String,
    /// Lower-case; unique across tenants.
    pub allowed_domain: String,
    pub default_role: String,
    /// The discovery document as checked at configuration (JSON; endpoints pinned).
    pub provider_metadata: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No navigable relations are declared.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
