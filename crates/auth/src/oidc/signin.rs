//! The provider's callback: the state taken once, the code exchanged with the PKCE verifier
//! at the pinned token endpoint, the ID token verified against the provider's current keys,
//! and the person resolved to a member — by the identity (issuer, `sub`) the tenant has seen
//! before, else by a verified email at the tenant's domain (linked to the identity then, or
//! created with the tenant's default role).

use super::checks::{email_domain, refused, visible_ascii};
use super::{unreachable_provider, Callback, Oidc, FAILED_CALLBACKS_PER_ADDRESS};
use crate::anonymous::Subject;
use crate::secret::{digest, digests_equal, random_base62};
use crate::service::{LoginOutcome, RequestCtx};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, HttpRequest, Nonce, PkceCodeVerifier,
    RequestTokenError, TokenResponse,
};
use tollgate_core::net::address_bucket;
use tollgate_core::{AdminId, Code, DomainError, Role, TenantId};
use tollgate_store::admins::Admin;
use tollgate_store::oidc::{OidcLogin, TenantOidc};

impl Oidc {
    /// Finishes a sign-in at the provider's callback: a portal session of the member the
    /// provider vouched for (created with the tenant's default role on first sign-in). Every
    /// refusal is audited; those past the state check are also counted against the caller's
    /// address (a state costs one lookup to refuse, and counting forged ones would let a page
    /// of them lock the people behind one address out).
    pub async fn finish(
        &self,
        callback: Callback,
        ctx: &RequestCtx,
    ) -> Result<LoginOutcome, DomainError> {
        let ip_key = format!("oidc-callback:{}", address_bucket(ctx.ip.as_deref()));
        if let Some(retry_after) = self.auth.attempts.blocked(&ip_key).await {
            return Err(DomainError::TooManyAttempts { retry_after });
        }
        let login = match self.take_login(&callback).await {
            Ok(login) => login,
            Err(e) => return Err(self.refusal(None, e, ctx).await),
        };
        let tenant = TenantId(login.tenant_id);
        match self.verify(login, callback, ctx).await {
            Ok(admin) => {
                let detail = serde_json::json!({ "method": "oidc" });
                self.auth.open_session(&admin, ctx, detail).await
            }
            Err(e) => {
                self.auth
                    .attempts
                    .failure(&ip_key, FAILED_CALLBACKS_PER_ADDRESS)
                    .await;
                Err(self.refusal(Some(tenant), e, ctx).await)
            }
        }
    }

    /// Audits a refused callback; the error to answer.
    async fn refusal(
        &self,
        tenant: Option<TenantId>,
        e: DomainError,
        ctx: &RequestCtx,
    ) -> DomainError {
        let subject = Subject {
            tenant,
            action: "login",
            target: None,
            reason: e.code().as_str(),
        };
        match self.auth.audit_anonymous_failure(subject, ctx).await {
            Ok(()) => e,
            Err(audit) => audit,
        }
    }

    /// The sign-in this callback's state names, if the browser holds the same state and it
    /// is unused and unexpired; it is used up here (of two callbacks at once, one gets it).
    async fn take_login(&self, callback: &Callback) -> Result<OidcLogin, DomainError> {
        let state_refused = || {
            refused(
                Code::OidcStateInvalid,
                "this sign-in is not this browser's, was used already or expired: start again",
            )
        };
        let (Some(state), Some(cookie)) = (&callback.state, &callback.cookie_state) else {
            return Err(state_refused());
        };
        if !digests_equal(state, cookie) {
            return Err(state_refused());
        }
        self.auth
            .store
            .take_oidc_login(&digest(state), self.auth.clock.now())
            .await?
            .ok_or_else(state_refused)
    }

    async fn verify(
        &self,
        login: OidcLogin,
        callback: Callback,
        ctx: &RequestCtx,
    ) -> Result<Admin, DomainError> {
        let tenant = TenantId(login.tenant_id);
        let row = self.auth.store.tenant_oidc(tenant).await?.ok_or_else(|| {
            refused(
                Code::OidcNotConfigured,
                "the tenant's identity provider was removed",
            )
        })?;
        if callback.error.is_some() {
            return Err(DomainError::invalid(
                Code::OidcDenied,
                "the identity provider did not sign you in",
            ));
        }
        if callback.iss.as_deref().is_some_and(|iss| iss != row.issuer) {
            return Err(refused(
                Code::OidcIssuerMismatch,
                "the callback names another issuer than the tenant's",
            ));
        }
        let code = callback
            .code
            .filter(|c| visible_ascii(c, 2048))
            .ok_or_else(|| refused(Code::OidcCodeRefused, "the callback carries no code"))?;
        let metadata = self.metadata(&row).await?;
        let reach = self.reach(metadata.issuer()).clone();
        let keys = reach.keys(&metadata).await?;
        let metadata = metadata.set_jwks(keys);
        let client = self.client(&row, metadata)?;
        let exchange = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|_| unreachable_provider())?
            .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier));
        let call = |request: HttpRequest| reach.clone().send(request);
        let tokens = exchange.request_async(&call).await.map_err(|e| match e {
            RequestTokenError::ServerResponse(_) => refused(
                Code::OidcCodeRefused,
                "the identity provider refused the code (used, expired or not this sign-in's)",
            ),
            other => {
                tracing::warn!(error = %other, "OpenID code exchange failed");
                unreachable_provider()
            }
        })?;
        let token_invalid = || refused(Code::OidcTokenInvalid, "the ID token did not verify");
        let id_token = tokens.id_token().ok_or_else(token_invalid)?;
        let claims = id_token
            .claims(&client.id_token_verifier(), &Nonce::new(login.nonce))
            .map_err(|e| match e {
                ClaimsVerificationError::InvalidNonce(_) => refused(
                    Code::OidcNonceMismatch,
                    "the ID token's nonce is not this sign-in's",
                ),
                other => {
                    tracing::info!(error = %other, "an ID token did not verify");
                    token_invalid()
                }
            })?;
        let unverified = || {
            refused(
                Code::OidcEmailUnverified,
                "the identity provider gave no verified email",
            )
        };
        let email = claims.email().ok_or_else(unverified)?;
        if claims.email_verified() != Some(true) {
            return Err(unverified());
        }
        let (email, domain) = email_domain(email.as_str()).ok_or_else(unverified)?;
        if domain != row.allowed_domain {
            return Err(refused(
                Code::OidcEmailDomain,
                "your email is outside the domain this tenant allows",
            ));
        }
        let person = Person {
            tenant,
            row: &row,
            email: &email,
            subject: claims.subject().as_str(),
        };
        self.member(person, ctx).await
    }

    /// The member `person` signs in as.
    async fn member(&self, person: Person<'_>, ctx: &RequestCtx) -> Result<Admin, DomainError> {
        let store = &self.auth.store;
        let (tenant, issuer, subject) = (person.tenant, &person.row.issuer, person.subject);
        // The identity the tenant has seen before is its member, whatever email the provider
        // gives for it now.
        if let Some(admin) = store
            .admin_by_oidc_identity(tenant, issuer, subject)
            .await?
        {
            return self.signed_in(tenant, admin).await;
        }
        let existing = match store.admin_by_email(person.email).await? {
            Some(admin) => admin,
            None => match self.create(&person, ctx).await {
                Ok(admin) => return Ok(admin),
                // Created meanwhile: by this identity (two first sign-ins at once), or the
                // email by someone else. The checks below apply.
                Err(DomainError::Conflict { .. }) => {
                    if let Some(admin) = store
                        .admin_by_oidc_identity(tenant, issuer, subject)
                        .await?
                    {
                        return self.signed_in(tenant, admin).await;
                    }
                    store
                        .admin_by_email(person.email)
                        .await?
                        .ok_or(DomainError::NotFound("member"))?
                }
                Err(e) => return Err(e),
            },
        };
        if existing.tenant_id != tenant.0 {
            return Err(DomainError::conflict(
                Code::OidcEmailInUse,
                "this email belongs to a member of another tenant",
            ));
        }
        // A member linked to another identity stays theirs; an unlinked one is linked now
        // (unless another identity wins the race, or this one is another member's).
        let linked = existing.oidc_subject.is_none()
            && store
                .link_oidc_subject(tenant, AdminId(existing.id), issuer, subject)
                .await?;
        if !linked {
            return Err(refused(
                Code::OidcSubjectMismatch,
                "this member signed in as another person of the identity provider before",
            ));
        }
        self.signed_in(tenant, existing).await
    }

    /// A new member for `person`, with the tenant's default role.
    async fn create(&self, person: &Person<'_>, ctx: &RequestCtx) -> Result<Admin, DomainError> {
        let role = Role::parse(&person.row.default_role)?;
        // A password no one is told: this member signs in with the provider.
        let hash = self.auth.passwords.hash(random_base62(32)).await?;
        let admin = self
            .auth
            .store
            .create_oidc_admin(
                person.tenant,
                person.email,
                &hash,
                role,
                &person.row.issuer,
                person.subject,
                self.auth.clock.now(),
            )
            .await?;
        self.auth
            .audit(
                Some(person.tenant),
                &format!("admin:{}", admin.id),
                "member.created",
                Some(format!("admin:{}", admin.id)),
                crate::service::SUCCESS,
                ctx,
                serde_json::json!({ "role": role.as_str(), "via": "oidc" }),
            )
            .await?;
        Ok(admin)
    }

    /// `admin`, as they are once signed in with the provider: a one-time password they never
    /// used (and whoever made the member knows) stops working.
    async fn signed_in(&self, tenant: TenantId, admin: Admin) -> Result<Admin, DomainError> {
        if !admin.must_change_password {
            return Ok(admin);
        }
        let hash = self.auth.passwords.hash(random_base62(32)).await?;
        self.auth
            .store
            .retire_one_time_password(tenant, AdminId(admin.id), &admin.password_hash, &hash)
            .await?;
        self.auth.store.admin(tenant, AdminId(admin.id)).await
    }
}

/// Who the provider vouched for, at which tenant.
struct Person<'a> {
    tenant: TenantId,
    row: &'a TenantOidc,
    /// The verified email, lower-cased.
    email: &'a str,
    /// The provider's `sub`.
    subject: &'a str,
}
