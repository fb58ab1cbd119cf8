//! `sprechstunde`: run the server, manage staff, tokens and sessions.

use std::process::ExitCode;

use clap::Parser;
use sprechstunde::cli::{Cli, Command};
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
            let app = Application::build(&settings).await?;
            let addr = app.local_addr()?;
            let stopped = stop_signal();
            println!(
                "sprechstunde listening on http://{addr} (web chat: /, staff console: /staff, data: {})",
                settings.server.data_dir.display()
            );
            let stop = app.shutdown_token();
            tokio::spawn(async move {
                stopped.await;
                stop.cancel();
            });
            app.run().await
        }
        command => sprechstunde::cli::admin(command, &settings).await,
    }
}

/// Listens for SIGINT (Ctrl+C) and SIGTERM, which `systemctl stop` and `docker stop` send,
/// from now on: the handlers are installed before the server says it is listening, so that a
/// stop right after the start is graceful too. The future ends at the first of them.
fn stop_signal() -> impl Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    async move {
        match (interrupt, terminate) {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            }
            (Err(error), _) | (_, Err(error)) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl+C stops the server gracefully");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}
