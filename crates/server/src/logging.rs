//! Structured logs: JSON when `TOLLGATE_LOG_FORMAT=json`, human-readable otherwise. Filter by
//! `RUST_LOG` (default `info` for the server, `warn` for CLI commands, so their stdout stays
//! machine-readable).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber (once, at process start).
pub fn init(server: bool) {
    let default = if server { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let json = std::env::var("TOLLGATE_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init();
    } else {
        builder.init();
    }
}
