//! The committed `openapi/openapi.yaml` is the contract: it must equal what the code
//! generates, and every operation must declare its security and its error responses.

use serde_yaml::Value;

fn committed() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.yaml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[test]
fn committed_spec_is_current() {
    let generated = tollgate_api::spec_yaml();
    assert!(
        committed() == generated,
        "openapi/openapi.yaml is stale: regenerate it with `cargo run -p tollgate -- openapi > openapi/openapi.yaml`"
    );
}

const PUBLIC: &[&str] = &[
    "/healthz",
    "/readyz",
    "/.well-known/jwks.json",
    "/.well-known/oauth-authorization-server",
    // The browser's navigation back from the identity provider: every answer, a refusal
    // too, is a 303 (a refusal's code rides in the portal URL it redirects to).
    "/v1/session/oidc/callback",
];

#[test]
fn every_operation_declares_security_and_errors() {
    let spec: Value = serde_yaml::from_str(&tollgate_api::spec_yaml()).unwrap();
    let paths = spec["paths"].as_mapping().unwrap();
    let mut checked = 0;
    for (path, item) in paths {
        let path = path.as_str().unwrap();
        for (method, op) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            let id = format!("{method} {path}");
            assert!(
                op["description"]
                    .as_str()
                    .is_some_and(|d| d.contains("**Permissions**")),
                "{id}: no Permissions line"
            );
            if PUBLIC.contains(&path) {
                continue;
            }
            let responses = op["responses"].as_mapping().unwrap();
            let errors = responses
                .keys()
                .filter_map(|k| k.as_str())
                .filter(|k| k.starts_with('4') || k.starts_with('5'))
                .count();
            assert!(errors >= 2, "{id}: declares {errors} error responses");
            let oauth_endpoint = path.starts_with("/oauth/");
            let login =
                (path == "/v1/session" || path == "/v1/session/oidc/start") && method == "post";
            // Stripe's webhooks carry Stripe's signature, not a credential.
            let webhook = path == "/v1/stripe/webhooks";
            if !login && !webhook {
                let security = op["security"]
                    .as_sequence()
                    .unwrap_or_else(|| panic!("{id}: no security requirement"));
                assert!(!security.is_empty(), "{id}: empty security");
                assert!(responses.contains_key("401"), "{id}: no 401");
            }
            if oauth_endpoint {
                assert!(
                    op["security"][0].get("ClientSecretBasic").is_some(),
                    "{id}: client_secret_basic not declared"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} operations checked");
}
