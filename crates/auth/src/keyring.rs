//! Token-signing keys. Ed25519 keys are generated here, their private halves sealed with the
//! master key. There is always a *next* key, published in the JWKS before it signs anything,
//! so verifiers that cached the JWKS already know it when rotation makes it active; a retired
//! key stays published until every token it signed has expired.

use crate::master::MasterKey;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tollgate_core::{Clock, DomainError};
use tollgate_store::signing_keys::{new_signing_key, NewSigningKey, SigningKey};
use tollgate_store::{map_db_err, Store};

/// The signing algorithm of keys this keyring creates.
pub const ALG: Algorithm = Algorithm::EdDSA;
const ALG_NAME: &str = "EdDSA";

/// A public key usable for verification.
pub struct VerifyKey {
    /// The algorithm this key is for; a token must name exactly this one.
    pub alg: Algorithm,
    /// The verification key.
    pub key: DecodingKey,
}

/// The key currently signing.
pub struct ActiveKey {
    /// Its id.
    pub kid: String,
    /// The private key.
    pub key: EncodingKey,
}

/// One consistent view of the keyring.
#[derive(Default)]
pub struct KeySet {
    /// The signing key, if any.
    pub active: Option<ActiveKey>,
    /// Every published key by `kid`.
    pub verify: HashMap<String, VerifyKey>,
    /// The JWKS document.
    pub jwks: serde_json::Value,
}

/// Signing keys loaded from the database, refreshed periodically.
pub struct Keyring {
    store: Store,
    master: MasterKey,
    clock: Arc<dyn Clock>,
    /// How long a retired key stays published (longest token lifetime plus leeway).
    retire_grace: Duration,
    current: RwLock<Arc<KeySet>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").finish_non_exhaustive()
    }
}

fn generate(
    master: &MasterKey,
    now: DateTime<Utc>,
    active: bool,
) -> Result<(String, NewSigningKey), DomainError> {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map_err(|_| DomainError::internal("Ed25519 key generation failed"))?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
        .map_err(|_| DomainError::internal("Ed25519 key parse failed"))?;
    let public = B64URL.encode(pair.public_key().as_ref());
    let kid = format!("ed-{}", uuid::Uuid::now_v7().simple());
    let sealed = master.seal(&kid, pkcs8.as_ref())?;
    Ok((
        kid.clone(),
        new_signing_key(kid, ALG_NAME, sealed, public, now, active),
    ))
}

impl Keyring {
    /// Loads the keyring, creating the first active and next keys on a fresh database.
    pub async fn open(
        store: Store,
        master: MasterKey,
        clock: Arc<dyn Clock>,
        retire_grace: Duration,
    ) -> Result<Self, DomainError> {
        let ring = Self {
            store,
            master,
            clock,
            retire_grace,
            current: RwLock::new(Arc::new(KeySet::default())),
        };
        let now = ring.clock.now();
        if ring
            .store
            .published_signing_keys(now)
            .await
            .map_err(map_db_err)?
            .is_empty()
        {
            let keys = vec![
                generate(&ring.master, now, true)?.1,
                generate(&ring.master, now, false)?.1,
            ];
            ring.store.insert_signing_keys(keys).await?;
        }
        ring.reload().await?;
        Ok(ring)
    }

    /// Re-reads the keys from the database (another instance or the CLI may have rotated).
    pub async fn reload(&self) -> Result<(), DomainError> {
        let now = self.clock.now();
        let rows = self
            .store
            .published_signing_keys(now)
            .await
            .map_err(map_db_err)?;
        let set = self.build(&rows)?;
        if let Ok(mut cur) = self.current.write() {
            *cur = Arc::new(set);
        }
        Ok(())
    }

    fn build(&self, rows: &[SigningKey]) -> Result<KeySet, DomainError> {
        let mut set = KeySet::default();
        let mut jwks = Vec::new();
        let active_row = rows
            .iter()
            .filter(|r| r.activated_at.is_some() && r.retired_at.is_none())
            .max_by_key(|r| r.activated_at);
        for row in rows {
            if row.alg != ALG_NAME {
                continue;
            }
            let key =
                DecodingKey::from_ed_components(&row.public_key).map_err(DomainError::internal)?;
            set.verify
                .insert(row.kid.clone(), VerifyKey { alg: ALG, key });
            jwks.push(serde_json::json!({
                "kty": "OKP", "crv": "Ed25519", "x": row.public_key,
                "kid": row.kid, "alg": ALG_NAME, "use": "sig",
            }));
        }
        if let Some(row) = active_row {
            let der = self.master.open(&row.kid, &row.private_key_enc)?;
            set.active = Some(ActiveKey {
                kid: row.kid.clone(),
                key: EncodingKey::from_ed_der(&der),
            });
        }
        set.jwks = serde_json::json!({ "keys": jwks });
        Ok(set)
    }

    /// The current view.
    pub fn snapshot(&self) -> Arc<KeySet> {
        self.current
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Activates the published next key, retires the active one (kept published for the
    /// grace period) and publishes a new next key. Returns the new active kid.
    pub async fn rotate(&self) -> Result<String, DomainError> {
        let now = self.clock.now();
        let rows = self
            .store
            .published_signing_keys(now)
            .await
            .map_err(map_db_err)?;
        let active = rows
            .iter()
            .filter(|r| r.activated_at.is_some() && r.retired_at.is_none())
            .max_by_key(|r| r.activated_at)
            .map(|r| r.kid.clone());
        let next = rows
            .iter()
            .filter(|r| r.activated_at.is_none())
            .min_by_key(|r| r.created_at)
            .map(|r| r.kid.clone());
        let (_, fresh) = generate(&self.master, now, false)?;
        let next = match next {
            Some(kid) => kid,
            None => {
                // No published next key (should not happen): publish one and use it at once.
                let (kid, extra) = generate(&self.master, now, false)?;
                self.store.insert_signing_keys(vec![extra]).await?;
                kid
            }
        };
        self.store
            .rotate_signing_keys(
                active.as_deref(),
                &next,
                fresh,
                now,
                now + self.retire_grace,
            )
            .await?;
        self.reload().await?;
        Ok(next)
    }
}
