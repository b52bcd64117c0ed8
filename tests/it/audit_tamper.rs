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

both_backends!(
    tail_removal_truncation_and_keyless_rewrites_are_detected,
    chains_older_than_keyed_hashes_are_sealed_once,
);

/// Lets the table's owner change rows, as an attacker with database access would.
async fn disable_append_only(srv: &TestServer, backend: Backend) -> Result<()> {
    disable_append_only_store(srv.store(), backend).await
}

pub(crate) async fn disable_append_only_store(
    store: &tollgate_store::Store,
    backend: Backend,
) -> Result<()> {
    let conn = store.conn();
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
    let (erased, _) = chain(&srv).await?;
    for id in [&forged, &cut, &emptied, &erased] {
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

    // A tenant's whole history erased, head and all.
    conn.execute_unprepared(&format!(
        "DELETE FROM audit_events WHERE chain = '{erased}'; \
         DELETE FROM audit_heads WHERE chain = '{erased}';"
    ))
    .await?;
    let (ok, out) = verify(&spec, &erased)?;
    assert!(
        !ok,
        "an erased chain of an existing tenant must fail verification: {out}"
    );
    assert_eq!(
        (&out["broken_at"], &out["fault"]),
        (&serde_json::json!(1), &serde_json::json!("head_missing")),
        "{out}"
    );

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

/// A database whose chains were written before keyed hashes keeps working: its first start
/// checks each old chain (unkeyed SHA-256) and seals its head, new events are keyed MACs on
/// top, and the whole chain verifies. Sealing happens once: a head made unsealed afterwards
/// (to pass rewritten events off as old ones) is refused, by `audit verify` and by appends.
async fn chains_older_than_keyed_hashes_are_sealed_once(backend: Backend) -> Result<()> {
    use migration::{Migrator, MigratorTrait};
    let spec = ServerSpec::new(backend, false).await?;
    // A database as it was before keyed hashes: the first four migrations.
    let url = match &spec.database_url {
        Some(url) => {
            // A fresh, empty database rather than the migrated template.
            let admin = sea_orm::Database::connect(crate::harness::pg_admin_url()).await?;
            let name = url.rsplit('/').next().context("db name")?.to_owned();
            admin
                .execute_unprepared(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
                .await?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await?;
            url.clone()
        }
        None => format!(
            "sqlite://{}?mode=rwc",
            spec.data_dir.join("tollgate.db").display()
        ),
    };
    let old = tollgate_store::Store::connect(&url).await?;
    Migrator::up(old.conn(), Some(4)).await?;
    let tenant = TenantId::new();
    use sea_orm::{ActiveModelTrait, Set};
    tollgate_store::entity::tenant::ActiveModel {
        id: Set(tenant.0),
        name: Set("Old tenant".into()),
        created_at: Set(chrono::Utc::now()),
        plan_id: Set(None),
    }
    .insert(old.conn())
    .await?;
    let mut prev = tollgate_store::audit::GENESIS_HASH.to_owned();
    for (seq, action) in [(1, "tenant.created"), (2, "member.created"), (3, "login")] {
        let mut row = AuditEvent {
            chain: tenant.to_string(),
            seq,
            tenant_id: Some(tenant.0),
            at: chrono::DateTime::from_timestamp(1_700_000_000 + seq, 0).context("time")?,
            actor: "operator".into(),
            action: action.into(),
            target: None,
            ip: None,
            user_agent: None,
            outcome: "success".into(),
            detail: "{}".into(),
            prev_hash: prev.clone(),
            hash: String::new(),
        };
        row.hash = keyless_hash(&row);
        prev = row.hash.clone();
        tollgate_store::entity::audit_event::ActiveModel::from(row)
            .insert(old.conn())
            .await?;
    }
    old.conn().clone().close().await?;

    // The new server migrates, checks the old chain and seals its head.
    let srv = spec.start().await?;
    let store = srv.store().clone();
    assert_eq!(
        store.verify_audit_chain(Some(tenant)).await?,
        tollgate_store::audit::ChainCheck::Intact { events: 3 }
    );
    let ctx = tollgate_auth::RequestCtx::cli();
    srv.auth()
        .audit(
            Some(tenant),
            "operator",
            "test.after",
            None,
            "success",
            &ctx,
            serde_json::json!({}),
        )
        .await?;
    assert_eq!(
        store.verify_audit_chain(Some(tenant)).await?,
        tollgate_store::audit::ChainCheck::Intact { events: 4 },
        "old events unkeyed, the new one keyed, one chain"
    );
    let (ok, out) = verify(&spec, &tenant.to_string())?;
    assert!(ok, "{out}");
    srv.stop().await?;

    // Later, the head is made unsealed again (keyed_from raised over the keyed event, so a
    // rewrite of it would pass as old): nothing seals it again.
    disable_append_only_store(&store, backend).await?;
    store
        .conn()
        .execute_unprepared(&format!(
            "UPDATE audit_heads SET mac = '', keyed_from = 5 WHERE chain = '{tenant}'"
        ))
        .await?;
    let srv = spec.start().await?;
    let (ok, out) = verify(&spec, &tenant.to_string())?;
    assert!(!ok, "{out}");
    assert_eq!(out["fault"], "head_forged", "{out}");
    let refused = srv
        .auth()
        .audit(
            Some(tenant),
            "operator",
            "test.refused",
            None,
            "success",
            &ctx,
            serde_json::json!({}),
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(tollgate_core::DomainError::Busy {
                code: tollgate_core::Code::AuditUnavailable,
                ..
            })
        ),
        "{refused:?}"
    );
    srv.stop().await
}
