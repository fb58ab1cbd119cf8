//! Keyed pseudonyms for channel identities: HMAC-SHA256 under a key from configuration, so a
//! stored pseudonym reveals nothing without the key and cannot be recomputed from a chat id
//! alone.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sprechstunde_core::ChannelKind;

/// Shortest accepted key.
pub const MIN_KEY_BYTES: usize = 32;

/// Derives pseudonyms from raw channel ids.
#[derive(Clone)]
pub struct Pseudonymizer {
    key: Vec<u8>,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymizer(..)")
    }
}

/// A key that is too short.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the pseudonym key must have at least {MIN_KEY_BYTES} bytes, it has {0}")]
pub struct ShortKey(pub usize);

impl Pseudonymizer {
    /// A pseudonymizer with this secret key.
    ///
    /// # Errors
    /// A key shorter than [`MIN_KEY_BYTES`].
    pub fn new(key: Vec<u8>) -> Result<Self, ShortKey> {
        if key.len() < MIN_KEY_BYTES {
            return Err(ShortKey(key.len()));
        }
        Ok(Pseudonymizer { key })
    }

    /// The pseudonym of `raw_id` on `channel`, lower-case hex.
    pub fn pseudonym(&self, channel: ChannelKind, raw_id: &str) -> String {
        // HMAC accepts keys of any length; `new` checked ours.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(channel.as_str().as_bytes());
        mac.update(b"\0");
        mac.update(raw_id.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_per_key_and_channel_and_hide_the_id() {
        let a = Pseudonymizer::new(vec![1; 32]).expect("key");
        let b = Pseudonymizer::new(vec![2; 32]).expect("key");
        let p = a.pseudonym(ChannelKind::Telegram, "123456789");
        assert_eq!(p, a.pseudonym(ChannelKind::Telegram, "123456789"));
        assert_ne!(p, b.pseudonym(ChannelKind::Telegram, "123456789"));
        assert_ne!(p, a.pseudonym(ChannelKind::Matrix, "123456789"));
        assert!(!p.contains("123456789"));
        assert_eq!(p.len(), 64);
        assert_eq!(Pseudonymizer::new(vec![0; 8]).err(), Some(ShortKey(8)));
    }
}
