//! An anonymous attacker must not be able to write a victim tenant's audit chain at will:
//! once an account is throttled, further attempts against it are counted, not recorded one
//! row each; the counts land as one row per account per backoff window (written when the
//! window ends, or when the server stops), so nothing is lost and nothing floods.

use crate::both_backends;
use crate::harness::{Backend, ServerSpec};
use anyhow::Result;
use serde_json::{json, Value};
use tollgate_core::TenantId;

both_backends!(throttled_logins_are_counted_not_recorded_one_by_one);

async fn throttled_logins_are_counted_not_recorded_one_by_one(backend: Backend) -> Result<()> {
    let srv = ServerSpec::new(backend, false).await?.start().await?;
    let t = srv.tenant("ocr:read").await?;
    let tenant: TenantId = t.id.parse()?;
    let store = srv.store().clone();
    let http = reqwest::Client::new();
    let (mut refused, mut throttled) = (0, 0);
    for _ in 0..300 {
        let resp = http
            .post(srv.url("/v1/session"))
            .json(&json!({ "email": t.owner_email, "password": "wrong" }))
            .send()
            .await?;
        match resp.status().as_u16() {
            401 => refused += 1,
            429 => throttled += 1,
            other => anyhow::bail!("unexpected {other}"),
        }
    }
    assert!(
        throttled >= 200,
        "most attempts were throttled ({throttled})"
    );
    srv.stop().await?;
    let rows: Vec<Value> = store
        .audit_events(Some(tenant))
        .await?
        .into_iter()
        .filter(|e| e.action.starts_with("login") && e.outcome == "failure")
        .map(|e| serde_json::from_str(&e.detail))
        .collect::<Result<_, _>>()?;
    let bad = rows
        .iter()
        .filter(|d| d["reason"] == "bad_credentials")
        .count();
    let windows: Vec<&Value> = rows.iter().filter(|d| d["reason"] == "throttled").collect();
    assert_eq!(bad, refused, "every checked password is recorded");
    // One row per backoff window: at most one window per refusal past the threshold.
    assert!(
        !windows.is_empty() && windows.len() <= refused.saturating_sub(4),
        "{} throttled rows for {throttled} throttled attempts and {refused} refusals",
        windows.len()
    );
    let counted: i64 = windows.iter().filter_map(|d| d["attempts"].as_i64()).sum();
    assert_eq!(counted, throttled, "every throttled attempt is counted");
    Ok(())
}
