//! Translation of PostgreSQL and serde errors into [`StoreError`], with context.
//!
//! The database's messages name constraints and columns, never values (the store sends
//! every value as a parameter), and JSON errors are reported by category and position only:
//! stored values contain citizens' words.

use std::fmt::Display;

use sprechstunde_core::StoreError;

/// A PostgreSQL failure during `context`: a unique violation is a conflict, anything else
/// is I/O (the connection, the server, the disk).
pub(crate) fn pg(context: impl Display, e: &tokio_postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        if db.code() == &tokio_postgres::error::SqlState::UNIQUE_VIOLATION {
            return StoreError::Conflict(format!(
                "{context}: {}",
                db.constraint().unwrap_or("a unique value")
            ));
        }
        return StoreError::Io(format!(
            "{context}: {} ({})",
            db.message(),
            db.code().code()
        ));
    }
    StoreError::Io(format!("{context}: {e}"))
}

/// No connection from the pool.
pub(crate) fn pool(e: &deadpool_postgres::PoolError) -> StoreError {
    StoreError::Io(format!("no database connection: {e}"))
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

/// A `u64` id or number as PostgreSQL's `bigint`.
pub(crate) fn to_db(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Io(format!("{n} is too large for the database")))
}

/// A `bigint` read back as `u64`.
pub(crate) fn from_db(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative id {n} in the database")))
}
