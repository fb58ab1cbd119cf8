//! Translation of sled and serde errors into [`StoreError`], with context.
//!
//! JSON errors are reported by category and position only: serde's own messages can quote
//! the offending value, and stored values contain citizens' words.

use std::fmt::Display;
use std::io::ErrorKind;

use sled::transaction::TransactionError;
use sprechstunde_core::StoreError;

/// A sled failure during `context`.
pub(crate) fn storage(context: impl Display, e: sled::Error) -> StoreError {
    match e {
        sled::Error::Corruption { at, .. } => {
            // sled's own message is a debug dump with a backtrace; say where instead.
            let place = match at {
                Some(sled::DiskPtr::Inline(offset)) => {
                    format!("a damaged record at byte {offset} of the file `db`")
                }
                Some(sled::DiskPtr::Blob(_, blob)) => {
                    format!("a damaged record in the file `blobs/{blob}`")
                }
                None => {
                    "a damaged record in the database files (`db`, `conf` or `snap.*`)".to_owned()
                }
            };
            StoreError::Corrupt(format!("{context}: {place} (its checksum does not match)"))
        }
        other => StoreError::Io(format!("{context}: {other}")),
    }
}

/// Says, for damaged data, which directory and what to do about it.
pub(crate) fn with_advice(dir: &std::path::Path, e: StoreError) -> StoreError {
    match e {
        StoreError::Corrupt(what) => {
            let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
            StoreError::Corrupt(format!(
                "{what}, in the data directory {dir}. The store cannot be used as it is: stop \
             the server, keep the damaged directory for analysis, and restore {dir} from \
             your latest backup. Database file: {db}",
                dir = dir.display(),
                db = dir.join("db").display()
            ))
        }
        other => other,
    }
}

/// A failed sled transaction: an abort carries our own error, anything else is storage.
pub(crate) fn transaction(context: impl Display, e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => storage(context, e),
    }
}

/// A failure of `sled::Config::open`: a held lock is [`StoreError::Locked`].
pub(crate) fn open(e: sled::Error) -> StoreError {
    if is_lock_conflict(&e) {
        StoreError::Locked
    } else {
        storage("opening the database", e)
    }
}

/// sled 0.34.7 wraps the `WouldBlock` of `try_lock_exclusive` into an `Other` io error whose
/// message starts "could not acquire lock" (`Config::try_lock`); both forms are accepted.
fn is_lock_conflict(e: &sled::Error) -> bool {
    match e {
        sled::Error::Io(io) => {
            io.kind() == ErrorKind::WouldBlock || io.to_string().contains("could not acquire lock")
        }
        _ => false,
    }
}

/// A stored value that does not decode.
pub(crate) fn undecodable(what: impl Display, e: &serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!(
        "{what}: undecodable JSON ({:?} error at line {} column {})",
        e.classify(),
        e.line(),
        e.column()
    ))
}

/// A value that does not encode (not expected for the domain types).
pub(crate) fn unencodable(what: impl Display, e: &serde_json::Error) -> StoreError {
    StoreError::Io(format!(
        "{what}: cannot encode as JSON ({:?} error)",
        e.classify()
    ))
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    #[test]
    fn sleds_lock_message_is_recognised_as_locked() {
        let e = sled::Error::Io(io::Error::other(
            "could not acquire lock on \"/x/db\": Os { code: 11, kind: WouldBlock }",
        ));
        assert!(matches!(open(e), StoreError::Locked));
    }

    #[test]
    fn other_io_errors_on_open_are_io() {
        let e = sled::Error::Io(io::Error::from(ErrorKind::PermissionDenied));
        assert!(matches!(open(e), StoreError::Io(_)));
    }

    #[test]
    fn json_errors_do_not_quote_the_stored_value() {
        let e = serde_json::from_slice::<u64>(br#""Meine Adresse ist geheim""#)
            .expect_err("a string is not a number");
        let StoreError::Corrupt(message) = undecodable("question 1", &e) else {
            panic!("not corrupt");
        };
        assert!(!message.contains("geheim"), "{message}");
    }
}
