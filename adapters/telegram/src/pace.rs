//! Pacing of outgoing messages under Telegram's flood limits: at most one message per second
//! to a chat and at most [`MESSAGES_PER_SECOND`] in any one second overall (Telegram allows
//! about 30). A 429 pauses every send for its `retry_after`.
//!
//! The limits hold **at the receiver**, whatever the messages meet on their way. Telegram
//! counts a message when its request arrives, and that moment lies between the start of the
//! request and its answer. So a send may start only when
//!
//! - the previous send to the same chat was *answered* more than a second ago, and
//! - every send [`MESSAGES_PER_SECOND`] or more places back was *answered* more than a
//!   second ago;
//!
//! then no two arrivals [`MESSAGES_PER_SECOND`] places apart (or to one chat) can fall into
//! one second, however late each request arrived. On a fast link that costs one round trip
//! per [`MESSAGES_PER_SECOND`] messages (29 in 1.005 s plus a round trip: above 95 % of 30/s); a
//! slow or jittery link slows the pace instead of drawing 429s. Between those bounds sends are
//! spread evenly, so the pacer does not burst.
//!
//! Waiting happens here, in memory, for the few deliveries the dispatcher hands over at once
//! (see [`crate::channel::MAX_IN_FLIGHT`]); everything else waits in the durable outbox.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// Messages in any one second over all chats.
pub(crate) const MESSAGES_PER_SECOND: u32 = 29;
/// A second plus a margin for clocks that count a request's arrival a little differently.
const WINDOW: Duration = Duration::from_millis(1005);
/// Smallest gap between the answer to one message to a chat and the start of the next.
pub(crate) const PER_CHAT_GAP: Duration = WINDOW;

/// A chat's last send.
#[derive(Debug, Clone, Copy)]
enum ChatSend {
    /// Started, not answered yet.
    InFlight,
    /// Answered at this time.
    Done(Instant),
}

#[derive(Debug)]
struct State {
    /// When the next send may start, to spread sends evenly.
    next_slot: Instant,
    /// The latest `MESSAGES_PER_SECOND - 1` sends, oldest first, with their answer time.
    recent: VecDeque<(u64, Option<Instant>)>,
    /// The latest answer among the sends that left `recent`: nothing starts within a window
    /// after it.
    watermark: Option<Instant>,
    /// Sends that left `recent` before they were answered: nothing starts until they are.
    aged_in_flight: HashSet<u64>,
    /// Last send per chat.
    per_chat: HashMap<i64, ChatSend>,
    /// No send before this (after a 429).
    paused_until: Option<Instant>,
    next_id: u64,
}

/// Why a send cannot start yet.
enum Wait {
    /// Try again at this time.
    Until(Instant),
    /// Try again when a send in flight is answered.
    Answer,
}

/// The pacer shared by all sends of one bot.
#[derive(Debug)]
pub(crate) struct Pacer {
    state: Mutex<State>,
    /// Woken when a send is answered or a pause is set.
    changed: Notify,
    /// Sends take their turn in arrival order (tokio's mutex is fair).
    turn: tokio::sync::Mutex<()>,
    gap: Duration,
    per_second: usize,
}

/// A booked send; dropping it records the answer (success or failure alike), which frees
/// the chat and the window. Hold it until the Bot API has answered.
#[must_use = "hold the permit until the request is answered"]
pub(crate) struct Permit<'a> {
    pacer: &'a Pacer,
    id: u64,
    chat: i64,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.pacer.answered(self.id, self.chat, Instant::now());
    }
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer::new(MESSAGES_PER_SECOND)
    }
}

impl Pacer {
    pub(crate) fn new(per_second: u32) -> Pacer {
        let per_second = per_second.max(1);
        Pacer {
            state: Mutex::new(State {
                next_slot: Instant::now(),
                recent: VecDeque::new(),
                watermark: None,
                aged_in_flight: HashSet::new(),
                per_chat: HashMap::new(),
                paused_until: None,
                next_id: 0,
            }),
            changed: Notify::new(),
            turn: tokio::sync::Mutex::new(()),
            gap: WINDOW / per_second,
            per_second: usize::try_from(per_second).unwrap_or(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until a message to `chat` may be sent now, and books the send.
    pub(crate) async fn acquire(&self, chat: i64) -> Permit<'_> {
        // Wait for the chat outside the turn, so one busy chat does not hold up the others.
        self.wait_for(|s, now| chat_ready(s, chat, now)).await;
        let _turn = self.turn.lock().await;
        let id = self.wait_for(|s, now| self.try_book(s, chat, now)).await;
        Permit {
            pacer: self,
            id,
            chat,
        }
    }

    /// Runs `check` until it succeeds, sleeping or waiting for answers as it says.
    async fn wait_for<T>(
        &self,
        mut check: impl FnMut(&mut State, Instant) -> Result<T, Wait>,
    ) -> T {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            // Registered before the check, so an answer in between is not missed.
            changed.as_mut().enable();
            let wait = match check(&mut self.lock(), Instant::now()) {
                Ok(t) => return t,
                Err(wait) => wait,
            };
            match wait {
                Wait::Until(at) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = changed => {}
                    }
                }
                Wait::Answer => changed.await,
            }
        }
    }

    /// Books a send at `now`, or says what to wait for.
    fn try_book(&self, s: &mut State, chat: i64, now: Instant) -> Result<u64, Wait> {
        if let Some(until) = s.paused_until {
            if now < until {
                return Err(Wait::Until(until));
            }
            s.paused_until = None;
            // Start afresh after a pause: no burst of missed slots.
            s.next_slot = now;
        }
        chat_ready(s, chat, now)?;
        if !s.aged_in_flight.is_empty() {
            return Err(Wait::Answer);
        }
        if let Some(mark) = s.watermark
            && now <= mark + WINDOW
        {
            return Err(Wait::Until(mark + WINDOW + Duration::from_millis(1)));
        }
        if now < s.next_slot {
            return Err(Wait::Until(s.next_slot));
        }
        // Slots follow each other at the pace, not at wake-up times, so a late timer does
        // not slow the rate down (the window above keeps a late burst in bounds).
        let base = if now - s.next_slot < self.gap {
            s.next_slot
        } else {
            now
        };
        s.next_slot = base + self.gap;
        let id = s.next_id;
        s.next_id += 1;
        s.recent.push_back((id, None));
        if s.recent.len() >= self.per_second
            && let Some((old, answered)) = s.recent.pop_front()
        {
            match answered {
                Some(at) => s.watermark = Some(s.watermark.map_or(at, |m| m.max(at))),
                None => {
                    s.aged_in_flight.insert(old);
                }
            }
        }
        s.per_chat.insert(chat, ChatSend::InFlight);
        if s.per_chat.len() > 10_000 {
            s.per_chat
                .retain(|_, c| !matches!(c, ChatSend::Done(t) if now - *t > PER_CHAT_GAP));
        }
        Ok(id)
    }

    /// A send was answered at `at` (or failed, or was given up).
    fn answered(&self, id: u64, chat: i64, at: Instant) {
        {
            let mut s = self.lock();
            if let Some(slot) = s.recent.iter_mut().find(|(i, _)| *i == id) {
                slot.1 = Some(at);
            } else if s.aged_in_flight.remove(&id) {
                s.watermark = Some(s.watermark.map_or(at, |m| m.max(at)));
            }
            s.per_chat.insert(chat, ChatSend::Done(at));
        }
        self.changed.notify_waiters();
    }

    /// Telegram asked to wait: nobody sends before `retry_after` has passed.
    pub(crate) fn pause(&self, retry_after: Duration) {
        let until = Instant::now() + retry_after;
        {
            let mut s = self.lock();
            s.paused_until = Some(s.paused_until.map_or(until, |p| p.max(until)));
        }
        self.changed.notify_waiters();
    }
}

/// Whether `chat` may get a message at `now`.
fn chat_ready(s: &mut State, chat: i64, now: Instant) -> Result<(), Wait> {
    match s.per_chat.get(&chat) {
        Some(ChatSend::InFlight) => Err(Wait::Answer),
        Some(ChatSend::Done(at)) if now <= *at + PER_CHAT_GAP => {
            Err(Wait::Until(*at + PER_CHAT_GAP + Duration::from_millis(1)))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn sends_are_paced_overall_and_per_chat() {
        let pacer = Pacer::new(10);
        let t0 = Instant::now();

        for chat in 0..20 {
            drop(pacer.acquire(chat).await);
        }
        let overall = t0.elapsed();
        drop(pacer.acquire(0).await);
        drop(pacer.acquire(0).await);
        let per_chat = t0.elapsed();

        assert!(overall >= Duration::from_millis(1900), "{overall:?}");
        assert!(overall < Duration::from_millis(2100), "{overall:?}");
        assert!(per_chat >= overall + PER_CHAT_GAP, "{per_chat:?}");
    }

    /// Sends to distinct chats through 64 concurrent deliveries, each taking `transit(i)`
    /// from the pacer's permit to the answer, and arriving at the receiver at the end of it
    /// (the latest it can). Returns the arrival times.
    async fn arrivals(pacer: Arc<Pacer>, sends: u64, transit: fn(u64) -> Duration) -> Vec<Instant> {
        let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let arrived = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..64 {
            let (pacer, next, arrived) = (pacer.clone(), next.clone(), arrived.clone());
            tasks.spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= sends {
                        return;
                    }
                    let permit = pacer.acquire(i64::try_from(i).unwrap_or(0)).await;
                    tokio::time::sleep(transit(i)).await;
                    arrived.lock().unwrap().push(Instant::now());
                    drop(permit);
                }
            });
        }
        while tasks.join_next().await.is_some() {}
        let mut times = arrived.lock().unwrap().clone();
        times.sort();
        times
    }

    /// The most arrivals in any one second, both ends included (as a strict receiver counts).
    fn most_in_one_second(times: &[Instant]) -> usize {
        let mut most = 0;
        let mut from = 0;
        for (to, t) in times.iter().enumerate() {
            while *t - times[from] > WINDOW {
                from += 1;
            }
            most = most.max(to - from + 1);
        }
        most
    }

    #[tokio::test(start_paused = true)]
    async fn no_second_at_the_receiver_holds_more_than_the_limit_when_transit_times_vary() {
        // Arrange: every third send is slow on its way (a loaded machine, a busy proxy).
        let pacer = Arc::new(Pacer::new(29));
        let transit = |i: u64| Duration::from_millis(if i.is_multiple_of(3) { 180 } else { 2 });

        // Act
        let times = arrivals(pacer, 600, transit).await;

        // Assert
        assert_eq!(times.len(), 600);
        assert!(
            most_in_one_second(&times) <= 29,
            "{}",
            most_in_one_second(&times)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn on_a_fast_link_the_pace_stays_above_95_percent_of_telegrams_30_per_second() {
        // Arrange
        let pacer = Arc::new(Pacer::new(29));

        // Act
        let times = arrivals(pacer, 600, |_| Duration::from_millis(2)).await;

        // Assert
        let span = (times[times.len() - 1] - times[0]).as_secs_f64();
        let rate = (times.len() - 1) as f64 / span;
        assert!(rate >= 0.95 * 30.0, "{rate:.2} messages/s");
        assert!(most_in_one_second(&times) <= 29);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_send() {
        let pacer = Pacer::new(10);
        let t0 = Instant::now();

        pacer.pause(Duration::from_secs(3));
        drop(pacer.acquire(1).await);

        assert!(t0.elapsed() >= Duration::from_secs(3));
    }
}
