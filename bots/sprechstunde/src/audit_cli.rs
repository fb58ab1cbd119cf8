//! `sprechstunde audit …`: verify, list and purge the audit trail; and the records of the
//! administration commands themselves (`staff add`, `token revoke`, …) in the trail.

use std::sync::Arc;

use anyhow::bail;
use clap::Subcommand;
use jiff::SignedDuration;
use sprechstunde_core::{AuditActor, AuditRecord, Store};
use sprechstunde_runtime::{AuditFilter, AuditTrail, SystemClock};

use crate::settings::Settings;

/// `audit …`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain and report the first broken link (exit status 1 if broken).
    Verify,
    /// Show entries (newest last), optionally filtered.
    List {
        /// Only this actor's login.
        #[arg(long)]
        login: Option<String>,
        /// Only objects containing this, e.g. a reference A-1042.
        #[arg(long)]
        object: Option<String>,
        /// Only actions containing this, e.g. questions or staff.add.
        #[arg(long)]
        action: Option<String>,
        /// At most this many of the newest matches.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Remove entries older than audit.retention_days now (the server does this daily).
    Purge,
}

/// The retention period of the trail.
pub fn retention(settings: &Settings) -> SignedDuration {
    SignedDuration::from_hours(i64::from(settings.audit.retention_days) * 24)
}

/// The operator at the command line as an audit actor: `cli:<user>`.
pub fn cli_actor() -> AuditActor {
    let user = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".into());
    AuditActor {
        staff: None,
        login: format!("cli:{user}"),
        via: "cli".into(),
    }
}

/// Records an administration command done at the command line.
///
/// # Errors
/// The store failed.
pub async fn record_cli(trail: &AuditTrail, action: &str, object: String) -> anyhow::Result<()> {
    trail
        .record(AuditRecord {
            actor: cli_actor(),
            action: action.to_owned(),
            object,
            outcome: "ok".into(),
        })
        .await?;
    Ok(())
}

/// A trail over `store` with the system clock (administration commands).
pub fn trail(store: &Arc<dyn Store>) -> AuditTrail {
    AuditTrail::new(store.clone(), Arc::new(SystemClock))
}

/// Runs `audit …`.
///
/// # Errors
/// The store failed, or the chain is broken (for `verify`).
pub async fn run(
    command: AuditCommand,
    settings: &Settings,
    store: &Arc<dyn Store>,
) -> anyhow::Result<()> {
    let trail = trail(store);
    match command {
        AuditCommand::Verify => {
            let v = trail.verify().await?;
            let from = v
                .anchor
                .as_ref()
                .map_or_else(String::new, |a| format!(" (after purged entry {})", a.seq));
            match &v.broken {
                None => {
                    println!("Audit trail intact: {} entries verified{from}.", v.checked);
                    // Kept elsewhere, this hash also reveals a rewrite of the whole chain.
                    if let Some(last) = store.last_audit_entry().await? {
                        println!("Newest entry {}: hash {}", last.seq, last.hash);
                    }
                }
                Some(broken) => bail!(
                    "audit trail BROKEN: {broken} ({} entries verified before it{from})",
                    v.checked
                ),
            }
        }
        AuditCommand::List {
            login,
            object,
            action,
            limit,
        } => {
            let filter = AuditFilter {
                login,
                object,
                action,
                ..AuditFilter::default()
            };
            for e in trail.entries(&filter, limit.max(1)).await? {
                println!(
                    "{:>6}  {}  {:<20} {:<10} {:<45} {:<24} {}",
                    e.seq,
                    e.at,
                    e.record.actor.login,
                    e.record.actor.via,
                    e.record.action,
                    e.record.object,
                    e.record.outcome
                );
            }
        }
        AuditCommand::Purge => {
            let purged = trail.purge(retention(settings)).await?;
            println!(
                "{} audit entries older than {} days removed.",
                purged.removed, settings.audit.retention_days
            );
        }
    }
    Ok(())
}
