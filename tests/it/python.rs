//! A second, independent OAuth2 client: Python's `authlib` (tests/python) gets tokens by
//! `client_secret_basic` and `client_secret_post` from a real server and calls `/v1/me`.

use crate::harness::{Backend, TestServer};
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::Command;

pub(crate) fn python() -> Result<PathBuf> {
    if let Ok(p) = std::env::var("TOLLGATE_PYTHON") {
        return Ok(PathBuf::from(p));
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    anyhow::ensure!(
        venv.exists(),
        "no Python environment for tests/python: run scripts/test (it creates .venv), or set TOLLGATE_PYTHON"
    );
    Ok(venv)
}

/// A child process, killed when dropped.
pub(crate) struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `tests/python/<script>`, an HTTP server that prints its port on its first line;
/// the process (killed on drop) and the port. `needs` says what it depends on, for the error.
pub(crate) fn server(script: &str, needs: &str) -> Result<(KillOnDrop, u16)> {
    use std::io::BufRead;
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(script);
    let mut child = Command::new(python()?)
        .arg(path)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("{script} needs tests/python/requirements.txt ({needs})"))?;
    let stdout = child.stdout.take().context("stdout")?;
    let child = KillOnDrop(child);
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    let port = line
        .trim()
        .parse()
        .with_context(|| format!("{script} said {line:?}"))?;
    Ok((child, port))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_client_gets_tokens_and_calls_the_api() -> Result<()> {
    let srv = TestServer::start(Backend::Postgres).await?;
    let t = srv.tenant("ocr:read usage:read").await?;
    let py = python()?;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python");
    let base = srv.base.clone();
    let (id, secret) = (t.client_id.clone(), t.client_secret.clone());
    let junit = std::env::temp_dir().join(format!(
        "tollgate-pytest-{}.xml",
        uuid::Uuid::new_v4().simple()
    ));
    let report_path = junit.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(py)
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .arg(format!("--junitxml={}", report_path.display()))
            .arg(&dir)
            .env("TOLLGATE_URL", base)
            .env("TOLLGATE_CLIENT_ID", id)
            .env("TOLLGATE_CLIENT_SECRET", secret)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
    })
    .await?
    .context("running pytest")?;
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "authlib tests failed:\n{report}");
    // pytest's own count, from its JUnit report: tests ran, none failed or errored.
    let xml = std::fs::read_to_string(&junit).context("pytest's JUnit report")?;
    let _ = std::fs::remove_file(&junit);
    let count = |attr: &str| -> Result<u64> {
        let at = xml
            .find(&format!(" {attr}=\""))
            .with_context(|| format!("no {attr} in {xml}"))?;
        let rest = &xml[at + attr.len() + 3..];
        Ok(rest[..rest.find('"').context("quote")?].parse()?)
    };
    assert!(count("tests")? >= 1, "no authlib test ran:\n{report}");
    assert_eq!(
        (count("failures")?, count("errors")?, count("skipped")?),
        (0, 0, 0),
        "authlib tests failed:\n{report}"
    );
    srv.stop().await
}
