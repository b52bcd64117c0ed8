//! Login brute-force protection: failures back off per (account, address) — so an attacker
//! cannot lock a user out from the user's own address — per address, so one address
//! cannot sweep many accounts, and per account for addresses it never signed in from, so a
//! botnet cannot guess one password from many addresses; a success clears the account's count; an unknown email costs
//! as much as a wrong password; and weak password hashes are upgraded on login.
//!
//! Different source addresses come from binding the client to other loopback addresses
//! (Linux routes all of 127.0.0.0/8 to the loopback interface).

use crate::both_backends;
use crate::harness::{Backend, ServerSpec, TestServer};
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::net::IpAddr;
use std::time::{Duration, Instant};
use tollgate_auth::password::{hash_with_params, PasswordParams};
use tollgate_core::{Role, TenantId};

both_backends!(account_backoff_is_per_address_with_redis);

/// A server with in-process attempt counters (no Redis): nothing is shared with other tests
/// or earlier runs.
async fn local_server() -> Result<TestServer> {
    ServerSpec::new(Backend::Sqlite, false).await?.start().await
}

/// An HTTP client whose connections come from `ip`.
fn from_ip(ip: [u8; 4]) -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .local_address(IpAddr::from(ip))
        .build()?)
}

/// A login answer.
struct Answer {
    status: u16,
    retry_after: Option<u64>,
    content_type: Option<String>,
    body: Value,
}

async fn login(
    srv: &TestServer,
    http: &reqwest::Client,
    email: &str,
    password: &str,
) -> Result<Answer> {
    let resp = http
        .post(srv.url("/v1/session"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await?;
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let retry_after = header("retry-after").and_then(|v| v.parse::<u64>().ok());
    let content_type = header("content-type");
    let body = resp.json().await.unwrap_or(Value::Null);
    Ok(Answer {
        status,
        retry_after,
        content_type,
        body,
    })
}

/// Asserts a throttled answer and returns its `Retry-After`.
fn assert_throttled(answer: &Answer, what: &str) -> Result<u64> {
    assert_eq!(answer.status, 429, "{what}: {}", answer.body);
    assert_eq!(answer.body["code"], "too_many_attempts", "{what}");
    assert_eq!(
        answer.content_type.as_deref(),
        Some("application/problem+json"),
        "{what}"
    );
    let retry_after = answer
        .retry_after
        .with_context(|| format!("{what}: 429 without a numeric Retry-After"))?;
    assert!(retry_after >= 1, "{what}: Retry-After {retry_after}");
    Ok(retry_after)
}

/// Five wrong passwords from the attacker's address, then even the right password is
/// refused there — but not from the owner's address; after `Retry-After` it works again.
async fn account_lockout_scenario(
    srv: &TestServer,
    attacker_ip: [u8; 4],
    owner_ip: [u8; 4],
) -> Result<()> {
    let t = srv.tenant("ocr:read").await?;
    let attacker = from_ip(attacker_ip)?;
    let owner = from_ip(owner_ip)?;
    for n in 1..=5 {
        let answer = login(srv, &attacker, &t.owner_email, &format!("guess number {n}")).await?;
        assert_eq!(answer.status, 401, "failure {n}: {}", answer.body);
        assert_eq!(answer.body["code"], "unauthenticated");
    }
    let blocked = login(srv, &attacker, &t.owner_email, &t.owner_password).await?;
    let retry_after =
        assert_throttled(&blocked, "6th attempt, right password, attacker's address")?;

    // The attacker cannot lock the owner out: from the owner's address the login works.
    let own = login(srv, &owner, &t.owner_email, &t.owner_password).await?;
    assert_eq!(own.status, 200, "owner from own address: {}", own.body);

    tokio::time::sleep(Duration::from_secs(retry_after) + Duration::from_millis(200)).await;
    let later = login(srv, &attacker, &t.owner_email, &t.owner_password).await?;
    assert_eq!(
        later.status, 200,
        "after Retry-After the right password works: {}",
        later.body
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_backoff_is_per_address() -> Result<()> {
    let srv = local_server().await?;
    account_lockout_scenario(&srv, [127, 0, 0, 2], [127, 0, 0, 3]).await?;
    srv.stop().await
}

/// The same with the Redis counters every instance shares.
async fn account_backoff_is_per_address_with_redis(backend: Backend) -> Result<()> {
    let (attacker, owner) = match backend {
        Backend::Sqlite => ([127, 0, 0, 21], [127, 0, 0, 22]),
        Backend::Postgres => ([127, 0, 0, 23], [127, 0, 0, 24]),
    };
    let srv = TestServer::start(backend).await?;
    // Redis outlives the test: per-address counts from earlier runs (within the 15-minute
    // window) must not leak in. Account counts are keyed by a fresh email, so start clean.
    for ip in [attacker, owner] {
        srv.auth()
            .attempts
            .reset(&format!("ip:{}", IpAddr::from(ip)))
            .await;
    }
    account_lockout_scenario(&srv, attacker, owner).await?;
    srv.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_address_backoff_stops_sweeps_across_accounts() -> Result<()> {
    let srv = local_server().await?;
    let t = srv.tenant("ocr:read").await?;
    let sweeper = from_ip([127, 0, 0, 4])?;
    let run = uuid::Uuid::new_v4().simple().to_string();
    for n in 1..=50 {
        let email = format!("sweep-{run}-{n}@example.com");
        let answer = login(&srv, &sweeper, &email, "password1234").await?;
        assert_eq!(
            answer.status, 401,
            "failure {n} from one address: {}",
            answer.body
        );
    }
    let answer = login(
        &srv,
        &sweeper,
        &format!("sweep-{run}-51@example.com"),
        "password1234",
    )
    .await?;
    assert_throttled(&answer, "51st attempt from one address (yet another email)")?;
    // A real account is refused from that address too, even with its right password…
    let answer = login(&srv, &sweeper, &t.owner_email, &t.owner_password).await?;
    assert_throttled(&answer, "right password from the sweeping address")?;
    // …but not from another address.
    let elsewhere = from_ip([127, 0, 0, 5])?;
    let answer = login(&srv, &elsewhere, &t.owner_email, &t.owner_password).await?;
    assert_eq!(answer.status, 200, "{}", answer.body);
    srv.stop().await
}

/// A botnet guessing one account's password from many addresses (each under the
/// per-address threshold) trips the per-account backoff — but the owner, signing in from an
/// address they used before, is not locked out by it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distributed_guessing_backs_off_per_account_except_known_addresses() -> Result<()> {
    let srv = local_server().await?;
    let t = srv.tenant("ocr:read").await?;
    let home = from_ip([127, 0, 2, 1])?;
    let answer = login(&srv, &home, &t.owner_email, &t.owner_password).await?;
    assert_eq!(answer.status, 200, "owner's first sign-in: {}", answer.body);
    for n in 0..20u8 {
        let bot = from_ip([127, 0, 2, 10 + n])?;
        let answer = login(&srv, &bot, &t.owner_email, &format!("botnet guess {n}")).await?;
        assert_eq!(answer.status, 401, "guess {n}: {}", answer.body);
    }
    let fresh = from_ip([127, 0, 2, 60])?;
    let answer = login(&srv, &fresh, &t.owner_email, &t.owner_password).await?;
    assert_throttled(
        &answer,
        "right password from a new address after 20 distributed failures",
    )?;
    let answer = login(&srv, &home, &t.owner_email, &t.owner_password).await?;
    assert_eq!(
        answer.status, 200,
        "the owner's known address is exempt from the per-account block: {}",
        answer.body
    );
    srv.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_resets_the_account_count() -> Result<()> {
    let srv = local_server().await?;
    let t = srv.tenant("ocr:read").await?;
    let http = from_ip([127, 0, 0, 6])?;
    for round in 1..=2 {
        for n in 1..=4 {
            let answer = login(&srv, &http, &t.owner_email, &format!("wrong guess {n}")).await?;
            assert_eq!(
                answer.status, 401,
                "round {round}, failure {n}: {}",
                answer.body
            );
        }
        let answer = login(&srv, &http, &t.owner_email, &t.owner_password).await?;
        assert_eq!(
            answer.status, 200,
            "round {round}: 4 failures after a success are under the threshold: {}",
            answer.body
        );
    }
    srv.stop().await
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    let n = samples.len();
    if n.is_multiple_of(2) {
        (samples[n / 2 - 1] + samples[n / 2]) / 2
    } else {
        samples[n / 2]
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_email_costs_as_much_as_a_wrong_password() -> Result<()> {
    let srv = local_server().await?;
    let t = srv.tenant("ocr:read").await?;
    let mut wrong_password = Vec::new();
    let mut unknown_email = Vec::new();
    for i in 0..10u8 {
        // One address per round: six wrong passwords for one account from one address
        // would trip the per-account backoff and time the (fast) 429 path instead.
        let http = from_ip([127, 0, 1, 10 + i])?;
        // Open the connection first, so neither timed request pays for it.
        assert_eq!(http.get(srv.url("/healthz")).send().await?.status(), 200);
        let known_first = i % 2 == 0;
        for known in [known_first, !known_first] {
            let email = if known {
                t.owner_email.clone()
            } else {
                format!("nobody-{}@example.com", uuid::Uuid::new_v4().simple())
            };
            let start = Instant::now();
            let answer = login(&srv, &http, &email, "definitely wrong").await?;
            let took = start.elapsed();
            assert_eq!(answer.status, 401, "{}", answer.body);
            assert_eq!(answer.body["detail"], "invalid email or password");
            if known {
                wrong_password.push(took);
            } else {
                unknown_email.push(took);
            }
        }
    }
    let known = median(wrong_password.clone());
    let unknown = median(unknown_email.clone());
    let ratio = unknown.as_secs_f64() / known.as_secs_f64();
    // Loose on purpose (other tests share these two cores): what it must catch is an unknown
    // email skipping the password hash, which makes it an order of magnitude faster.
    assert!(
        (0.25..=4.0).contains(&ratio),
        "unknown email {unknown:?} vs wrong password {known:?} (ratio {ratio:.2}); \
         samples {unknown_email:?} vs {wrong_password:?}"
    );
    srv.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weak_password_hash_is_upgraded_on_login() -> Result<()> {
    let srv = local_server().await?;
    let t = srv.tenant("ocr:read").await?;
    let tenant: TenantId = t.id.parse()?;
    let email = format!("legacy-{}@example.com", uuid::Uuid::new_v4().simple());
    let password = "an old but long password";
    let weak = PasswordParams {
        m_cost: 4096,
        t_cost: 1,
        p_cost: 1,
    };
    let hash = hash_with_params(weak, password)?;
    assert!(hash.contains("m=4096,t=1,p=1"), "{hash}");
    srv.store()
        .create_admin(
            tenant,
            &email,
            &hash,
            Role::Owner,
            false,
            chrono::Utc::now(),
        )
        .await?;

    let portal = srv.login(&email, password).await?;
    let (status, me) = portal.get("/v1/session").await?;
    assert_eq!((status, me["email"].as_str()), (200, Some(email.as_str())));
    let upgraded = srv
        .store()
        .admin_by_email(&email)
        .await?
        .context("admin vanished")?
        .password_hash;
    assert!(upgraded.starts_with("$argon2id$"), "{upgraded}");
    assert!(
        upgraded.contains("m=19456,t=2,p=1"),
        "the hash was upgraded to OWASP parameters: {upgraded}"
    );

    // The upgraded hash verifies, and is not rewritten again.
    srv.login(&email, password).await?;
    let again = srv
        .store()
        .admin_by_email(&email)
        .await?
        .context("admin vanished")?
        .password_hash;
    assert_eq!(again, upgraded, "a hash at the current parameters is kept");
    let wrong = login(&srv, &reqwest::Client::new(), &email, "not the password").await?;
    assert_eq!(wrong.status, 401);
    srv.stop().await
}

/// Bad client secrets back off per (client id, address): the 11th attempt from that
/// address is refused with 429 before the secret is even checked (no audit row either),
/// while the client keeps working from its own address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_client_secrets_back_off_per_address() -> Result<()> {
    let srv = local_server().await?;
    let t = srv.tenant("ocr:read").await?;
    let tenant: TenantId = t.id.parse()?;
    let attacker = from_ip([127, 0, 3, 1])?;
    let token = |http: &reqwest::Client, secret: &str| {
        http.post(srv.url("/oauth/token"))
            .basic_auth(&t.client_id, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    for n in 0..10 {
        let resp = token(&attacker, &format!("tgs_wrong_{n}")).await?;
        assert_eq!(resp.status().as_u16(), 401, "attempt {n}");
    }
    let audited = srv.store().audit_events(Some(tenant)).await?.len();
    let resp = token(&attacker, &t.client_secret).await?;
    assert_eq!(resp.status().as_u16(), 429, "11th attempt, right secret");
    assert!(resp.headers().contains_key("retry-after"));
    assert_eq!(
        resp.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let body: Value = resp.json().await?;
    assert_eq!(body["error"], "temporarily_unavailable");
    assert_eq!(
        srv.store().audit_events(Some(tenant)).await?.len(),
        audited,
        "a throttled attempt writes no audit row"
    );
    let own = token(&from_ip([127, 0, 3, 2])?, &t.client_secret).await?;
    assert_eq!(own.status().as_u16(), 200, "the client's own address");
    srv.stop().await
}
