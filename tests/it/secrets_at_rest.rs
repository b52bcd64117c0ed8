//! Secrets at rest: signing keys are stored encrypted under the master key (a wrong master
//! key refuses to start, clearly), the embedded default generates a private (0600) master key,
//! and no credential is stored in a recoverable form.

use crate::harness::{start_server, Backend, ServerSpec};
use anyhow::Result;
use sea_orm::{ConnectionTrait, Statement};
use tollgate::config::EnvSettings;

async fn column_values(srv: &crate::harness::TestServer, sql: &str) -> Result<Vec<String>> {
    let conn = srv.store().conn();
    let rows = conn
        .query_all(Statement::from_string(
            conn.get_database_backend(),
            sql.to_owned(),
        ))
        .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get_by_index::<String>(0))
        .collect::<Result<_, _>>()?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_keys_are_sealed_and_need_the_right_master_key() -> Result<()> {
    let spec = ServerSpec::new(Backend::Postgres, false).await?;
    let srv = spec.start().await?;
    let t = srv.tenant("ocr:read").await?;

    // The stored private keys are ciphertext: not PKCS#8 (DER starts 0x30) in any encoding.
    for sealed in column_values(&srv, "SELECT private_key_enc FROM signing_keys").await? {
        assert!(!sealed.starts_with("MC4CAQAw"), "looks like base64 PKCS#8");
        assert!(
            spec.master_key.open("not-the-kid", &sealed).is_err(),
            "bound to its kid"
        );
    }
    // Secrets and keys are stored only as digests, passwords only as argon2id hashes.
    let digests = column_values(&srv, "SELECT secret_digest FROM oauth_clients").await?;
    assert!(digests
        .iter()
        .all(|d| d.len() == 64 && *d != t.client_secret));
    let keys = column_values(&srv, "SELECT digest FROM api_keys").await?;
    assert!(keys
        .iter()
        .all(|d| d.len() == 64 && !t.key.contains(d.as_str())));
    let hashes = column_values(&srv, "SELECT password_hash FROM admins").await?;
    assert!(hashes
        .iter()
        .all(|h| h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")));
    srv.stop().await?;

    // Another master key cannot open them: startup fails and says what to fix.
    let mut wrong = spec.clone();
    wrong.master_key =
        tollgate_auth::master::MasterKey::generate().map_err(|e| anyhow::anyhow!("{e}"))?;
    let err = wrong
        .start()
        .await
        .err()
        .expect("must not start with the wrong master key");
    assert!(
        format!("{err:#}").contains("TOLLGATE_MASTER_KEY"),
        "{err:#}"
    );
    // The right one still works.
    spec.start().await?.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_default_generates_a_private_master_key_and_keeps_it() -> Result<()> {
    let spec = ServerSpec::new(Backend::Sqlite, false).await?;
    let serve = spec.serve_args()?;
    let env = EnvSettings {
        master_key: None,
        ..spec.env()
    };
    let first = start_server(&spec.common(), &serve, &env).await?;
    let jwks1 = first.services.auth.tokens.keyring().snapshot().jwks.clone();
    first.shutdown().await?;
    let path = spec.data_dir.join("master.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path)?.permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(spec.data_dir.join("tollgate.db").exists());
    // A restart reuses the key file and the signing keys it protects.
    let second = start_server(&spec.common(), &serve, &env).await?;
    assert_eq!(second.services.auth.tokens.keyring().snapshot().jwks, jwks1);
    second.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_with_a_bad_checksum_is_refused_before_any_lookup() -> Result<()> {
    let srv = crate::harness::TestServer::start(Backend::Sqlite).await?;
    let t = srv.tenant("ocr:read").await?;
    let mut forged = t.key.clone().into_bytes();
    forged[12] = if forged[12] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged)?;
    let unknown = tollgate_auth::secret::new_api_key(tollgate_core::api_key::KeyEnv::Live);
    // With the database gone, a well-formed key fails as "unavailable" (it needed a lookup);
    // a key with a bad checksum still fails as malformed (it never asked).
    srv.store().conn().clone().close().await?;
    let authn = &srv.auth().authenticator;
    assert!(matches!(
        authn.api_key(&forged, None).await,
        Err(tollgate_auth::AuthError::KeyFormat(_))
    ));
    assert!(matches!(
        authn.api_key(&unknown, None).await,
        Err(tollgate_auth::AuthError::Unavailable(_))
    ));
    srv.stop().await
}
