//! Limits of the web chat that a client cannot rotate around by renewing its token
//! (`docs/security.md`): messages per connection, messages and new conversations per client
//! address (IPv6 grouped by /64), and a ceiling on new conversations for the whole server.
//! Plus the timeouts and buffer sizes of a WebSocket.
//!
//! The engine's per-citizen flood limit is keyed to the citizen's pseudonym, which in the web
//! chat is the hash of a token the browser may renew at will; these limits are keyed to what
//! the client cannot choose. Everything is in memory only: nothing about refused messages
//! reaches the disk, and a restart forgets the counts.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// The configured limits of the web chat; `0` turns a rate off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebLimits {
    /// Messages (and hellos) one WebSocket connection may carry per minute.
    pub connection_messages_per_minute: u32,
    /// Messages per minute from one client address.
    pub address_messages_per_minute: u32,
    /// New conversations (a first message under an unknown token) per minute from one
    /// client address.
    pub address_new_conversations_per_minute: u32,
    /// New conversations per minute on the whole server.
    pub new_conversations_per_minute: u32,
    /// A socket that has not said `hello` after this long is closed.
    pub hello_timeout: Duration,
    /// A socket from which nothing (not even the answer to a ping) arrived for this long is
    /// closed; pings go out at a third of it.
    pub idle_timeout: Duration,
}

impl Default for WebLimits {
    fn default() -> Self {
        WebLimits {
            connection_messages_per_minute: 30,
            address_messages_per_minute: 300,
            address_new_conversations_per_minute: 30,
            new_conversations_per_minute: 600,
            hello_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
        }
    }
}

/// The key of a client address: IPv4 as it is, IPv6 by its /64 (one subscriber usually owns
/// a whole /64 and can pick any address in it), IPv4-mapped IPv6 as IPv4.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// A token bucket: `per_minute` tokens, refilled continuously. Holds a burst of a minute's
/// worth and needs two numbers per key instead of a log of timestamps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    pub(crate) fn full(per_minute: u32, now: Instant) -> Bucket {
        Bucket {
            tokens: f64::from(per_minute),
            at: now,
        }
    }

    fn refill(&mut self, per_minute: u32, now: Instant) {
        let rate = f64::from(per_minute) / 60.0;
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(f64::from(per_minute));
        self.at = now;
    }

    /// Whether a token is there (without taking it); else the seconds until one is.
    pub(crate) fn check(&mut self, per_minute: u32, now: Instant) -> Result<(), u64> {
        if per_minute == 0 {
            return Ok(());
        }
        self.refill(per_minute, now);
        if self.tokens >= 1.0 {
            Ok(())
        } else {
            let rate = f64::from(per_minute) / 60.0;
            let wait = ((1.0 - self.tokens) / rate).ceil();
            // At most a minute, so the cast cannot overflow.
            Err(wait.clamp(1.0, 60.0) as u64)
        }
    }

    pub(crate) fn take(&mut self, per_minute: u32) {
        if per_minute > 0 {
            self.tokens -= 1.0;
        }
    }

    fn is_full(&self, per_minute: u32, now: Instant) -> bool {
        let mut copy = *self;
        copy.refill(per_minute, now);
        copy.tokens >= f64::from(per_minute)
    }
}

/// The buckets of one client address.
#[derive(Debug, Clone, Copy)]
struct AddressBuckets {
    messages: Bucket,
    conversations: Bucket,
}

#[derive(Debug)]
struct Shared {
    addresses: HashMap<IpAddr, AddressBuckets>,
    conversations: Bucket,
    prune_at: usize,
}

/// Below this many tracked addresses the map is not pruned.
const PRUNE_FLOOR: usize = 1024;

/// The per-address and global buckets, shared by every connection.
#[derive(Debug, Clone)]
pub(crate) struct Limiter {
    limits: Arc<WebLimits>,
    shared: Arc<Mutex<Shared>>,
}

impl Limiter {
    pub(crate) fn new(limits: WebLimits) -> Limiter {
        let now = Instant::now();
        let shared = Shared {
            addresses: HashMap::new(),
            conversations: Bucket::full(limits.new_conversations_per_minute, now),
            prune_at: PRUNE_FLOOR,
        };
        Limiter {
            limits: Arc::new(limits),
            shared: Arc::new(Mutex::new(shared)),
        }
    }

    pub(crate) fn limits(&self) -> &WebLimits {
        &self.limits
    }

    /// Admits one message from `address` (a new conversation when `new_conversation`), or
    /// refuses it with the seconds until it would be admitted. A refused message takes
    /// nothing from any bucket.
    pub(crate) fn admit(&self, address: IpAddr, new_conversation: bool) -> Result<(), u64> {
        let l = &*self.limits;
        let now = Instant::now();
        let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        if shared.addresses.len() >= shared.prune_at {
            // Forget addresses whose buckets are full again: they lose nothing by it.
            shared.addresses.retain(|_, b| {
                !(b.messages.is_full(l.address_messages_per_minute, now)
                    && b.conversations
                        .is_full(l.address_new_conversations_per_minute, now))
            });
            shared.prune_at = shared.addresses.len().saturating_mul(2).max(PRUNE_FLOOR);
        }
        let Shared {
            addresses,
            conversations,
            ..
        } = &mut *shared;
        let buckets = addresses
            .entry(address_key(address))
            .or_insert_with(|| AddressBuckets {
                messages: Bucket::full(l.address_messages_per_minute, now),
                conversations: Bucket::full(l.address_new_conversations_per_minute, now),
            });
        buckets.messages.check(l.address_messages_per_minute, now)?;
        if new_conversation {
            buckets
                .conversations
                .check(l.address_new_conversations_per_minute, now)?;
            conversations.check(l.new_conversations_per_minute, now)?;
            buckets
                .conversations
                .take(l.address_new_conversations_per_minute);
            conversations.take(l.new_conversations_per_minute);
        }
        buckets.messages.take(l.address_messages_per_minute);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_of_one_64_share_a_key_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn new_conversations_are_limited_per_address_and_in_total_and_refusals_cost_nothing() {
        let limiter = Limiter::new(WebLimits {
            address_new_conversations_per_minute: 2,
            new_conversations_per_minute: 3,
            ..WebLimits::default()
        });
        let one: IpAddr = "192.0.2.1".parse().unwrap();
        let two: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(limiter.admit(one, true), Ok(()));
        assert_eq!(limiter.admit(one, true), Ok(()));
        assert!(limiter.admit(one, true).is_err(), "per address");
        assert_eq!(
            limiter.admit(one, false),
            Ok(()),
            "known conversations go on"
        );
        assert_eq!(limiter.admit(two, true), Ok(()));
        assert!(limiter.admit(two, true).is_err(), "global ceiling");
    }

    #[test]
    fn a_refused_message_names_a_wait_of_at_least_a_second() {
        let limiter = Limiter::new(WebLimits {
            address_messages_per_minute: 1,
            ..WebLimits::default()
        });
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(limiter.admit(ip, false), Ok(()));
        let wait = limiter
            .admit("2001:db8::2".parse().unwrap(), false)
            .unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
    }
}
