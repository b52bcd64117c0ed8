//! OAuth2 client management.

use super::{validate_name, AuthService, RequestCtx, SUCCESS};
use crate::revocation::client_entry;
use crate::secret::{digest, new_client_id, new_client_secret};
use chrono::{DateTime, Duration, Utc};
use tollgate_core::Code;
use tollgate_core::{DomainError, ScopeSet, TenantId};
use tollgate_store::audit::NewAuditEvent;
use tollgate_store::clients::{NewClient, OauthClient};

/// A client as shown to its tenant (never with a secret or digest).
#[derive(Debug, Clone)]
pub struct ClientView {
    /// Public id.
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// Granted scopes.
    pub scopes: ScopeSet,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// When the previous secret stops working, if a rotation is in its overlap window.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

impl ClientView {
    fn new(row: &OauthClient, now: DateTime<Utc>) -> Self {
        Self {
            client_id: row.client_id.clone(),
            name: row.name.clone(),
            scopes: ScopeSet::parse_lenient(&row.scopes).effective_in(TenantId(row.tenant_id)),
            created_at: row.created_at,
            previous_secret_expires_at: row.prev_secret_expires_at.filter(|t| *t > now),
        }
    }
}

/// A client with its secret, returned once at creation or rotation.
#[derive(Debug)]
pub struct CreatedClient {
    /// The client.
    pub client: ClientView,
    /// The secret; never retrievable again.
    pub client_secret: String,
}

impl AuthService {
    /// Creates a client for `tenant` with `scopes` (`operator` only in the platform tenant).
    pub async fn create_client(
        &self,
        tenant: TenantId,
        name: &str,
        scopes: ScopeSet,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<CreatedClient, DomainError> {
        let name = validate_name(name)?;
        let scopes = scopes.grantable_in(tenant)?;
        self.store.tenant(tenant).await?;
        let client_id = new_client_id();
        let secret = new_client_secret();
        let now = self.clock.now();
        let row = self
            .store
            .create_client(
                tenant,
                NewClient {
                    client_id: &client_id,
                    name,
                    scopes: &scopes.to_string(),
                    secret_digest: &digest(&secret),
                },
                now,
            )
            .await?;
        self.audit(
            Some(tenant),
            actor,
            "client.created",
            Some(format!("client:{client_id}")),
            SUCCESS,
            ctx,
            serde_json::json!({ "scopes": scopes.to_string() }),
        )
        .await?;
        Ok(CreatedClient {
            client: ClientView::new(&row, now),
            client_secret: secret,
        })
    }

    /// Clients of `tenant`.
    pub async fn list_clients(&self, tenant: TenantId) -> Result<Vec<ClientView>, DomainError> {
        let now = self.clock.now();
        Ok(self
            .store
            .list_clients(tenant)
            .await?
            .iter()
            .map(|r| ClientView::new(r, now))
            .collect())
    }

    /// One client of `tenant`.
    pub async fn client(
        &self,
        tenant: TenantId,
        client_id: &str,
    ) -> Result<ClientView, DomainError> {
        Ok(ClientView::new(
            &self.store.client(tenant, client_id).await?,
            self.clock.now(),
        ))
    }

    /// Changes a client's name and/or scopes. Narrowed scopes apply to new tokens.
    pub async fn update_client(
        &self,
        tenant: TenantId,
        client_id: &str,
        name: Option<&str>,
        scopes: Option<ScopeSet>,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<ClientView, DomainError> {
        let name = name.map(validate_name).transpose()?;
        let scopes = scopes
            .map(|s| s.grantable_in(tenant))
            .transpose()?
            .map(|s| s.to_string());
        self.store
            .update_client(tenant, client_id, name, scopes.as_deref(), self.clock.now())
            .await?;
        self.audit(
            Some(tenant),
            actor,
            "client.updated",
            Some(format!("client:{client_id}")),
            SUCCESS,
            ctx,
            serde_json::json!({ "scopes": scopes }),
        )
        .await?;
        self.client(tenant, client_id).await
    }

    /// Issues a new secret; the previous one keeps working for `overlap` (bounded).
    pub async fn rotate_client_secret(
        &self,
        tenant: TenantId,
        client_id: &str,
        overlap: Duration,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<CreatedClient, DomainError> {
        if overlap < Duration::zero() || overlap > self.config.max_secret_overlap {
            return Err(DomainError::invalid(
                Code::InvalidOverlap,
                format!(
                    "overlap must be between 0 and {} seconds",
                    self.config.max_secret_overlap.num_seconds()
                ),
            ));
        }
        let secret = new_client_secret();
        let now = self.clock.now();
        // The new secret, its audit row and the `client.secret_rotated` webhook event commit
        // together.
        let event = NewAuditEvent::new(actor, "client.secret_rotated", ctx, now)
            .tenant(Some(tenant))
            .target(Some(format!("client:{client_id}")))
            .detail(serde_json::json!({ "overlap_seconds": overlap.num_seconds() }));
        let secret_digest = digest(&secret);
        self.store
            .audited(Some(tenant), |txn| {
                let (store, event, digest, client_id) = (
                    self.store.clone(),
                    event.clone(),
                    secret_digest.clone(),
                    client_id.to_owned(),
                );
                Box::pin(async move {
                    store
                        .rotate_client_secret(txn, tenant, &client_id, &digest, now + overlap, now)
                        .await?;
                    Ok(Some(((), event)))
                })
            })
            .await?;
        Ok(CreatedClient {
            client: self.client(tenant, client_id).await?,
            client_secret: secret,
        })
    }

    /// Deletes a client and revokes every token it holds.
    pub async fn delete_client(
        &self,
        tenant: TenantId,
        client_id: &str,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<(), DomainError> {
        self.store.delete_client(tenant, client_id).await?;
        self.denylist
            .revoke(
                client_entry(client_id),
                self.clock.now() + self.config.token_horizon,
            )
            .await?;
        self.audit(
            Some(tenant),
            actor,
            "client.deleted",
            Some(format!("client:{client_id}")),
            SUCCESS,
            ctx,
            serde_json::json!({}),
        )
        .await
    }
}
