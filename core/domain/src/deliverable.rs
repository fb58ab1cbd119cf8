//! The dispatcher's index of deliverable outbox messages: per citizen only the first pending
//! message (each citizen reads their messages in order), and only while its next attempt has a
//! time (a message deferred until a web citizen comes back has none). Due times are kept per
//! channel in order, so a dispatcher wake-up costs what it hands over, not the number of
//! messages waiting: 100,000 acknowledgements to closed browser tabs are not looked at until
//! their citizens return.
//!
//! [`OfficeState`](crate::OfficeState) keeps the index in step with every outbox change;
//! nothing of it is persisted (it is rebuilt from the snapshot at start).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;

use crate::channel::ChannelKind;
use crate::ids::{CitizenId, OutboxId};
use crate::outbox::{DeliveryState, OutboxMessage};

/// The indexed first message of one citizen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Head {
    channel: ChannelKind,
    at: Timestamp,
    id: OutboxId,
}

/// Pending messages per citizen and the due first messages per channel.
#[derive(Debug, Default)]
pub(crate) struct DeliverableIndex {
    /// Pending messages per citizen, in id (creation) order.
    pending: HashMap<CitizenId, BTreeSet<OutboxId>>,
    /// The entry each citizen has in `due`, to find it again when it changes.
    heads: HashMap<CitizenId, Head>,
    /// First pending messages with a next attempt time, per channel, by (time, id).
    due: BTreeMap<ChannelKind, BTreeSet<(Timestamp, OutboxId)>>,
}

impl DeliverableIndex {
    /// Records `m` as it is now (new, changed or loaded). Call [`refresh`](Self::refresh)
    /// for its citizen once the outbox map holds it.
    pub(crate) fn set(&mut self, m: &OutboxMessage) {
        if m.is_pending() {
            self.pending.entry(m.citizen).or_default().insert(m.id);
        } else {
            self.forget(m.citizen, m.id);
        }
    }

    /// Drops a message (delivered, failed or forgotten). Call [`refresh`](Self::refresh)
    /// for its citizen afterwards.
    pub(crate) fn forget(&mut self, citizen: CitizenId, id: OutboxId) {
        if let Some(mine) = self.pending.get_mut(&citizen) {
            mine.remove(&id);
            if mine.is_empty() {
                self.pending.remove(&citizen);
            }
        }
    }

    /// Re-indexes the first pending message of `citizen`, looking its state up in `outbox`.
    pub(crate) fn refresh(
        &mut self,
        citizen: CitizenId,
        outbox: &BTreeMap<OutboxId, OutboxMessage>,
    ) {
        let head = self
            .pending
            .get(&citizen)
            .and_then(|mine| mine.first())
            .and_then(|id| outbox.get(id))
            .and_then(|m| match m.state {
                DeliveryState::Pending {
                    next_attempt_at: Some(at),
                    ..
                } => Some(Head {
                    channel: m.channel,
                    at,
                    id: m.id,
                }),
                _ => None,
            });
        let old = self.heads.get(&citizen).copied();
        if old == head {
            return;
        }
        if let Some(old) = old {
            self.heads.remove(&citizen);
            if let Some(set) = self.due.get_mut(&old.channel) {
                set.remove(&(old.at, old.id));
            }
        }
        if let Some(new) = head {
            self.heads.insert(citizen, new);
            self.due
                .entry(new.channel)
                .or_default()
                .insert((new.at, new.id));
        }
    }

    /// Ids of the first messages on `channel` due at or before `now`, oldest due first.
    pub(crate) fn due(
        &self,
        channel: ChannelKind,
        now: Timestamp,
    ) -> impl Iterator<Item = OutboxId> + '_ {
        self.due
            .get(&channel)
            .into_iter()
            .flat_map(move |set| set.range(..=(now, OutboxId(u64::MAX))))
            .map(|(_, id)| *id)
    }

    /// The earliest next attempt after `now` of any citizen's first message.
    pub(crate) fn next_after(&self, now: Timestamp) -> Option<Timestamp> {
        use std::ops::Bound::{Excluded, Unbounded};
        self.due
            .values()
            .filter_map(|set| {
                set.range((Excluded((now, OutboxId(u64::MAX))), Unbounded))
                    .next()
                    .map(|(at, _)| *at)
            })
            .min()
    }
}
