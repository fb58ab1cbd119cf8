//! End-to-end tests of sprechstunde against real peers: sockets on loopback, sled on disk,
//! headless Chromium.
//!
//! The library holds the harnesses the tests share; the tests themselves live in `tests/`.
//! Run everything with `scripts/test.sh`, which also installs the peers the tests need.

pub mod app;
pub mod browser;
pub mod citizen;
pub mod disk;
pub mod modules;
pub mod oidc;
pub mod smtp;
pub mod staff;
pub mod synapse;
pub mod telegram;
pub mod threema;

/// How long a test waits for something that should happen at once.
pub const DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);
