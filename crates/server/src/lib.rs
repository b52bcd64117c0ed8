//! The `tollgate` binary's library half: configuration, wiring of services, the server
//! lifecycle and the operator commands. `main.rs` only parses arguments and dispatches.

pub mod cli;
pub mod config;
pub mod logging;
pub mod runtime;
pub mod server;
