//! The audit chain against someone with write access to the database (the append-only
//! triggers switched off, as the table's owner can): dropping the newest rows, emptying a
//! chain (`TRUNCATE` skips row triggers), and rewriting a row with every later hash
//! recomputed the way the code computes them without the server's key. `tollgate audit
//! verify` must name the first bad seq each time, and exit non-zero.

use crate::both_backends;
use crate::harness::{Backend, ServerSpec, TestServer};
use anyhow::{Context, Result};
use sea_orm::ConnectionTrait;
use serde_json::Value;
use tollgate_core::TenantId;
use tollgate_store::audit::AuditEvent;

both_backends!(tail_removal_truncation_and_keyless_rewrites_are_detected);

/// Lets the table's owner change rows, as an attacker with database access would.
async fn disable_append_only(srv: &TestServer, backend: Backend) -> Result<()> {
    let conn = srv.store().conn();
    match backend {
        Backend::Postgres => {
            conn.execute_unprepared("ALTER TABLE audit_events DISABLE TRIGGER USER")
                .await?;
        }
        Backend::Sqlite => {
            conn.execute_unprepared(
                "DROP TRIGGER IF EXISTS audit_events_no_update; \
                 DROP TRIGGER IF EXISTS audit_events_no_delete;",
            )
            .await?;
        }
    }
    Ok(())
}

/// A row's hash as the code computes it without any key: SHA-256 of its fields as JSON.
fn keyless_hash(row: &AuditEvent) -> String {
    let fields = serde_json::json!({
        "chain": row.chain,
        "seq": row.seq,
        "tenant_id": row.tenant_id.map(|t| t.to_string()),
        "at": row.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "actor": row.actor,
        "action": row.action,
        "target": row.target,
        "ip": row.ip,
        "user_agent": row.user_agent,
        "outcome": row.outcome,
        "detail": row.detail,
        "prev_hash": row.prev_hash,
    });
    // serde_json's map keeps keys sorted; the code's struct keeps declaration order.
    let ordered = format!(
        "{{\"chain\":{},\"seq\":{},\"tenant_id\":{},\"at\":{},\"actor\":{},\"action\":{},\
         \"target\":{},\"ip\":{},\"user_agent\":{},\"outcome\":{},\"detail\":{},\"prev_hash\":{}}}",
        fields["chain"],
        fields["seq"],
        fields["tenant_id"],
        fields["at"],
        fields["actor"],
        fields["action"],
        fields["target"],
        fields["ip"],
        fields["user_agent"],
        fields["outcome"],
        fields["detail"],
        fields["prev_hash"],
    );
    tollgate_store::sha256_hex(ordered.as_bytes())
}

/// `tollgate audit verify --tenant` through the real binary: (exit ok, its JSON).
fn verify(spec: &ServerSpec, tenant: &str) -> Result<(bool, Value)> {
    let (ok, out, err) = crate::cli::run_status(spec, &["audit", "verify", "--tenant", tenant])?;
    anyhow::ensure!(out.is_object(), "no JSON from audit verify: {err}");
    Ok((ok, out))
}

/// A tenant with a few audited actions; its rows.
async fn chain(srv: &TestServer) -> Result<(String, Vec<AuditEvent>)> {
    let t = srv.tenant("ocr:read").await?;
    let portal = srv.login(&t.owner_email, &t.owner_password).await?;
    let (status, _) = portal.delete("/v1/session").await?;
    assert_eq!(status, 204);
    let tenant: TenantId = t.id.parse()?;
    let rows = srv.store().audit_events(Some(tenant)).await?;
    assert!(rows.len() >= 6, "{} rows", rows.len());
    Ok((t.id, rows))
}

async fn tail_removal_truncation_and_keyless_rewrites_are_detected(backend: Backend) -> Result<()> {
    let spec = ServerSpec::new(backend, false).await?;
    let srv = spec.start().await?;
    let (forged, forged_rows) = chain(&srv).await?;
    let (cut, cut_rows) = chain(&srv).await?;
    let (emptied, _) = chain(&srv).await?;
    for id in [&forged, &cut, &emptied] {
        let (ok, out) = verify(&spec, id)?;
        assert!(ok && out["intact"] == true, "{out}");
    }
    disable_append_only(&srv, backend).await?;
    let conn = srv.store().conn();

    // A middle row rewritten, and every later row re-linked with recomputed keyless hashes.
    let mid = 2;
    let mut rows = forged_rows.clone();
    rows[mid].actor = "admin:someone-else".into();
    for i in mid..rows.len() {
        if i > mid {
            rows[i].prev_hash = rows[i - 1].hash.clone();
        }
        rows[i].hash = keyless_hash(&rows[i]);
        let r = &rows[i];
        let res = conn
            .execute_unprepared(&format!(
                "UPDATE audit_events SET actor = '{}', prev_hash = '{}', hash = '{}' \
                 WHERE chain = '{}' AND seq = {}",
                r.actor, r.prev_hash, r.hash, r.chain, r.seq
            ))
            .await?;
        assert_eq!(res.rows_affected(), 1);
    }
    let (ok, out) = verify(&spec, &forged)?;
    assert!(!ok, "a rewritten chain must fail verification: {out}");
    assert_eq!(out["broken_at"], forged_rows[mid].seq, "{out}");

    // The newest row deleted.
    let last = cut_rows.last().context("rows")?;
    let res = conn
        .execute_unprepared(&format!(
            "DELETE FROM audit_events WHERE chain = '{}' AND seq = {}",
            last.chain, last.seq
        ))
        .await?;
    assert_eq!(res.rows_affected(), 1);
    let (ok, out) = verify(&spec, &cut)?;
    assert!(
        !ok,
        "a chain missing its tail must fail verification: {out}"
    );
    assert_eq!(out["broken_at"], last.seq, "{out}");

    // The whole chain gone.
    match backend {
        Backend::Postgres => conn.execute_unprepared("TRUNCATE audit_events").await?,
        Backend::Sqlite => {
            conn.execute_unprepared(&format!(
                "DELETE FROM audit_events WHERE chain = '{emptied}'"
            ))
            .await?
        }
    };
    let (ok, out) = verify(&spec, &emptied)?;
    assert!(!ok, "an emptied chain must fail verification: {out}");
    assert_eq!(out["broken_at"], 1, "{out}");
    srv.stop().await
}
