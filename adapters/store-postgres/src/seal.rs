//! Sealing of records linked to a citizen: XChaCha20-Poly1305 under a key of the citizen,
//! the question or the summary version, kept in the table `record_keys`.
//!
//! The format of a sealed value is the sled store's: `E1`, the key id (kind byte and id as
//! big-endian `u64`), a 24-byte nonce, the ciphertext. The record's table key (kind and id)
//! is the associated data, so a value copied under another id does not open.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sprechstunde_core::StoreError;

/// Marks a sealed value.
const SEALED: &[u8] = b"E1";
const NONCE: usize = 24;

/// A record key's secret.
pub(crate) type Secret = [u8; 32];

/// Whose key: a citizen's, a question's or one version of a summary record's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum KeyId {
    /// A citizen (record, and messages outside a question).
    Citizen(u64),
    /// A question (thread, and its messages).
    Question(u64),
    /// One version of a summary record, by serial (from the sequence `summary_key_serial`).
    Summary(u64),
}

impl KeyId {
    /// The `kind` column of `record_keys`.
    pub(crate) fn kind(self) -> &'static str {
        match self {
            KeyId::Citizen(_) => "c",
            KeyId::Question(_) => "q",
            KeyId::Summary(_) => "s",
        }
    }

    /// The id within the kind.
    pub(crate) fn id(self) -> u64 {
        match self {
            KeyId::Citizen(id) | KeyId::Question(id) | KeyId::Summary(id) => id,
        }
    }

    /// The key id of a `record_keys` row.
    pub(crate) fn from_row(kind: &str, id: u64) -> Option<KeyId> {
        match kind {
            "c" => Some(KeyId::Citizen(id)),
            "q" => Some(KeyId::Question(id)),
            "s" => Some(KeyId::Summary(id)),
            _ => None,
        }
    }

    fn encode(self) -> [u8; 9] {
        let mut out = [0; 9];
        out[0] = self.kind().as_bytes()[0];
        out[1..].copy_from_slice(&self.id().to_be_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Option<KeyId> {
        let id = u64::from_be_bytes(bytes.get(1..9)?.try_into().ok()?);
        let kind = [*bytes.first()?];
        KeyId::from_row(std::str::from_utf8(&kind).ok()?, id)
    }
}

/// A new random secret.
///
/// # Errors
/// No randomness.
pub(crate) fn new_secret() -> Result<Secret, StoreError> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)
        .map_err(|e| StoreError::Io(format!("no randomness for a key: {e}")))?;
    Ok(key)
}

/// Seals `plain` under `key` (whose id is `id`), bound to the record key `aad`.
///
/// # Errors
/// No randomness, or the cipher failed.
pub(crate) fn seal(
    id: KeyId,
    key: &Secret,
    aad: &[u8],
    plain: &[u8],
) -> Result<Vec<u8>, StoreError> {
    let mut nonce = [0u8; NONCE];
    getrandom::fill(&mut nonce)
        .map_err(|e| StoreError::Io(format!("no randomness for a nonce: {e}")))?;
    let cipher = XChaCha20Poly1305::new(key.into());
    let sealed = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
        .map_err(|_| StoreError::Io("sealing a record failed".into()))?;
    let mut out = Vec::with_capacity(SEALED.len() + 9 + NONCE + sealed.len());
    out.extend_from_slice(SEALED);
    out.extend_from_slice(&id.encode());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// The key id in the header of a stored value; `None` for one without a readable header.
pub(crate) fn key_of(stored: &[u8]) -> Option<KeyId> {
    stored
        .strip_prefix(SEALED)?
        .get(..9)
        .and_then(KeyId::decode)
}

/// Opens a stored value with the key `lookup` gives for its id: `Ok(None)` if there is no
/// such key any more (the record is erased).
///
/// # Errors
/// A value that is not sealed, or does not decrypt under its key.
pub(crate) fn open(
    lookup: impl Fn(KeyId) -> Option<Secret>,
    aad: &[u8],
    stored: &[u8],
) -> Result<Option<Vec<u8>>, StoreError> {
    let Some(rest) = stored.strip_prefix(SEALED) else {
        return Err(StoreError::Corrupt(
            "a record that must be sealed is not".into(),
        ));
    };
    let Some(id) = rest.get(..9).and_then(KeyId::decode) else {
        return Err(StoreError::Corrupt("a sealed record has no key id".into()));
    };
    let rest = &rest[9..];
    let Some(key) = lookup(id) else {
        return Ok(None);
    };
    if rest.len() < NONCE {
        return Err(StoreError::Corrupt("a sealed record is truncated".into()));
    }
    let (nonce, sealed) = rest.split_at(NONCE);
    let cipher = XChaCha20Poly1305::new((&key).into());
    cipher
        .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad })
        .map(Some)
        .map_err(|_| StoreError::Corrupt("a sealed record does not decrypt".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_under_its_key_only_and_names_it() {
        let key = new_secret().expect("key");
        let sealed = seal(KeyId::Question(7), &key, b"q7", b"geheimer Text").expect("seal");
        assert!(!sealed.windows(6).any(|w| w == b"geheim"));
        assert_eq!(key_of(&sealed), Some(KeyId::Question(7)));
        let found = |id| (id == KeyId::Question(7)).then_some(key);
        assert_eq!(
            open(found, b"q7", &sealed).expect("open"),
            Some(b"geheimer Text".to_vec())
        );
        assert!(open(found, b"q8", &sealed).is_err(), "other aad");
        assert_eq!(open(|_| None, b"q7", &sealed).expect("erased"), None);
    }
}
