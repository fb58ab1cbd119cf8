//! Pacing of outgoing messages under Telegram's flood limits: at most one message per second
//! to a chat and at most [`MESSAGES_PER_SECOND`] overall (Telegram allows about 30; one less
//! leaves room for jitter on the way). A 429 pauses every send for its `retry_after`.
//!
//! Waiting happens here, in memory, for the few deliveries the dispatcher hands over at once
//! (see [`crate::channel::MAX_IN_FLIGHT`]); everything else waits in the durable outbox.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Messages per second over all chats.
pub(crate) const MESSAGES_PER_SECOND: u32 = 29;
/// Smallest gap between two messages to one chat (1 s plus a margin for network jitter).
pub(crate) const PER_CHAT_GAP: Duration = Duration::from_millis(1100);
const WINDOW: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct State {
    /// When the next send may start.
    next_slot: Instant,
    /// Start times of the sends in the last second.
    recent: VecDeque<Instant>,
    /// Last send per chat.
    last_per_chat: HashMap<i64, Instant>,
    /// No send before this (after a 429).
    paused_until: Option<Instant>,
}

/// The pacer shared by all sends of one bot.
#[derive(Debug)]
pub(crate) struct Pacer {
    state: Mutex<State>,
    /// Sends take their turn in arrival order (tokio's mutex is fair).
    turn: tokio::sync::Mutex<()>,
    gap: Duration,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer::new(MESSAGES_PER_SECOND)
    }
}

impl Pacer {
    pub(crate) fn new(per_second: u32) -> Pacer {
        Pacer {
            state: Mutex::new(State {
                next_slot: Instant::now(),
                recent: VecDeque::new(),
                last_per_chat: HashMap::new(),
                paused_until: None,
            }),
            turn: tokio::sync::Mutex::new(()),
            gap: WINDOW / per_second.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until a message to `chat` may be sent now, and books the send.
    pub(crate) async fn acquire(&self, chat: i64) {
        let chat_ready = self
            .lock()
            .last_per_chat
            .get(&chat)
            .map(|t| *t + PER_CHAT_GAP);
        if let Some(at) = chat_ready {
            tokio::time::sleep_until(at).await;
        }
        let _turn = self.turn.lock().await;
        loop {
            let wait = self.try_book(chat, Instant::now());
            match wait {
                None => return,
                Some(at) => tokio::time::sleep_until(at).await,
            }
        }
    }

    /// Books a send at `now`, or says when to try again.
    fn try_book(&self, chat: i64, now: Instant) -> Option<Instant> {
        let mut s = self.lock();
        if let Some(until) = s.paused_until {
            if now < until {
                return Some(until);
            }
            s.paused_until = None;
            // Start afresh after a pause: no burst of missed slots.
            s.next_slot = now;
        }
        if now < s.next_slot {
            return Some(s.next_slot);
        }
        while s.recent.front().is_some_and(|t| now - *t >= WINDOW) {
            s.recent.pop_front();
        }
        let cap = usize::try_from(WINDOW.as_nanos() / self.gap.as_nanos().max(1)).unwrap_or(1);
        if s.recent.len() >= cap
            && let Some(oldest) = s.recent.front()
        {
            return Some(*oldest + WINDOW);
        }
        // Slots follow each other at the pace, not at wake-up times, so a late timer does
        // not slow the rate down (the window above keeps a late burst in bounds).
        let base = if now - s.next_slot < self.gap {
            s.next_slot
        } else {
            now
        };
        s.next_slot = base + self.gap;
        s.recent.push_back(now);
        s.last_per_chat.insert(chat, now);
        if s.last_per_chat.len() > 10_000 {
            s.last_per_chat.retain(|_, t| now - *t < PER_CHAT_GAP);
        }
        None
    }

    /// Telegram asked to wait: nobody sends before `retry_after` has passed.
    pub(crate) fn pause(&self, retry_after: Duration) {
        let until = Instant::now() + retry_after;
        let mut s = self.lock();
        s.paused_until = Some(s.paused_until.map_or(until, |p| p.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn sends_are_paced_overall_and_per_chat() {
        let pacer = Pacer::new(10);
        let t0 = Instant::now();

        for chat in 0..20 {
            pacer.acquire(chat).await;
        }
        let overall = t0.elapsed();
        pacer.acquire(0).await;
        pacer.acquire(0).await;
        let per_chat = t0.elapsed();

        assert!(overall >= Duration::from_millis(1900), "{overall:?}");
        assert!(overall < Duration::from_millis(2100), "{overall:?}");
        assert!(per_chat >= overall + PER_CHAT_GAP, "{per_chat:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_send() {
        let pacer = Pacer::new(10);
        let t0 = Instant::now();

        pacer.pause(Duration::from_secs(3));
        pacer.acquire(1).await;

        assert!(t0.elapsed() >= Duration::from_secs(3));
    }
}
