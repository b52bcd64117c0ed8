//! `GET /v1/me`: who the API caller is.

use super::Tag;
use crate::payload::SerdeJson;
use crate::problem::ApiResult;
use crate::security::ApiCaller;
use crate::state::AppState;
use poem::web::Data;
use poem_openapi::{Object, OpenApi};
use std::sync::Arc;

/// The authenticated API principal.
#[derive(Debug, Object, serde::Serialize)]
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
    async fn me(&self, state: Data<&Arc<AppState>>, auth: ApiCaller) -> ApiResult<SerdeJson<Me>> {
        let p = state.principal(&auth).await?;
        // Written with serde: this route answers every credential check (see `payload`).
        Ok(SerdeJson(Me {
            tenant_id: p.tenant_id.to_string(),
            kind: p.kind.as_str().to_owned(),
            id: p.id.clone(),
            scopes: p.scopes.names(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem_openapi::types::ToJSON;

    #[test]
    fn serde_and_the_schema_render_the_same_json() {
        let me = Me {
            tenant_id: "0190a0a0-0000-7000-8000-000000000001".into(),
            kind: "key".into(),
            id: "key \"quoted\" ü".into(),
            scopes: vec!["ocr:read".into(), "usage:read".into()],
        };
        assert_eq!(serde_json::to_value(&me).unwrap(), me.to_json().unwrap());
    }
}
