//! Tollgate end-to-end test crate; the tests live in `it/`.
