//! The departments (Fachämter) the record of processing lists as recipients.
//!
//! Admins create and rename departments in the console, so the configuration's
//! `[[departments]]` alone is not the truth. The record reads the store when it can: the
//! departments there, plus configured ones not yet created (the next start creates them). The
//! store cannot be read while the server runs (sled allows one process); then the record lists
//! the configured departments and says that the console has the full list.

use serde::Serialize;
use sprechstunde_core::StoreError;

use crate::settings::Settings;

/// The departments for the record and where the list comes from.
#[derive(Debug, Clone, Serialize)]
pub struct DepartmentList {
    /// Department names, in id order.
    pub names: Vec<String>,
    /// `store` (the data directory was read), `configuration` (no data directory yet: the
    /// configured departments are all there will be at first start), or
    /// `configuration_only` (the data directory is in use; console edits are missing).
    pub source: &'static str,
}

impl DepartmentList {
    /// Whether departments created in the console may be missing from [`DepartmentList::names`].
    pub fn may_be_incomplete(&self) -> bool {
        self.source == "configuration_only"
    }

    /// The configured departments only.
    pub fn configured(settings: &Settings, source: &'static str) -> DepartmentList {
        DepartmentList {
            names: settings
                .departments
                .iter()
                .map(|d| d.name.clone())
                .collect(),
            source,
        }
    }
}

/// Reads the departments as described in the module documentation.
///
/// # Errors
/// The data directory exists but is damaged or unreadable for another reason than being in
/// use.
pub async fn load(settings: &Settings) -> anyhow::Result<DepartmentList> {
    if settings.store.backend == crate::settings::StoreBackend::Postgres {
        // PostgreSQL serves any number of readers, also while the server runs.
        let store = crate::app::open_store(settings).await?;
        let stored = store.load().await?.departments;
        return Ok(with_configured(settings, stored));
    }
    let dir = &settings.server.data_dir;
    if !dir.exists() {
        return Ok(DepartmentList::configured(settings, "configuration"));
    }
    let store = match sprechstunde_store_sled::SledStore::open(dir) {
        Ok(store) => store,
        Err(StoreError::Locked) => {
            return Ok(DepartmentList::configured(settings, "configuration_only"));
        }
        Err(error) => {
            return Err(anyhow::Error::new(error)
                .context(format!("cannot read the data directory {}", dir.display())));
        }
    };
    let stored = sprechstunde_core::Store::load(&store).await?.departments;
    Ok(with_configured(settings, stored))
}

/// The stored departments plus the configured ones not created yet, in id order.
fn with_configured(
    settings: &Settings,
    mut stored: Vec<sprechstunde_core::Department>,
) -> DepartmentList {
    for d in &settings.departments {
        let created = stored.iter().any(|s| s.id.0 == d.id || s.slug == d.slug);
        if !created {
            stored.push(d.department());
        }
    }
    stored.sort_by_key(|d| d.id);
    DepartmentList {
        names: stored.into_iter().map(|d| d.name).collect(),
        source: "store",
    }
}
