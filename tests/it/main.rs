//! Tollgate end-to-end tests: one binary, a real server per test on port 0, against
//! PostgreSQL and SQLite, with Redis.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod audit;
mod audit_export;
mod audit_flood;
mod audit_tamper;
mod billing;
mod brute_force;
mod canary;
mod cli;
mod durability;
mod exposure;
mod harness;
mod idempotency;
mod invoices;
mod isolation;
mod jwt_attacks;
mod leases;
mod metering;
mod ocr;
mod ocr_pdf;
mod oidc;
mod openapi;
mod ops;
mod portal;
mod portal_api;
mod python;
mod quickstart;
mod quota_seeding;
mod races;
mod recorder;
mod redis_cluster;
mod revocation;
mod scale_out;
mod schemathesis;
mod scopes;
mod sdk;
mod secrets_at_rest;
mod slow_bodies;
mod spend;
mod spine;
mod stripe;
mod traces;
mod webhooks;
