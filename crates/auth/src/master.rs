//! The master key that encrypts signing keys at rest (AES-256-GCM, key id as associated
//! data so a ciphertext cannot be swapped between rows).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use tollgate_core::Code;
use tollgate_core::DomainError;

/// 32 bytes of key material. Debug prints `***`.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    /// Parses base64 of exactly 32 bytes.
    pub fn from_base64(s: &str) -> Result<Self, DomainError> {
        let bytes = B64.decode(s.trim()).map_err(|_| {
            DomainError::invalid(Code::BadMasterKey, "TOLLGATE_MASTER_KEY must be base64")
        })?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| {
            DomainError::invalid(
                Code::BadMasterKey,
                "TOLLGATE_MASTER_KEY must decode to 32 bytes",
            )
        })?;
        Ok(Self(arr))
    }

    /// A fresh random key.
    pub fn generate() -> Result<Self, DomainError> {
        let mut arr = [0u8; 32];
        SystemRandom::new()
            .fill(&mut arr)
            .map_err(|_| DomainError::internal("system RNG failed"))?;
        Ok(Self(arr))
    }

    /// Base64 form, for writing the key file.
    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }

    /// Key material for one purpose, derived from this key (HMAC-SHA256 of the purpose's
    /// label), so no two uses share a key.
    pub fn derive(&self, label: &str) -> [u8; 32] {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.0);
        let tag = ring::hmac::sign(&key, label.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// The key that seals the audit log.
    pub fn audit_key(&self) -> tollgate_store::audit::AuditKey {
        tollgate_store::audit::AuditKey::new(&self.derive("tollgate audit chain v1"))
    }

    fn aead(&self) -> Result<LessSafeKey, DomainError> {
        UnboundKey::new(&AES_256_GCM, &self.0)
            .map(LessSafeKey::new)
            .map_err(|_| DomainError::internal("bad AES key"))
    }

    /// Encrypts `plain`, binding it to `aad`; output is base64(nonce ‖ ciphertext ‖ tag).
    pub fn seal(&self, aad: &str, plain: &[u8]) -> Result<String, DomainError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| DomainError::internal("system RNG failed"))?;
        let mut buf = plain.to_vec();
        self.aead()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buf,
            )
            .map_err(|_| DomainError::internal("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(B64.encode(out))
    }

    /// Decrypts what [`MasterKey::seal`] produced with the same `aad`.
    pub fn open(&self, aad: &str, sealed: &str) -> Result<Vec<u8>, DomainError> {
        let wrong = || {
            DomainError::Internal("cannot decrypt a signing key: wrong TOLLGATE_MASTER_KEY?".into())
        };
        let bytes = B64.decode(sealed).map_err(|_| wrong())?;
        if bytes.len() < NONCE_LEN {
            return Err(wrong());
        }
        let (nonce, ct) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| wrong())?;
        let mut buf = ct.to_vec();
        let plain = self
            .aead()?
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut buf)
            .map_err(|_| wrong())?;
        Ok(plain.to_vec())
    }
}

impl tollgate_core::webhook::SecretBox for MasterKey {
    fn seal(&self, aad: &str, plain: &[u8]) -> Result<String, DomainError> {
        MasterKey::seal(self, aad, plain)
    }

    fn open(&self, aad: &str, sealed: &str) -> Result<Vec<u8>, DomainError> {
        MasterKey::open(self, aad, sealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let key = MasterKey::generate().unwrap();
        let sealed = key.seal("kid-1", b"secret").unwrap();
        assert_eq!(key.open("kid-1", &sealed).unwrap(), b"secret");
        assert!(key.open("kid-2", &sealed).is_err());
        assert!(MasterKey::generate()
            .unwrap()
            .open("kid-1", &sealed)
            .is_err());
        assert_eq!(format!("{key:?}"), "MasterKey(***)");
        assert_ne!(key.derive("a"), key.derive("b"), "one key per purpose");
        assert_eq!(key.derive("a"), key.derive("a"));
    }
}
