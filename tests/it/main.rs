//! Tollgate end-to-end tests: one binary, a real server per test on port 0, against
//! PostgreSQL and SQLite, with Redis.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod canary;
mod cli;
mod harness;
mod openapi;
mod ops;
mod python;
mod revocation;
mod spine;
