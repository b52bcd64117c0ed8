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
use tollgate_store::audit::NewAuditEvent;
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
        let subject = claims.subject().as_str();
        // An OpenID subject is at most 255 ASCII characters (Core 1.0 §2); a longer or
        // stranger one is not a provider's.
        if !visible_ascii(subject, 255) {
            return Err(token_invalid());
        }
        let person = Person {
            tenant,
            row: &row,
            email: &email,
            subject,
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
            return self.settle(&person, admin, false, ctx).await;
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
                        return self.settle(&person, admin, false, ctx).await;
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
        // A member linked to another identity of this issuer stays theirs; one linked to none
        // (or to another issuer's, which means nothing here) is linked now.
        if existing.oidc_issuer.as_deref() == Some(issuer.as_str())
            && existing.oidc_subject.is_some()
        {
            return Err(subject_mismatch());
        }
        self.settle(&person, existing, true, ctx).await
    }

    /// A new member for `person`, with the tenant's default role; made and audited in one
    /// transaction.
    async fn create(&self, person: &Person<'_>, ctx: &RequestCtx) -> Result<Admin, DomainError> {
        let role = Role::parse(&person.row.default_role)?;
        // A password no one is told: this member signs in with the provider.
        let hash = self.auth.passwords.hash(random_base62(32)).await?;
        let now = self.auth.clock.now();
        let detail = serde_json::json!({
            "role": role.as_str(),
            "via": "oidc",
            "issuer": person.row.issuer,
            "subject": person.subject,
        });
        let event = NewAuditEvent::new("", "member.created", ctx, now)
            .tenant(Some(person.tenant))
            .detail(detail);
        let created = self
            .auth
            .store
            .audited(Some(person.tenant), |txn| {
                let store = self.auth.store.clone();
                let (event, hash) = (event.clone(), hash.clone());
                let (email, issuer) = (person.email.to_owned(), person.row.issuer.clone());
                let (tenant, subject) = (person.tenant, person.subject.to_owned());
                Box::pin(async move {
                    let admin = store
                        .create_oidc_admin(txn, tenant, &email, &hash, role, &issuer, &subject, now)
                        .await?;
                    let me = format!("admin:{}", admin.id);
                    let event = event.actor(&me).target(Some(me.clone()));
                    Ok(Some((admin, event)))
                })
            })
            .await?;
        created
            .map(|(admin, _)| admin)
            .ok_or_else(|| DomainError::internal("a member creation did nothing"))
    }

    /// `admin`, as they are once signed in with the provider: linked to the identity now if
    /// `link`, and a one-time password they never used (and whoever made the member knows)
    /// retired. Each change commits with its audit row (`member.linked`, or
    /// `member.password_retired` alone).
    async fn settle(
        &self,
        person: &Person<'_>,
        admin: Admin,
        link: bool,
        ctx: &RequestCtx,
    ) -> Result<Admin, DomainError> {
        if !link && !admin.must_change_password {
            return Ok(admin);
        }
        let tenant = person.tenant;
        let id = AdminId(admin.id);
        let retire = admin.must_change_password;
        let hash = self.auth.passwords.hash(random_base62(32)).await?;
        let me = format!("admin:{}", admin.id);
        let (action, detail) = if link {
            let detail = serde_json::json!({
                "issuer": person.row.issuer,
                "subject": person.subject,
                "one_time_password_retired": retire,
            });
            ("member.linked", detail)
        } else {
            (
                "member.password_retired",
                serde_json::json!({ "via": "oidc" }),
            )
        };
        let event = NewAuditEvent::new(&me, action, ctx, self.auth.clock.now())
            .tenant(Some(tenant))
            .target(Some(me.clone()))
            .detail(detail);
        self.auth
            .store
            .audited(Some(tenant), |txn| {
                let store = self.auth.store.clone();
                let (event, hash, old) = (event.clone(), hash.clone(), admin.password_hash.clone());
                let (issuer, subject) = (person.row.issuer.clone(), person.subject.to_owned());
                Box::pin(async move {
                    if link
                        && !store
                            .link_oidc_subject(txn, tenant, id, &issuer, &subject)
                            .await?
                    {
                        // Another identity won the race, or this one is another member's.
                        return Err(subject_mismatch());
                    }
                    let retired = retire
                        && store
                            .retire_one_time_password(txn, tenant, id, &old, &hash)
                            .await?;
                    // Retired meanwhile by another sign-in: nothing to record.
                    Ok((link || retired).then_some(((), event)))
                })
            })
            .await?;
        self.auth.store.admin(tenant, id).await
    }
}

fn subject_mismatch() -> DomainError {
    refused(
        Code::OidcSubjectMismatch,
        "this member signed in as another person of the identity provider before",
    )
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
