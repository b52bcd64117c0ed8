//! OAuth2 clients of the signed-in admin's tenant.

use super::members::Deleted;
use super::{ctx, Tag};
use crate::problem::ApiResult;
use crate::security::SessionCookie;
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use poem::web::Data;
use poem::Request;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;
use tollgate_auth::service::{ClientView, CreatedClient};
use tollgate_core::Role;

/// A client (never with its secret).
#[derive(Debug, Object)]
pub struct Client {
    /// Public client id.
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// While a rotation overlap lasts: when the previous secret stops working.
    #[oai(skip_serializing_if_is_none)]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

impl From<&ClientView> for Client {
    fn from(c: &ClientView) -> Self {
        Self {
            client_id: c.client_id.clone(),
            name: c.name.clone(),
            scopes: c.scopes.names(),
            created_at: c.created_at,
            previous_secret_expires_at: c.previous_secret_expires_at,
        }
    }
}

/// A client with its secret, shown once.
#[derive(Debug, Object)]
pub struct ClientWithSecret {
    /// The client.
    pub client: Client,
    /// The secret; store it now, it is never shown again.
    pub client_secret: String,
}

impl From<CreatedClient> for ClientWithSecret {
    fn from(c: CreatedClient) -> Self {
        Self {
            client: Client::from(&c.client),
            client_secret: c.client_secret,
        }
    }
}

/// New client.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewClient {
    /// Display name.
    pub name: String,
    /// Scopes, e.g. `["ocr:read", "usage:read"]`.
    pub scopes: Vec<String>,
}

/// Client change.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ClientPatch {
    /// New display name.
    pub name: Option<String>,
    /// New scopes (apply to tokens issued from now on).
    pub scopes: Option<Vec<String>>,
}

/// Secret rotation.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct RotateSecret {
    /// How long the previous secret keeps working, in seconds (default 3600, at most 7 days).
    #[oai(default = "default_overlap")]
    pub overlap_seconds: i64,
}

fn default_overlap() -> i64 {
    3600
}

/// Creation answer.
#[derive(ApiResponse)]
pub enum ClientCreated {
    /// Created.
    #[oai(status = 201)]
    Created(
        Json<ClientWithSecret>,
        #[oai(header = "Cache-Control")] String,
    ),
}

/// Rotation answer.
#[derive(ApiResponse)]
pub enum SecretRotated {
    /// The new secret.
    #[oai(status = 200)]
    Ok(
        Json<ClientWithSecret>,
        #[oai(header = "Cache-Control")] String,
    ),
}

/// Client operations.
pub struct ClientsApi;

#[OpenApi]
impl ClientsApi {
    /// List the tenant's OAuth2 clients.
    ///
    /// **Permissions**: a portal session (any role).
    #[oai(
        path = "/v1/clients",
        method = "get",
        tag = "Tag::Clients",
        operation_id = "listClients"
    )]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        session: SessionCookie,
    ) -> ApiResult<Json<Vec<Client>>> {
        let s = state.admin(&session, None, false).await?;
        Ok(Json(
            state
                .auth
                .list_clients(s.tenant_id)
                .await?
                .iter()
                .map(Client::from)
                .collect(),
        ))
    }

    /// Create an OAuth2 client; the secret is in this response only.
    ///
    /// **Permissions**: portal session with role `admin` or `owner`, plus `X-CSRF-Token`.
    #[oai(
        path = "/v1/clients",
        method = "post",
        tag = "Tag::Clients",
        operation_id = "createClient"
    )]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        session: SessionCookie,
        #[oai(name = "X-CSRF-Token")] csrf: Header<Option<String>>,
        body: Json<NewClient>,
    ) -> ApiResult<ClientCreated> {
        let s = state.admin(&session, csrf.0.as_deref(), true).await?;
        s.require(Role::Admin)?;
        let created = state
            .auth
            .create_client(
                s.tenant_id,
                &body.0.name,
                super::portal_scopes(&body.0.scopes)?,
                &s.actor(),
                &ctx(req),
            )
            .await?;
        Ok(ClientCreated::Created(
            Json(created.into()),
            "no-store".into(),
        ))
    }

    /// Get a client.
    ///
    /// **Permissions**: a portal session (any role).
    #[oai(
        path = "/v1/clients/:client_id",
        method = "get",
        tag = "Tag::Clients",
        operation_id = "getClient"
    )]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        session: SessionCookie,
        client_id: Path<String>,
    ) -> ApiResult<Json<Client>> {
        let s = state.admin(&session, None, false).await?;
        Ok(Json(Client::from(
            &state.auth.client(s.tenant_id, &client_id.0).await?,
        )))
    }

    /// Rename a client or change its scopes.
    ///
    /// **Permissions**: portal session with role `admin` or `owner`, plus `X-CSRF-Token`.
    #[oai(
        path = "/v1/clients/:client_id",
        method = "patch",
        tag = "Tag::Clients",
        operation_id = "updateClient"
    )]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        session: SessionCookie,
        #[oai(name = "X-CSRF-Token")] csrf: Header<Option<String>>,
        client_id: Path<String>,
        body: Json<ClientPatch>,
    ) -> ApiResult<Json<Client>> {
        let s = state.admin(&session, csrf.0.as_deref(), true).await?;
        s.require(Role::Admin)?;
        let scopes = body
            .0
            .scopes
            .map(|v| super::portal_scopes(&v))
            .transpose()?;
        let view = state
            .auth
            .update_client(
                s.tenant_id,
                &client_id.0,
                body.0.name.as_deref(),
                scopes,
                &s.actor(),
                &ctx(req),
            )
            .await?;
        Ok(Json(Client::from(&view)))
    }

    /// Rotate a client's secret; the previous secret keeps working for the overlap.
    ///
    /// **Permissions**: portal session with role `admin` or `owner`, plus `X-CSRF-Token`.
    #[oai(
        path = "/v1/clients/:client_id/rotate",
        method = "post",
        tag = "Tag::Clients",
        operation_id = "rotateClientSecret"
    )]
    async fn rotate(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        session: SessionCookie,
        #[oai(name = "X-CSRF-Token")] csrf: Header<Option<String>>,
        client_id: Path<String>,
        body: Json<RotateSecret>,
    ) -> ApiResult<SecretRotated> {
        let s = state.admin(&session, csrf.0.as_deref(), true).await?;
        s.require(Role::Admin)?;
        let overlap = Duration::try_seconds(body.0.overlap_seconds).unwrap_or(Duration::MAX);
        let created = state
            .auth
            .rotate_client_secret(s.tenant_id, &client_id.0, overlap, &s.actor(), &ctx(req))
            .await?;
        Ok(SecretRotated::Ok(Json(created.into()), "no-store".into()))
    }

    /// Delete a client; its access tokens stop working at once.
    ///
    /// **Permissions**: portal session with role `admin` or `owner`, plus `X-CSRF-Token`.
    #[oai(
        path = "/v1/clients/:client_id",
        method = "delete",
        tag = "Tag::Clients",
        operation_id = "deleteClient"
    )]
    async fn delete(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        session: SessionCookie,
        #[oai(name = "X-CSRF-Token")] csrf: Header<Option<String>>,
        client_id: Path<String>,
    ) -> ApiResult<Deleted> {
        let s = state.admin(&session, csrf.0.as_deref(), true).await?;
        s.require(Role::Admin)?;
        state
            .auth
            .delete_client(s.tenant_id, &client_id.0, &s.actor(), &ctx(req))
            .await?;
        Ok(Deleted::Done)
    }
}
