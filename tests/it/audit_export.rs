//! Reading the audit log out: keyset pages and streamed exports, for the tenant's own chain
//! only, by an admin session or an `audit:read` credential, each read itself audited; and
//! retention that drops the oldest events behind a signed checkpoint the chain verifies from.

use crate::both_backends;
use crate::harness::{str_field, Backend, ServerSpec, Tenant, TestServer};
use anyhow::{Context, Result};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::{json, Value};
use tollgate_core::plan::Plan;
use tollgate_core::{RequestCtx, TenantId};
use tollgate_store::audit::{check_rows, AuditEvent, ChainCheck, ChainFault, NewAuditEvent};

both_backends!(
    pages_are_keyset_scoped_to_the_tenant_and_audited,
    bad_page_parameters_are_refused_with_codes,
    who_may_read_the_log,
    exports_stream_every_row_verifiably,
    retention_drops_the_oldest_behind_a_checkpoint,
    retention_never_erases_rows_that_do_not_verify,
    the_cli_exports_and_purges,
);

/// Appends `n` events `action` to `tenant`'s chain in one transaction, stamped `at`.
async fn append(
    srv: &TestServer,
    tenant: TenantId,
    action: &'static str,
    n: usize,
    at: DateTime<Utc>,
    ctx: &RequestCtx,
) -> Result<()> {
    let store = srv.store();
    let txn = store.conn().begin().await?;
    for i in 0..n {
        let e = NewAuditEvent::new("admin:seed", action, ctx, at)
            .tenant(Some(tenant))
            .target(Some(format!("t{i}")))
            .detail(json!({ "i": i, "note": "a, \"quoted\"\nline" }));
        store.append_audit_in(&txn, e).await?;
    }
    txn.commit().await?;
    Ok(())
}

async fn get(srv: &TestServer, bearer: &str, path: &str) -> Result<(u16, Value)> {
    let resp = reqwest::Client::new()
        .get(srv.url(path))
        .bearer_auth(bearer)
        .send()
        .await?;
    Ok((
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    ))
}

fn seqs(page: &Value) -> Vec<i64> {
    page["events"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["seq"].as_i64()).collect())
        .unwrap_or_default()
}

fn tenant_of(t: &Tenant) -> Result<TenantId> {
    Ok(t.id.parse()?)
}

/// Pages run by seq with no gap or overlap in both orders; filters narrow them; another
/// tenant's credential sees only its own chain; every page read leaves an `audit.read` row.
async fn pages_are_keyset_scoped_to_the_tenant_and_audited(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let a = srv.tenant("audit:read").await?;
    let b = srv.tenant("audit:read").await?;
    let ta = tenant_of(&a)?;
    append(&srv, ta, "test.seeded", 25, Utc::now(), &RequestCtx::cli()).await?;

    // Oldest first, 10 at a time, over the seeded events only.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => "/v1/audit-events?order=asc&limit=10&action=test.seeded".to_owned(),
            Some(c) => format!("/v1/audit-events?order=asc&limit=10&action=test.seeded&cursor={c}"),
        };
        let (status, page) = get(&srv, &a.key, &path).await?;
        assert_eq!(status, 200, "{page}");
        seen.extend(seqs(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[1] == w[0] + 1), "{seen:?}");

    // Newest first, unfiltered: the reads above are there, newest at the top.
    let (status, page) = get(&srv, &a.key, "/v1/audit-events?limit=3").await?;
    assert_eq!(status, 200, "{page}");
    let top = seqs(&page);
    assert_eq!(top.len(), 3);
    assert!(top.windows(2).all(|w| w[0] == w[1] + 1), "{top:?}");
    let reads: Vec<&Value> = page["events"]
        .as_array()
        .context("events")?
        .iter()
        .filter(|e| e["action"] == "audit.read")
        .collect();
    assert!(!reads.is_empty(), "{page}");
    assert_eq!(reads[0]["actor"], format!("key:{}", a.key_id));
    assert_eq!(reads[0]["outcome"], "success");

    // Tenant B's credential reads B's chain: none of A's seeded events, whatever it asks.
    for path in [
        "/v1/audit-events?action=test.seeded",
        "/v1/audit-events?actor=admin:seed&order=asc",
        "/v1/audit-events?order=asc&cursor=1&limit=500",
    ] {
        let (status, page) = get(&srv, &b.key, path).await?;
        assert_eq!(status, 200, "{page}");
        let events = page["events"].as_array().context("events")?;
        assert!(
            events.iter().all(|e| e["action"] != "test.seeded"),
            "B saw A's events at {path}: {page}"
        );
    }
    // ...and its reads are recorded in B's chain, not A's.
    let b_reads = srv
        .store()
        .audit_events(Some(tenant_of(&b)?))
        .await?
        .iter()
        .filter(|e| e.action == "audit.read")
        .count();
    assert_eq!(b_reads, 3);
    assert_eq!(
        srv.store().verify_audit_chain(Some(ta)).await?,
        ChainCheck::Intact {
            events: srv.store().audit_events(Some(ta)).await?.len() as u64
        }
    );
    srv.stop().await
}

/// Smuggled cursors, out-of-range limits, control characters and empty ranges get 422 with a
/// stable code, never a 500 or a silently different page.
async fn bad_page_parameters_are_refused_with_codes(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let a = srv.tenant("audit:read").await?;
    for (query, code) in [
        ("cursor=%2B5", "invalid_cursor"),
        ("cursor=05", "invalid_cursor"),
        ("cursor=%205", "invalid_cursor"),
        ("cursor=-1", "invalid_cursor"),
        ("cursor=0", "invalid_cursor"),
        ("cursor=abc", "invalid_cursor"),
        ("cursor=99999999999999999999", "invalid_cursor"),
        ("limit=0", "invalid_page_size"),
        ("limit=501", "invalid_page_size"),
        ("action=", "invalid_filter"),
        ("action=api_key.created%00", "invalid_filter"),
        ("actor=admin%0Ax", "invalid_filter"),
        (
            "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
            "invalid_range",
        ),
        (
            "from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            "invalid_range",
        ),
    ] {
        let (status, body) = get(&srv, &a.key, &format!("/v1/audit-events?{query}")).await?;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some(code)),
            "{query}: {body}"
        );
    }
    let long = "a".repeat(201);
    let (status, body) = get(&srv, &a.key, &format!("/v1/audit-events?action={long}")).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_filter")),
        "{body}"
    );
    let (status, body) = get(&srv, &a.key, "/v1/audit-events?from=yesterday").await?;
    assert_eq!(status, 400, "{body}");
    let (status, body) = get(&srv, &a.key, "/v1/audit-events/export?format=xml").await?;
    assert_eq!(status, 400, "{body}");
    let (status, body) = get(
        &srv,
        &a.key,
        "/v1/audit-events/export?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
    )
    .await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_range")),
        "{body}"
    );
    srv.stop().await
}

/// Owners and admins read through the portal, viewers do not; a credential needs
/// `audit:read`; nobody reads without credentials.
async fn who_may_read_the_log(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("ocr:read").await?;
    let (status, body) = get(&srv, &t.key, "/v1/audit-events").await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("insufficient_scope")),
        "{body}"
    );
    let (status, body) = get(&srv, &t.key, "/v1/audit-events/export").await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("insufficient_scope")),
        "{body}"
    );
    let resp = reqwest::get(srv.url("/v1/audit-events")).await?;
    assert_eq!(resp.status(), 401);

    let owner = srv.login(&t.owner_email, &t.owner_password).await?;
    let (status, page) = owner.get("/v1/audit-events?limit=5").await?;
    assert_eq!(status, 200, "{page}");
    let (_, session) = owner.get("/v1/session").await?;
    let owner_id = str_field(&session, "/admin_id")?;
    let (status, page) = owner
        .get("/v1/audit-events?action=audit.read&limit=1")
        .await?;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["events"][0]["actor"], format!("admin:{owner_id}"));

    let email = format!("v-{}@example.com", uuid::Uuid::new_v4().simple());
    let (status, created) = owner
        .post("/v1/members", json!({ "email": email, "role": "viewer" }))
        .await?;
    assert_eq!(status, 201, "{created}");
    let viewer = srv
        .login_first_time(&email, &str_field(&created, "/password")?)
        .await?;
    for path in ["/v1/audit-events", "/v1/audit-events/export"] {
        let (status, body) = viewer.get(path).await?;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("forbidden")),
            "{path}: {body}"
        );
    }
    // A refused read is not recorded as a read.
    let viewer_reads = srv
        .store()
        .audit_events(Some(t.id.parse()?))
        .await?
        .iter()
        .filter(|e| e.action.starts_with("audit.") && e.actor != format!("admin:{owner_id}"))
        .count();
    assert_eq!(viewer_reads, 0);
    srv.stop().await
}

/// An NDJSON line as the stored row it was made from.
fn row_of(line: &Value, tenant: TenantId) -> Result<AuditEvent> {
    let s = |k: &str| line[k].as_str().map(str::to_owned);
    Ok(AuditEvent {
        chain: tenant.to_string(),
        seq: line["seq"].as_i64().context("seq")?,
        tenant_id: Some(tenant.0),
        at: s("at").context("at")?.parse()?,
        actor: s("actor").context("actor")?,
        action: s("action").context("action")?,
        target: s("target"),
        ip: s("ip"),
        user_agent: s("user_agent"),
        outcome: s("outcome").context("outcome")?,
        detail: serde_json::to_string(&line["detail"])?,
        prev_hash: s("prev_hash").context("prev_hash")?,
        hash: s("hash").context("hash")?,
    })
}

/// More rows than a page of the server's reads, streamed chunked, oldest first, ending with
/// the export's own `audit.exported` row; every line links to the one before and re-hashes
/// to its MAC under the platform's key; CSV neutralises formulas; `from`/`to` narrow it.
async fn exports_stream_every_row_verifiably(backend: Backend) -> Result<()> {
    let spec = ServerSpec::new(backend, true).await?;
    let srv = spec.start().await?;
    let t = srv.tenant("audit:read").await?;
    let tenant = tenant_of(&t)?;
    let early = Utc::now() - Duration::days(3);
    append(&srv, tenant, "test.early", 5, early, &RequestCtx::cli()).await?;
    append(
        &srv,
        tenant,
        "test.bulk",
        2300,
        Utc::now(),
        &RequestCtx::cli(),
    )
    .await?;
    let evil = RequestCtx {
        ip: Some("203.0.113.9".into()),
        user_agent: Some("=HYPERLINK(\"http://evil.example/\",\"x\")".into()),
    };
    append(&srv, tenant, "test.evil", 1, Utc::now(), &evil).await?;
    let stored = srv.store().audit_events(Some(tenant)).await?.len();

    let resp = reqwest::Client::new()
        .get(srv.url("/v1/audit-events/export?format=ndjson"))
        .bearer_auth(&t.key)
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    let headers = resp.headers().clone();
    assert_eq!(headers["content-type"], "application/x-ndjson");
    assert!(headers.get("content-length").is_none(), "{headers:?}");
    assert_eq!(headers["transfer-encoding"], "chunked");
    assert_eq!(
        headers["audit-through-seq"].to_str()?,
        (stored + 1).to_string()
    );
    assert!(
        headers.get("audit-checkpoint-seq").is_none(),
        "no retention ran"
    );
    assert!(headers["content-disposition"]
        .to_str()?
        .starts_with("attachment; filename=\"audit-"));
    let text = resp.text().await?;
    let lines: Vec<Value> = text
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(
        lines.len(),
        stored + 1,
        "every stored row and the export's own"
    );
    let last = lines.last().context("no lines")?;
    assert_eq!(last["action"], "audit.exported");
    assert_eq!(last["actor"], format!("key:{}", t.key_id));
    assert_eq!(last["detail"]["format"], "ndjson");
    let rows: Vec<AuditEvent> = lines
        .iter()
        .map(|l| row_of(l, tenant))
        .collect::<Result<_>>()?;
    assert_eq!(
        check_rows(&spec.master_key.audit_key(), 1, &rows),
        ChainCheck::Intact {
            events: rows.len() as u64
        }
    );
    assert_eq!(
        rows,
        srv.store().audit_events(Some(tenant)).await?[..rows.len()]
    );

    let resp = reqwest::Client::new()
        .get(srv.url("/v1/audit-events/export?format=csv"))
        .bearer_auth(&t.key)
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = resp.text().await?;
    assert!(csv.starts_with(
        "seq,tenant_id,at,actor,action,target,ip,user_agent,outcome,detail,prev_hash,hash\r\n"
    ));
    let evil_row = csv
        .split("\r\n")
        .find(|r| r.contains(",test.evil,"))
        .context("no evil row")?;
    assert!(
        evil_row.contains(",203.0.113.9,\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"x\"\")\","),
        "{evil_row}"
    );
    // One record per line (details are JSON, whose newlines are escaped): count those
    // whose second column is the tenant.
    let tenant_col = tenant.to_string();
    let records = csv
        .split("\r\n")
        .filter(|r| r.split(',').nth(1) == Some(tenant_col.as_str()))
        .count();
    assert_eq!(records, stored + 2, "both exports' own rows are in by now");

    let to = (early + Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let resp = reqwest::Client::new()
        .get(srv.url(&format!("/v1/audit-events/export?to={to}")))
        .bearer_auth(&t.key)
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    let narrowed: Vec<Value> = resp
        .text()
        .await?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(narrowed.len(), 5, "only the early events");
    assert!(narrowed.iter().all(|l| l["action"] == "test.early"));
    srv.stop().await
}

async fn retention_plan(srv: &TestServer, tenant: TenantId, days: u32) -> Result<()> {
    let plan = Plan {
        name: format!("r-{}", uuid::Uuid::new_v4().simple()),
        audit_retention_days: Some(days),
        ..Plan::default_plan()
    };
    srv.store().create_plan(&plan, Utc::now()).await?;
    srv.store()
        .set_tenant_plan(tenant, &plan.name, Utc::now())
        .await?;
    Ok(())
}

/// A plan keeping 30 days: a purge 40 days on drops the old run of events (not the newer
/// ones), leaves a checkpoint the chain verifies from and an `audit.purged` row; a second
/// purge, or two at once, drop nothing more; the database refuses to delete a row no
/// checkpoint covers; a forged or deleted checkpoint is found.
async fn retention_drops_the_oldest_behind_a_checkpoint(backend: Backend) -> Result<()> {
    let spec = ServerSpec::new(backend, true).await?;
    let srv = spec.start().await?;
    let t = srv.tenant("audit:read").await?;
    let tenant = tenant_of(&t)?;
    let other = srv.tenant("audit:read").await?;
    let other_id = tenant_of(&other)?;
    retention_plan(&srv, tenant, 30).await?;
    let now = Utc::now();
    append(&srv, tenant, "test.old", 7, now, &RequestCtx::cli()).await?;
    let old_through = srv
        .store()
        .audit_head(Some(tenant))
        .await?
        .context("head")?
        .last_seq;
    append(
        &srv,
        tenant,
        "test.new",
        4,
        now + Duration::days(20),
        &RequestCtx::cli(),
    )
    .await?;
    let other_before = srv.store().audit_events(Some(other_id)).await?.len();

    let later = now + Duration::days(40);
    let (first, second) = tokio::join!(
        srv.store().purge_expired_audit(later),
        srv.store().purge_expired_audit(later)
    );
    let purged: Vec<_> = first?.into_iter().chain(second?).collect();
    assert_eq!(
        purged.len(),
        1,
        "two purges at once drop a run once: {purged:?}"
    );
    assert_eq!(purged[0].tenant, tenant);
    assert_eq!(purged[0].dropped, old_through as u64);
    let cp = srv
        .store()
        .audit_checkpoint(Some(tenant))
        .await?
        .context("checkpoint")?;
    assert_eq!((cp.seq, cp.dropped), (old_through, old_through));
    let rows = srv.store().audit_events(Some(tenant)).await?;
    assert_eq!(rows.first().map(|r| r.seq), Some(old_through + 1));
    assert_eq!(rows[0].prev_hash, cp.hash);
    assert_eq!(rows.iter().filter(|r| r.action == "test.new").count(), 4);
    let purge_rows: Vec<_> = rows.iter().filter(|r| r.action == "audit.purged").collect();
    assert_eq!(purge_rows.len(), 1);
    assert_eq!(purge_rows[0].actor, "system");
    assert_eq!(
        srv.store().verify_audit_chain(Some(tenant)).await?,
        ChainCheck::Intact {
            events: rows.len() as u64
        }
    );
    // Another tenant on the default plan keeps everything.
    assert_eq!(
        srv.store().audit_events(Some(other_id)).await?.len(),
        other_before
    );
    assert!(srv
        .store()
        .audit_checkpoint(Some(other_id))
        .await?
        .is_none());
    // Nothing more to drop at the same instant.
    assert!(srv.store().purge_expired_audit(later).await?.is_empty());

    // The API pages from the checkpoint; the CLI verifies from it.
    let (status, page) = get(&srv, &t.key, "/v1/audit-events?order=asc&limit=1").await?;
    assert_eq!(status, 200, "{page}");
    assert_eq!(seqs(&page), vec![old_through + 1]);
    let resp = reqwest::Client::new()
        .get(srv.url("/v1/audit-events/export"))
        .bearer_auth(&t.key)
        .send()
        .await?;
    assert_eq!(
        resp.headers()["audit-checkpoint-seq"].to_str()?,
        old_through.to_string()
    );
    assert_eq!(resp.headers()["audit-checkpoint-hash"].to_str()?, cp.hash);
    let first: Value = serde_json::from_str(resp.text().await?.lines().next().context("a row")?)?;
    assert_eq!(
        (first["seq"].as_i64(), first["prev_hash"].as_str()),
        (Some(old_through + 1), Some(cp.hash.as_str()))
    );
    let (ok, out, err) = crate::cli::run_status(&spec, &["audit", "verify", "--tenant", &t.id])?;
    assert!(ok, "{out} {err}");

    // The database refuses to delete a kept row (no checkpoint covers it) or edit any row.
    let conn = srv.store().conn();
    let chain = tenant.to_string();
    let kept = old_through + 1;
    assert!(conn
        .execute_unprepared(&format!(
            "DELETE FROM audit_events WHERE chain = '{chain}' AND seq = {kept}"
        ))
        .await
        .is_err());
    assert!(conn
        .execute_unprepared(&format!(
            "UPDATE audit_events SET actor = 'x' WHERE chain = '{chain}' AND seq = {kept}"
        ))
        .await
        .is_err());

    // A checkpoint is never lowered or deleted...
    for sql in [
        format!("UPDATE audit_checkpoints SET seq = seq - 1, dropped = dropped - 1 WHERE chain = '{chain}'"),
        format!("DELETE FROM audit_checkpoints WHERE chain = '{chain}'"),
    ] {
        assert!(conn.execute_unprepared(&sql).await.is_err(), "{sql}");
    }
    // ...and one moved forward over more rows (so they could be deleted) fails its MAC...
    conn.execute_unprepared(&format!(
        "UPDATE audit_checkpoints SET seq = seq + 2, dropped = dropped + 2 WHERE chain = '{chain}'"
    ))
    .await?;
    assert_eq!(
        srv.store().verify_audit_chain(Some(tenant)).await?,
        ChainCheck::BrokenAt {
            seq: old_through + 2,
            fault: ChainFault::CheckpointForged
        }
    );
    let (ok, out, _) = crate::cli::run_status(&spec, &["audit", "verify", "--tenant", &t.id])?;
    assert!(!ok);
    assert_eq!(out["fault"], "checkpoint_forged");
    // ...and one deleted by whoever can also disable the triggers leaves the chain starting
    // mid-way: the dropped rows are missing.
    let delete = format!("DELETE FROM audit_checkpoints WHERE chain = '{chain}'");
    match backend {
        Backend::Postgres => {
            conn.execute_unprepared(&format!(
                "ALTER TABLE audit_checkpoints DISABLE TRIGGER USER; {delete}; \
                 ALTER TABLE audit_checkpoints ENABLE TRIGGER USER;"
            ))
            .await?
        }
        Backend::Sqlite => {
            conn.execute_unprepared(&format!(
                "DROP TRIGGER audit_checkpoints_no_delete; {delete};"
            ))
            .await?
        }
    };
    assert_eq!(
        srv.store().verify_audit_chain(Some(tenant)).await?,
        ChainCheck::BrokenAt {
            seq: 1,
            fault: ChainFault::Missing
        }
    );
    srv.stop().await
}

/// Retention is not a way to erase evidence: a chain with an edited row in the run to drop
/// is left as it is (no row dropped, no checkpoint), and verification still names the row.
async fn retention_never_erases_rows_that_do_not_verify(backend: Backend) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("audit:read").await?;
    let tenant = tenant_of(&t)?;
    retention_plan(&srv, tenant, 30).await?;
    let now = Utc::now();
    append(&srv, tenant, "test.old", 5, now, &RequestCtx::cli()).await?;
    append(
        &srv,
        tenant,
        "test.new",
        2,
        now + Duration::days(20),
        &RequestCtx::cli(),
    )
    .await?;
    let before = srv.store().audit_events(Some(tenant)).await?;
    let edited = before
        .iter()
        .find(|r| r.action == "test.old")
        .context("old")?
        .seq
        + 2;
    let conn = srv.store().conn();
    let chain = tenant.to_string();
    // With the database's own guard off, as an attacker with database access has it: the
    // purge itself must refuse.
    crate::audit_tamper::disable_append_only_store(srv.store(), backend).await?;
    conn.execute_unprepared(&format!(
        "UPDATE audit_events SET actor = 'someone-else' WHERE chain = '{chain}' AND seq = {edited}"
    ))
    .await?;
    let purged = srv
        .store()
        .purge_expired_audit(now + Duration::days(40))
        .await?;
    assert!(purged.is_empty(), "{purged:?}");
    assert!(srv.store().audit_checkpoint(Some(tenant)).await?.is_none());
    assert_eq!(
        srv.store().audit_events(Some(tenant)).await?.len(),
        before.len()
    );
    assert_eq!(
        srv.store().verify_audit_chain(Some(tenant)).await?,
        ChainCheck::BrokenAt {
            seq: edited,
            fault: ChainFault::Forged
        }
    );
    srv.stop().await
}

/// `tollgate audit export` writes the whole chain to stdout (CSV with its header, or NDJSON
/// that matches the stored rows), records the export, prints no progress when stderr is not
/// a terminal, and refuses an unknown tenant; `tollgate audit purge` applies retention.
async fn the_cli_exports_and_purges(backend: Backend) -> Result<()> {
    let spec = ServerSpec::new(backend, true).await?;
    let srv = spec.start().await?;
    let t = srv.tenant("ocr:read").await?;
    let tenant = tenant_of(&t)?;
    append(
        &srv,
        tenant,
        "test.cli",
        1500,
        Utc::now(),
        &RequestCtx::cli(),
    )
    .await?;
    let stored = srv.store().audit_events(Some(tenant)).await?;

    let out = crate::cli::command(
        &spec,
        &["audit", "export", "--tenant", &t.id, "--format", "ndjson"],
    )?
    .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(lines.len(), stored.len() + 1);
    let rows: Vec<AuditEvent> = lines
        .iter()
        .map(|l| row_of(l, tenant))
        .collect::<Result<_>>()?;
    assert_eq!(rows[..stored.len()], stored[..]);
    assert_eq!(rows[stored.len()].action, "audit.exported");
    assert_eq!(rows[stored.len()].actor, "operator");

    let out = crate::cli::command(
        &spec,
        &["audit", "export", "--tenant", &t.id, "--format", "csv"],
    )?
    .output()?;
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout)?;
    assert_eq!(
        csv.split("\r\n").filter(|l| !l.is_empty()).count(),
        1 + stored.len() + 2
    );

    let unknown = uuid::Uuid::new_v4().to_string();
    let out = crate::cli::command(&spec, &["audit", "export", "--tenant", &unknown])?.output()?;
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());

    retention_plan(&srv, tenant, 1).await?;
    let (ok, out, err) = crate::cli::run_status(&spec, &["audit", "purge"])?;
    assert!(ok, "{err}");
    assert_eq!(out["purged"], json!([]), "nothing is a day old yet");
    srv.stop().await
}
