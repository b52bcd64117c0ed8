//! The README's quick start for a tenant developer, run as written: each block fenced as
//! `sh quickstart`, `python quickstart` and `ts quickstart` is taken from README.md and run
//! against a real server (PostgreSQL, Redis) with the variables the README tells the reader to
//! set, the Python one with the SDK installed from the repository into a fresh venv, the
//! TypeScript one as an ES module in a project with the SDK installed as the README says. So
//! the snippets cannot rot: a changed API, SDK or README fails here.

use crate::harness::{fixture, Backend, TestServer};
use crate::metering::send;
use crate::sdk::{install_python_sdk, install_typescript_sdk, repo, run, scratch};
use anyhow::{Context, Result};
use serde_json::Value;
use std::process::Command;

/// The body of every block of README.md fenced as "```<lang> quickstart".
fn blocks(readme: &str, lang: &str) -> Vec<String> {
    let opening = format!("```{lang} quickstart");
    let mut found = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if line.trim_end() == opening {
            let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            found.push(body.join("\n") + "\n");
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_quick_start_runs_as_written() -> Result<()> {
    let readme = std::fs::read_to_string(repo().join("README.md"))?;
    let [sh, py, ts] = ["sh", "python", "ts"].map(|lang| blocks(&readme, lang));
    assert_eq!(
        (sh.len(), py.len(), ts.len()),
        (1, 1, 1),
        "one block of each"
    );

    let srv = TestServer::start(Backend::Postgres).await?;
    let t = srv.tenant("ocr:read usage:read").await?;
    let dir = scratch("quickstart")?;
    std::fs::write(dir.join("page.png"), fixture("hello.png")?)?;
    let python = install_python_sdk(&dir).await?;
    install_typescript_sdk(&dir).await?;
    std::fs::write(dir.join("quickstart.mjs"), &ts[0])?;
    std::fs::write(dir.join("quickstart.py"), &py[0])?;

    let reader = |program: &std::path::Path, args: &[&str]| {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(&dir)
            .env("TOLLGATE_URL", &srv.base)
            .env("TOLLGATE_CLIENT_ID", &t.client_id)
            .env("TOLLGATE_CLIENT_SECRET", &t.client_secret)
            .env("TOLLGATE_API_KEY", &t.key)
            .env("PYTHONDONTWRITEBYTECODE", "1");
        cmd
    };
    let stdout = |out: std::process::Output| String::from_utf8_lossy(&out.stdout).into_owned();

    // curl: the text, then this period's units (one, this call).
    let out = run(
        reader("bash".as_ref(), &["-euo", "pipefail", "-c", &sh[0]]),
        "the README's curl quick start",
    )
    .await?;
    assert_eq!(stdout(out), "Hello Tollgate 2026\n1\n");

    // Python: the text, each line with its confidence and box, the units, a typed refusal.
    let out = run(
        reader(&python, &["quickstart.py"]),
        "the README's Python quick start",
    )
    .await?;
    let said = stdout(out);
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines.first(), Some(&"Hello Tollgate 2026"), "{said}");
    assert!(
        lines[1].ends_with(" Hello Tollgate 2026") && lines[1].contains("[["),
        "{said}"
    );
    assert_eq!(
        &lines[2..],
        ["2 units this period", "refused: 422 unsupported_image"],
        "{said}"
    );

    // TypeScript: the text, the units, a typed refusal.
    let out = run(
        reader("node".as_ref(), &["quickstart.mjs"]),
        "the README's TypeScript quick start",
    )
    .await?;
    assert_eq!(
        stdout(out),
        "Hello Tollgate 2026\n3 units this period\nrefused: 422 unsupported_image\n"
    );

    // The server's own count: three units, three calls served; the refusals cost nothing.
    let usage = send(
        reqwest::Client::new()
            .get(srv.url("/v1/usage"))
            .header("x-api-key", &t.key),
    )
    .await?;
    assert_eq!(
        (&usage.body["total_units"], &usage.body["total_calls"]),
        (&Value::from(3), &Value::from(3)),
        "{}",
        usage.body
    );
    let _ = std::fs::remove_dir_all(&dir);
    srv.stop().await.context("stopping the server")
}
