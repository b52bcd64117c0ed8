//! Structured logs and traces. Logs: JSON when `TOLLGATE_LOG_FORMAT=json`, human-readable
//! otherwise, filtered by `RUST_LOG` (default `info` for the server, `warn` for CLI commands,
//! so their stdout stays machine-readable), to stderr. Traces: when `OTEL_EXPORTER_OTLP_ENDPOINT`
//! (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, the server's spans — a request, and inside
//! it authentication, admission, the OCR queue and inference, the usage commit — are exported
//! over OTLP/HTTP (protobuf) in batches, whatever `RUST_LOG` says; when neither is set, nothing
//! is exported and no exporter exists.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Subscriber;
use tracing_subscriber::filter::{filter_fn, FilterExt, LevelFilter};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// A boxed layer over the registry.
type Boxed = Box<dyn Layer<Registry> + Send + Sync>;

/// A subscriber writing logs to `writer`, as JSON or text, plus `traces` when given.
fn layered<W>(
    json: bool,
    filter: EnvFilter,
    writer: W,
    traces: Option<Boxed>,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    // The request path's stage spans (target `tollgate::stage`) are for traces: the log
    // layer does not see them, so an event logged inside one still has the request span,
    // with its id, as its current span.
    let filter = filter.and(filter_fn(|m| {
        !(m.is_span() && m.target() == tollgate_core::STAGE_SPAN_TARGET)
    }));
    let logs: Boxed = if json {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .with_filter(filter)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .with_filter(filter)
            .boxed()
    };
    let mut layers = vec![logs];
    layers.extend(traces);
    Box::new(Registry::default().with(layers))
}

/// A subscriber writing logs to `writer`, as JSON or text (no traces).
pub fn subscriber<W>(json: bool, filter: EnvFilter, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    layered(json, filter, writer, None)
}

/// Whether the environment asks for traces (an OTLP endpoint is set).
pub fn traces_wanted(var: impl Fn(&str) -> Option<String>) -> bool {
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|name| var(name).is_some_and(|v| !v.trim().is_empty()))
}

/// The trace exporter, while the process runs; [`Telemetry::shutdown`] sends what is queued.
#[derive(Debug, Default)]
pub struct Telemetry(Option<SdkTracerProvider>);

impl Telemetry {
    /// Exports the spans still queued and stops the exporter.
    pub async fn shutdown(self) {
        if let Some(provider) = self.0 {
            // The provider waits for its export task, which runs on this runtime.
            let _ = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        }
    }
}

/// The OTLP pipeline: spans batched on the Tokio runtime, sent by reqwest (the endpoint and
/// its headers come from the standard `OTEL_EXPORTER_OTLP_*` variables, the service name
/// from `OTEL_SERVICE_NAME`, default `tollgate`).
fn otlp() -> Result<(SdkTracerProvider, Boxed), String> {
    use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_http_client(reqwest::Client::new())
        .build()
        .map_err(|e| e.to_string())?;
    let processor =
        opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor::builder(
            exporter,
            opentelemetry_sdk::runtime::Tokio,
        )
        .build();
    let mut resource = opentelemetry_sdk::Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("tollgate");
    }
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_resource(resource.build())
        .build();
    let tracer = provider.tracer("tollgate");
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(LevelFilter::INFO)
        .boxed();
    Ok((provider, layer))
}

/// Installs the global subscriber (once, at process start, inside the runtime): logs, and
/// traces for the server when an OTLP endpoint is set.
pub fn init(server: bool) -> Telemetry {
    let default = if server { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let json = std::env::var("TOLLGATE_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let mut failed = None;
    let (telemetry, traces) = if server && traces_wanted(|n| std::env::var(n).ok()) {
        match otlp() {
            Ok((provider, layer)) => (Telemetry(Some(provider)), Some(layer)),
            Err(e) => {
                failed = Some(e);
                (Telemetry::default(), None)
            }
        }
    } else {
        (Telemetry::default(), None)
    };
    // Fails only if a subscriber is already installed, which is then kept.
    let _ = tracing::subscriber::set_global_default(layered(json, filter, std::io::stderr, traces));
    if let Some(e) = failed {
        tracing::error!(error = %e, "OTLP trace export could not start; running without it");
    }
    telemetry
}

#[cfg(test)]
mod tests {
    use super::traces_wanted;

    #[test]
    fn traces_only_when_an_endpoint_is_set() {
        assert!(!traces_wanted(|_| None));
        assert!(!traces_wanted(|_| Some("  ".into())));
        assert!(traces_wanted(
            |n| (n == "OTEL_EXPORTER_OTLP_ENDPOINT").then(|| "http://c:4318".into())
        ));
        assert!(traces_wanted(|n| (n
            == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .then(|| "http://c:4318/v1/traces".into())));
    }
}
