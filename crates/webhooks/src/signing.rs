//! Standard Webhooks signing (the specification Svix and others publish): a secret is
//! `whsec_` and the base64 of its key bytes; each delivery carries `webhook-id`,
//! `webhook-timestamp` (Unix seconds) and `webhook-signature`, `v1,` and the base64 of
//! HMAC-SHA256 over `{id}.{timestamp}.{body}`, one such signature per secret in force,
//! separated by spaces (during a rotation's overlap, the new secret's and the old one's).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use tollgate_core::DomainError;

/// Prefix of a secret on the wire.
const PREFIX: &str = "whsec_";

/// A signing secret's key bytes. Debug prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Secret {
    /// 32 fresh random bytes.
    pub fn generate() -> Result<Self, DomainError> {
        let mut key = vec![0u8; 32];
        SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| DomainError::internal("system RNG failed"))?;
        Ok(Self(key))
    }

    /// The key bytes (what is sealed at rest).
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// Key bytes read back from the sealed store.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// `whsec_…`, as the tenant is shown it once.
    pub fn to_wire(&self) -> String {
        format!("{PREFIX}{}", B64.encode(&self.0))
    }

    /// One `v1,` signature of a delivery.
    pub fn sign(&self, id: &str, timestamp: i64, body: &str) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.0);
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(id.as_bytes());
        ctx.update(b".");
        ctx.update(timestamp.to_string().as_bytes());
        ctx.update(b".");
        ctx.update(body.as_bytes());
        format!("v1,{}", B64.encode(ctx.sign().as_ref()))
    }
}

/// The `webhook-signature` header: one signature per secret in `secrets`, space-separated.
pub fn signature_header(secrets: &[Secret], id: &str, timestamp: i64, body: &str) -> String {
    secrets
        .iter()
        .map(|s| s.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The specification's published example (secret, id, timestamp, body); the expected
    /// signature is what the `standardwebhooks` package on PyPI (1.1.0) computes for it.
    #[test]
    fn signs_the_specification_example() {
        let secret = Secret::from_bytes(B64.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap());
        let sig = secret.sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(secret.to_wire(), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    }

    #[test]
    fn one_signature_per_secret() {
        let (a, b) = (Secret::generate().unwrap(), Secret::generate().unwrap());
        let h = signature_header(&[a.clone(), b.clone()], "msg_1", 1, "{}");
        assert_eq!(
            h,
            format!("{} {}", a.sign("msg_1", 1, "{}"), b.sign("msg_1", 1, "{}"))
        );
        assert_ne!(a.sign("msg_1", 1, "{}"), a.sign("msg_1", 2, "{}"));
        assert_eq!(format!("{a:?}"), "Secret(***)");
    }
}
