//! Prometheus metrics: requests by route and status, latency, tokens issued, authentication
//! failures by reason, per-tenant requests.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, TextEncoder,
};

/// The service's metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Requests by route template, method and status.
    pub requests: IntCounterVec,
    /// Latency by route template.
    pub latency: HistogramVec,
    /// Access tokens issued.
    pub tokens_issued: IntCounter,
    /// Authentication failures by reason.
    pub auth_failures: IntCounterVec,
    /// Authenticated API requests by tenant.
    pub tenant_requests: IntCounterVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "tollgate_http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "tollgate_http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0,
            ]),
            &["route"],
        )?;
        let tokens_issued =
            IntCounter::new("tollgate_tokens_issued_total", "Access tokens issued")?;
        let auth_failures = IntCounterVec::new(
            Opts::new(
                "tollgate_auth_failures_total",
                "Authentication failures by reason",
            ),
            &["reason"],
        )?;
        let tenant_requests = IntCounterVec::new(
            Opts::new(
                "tollgate_tenant_requests_total",
                "Authenticated API requests by tenant",
            ),
            &["tenant"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(tokens_issued.clone()))?;
        registry.register(Box::new(auth_failures.clone()))?;
        registry.register(Box::new(tenant_requests.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            tokens_issued,
            auth_failures,
            tenant_requests,
        })
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        if TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .is_err()
        {
            return String::new();
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// Collapses a path into its route template so label cardinality stays bounded.
pub fn route_label(path: &str) -> String {
    const FIXED: &[&str] = &[
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/me",
        "/v1/session",
        "/v1/session/password",
        "/v1/members",
        "/v1/clients",
        "/v1/keys",
        "/v1/ocr",
        "/v1/models",
        "/v1/usage",
        "/v1/plan",
        "/v1/audit-events",
        "/v1/audit-events/export",
        "/v1/webhooks/endpoints",
        "/v1/operator/plans",
        "/v1/operator/usage",
        "/oauth/token",
        "/oauth/revoke",
        "/oauth/introspect",
        "/.well-known/jwks.json",
        "/.well-known/oauth-authorization-server",
        "/openapi.yaml",
    ];
    if FIXED.contains(&path) {
        return path.to_owned();
    }
    if path == "/admin" || path.starts_with("/admin/") {
        return "/admin".to_owned();
    }
    // A resource's id, then at most one known action.
    const BY_ID: &[(&str, &[&str])] = &[
        ("/v1/members/", &[]),
        ("/v1/clients/", &["rotate"]),
        ("/v1/keys/", &["rotate"]),
        ("/v1/webhooks/endpoints/", &["rotate", "deliveries"]),
        ("/v1/webhooks/deliveries/", &["replay"]),
    ];
    for (prefix, actions) in BY_ID {
        if let Some(rest) = path.strip_prefix(prefix) {
            return match rest.split_once('/') {
                Some((_, action)) if actions.contains(&action) => {
                    format!("{prefix}{{id}}/{action}")
                }
                Some(_) => "other".to_owned(),
                None if rest.is_empty() => "other".to_owned(),
                None => format!("{prefix}{{id}}"),
            };
        }
    }
    "other".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(route_label("/v1/keys/0190-abc"), "/v1/keys/{id}");
        assert_eq!(
            route_label("/v1/clients/tgc_x/rotate"),
            "/v1/clients/{id}/rotate"
        );
        assert_eq!(route_label("/v1/me"), "/v1/me");
        assert_eq!(
            route_label("/v1/audit-events/export"),
            "/v1/audit-events/export"
        );
        assert_eq!(
            route_label("/v1/webhooks/endpoints/0190/deliveries"),
            "/v1/webhooks/endpoints/{id}/deliveries"
        );
        assert_eq!(
            route_label("/v1/webhooks/deliveries/0190/replay"),
            "/v1/webhooks/deliveries/{id}/replay"
        );
        assert_eq!(route_label("/v1/webhooks/endpoints/0190/x"), "other");
        assert_eq!(route_label("/v1/members/0190/rotate"), "other");
        assert_eq!(route_label("/random/../x"), "other");
        assert_eq!(route_label("/admin/keys"), "/admin");
        assert_eq!(route_label("/admin"), "/admin");
        assert_eq!(route_label("/administrator"), "other");
    }
}
