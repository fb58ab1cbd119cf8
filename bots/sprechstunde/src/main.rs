//! `sprechstunde`: run the server, manage staff, tokens and sessions.

use std::process::ExitCode;

use clap::Parser;
use sprechstunde::cli::{Cli, Command};
use sprechstunde::settings::StoreBackend;
use sprechstunde::{Application, init_logging};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sprechstunde: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // Completions and man pages describe the command line; no configuration can break them.
    if let Some(done) = sprechstunde::packaging_cli::without_settings(&cli.command) {
        return done;
    }
    let settings = cli.settings()?;
    match cli.command {
        Command::Serve { .. } => {
            init_logging(&settings.log.level);
            // Before the address is printed: whoever starts us may stop us right after.
            let stop_signals = stop_signals()?;
            if settings.store.backend == StoreBackend::Postgres {
                // Standby until this instance holds the lease (several may share the database).
                return sprechstunde::lease::serve(&settings, stop_signals).await;
            }
            let app = Application::build(&settings).await?;
            sprechstunde::readiness::announce(app.local_addr()?, &settings);
            let stop = app.shutdown_token();
            tokio::spawn(async move {
                stop_signals.await;
                stop.cancel();
            });
            app.run().await
        }
        command => sprechstunde::cli::admin(command, &settings).await,
    }
}

/// Resolves at the first SIGINT (Ctrl-C) or SIGTERM: systemd, containers and Kubernetes
/// stop a service with SIGTERM, and both mean the same graceful stop (deliveries in flight
/// finish and are recorded, so a restart does not send them again). The handlers are
/// installed before this returns, so a signal that comes right after start is not lost.
///
/// # Errors
/// A signal handler could not be installed.
fn stop_signals() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        let which = tokio::select! {
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
        };
        tracing::info!(signal = which, "stopping");
    })
}
