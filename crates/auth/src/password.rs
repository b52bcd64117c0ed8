//! Admin passwords: argon2id at (at least) OWASP's parameters, hashed on the blocking pool so
//! a login never stalls the async runtime. Hashes with weaker parameters are upgraded on the
//! next successful login, and an unknown email costs the same as a wrong password.
//!
//! Each hash holds `m_cost` KiB (19 MiB at OWASP's parameters) for its duration, so the
//! number running at once is bounded: a burst of logins queues for a short while and is then
//! refused with 503, instead of running hundreds of hashes side by side.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tollgate_core::Code;
use tollgate_core::DomainError;

/// How long a hash waits for a free slot before the request is refused as busy.
const QUEUE_WAIT: Duration = Duration::from_secs(5);

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    /// Memory in KiB.
    pub m_cost: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl PasswordParams {
    /// OWASP's minimum recommendation for argon2id (m=19 MiB, t=2, p=1).
    pub const OWASP: PasswordParams = PasswordParams {
        m_cost: 19_456,
        t_cost: 2,
        p_cost: 1,
    };
}

/// Minimum password length accepted for new passwords.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Outcome of checking a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordCheck {
    /// Wrong password (or no such account).
    Mismatch,
    /// Right password; `rehash` holds a new hash when the stored one used weaker parameters.
    Match {
        /// Upgraded hash to store, if any.
        rehash: Option<String>,
    },
}

/// Hashes and verifies passwords with fixed parameters.
#[derive(Clone)]
pub struct PasswordHasherPool {
    params: PasswordParams,
    argon: Arc<Argon2<'static>>,
    dummy_hash: Arc<String>,
    slots: Arc<Semaphore>,
}

impl std::fmt::Debug for PasswordHasherPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasherPool")
            .field("params", &self.params)
            .finish()
    }
}

fn argon(params: PasswordParams) -> Result<Argon2<'static>, DomainError> {
    let p = Params::new(params.m_cost, params.t_cost, params.p_cost, None)
        .map_err(|e| DomainError::internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, p))
}

impl PasswordHasherPool {
    /// A hasher with `params` running at most two hashes per core at once; computes a
    /// dummy hash used to equalise the cost of unknown emails.
    pub fn new(params: PasswordParams) -> Result<Self, DomainError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::with_slots(params, 2 * cores)
    }

    /// A hasher running at most `slots` hashes at once.
    pub fn with_slots(params: PasswordParams, slots: usize) -> Result<Self, DomainError> {
        let argon = argon(params)?;
        let dummy = hash_with(&argon, "tollgate-dummy-password-for-timing")?;
        Ok(Self {
            params,
            argon: Arc::new(argon),
            dummy_hash: Arc::new(dummy),
            slots: Arc::new(Semaphore::new(slots.max(1))),
        })
    }

    /// Runs `work` on the blocking pool once a hashing slot is free.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, DomainError> + Send + 'static,
    ) -> Result<T, DomainError> {
        let permit = tokio::time::timeout(QUEUE_WAIT, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| DomainError::Unavailable("password hashing is saturated".into()))?
            .map_err(DomainError::internal)?;
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(DomainError::internal)?
    }

    /// The configured parameters.
    pub fn params(&self) -> PasswordParams {
        self.params
    }

    /// Hashes a new password (blocking pool).
    pub async fn hash(&self, password: String) -> Result<String, DomainError> {
        if password.chars().count() < MIN_PASSWORD_LEN {
            return Err(DomainError::invalid(
                Code::WeakPassword,
                format!("passwords need at least {MIN_PASSWORD_LEN} characters"),
            ));
        }
        let argon = self.argon.clone();
        self.run(move || hash_with(&argon, &password)).await
    }

    /// Verifies `password` against `stored`, or against a dummy hash when `stored` is `None`
    /// (unknown account), so both paths cost the same (blocking pool).
    pub async fn verify(
        &self,
        stored: Option<String>,
        password: String,
    ) -> Result<PasswordCheck, DomainError> {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy_hash.as_ref().clone());
        let argon = self.argon.clone();
        let params = self.params;
        self.run(move || {
            let parsed = PasswordHash::new(&stored)
                .map_err(|e| DomainError::internal(format!("stored hash: {e}")))?;
            let ok = Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            if !(ok && known) {
                return Ok(PasswordCheck::Mismatch);
            }
            let rehash = if weaker_than(&parsed, params) {
                Some(hash_with(&argon, &password)?)
            } else {
                None
            };
            Ok(PasswordCheck::Match { rehash })
        })
        .await
    }
}

/// Hashes with explicit parameters (synchronous; also used by tests to make old hashes).
pub fn hash_with_params(params: PasswordParams, password: &str) -> Result<String, DomainError> {
    hash_with(&argon(params)?, password)
}

fn hash_with(argon: &Argon2<'_>, password: &str) -> Result<String, DomainError> {
    let salt = SaltString::generate(&mut OsRng);
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| DomainError::internal(format!("argon2: {e}")))
}

fn weaker_than(hash: &PasswordHash<'_>, want: PasswordParams) -> bool {
    if hash.algorithm.as_str() != "argon2id" {
        return true;
    }
    let get = |name: &str| hash.params.get_decimal(name).unwrap_or(0);
    get("m") < want.m_cost || get("t") < want.t_cost || get("p") < want.p_cost
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOW: PasswordParams = PasswordParams {
        m_cost: 8,
        t_cost: 1,
        p_cost: 1,
    };

    #[tokio::test]
    async fn verifies_and_upgrades() {
        let pool = PasswordHasherPool::new(PasswordParams {
            m_cost: 64,
            t_cost: 2,
            p_cost: 1,
        })
        .unwrap();
        let weak = hash_with_params(LOW, "correct horse battery").unwrap();
        let check = pool
            .verify(Some(weak), "correct horse battery".into())
            .await
            .unwrap();
        let PasswordCheck::Match { rehash: Some(new) } = check else {
            panic!("expected upgrade: {check:?}")
        };
        assert!(new.contains("m=64,t=2,p=1"));
        let again = pool
            .verify(Some(new.clone()), "correct horse battery".into())
            .await
            .unwrap();
        assert_eq!(again, PasswordCheck::Match { rehash: None });
        assert_eq!(
            pool.verify(Some(new), "wrong".into()).await.unwrap(),
            PasswordCheck::Mismatch
        );
        assert_eq!(
            pool.verify(None, "anything".into()).await.unwrap(),
            PasswordCheck::Mismatch
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_saturated_pool_refuses_as_unavailable() {
        let pool = PasswordHasherPool::with_slots(LOW, 1).unwrap();
        let held = pool.slots.clone().acquire_owned().await.unwrap();
        let err = pool.hash("a long password here".into()).await.unwrap_err();
        assert!(matches!(err, DomainError::Unavailable(_)), "{err:?}");
        let err = pool.verify(None, "anything".into()).await.unwrap_err();
        assert!(matches!(err, DomainError::Unavailable(_)), "{err:?}");
        // Once the slot is free again, hashing goes through.
        drop(held);
        assert!(pool.hash("a long password here".into()).await.is_ok());
    }

    #[tokio::test]
    async fn rejects_short_passwords() {
        let pool = PasswordHasherPool::new(LOW).unwrap();
        assert!(pool.hash("short".into()).await.is_err());
    }
}
