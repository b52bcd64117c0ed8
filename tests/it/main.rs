//! Tollgate end-to-end tests: one binary, a real server per test on port 0, against
//! PostgreSQL and SQLite, with Redis.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod audit;
mod brute_force;
mod canary;
mod cli;
mod durability;
mod harness;
mod isolation;
mod jwt_attacks;
mod metering;
mod ocr;
mod openapi;
mod ops;
mod python;
mod revocation;
mod secrets_at_rest;
mod spine;
