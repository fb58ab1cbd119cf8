//! The outbox dispatcher: hands durable, due messages to their channels, one at a time per
//! citizen (so each citizen reads them in order) and many citizens at once.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use jiff::Timestamp;
use sprechstunde_core::{
    Channel, ChannelKind, CitizenId, Delivery, DeliveryError, DeliveryReport, OfficeState,
};
use tokio::task::JoinSet;

use crate::office::Office;

/// Most deliveries in flight at once.
const MAX_IN_FLIGHT: usize = 1024;
/// A channel that does not answer within this time counts as a transient failure.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);
/// Re-check for due messages at least this often.
const IDLE_RECHECK: Duration = Duration::from_secs(60);

struct Due {
    citizen: CitizenId,
    kind: ChannelKind,
    channel: Option<Arc<dyn Channel>>,
    delivery: Delivery,
}

pub(crate) async fn run(office: Office, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut stopping = false;
    let mut in_flight: HashSet<CitizenId> = HashSet::new();
    let mut per_channel: HashMap<ChannelKind, usize> = HashMap::new();
    let mut tasks: JoinSet<(CitizenId, ChannelKind, DeliveryReport)> = JoinSet::new();
    // Finished deliveries not recorded yet: recorded at the start of the next round, under
    // the same taking of the state lock that picks what is due next.
    let mut reports: Vec<DeliveryReport> = Vec::new();
    loop {
        if stopping && tasks.is_empty() && reports.is_empty() {
            // What was recorded reaches the store before the office shuts down.
            office.written().await;
            return;
        }
        let durable = office.inner.durable_outbox.load(Ordering::SeqCst);
        // While stopping, nothing new starts; deliveries in flight finish and are recorded.
        let room = if stopping {
            0
        } else {
            MAX_IN_FLIGHT.saturating_sub(in_flight.len())
        };
        let recorded = std::mem::take(&mut reports);
        let (due, next_at, now) = office
            .record_and_read(recorded, |state, _, now| {
                let (due, next) =
                    select_due(&office, state, now, durable, &in_flight, &per_channel, room);
                (due, next, now)
            })
            .await;
        for item in due {
            in_flight.insert(item.citizen);
            *per_channel.entry(item.kind).or_default() += 1;
            let citizen = item.citizen;
            let kind = item.kind;
            tasks.spawn(async move {
                let result = match item.channel {
                    Some(channel) => {
                        match tokio::time::timeout(
                            DELIVERY_TIMEOUT,
                            channel.deliver(&item.delivery),
                        )
                        .await
                        {
                            Ok(result) => result,
                            Err(_) => Err(DeliveryError::Transient("channel timed out".into())),
                        }
                    }
                    None => Err(DeliveryError::Transient("channel is not running".into())),
                };
                (
                    citizen,
                    kind,
                    DeliveryReport {
                        id: item.delivery.id,
                        result,
                    },
                )
            });
        }
        let wait = next_at
            .map(|t| {
                let d = t.duration_since(now);
                Duration::try_from(d).unwrap_or(Duration::ZERO)
            })
            .unwrap_or(IDLE_RECHECK)
            .min(IDLE_RECHECK);
        tokio::select! {
            _ = stop.changed(), if !stopping => stopping = true,
            () = office.inner.dispatch_wake.notified(), if !stopping => {}
            () = tokio::time::sleep(wait), if !stopping => {}
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                let mut finished = vec![done];
                while let Some(more) = tasks.try_join_next() {
                    finished.push(more);
                }
                for result in finished {
                    match result {
                        Ok((citizen, kind, report)) => {
                            in_flight.remove(&citizen);
                            if let Some(n) = per_channel.get_mut(&kind) {
                                *n = n.saturating_sub(1);
                            }
                            log_report(&report);
                            office
                                .telemetry()
                                .delivery(kind, crate::DeliveryOutcome::of(&report.result));
                            reports.push(report);
                        }
                        Err(join_error) => {
                            // A channel adapter panicked. Its citizen stays marked in flight
                            // until restart, so their messages keep their order.
                            tracing::error!(%join_error, "delivery task failed");
                        }
                    }
                }
            }
        }
    }
}

fn log_report(report: &DeliveryReport) {
    match &report.result {
        Ok(()) => tracing::debug!(outbox = report.id.0, "delivered"),
        Err(DeliveryError::Deferred) => tracing::debug!(outbox = report.id.0, "recipient offline"),
        Err(error) => tracing::warn!(outbox = report.id.0, %error, "delivery failed"),
    }
}

/// Picks the messages to hand over now: durable, due, first pending of their citizen, citizen
/// not busy, channel not saturated. Returns them and the earliest time a not-yet-due first
/// message becomes due.
///
/// Reads the state's index of deliverable messages ([`OfficeState::deliverable`]), so the
/// walk under the state lock costs what it hands over (plus the few citizens in flight and
/// messages not yet on disk), not the number of messages waiting: messages to web citizens
/// who left are not in the index until they come back.
fn select_due(
    office: &Office,
    state: &OfficeState,
    now: Timestamp,
    durable: u64,
    in_flight: &HashSet<CitizenId>,
    per_channel: &HashMap<ChannelKind, usize>,
    room: usize,
) -> (Vec<Due>, Option<Timestamp>) {
    let channels = office
        .inner
        .channels
        .read()
        .unwrap_or_else(|e| e.into_inner());
    let mut due = Vec::new();
    for kind in ChannelKind::ALL {
        let channel = channels.get(&kind).cloned();
        let limit = channel.as_ref().map_or(usize::MAX, |c| c.max_in_flight());
        let busy = per_channel.get(&kind).copied().unwrap_or(0);
        // A saturated channel takes nothing; a completed delivery wakes the dispatcher again.
        let mut slots = limit.saturating_sub(busy);
        for m in state.deliverable(kind, now) {
            if due.len() >= room || slots == 0 {
                break;
            }
            // Not on disk yet (its commit is still being flushed), or the citizen's previous
            // message is still on its way: later.
            if m.id.0 > durable || in_flight.contains(&m.citizen) {
                continue;
            }
            slots -= 1;
            due.push(Due {
                citizen: m.citizen,
                kind,
                channel: channel.clone(),
                delivery: Delivery {
                    id: m.id,
                    address: m.address.clone(),
                    text: m.text.clone(),
                    question: m.question,
                    choices: m.choices.clone(),
                },
            });
        }
    }
    (due, state.next_delivery_after(now))
}
