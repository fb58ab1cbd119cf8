//! Console login throttling: after too many failed logins for one login name, or from one
//! client address, further attempts are refused for a while, the lockout doubling each time.
//!
//! Kept in memory only: a restart clears it. That is deliberate: nothing about failed logins
//! (names people typed, addresses) is written to disk, and an attacker gains nothing from a
//! restart they cannot cause. Time comes from the office clock, so tests move it.
//!
//! The check runs before the password is verified, and an unknown login name is counted and
//! locked exactly like a known one, so the answers reveal nothing about which names exist.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

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

/// Failures of one name or address.
#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    lockouts: u32,
    last: Timestamp,
    locked_until: Option<Timestamp>,
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
    pub(crate) fn locked(
        &self,
        login: &str,
        address: Option<IpAddr>,
        now: Timestamp,
    ) -> Option<SignedDuration> {
        let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        let by_name = remaining(records.names.get(&name_key(login)), now);
        let by_address = address.and_then(|a| remaining(records.addresses.get(&a), now));
        by_name.into_iter().chain(by_address).max()
    }

    /// Records a failed login; returns whether the name or the address is locked now.
    pub(crate) fn failed(
        &self,
        login: &str,
        address: Option<IpAddr>,
        limits: &ConsoleLimits,
        now: Timestamp,
    ) -> bool {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        if records.names.len() + records.addresses.len() > PRUNE_ABOVE {
            let stale = |r: &Record| {
                now.duration_since(r.last) > limits.lockout_max
                    && r.locked_until.is_none_or(|u| u <= now)
            };
            records.names.retain(|_, r| !stale(r));
            records.addresses.retain(|_, r| !stale(r));
        }
        let fresh = Record {
            failures: 0,
            lockouts: 0,
            last: now,
            locked_until: None,
        };
        let name = records.names.entry(name_key(login)).or_insert(fresh);
        let mut locked = fail(name, limits.failures_per_name, limits, now);
        if let Some(address) = address {
            let record = records.addresses.entry(address).or_insert(fresh);
            locked |= fail(record, limits.failures_per_address, limits, now);
        }
        locked
    }

    /// A successful login clears the name's failures (not the address's: one valid account
    /// must not reset the count of an address guessing others).
    pub(crate) fn succeeded(&self, login: &str) {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        records.names.remove(&name_key(login));
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
mod tests {
    use super::*;

    fn at(minutes: i64) -> Timestamp {
        Timestamp::UNIX_EPOCH + SignedDuration::from_mins(minutes)
    }

    #[test]
    fn a_name_is_locked_after_its_failures_and_the_lockout_doubles() {
        let limits = ConsoleLimits {
            failures_per_name: 3,
            failures_per_address: 100,
            ..ConsoleLimits::default()
        };
        let throttle = LoginThrottle::default();
        let addr = Some(IpAddr::from([127, 0, 0, 1]));
        assert!(!throttle.failed("Erika", addr, &limits, at(0)));
        assert!(!throttle.failed("erika ", addr, &limits, at(0)));
        assert_eq!(throttle.locked("erika", addr, at(0)), None);
        assert!(throttle.failed("ERIKA", addr, &limits, at(1)));
        assert_eq!(
            throttle.locked("erika", None, at(1)),
            Some(SignedDuration::from_mins(15))
        );
        assert_eq!(throttle.locked("max", None, at(1)), None);
        assert_eq!(throttle.locked("erika", None, at(16)), None);
        for _ in 0..3 {
            throttle.failed("erika", addr, &limits, at(17));
        }
        assert_eq!(
            throttle.locked("erika", None, at(17)),
            Some(SignedDuration::from_mins(30))
        );
    }

    #[test]
    fn an_address_is_locked_after_failures_under_many_names() {
        let limits = ConsoleLimits {
            failures_per_name: 100,
            failures_per_address: 4,
            ..ConsoleLimits::default()
        };
        let throttle = LoginThrottle::default();
        let addr = Some(IpAddr::from([10, 0, 0, 9]));
        for n in 0..4 {
            throttle.failed(&format!("name{n}"), addr, &limits, at(0));
        }
        assert!(throttle.locked("someone-else", addr, at(0)).is_some());
        assert!(
            throttle
                .locked("someone-else", Some(IpAddr::from([10, 0, 0, 10])), at(0))
                .is_none()
        );
    }

    #[test]
    fn success_clears_the_names_failures() {
        let limits = ConsoleLimits {
            failures_per_name: 2,
            ..ConsoleLimits::default()
        };
        let throttle = LoginThrottle::default();
        throttle.failed("erika", None, &limits, at(0));
        throttle.succeeded("erika");
        assert!(!throttle.failed("erika", None, &limits, at(0)));
    }
}
