//! What operator commands print: one JSON object with `--json`, text otherwise; and their
//! errors as `anyhow` errors with the domain's message.

use anyhow::{anyhow, Result};

/// Prints `value` (with `--json`) or `text`.
pub(crate) fn print(json_out: bool, value: serde_json::Value, text: String) {
    if json_out {
        println!("{value}");
    } else {
        println!("{text}");
    }
}

/// A domain error as the CLI reports it.
pub(crate) fn err(e: tollgate_core::DomainError) -> anyhow::Error {
    anyhow!("{e}")
}

/// `--scopes`: scope names separated by single spaces, each exactly a known name.
pub(crate) fn scopes(scopes: &str) -> Result<tollgate_core::ScopeSet> {
    tollgate_core::ScopeSet::parse(scopes).map_err(err)
}
