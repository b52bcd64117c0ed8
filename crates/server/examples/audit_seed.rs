//! Seeds a tenant's audit chain with many events for `scripts/bench-audit-export`, through the
//! production append (`Store::append_audit_in`: the chain's head, seq and MAC are the real
//! ones, so the server appends after them and verifies them), 10 000 events per transaction.
//!
//!   DATABASE_URL=postgres://… TOLLGATE_MASTER_KEY=… \
//!     cargo run --release -p tollgate --example audit_seed -- TENANT_ID 1000000

use anyhow::{Context, Result};
use sea_orm::TransactionTrait;
use tollgate_core::{RequestCtx, TenantId};
use tollgate_store::audit::NewAuditEvent;

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let tenant: TenantId = args
        .next()
        .context("usage: audit_seed TENANT_ID COUNT")?
        .parse()?;
    let count: usize = args
        .next()
        .context("usage: audit_seed TENANT_ID COUNT")?
        .parse()?;
    let url = std::env::var("DATABASE_URL").context("DATABASE_URL")?;
    let master = tollgate_auth::master::MasterKey::from_base64(
        &std::env::var("TOLLGATE_MASTER_KEY").context("TOLLGATE_MASTER_KEY")?,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let store = tollgate_store::Store::connect(&url)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_audit_key(master.audit_key());
    let ctx = RequestCtx {
        ip: Some("198.51.100.7".into()),
        user_agent: Some("bench-agent/1.0 (seeding)".into()),
    };
    let started = std::time::Instant::now();
    let mut done = 0;
    while done < count {
        let txn = store.conn().begin().await?;
        let n = (count - done).min(10_000);
        for i in done..done + n {
            let event = NewAuditEvent::new("key:bench", "api_key.used", &ctx, chrono::Utc::now())
                .tenant(Some(tenant))
                .target(Some(format!("key:{i}")))
                .detail(serde_json::json!({ "i": i, "scopes": ["ocr:read"], "note": "seeded" }));
            store
                .append_audit_in(&txn, event)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        txn.commit().await?;
        done += n;
        eprint!("\rseeded {done}/{count}");
    }
    eprintln!(" in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
