//! `TestApp`: the real server on `127.0.0.1:0` with sled in a temp dir, stoppable and
//! restartable on the same data directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use sprechstunde::app::ShutdownToken;
use sprechstunde::{Application, Settings};
use sprechstunde_runtime::{Clock, Office, SystemClock};
use tokio::task::JoinHandle;

use crate::citizen::Citizen;
use crate::staff::StaffClient;

/// A running server.
pub struct TestApp {
    /// Bound address.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Data directory.
    pub data_dir: PathBuf,
    office: Office,
    web: sprechstunde_webchat::WebChannel,
    stop: ShutdownToken,
    handle: JoinHandle<anyhow::Result<()>>,
}

/// Settings for tests: defaults, port 0, the given data dir. Every test client connects from
/// 127.0.0.1, so the web chat's per-address limits and its ceiling on new conversations are
/// off (a test that creates 200 citizens is not an attack); the tests of those limits turn
/// them on.
pub fn test_settings(data_dir: &Path) -> Settings {
    let mut settings = Settings::load(None).expect("default settings load");
    settings.server.listen = "127.0.0.1:0".parse().expect("addr");
    settings.server.data_dir = data_dir.to_owned();
    settings.limits.address_messages_per_minute = 0;
    settings.limits.address_new_conversations_per_minute = 0;
    settings.limits.new_conversations_per_minute = 0;
    settings
}

impl TestApp {
    /// Starts a server on `data_dir` with the system clock.
    ///
    /// # Errors
    /// The server could not start.
    pub async fn start(data_dir: &Path) -> anyhow::Result<TestApp> {
        Self::start_with(test_settings(data_dir), Arc::new(SystemClock)).await
    }

    /// Starts a server with these settings and clock.
    ///
    /// # Errors
    /// The server could not start.
    pub async fn start_with(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<TestApp> {
        let app = Application::build_with_clock(&settings, clock).await?;
        let addr = app.local_addr()?;
        let office = app.office().clone();
        let web = app.web_channel().clone();
        let stop = app.shutdown_token();
        let handle = tokio::spawn(app.run());
        Ok(TestApp {
            addr,
            base: format!("http://{addr}"),
            data_dir: settings.server.data_dir,
            office,
            web,
            stop,
            handle,
        })
    }

    /// The office inside, for assertions on state.
    pub fn office(&self) -> &Office {
        &self.office
    }

    /// Open web chat connections.
    pub fn webchat_connections(&self) -> usize {
        self.web.connections()
    }

    /// Waits until the server has noticed that every web chat connection closed.
    ///
    /// # Panics
    /// If that takes longer than the deadline.
    pub async fn wait_until_web_chat_idle(&self) {
        let deadline = tokio::time::Instant::now() + crate::DEADLINE;
        while self.webchat_connections() > 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "web chat socket still registered"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// Stops the server and waits until the data directory is released.
    ///
    /// # Errors
    /// The server failed while running.
    pub async fn stop(self) -> anyhow::Result<()> {
        let TestApp {
            office,
            stop,
            handle,
            ..
        } = self;
        drop(office);
        stop.cancel();
        tokio::time::timeout(crate::DEADLINE, handle)
            .await
            .context("server did not stop in time")??
    }

    /// A new citizen in the web chat (German).
    ///
    /// # Errors
    /// The WebSocket could not be opened.
    pub async fn citizen(&self) -> anyhow::Result<Citizen> {
        Citizen::connect(self.addr, None, "de").await
    }

    /// A logged-in staff member with these roles (created directly in the store).
    ///
    /// # Errors
    /// Creating or logging in failed.
    pub async fn staff(&self, login: &str, roles: &[&str]) -> anyhow::Result<StaffClient> {
        StaffClient::create_and_login(self, login, roles).await
    }
}
