//! Logging in once and keeping the device: the session (user id, device id, access token) is
//! kept in `<data_dir>/matrix/session.json` (mode 0600) and restored on every start, so the
//! bot has one device for its whole life and its end-to-end keys (in matrix-sdk's SQLite
//! store under `<data_dir>/matrix/store/`) stay valid.

use std::path::{Path, PathBuf};
use std::time::Duration;

use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::config::RequestConfig;
use matrix_sdk::ruma::api::error::ErrorKind;
use matrix_sdk::ruma::{OwnedDeviceId, OwnedUserId};
use matrix_sdk::store::RoomLoadSettings;
use matrix_sdk::{Client, SessionMeta, SessionTokens, SqliteStoreConfig};
use serde::{Deserialize, Serialize};

use crate::MatrixError;
use crate::config::{Credential, Validated};

/// A request to the homeserver fails after this long (a sync adds its own long-poll time).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// matrix-sdk retries a failed request this often before reporting the failure; the outbox
/// and the sync loop retry on their own after that.
const REQUEST_RETRIES: usize = 2;

/// Where the adapter keeps its files.
#[derive(Debug, Clone)]
pub(crate) struct Paths {
    /// `<data_dir>/matrix`.
    pub(crate) dir: PathBuf,
}

impl Paths {
    pub(crate) fn new(data_dir: &Path) -> Self {
        Paths {
            dir: data_dir.join("matrix"),
        }
    }

    fn session(&self) -> PathBuf {
        self.dir.join("session.json")
    }

    fn store(&self) -> PathBuf {
        self.dir.join("store")
    }
}

/// What `session.json` holds.
#[derive(Clone, Serialize, Deserialize)]
struct StoredSession {
    user_id: OwnedUserId,
    device_id: OwnedDeviceId,
    access_token: String,
}

impl From<StoredSession> for MatrixSession {
    fn from(s: StoredSession) -> Self {
        MatrixSession {
            meta: SessionMeta {
                user_id: s.user_id,
                device_id: s.device_id,
            },
            tokens: SessionTokens {
                access_token: s.access_token,
                refresh_token: None,
            },
        }
    }
}

/// How the client gets its session.
enum Plan {
    /// Use this session as it is.
    Restore(StoredSession),
    /// Log in with the password; with a device id, the existing device is reused.
    Login(String, Option<OwnedDeviceId>),
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> MatrixError {
    MatrixError::Storage(format!("{}: {e}", path.display()))
}

fn read_session(path: &Path) -> Result<Option<StoredSession>, MatrixError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| io_error(path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path, e)),
    }
}

/// Writes a file readable only by its owner, atomically (temp file, then rename).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), MatrixError> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp).map_err(|e| io_error(&tmp, e))?;
    file.write_all(bytes).map_err(|e| io_error(&tmp, e))?;
    file.sync_all().map_err(|e| io_error(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_error(path, e))
}

fn create_private_dir(path: &Path) -> Result<(), MatrixError> {
    std::fs::create_dir_all(path).map_err(|e| io_error(path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| io_error(path, e))?;
    }
    Ok(())
}

/// Removes the SQLite store: it belongs to another device or account and cannot be used.
fn discard_store(paths: &Paths) -> Result<(), MatrixError> {
    let store = paths.store();
    if store.exists() {
        tracing::warn!("discarding the Matrix store of a previous device");
        std::fs::remove_dir_all(&store).map_err(|e| io_error(&store, e))?;
    }
    Ok(())
}

fn request_config() -> RequestConfig {
    RequestConfig::new()
        .timeout(REQUEST_TIMEOUT)
        .retry_limit(REQUEST_RETRIES)
}

/// What the homeserver says about an access token.
enum TokenCheck {
    /// Valid, for this user and device.
    Valid(OwnedUserId, Option<OwnedDeviceId>),
    /// The homeserver rejected it.
    Invalid,
    /// The homeserver did not answer.
    Unreachable(String),
}

/// Asks `/account/whoami` with a throw-away client that has no store.
async fn check_token(config: &Validated, token: &str) -> Result<TokenCheck, MatrixError> {
    let probe = Client::builder()
        .homeserver_url(config.homeserver.as_str())
        .request_config(request_config())
        .build()
        .await
        .map_err(|e| MatrixError::Client(e.to_string()))?;
    // The device id is a placeholder: this client never syncs or encrypts.
    let placeholder = StoredSession {
        user_id: config.user.clone(),
        device_id: "SPRECHSTUNDEPROBE".into(),
        access_token: token.to_owned(),
    };
    probe
        .matrix_auth()
        .restore_session(placeholder.into(), RoomLoadSettings::default())
        .await
        .map_err(|e| MatrixError::Client(e.to_string()))?;
    match probe.whoami().await {
        Ok(who) => Ok(TokenCheck::Valid(who.user_id, who.device_id)),
        Err(e) => match e.client_api_error_kind() {
            Some(ErrorKind::UnknownToken(_) | ErrorKind::MissingToken) => Ok(TokenCheck::Invalid),
            _ if e.as_client_api_error().is_some() => Ok(TokenCheck::Invalid),
            _ => Ok(TokenCheck::Unreachable(e.to_string())),
        },
    }
}

async fn plan(config: &Validated, paths: &Paths) -> Result<Plan, MatrixError> {
    let stored = read_session(&paths.session())?.filter(|s| s.user_id == config.user);
    match &config.credential {
        Credential::AccessToken(token) => {
            if let Some(s) = stored.as_ref().filter(|s| &s.access_token == token) {
                return Ok(Plan::Restore(s.clone()));
            }
            match check_token(config, token).await? {
                TokenCheck::Valid(user, Some(device)) if user == config.user => {
                    if stored.as_ref().is_none_or(|s| s.device_id != device) {
                        discard_store(paths)?;
                    }
                    Ok(Plan::Restore(StoredSession {
                        user_id: user,
                        device_id: device,
                        access_token: token.clone(),
                    }))
                }
                TokenCheck::Valid(_, Some(_)) => Err(MatrixError::Config {
                    key: "matrix.access_token".into(),
                    reason: "the token belongs to another user than matrix.user".into(),
                }),
                TokenCheck::Valid(_, None) => Err(MatrixError::Config {
                    key: "matrix.access_token".into(),
                    reason: "the token has no device (use a token from a login)".into(),
                }),
                TokenCheck::Invalid => Err(MatrixError::Config {
                    key: "matrix.access_token".into(),
                    reason: "the homeserver does not accept the token".into(),
                }),
                TokenCheck::Unreachable(e) => Err(MatrixError::Unreachable(e)),
            }
        }
        Credential::Password(password) => match stored {
            Some(s) => match check_token(config, &s.access_token).await? {
                TokenCheck::Invalid => {
                    tracing::info!("the stored Matrix session expired; logging in again");
                    Ok(Plan::Login(password.clone(), Some(s.device_id)))
                }
                // Unreachable: restore anyway; the sync loop waits for the homeserver.
                _ => Ok(Plan::Restore(s)),
            },
            None => {
                discard_store(paths)?;
                Ok(Plan::Login(password.clone(), None))
            }
        },
    }
}

/// A logged-in client with its SQLite state and crypto store (encrypted with `store_key`), on
/// the bot's one device.
pub(crate) async fn connect(
    config: &Validated,
    paths: &Paths,
    store_key: &[u8; 32],
) -> Result<Client, MatrixError> {
    create_private_dir(&paths.dir)?;
    let plan = plan(config, paths).await?;
    // A raw key, not a passphrase: it is already a keyed hash, and a passphrase would cost
    // a PBKDF2 run (200,000 rounds) per store at every start.
    let store = SqliteStoreConfig::new(paths.store()).key(Some(store_key));
    let client = Client::builder()
        .homeserver_url(config.homeserver.as_str())
        .sqlite_store_with_config_and_cache_path(store, None::<PathBuf>)
        .request_config(request_config())
        .build()
        .await
        .map_err(|e| MatrixError::Client(e.to_string()))?;
    match plan {
        Plan::Restore(session) => {
            client
                .matrix_auth()
                .restore_session(session.into(), RoomLoadSettings::default())
                .await
                .map_err(|e| MatrixError::Client(e.to_string()))?;
        }
        Plan::Login(password, device) => {
            let mut login = client
                .matrix_auth()
                .login_username(config.user.as_str(), &password)
                .initial_device_display_name(&config.device_name);
            if let Some(device) = &device {
                login = login.device_id(device.as_str());
            }
            login
                .send()
                .await
                .map_err(|e| match e.client_api_error_kind() {
                    Some(ErrorKind::Forbidden) => MatrixError::Config {
                        key: "matrix.password".into(),
                        reason: "the homeserver refused the login".into(),
                    },
                    _ => MatrixError::Unreachable(e.to_string()),
                })?;
            let session = client
                .matrix_auth()
                .session()
                .ok_or_else(|| MatrixError::Client("no session after login".into()))?;
            let stored = StoredSession {
                user_id: session.meta.user_id,
                device_id: session.meta.device_id,
                access_token: session.tokens.access_token,
            };
            let json = serde_json::to_vec_pretty(&stored)
                .map_err(|e| MatrixError::Client(e.to_string()))?;
            write_private(&paths.session(), &json)?;
            tracing::info!("logged in to Matrix; session saved");
        }
    }
    Ok(client)
}

/// Stores the session when it came from a configured access token (nothing new to write
/// after a password login, which saved it already).
pub(crate) fn remember(client: &Client, paths: &Paths) -> Result<(), MatrixError> {
    let Some(session) = client.matrix_auth().session() else {
        return Ok(());
    };
    let stored = StoredSession {
        user_id: session.meta.user_id,
        device_id: session.meta.device_id,
        access_token: session.tokens.access_token,
    };
    if read_session(&paths.session())?
        .is_some_and(|s| s.device_id == stored.device_id && s.access_token == stored.access_token)
    {
        return Ok(());
    }
    let json =
        serde_json::to_vec_pretty(&stored).map_err(|e| MatrixError::Client(e.to_string()))?;
    write_private(&paths.session(), &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_file_is_private_and_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = Paths::new(dir.path());
        create_private_dir(&paths.dir).expect("dir");
        let session = StoredSession {
            user_id: "@bot:localhost".try_into().expect("user"),
            device_id: "DEVICE".into(),
            access_token: "syt_token".into(),
        };
        let json = serde_json::to_vec(&session).expect("json");
        write_private(&paths.session(), &json).expect("write");
        let back = read_session(&paths.session()).expect("read").expect("some");
        assert_eq!(back.device_id.as_str(), "DEVICE");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(paths.session())
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
