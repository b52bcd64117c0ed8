//! Portal sign-in: admin login and logout with server-side sessions, and password changes.

use super::{AuthService, RequestCtx, SUCCESS};
use crate::anonymous::Subject;
use crate::password::PasswordCheck;
use crate::secret::{digest, random_base62};
use chrono::{DateTime, Duration, Utc};
use tollgate_core::Code;
use tollgate_core::{AdminId, DomainError, Role, TenantId};
use tollgate_store::admins::Admin;
use tollgate_store::audit::NewAuditEvent;

/// How long an address an account signed in from stays exempt from the per-account block.
const KNOWN_ADDRESS_SECS: i64 = 30 * 24 * 3600;

/// A session's last use is written at most this often, so a busy portal page is not a
/// database write per request; the inactivity timeout is that much less exact.
const TOUCH_EVERY_SECS: i64 = 60;

/// A signed-in admin, resolved from a session cookie.
#[derive(Debug, Clone)]
pub struct AdminSession {
    /// The admin.
    pub admin_id: AdminId,
    /// Their tenant.
    pub tenant_id: TenantId,
    /// Their email.
    pub email: String,
    /// Their role.
    pub role: Role,
    /// The session's CSRF token, required on state-changing requests.
    pub csrf_token: String,
    /// Digest of the session id.
    pub id_hash: String,
    /// Signed in with a one-time password: the session may only change it.
    pub must_change_password: bool,
    /// When the session ends regardless of use.
    pub expires_at: DateTime<Utc>,
}

/// What a session cookie resolves to.
#[derive(Debug)]
pub enum SessionLookup {
    /// A live session.
    Live(AdminSession),
    /// It existed but ended (inactivity or lifetime) and is now deleted.
    Expired,
    /// No such session (or its member is gone).
    Missing,
}

impl AdminSession {
    /// `admin:<id>`, the audit actor.
    pub fn actor(&self) -> String {
        format!("admin:{}", self.admin_id)
    }

    /// Fails with 403 unless the admin's role is at least `needed`.
    pub fn require(&self, needed: Role) -> Result<(), DomainError> {
        if self.role.at_least(needed) {
            Ok(())
        } else {
            Err(DomainError::Forbidden(format!(
                "requires the {needed} role"
            )))
        }
    }
}

/// A successful login.
#[derive(Debug)]
pub struct LoginOutcome {
    /// The session cookie value (secret; shown once, in `Set-Cookie`).
    pub session_token: String,
    /// The session.
    pub session: AdminSession,
}

fn session_from(
    admin: &Admin,
    csrf_token: String,
    id_hash: String,
    expires_at: DateTime<Utc>,
) -> Result<AdminSession, DomainError> {
    Ok(AdminSession {
        admin_id: AdminId(admin.id),
        tenant_id: TenantId(admin.tenant_id),
        email: admin.email.clone(),
        role: Role::parse(&admin.role)?,
        csrf_token,
        id_hash,
        must_change_password: admin.must_change_password,
        expires_at,
    })
}

impl AuthService {
    /// Logs an admin in. Wrong password and unknown email are indistinguishable, in answer
    /// and in cost; repeated failures back off per (account, IP), per IP and per account
    /// (the last one not for addresses the account has signed in from before).
    pub async fn login(
        &self,
        email: &str,
        password: String,
        ctx: &RequestCtx,
    ) -> Result<LoginOutcome, DomainError> {
        let email = email.trim().to_lowercase();
        let ip = tollgate_core::net::address_bucket(ctx.ip.as_deref());
        let account = digest(&email);
        let acct_ip_key = format!("acct:{account}:{ip}");
        let acct_key = format!("acct:{account}");
        let known_key = format!("known:{account}:{ip}");
        let ip_key = format!("ip:{ip}");
        let mut blocked = self.attempts.blocked(&acct_ip_key).await;
        if blocked.is_none() {
            blocked = self.attempts.blocked(&ip_key).await;
        }
        if blocked.is_none() && !self.attempts.remembered(&known_key).await {
            blocked = self.attempts.blocked(&acct_key).await;
        }
        let admin = self.store.admin_by_email(&email).await?;
        let subject = |reason| Subject {
            tenant: admin.as_ref().map(|a| TenantId(a.tenant_id)),
            action: "login",
            target: admin.as_ref().map(|a| format!("admin:{}", a.id)),
            reason,
        };
        if let Some(retry_after) = blocked {
            // Counted, not written one row each: one row per account per backoff window.
            self.anonymous
                .throttled(subject("throttled"), ctx.ip.as_deref(), retry_after);
            return Err(DomainError::TooManyAttempts { retry_after });
        }
        let check = self
            .passwords
            .verify(admin.as_ref().map(|a| a.password_hash.clone()), password)
            .await?;
        let (admin, rehash) = match (admin, check) {
            (Some(admin), PasswordCheck::Match { rehash }) => (admin, rehash),
            (admin, _) => {
                self.attempts
                    .failure(&acct_ip_key, self.config.account_ip_threshold)
                    .await;
                self.attempts
                    .failure(&ip_key, self.config.ip_threshold)
                    .await;
                self.attempts
                    .failure(&acct_key, self.config.account_threshold)
                    .await;
                let subject = Subject {
                    tenant: admin.as_ref().map(|a| TenantId(a.tenant_id)),
                    action: "login",
                    target: admin.as_ref().map(|a| format!("admin:{}", a.id)),
                    reason: "bad_credentials",
                };
                self.audit_anonymous_failure(subject, ctx).await?;
                return Err(DomainError::Unauthenticated("invalid email or password"));
            }
        };
        // The per-account counter is not reset: a botnet guessing in parallel with the real
        // user must not get a fresh allowance each time the user signs in.
        self.attempts.reset(&acct_ip_key).await;
        self.attempts.remember(&known_key, KNOWN_ADDRESS_SECS).await;
        let tenant = TenantId(admin.tenant_id);
        if let Some(hash) = rehash {
            self.store
                .rehash_admin_password(tenant, AdminId(admin.id), &admin.password_hash, &hash)
                .await?;
        }
        self.open_session(&admin, ctx, serde_json::json!({})).await
    }

    /// Opens a portal session of `admin`, who has just proved who they are (by password, or
    /// by their tenant's identity provider: `detail` says how), and audits the sign-in.
    pub async fn open_session(
        &self,
        admin: &Admin,
        ctx: &RequestCtx,
        detail: serde_json::Value,
    ) -> Result<LoginOutcome, DomainError> {
        let tenant = TenantId(admin.tenant_id);
        let token = random_base62(43);
        let id_hash = digest(&token);
        let csrf = random_base62(32);
        let now = self.clock.now();
        let expires_at = now + self.config.session_ttl;
        self.store
            .create_session(
                &id_hash,
                AdminId(admin.id),
                tenant,
                &csrf,
                admin.password_epoch,
                now,
                expires_at,
            )
            .await?;
        let session = session_from(admin, csrf, id_hash, expires_at)?;
        self.audit(
            Some(tenant),
            &session.actor(),
            "login",
            Some(session.actor()),
            SUCCESS,
            ctx,
            detail,
        )
        .await?;
        Ok(LoginOutcome {
            session_token: token,
            session,
        })
    }

    /// Resolves a session cookie value. A session past its lifetime, or unused for longer
    /// than the inactivity timeout, is deleted and answered as [`SessionLookup::Expired`].
    pub async fn session(&self, token: &str) -> Result<SessionLookup, DomainError> {
        if token.len() != 43 || !tollgate_core::base62::is_base62(token) {
            return Ok(SessionLookup::Missing);
        }
        let id_hash = digest(token);
        let Some(row) = self.store.session(&id_hash).await? else {
            return Ok(SessionLookup::Missing);
        };
        let now = self.clock.now();
        let last_seen = row.last_seen_at.unwrap_or(row.created_at);
        if row.expires_at <= now || now - last_seen >= self.config.session_idle {
            self.store.delete_session(&id_hash).await?;
            return Ok(SessionLookup::Expired);
        }
        let admin = match self
            .store
            .admin(TenantId(row.tenant_id), AdminId(row.admin_id))
            .await
        {
            Ok(a) => a,
            Err(DomainError::NotFound(_)) => return Ok(SessionLookup::Missing),
            Err(e) => return Err(e),
        };
        if row.password_epoch != admin.password_epoch {
            // Signed in against a password changed since: over. Deleted only at the epoch
            // read, so a change that moved this (kept) session on meanwhile keeps it.
            self.store
                .delete_session_at_epoch(&id_hash, row.password_epoch)
                .await?;
            return Ok(SessionLookup::Missing);
        }
        if now - last_seen >= Duration::seconds(TOUCH_EVERY_SECS) {
            self.store.touch_session(&id_hash, now).await?;
        }
        session_from(&admin, row.csrf_token, id_hash, row.expires_at).map(SessionLookup::Live)
    }

    /// Changes the signed-in admin's own password: `current` must be theirs (attempts back
    /// off as logins do), `new` must be a strong password other than `current`. Clears the
    /// one-time flag and ends the admin's other sessions, in the transaction of its audit row;
    /// of two changes at once, the one that commits second finds the password changed (409).
    pub async fn change_password(
        &self,
        session: &AdminSession,
        current: String,
        new: String,
        ctx: &RequestCtx,
    ) -> Result<(), DomainError> {
        // Checks of one admin's password run one at a time (a parallel burst cannot outrun
        // the failure count); a refused attempt is not counted again, so a caller who waits
        // the Retry-After it was given gets a check.
        let one_at_a_time = self.password_checks.of(session.admin_id);
        let _checking = one_at_a_time.lock().await;
        let key = format!("pwchange:{}", session.admin_id);
        if let Some(retry_after) = self.attempts.blocked(&key).await {
            return Err(DomainError::TooManyAttempts { retry_after });
        }
        if new == current {
            return Err(DomainError::invalid(
                Code::WeakPassword,
                "choose a password other than the current one",
            ));
        }
        let admin = self
            .store
            .admin(session.tenant_id, session.admin_id)
            .await?;
        let check = self
            .passwords
            .verify(Some(admin.password_hash.clone()), current)
            .await?;
        if !matches!(check, PasswordCheck::Match { .. }) {
            self.attempts
                .failure(&key, self.config.account_ip_threshold)
                .await;
            self.audit(
                Some(session.tenant_id),
                &session.actor(),
                "password.change_failed",
                Some(session.actor()),
                super::FAILURE,
                ctx,
                serde_json::json!({ "reason": "wrong_password" }),
            )
            .await?;
            return Err(DomainError::invalid(
                Code::WrongPassword,
                "the current password is not right",
            ));
        }
        // The caller knows the password: a weak new one is not a failed guess.
        self.attempts.reset(&key).await;
        let hash = self.passwords.hash(new).await?;
        let event = NewAuditEvent::new(&session.actor(), "password.changed", ctx, self.clock.now())
            .tenant(Some(session.tenant_id))
            .target(Some(session.actor()))
            .detail(serde_json::json!({ "one_time": admin.must_change_password }));
        let (tenant, id) = (session.tenant_id, session.admin_id);
        self.store
            .audited(Some(tenant), |txn| {
                let (store, event, hash) = (self.store.clone(), event.clone(), hash.clone());
                let (old, keep) = (admin.password_hash.clone(), session.id_hash.clone());
                Box::pin(async move {
                    store
                        .change_admin_password_in(txn, tenant, id, &old, &hash, &keep)
                        .await?;
                    Ok(Some(((), event)))
                })
            })
            .await?;
        Ok(())
    }

    /// Ends a session.
    pub async fn logout(
        &self,
        session: &AdminSession,
        ctx: &RequestCtx,
    ) -> Result<(), DomainError> {
        self.store.delete_session(&session.id_hash).await?;
        self.audit(
            Some(session.tenant_id),
            &session.actor(),
            "logout",
            Some(session.actor()),
            SUCCESS,
            ctx,
            serde_json::json!({}),
        )
        .await
    }
}
