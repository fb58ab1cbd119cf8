//! The pending-outbox phase of `sprechstunde-bench` (`--pending-web N`): does intake slow down
//! as undelivered messages pile up? Web citizens who close the tab before their
//! acknowledgement arrives leave it pending until they come back, often never. The phase times
//! intake on a fresh server, then seeds `N` such citizens (each agrees and asks through
//! `Office::submit`, the path every adapter takes, with no browser connected, so the
//! dispatcher's attempt is deferred), and times intake again on the same server.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use sprechstunde::Settings;
use sprechstunde_core::{ChannelIdentity, ChannelKind, CitizenMessage, DeliveryState, Input};
use sprechstunde_runtime::Office;

use super::Mode;

/// What the pending-outbox phase is asked to do.
pub(crate) struct PendingPhase {
    /// Web citizens who leave before their acknowledgement arrives.
    pub(crate) pending: u64,
    /// Citizens writing during each intake measurement.
    pub(crate) citizens: usize,
    /// Citizen messages per intake measurement.
    pub(crate) messages: u64,
}

/// Runs the phase in its own server and data directory and prints its figures.
pub(crate) async fn run(phase: &PendingPhase) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut settings = Settings::load(None)?;
    settings.server.listen = "127.0.0.1:0".parse()?;
    settings.server.data_dir = dir.path().join("data");
    settings.limits.citizen_messages = 0;
    settings.limits.lift_web_chat_rate_limits();
    let app = sprechstunde::Application::build(&settings).await?;
    let addr = app.local_addr()?;
    let office = app.office().clone();
    let stop = app.shutdown_token();
    let server = tokio::spawn(app.run());
    let url = format!("ws://{addr}/ws");

    let before = super::run(&url, phase.citizens, phase.messages, Mode::KeptOpen).await?;
    before.print("pending outbox: intake with nothing undelivered");

    let started = Instant::now();
    seed(&office, phase.pending).await?;
    let seeded = started.elapsed();
    let waiting = settle(&office, phase.pending).await?;
    println!(
        "pending outbox: {} web citizens left before their acknowledgement ({waiting} messages \
         undelivered), seeded in {:.1} s, all attempts deferred after {:.1} s",
        phase.pending,
        seeded.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );

    let after = super::run(&url, phase.citizens, phase.messages, Mode::KeptOpen).await?;
    after.print(&format!(
        "pending outbox: intake with {waiting} undelivered"
    ));
    println!(
        "pending outbox: intake rate with / without undelivered messages: {:.2} (goal >= 0.90)",
        after.rate / before.rate
    );

    drop(office);
    stop.cancel();
    server.await??;
    Ok(())
}

/// `total` web citizens agree and ask, 64 at a time, with no browser connected.
async fn seed(office: &Office, total: u64) -> anyhow::Result<()> {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let (office, next) = (office.clone(), Arc::clone(&next));
        tasks.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return anyhow::Ok(());
                }
                let identity = ChannelIdentity {
                    channel: ChannelKind::Web,
                    pseudonym: format!("gone-{n}"),
                    address: format!("gone-{n}"),
                };
                for text in [
                    "/einverstanden".to_owned(),
                    format!("Frage {n}: Wann wird die Straßenlaterne repariert?"),
                ] {
                    office
                        .submit(Input::Citizen(CitizenMessage {
                            identity: identity.clone(),
                            lang: None,
                            text,
                            intake_key: None,
                            inline_errors: false,
                            encrypted: None,
                        }))
                        .await??;
                }
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

/// Waits until the dispatcher has tried every seeded citizen (each one's first message is
/// deferred until they come back); returns the number of undelivered messages.
async fn settle(office: &Office, citizens: u64) -> anyhow::Result<usize> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let (deferred, pending) = office
            .read(|s, _, _| {
                let deferred = s
                    .pending_outbox()
                    .filter(|m| {
                        matches!(
                            m.state,
                            DeliveryState::Pending {
                                next_attempt_at: None,
                                ..
                            }
                        )
                    })
                    .count();
                (deferred, s.pending_outbox().count())
            })
            .await;
        if deferred as u64 >= citizens {
            return Ok(pending);
        }
        if Instant::now() > deadline {
            bail!("only {deferred} of {citizens} deliveries were tried within 10 minutes");
        }
        // A bench, not a test: looking again five times a second costs nothing measured.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
