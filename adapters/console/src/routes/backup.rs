//! `POST /backup`: a consistent copy of the running server's store and keys, for
//! `sprechstunde backup DIR` (administrators only). The server makes the copy inside the
//! process, because the embedded store cannot be copied from outside while it runs; what the
//! copy holds and how it is made belongs to whoever set [`crate::Console::with_backup`].
//! Every call is in the audit trail (as every API request).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use sprechstunde_core::Permission;

use crate::Console;
use crate::auth::Staff;
use crate::error::ApiError;

/// Makes a backup: the bytes of the archive, or what went wrong (for the log).
pub type BackupFn =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<Vec<u8>, String>> + Send>> + Send + Sync>;

/// A [`BackupFn`] in the console's state.
#[derive(Clone)]
pub(crate) struct Maker(BackupFn);

impl std::fmt::Debug for Maker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BackupFn")
    }
}

impl Console {
    /// Serves backups with `make` at `POST /api/v1/backup`. Without it (a store backed up by
    /// its own tools, PostgreSQL) the route answers 409.
    pub fn with_backup(mut self, make: BackupFn) -> Self {
        self.backup = Some(Maker(make));
        self
    }
}

/// `POST /backup`.
pub(crate) async fn create(
    State(console): State<Console>,
    staff: Staff,
) -> Result<impl IntoResponse, ApiError> {
    staff.require(Permission::ManageDepartments)?;
    let Some(Maker(make)) = console.backup.clone() else {
        return Err(ApiError::Conflict(
            "this store is not backed up through the server: use the database's own tools \
             (PostgreSQL: pg_dump, see docs/operations.md)"
                .into(),
        ));
    };
    let archive = make().await.map_err(|error| {
        tracing::error!(%error, "the backup failed");
        ApiError::Unavailable
    })?;
    tracing::info!(staff = %staff.member.id, bytes = archive.len(), "backup handed out");
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"sprechstunde-backup\"",
            ),
        ],
        archive,
    ))
}
