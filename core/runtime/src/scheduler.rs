//! The session clock: wakes when the next session starts or ends, or a reminder is due, and
//! lets the engine apply it.

use std::time::Duration;

use crate::office::Office;

/// Look at the clock at least this often (covers a system clock that jumps).
const MAX_SLEEP: Duration = Duration::from_secs(30);

pub(crate) async fn run(office: Office) {
    loop {
        let (deadline, now) = office
            .read(|state, engine, now| (engine.next_deadline(state), now))
            .await;
        let wait = deadline
            .map(|d| Duration::try_from(d.duration_since(now)).unwrap_or(Duration::ZERO))
            .unwrap_or(MAX_SLEEP)
            .min(MAX_SLEEP);
        tokio::select! {
            () = tokio::time::sleep(wait) => {
                if let Err(error) = office.tick().await {
                    tracing::error!(%error, "session clock could not apply a transition");
                }
            }
            () = office.inner.clock_wake.notified() => {}
        }
    }
}
