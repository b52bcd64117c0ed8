//! Rating a large period through the production path, against the database's own floor.
//!
//! Loads N usage events (default 10 million) for one tenant into a fresh PostgreSQL database
//! (by `INSERT … SELECT generate_series`, inside PostgreSQL), then, in interleaved rounds,
//! times `Billing::upcoming` (the draft invoice: the SQL aggregate and the rating, exactly as
//! `GET /v1/invoices/upcoming` runs it) and a bare `SELECT count(*)` over the same rows, and
//! reports the medians, their ratio, and this process's peak RSS before and after rating.
//!
//!   cargo run --release -p tollgate-billing --example rate_bench -- [EVENTS] [ROUNDS]
//!
//! `TOLLGATE_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/test`) names the server;
//! the database is created and dropped by the bench.

use sea_orm::{ConnectionTrait, Database, Statement};
use std::sync::Arc;
use std::time::Instant;
use tollgate_billing::Billing;
use tollgate_core::plan::{Period, Plan};
use tollgate_core::pricing::{Currency, Overage, Price, Tier, UnitPrice};
use tollgate_core::{Clock, RequestCtx, SystemClock, TenantId};
use tollgate_store::Store;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let events: u64 = args.next().map_or(Ok(10_000_000), |a| a.parse())?;
    let rounds: usize = args.next().map_or(Ok(5), |a| a.parse())?;
    let admin_url = std::env::var("TOLLGATE_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b);
    let db = format!("tollgate_ratebench_{}", std::process::id());
    let admin = Database::connect(&admin_url).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {db}"))
        .await?;
    let result = run(&format!("{base}/{db}"), events, rounds).await;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .await?;
    result
}

async fn run(url: &str, events: u64, rounds: usize) -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::connect(url)
        .await?
        .with_audit_key(tollgate_store::audit::AuditKey::new(&[7; 32]));
    store.migrate().await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let now = clock.now();
    let period = Period::of(now).key();
    let tenant = TenantId(store.create_tenant("bench", now).await?.id);
    let plan = Plan {
        name: "bench".into(),
        monthly_units: 1_000_000,
        overage: true,
        ..Plan::default_plan()
    };
    store.create_plan(&plan, now).await?;
    store.set_tenant_plan(tenant, "bench", now).await?;
    let billing = Billing::new(store.clone(), clock.clone());
    // Graduated, so the rating has tiers to fill.
    let unit = |amount, per| UnitPrice { amount, per };
    let price = Price {
        currency: Currency::parse("USD")?,
        base_fee: 4_900,
        included_units: 1_000_000,
        overage: Overage::Graduated {
            tiers: vec![
                Tier {
                    up_to: Some(4_000_000),
                    unit: unit(1, 10),
                    flat: 0,
                },
                Tier {
                    up_to: None,
                    unit: unit(1, 20),
                    flat: 0,
                },
            ],
        },
    };
    billing
        .set_price("bench", price, "bench", &RequestCtx::default())
        .await?;

    let load = Instant::now();
    store
        .conn()
        .execute(Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "INSERT INTO usage_events (tenant_id, event_id, principal_kind, principal_id, \
             operation, units, status, latency_ms, fingerprint, period, hour_epoch, created_at) \
             SELECT $1, 'evt_' || g, 'api_key', 'bench', 'ocr', 1, 200, 5, NULL, $2, \
             extract(epoch FROM now())::bigint / 3600, now() FROM generate_series(1, $3) g",
            [
                tenant.0.into(),
                period.clone().into(),
                (events as i64).into(),
            ],
        ))
        .await?;
    store
        .conn()
        .execute_unprepared("VACUUM ANALYZE usage_events")
        .await?;
    println!(
        "loaded {events} events in {:.1} s",
        load.elapsed().as_secs_f64()
    );

    let count_sql = Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        "SELECT count(*) FROM usage_events WHERE tenant_id = $1 AND period = $2",
        [tenant.0.into(), period.clone().into()],
    );
    let rss_before = peak_rss_kib();
    let (mut rate_ms, mut count_ms) = (Vec::new(), Vec::new());
    let mut total = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        let draft = billing.upcoming(tenant).await?;
        rate_ms.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(draft.units, events, "every event is rated");
        total = draft.total();
        let t = Instant::now();
        let row = store
            .conn()
            .query_one(count_sql.clone())
            .await?
            .ok_or("no row")?;
        count_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let n: i64 = row.try_get_by_index(0)?;
        assert_eq!(n as u64, events);
    }
    let rss_after = peak_rss_kib();
    let (rate, count) = (median(rate_ms.clone()), median(count_ms.clone()));
    println!("rounds: {rounds}; draft total {total} USD minor units");
    println!("rate the period (Billing::upcoming): median {rate:.1} ms  {rate_ms:.1?}");
    println!("bare SELECT count(*):                median {count:.1} ms  {count_ms:.1?}");
    println!("ratio rating / count(*): {:.2}", rate / count);
    println!(
        "peak RSS of this process: {:.1} MiB before rating, {:.1} MiB after",
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0
    );
    Ok(())
}
