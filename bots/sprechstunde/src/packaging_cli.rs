//! Commands for packagers and operators: shell completions and man pages generated from the
//! clap definition (so they never drift from `--help`), and the health check that container
//! runtimes call (`sprechstunde healthcheck`, since the image has no curl).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::{Cli, Command};
use crate::settings::Settings;

/// How long the health check waits for an answer before it calls the server unhealthy.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs the commands that only describe the command line and need no configuration
/// (`completions`, `man`); `None` for every other command.
pub fn without_settings(command: &Command) -> Option<anyhow::Result<()>> {
    match command {
        Command::Completions { shell } => Some(completions(*shell)),
        Command::Man { dir } => Some(man(dir.as_deref())),
        _ => None,
    }
}

/// Prints the completion script for `shell` to stdout.
fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "sprechstunde", &mut out);
    Ok(())
}

/// Prints the man page `sprechstunde(1)` to stdout, or writes it and one page per subcommand
/// (`sprechstunde-staff-add.1`, …) into `dir`.
fn man(dir: Option<&Path>) -> anyhow::Result<()> {
    // `help` is no command of its own in a man page (as `generate_to` does it, too).
    let cmd = Cli::command().disable_help_subcommand(true);
    match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cmd, dir)
                .with_context(|| format!("cannot write the man pages into {}", dir.display()))?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .context("cannot write the man page")?;
        }
    }
    Ok(())
}

/// The `/healthz` URL of the server listening on `listen`: a server listening on every
/// address (`0.0.0.0`, `[::]`, as in the container) is asked on loopback.
pub fn health_url(listen: SocketAddr) -> String {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/healthz", SocketAddr::new(ip, listen.port()))
}

/// Asks the running server's `/healthz` (at `url`, or at the configured listen address).
///
/// # Errors
/// No answer within five seconds, or an answer other than 200.
pub async fn healthcheck(url: Option<String>, settings: &Settings) -> anyhow::Result<()> {
    let url = match url {
        Some(base) => format!("{}/healthz", base.trim_end_matches('/')),
        None => health_url(settings.server.listen),
    };
    let client = reqwest::Client::builder()
        .timeout(HEALTH_TIMEOUT)
        .build()
        .context("cannot build an HTTP client")?;
    let response = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("no answer from {url}"))?;
    let status = response.status();
    anyhow::ensure!(status.is_success(), "{url} answered {status}");
    println!("healthy: {url}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_health_check_asks_loopback_for_a_server_listening_everywhere() {
        let cases = [
            ("0.0.0.0:8080", "http://127.0.0.1:8080/healthz"),
            ("[::]:8080", "http://[::1]:8080/healthz"),
            ("127.0.0.1:9000", "http://127.0.0.1:9000/healthz"),
            ("192.168.1.5:80", "http://192.168.1.5:80/healthz"),
        ];
        for (listen, url) in cases {
            assert_eq!(health_url(listen.parse().expect("address")), url);
        }
    }
}
