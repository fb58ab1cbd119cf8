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
    let settings = cli.settings()?;
    match cli.command {
        Command::Serve { .. } => {
            init_logging(&settings.log.level);
            let app = Application::build(&settings).await?;
            let addr = app.local_addr()?;
            println!(
                "sprechstunde listening on http://{addr} (web chat: /, staff console: /staff, data: {})",
                settings.server.data_dir.display()
            );
            let stop = app.shutdown_token();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                stop.cancel();
            });
            app.run().await
        }
        command => sprechstunde::cli::admin(command, &settings).await,
    }
}
