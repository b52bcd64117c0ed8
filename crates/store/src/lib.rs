//! Tollgate persistence. Every query on tenant-owned data takes a [`TenantId`] and filters by
//! it, so a caller cannot reach another tenant's rows by guessing ids. PostgreSQL in
//! production, SQLite as the embedded default; the same code serves both.

pub mod admins;
pub mod api_keys;
pub mod audit;
pub mod audit_read;
pub mod audit_retention;
pub mod audit_seal;
pub mod audit_verify;
pub mod billing;
pub mod clients;
pub mod entity;
pub mod flight;
pub mod idempotency;
pub mod invoices;
pub mod oidc;
pub mod outbox;
pub mod plans;
pub mod prices;
pub mod redis_conn;
pub mod revocations;
pub mod sessions;
pub mod signing_keys;
pub mod stripe;
pub mod tenants;
pub mod usage;
pub mod webhook_events;
pub mod webhooks;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, SqlErr};
use std::time::Duration;
use tollgate_core::Code;
use tollgate_core::DomainError;

pub use sea_orm::DatabaseConnection as Db;

/// Handle to the database. Cheap to clone (a pool inside).
#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// Seals audit rows and heads; appends and verification need it.
    audit_key: Option<audit::AuditKey>,
    /// Serialise audit appends of this process per chain, so they never race each other for
    /// a chain's next sequence number; races with other processes are retried.
    audit_locks: audit::AuditLocks,
    /// Held while this process decides who may use an email domain.
    domain_claims: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Store {
    /// Connects to `url` (`postgres://…` or `sqlite://…?mode=rwc`).
    pub async fn connect(url: &str) -> Result<Self, DomainError> {
        let mut opts = ConnectOptions::new(url.to_owned());
        let sqlite = url.starts_with("sqlite:");
        opts.max_connections(if sqlite { 4 } else { 16 })
            .min_connections(1)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(5))
            .sqlx_logging(false)
            // SQLite's pragmas other than the journal mode hold per connection, so they are
            // set on every connection the pool opens: WAL lets readers proceed during a write;
            // a busy timeout queues writers instead of failing them with "database is
            // locked"; `synchronous = FULL` syncs the log at every commit, so a usage event
            // the client was told about survives a power cut, not only a crash (one
            // fdatasync per group commit).
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(10))
                    .synchronous(SqliteSynchronous::Full)
            });
        let db = Database::connect(opts).await.map_err(|e| {
            DomainError::Unavailable(format!("cannot connect to the database: {e}"))
        })?;
        Ok(Self {
            db,
            audit_key: None,
            audit_locks: std::sync::Arc::new(std::array::from_fn(|_| tokio::sync::Mutex::new(()))),
            domain_claims: Default::default(),
        })
    }

    /// This store, sealing the audit log with `key` (derived from the master key).
    pub fn with_audit_key(mut self, key: audit::AuditKey) -> Self {
        self.audit_key = Some(key);
        self
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), DomainError> {
        Migrator::up(&self.db, None).await.map_err(map_db_err)
    }

    /// Round-trips a trivial query; used by `/readyz`.
    pub async fn ping(&self) -> Result<(), DomainError> {
        self.db.ping().await.map_err(map_db_err)
    }

    /// Whether this is the embedded SQLite database (one writer at a time).
    pub fn is_sqlite(&self) -> bool {
        self.db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite
    }

    /// The underlying connection, for repositories in this crate.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.db
    }
}

/// Maps a database error to the domain: uniqueness → 409, missing → 404, connectivity →
/// 503, anything else → internal (logged, never shown).
pub fn map_db_err(err: DbErr) -> DomainError {
    if let Some(SqlErr::UniqueConstraintViolation(_)) = err.sql_err() {
        return DomainError::conflict(
            Code::AlreadyExists,
            "a record with these values already exists",
        );
    }
    match err {
        DbErr::RecordNotFound(_) => DomainError::NotFound("record"),
        DbErr::Conn(e) => DomainError::Unavailable(e.to_string()),
        DbErr::ConnectionAcquire(e) => DomainError::Unavailable(e.to_string()),
        other => DomainError::internal(other),
    }
}

/// Maps a uniqueness violation to a specific conflict code, other errors as [`map_db_err`].
pub(crate) fn conflict_as(code: Code, detail: &'static str) -> impl Fn(DbErr) -> DomainError {
    move |err| match map_db_err(err) {
        DomainError::Conflict { .. } => DomainError::conflict(code, detail),
        other => other,
    }
}

/// Lower-case hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256Hex::of(data).as_str().to_owned()
}

/// A lower-case hex SHA-256 digest on the stack: what [`sha256_hex`] returns, without the
/// allocation (an API key's digest is computed on every request that presents one).
#[derive(Clone, Copy)]
pub struct Sha256Hex([u8; 64]);

impl Sha256Hex {
    /// The digest of `data`.
    pub fn of(data: &[u8]) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, data);
        let mut out = [0u8; 64];
        // 32 bytes into 64 characters: the lengths always match.
        let _ = hex::encode_to_slice(digest.as_ref(), &mut out);
        Self(out)
    }

    /// The 64 hex digits.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Debug for Sha256Hex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod sha256_tests {
    #[test]
    fn sha256_hex_is_the_lower_case_digest() {
        // FIPS 180-2's example.
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            super::sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            super::Sha256Hex::of(b"abc").as_str(),
            super::sha256_hex(b"abc")
        );
    }
}
