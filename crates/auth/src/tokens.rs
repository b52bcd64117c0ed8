//! Access tokens: RFC 9068 JWTs (`typ: at+jwt`). Verification trusts nothing in the header
//! but `kid` as a map key: the algorithm comes from our allow-list and must match the key's,
//! `jku`/`x5u`/`jwk` are never read, and every time claim is checked against our clock.

use crate::keyring::{Keyring, ALG};
use chrono::Duration;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tollgate_core::{Clock, DomainError, ScopeSet, TenantId};

/// Tokens longer than this are refused before any parsing.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;
/// The JWT `typ` of access tokens.
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// Claims of a Tollgate access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// Issuer.
    pub iss: String,
    /// Subject: the OAuth2 client id.
    pub sub: String,
    /// Audience.
    pub aud: String,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// Not before, if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Token id, for revocation.
    pub jti: String,
    /// The client the token was issued to (RFC 9068 §2.2).
    pub client_id: String,
    /// The tenant the client belongs to.
    pub tenant_id: TenantId,
    /// Granted scopes, space-separated.
    pub scope: String,
}

/// Why a token was refused; also the `reason` label of the auth-failure metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Over [`MAX_TOKEN_LEN`].
    #[error("token too large")]
    TooLarge,
    /// Not a parseable JWT, or a claim of the wrong type.
    #[error("malformed token")]
    Malformed,
    /// `alg` is not on the allow-list (including `none`).
    #[error("unsupported algorithm")]
    Algorithm,
    /// `typ` is not `at+jwt`.
    #[error("wrong token type")]
    Type,
    /// No `kid`, or not one of our published keys.
    #[error("unknown signing key")]
    UnknownKey,
    /// Signature does not verify.
    #[error("bad signature")]
    Signature,
    /// A required claim is missing.
    #[error("missing claim")]
    MissingClaim,
    /// Past `exp`.
    #[error("token expired")]
    Expired,
    /// Before `nbf`, or `iat` in the future.
    #[error("token not yet valid")]
    NotYetValid,
    /// Valid for longer (`exp - iat`) than any token this server issues.
    #[error("token lifetime too long")]
    Lifetime,
    /// Wrong `iss`.
    #[error("wrong issuer")]
    Issuer,
    /// Wrong `aud`.
    #[error("wrong audience")]
    Audience,
    /// Revoked by `jti` or because its client was deleted.
    #[error("token revoked")]
    Revoked,
}

impl TokenError {
    /// Metric label.
    pub fn reason(self) -> &'static str {
        match self {
            TokenError::TooLarge => "too_large",
            TokenError::Malformed => "malformed",
            TokenError::Algorithm => "algorithm",
            TokenError::Type => "type",
            TokenError::UnknownKey => "unknown_key",
            TokenError::Signature => "signature",
            TokenError::MissingClaim => "missing_claim",
            TokenError::Expired => "expired",
            TokenError::NotYetValid => "not_yet_valid",
            TokenError::Lifetime => "lifetime",
            TokenError::Issuer => "issuer",
            TokenError::Audience => "audience",
            TokenError::Revoked => "revoked",
        }
    }
}

/// A freshly issued token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: String,
    /// Its claims.
    pub claims: AccessClaims,
    /// Lifetime in seconds.
    pub expires_in: i64,
}

/// Issues and verifies access tokens.
pub struct TokenService {
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    issuer: String,
    audience: String,
    ttl: Duration,
    leeway: i64,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl TokenService {
    /// A token service. `leeway_secs` is the explicit clock-skew allowance.
    pub fn new(
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
        issuer: String,
        audience: String,
        ttl: Duration,
        leeway_secs: i64,
    ) -> Self {
        Self {
            keyring,
            clock,
            issuer,
            audience,
            ttl,
            leeway: leeway_secs,
        }
    }

    /// The issuer URL.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The keyring.
    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.keyring
    }

    /// Issues a token for `client_id` of `tenant` with `scopes`.
    pub fn issue(
        &self,
        tenant: TenantId,
        client_id: &str,
        scopes: &ScopeSet,
    ) -> Result<IssuedToken, DomainError> {
        let set = self.keyring.snapshot();
        let active = set
            .active
            .as_ref()
            .ok_or_else(|| DomainError::Unavailable("no active signing key".into()))?;
        let now = self.clock.now().timestamp();
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: client_id.to_owned(),
            aud: self.audience.clone(),
            exp: now + self.ttl.num_seconds(),
            iat: now,
            nbf: None,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            client_id: client_id.to_owned(),
            tenant_id: tenant,
            scope: scopes.to_string(),
        };
        let mut header = Header::new(ALG);
        header.typ = Some(ACCESS_TOKEN_TYP.to_owned());
        header.kid = Some(active.kid.clone());
        let token =
            jsonwebtoken::encode(&header, &claims, &active.key).map_err(DomainError::internal)?;
        Ok(IssuedToken {
            token,
            claims,
            expires_in: self.ttl.num_seconds(),
        })
    }

    /// Verifies signature and claims. Revocation is checked by the caller.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        self.verify_with_kid(token).map(|(claims, _)| claims)
    }

    /// [`verify`](Self::verify), also returning the `kid` that verified the token (so a
    /// cached token can be refused once its key is no longer published).
    pub fn verify_with_kid(&self, token: &str) -> Result<(AccessClaims, String), TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLarge);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|e| match e.kind() {
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => TokenError::Algorithm,
            // An unknown `alg` (e.g. "none") fails header deserialisation.
            ErrorKind::Json(_) => TokenError::Algorithm,
            _ => TokenError::Malformed,
        })?;
        if header.alg != ALG {
            return Err(TokenError::Algorithm);
        }
        let typ_ok = header.typ.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case(ACCESS_TOKEN_TYP) || t.eq_ignore_ascii_case("application/at+jwt")
        });
        if !typ_ok {
            return Err(TokenError::Type);
        }
        let kid = header.kid.as_deref().ok_or(TokenError::UnknownKey)?;
        let set = self.keyring.snapshot();
        let key = set.verify.get(kid).ok_or(TokenError::UnknownKey)?;
        if key.alg != header.alg {
            return Err(TokenError::Algorithm);
        }
        let mut validation = Validation::new(key.alg);
        validation.algorithms = vec![key.alg];
        validation.leeway = 0;
        // Time claims are checked below against our clock, with our leeway.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<AccessClaims>(token, &key.key, &validation).map_err(
            |e| match e.kind() {
                ErrorKind::InvalidSignature => TokenError::Signature,
                ErrorKind::InvalidIssuer => TokenError::Issuer,
                ErrorKind::InvalidAudience => TokenError::Audience,
                ErrorKind::MissingRequiredClaim(_) => TokenError::MissingClaim,
                ErrorKind::InvalidAlgorithm => TokenError::Algorithm,
                ErrorKind::Json(_) => TokenError::MissingClaim,
                _ => TokenError::Malformed,
            },
        )?;
        let claims = data.claims;
        let now = self.clock.now().timestamp();
        if claims.exp <= now - self.leeway {
            return Err(TokenError::Expired);
        }
        if claims.iat > now + self.leeway || claims.nbf.is_some_and(|nbf| nbf > now + self.leeway) {
            return Err(TokenError::NotYetValid);
        }
        // A stolen signing key aside, nobody can mint a token; but a token valid for longer
        // than this server ever issues is not one of ours, whatever signed it.
        if claims.exp.saturating_sub(claims.iat) > self.ttl.num_seconds() + self.leeway {
            return Err(TokenError::Lifetime);
        }
        if claims.sub.is_empty() || claims.jti.is_empty() {
            return Err(TokenError::MissingClaim);
        }
        Ok((claims, kid.to_owned()))
    }

    /// Whether `kid` is still published (its tokens may still be accepted).
    pub fn key_published(&self, kid: &str) -> bool {
        self.keyring.snapshot().verify.contains_key(kid)
    }
}

/// Algorithms accepted on input; anything else (`none`, HS*, RS*) is refused up front.
pub fn allowed_algorithms() -> &'static [Algorithm] {
    &[ALG]
}
