//! API keys of the signed-in admin's tenant.

use super::members::{parse_uuid, Deleted};
use super::{ctx, Tag};
use crate::problem::ApiResult;
use crate::security::SessionCookie;
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use poem::web::Data;
use poem::Request;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use std::sync::Arc;
use tollgate_auth::service::{CreatedKey, KeyView};
use tollgate_core::api_key::KeyEnv;
use tollgate_core::{DomainError, KeyId, Role};

/// Which keys a key is: `live` keys (`tg_live_…`) or `test` keys (`tg_test_…`), told apart
/// by their prefix so a leaked key's kind is obvious.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum KeyEnvironment {
    /// Production keys.
    Live,
    /// Test keys.
    Test,
}

/// An API key as listed (never the key itself).
#[derive(Debug, Object)]
pub struct Key {
    /// Id.
    pub key_id: String,
    /// Display name.
    pub name: String,
    /// First characters of the key, to tell keys apart.
    pub prefix: String,
    /// The key's environment (its prefix says it too).
    pub environment: KeyEnvironment,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last use (minute resolution); absent before the first use.
    #[oai(skip_serializing_if_is_none)]
    pub last_used_at: Option<DateTime<Utc>>,
    /// Expiry; absent for a key that does not expire.
    #[oai(skip_serializing_if_is_none)]
    pub expires_at: Option<DateTime<Utc>>,
    /// Revocation time; absent unless revoked.
    #[oai(skip_serializing_if_is_none)]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&KeyView> for Key {
    fn from(k: &KeyView) -> Self {
        Self {
            key_id: k.key_id.to_string(),
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            environment: if k.prefix.starts_with(KeyEnv::Test.prefix()) {
                KeyEnvironment::Test
            } else {
                KeyEnvironment::Live
            },
            scopes: k.scopes.names(),
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A key with its secret value, shown once.
#[derive(Debug, Object)]
pub struct KeyWithSecret {
    /// Metadata.
    #[oai(flatten)]
    pub meta: Key,
    /// The key; store it now, it is never shown again.
    pub key: String,
}

impl From<CreatedKey> for KeyWithSecret {
    fn from(k: CreatedKey) -> Self {
        Self {
            meta: Key::from(&k.view),
            key: k.key,
        }
    }
}

/// New key.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewKey {
    /// Display name.
    pub name: String,
    /// Scopes, e.g. `["ocr:read"]`.
    pub scopes: Vec<String>,
    /// Optional expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// `live` (default) or `test`.
    pub environment: Option<KeyEnvironment>,
}

/// Key rotation.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct RotateKey {
    /// How long the old key keeps working, in seconds (default 86400, at most 30 days).
    #[oai(default = "default_grace")]
    pub grace_seconds: i64,
}

fn default_grace() -> i64 {
    86_400
}

/// Creation answer.
#[derive(ApiResponse)]
pub enum KeyCreated {
    /// Created.
    #[oai(status = 201)]
    Created(Json<KeyWithSecret>, #[oai(header = "Cache-Control")] String),
}

/// Key operations.
pub struct KeysApi;

fn key_id(s: &str) -> Result<KeyId, DomainError> {
    parse_uuid(s, "key").map(KeyId)
}

#[OpenApi]
impl KeysApi {
    /// List the tenant's API keys.
    ///
    /// **Permissions**: a portal session (any role).
    #[oai(
        path = "/v1/keys",
        method = "get",
        tag = "Tag::Keys",
        operation_id = "listKeys"
    )]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        session: SessionCookie,
    ) -> ApiResult<Json<Vec<Key>>> {
        let s = state.admin(&session, None, false).await?;
        Ok(Json(
            state
                .auth
                .list_keys(s.tenant_id)
                .await?
                .iter()
                .map(Key::from)
                .collect(),
        ))
    }

    /// Create an API key; the key is in this response only.
    ///
    /// **Permissions**: portal session with role `admin` or `owner`, plus `X-CSRF-Token`.
    #[oai(
        path = "/v1/keys",
        method = "post",
        tag = "Tag::Keys",
        operation_id = "createKey"
    )]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        session: SessionCookie,
        #[oai(name = "X-CSRF-Token")] csrf: Header<Option<String>>,
        body: Json<NewKey>,
    ) -> ApiResult<KeyCreated> {
        let s = state.admin(&session, csrf.0.as_deref(), true).await?;
        s.require(Role::Admin)?;
        let body = body.0;
        let env = match body.environment {
            None | Some(KeyEnvironment::Live) => KeyEnv::Live,
            Some(KeyEnvironment::Test) => KeyEnv::Test,
        };
        let created = state
            .auth
            .create_key(
                s.tenant_id,
                &body.name,
                super::portal_scopes(&body.scopes)?,
                env,
                body.expires_at,
                &s.actor(),
                &ctx(req),
            )
            .await?;
        Ok(KeyCreated::Created(Json(created.into()), "no-store".into()))
    }

    /// Get an API key's metadata.
    ///
    /// **Permissions**: a portal session (any role).
    #[oai(
        path = "/v1/keys/:key_id",
        method = "get",
        tag = "Tag::Keys",
        operation_id = "getKey"
    )]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        session: SessionCookie,
        key_id: Path<String>,
    ) -> ApiResult<Json<Key>> {
        let s = state.admin(&session, None, false).await?;
        Ok(Json(Key::from(
            &state
                .auth
                .key(s.tenant_id, self::key_id(&key_id.0)?)
                .await?,
        )))
    }

    /// Revoke an API key at once.
    ///
    /// **Permissions**: portal session with role `admin` or `owner`, plus `X-CSRF-Token`.
    #[oai(
        path = "/v1/keys/:key_id",
        method = "delete",
        tag = "Tag::Keys",
        operation_id = "revokeKey"
    )]
    async fn revoke(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        session: SessionCookie,
        #[oai(name = "X-CSRF-Token")] csrf: Header<Option<String>>,
        key_id: Path<String>,
    ) -> ApiResult<Deleted> {
        let s = state.admin(&session, csrf.0.as_deref(), true).await?;
        s.require(Role::Admin)?;
        state
            .auth
            .revoke_key(s.tenant_id, self::key_id(&key_id.0)?, &s.actor(), &ctx(req))
            .await?;
        Ok(Deleted::Done)
    }

    /// Rotate an API key: a new key with the same name and scopes; the old one keeps
    /// working for the grace period.
    ///
    /// **Permissions**: portal session with role `admin` or `owner`, plus `X-CSRF-Token`.
    #[oai(
        path = "/v1/keys/:key_id/rotate",
        method = "post",
        tag = "Tag::Keys",
        operation_id = "rotateKey"
    )]
    async fn rotate(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        session: SessionCookie,
        #[oai(name = "X-CSRF-Token")] csrf: Header<Option<String>>,
        key_id: Path<String>,
        body: Json<RotateKey>,
    ) -> ApiResult<KeyCreated> {
        let s = state.admin(&session, csrf.0.as_deref(), true).await?;
        s.require(Role::Admin)?;
        let grace = Duration::try_seconds(body.0.grace_seconds).unwrap_or(Duration::MAX);
        let created = state
            .auth
            .rotate_key(
                s.tenant_id,
                self::key_id(&key_id.0)?,
                grace,
                &s.actor(),
                &ctx(req),
            )
            .await?;
        Ok(KeyCreated::Created(Json(created.into()), "no-store".into()))
    }
}
