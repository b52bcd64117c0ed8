//! `tollgate audit`: verify a chain (naming its first bad event), export one to stdout, and
//! apply the plans' audit retention now.

use super::output::{err, print};
use crate::runtime::Services;
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::{Subcommand, ValueEnum};
use futures::TryStreamExt;
use serde_json::json;
use std::io::{IsTerminal, Write};
use tollgate_core::{RequestCtx, TenantId};
use tollgate_store::audit::ChainCheck;
use tollgate_store::audit_read::{AuditQuery, ExportFormat, Reader};

/// Audit commands.
#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Verify the chain of a tenant (or the platform chain): every row's MAC and link, from
    /// the retention checkpoint if there is one, and that the newest row is the chain's head;
    /// names the first bad event and exits non-zero.
    Verify {
        /// Tenant id; the platform chain when omitted.
        #[arg(long)]
        tenant: Option<TenantId>,
    },
    /// Write a tenant's audit events to stdout, oldest first (recorded as `audit.exported`).
    Export {
        /// Tenant id.
        #[arg(long)]
        tenant: TenantId,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Ndjson)]
        format: Format,
        /// Events at or after this instant (RFC 3339).
        #[arg(long)]
        from: Option<DateTime<Utc>>,
        /// Events before this instant (RFC 3339).
        #[arg(long)]
        to: Option<DateTime<Utc>>,
    },
    /// Drop the audit events older than each tenant's plan keeps them (the server does this
    /// every hour), leaving signed checkpoints.
    Purge,
}

/// An export's format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Ndjson,
    /// RFC 4180 with a header row.
    Csv,
}

pub(crate) async fn run(s: &Services, cmd: AuditCmd, j: bool) -> Result<()> {
    match cmd {
        AuditCmd::Verify { tenant } => verify(s, tenant, j).await,
        AuditCmd::Export {
            tenant,
            format,
            from,
            to,
        } => {
            export(
                s,
                tenant,
                format,
                AuditQuery {
                    from,
                    to,
                    ..AuditQuery::default()
                },
            )
            .await
        }
        AuditCmd::Purge => {
            let done = s
                .store
                .purge_expired_audit(s.auth.clock.now())
                .await
                .map_err(err)?;
            let rows: Vec<_> = done
                .iter()
                .map(|p| json!({ "tenant": p.tenant.to_string(), "dropped": p.dropped, "through_seq": p.checkpoint.seq }))
                .collect();
            let text = done
                .iter()
                .map(|p| {
                    format!(
                        "{}: dropped {} (through seq {})",
                        p.tenant, p.dropped, p.checkpoint.seq
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            print(
                j,
                json!({ "purged": rows }),
                if text.is_empty() {
                    "nothing to drop".into()
                } else {
                    text
                },
            );
            Ok(())
        }
    }
}

async fn verify(s: &Services, tenant: Option<TenantId>, j: bool) -> Result<()> {
    match s.store.verify_audit_chain(tenant).await.map_err(err)? {
        ChainCheck::Intact { events } => {
            print(
                j,
                json!({ "intact": true, "events": events }),
                format!("intact: {events} events"),
            );
            Ok(())
        }
        ChainCheck::BrokenAt { seq, fault } => {
            print(
                j,
                json!({ "intact": false, "broken_at": seq, "fault": fault.as_str() }),
                format!("BROKEN at event {seq}: {}", fault.as_str()),
            );
            anyhow::bail!("audit chain broken at event {seq} ({})", fault.as_str())
        }
    }
}

async fn export(s: &Services, tenant: TenantId, format: Format, query: AuditQuery) -> Result<()> {
    let format = match format {
        Format::Ndjson => ExportFormat::Ndjson,
        Format::Csv => ExportFormat::Csv,
    };
    if let (Some(f), Some(t)) = (query.from, query.to) {
        anyhow::ensure!(f < t, "--from must be before --to");
    }
    s.store.tenant(tenant).await.map_err(err)?;
    let ctx = RequestCtx::cli();
    let reader = Reader {
        actor: "operator",
        ctx: &ctx,
        at: s.auth.clock.now(),
    };
    let through = s
        .store
        .start_audit_export(tenant, reader, &query, format)
        .await
        .map_err(err)?;
    let progress = std::io::stderr().is_terminal();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    out.write_all(format.header().as_bytes())?;
    let mut pages = std::pin::pin!(s.store.audit_export(tenant, query, through));
    let (mut rows, mut line) = (0u64, String::new());
    while let Some(page) = pages.try_next().await.map_err(err)? {
        for row in &page {
            line.clear();
            format.write(row, &mut line);
            out.write_all(line.as_bytes())
                .context("writing the export")?;
        }
        rows += page.len() as u64;
        if progress {
            eprint!("\rexported {rows} events");
        }
    }
    out.flush().context("writing the export")?;
    if progress {
        eprintln!("\rexported {rows} events, through seq {through}");
    }
    Ok(())
}
