//! Structured logs: JSON when `TOLLGATE_LOG_FORMAT=json`, human-readable otherwise. Filter by
//! `RUST_LOG` (default `info` for the server, `warn` for CLI commands, so their stdout stays
//! machine-readable). Logs go to stderr.

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// A subscriber writing to `writer`, as JSON or text.
pub fn subscriber<W>(json: bool, filter: EnvFilter, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    if json {
        Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .finish(),
        )
    } else {
        Box::new(builder.finish())
    }
}

/// Installs the global subscriber (once, at process start).
pub fn init(server: bool) {
    let default = if server { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let json = std::env::var("TOLLGATE_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    // Fails only if a subscriber is already installed, which is then kept.
    let _ = tracing::subscriber::set_global_default(subscriber(json, filter, std::io::stderr));
}
