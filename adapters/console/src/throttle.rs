//! Console login throttling: after too many failed logins for one login name, or from one
//! client address, further attempts are refused for a while, the lockout doubling each time.
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
    /// Failed logins for one name before it is locked.
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

/// Failures of one name or address.
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

#[derive(Debug, Default)]
struct Records {
    names: HashMap<String, Record>,
    addresses: HashMap<IpAddr, Record>,
}

/// Above this many records the stale ones are dropped.
const PRUNE_ABOVE: usize = 10_000;
/// Longest login name remembered (longer ones are cut: still one key per long name).
const MAX_NAME_CHARS: usize = 128;

/// The throttle: failures per login name and per client address.
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

impl LoginThrottle {
    /// How long the name or the address is still locked, if it is.
    #[cfg(test)]
    fn locked(
        &self,
        login: &str,
        address: Option<IpAddr>,
        now: Timestamp,
    ) -> Option<SignedDuration> {
        let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        Self::locked_in(&records, &name_key(login), address, now)
    }

    fn locked_in(
        records: &Records,
        name: &str,
        address: Option<IpAddr>,
        now: Timestamp,
    ) -> Option<SignedDuration> {
        let by_name = remaining(records.names.get(name), now);
        let by_address = address.and_then(|a| remaining(records.addresses.get(&a), now));
        by_name.into_iter().chain(by_address).max()
    }

    /// Reserves an attempt for `login` from `address`: refused while either is locked, or
    /// while their failures plus the attempts in flight reach the limit. The reservation
    /// counts toward the limits until [`Attempt::failed`] or [`Attempt::succeeded`] (or, when
    /// dropped unfinished, e.g. a client that went away, until it is dropped).
    pub(crate) fn begin(
        self: &Arc<Self>,
        login: &str,
        address: Option<IpAddr>,
        limits: &ConsoleLimits,
        now: Timestamp,
    ) -> Result<Attempt, Refused> {
        let name = name_key(login);
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        Self::prune(&mut records, limits, now);
        if let Some(wait) = Self::locked_in(&records, &name, address, now) {
            return Err(Refused::Locked(wait));
        }
        let name_full = records
            .names
            .get(&name)
            .is_some_and(|r| r.full(limits.failures_per_name, limits, now));
        let address_full = address.is_some_and(|a| {
            records
                .addresses
                .get(&a)
                .is_some_and(|r| r.full(limits.failures_per_address, limits, now))
        });
        if name_full || address_full {
            return Err(Refused::Busy);
        }
        let record = records
            .names
            .entry(name.clone())
            .or_insert_with(|| Record::fresh(now));
        record.in_flight = record.in_flight.saturating_add(1);
        if let Some(a) = address {
            let record = records
                .addresses
                .entry(a)
                .or_insert_with(|| Record::fresh(now));
            record.in_flight = record.in_flight.saturating_add(1);
        }
        Ok(Attempt {
            throttle: Arc::clone(self),
            name,
            address,
            finished: false,
        })
    }

    /// Ends an attempt's reservation.
    fn release(records: &mut Records, name: &str, address: Option<IpAddr>) {
        if let Some(r) = records.names.get_mut(name) {
            r.in_flight = r.in_flight.saturating_sub(1);
        }
        if let Some(r) = address.and_then(|a| records.addresses.get_mut(&a)) {
            r.in_flight = r.in_flight.saturating_sub(1);
        }
    }

    /// Above [`PRUNE_ABOVE`] records, drops those that are stale: no failure for longer than
    /// the longest lockout, not locked, nothing in flight.
    fn prune(records: &mut Records, limits: &ConsoleLimits, now: Timestamp) {
        if records.names.len() + records.addresses.len() > PRUNE_ABOVE {
            let stale = |r: &Record| {
                now.duration_since(r.last) > limits.lockout_max
                    && r.locked_until.is_none_or(|u| u <= now)
                    && r.in_flight == 0
            };
            records.names.retain(|_, r| !stale(r));
            records.addresses.retain(|_, r| !stale(r));
        }
    }

    fn record_failure(
        records: &mut Records,
        name: &str,
        address: Option<IpAddr>,
        limits: &ConsoleLimits,
        now: Timestamp,
    ) -> bool {
        let record = records
            .names
            .entry(name.to_owned())
            .or_insert_with(|| Record::fresh(now));
        let mut locked = fail(record, limits.failures_per_name, limits, now);
        if let Some(address) = address {
            let record = records
                .addresses
                .entry(address)
                .or_insert_with(|| Record::fresh(now));
            locked |= fail(record, limits.failures_per_address, limits, now);
        }
        locked
    }

    /// Clears a name's failures and lockout after a successful login (not the address's:
    /// one valid account must not reset the count of an address guessing others).
    fn clear_name(records: &mut Records, name: &str) {
        let in_flight = records.names.get(name).map_or(0, |r| r.in_flight);
        if in_flight == 0 {
            records.names.remove(name);
        } else if let Some(r) = records.names.get_mut(name) {
            // Other attempts for the name are still being verified: they keep counting.
            *r = Record {
                in_flight,
                ..Record::fresh(r.last)
            };
        }
    }
}

/// A reserved login attempt (see [`LoginThrottle::begin`]).
#[derive(Debug)]
pub(crate) struct Attempt {
    throttle: Arc<LoginThrottle>,
    name: String,
    address: Option<IpAddr>,
    finished: bool,
}

impl Attempt {
    /// The password was wrong (or the name unknown, or the account disabled): counts the
    /// failure; returns whether the name or the address is locked now.
    pub(crate) fn failed(mut self, limits: &ConsoleLimits, now: Timestamp) -> bool {
        self.finished = true;
        let mut records = self
            .throttle
            .records
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        LoginThrottle::release(&mut records, &self.name, self.address);
        LoginThrottle::record_failure(&mut records, &self.name, self.address, limits, now)
    }

    /// The password was right: clears the name's failures.
    pub(crate) fn succeeded(mut self) {
        self.finished = true;
        let mut records = self
            .throttle
            .records
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        LoginThrottle::release(&mut records, &self.name, self.address);
        LoginThrottle::clear_name(&mut records, &self.name);
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
            LoginThrottle::release(&mut records, &self.name, self.address);
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
