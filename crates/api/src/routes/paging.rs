//! Keyset pages on the wire: a cursor is exactly what the previous page's `next_cursor` said
//! (no sign, padding, spaces or other spelling of the same value), a page size is in range,
//! and a full page has a `next_cursor`.

use std::str::FromStr;
use tollgate_core::{Code, DomainError};

/// Parses `raw` as a cursor: it must read back exactly as given and pass `valid`.
pub(crate) fn cursor<T: FromStr + ToString>(
    raw: Option<String>,
    valid: impl Fn(&T) -> bool,
) -> Result<Option<T>, DomainError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    raw.parse::<T>()
        .ok()
        .filter(|c| valid(c) && c.to_string() == raw)
        .map(Some)
        .ok_or_else(|| {
            DomainError::invalid(
                Code::InvalidCursor,
                "`cursor` must be a `next_cursor` this endpoint returned",
            )
        })
}

/// `limit`, or `default` when absent; 1 to `max`.
pub(crate) fn limit(limit: Option<u32>, default: u32, max: u32) -> Result<u32, DomainError> {
    let limit = limit.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(DomainError::invalid(
            Code::InvalidPageSize,
            format!("`limit` must be 1 to {max}"),
        ))
    }
}

/// The `next_cursor` of a page asked for with `limit`: the last item's key when the page is
/// full, none on a shorter (last) page.
pub(crate) fn next<T>(page: &[T], limit: u32, key: impl Fn(&T) -> String) -> Option<String> {
    (page.len() == limit as usize)
        .then(|| page.last().map(key))
        .flatten()
}
