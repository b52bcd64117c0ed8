//! Tollgate authentication: who is calling and on behalf of which tenant.
//!
//! Admin passwords (argon2id), high-entropy secrets (client secrets, API keys, session ids;
//! SHA-256 digests, constant-time compare), the Ed25519 JWT keyring with rotation, token
//! issue and verification, revocation, and the operations that create and manage those
//! credentials, each writing its audit event.

pub mod anonymous;
pub mod backoff;
pub mod keyring;
pub mod master;
pub mod oidc;
pub mod password;
pub mod principal;
pub mod revocation;
pub mod secret;
pub mod service;
pub mod tokens;

pub use principal::{AuthError, Authenticator, Principal, PrincipalKind};
pub use service::{AuthConfig, AuthService, RequestCtx};
