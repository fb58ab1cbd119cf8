//! Sign-ins under way: between the redirect to the provider and the callback, the state,
//! the nonce and the PKCE verifier are kept here, server-side, for a few minutes. The callback
//! takes its entry out (so a replayed callback finds nothing), and the entry is bound to the
//! browser that started it by the hash of a random cookie value.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a sign-in may take at the provider.
pub const FLOW_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// Most sign-ins under way at once; beyond, the oldest is forgotten.
pub const MAX_FLOWS: usize = 10_000;

/// One sign-in under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// SHA-256 of the browser's flow cookie.
    pub binding: String,
    /// The nonce sent in the authorization request.
    pub nonce: String,
    /// The PKCE code verifier.
    pub verifier: String,
}

/// The sign-ins under way, by state.
#[derive(Debug)]
pub struct Flows {
    pending: Mutex<HashMap<String, (Instant, Pending)>>,
    max: usize,
}

impl Default for Flows {
    fn default() -> Self {
        Flows::with_capacity(MAX_FLOWS)
    }
}

impl Flows {
    /// At most `max` sign-ins under way.
    pub fn with_capacity(max: usize) -> Self {
        Flows {
            pending: Mutex::default(),
            max: max.max(1),
        }
    }

    /// Remembers a sign-in under `state`.
    pub fn insert(&self, state: String, pending: Pending, now: Instant) {
        let mut map = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, (at, _)| now.duration_since(*at) < FLOW_LIFETIME);
        if map.len() >= self.max
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(state, (now, pending));
    }

    /// Takes the sign-in of `state` out, if it is known and not too old.
    pub fn take(&self, state: &str, now: Instant) -> Option<Pending> {
        let mut map = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let (at, pending) = map.remove(state)?;
        (now.duration_since(at) < FLOW_LIFETIME).then_some(pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(n: &str) -> Pending {
        Pending {
            binding: format!("b{n}"),
            nonce: format!("n{n}"),
            verifier: format!("v{n}"),
        }
    }

    #[test]
    fn a_state_can_be_taken_once() {
        let flows = Flows::default();
        let now = Instant::now();
        flows.insert("s".into(), pending("1"), now);

        assert_eq!(flows.take("s", now), Some(pending("1")));
        assert_eq!(flows.take("s", now), None);
        assert_eq!(flows.take("unknown", now), None);
    }

    #[test]
    fn an_old_state_is_refused() {
        let flows = Flows::default();
        let then = Instant::now();
        flows.insert("s".into(), pending("1"), then);

        assert_eq!(flows.take("s", then + FLOW_LIFETIME), None);
    }

    #[test]
    fn the_map_is_bounded_and_forgets_the_oldest() {
        let flows = Flows::with_capacity(3);
        let start = Instant::now();
        for i in 0..=3 {
            let at = start + Duration::from_millis(i as u64);
            flows.insert(format!("s{i}"), pending("x"), at);
        }
        let later = start + Duration::from_secs(60);

        assert_eq!(flows.take("s0", later), None);
        assert!(flows.take("s1", later).is_some());
        assert!(flows.take("s3", later).is_some());
    }
}
