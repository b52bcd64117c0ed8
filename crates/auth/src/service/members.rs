//! Members of a tenant: created by the operator (CLI) or an owner (portal), listed, given
//! roles and removed, always leaving the tenant an owner.

use super::portal::AdminSession;
use super::{AuthService, RequestCtx, SUCCESS};
use crate::secret::random_base62;
use tollgate_core::{AdminId, Code, DomainError, Role, TenantId};
use tollgate_store::admins::{Admin, MemberChange};
use tollgate_store::audit::NewAuditEvent;

/// A member created with a generated one-time password.
#[derive(Debug)]
pub struct CreatedMember {
    /// The new admin.
    pub admin: Admin,
    /// The password, shown once.
    pub password: String,
}

fn normalise_email(email: &str) -> Result<String, DomainError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email)
    } else {
        Err(DomainError::invalid(
            Code::InvalidEmail,
            "not a valid email address",
        ))
    }
}

impl AuthService {
    /// Creates an admin with a password; when `password` is `None`, generates one (returned once).
    pub async fn create_admin(
        &self,
        tenant: TenantId,
        email: &str,
        role: Role,
        password: Option<String>,
        actor: &str,
        ctx: &RequestCtx,
    ) -> Result<CreatedMember, DomainError> {
        if tenant.is_platform() {
            // The platform tenant holds the operator's credentials; it has no portal.
            return Err(DomainError::invalid(
                Code::PlatformTenant,
                "the platform tenant has no portal members",
            ));
        }
        self.store.tenant(tenant).await?;
        let email = normalise_email(email)?;
        let domain = email.rsplit_once('@').map_or("", |(_, d)| d).to_owned();
        let one_time = password.is_none();
        let password = password.unwrap_or_else(|| random_base62(20));
        let hash = self.passwords.hash(password.clone()).await?;
        let now = self.clock.now();
        let event = NewAuditEvent::new(actor, "member.created", ctx, now)
            .tenant(Some(tenant))
            .detail(serde_json::json!({ "role": role.as_str() }));
        // A domain another tenant's identity provider signs in is that tenant's people;
        // decided under the domain's lock, against a claim being made meanwhile.
        let _claims = self.store.domain_claims().await;
        let created = self
            .store
            .audited(Some(tenant), |txn| {
                let (store, event) = (self.store.clone(), event.clone());
                let (email, domain, hash) = (email.clone(), domain.clone(), hash.clone());
                Box::pin(async move {
                    store.lock_email_domain(txn, &domain).await?;
                    let claimed = store.tenant_oidc_by_domain(txn, &domain).await?;
                    if claimed.is_some_and(|row| row.tenant_id != tenant.0) {
                        return Err(DomainError::conflict(
                            Code::EmailDomainClaimed,
                            "another organisation signs in people of this email's domain",
                        ));
                    }
                    let admin = store
                        .create_admin_in(txn, tenant, &email, &hash, role, one_time, now)
                        .await?;
                    let event = event.target(Some(format!("admin:{}", admin.id)));
                    Ok(Some((admin, event)))
                })
            })
            .await?;
        let (admin, _) =
            created.ok_or_else(|| DomainError::internal("a member creation did nothing"))?;
        Ok(CreatedMember { admin, password })
    }

    /// Members of the admin's tenant.
    pub async fn list_members(&self, session: &AdminSession) -> Result<Vec<Admin>, DomainError> {
        self.store.list_admins(session.tenant_id).await
    }

    /// One member of the admin's tenant.
    pub async fn member(&self, session: &AdminSession, id: AdminId) -> Result<Admin, DomainError> {
        self.store.admin(session.tenant_id, id).await
    }

    /// Adds a member (owners only).
    pub async fn add_member(
        &self,
        session: &AdminSession,
        email: &str,
        role: Role,
        ctx: &RequestCtx,
    ) -> Result<CreatedMember, DomainError> {
        session.require(Role::Owner)?;
        self.create_admin(session.tenant_id, email, role, None, &session.actor(), ctx)
            .await
    }

    /// Changes a member's role (owners only); the last owner cannot be demoted. The check and
    /// the change are one transaction, so two owners demoting each other at once leave one.
    pub async fn set_member_role(
        &self,
        session: &AdminSession,
        id: AdminId,
        role: Role,
        ctx: &RequestCtx,
    ) -> Result<Admin, DomainError> {
        session.require(Role::Owner)?;
        let member = self
            .store
            .change_member_keeping_an_owner(
                session.tenant_id,
                session.admin_id,
                id,
                MemberChange::SetRole(role),
            )
            .await?;
        // A changed role takes effect at once: end the member's other sessions.
        if id != session.admin_id {
            self.store.delete_sessions_of(session.tenant_id, id).await?;
        }
        self.audit(
            Some(session.tenant_id),
            &session.actor(),
            "member.role_changed",
            Some(format!("admin:{id}")),
            SUCCESS,
            ctx,
            serde_json::json!({ "from": member.role, "to": role.as_str() }),
        )
        .await?;
        self.store.admin(session.tenant_id, id).await
    }

    /// Removes a member (owners only); the last owner cannot be removed (checked and changed
    /// in one transaction, as for roles).
    pub async fn remove_member(
        &self,
        session: &AdminSession,
        id: AdminId,
        ctx: &RequestCtx,
    ) -> Result<(), DomainError> {
        session.require(Role::Owner)?;
        self.store
            .change_member_keeping_an_owner(
                session.tenant_id,
                session.admin_id,
                id,
                MemberChange::Remove,
            )
            .await?;
        self.audit(
            Some(session.tenant_id),
            &session.actor(),
            "member.removed",
            Some(format!("admin:{id}")),
            SUCCESS,
            ctx,
            serde_json::json!({}),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::normalise_email;

    #[test]
    fn an_email_is_one_address_with_one_at() {
        assert_eq!(normalise_email(" Ceo@ACME.test ").unwrap(), "ceo@acme.test");
        for bad in [
            "ceo",
            "@acme.test",
            "ceo@acme",
            "ceo@.acme.test",
            "ceo@acme.test.",
            "ceo@other.test@acme.test",
            "c eo@acme.test",
            "ceo@acme.test\u{0}",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad:?}");
        }
    }
}
