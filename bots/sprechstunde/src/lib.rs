//! The sprechstunde server and its command-line interface, as a library so that end-to-end
//! tests start exactly what `sprechstunde serve` starts.

pub mod app;
pub mod audit_cli;
pub mod backup_cli;
pub mod cli;
pub mod lease;
pub mod packaging_cli;
pub mod readiness;
pub mod record;
pub mod record_departments;
pub mod serve;
pub mod session_cli;
pub mod settings;
pub mod sign_on;
pub mod staff_cli;
pub mod web_security;

pub use app::Application;
pub use readiness::Readiness;
pub use settings::Settings;

/// Sets up logging to stderr. `RUST_LOG` overrides the configured level (and is the only way
/// to see matrix-sdk's own logs, which name users and rooms).
pub fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| {
            tracing_subscriber::EnvFilter::try_new(format!(
                "{level},{}",
                sprechstunde_matrix::QUIET_SDK_LOGS
            ))
        })
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only for a person at a terminal, not in log files and journals.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        // A log reader that went away (a dead collector, `… | head`) must not take the
        // server with it: tracing-subscriber would report the failed write with `eprintln!`,
        // which panics on the same broken stderr — in whichever task logged, the stop
        // signal's included.
        .log_internal_errors(false)
        .try_init();
}
