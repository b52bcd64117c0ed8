//! `GET /v1/me`: who the API caller is.

use super::Tag;
use crate::problem::ApiResult;
use crate::security::ApiCaller;
use crate::state::AppState;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use std::sync::Arc;

/// The authenticated API principal.
#[derive(Debug, Object)]
pub struct Me {
    /// The tenant the credential belongs to.
    pub tenant_id: String,
    /// `client` (OAuth2 access token) or `key` (API key).
    pub kind: String,
    /// Client id or key id.
    pub id: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
}

/// Principal operations.
pub struct MeApi;

#[OpenApi]
impl MeApi {
    /// Describe the caller.
    ///
    /// **Permissions**: any valid access token or API key; no scope needed.
    #[oai(
        path = "/v1/me",
        method = "get",
        tag = "Tag::Principal",
        operation_id = "getMe"
    )]
    async fn me(&self, state: Data<&Arc<AppState>>, auth: ApiCaller) -> ApiResult<Json<Me>> {
        let p = state.principal(&auth).await?;
        Ok(Json(Me {
            tenant_id: p.tenant_id.to_string(),
            kind: p.kind.as_str().to_owned(),
            id: p.id.clone(),
            scopes: p.scopes.names(),
        }))
    }
}
