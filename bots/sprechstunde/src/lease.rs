//! Several instances on one PostgreSQL database, exactly one active: `serve` with
//! `[store] backend = "postgres"` starts as a standby, takes the office's lease when it is
//! free, and only then loads the office and runs everything (engine, outbox dispatcher,
//! session clock, Telegram polling, Matrix sync).
//!
//! - **Standby.** The listener is bound and the address printed at once; `/healthz` answers
//!   200, `/readyz` and everything else 503 with `Retry-After: 1` ([`crate::readiness`]).
//!   Every half second the instance tries to take the lease (free when never taken, expired or
//!   released). It answers as a standby until the office is loaded, too.
//! - **Active.** The lease is renewed every second (or a third of `store.lease_seconds` if
//!   that is shorter). Every write of the store checks the lease's epoch in its own
//!   transaction, so after a takeover nothing of this instance is written any more.
//! - **Losing the lease.** When a renewal finds the lease taken over, a write is refused as
//!   fenced, or no renewal succeeded for nearly the lease's length (the database unreachable,
//!   the process paused), the instance logs an error and exits with status 1 at once: it
//!   stops serving, and its supervisor (systemd, Kubernetes) starts it again as a standby.
//! - **Clean stop.** SIGTERM or Ctrl-C stop the server as usual, then release the lease so a
//!   standby takes over without waiting for it to expire.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sprechstunde_core::{Store, StoreError};
use sprechstunde_runtime::SystemClock;
use sprechstunde_store_postgres::PgStore;
use tokio::net::TcpListener;
use tokio::time::Instant;

use crate::Application;
use crate::settings::Settings;

/// How often a standby asks for the lease.
const STANDBY_POLL: Duration = Duration::from_millis(500);

/// The exit status of an instance that lost its lease.
pub const LOST_LEASE_EXIT: i32 = 1;

/// How often the holder renews a lease of length `ttl`.
pub fn renew_every(ttl: Duration) -> Duration {
    Duration::from_secs(1).min(ttl / 3)
}

/// A name for this instance in the lease row: host, process id and a random part (a
/// restarted process is a new holder).
pub fn holder_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned());
    let mut random = [0_u8; 4];
    let _ = getrandom::fill(&mut random);
    format!(
        "{host}/{}/{:08x}",
        std::process::id(),
        u32::from_be_bytes(random)
    )
}

/// `serve` on PostgreSQL: standby until the lease is taken, then the whole server until
/// `stop` resolves (see the module documentation).
///
/// # Errors
/// The address cannot be bound, the database cannot be opened at start, or the server
/// cannot be built.
pub async fn serve(
    settings: &Settings,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(settings.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.server.listen))?;
    crate::readiness::announce(listener.local_addr()?, settings);
    let url = settings.store.database_url()?;
    let store = Arc::new(
        PgStore::connect(&url)
            .await
            .context("cannot open the PostgreSQL store (store.url)")?,
    );
    let ttl = settings.store.lease();
    let holder = holder_name();
    let mut stop = Box::pin(stop);
    tracing::info!(%holder, "standby: waiting for the lease");
    let epoch = tokio::select! {
        epoch = take(&store, &holder, ttl) => epoch,
        () = crate::readiness::serve_standby(&listener) => {
            anyhow::bail!("the standby listener stopped")
        }
        () = &mut stop => return Ok(()),
    };
    tracing::info!(epoch, "active: this instance holds the lease");
    let keeper = tokio::spawn(keep(Arc::clone(&store), ttl));
    let shared: Arc<dyn Store> = Arc::clone(&store) as Arc<dyn Store>;
    // While the office loads, a second handle of the same socket goes on answering as a
    // standby (health checks, clients told to come back in a second).
    let listener = listener.into_std()?;
    let loading = TcpListener::from_std(listener.try_clone()?)?;
    let listener = TcpListener::from_std(listener)?;
    let app = tokio::select! {
        app = Application::build_on(settings, Arc::new(SystemClock), shared, None, listener) => app?,
        () = crate::readiness::serve_standby(&loading) => {
            anyhow::bail!("the standby listener stopped")
        }
    };
    drop(loading);
    let shutdown = app.shutdown_token();
    tokio::spawn(async move {
        stop.await;
        shutdown.cancel();
    });
    let result = app.run().await;
    keeper.abort();
    if let Err(error) = store.release_lease().await {
        tracing::warn!(%error, "could not release the lease; it expires by itself");
    }
    result
}

/// Asks for the lease until it is free; database failures are logged and retried.
async fn take(store: &PgStore, holder: &str, ttl: Duration) -> u64 {
    loop {
        match store.try_take_lease(holder, ttl).await {
            Ok(Some(epoch)) => return epoch,
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "cannot ask for the lease; trying again"),
        }
        tokio::time::sleep(STANDBY_POLL).await;
    }
}

/// Renews the lease until it is lost; then ends the process.
async fn keep(store: Arc<PgStore>, ttl: Duration) {
    let every = renew_every(ttl);
    // When the last successful renewal was sent: the lease lasts at least `ttl` from then.
    let mut renewed = Instant::now();
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = store.lease_lost() => lost("a write was refused: another instance holds the lease"),
        }
        // Checked before asking: a process that was paused stops at once.
        if renewed.elapsed() + every >= ttl {
            lost("the lease could not be renewed in time");
        }
        let sent = Instant::now();
        match tokio::time::timeout(every, store.renew_lease(ttl)).await {
            Ok(Ok(())) => renewed = sent,
            Ok(Err(StoreError::Fenced(_))) => lost("another instance has taken the lease over"),
            Ok(Err(error)) => tracing::warn!(%error, "renewing the lease failed; trying again"),
            Err(_) => tracing::warn!("renewing the lease took too long; trying again"),
        }
    }
}

/// Ends the process: it must not serve without the lease (its supervisor restarts it as a
/// standby).
fn lost(why: &str) -> ! {
    tracing::error!(
        reason = why,
        "lost the lease: stopping at once so that this instance cannot serve as a second active one"
    );
    std::process::exit(LOST_LEASE_EXIT);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lease_is_renewed_several_times_within_its_length() {
        assert_eq!(renew_every(Duration::from_secs(5)), Duration::from_secs(1));
        assert_eq!(
            renew_every(Duration::from_secs(2)),
            Duration::from_secs(2) / 3
        );
    }

    #[test]
    fn holder_names_differ_between_processes_and_starts() {
        assert_ne!(holder_name(), holder_name());
        assert!(holder_name().contains(&std::process::id().to_string()));
    }
}
