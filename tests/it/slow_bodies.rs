//! Request bodies as an anonymous attacker sends them: `POST /v1/ocr` checks the credentials
//! in the headers before it reads a byte of the body, so a 20 MB upload without (or with
//! bad) credentials is answered 401 while the body has not even been sent, and two hundred
//! such uploads held open cost the server nothing.

use crate::both_backends;
use crate::harness::{Backend, TestServer};
use anyhow::{Context, Result};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

both_backends!(
    uploads_without_valid_credentials_are_refused_before_the_body,
    a_stalled_upload_times_out,
    authenticated_uploads_meet_their_limits_before_the_body,
);

/// Sends only the request head of a 20 MB image upload and returns the status line of the
/// answer the server gives before any body byte arrives (`None`: no answer in 3 s).
async fn head_only(addr: std::net::SocketAddr, auth: Option<&str>) -> Result<Option<String>> {
    let mut stream = TcpStream::connect(addr).await?;
    let auth = auth.map(|a| format!("{a}\r\n")).unwrap_or_default();
    let head = format!(
        "POST /v1/ocr HTTP/1.1\r\nHost: {addr}\r\nContent-Type: image/png\r\n\
         Content-Length: 20000000\r\n{auth}\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    let mut buf = vec![0u8; 4096];
    match tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buf)).await {
        Ok(Ok(n)) if n > 0 => {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            Ok(text.lines().next().map(str::to_owned))
        }
        Ok(Ok(_)) => Ok(Some("connection closed".into())),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Ok(None),
    }
}

async fn uploads_without_valid_credentials_are_refused_before_the_body(
    backend: Backend,
) -> Result<()> {
    let srv = TestServer::start(backend).await?;
    let t = srv.tenant("usage:read").await?;
    let addr = srv.running.addr;
    // The key with its last character changed (to one it is not: a key ending in `x` stays
    // valid under "replace it with x", about one run in 62).
    let (head, last) = t.key.split_at(t.key.len() - 1);
    let other = if last == "x" { "y" } else { "x" };
    let bad_key = format!("X-API-Key: {head}{other}");
    let wrong_scope = format!("X-API-Key: {}", t.key);
    for (what, auth, want) in [
        ("no credentials", None, "401"),
        ("a bad key", Some(bad_key.as_str()), "401"),
        (
            "a garbage bearer",
            Some("Authorization: Bearer nonsense"),
            "401",
        ),
        ("a key without ocr:read", Some(wrong_scope.as_str()), "403"),
    ] {
        let line = head_only(addr, auth).await?;
        let line = line.with_context(|| format!("{what}: no answer before the body was sent"))?;
        assert!(line.contains(want), "{what}: {line}");
    }
    // Many at once: each is answered at once, none waits for its 20 MB.
    let many = (0..200).map(|_| head_only(addr, None));
    for line in futures::future::join_all(many).await {
        let line = line?.context("no answer before the body")?;
        assert!(line.contains("401"), "{line}");
    }
    srv.stop().await
}

/// An authenticated upload that stops sending is answered 408 `request_timeout` once the body
/// deadline passes, instead of holding its connection and buffer for ever.
async fn a_stalled_upload_times_out(backend: Backend) -> Result<()> {
    let spec = crate::harness::ServerSpec::new(backend, false).await?;
    let mut env = spec.env();
    env.body_timeout = Duration::from_secs(1);
    let running = crate::harness::start_server(&spec.common(), &spec.serve_args()?, &env).await?;
    let srv = TestServer {
        base: format!("http://{}", running.addr),
        running,
    };
    let t = srv.tenant("ocr:read").await?;
    let mut stream = TcpStream::connect(srv.running.addr).await?;
    let head = format!(
        "POST /v1/ocr HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nX-API-Key: {}\r\n\
         Content-Length: 1000\r\n\r\n",
        t.key
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&[0x89, b'P', b'N', b'G']).await?;
    let started = std::time::Instant::now();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .context("no answer within 5 s")??;
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("request_timeout"), "{text}");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "after the deadline"
    );
    srv.stop().await
}

/// Opens an authenticated upload of `length` bytes and sends only its first bytes; returns
/// the open connection (the server holds the request until its body deadline).
async fn stalled_upload(addr: std::net::SocketAddr, key: &str, length: usize) -> Result<TcpStream> {
    let mut stream = TcpStream::connect(addr).await?;
    let head = format!(
        "POST /v1/ocr HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nX-API-Key: {key}\r\n\
         Content-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(b"\x89PNG").await?;
    Ok(stream)
}

/// Uploads with valid credentials meet the tenant's limits before their bodies are read: past
/// the plan's concurrency cap the next one is 429 `concurrency_limited` at once, past the rate
/// limit 429 `rate_limited`, and past the process's body budget 503 `ocr_busy` — so no key,
/// however many connections it opens, makes the server buffer more than its share.
async fn authenticated_uploads_meet_their_limits_before_the_body(backend: Backend) -> Result<()> {
    let spec = crate::harness::ServerSpec::new(backend, false).await?;
    let mut env = spec.env();
    env.body_timeout = Duration::from_secs(3);
    env.ocr.body_budget = 21 << 20;
    let running = crate::harness::start_server(&spec.common(), &spec.serve_args()?, &env).await?;
    let srv = TestServer {
        base: format!("http://{}", running.addr),
        running,
    };
    let addr = srv.running.addr;
    let key = |t: &crate::harness::Tenant| format!("X-API-Key: {}", t.key);
    // Concurrency: two slots, both held by stalled uploads.
    let t = srv.tenant("ocr:read").await?;
    crate::metering::plan(&srv, &t, |p| p.max_concurrent = 2).await?;
    let held = [
        stalled_upload(addr, &t.key, 1000).await?,
        stalled_upload(addr, &t.key, 1000).await?,
    ];
    tokio::time::sleep(Duration::from_millis(200)).await;
    let line = head_only(addr, Some(&key(&t)))
        .await?
        .context("no answer")?;
    assert!(line.contains("429"), "a third upload: {line}");
    // Rate: a burst of one, spent by the first.
    let slow = srv.tenant("ocr:read").await?;
    crate::metering::plan(&srv, &slow, |p| {
        p.rate = 0.01;
        p.burst = 1;
    })
    .await?;
    let _spent = stalled_upload(addr, &slow.key, 1000).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let line = head_only(addr, Some(&key(&slow)))
        .await?
        .context("no answer")?;
    assert!(line.contains("429"), "over the rate: {line}");
    // Bytes: a 20 MB upload of one tenant fills the 21 MiB budget; another tenant's 20 MB
    // upload is refused unread.
    let big = srv.tenant("ocr:read").await?;
    let _filling = stalled_upload(addr, &big.key, 20_000_000).await?;
    let other = srv.tenant("ocr:read").await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let line = head_only(addr, Some(&key(&other)))
        .await?
        .context("no answer")?;
    assert!(line.contains("503"), "over the body budget: {line}");
    drop(held);
    srv.stop().await
}
