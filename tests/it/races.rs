//! Races an insider can start: two owners removing (or demoting) each other at the same
//! instant must leave the tenant with an owner. The check and the change are one
//! transaction, so one request wins and the other is refused: 409 `last_owner`, or 403 when
//! the winner already took its owner role (authority is re-checked in the transaction), or
//! 401 when its session went with it.

use crate::both_backends;
use crate::harness::{Backend, Portal, TestServer};
use anyhow::{Context, Result};
use serde_json::{json, Value};
use tollgate_core::TenantId;

both_backends!(two_owners_cannot_remove_or_demote_each_other_at_once);

/// The tenant's owner plus a second owner, both signed in; their member ids.
async fn two_owners(srv: &TestServer) -> Result<(TenantId, [(Portal, String); 2])> {
    let t = srv.tenant("ocr:read").await?;
    let first = srv.login(&t.owner_email, &t.owner_password).await?;
    let email = format!("second-{}@example.com", uuid::Uuid::new_v4().simple());
    let (status, created) = first
        .post("/v1/members", json!({ "email": email, "role": "owner" }))
        .await?;
    assert_eq!(status, 201, "{created}");
    let second = srv
        .login_first_time(&email, created["password"].as_str().context("password")?)
        .await?;
    let (_, me) = first.get("/v1/session").await?;
    let first_id = me["admin_id"].as_str().context("admin_id")?.to_owned();
    let second_id = created["member"]["id"].as_str().context("id")?.to_owned();
    Ok((t.id.parse()?, [(first, first_id), (second, second_id)]))
}

async fn owners(srv: &TestServer, tenant: TenantId) -> Result<usize> {
    Ok(srv
        .store()
        .list_admins(tenant)
        .await?
        .iter()
        .filter(|a| a.role == "owner")
        .count())
}

/// Whether one of the two concurrent answers is the winner and the other a clean refusal.
fn one_won(answers: [(u16, Value); 2], success: u16) -> bool {
    let ok = |(s, _): &(u16, Value)| *s == success;
    // The loser finds the tenant's last owner (409), or that it is no longer an owner itself
    // (403: its authority is re-checked inside the transaction), or its session gone (401).
    let refused = |(s, b): &(u16, Value)| {
        (*s == 409 && b["code"] == "last_owner")
            || (*s == 403 && b["code"] == "forbidden")
            || (*s == 401 && b["code"] == "session_required")
    };
    (ok(&answers[0]) && refused(&answers[1])) || (ok(&answers[1]) && refused(&answers[0]))
}

async fn two_owners_cannot_remove_or_demote_each_other_at_once(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    for round in 0..6 {
        let (tenant, [(a, a_id), (b, b_id)]) = two_owners(&srv).await?;
        let (a_path, b_path) = (format!("/v1/members/{b_id}"), format!("/v1/members/{a_id}"));
        let answers = if round % 2 == 0 {
            let (x, y) = tokio::join!(a.delete(&a_path), b.delete(&b_path));
            [x?, y?]
        } else {
            let demote = || json!({ "role": "admin" });
            let (x, y) = tokio::join!(a.patch(&a_path, demote()), b.patch(&b_path, demote()));
            [x?, y?]
        };
        assert_eq!(owners(&srv, tenant).await?, 1, "round {round}: {answers:?}");
        let success = if round % 2 == 0 { 204 } else { 200 };
        assert!(
            one_won(answers.clone(), success),
            "round {round}: {answers:?}"
        );
    }
    srv.stop().await
}
