//! Telegram's published flood limits for `sendMessage`: about 30 messages per second overall and
//! one message per second per chat. A send over either limit is answered with 429 and
//! `parameters.retry_after` (whole seconds, at least 1), as the real Bot API does.
//!
//! Two modes: the default counts a send when the emulator handles it, in a window open at
//! its old end (a send exactly one second later is fine). The strict mode
//! ([`crate::Emulator::strict_limits`]) is the harshest reading of the published limits: a
//! send counts when its request arrived, and both ends of every one-second window count, so
//! 31 sends within 1.000 s (or two to one chat 1.000 s apart) are refused.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Messages accepted per second, over all chats.
pub const GLOBAL_PER_SECOND: usize = 30;
/// Smallest gap between two messages to one chat.
pub const PER_CHAT_GAP: Duration = Duration::from_secs(1);
const WINDOW: Duration = Duration::from_secs(1);

/// Sliding-window accounting of accepted sends.
#[derive(Debug, Default)]
pub(crate) struct FloodControl {
    recent: VecDeque<Instant>,
    last_per_chat: HashMap<i64, Instant>,
    /// Sends still to be refused by a forced storm.
    storm: u32,
    /// Closed windows (see the module documentation).
    strict: bool,
}

impl FloodControl {
    /// Switches to the strict mode.
    pub(crate) fn set_strict(&mut self, strict: bool) {
        self.strict = strict;
    }

    /// Makes the next `n` sends fail with 429, whatever the pace.
    pub(crate) fn force_storm(&mut self, n: u32) {
        self.storm = n;
    }

    /// Admits a send to `chat` at `now`, or says how many seconds to wait.
    pub(crate) fn admit(&mut self, chat: i64, now: Instant) -> Result<(), u64> {
        if self.storm > 0 {
            self.storm -= 1;
            return Err(1);
        }
        let strict = self.strict;
        // Strict: a send exactly one second back is still in the window.
        let outside = |since: Duration| {
            if strict {
                since > WINDOW
            } else {
                since >= WINDOW
            }
        };
        while self
            .recent
            .front()
            .is_some_and(|t| outside(now.saturating_duration_since(*t)))
        {
            self.recent.pop_front();
        }
        if let Some(last) = self.last_per_chat.get(&chat) {
            let since = now.saturating_duration_since(*last);
            if since < PER_CHAT_GAP || (strict && since == PER_CHAT_GAP) {
                return Err(seconds_ceil(PER_CHAT_GAP.saturating_sub(since)));
            }
        }
        if self.recent.len() >= GLOBAL_PER_SECOND {
            let oldest = self.recent.front().copied().unwrap_or(now);
            return Err(seconds_ceil(
                WINDOW.saturating_sub(now.saturating_duration_since(oldest)),
            ));
        }
        // Requests are handled concurrently: keep the window in arrival order.
        let at = self.recent.partition_point(|t| *t <= now);
        self.recent.insert(at, now);
        self.last_per_chat.insert(chat, now);
        Ok(())
    }
}

fn seconds_ceil(d: Duration) -> u64 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_message_per_second_per_chat() {
        let mut fc = FloodControl::default();
        let t0 = Instant::now();
        assert_eq!(fc.admit(1, t0), Ok(()));
        assert_eq!(fc.admit(1, t0 + Duration::from_millis(500)), Err(1));
        assert_eq!(fc.admit(2, t0 + Duration::from_millis(500)), Ok(()));
        assert_eq!(fc.admit(1, t0 + Duration::from_millis(1000)), Ok(()));
    }

    #[test]
    fn thirty_messages_per_second_overall() {
        let mut fc = FloodControl::default();
        let t0 = Instant::now();
        for chat in 0..30 {
            assert_eq!(
                fc.admit(chat, t0 + Duration::from_millis(chat as u64)),
                Ok(())
            );
        }
        assert_eq!(fc.admit(99, t0 + Duration::from_millis(100)), Err(1));
        // The first send leaves the window one second after it was made.
        assert_eq!(fc.admit(99, t0 + Duration::from_millis(1000)), Ok(()));
    }

    #[test]
    fn a_paced_stream_of_29_per_second_is_never_refused() {
        let mut fc = FloodControl::default();
        let t0 = Instant::now();
        for i in 0..300u64 {
            let at = t0 + Duration::from_micros(i * 1_000_000 / 29);
            assert_eq!(fc.admit(i as i64, at), Ok(()), "send {i}");
        }
    }

    #[test]
    fn the_strict_mode_counts_both_ends_of_every_second() {
        // Arrange
        let mut fc = FloodControl::default();
        fc.set_strict(true);
        let t0 = Instant::now();
        for chat in 0..30 {
            assert_eq!(
                fc.admit(chat, t0 + Duration::from_millis(chat as u64)),
                Ok(())
            );
        }

        // Act
        let at_the_edge = fc.admit(99, t0 + Duration::from_millis(1000));
        let just_after = fc.admit(99, t0 + Duration::from_millis(1001));
        let same_chat_at_the_edge = fc.admit(1, t0 + Duration::from_millis(1001));
        let same_chat_after = fc.admit(1, t0 + Duration::from_millis(1002));

        // Assert
        assert_eq!(
            at_the_edge,
            Err(1),
            "the send at 0 ms and this one are 1.000 s apart"
        );
        assert_eq!(just_after, Ok(()));
        assert_eq!(same_chat_at_the_edge, Err(1));
        assert_eq!(same_chat_after, Ok(()));
    }

    #[test]
    fn a_forced_storm_refuses_the_next_sends_only() {
        let mut fc = FloodControl::default();
        let t0 = Instant::now();
        fc.force_storm(2);
        assert_eq!(fc.admit(1, t0), Err(1));
        assert_eq!(fc.admit(2, t0), Err(1));
        assert_eq!(fc.admit(3, t0), Ok(()));
    }
}
