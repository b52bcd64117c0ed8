//! Base62 alphabet helpers shared by API keys, client ids and secrets.

/// The 62 characters used in every Tollgate-generated identifier and secret.
pub const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// True when every byte of `s` is in [`ALPHABET`].
pub fn is_base62(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Encodes `value` in base62, left-padded with `0` to `width` characters.
pub fn encode_u32_padded(value: u32, width: usize) -> String {
    let mut out = vec![b'0'; width];
    fill_u32_padded(value, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes `value` in base62 into all of `out`, left-padded with `0` (the low digits when
/// `out` is too short; 62^6 > u32::MAX, so six characters always hold the whole value).
/// Allocates nothing: it checks the checksum of every API key presented.
pub fn fill_u32_padded(mut value: u32, out: &mut [u8]) {
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
}

/// Maps uniformly random bytes to base62 characters by rejection sampling, so every
/// character is equally likely. Bytes >= 248 are skipped; the caller supplies enough.
pub fn from_random_bytes(bytes: &[u8], len: usize) -> Option<String> {
    let chars: String = bytes
        .iter()
        .filter(|b| **b < 248)
        .take(len)
        .map(|b| ALPHABET[(*b % 62) as usize] as char)
        .collect();
    (chars.len() == len).then_some(chars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_and_encodes() {
        assert_eq!(encode_u32_padded(0, 6), "000000");
        assert_eq!(encode_u32_padded(61, 2), "0z");
        assert_eq!(encode_u32_padded(62, 2), "10");
        assert_eq!(encode_u32_padded(u32::MAX, 6).len(), 6);
        let mut six = [0u8; 6];
        fill_u32_padded(u32::MAX, &mut six);
        assert_eq!(&six, b"4gfFC3");
    }

    #[test]
    fn rejection_sampling_needs_enough_bytes() {
        assert_eq!(from_random_bytes(&[255, 255], 1), None);
        assert_eq!(from_random_bytes(&[0, 61, 62], 3).as_deref(), Some("0z0"));
    }
}
