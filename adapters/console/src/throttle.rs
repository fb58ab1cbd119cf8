//! Console login throttling: after too many failed logins for one login name from one source
//! (a client address, or a browser that logged in as that member before), or from one
//! client address under any names, further attempts from there are refused for a while, the
//! lockout doubling each time.
//!
//! The lockout of a name applies to the source that failed, not to the member everywhere:
//! somebody guessing from elsewhere cannot lock the real user out. Against guessing from many
//! addresses at once, a name is also locked for every address after [`NAME_TOTAL_FACTOR`]
//! times its per-source limit; a browser holding the member's device cookie (set at each
//! successful login) still gets in then, with its own per-device count.
//!
//! Kept in memory only: a restart clears it. That is deliberate: nothing about failed logins
//! (names people typed, addresses) is written to disk, and an attacker gains nothing from a
//! restart they cannot cause. Time comes from the office clock, so tests move it.
//!
//! The check runs before the password is verified, and an unknown login name is counted and
//! locked exactly like a known one, so the answers reveal nothing about which names exist.
//!
//! An attempt is reserved before its password is verified ([`LoginThrottle::begin`]): while
//! it runs it counts toward the limits like a failure, so parallel attempts cannot get more
//! guesses verified than the limit allows; its outcome then turns it into a failure or clears
//! the name. Password verification (argon2id, 19 MiB each) runs at most
//! [`CONCURRENT_VERIFICATIONS`] at a time (see `routes/login.rs`).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderName;
use axum::http::request::Parts;
use jiff::{SignedDuration, Timestamp};

use crate::Console;

/// Limits of the console: login throttling and request body sizes.
#[derive(Debug, Clone)]
pub struct ConsoleLimits {
    /// Failed logins for one name from one source (address or device) before the name is
    /// locked for that source; [`NAME_TOTAL_FACTOR`] times this from all addresses together
    /// lock it for every address (not for known devices).
    pub failures_per_name: u32,
    /// Failed logins from one address before it is locked.
    pub failures_per_address: u32,
    /// First lockout; doubled with each further lockout.
    pub lockout: SignedDuration,
    /// Longest lockout.
    pub lockout_max: SignedDuration,
    /// Header with the client address set by a trusted proxy (last entry counts).
    pub client_address_header: Option<HeaderName>,
    /// Largest body of `POST /api/v1/login`.
    pub login_body_bytes: usize,
    /// Largest body of the other API routes.
    pub api_body_bytes: usize,
}

impl Default for ConsoleLimits {
    fn default() -> Self {
        ConsoleLimits {
            failures_per_name: 5,
            failures_per_address: 20,
            lockout: SignedDuration::from_mins(15),
            lockout_max: SignedDuration::from_hours(24),
            client_address_header: None,
            login_body_bytes: 4 * 1024,
            api_body_bytes: 64 * 1024,
        }
    }
}

/// Password verifications (argon2id, 19 MiB of memory each) running at once; further login
/// attempts wait for one to finish.
pub const CONCURRENT_VERIFICATIONS: usize = 2;
/// Longest wait for a verification slot before the attempt is refused with 429 (nothing is
/// counted then): a burst of logins is served, a flood does not pile up.
pub const VERIFICATION_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
/// `Retry-After` of an attempt refused because others are in flight or the server is busy.
pub const BUSY_RETRY_SECS: u64 = 5;
/// A name is locked for every address (but not for its known devices) after this many times
/// [`ConsoleLimits::failures_per_name`] failures from all addresses together.
pub const NAME_TOTAL_FACTOR: u32 = 10;
/// Known devices remembered at most (the oldest are forgotten first).
const MAX_DEVICES: usize = 10_000;

/// Failures of one key (a name from a source, an address, a name overall).
#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    lockouts: u32,
    last: Timestamp,
    locked_until: Option<Timestamp>,
    /// Attempts being verified now; they count toward the limit.
    in_flight: u32,
}

impl Record {
    fn fresh(now: Timestamp) -> Self {
        Record {
            failures: 0,
            lockouts: 0,
            last: now,
            locked_until: None,
            in_flight: 0,
        }
    }

    /// Failures that still count at `now` (they expire after a lockout's length of quiet).
    fn current_failures(&self, limits: &ConsoleLimits, now: Timestamp) -> u32 {
        if now.duration_since(self.last) > limits.lockout {
            0
        } else {
            self.failures
        }
    }

    /// Whether one more attempt would exceed `limit`, counting those in flight.
    fn full(&self, limit: u32, limits: &ConsoleLimits, now: Timestamp) -> bool {
        self.current_failures(limits, now)
            .saturating_add(self.in_flight)
            >= limit
    }
}

/// Why an attempt may not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Locked after too many failures, for this long.
    Locked(SignedDuration),
    /// The failures so far and the attempts in flight reach the limit: wait for their outcome.
    Busy,
}

/// Where an attempt comes from, as far as the throttle counts it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Source {
    /// A client address (none when the server does not know it).
    Address(Option<IpAddr>),
    /// A browser with a device cookie of this member: the SHA-256 of the cookie.
    Device(String),
}

/// What failures are counted under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// A login name from one source.
    Pair(String, Source),
    /// A client address, under any names.
    Address(IpAddr),
    /// A login name from all addresses together.
    Name(String),
}

impl Key {
    fn name(&self) -> Option<&str> {
        match self {
            Key::Pair(name, _) | Key::Name(name) => Some(name),
            Key::Address(_) => None,
        }
    }
}

/// A device cookie given at a successful login: whose, and when.
#[derive(Debug, Clone)]
struct Device {
    name: String,
    since: Timestamp,
}

#[derive(Debug, Default)]
struct Records {
    keys: HashMap<Key, Record>,
    /// Known devices by the SHA-256 of their cookie.
    devices: HashMap<String, Device>,
}

/// Above this many records the stale ones are dropped.
const PRUNE_ABOVE: usize = 10_000;
/// Longest login name remembered (longer ones are cut: still one key per long name).
const MAX_NAME_CHARS: usize = 128;

/// The throttle: failures per login name and source, per client address and per name.
#[derive(Debug, Default)]
pub(crate) struct LoginThrottle {
    records: Mutex<Records>,
}

fn name_key(login: &str) -> String {
    login
        .trim()
        .to_lowercase()
        .chars()
        .take(MAX_NAME_CHARS)
        .collect()
}

fn remaining(record: Option<&Record>, now: Timestamp) -> Option<SignedDuration> {
    let until = record?.locked_until?;
    (until > now).then(|| until.duration_since(now))
}

fn fail(record: &mut Record, limit: u32, limits: &ConsoleLimits, now: Timestamp) -> bool {
    if now.duration_since(record.last) > limits.lockout_max {
        record.lockouts = 0;
    }
    if now.duration_since(record.last) > limits.lockout {
        record.failures = 0;
    }
    record.failures += 1;
    record.last = now;
    if record.failures < limit {
        return false;
    }
    record.failures = 0;
    record.lockouts = record.lockouts.saturating_add(1);
    let factor = 1i32
        .checked_shl(record.lockouts.saturating_sub(1).min(20))
        .unwrap_or(i32::MAX);
    let lockout = limits
        .lockout
        .checked_mul(factor)
        .unwrap_or(limits.lockout_max)
        .min(limits.lockout_max);
    record.locked_until = now.checked_add(lockout).ok();
    true
}

/// The caller of a login attempt: client address and device cookie (its value), if any.
#[derive(Debug, Clone, Default)]
pub(crate) struct Caller {
    /// The client address.
    pub(crate) address: Option<IpAddr>,
    /// The value of the device cookie the browser sent.
    pub(crate) device: Option<String>,
}

impl LoginThrottle {
    /// The keys an attempt for `name` by `caller` counts under, with their limits: a known
    /// device of the name only under itself; anybody else under the name from their address,
    /// their address, and the name overall.
    fn keys_for(
        records: &Records,
        name: &str,
        caller: &Caller,
        limits: &ConsoleLimits,
    ) -> Vec<(Key, u32)> {
        let device = caller
            .device
            .as_deref()
            .map(crate::accounts::sha256_hex)
            .filter(|hash| records.devices.get(hash).is_some_and(|d| d.name == name));
        if let Some(hash) = device {
            return vec![(
                Key::Pair(name.to_owned(), Source::Device(hash)),
                limits.failures_per_name,
            )];
        }
        let mut keys = vec![
            (
                Key::Pair(name.to_owned(), Source::Address(caller.address)),
                limits.failures_per_name,
            ),
            (
                Key::Name(name.to_owned()),
                limits.failures_per_name.saturating_mul(NAME_TOTAL_FACTOR),
            ),
        ];
        if let Some(a) = caller.address {
            keys.push((Key::Address(a), limits.failures_per_address));
        }
        keys
    }

    /// How long an attempt for `login` by `caller` is still locked, if it is.
    #[cfg(test)]
    fn locked(&self, login: &str, caller: &Caller, now: Timestamp) -> Option<SignedDuration> {
        let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        let keys = Self::keys_for(
            &records,
            &name_key(login),
            caller,
            &ConsoleLimits::default(),
        );
        Self::locked_in(&records, &keys, now)
    }

    fn locked_in(records: &Records, keys: &[(Key, u32)], now: Timestamp) -> Option<SignedDuration> {
        keys.iter()
            .filter_map(|(k, _)| remaining(records.keys.get(k), now))
            .max()
    }

    /// Reserves an attempt for `login` by `caller`: refused while one of its keys is locked,
    /// or while their failures plus the attempts in flight reach the limit. The reservation
    /// counts toward the limits until [`Attempt::failed`] or [`Attempt::succeeded`] (or, when
    /// dropped unfinished, e.g. a client that went away, until it is dropped).
    pub(crate) fn begin(
        self: &Arc<Self>,
        login: &str,
        caller: &Caller,
        limits: &ConsoleLimits,
        now: Timestamp,
    ) -> Result<Attempt, Refused> {
        let name = name_key(login);
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        Self::prune(&mut records, limits, now);
        let keys = Self::keys_for(&records, &name, caller, limits);
        if let Some(wait) = Self::locked_in(&records, &keys, now) {
            return Err(Refused::Locked(wait));
        }
        let full = keys.iter().any(|(k, limit)| {
            records
                .keys
                .get(k)
                .is_some_and(|r| r.full(*limit, limits, now))
        });
        if full {
            return Err(Refused::Busy);
        }
        for (k, _) in &keys {
            let record = records
                .keys
                .entry(k.clone())
                .or_insert_with(|| Record::fresh(now));
            record.in_flight = record.in_flight.saturating_add(1);
        }
        Ok(Attempt {
            throttle: Arc::clone(self),
            keys,
            finished: false,
        })
    }

    /// Remembers a device cookie (its value) as a known device of `login`.
    pub(crate) fn remember_device(&self, login: &str, device: &str, now: Timestamp) {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        if records.devices.len() >= MAX_DEVICES
            && let Some(oldest) = records
                .devices
                .iter()
                .min_by_key(|(_, d)| d.since)
                .map(|(k, _)| k.clone())
        {
            records.devices.remove(&oldest);
        }
        records.devices.insert(
            crate::accounts::sha256_hex(device),
            Device {
                name: name_key(login),
                since: now,
            },
        );
    }

    /// Whether a device cookie (its value) is a known device of `login`.
    pub(crate) fn knows_device(&self, login: &str, device: &str) -> bool {
        let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        records
            .devices
            .get(&crate::accounts::sha256_hex(device))
            .is_some_and(|d| d.name == name_key(login))
    }

    /// Clears every failure and lockout of `login` (from every source; an admin's unlock).
    /// Addresses keep their counts: they may be guessing other names. Returns whether
    /// anything was locked.
    pub(crate) fn unlock(&self, login: &str, now: Timestamp) -> bool {
        let name = name_key(login);
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        let mut was_locked = false;
        for (k, r) in records.keys.iter_mut() {
            if k.name() == Some(name.as_str()) {
                was_locked |= r.locked_until.is_some_and(|u| u > now);
                *r = Record {
                    in_flight: r.in_flight,
                    ..Record::fresh(now)
                };
            }
        }
        was_locked
    }

    /// Ends an attempt's reservation.
    fn release(records: &mut Records, keys: &[(Key, u32)]) {
        for (k, _) in keys {
            if let Some(r) = records.keys.get_mut(k) {
                r.in_flight = r.in_flight.saturating_sub(1);
            }
        }
    }

    /// Above [`PRUNE_ABOVE`] records, drops those that are stale: no failure for longer than
    /// the longest lockout, not locked, nothing in flight.
    fn prune(records: &mut Records, limits: &ConsoleLimits, now: Timestamp) {
        if records.keys.len() > PRUNE_ABOVE {
            records.keys.retain(|_, r| {
                !(now.duration_since(r.last) > limits.lockout_max
                    && r.locked_until.is_none_or(|u| u <= now)
                    && r.in_flight == 0)
            });
        }
    }
}

/// Drops `key`'s record unless attempts are in flight, else resets it keeping those.
fn clear<K: Hash + Eq>(map: &mut HashMap<K, Record>, key: &K) {
    let in_flight = map.get(key).map_or(0, |r| r.in_flight);
    if in_flight == 0 {
        map.remove(key);
    } else if let Some(r) = map.get_mut(key) {
        // Other attempts are still being verified: they keep counting.
        *r = Record {
            in_flight,
            ..Record::fresh(r.last)
        };
    }
}

/// A reserved login attempt (see [`LoginThrottle::begin`]).
#[derive(Debug)]
pub(crate) struct Attempt {
    throttle: Arc<LoginThrottle>,
    keys: Vec<(Key, u32)>,
    finished: bool,
}

impl Attempt {
    /// The password was wrong (or the name unknown, or the account disabled): counts the
    /// failure under each key; returns whether one of them is locked now.
    pub(crate) fn failed(mut self, limits: &ConsoleLimits, now: Timestamp) -> bool {
        self.finished = true;
        let mut records = self
            .throttle
            .records
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        LoginThrottle::release(&mut records, &self.keys);
        let mut locked = false;
        for (k, limit) in &self.keys {
            let record = records
                .keys
                .entry(k.clone())
                .or_insert_with(|| Record::fresh(now));
            locked |= fail(record, *limit, limits, now);
        }
        locked
    }

    /// The password was right: clears the failures of the name from this source (not the
    /// address's, nor the name's overall: one valid login must not reset the count of an
    /// address guessing others, or of many addresses guessing this name).
    pub(crate) fn succeeded(mut self) {
        self.finished = true;
        let mut records = self
            .throttle
            .records
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        LoginThrottle::release(&mut records, &self.keys);
        for (k, _) in &self.keys {
            if matches!(k, Key::Pair(..)) {
                clear(&mut records.keys, k);
            }
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if !self.finished {
            let mut records = self
                .throttle
                .records
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            LoginThrottle::release(&mut records, &self.keys);
        }
    }
}

/// The client address: the TCP peer, or the last entry of the configured proxy header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddress(pub(crate) Option<IpAddr>);

impl FromRequestParts<Console> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Console,
    ) -> Result<Self, Self::Rejection> {
        if let Some(name) = &console.limits.client_address_header {
            let forwarded = parts
                .headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|v| v.trim().parse::<IpAddr>().ok())
                .next_back();
            if forwarded.is_some() {
                return Ok(ClientAddress(forwarded));
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientAddress(peer))
    }
}

#[cfg(test)]
mod tests;
