//! `GET /v1/me`: who the API caller is.

use super::Tag;
use crate::payload::SerdeJson;
use crate::problem::ApiResult;
use crate::security::ApiCaller;
use crate::state::AppState;
use poem::web::Data;
use poem_openapi::{Object, OpenApi};
use std::sync::Arc;
use tollgate_auth::Principal;
use tollgate_core::{ScopeSet, TenantId};

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
    async fn me(&self, state: Data<&Arc<AppState>>, auth: ApiCaller) -> ApiResult<SerdeJson<Me>> {
        let p = state.principal(&auth).await?;
        // Written with serde from a view that borrows the principal: this route answers
        // every credential check (see `payload`).
        Ok(SerdeJson::render(&MeView::of(&p)))
    }
}

/// [`Me`] as it goes on the wire, borrowed from the principal instead of copied out of it.
#[derive(serde::Serialize)]
struct MeView<'a> {
    tenant_id: TenantId,
    kind: &'static str,
    id: &'a str,
    #[serde(serialize_with = "scope_names")]
    scopes: ScopeSet,
}

impl<'a> MeView<'a> {
    fn of(p: &'a Principal) -> Self {
        Self {
            tenant_id: p.tenant_id,
            kind: p.kind.as_str(),
            id: &p.id,
            scopes: p.scopes,
        }
    }
}

fn scope_names<S: serde::Serializer>(scopes: &ScopeSet, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(scopes.iter().map(|scope| scope.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem::IntoResponse;
    use poem_openapi::types::ToJSON;

    #[test]
    fn the_view_renders_what_the_schema_renders() {
        use tollgate_auth::PrincipalKind;
        use tollgate_core::Scope;
        for (kind, id, scopes) in [
            (
                PrincipalKind::Key,
                "key \"quoted\" ü",
                &[Scope::OcrRead, Scope::UsageRead][..],
            ),
            (PrincipalKind::Client, "tgc_abc", &[][..]),
            (PrincipalKind::Client, "c", &Scope::ALL[..]),
        ] {
            let p = Principal {
                tenant_id: TenantId(uuid::Uuid::now_v7()),
                kind,
                id: id.into(),
                scopes: ScopeSet::from_items(scopes.iter().map(|s| s.as_str())).unwrap(),
            };
            let me = Me {
                tenant_id: p.tenant_id.to_string(),
                kind: p.kind.as_str().to_owned(),
                id: p.id.to_string(),
                scopes: p.scopes.names(),
            };
            let body = SerdeJson::<Me>::render(&MeView::of(&p)).into_response();
            let body = futures::executor::block_on(body.into_body().into_vec()).unwrap();
            let wire: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(wire, me.to_json().unwrap());
            assert_eq!(wire["scopes"].as_array().unwrap().len(), scopes.len());
        }
    }
}
