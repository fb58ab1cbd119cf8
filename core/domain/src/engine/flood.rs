//! Per-citizen flood limit: at most `max_messages` messages per `window` from one channel
//! identity. The excess is refused before anything about it is stored; the citizen is told
//! once per flood (not once per refused message).
//!
//! The windows live in memory only ([`FloodWindows`] inside the
//! [`OfficeState`](crate::OfficeState)): a restart forgets them, which is harmless for a limit
//! against bursts, and means nothing about refused messages is ever written to disk.

use std::collections::{HashMap, VecDeque};

use jiff::{SignedDuration, Timestamp};

use super::{CitizenMessage, Engine, Refusal};
use crate::channel::ChannelKind;
use crate::state::OfficeState;
use crate::texts::Arg::Num;

/// How many messages one citizen may send in a window; from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloodPolicy {
    /// Messages admitted per window; 0 turns the limit off.
    pub max_messages: u32,
    /// The sliding window.
    pub window: SignedDuration,
}

impl Default for FloodPolicy {
    /// Off: the engine's own default does not limit (the configuration turns it on).
    fn default() -> Self {
        FloodPolicy {
            max_messages: 0,
            window: SignedDuration::from_secs(60),
        }
    }
}

/// One identity's recent admitted messages and whether it was told about the limit.
#[derive(Debug, Default)]
struct Window {
    admitted: VecDeque<Timestamp>,
    told: bool,
}

/// What the gate decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admission {
    Admitted,
    /// Refused; `first` when this is the first refusal of this flood.
    Refused {
        first: bool,
        retry_after: u64,
    },
}

/// The sliding windows of every identity that wrote recently. Not persisted.
#[derive(Debug, Default)]
pub struct FloodWindows {
    windows: HashMap<(ChannelKind, String), Window>,
    prune_at: usize,
}

/// Below this many tracked identities the map is not pruned.
const PRUNE_FLOOR: usize = 1024;

impl FloodWindows {
    fn admit(
        &mut self,
        key: (ChannelKind, String),
        now: Timestamp,
        policy: FloodPolicy,
    ) -> Admission {
        let since = now - policy.window;
        if self.windows.len() >= self.prune_at.max(PRUNE_FLOOR) {
            self.windows
                .retain(|_, w| w.admitted.back().is_some_and(|t| *t > since));
            self.prune_at = self.windows.len().saturating_mul(2);
        }
        let window = self.windows.entry(key).or_default();
        while window.admitted.front().is_some_and(|t| *t <= since) {
            window.admitted.pop_front();
        }
        let max = usize::try_from(policy.max_messages).unwrap_or(usize::MAX);
        if window.admitted.len() < max {
            window.admitted.push_back(now);
            window.told = false;
            return Admission::Admitted;
        }
        let first = !window.told;
        window.told = true;
        let frees_at = window.admitted.front().map_or(now, |t| *t + policy.window);
        let retry_after = u64::try_from(frees_at.duration_since(now).as_secs().max(1)).unwrap_or(1);
        Admission::Refused { first, retry_after }
    }

    /// How many identities are tracked (for tests of the pruning).
    pub fn tracked(&self) -> usize {
        self.windows.len()
    }
}

impl Engine {
    /// Admits a citizen message or refuses it as part of a flood. On the first refusal of a
    /// flood a known citizen on a chat channel is told once; inline channels show the refusal
    /// themselves. Nothing about the refused message is stored.
    pub(super) fn flood_gate(
        &self,
        state: &mut OfficeState,
        message: &CitizenMessage,
        now: Timestamp,
    ) -> Result<(), Refusal> {
        let policy = self.policy.flood;
        if policy.max_messages == 0 {
            return Ok(());
        }
        let identity = &message.identity;
        let key = (identity.channel, identity.pseudonym.clone());
        let Admission::Refused { first, retry_after } = state.flood_mut().admit(key, now, policy)
        else {
            return Ok(());
        };
        if first && !message.inline_errors {
            let known = state
                .citizen_by_pseudonym(identity.channel, &identity.pseudonym)
                .cloned();
            if let Some(citizen) = known {
                let text = self.render(
                    citizen.lang,
                    "flood-limit",
                    &[("seconds", Num(retry_after))],
                );
                self.enqueue(state, &citizen, None, text, now);
            }
        }
        Err(Refusal::Flooded {
            retry_after_secs: retry_after,
        })
    }
}
