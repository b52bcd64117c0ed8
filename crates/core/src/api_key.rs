//! The API-key format: `tg_live_` or `tg_test_`, 32 base62 random characters, then a
//! 6-character base62 CRC32 of everything before it. The fixed prefix and checksum let
//! secret scanners recognise a leaked key, and let us refuse a mistyped or forged key
//! before touching the database.

use crate::base62;

/// Number of random base62 characters in a key (~190 bits of entropy).
pub const RANDOM_LEN: usize = 32;
/// Number of base62 characters of the CRC32 checksum.
pub const CHECKSUM_LEN: usize = 6;
/// Characters of a key shown back to users so they can tell keys apart.
pub const DISPLAY_PREFIX_LEN: usize = 12;

/// Whether a key is for live traffic or for testing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyEnv {
    /// `tg_live_` keys.
    Live,
    /// `tg_test_` keys.
    Test,
}

impl KeyEnv {
    /// The literal prefix of keys of this environment.
    pub fn prefix(self) -> &'static str {
        match self {
            KeyEnv::Live => "tg_live_",
            KeyEnv::Test => "tg_test_",
        }
    }
}

/// Why a presented string is not a well-formed API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyFormatError {
    /// It does not start with a known prefix.
    #[error("unknown key prefix")]
    Prefix,
    /// Wrong length or characters outside base62.
    #[error("malformed key")]
    Malformed,
    /// The checksum does not match: a typo or a forgery.
    #[error("key checksum mismatch")]
    Checksum,
}

/// A syntactically valid API key (checksum verified); it may still be unknown or revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedKey<'a> {
    /// Live or test.
    pub env: KeyEnv,
    /// The whole key as presented.
    pub full: &'a str,
}

impl ParsedKey<'_> {
    /// The non-secret prefix stored and listed to tell keys apart.
    pub fn display_prefix(&self) -> &str {
        &self.full[..DISPLAY_PREFIX_LEN]
    }
}

/// Builds a key string from its environment and `RANDOM_LEN` random base62 characters.
pub fn assemble(env: KeyEnv, random: &str) -> String {
    let mut key = String::with_capacity(8 + RANDOM_LEN + CHECKSUM_LEN);
    key.push_str(env.prefix());
    key.push_str(random);
    let crc = crc32fast::hash(key.as_bytes());
    key.push_str(&base62::encode_u32_padded(crc, CHECKSUM_LEN));
    key
}

/// True when `s` looks like it is meant to be an API key (so it is never tried as a JWT).
pub fn looks_like_key(s: &str) -> bool {
    s.starts_with("tg_")
}

/// Parses and checksums a presented key. No I/O: this runs before any lookup.
pub fn parse(s: &str) -> Result<ParsedKey<'_>, KeyFormatError> {
    let env = if s.starts_with(KeyEnv::Live.prefix()) {
        KeyEnv::Live
    } else if s.starts_with(KeyEnv::Test.prefix()) {
        KeyEnv::Test
    } else {
        return Err(KeyFormatError::Prefix);
    };
    let body = &s[8..];
    if body.len() != RANDOM_LEN + CHECKSUM_LEN || !base62::is_base62(body) {
        return Err(KeyFormatError::Malformed);
    }
    let (head, sum) = s.split_at(s.len() - CHECKSUM_LEN);
    let mut expected = [0u8; CHECKSUM_LEN];
    base62::fill_u32_padded(crc32fast::hash(head.as_bytes()), &mut expected);
    if expected != sum.as_bytes() {
        return Err(KeyFormatError::Checksum);
    }
    Ok(ParsedKey { env, full: s })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANDOM: &str = "AbCdEfGhIjKlMnOpQrStUvWxYz012345";

    #[test]
    fn round_trips() {
        let key = assemble(KeyEnv::Live, RANDOM);
        assert_eq!(key.len(), 8 + 32 + 6);
        let parsed = parse(&key).unwrap();
        assert_eq!(parsed.env, KeyEnv::Live);
        assert_eq!(parsed.display_prefix(), "tg_live_AbCd");
        let test_key = assemble(KeyEnv::Test, RANDOM);
        assert_eq!(parse(&test_key).unwrap().env, KeyEnv::Test);
    }

    #[test]
    fn any_single_character_change_is_caught() {
        let key = assemble(KeyEnv::Live, RANDOM);
        for i in 8..key.len() {
            let mut bytes = key.clone().into_bytes();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            let changed = String::from_utf8(bytes).unwrap();
            assert_eq!(
                parse(&changed),
                Err(KeyFormatError::Checksum),
                "position {i}"
            );
        }
    }

    #[test]
    fn rejects_bad_shapes() {
        assert_eq!(parse("tg_prod_x"), Err(KeyFormatError::Prefix));
        assert_eq!(parse("tg_live_short"), Err(KeyFormatError::Malformed));
        let key = assemble(KeyEnv::Live, RANDOM).replace('A', "-");
        assert_eq!(parse(&key), Err(KeyFormatError::Malformed));
        // Non-ASCII must not panic on slicing.
        assert!(parse("tg_live_é").is_err());
    }
}
