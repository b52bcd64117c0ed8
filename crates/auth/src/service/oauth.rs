//! The OAuth2 endpoints' logic: client authentication, the client-credentials grant,
//! revocation (RFC 7009) and introspection (RFC 7662).

use super::{AuthService, RequestCtx, FAILURE, SUCCESS};
use crate::anonymous::Subject;
use crate::principal::PrincipalKind;
use crate::revocation::{from_unix, jti_entry};
use crate::secret::{digest, digests_equal};
use crate::tokens::IssuedToken;
use tollgate_core::Code;
use tollgate_core::{api_key, DomainError, ScopeSet, TenantId};
use tollgate_store::clients::OauthClient;

/// An authenticated OAuth2 client.
#[derive(Debug, Clone)]
pub struct ClientAuth {
    /// The client row.
    pub client: OauthClient,
}

impl ClientAuth {
    /// Its tenant.
    pub fn tenant(&self) -> TenantId {
        TenantId(self.client.tenant_id)
    }
}

/// What introspection says about a token.
#[derive(Debug, Clone, Default)]
pub struct Introspection {
    /// Whether the token is active.
    pub active: bool,
    /// Scopes.
    pub scope: Option<String>,
    /// Client id (or key id for API keys).
    pub client_id: Option<String>,
    /// Subject.
    pub sub: Option<String>,
    /// Expiry.
    pub exp: Option<i64>,
    /// Issued at.
    pub iat: Option<i64>,
    /// Issuer.
    pub iss: Option<String>,
    /// Token id.
    pub jti: Option<String>,
    /// Tenant.
    pub tenant_id: Option<TenantId>,
    /// `Bearer` for access tokens, `api_key` for keys.
    pub token_type: Option<String>,
}

impl AuthService {
    /// Authenticates a client by id and secret. The current secret and, within its overlap
    /// window, the previous one are both compared, in constant time, every time. Repeated
    /// failures back off per (client id, IP) and per IP, checked before any lookup, so a
    /// flood of bad credentials costs neither database reads nor audit rows.
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        secret: &str,
        ctx: &RequestCtx,
    ) -> Result<ClientAuth, DomainError> {
        let ip = tollgate_core::net::address_bucket(ctx.ip.as_deref());
        let client_key = format!("oauth:{}:{ip}", digest(client_id));
        let ip_key = format!("oauth-ip:{ip}");
        let mut blocked = self.attempts.blocked(&client_key).await;
        if blocked.is_none() {
            blocked = self.attempts.blocked(&ip_key).await;
        }
        if let Some(retry_after) = blocked {
            // Refused before any lookup: nothing to record, and the refusal costs nothing.
            return Err(DomainError::TooManyAttempts { retry_after });
        }
        let presented = digest(secret);
        let row = if client_id.len() <= 64 {
            self.store.client_by_client_id(client_id).await?
        } else {
            None
        };
        let now = self.clock.now();
        let ok = row.as_ref().is_some_and(|c| {
            let current = digests_equal(&c.secret_digest, &presented);
            let previous = match (&c.prev_secret_digest, c.prev_secret_expires_at) {
                (Some(d), Some(until)) => digests_equal(d, &presented) && until > now,
                _ => false,
            };
            current | previous
        });
        match row {
            Some(client) if ok => Ok(ClientAuth { client }),
            row => {
                self.attempts
                    .failure(&client_key, self.config.client_ip_threshold)
                    .await;
                self.attempts
                    .failure(&ip_key, self.config.ip_threshold)
                    .await;
                // An unknown presented id is not recorded: users paste secrets into it.
                let subject = Subject {
                    tenant: row.as_ref().map(|c| TenantId(c.tenant_id)),
                    action: "token.refused",
                    target: row.as_ref().map(|c| format!("client:{}", c.client_id)),
                    reason: if row.is_some() {
                        "invalid_secret"
                    } else {
                        "unknown_client"
                    },
                };
                self.audit_anonymous_failure(subject, ctx).await?;
                Err(DomainError::Unauthenticated("invalid_client"))
            }
        }
    }

    /// The client-credentials grant: a token with the requested scopes, which must be a
    /// subset of the client's (down-scoping only); none requested means all of them.
    pub async fn issue_token(
        &self,
        client: &ClientAuth,
        scope: Option<&str>,
        ctx: &RequestCtx,
    ) -> Result<IssuedToken, DomainError> {
        let granted = ScopeSet::parse_lenient(&client.client.scopes).effective_in(client.tenant());
        let requested = match scope.map(str::trim).filter(|s| !s.is_empty()) {
            None => granted,
            Some(s) => match ScopeSet::parse(s) {
                Ok(req) if granted.is_superset(&req) => req,
                _ => {
                    self.audit(
                        Some(client.tenant()),
                        &format!("client:{}", client.client.client_id),
                        "token.refused",
                        Some(format!("client:{}", client.client.client_id)),
                        FAILURE,
                        ctx,
                        serde_json::json!({ "reason": "invalid_scope" }),
                    )
                    .await?;
                    return Err(DomainError::invalid(
                        Code::InvalidScope,
                        "requested scope exceeds the client's scopes",
                    ));
                }
            },
        };
        let issued = self
            .tokens
            .issue(client.tenant(), &client.client.client_id, &requested)?;
        self.audit(
            Some(client.tenant()),
            &format!("client:{}", client.client.client_id),
            "token.issued",
            Some(format!("jti:{}", issued.claims.jti)),
            SUCCESS,
            ctx,
            serde_json::json!({ "scope": issued.claims.scope, "exp": issued.claims.exp }),
        )
        .await?;
        Ok(issued)
    }

    /// RFC 7009: revokes an access token held by `client`. Tokens that are invalid, unknown
    /// or another client's are ignored, as the RFC requires (the answer is 200 either way).
    pub async fn revoke_token(
        &self,
        client: &ClientAuth,
        token: &str,
        ctx: &RequestCtx,
    ) -> Result<(), DomainError> {
        let Ok(claims) = self.tokens.verify(token) else {
            return Ok(());
        };
        if claims.client_id != client.client.client_id {
            return Ok(());
        }
        self.denylist
            .revoke(jti_entry(&claims.jti), from_unix(claims.exp))
            .await?;
        self.audit(
            Some(client.tenant()),
            &format!("client:{}", client.client.client_id),
            "token.revoked",
            Some(format!("jti:{}", claims.jti)),
            SUCCESS,
            ctx,
            serde_json::json!({}),
        )
        .await
    }

    /// RFC 7662: describes a token to an authenticated client of the same tenant; anything
    /// else (invalid, revoked, another tenant's) is just `active: false`.
    pub async fn introspect(
        &self,
        client: &ClientAuth,
        token: &str,
        ctx: &RequestCtx,
    ) -> Result<Introspection, DomainError> {
        if api_key::looks_like_key(token) {
            return Ok(
                match self.authenticator.api_key(token, ctx.ip.as_deref()).await {
                    Ok(p) if p.tenant_id == client.tenant() && p.kind == PrincipalKind::Key => {
                        Introspection {
                            active: true,
                            scope: Some(p.scopes.to_string()),
                            client_id: Some(p.id.to_string()),
                            sub: Some(p.id.to_string()),
                            tenant_id: Some(p.tenant_id),
                            token_type: Some("api_key".into()),
                            ..Introspection::default()
                        }
                    }
                    _ => Introspection::default(),
                },
            );
        }
        let Ok(claims) = self.tokens.verify(token) else {
            return Ok(Introspection::default());
        };
        if claims.tenant_id != client.tenant()
            || self.denylist.token_denied(&claims.jti, &claims.client_id)
        {
            return Ok(Introspection::default());
        }
        Ok(Introspection {
            active: true,
            scope: Some(claims.scope),
            client_id: Some(claims.client_id),
            sub: Some(claims.sub),
            exp: Some(claims.exp),
            iat: Some(claims.iat),
            iss: Some(claims.iss),
            jti: Some(claims.jti),
            tenant_id: Some(claims.tenant_id),
            token_type: Some("Bearer".into()),
        })
    }
}
