//! High-entropy secrets (client secrets, API keys, session ids): generation, digests and
//! constant-time comparison. They are stored as SHA-256 digests: with ~190 bits of entropy a
//! slow hash buys nothing and would cost a KDF per request.

use rand::rngs::OsRng;
use rand::RngCore;
use subtle::ConstantTimeEq;
use tollgate_core::api_key::{self, KeyEnv, KeyFormatError, ParsedKey};
use tollgate_core::base62;

/// `len` uniformly random base62 characters from the OS RNG.
pub fn random_base62(len: usize) -> String {
    loop {
        let mut bytes = vec![0u8; len + len / 2 + 8];
        OsRng.fill_bytes(&mut bytes);
        if let Some(s) = base62::from_random_bytes(&bytes, len) {
            return s;
        }
    }
}

/// Hex SHA-256 digest of a secret, as stored.
pub fn digest(secret: &str) -> String {
    tollgate_store::sha256_hex(secret.as_bytes())
}

/// Constant-time equality of two digests.
pub fn digests_equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// A new client id (public) — `tgc_` and 22 base62 characters.
pub fn new_client_id() -> String {
    format!("tgc_{}", random_base62(22))
}

/// A new client secret — `tgs_` and 40 base62 characters.
pub fn new_client_secret() -> String {
    format!("tgs_{}", random_base62(40))
}

/// A new API key of `env`.
pub fn new_api_key(env: KeyEnv) -> String {
    api_key::assemble(env, &random_base62(api_key::RANDOM_LEN))
}

/// Parses a presented API key and returns it with its digest (on the stack: this runs on
/// every request with a key); no I/O happens before the checksum has been verified.
pub fn check_api_key(
    presented: &str,
) -> Result<(ParsedKey<'_>, tollgate_store::Sha256Hex), KeyFormatError> {
    let parsed = api_key::parse(presented)?;
    let digest = tollgate_store::Sha256Hex::of(parsed.full.as_bytes());
    Ok((parsed, digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse() {
        let key = new_api_key(KeyEnv::Live);
        let (parsed, digest) = check_api_key(&key).unwrap();
        assert_eq!(parsed.env, KeyEnv::Live);
        assert_eq!(digest.as_str(), super::digest(&key));
        assert_ne!(new_api_key(KeyEnv::Live), key);
    }

    #[test]
    fn digest_compare() {
        assert!(digests_equal(&digest("a"), &digest("a")));
        assert!(!digests_equal(&digest("a"), &digest("b")));
    }
}
