//! `admins`: tenant administrators who log in to the portal.
use sea_orm::entity::prelude::*;

/// An admin row. `password_hash` never leaves the auth layer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "admins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: DateTimeUtc,
    /// Created with a one-time password: the session may only change it.
    pub must_change_password: bool,
    /// Moves on at every password change; a session of an older epoch is ended.
    pub password_epoch: i64,
    /// The identity provider's `sub` of the person who signed in as this member first.
    pub oidc_subject: Option<String>,
    /// The issuer of `oidc_subject`; (tenant, issuer, subject) is unique.
    pub oidc_issuer: Option<String>,
}

/// No navigable relations are declared; queries filter by `tenant_id` explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
