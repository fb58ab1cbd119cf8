//! The on-disk layout: tree names and key encodings.
//!
//! Engine data lives in one tree so that a whole batch of [`Change`](sprechstunde_core::Change)s
//! is one atomic `sled::Batch`. Entity keys are a one-byte prefix followed by the id as a
//! big-endian `u64`, so a prefix scan yields entities in id order. Meta keys start with `m/`.
//! Staff, tokens and logins have trees of their own.

use sprechstunde_core::StoreError;

/// The tree holding sessions, questions, citizens, outbox messages and counters.
pub(crate) const ENGINE_TREE: &str = "engine";
/// Staff members by id.
pub(crate) const STAFF_TREE: &str = "staff";
/// Login name → staff id; keeps login names unique.
pub(crate) const STAFF_BY_LOGIN_TREE: &str = "staff_by_login";
/// API tokens by token id.
pub(crate) const TOKENS_TREE: &str = "tokens";
/// Console logins by the hash of their secret.
pub(crate) const LOGINS_TREE: &str = "logins";
/// Last use of each API token, by token id (a timestamp as JSON).
pub(crate) const TOKEN_USES_TREE: &str = "token_uses";
/// The audit trail (see `audit.rs` for its keys).
pub(crate) const AUDIT_TREE: &str = "audit";

/// Key prefix of sessions.
pub(crate) const SESSION: u8 = b's';
/// Key prefix of questions (the question without its thread, or, as written before layout 2,
/// with it).
pub(crate) const QUESTION: u8 = b'q';
/// Key prefix of thread entries: the question's id, then the entry's position (big-endian
/// `u32`), so a prefix scan yields each thread in order.
pub(crate) const ENTRY: u8 = b't';
/// Key prefix of citizens.
pub(crate) const CITIZEN: u8 = b'c';
/// Key prefix of outbox messages.
pub(crate) const OUTBOX: u8 = b'o';
/// Key prefix of departments.
pub(crate) const DEPARTMENT: u8 = b'd';
/// Key prefix of session summaries (by session id).
pub(crate) const SUMMARY: u8 = b'y';
/// Key prefix of the staff mail queue (no citizen data: references and staff ids only).
pub(crate) const MAIL: u8 = b'e';

/// The id counters.
pub(crate) const COUNTERS_KEY: &[u8] = b"m/counters";
/// The layout version, written when a store is created.
pub(crate) const FORMAT_KEY: &[u8] = b"m/format";
/// The layout version this crate writes: 2 keeps thread entries under keys of their own.
pub(crate) const FORMAT_VERSION: &[u8] = b"2";
/// Older layout versions this crate reads (and upgrades by writing): 1 kept each thread
/// inside its question's record.
pub(crate) const FORMAT_READABLE: &[&[u8]] = &[b"1"];

/// The key of an entity: prefix, then the id big-endian.
pub(crate) fn entity(prefix: u8, id: u64) -> [u8; 9] {
    let mut key = [0; 9];
    key[0] = prefix;
    key[1..].copy_from_slice(&id.to_be_bytes());
    key
}

/// The key of entry `index` of question `question`'s thread.
pub(crate) fn entry(question: u64, index: u32) -> [u8; 13] {
    let mut key = [0; 13];
    key[0] = ENTRY;
    key[1..9].copy_from_slice(&question.to_be_bytes());
    key[9..].copy_from_slice(&index.to_be_bytes());
    key
}

/// The question id and position in a thread entry key read back from a prefix scan.
///
/// # Errors
/// [`StoreError::Corrupt`] if the key is not the prefix, eight and four bytes.
pub(crate) fn entry_of(key: &[u8]) -> Result<(u64, u32), StoreError> {
    match key.split_first() {
        Some((&ENTRY, rest)) if rest.len() == 12 => {
            let question = decode_id(&rest[..8], "thread entry key")?;
            let mut index = [0; 4];
            index.copy_from_slice(&rest[8..]);
            Ok((question, u32::from_be_bytes(index)))
        }
        _ => Err(StoreError::Corrupt(format!(
            "unexpected thread entry key {key:?}"
        ))),
    }
}

/// The id in an entity key read back from a prefix scan.
///
/// # Errors
/// [`StoreError::Corrupt`] if the key is not a prefix plus eight bytes.
pub(crate) fn entity_id(prefix: u8, key: &[u8]) -> Result<u64, StoreError> {
    match key.split_first() {
        Some((&p, rest)) if p == prefix => decode_id(rest, "entity key"),
        _ => Err(StoreError::Corrupt(format!(
            "unexpected key {key:?} under prefix {:?}",
            char::from(prefix)
        ))),
    }
}

/// A staff id as a key or index value.
pub(crate) fn id(id: u64) -> [u8; 8] {
    id.to_be_bytes()
}

/// Decodes a big-endian `u64` id.
///
/// # Errors
/// [`StoreError::Corrupt`] if `bytes` is not eight bytes long.
pub(crate) fn decode_id(bytes: &[u8], what: &str) -> Result<u64, StoreError> {
    let bytes: [u8; 8] = bytes.try_into().map_err(|_| {
        StoreError::Corrupt(format!(
            "{what}: expected an 8-byte id, found {} bytes",
            bytes.len()
        ))
    })?;
    Ok(u64::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_keys_sort_by_id() {
        assert!(entity(QUESTION, 2) < entity(QUESTION, 10));
        assert!(entity(QUESTION, 255) < entity(QUESTION, 256));
    }

    #[test]
    fn thread_entry_keys_sort_by_question_then_position_and_round_trip() {
        assert!(entry(1, 300) < entry(2, 0));
        assert!(entry(7, 255) < entry(7, 256));
        assert_eq!(entry_of(&entry(7, 256)).ok(), Some((7, 256)));
        assert!(matches!(
            entry_of(&entity(QUESTION, 7)),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn entity_keys_round_trip() {
        assert_eq!(entity_id(OUTBOX, &entity(OUTBOX, 42)).ok(), Some(42));
    }

    #[test]
    fn malformed_keys_are_corrupt_not_a_panic() {
        assert!(matches!(
            entity_id(OUTBOX, b"o12"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            entity_id(OUTBOX, b""),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            entity_id(OUTBOX, &entity(SESSION, 1)),
            Err(StoreError::Corrupt(_))
        ));
    }
}
