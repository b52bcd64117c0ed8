//! The audit log: every credential action is recorded with its actor, outcome and address;
//! the table is append-only in the database itself; the per-tenant hash chain exposes any
//! edited, removed or reordered row; and concurrent appends to one chain neither fork it nor
//! leave gaps.

use crate::both_backends;
use crate::harness::{str_field, Backend, ServerSpec, TestServer};
use anyhow::{Context, Result};
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use tollgate_core::TenantId;
use tollgate_store::audit::{
    check_rows, AuditEvent, ChainCheck, ChainFault, NewAuditEvent, GENESIS_HASH,
};

both_backends!(
    actions_are_recorded_with_actor_outcome_and_ip,
    audit_table_is_append_only,
    an_action_and_its_audit_event_commit_together,
);

/// An audit event appended inside a caller's transaction is part of it: rolled back, neither
/// the event nor the chain's head moves; committed, both do, and the chain verifies.
async fn an_action_and_its_audit_event_commit_together(backend: Backend) -> Result<()> {
    use sea_orm::TransactionTrait;
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("ocr:read").await?;
    let tenant: TenantId = t.id.parse()?;
    let store = srv.store();
    let before = store.audit_events(Some(tenant)).await?.len();
    let event = || {
        NewAuditEvent::new(
            "operator",
            "test.in_txn",
            &tollgate_core::RequestCtx::cli(),
            chrono::Utc::now(),
        )
        .tenant(Some(tenant))
    };
    let txn = store.conn().begin().await?;
    store.append_audit_in(&txn, event()).await?;
    txn.rollback().await?;
    assert_eq!(store.audit_events(Some(tenant)).await?.len(), before);
    assert_eq!(
        store.verify_audit_chain(Some(tenant)).await?,
        ChainCheck::Intact {
            events: before as u64
        },
        "the head did not move either"
    );
    let txn = store.conn().begin().await?;
    let row = store.append_audit_in(&txn, event()).await?;
    txn.commit().await?;
    assert_eq!(row.seq, before as i64 + 1);
    assert_eq!(
        store.verify_audit_chain(Some(tenant)).await?,
        ChainCheck::Intact {
            events: before as u64 + 1
        }
    );
    srv.stop().await
}

/// One row, compactly, for failure messages.
fn describe(rows: &[AuditEvent]) -> String {
    rows.iter()
        .map(|r| {
            format!(
                "#{} {} {} actor={} target={:?} ip={:?} detail={}",
                r.seq, r.action, r.outcome, r.actor, r.target, r.ip, r.detail
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// An expected row: action, outcome, actor, target (a prefix for token ids), ip.
struct Expect<'a> {
    action: &'a str,
    outcome: &'a str,
    actor: String,
    target: String,
    ip: Option<&'a str>,
}

fn event<'a>(
    action: &'a str,
    outcome: &'a str,
    actor: &str,
    target: &str,
    ip: Option<&'a str>,
) -> Expect<'a> {
    Expect {
        action,
        outcome,
        actor: actor.to_owned(),
        target: target.to_owned(),
        ip,
    }
}

async fn actions_are_recorded_with_actor_outcome_and_ip(backend: Backend) -> Result<()> {
    // Without Redis: the failed login below must not count against 127.0.0.1 in the Redis
    // shared by every test server.
    let srv = ServerSpec::new(backend, false).await?.start().await?;
    let t = srv.tenant("ocr:read usage:read").await?;
    let tenant: TenantId = t.id.parse()?;
    let http = reqwest::Client::new();

    let owner = srv.login(&t.owner_email, &t.owner_password).await?;
    let (_, session) = owner.get("/v1/session").await?;
    let admin = format!("admin:{}", str_field(&session, "/admin_id")?);

    let wrong = http
        .post(srv.url("/v1/session"))
        .json(&json!({ "email": t.owner_email, "password": "not the password" }))
        .send()
        .await?;
    assert_eq!(wrong.status(), 401);

    let (status, created) = owner
        .post(
            "/v1/clients",
            json!({ "name": "audited client", "scopes": ["ocr:read"] }),
        )
        .await?;
    assert_eq!(status, 201, "{created}");
    let client_id = str_field(&created, "/client/client_id")?;
    let secret = str_field(&created, "/client_secret")?;
    let client = format!("client:{client_id}");

    let (status, created) = owner
        .post(
            "/v1/keys",
            json!({ "name": "audited key", "scopes": ["ocr:read"] }),
        )
        .await?;
    assert_eq!(status, 201, "{created}");
    let key = format!("key:{}", str_field(&created, "/key_id")?);
    let (status, _) = owner
        .delete(&format!("/v1/keys/{}", str_field(&created, "/key_id")?))
        .await?;
    assert_eq!(status, 204);

    srv.token(&client_id, &secret, None).await?;
    let refused = http
        .post(srv.url("/oauth/token"))
        .basic_auth(&client_id, Some("tgs_not_the_secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?;
    assert_eq!(refused.status(), 401);

    // Every other credential and member change.
    let (status, _) = owner
        .patch(
            &format!("/v1/clients/{client_id}"),
            json!({ "name": "renamed client" }),
        )
        .await?;
    assert_eq!(status, 200);
    let (status, _) = owner
        .post(
            &format!("/v1/clients/{client_id}/rotate"),
            json!({ "overlap_seconds": 0 }),
        )
        .await?;
    assert_eq!(status, 200);
    let (status, _) = owner.delete(&format!("/v1/clients/{client_id}")).await?;
    assert_eq!(status, 204);
    let (status, _) = owner
        .post(
            &format!("/v1/keys/{}/rotate", t.key_id),
            json!({ "grace_seconds": 0 }),
        )
        .await?;
    assert_eq!(status, 201);
    let (status, created) = owner
        .post(
            "/v1/members",
            json!({ "email": format!("m-{}@example.com", uuid::Uuid::new_v4().simple()), "role": "viewer" }),
        )
        .await?;
    assert_eq!(status, 201, "{created}");
    let member_id = str_field(&created, "/member/id")?;
    let member = format!("admin:{member_id}");
    let (status, _) = owner
        .patch(
            &format!("/v1/members/{member_id}"),
            json!({ "role": "admin" }),
        )
        .await?;
    assert_eq!(status, 200);
    let (status, _) = owner.delete(&format!("/v1/members/{member_id}")).await?;
    assert_eq!(status, 204);

    let (status, _) = owner.delete("/v1/session").await?;
    assert_eq!(status, 204);

    let ip = Some("127.0.0.1");
    let expected = [
        // By the harness, through the service as the CLI does: no address.
        event("tenant.created", "success", "operator", &t.id, None),
        event("member.created", "success", "operator", &admin, None),
        event(
            "client.created",
            "success",
            "operator",
            &format!("client:{}", t.client_id),
            None,
        ),
        event(
            "key.created",
            "success",
            "operator",
            &format!("key:{}", t.key_id),
            None,
        ),
        // Over HTTP.
        event("login", "success", &admin, &admin, ip),
        event("login", "failure", "anonymous", &admin, ip),
        event("client.created", "success", &admin, &client, ip),
        event("key.created", "success", &admin, &key, ip),
        event("key.revoked", "success", &admin, &key, ip),
        event("token.issued", "success", &client, "jti:", ip),
        event("token.refused", "failure", "anonymous", &client, ip),
        event("client.updated", "success", &admin, &client, ip),
        event("client.secret_rotated", "success", &admin, &client, ip),
        event("client.deleted", "success", &admin, &client, ip),
        event(
            "key.rotated",
            "success",
            &admin,
            &format!("key:{}", t.key_id),
            ip,
        ),
        event("member.created", "success", &admin, &member, ip),
        event("member.role_changed", "success", &admin, &member, ip),
        event("member.removed", "success", &admin, &member, ip),
        event("logout", "success", &admin, &admin, ip),
    ];

    let rows = srv.store().audit_events(Some(tenant)).await?;
    let listing = describe(&rows);
    assert_eq!(
        rows.len(),
        expected.len(),
        "one event per action, no more:\n{listing}"
    );
    for (i, (row, want)) in rows.iter().zip(&expected).enumerate() {
        assert_eq!(row.seq, i as i64 + 1, "{listing}");
        assert_eq!(row.chain, t.id, "{listing}");
        assert_eq!(row.tenant_id, Some(tenant.0), "{listing}");
        assert_eq!(
            (
                row.action.as_str(),
                row.outcome.as_str(),
                row.actor.as_str()
            ),
            (want.action, want.outcome, want.actor.as_str()),
            "event {}:\n{listing}",
            i + 1
        );
        assert!(
            row.target
                .as_deref()
                .is_some_and(|target| target.starts_with(&want.target)),
            "event {} targets {}:\n{listing}",
            i + 1,
            want.target
        );
        assert_eq!(row.ip.as_deref(), want.ip, "event {}:\n{listing}", i + 1);
        if want.ip.is_none() {
            assert_eq!(row.user_agent.as_deref(), Some("tollgate-cli"), "{listing}");
        }
        let detail: Value = serde_json::from_str(&row.detail)?;
        assert!(
            detail.is_object(),
            "detail is a JSON object: {}",
            row.detail
        );
    }
    let reason = |i: usize| -> Result<Value> {
        Ok(serde_json::from_str::<Value>(&rows[i].detail)?["reason"].clone())
    };
    assert_eq!(reason(5)?, "bad_credentials");
    assert_eq!(reason(10)?, "invalid_secret");

    assert_eq!(
        srv.store().verify_audit_chain(Some(tenant)).await?,
        ChainCheck::Intact {
            events: rows.len() as u64
        }
    );
    srv.stop().await
}

async fn audit_table_is_append_only(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("ocr:read").await?;
    let tenant: TenantId = t.id.parse()?;
    let before = srv.store().audit_events(Some(tenant)).await?;
    assert!(before.len() >= 4, "{}", describe(&before));
    let platform_before = srv.store().audit_events(None).await?;

    let conn = srv.store().conn();
    let statements = [
        "UPDATE audit_events SET action = 'x'".to_owned(),
        "DELETE FROM audit_events".to_owned(),
        format!(
            "UPDATE audit_events SET actor = 'operator', outcome = 'success' \
             WHERE chain = '{}' AND seq = 2",
            t.id
        ),
        format!(
            "DELETE FROM audit_events WHERE chain = '{}' AND seq = 1",
            t.id
        ),
    ];
    for sql in &statements {
        let res = conn.execute_unprepared(sql).await;
        assert!(
            res.is_err(),
            "the database allowed `{sql}` (rows affected: {:?})",
            res.map(|r| r.rows_affected())
        );
    }

    let after = srv.store().audit_events(Some(tenant)).await?;
    assert_eq!(before, after, "audit rows changed");
    assert_eq!(srv.store().audit_events(None).await?, platform_before);
    assert_eq!(
        srv.store().verify_audit_chain(Some(tenant)).await?,
        ChainCheck::Intact {
            events: before.len() as u64
        }
    );
    // Appending still works after the refused statements.
    let portal = srv.login(&t.owner_email, &t.owner_password).await?;
    let (status, _) = portal.delete("/v1/session").await?;
    assert_eq!(status, 204);
    let grown = srv.store().audit_events(Some(tenant)).await?;
    assert_eq!(grown.len(), before.len() + 2);
    assert_eq!(&grown[..before.len()], &before[..]);
    srv.stop().await
}

/// Edits one field of a row the way someone with write access to the table might.
fn tamper(row: &mut AuditEvent, field: &str) {
    match field {
        "actor" => row.actor = "admin:someone-else".into(),
        "action" => row.action = "nothing.happened".into(),
        "outcome" => {
            row.outcome = if row.outcome == "success" {
                "failure".into()
            } else {
                "success".into()
            }
        }
        "target" => row.target = Some("key:forged".into()),
        "ip" => row.ip = Some("10.9.8.7".into()),
        "user_agent" => row.user_agent = Some("forged-agent".into()),
        "detail" => row.detail = r#"{"forged":true}"#.into(),
        "at" => row.at += chrono::Duration::seconds(1),
        "tenant_id" => row.tenant_id = Some(uuid::Uuid::new_v4()),
        "chain" => row.chain = "platform".into(),
        "prev_hash" => row.prev_hash = GENESIS_HASH.into(),
        "hash" => row.hash = "f".repeat(64),
        other => panic!("unknown field {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chain_exposes_edits_removals_and_reordering() -> Result<()> {
    let spec = ServerSpec::new(Backend::Sqlite, false).await?;
    let srv = spec.start().await?;
    let t = srv.tenant("ocr:read").await?;
    let tenant: TenantId = t.id.parse()?;
    let owner = srv.login(&t.owner_email, &t.owner_password).await?;
    let (status, _) = owner
        .post("/v1/keys", json!({ "name": "k", "scopes": ["ocr:read"] }))
        .await?;
    assert_eq!(status, 201);
    let rows = srv.store().audit_events(Some(tenant)).await?;
    srv.stop().await?;
    // From here on, no database: the rows as an export would hold them, and the key.
    let key = spec.master_key.audit_key();
    let check = |rows: &[AuditEvent]| check_rows(&key, 1, rows);
    let broken = |seq: i64, fault: ChainFault| ChainCheck::BrokenAt { seq, fault };
    assert!(rows.len() >= 6, "{}", describe(&rows));
    assert_eq!(
        check(&rows),
        ChainCheck::Intact {
            events: rows.len() as u64
        }
    );
    // Another master key cannot verify (nor forge) them.
    let other = tollgate_auth::master::MasterKey::generate()?.audit_key();
    assert_eq!(
        check_rows(&other, 1, &rows),
        broken(1, ChainFault::Forged),
        "the MAC needs the key"
    );

    let middle = 2;
    let seq = rows[middle].seq;
    for field in [
        "actor",
        "action",
        "outcome",
        "target",
        "ip",
        "user_agent",
        "detail",
        "at",
        "tenant_id",
        "chain",
        "hash",
    ] {
        let mut edited = rows.clone();
        tamper(&mut edited[middle], field);
        assert_ne!(edited[middle], rows[middle], "{field} was changed");
        assert_eq!(
            check(&edited),
            broken(seq, ChainFault::Forged),
            "editing {field} of event {seq} is detected there"
        );
    }
    let mut relinked = rows.clone();
    tamper(&mut relinked[middle], "prev_hash");
    assert_eq!(check(&relinked), broken(seq, ChainFault::Link));

    // The last row too (nothing after it to break).
    let mut edited = rows.clone();
    let last = edited.len() - 1;
    tamper(&mut edited[last], "actor");
    assert_eq!(check(&edited), broken(rows[last].seq, ChainFault::Forged));

    // A removed middle row is missing; renumbering after the removal does not help: the
    // link to the removed row's hash is gone.
    let mut removed = rows.clone();
    removed.remove(middle);
    assert_eq!(check(&removed), broken(seq, ChainFault::Missing));
    for (i, row) in removed.iter_mut().enumerate() {
        row.seq = i as i64 + 1;
    }
    assert_eq!(check(&removed), broken(seq, ChainFault::Link));
    // Removing the first row.
    assert_eq!(check(&rows[1..]), broken(1, ChainFault::Missing));

    // Two rows swapped: the first out-of-place seq is named.
    let mut swapped = rows.clone();
    swapped.swap(middle, middle + 1);
    assert_eq!(check(&swapped), broken(seq, ChainFault::Missing));

    // And the untouched rows still verify.
    assert_eq!(
        check(&rows),
        ChainCheck::Intact {
            events: rows.len() as u64
        }
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_keep_one_gapless_chain() -> Result<()> {
    const N: usize = 40;
    let spec = crate::harness::ServerSpec::new(Backend::Postgres, false).await?;
    let srv = spec.start().await?;
    // Four independent pools, as four server processes would have: their appends race in
    // the database, not behind one in-process lock.
    let url = spec.database_url.clone().expect("postgres");
    let mut stores = Vec::new();
    for _ in 0..4 {
        stores.push(
            tollgate_store::Store::connect(&url)
                .await?
                .with_audit_key(spec.master_key.audit_key()),
        );
    }
    let ctx = tollgate_auth::RequestCtx::cli();
    let tenant = srv.auth().create_tenant("Concurrent audit", &ctx).await?;
    let before = srv.store().audit_events(Some(tenant)).await?.len();

    let appends = (0..N).map(|i| {
        let store = stores[i % stores.len()].clone();
        tokio::spawn(async move {
            store
                .append_audit(NewAuditEvent {
                    tenant: Some(tenant),
                    actor: "operator".into(),
                    action: "test.concurrent",
                    target: Some(format!("item:{i}")),
                    ip: None,
                    user_agent: Some("audit-concurrency-test".into()),
                    outcome: "success",
                    detail: json!({ "i": i }),
                    at: chrono::Utc::now(),
                })
                .await
        })
    });
    let results = futures::future::join_all(appends).await;
    let mut seqs = Vec::with_capacity(N);
    for (i, joined) in results.into_iter().enumerate() {
        let row = joined?.with_context(|| format!("append {i} failed"))?;
        assert_eq!(row.target.as_deref(), Some(format!("item:{i}").as_str()));
        seqs.push(row.seq);
    }
    seqs.sort_unstable();
    let total = (before + N) as i64;
    let want: Vec<i64> = ((before as i64 + 1)..=total).collect();
    assert_eq!(
        seqs, want,
        "each append got its own seq, no gaps, no duplicates"
    );

    let rows = srv.store().audit_events(Some(tenant)).await?;
    let stored: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    assert_eq!(stored, (1..=total).collect::<Vec<_>>());
    for i in 0..N {
        let target = format!("item:{i}");
        let n = rows
            .iter()
            .filter(|r| r.target.as_deref() == Some(target.as_str()))
            .count();
        assert_eq!(n, 1, "{target} recorded exactly once");
    }
    assert_eq!(
        srv.store().verify_audit_chain(Some(tenant)).await?,
        ChainCheck::Intact {
            events: total as u64
        }
    );
    srv.stop().await
}
