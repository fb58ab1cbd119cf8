//! The command line: `serve`, and the administration commands that work on the data directory
//! while the server is stopped (`backup` and `staff unlock` ask the running server instead).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use sprechstunde_console::accounts::{format_token, new_token, sha256_hex};
use sprechstunde_core::{
    ApiToken, Input, OfficeHoursAction, Receipt, SessionAction, SessionDraft, SessionId,
    StaffAction, StaffId, StaffRef, Store,
};
use sprechstunde_runtime::SystemClock;

use crate::app::{open_office, open_store};
use crate::audit_cli;
use crate::settings::Settings;

/// sprechstunde — digital citizen office hours over Telegram, Matrix and web chat.
#[derive(Debug, Parser)]
#[command(name = "sprechstunde", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file with the keys that differ from the built-in default.
    #[arg(long, global = true, env = "SPRECHSTUNDE_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Data directory (overrides server.data_dir).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: web chat at /, staff console at /staff, API at /api/v1.
    Serve {
        /// Listen address (overrides server.listen), e.g. 127.0.0.1:8080.
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Staff accounts.
    #[command(subcommand)]
    Staff(crate::staff_cli::StaffCommand),
    /// API bearer tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Office-hour sessions.
    #[command(subcommand)]
    Session(SessionCommand),
    /// The audit trail of staff access: verify, list, purge.
    #[command(subcommand)]
    Audit(crate::audit_cli::AuditCommand),
    /// Copy the running server's store and keys into a new directory (sled; asks the server
    /// with an admin's API token).
    Backup(crate::backup_cli::BackupArgs),
    /// Bring a backup back into an empty data directory (the server stopped).
    Restore(crate::backup_cli::RestoreArgs),
    /// Data protection documents derived from the configuration.
    #[command(subcommand)]
    Privacy(crate::record::PrivacyCommand),
    /// Print the shell completion script, e.g. `sprechstunde completions bash >
    /// /etc/bash_completion.d/sprechstunde`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page sprechstunde(1); with --dir, write it and one page per command there.
    Man {
        /// Directory for sprechstunde.1, sprechstunde-serve.1, … (e.g. /usr/local/share/man/man1).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Exit 0 if the running server answers /healthz (for container health checks).
    Healthcheck {
        /// Base URL of the server; default: the configured listen address (0.0.0.0 → 127.0.0.1).
        #[arg(long, value_name = "URL")]
        url: Option<String>,
    },
}

/// `token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token acting as a staff member; it is printed once.
    Create {
        /// Login of the staff member the token acts as.
        #[arg(long)]
        staff: String,
        /// What the token is for, e.g. "Ratsinformationssystem".
        #[arg(long)]
        name: String,
    },
    /// List tokens (without secrets).
    List,
    /// Revoke a token by id.
    Revoke {
        /// Token id (the part after `spst_`).
        id: String,
    },
}

/// `session …`.
#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Schedule a session.
    Create(SessionArgs),
    /// List sessions.
    List,
    /// Cancel a session; questions waiting for it go to the citizens' office.
    Cancel {
        /// Session id.
        id: u64,
    },
    /// Reschedule or edit a session; subscribers are told of a new time.
    Update(crate::session_cli::SessionUpdateArgs),
}

/// Fields of a session.
#[derive(Debug, Args)]
pub struct SessionArgs {
    /// Title.
    #[arg(long)]
    title: String,
    /// Host, e.g. "Oberbürgermeisterin Muster".
    #[arg(long)]
    host: String,
    /// Description for citizens.
    #[arg(long, default_value = "")]
    description: String,
    /// Start: local time "2026-12-01T17:00" or RFC 3339.
    #[arg(long)]
    start: String,
    /// End: local time or RFC 3339.
    #[arg(long)]
    end: String,
    /// At most this many questions in the live queue.
    #[arg(long)]
    cap: Option<u32>,
    /// Accept questions this many minutes before the start.
    #[arg(long)]
    presubmit_minutes: Option<i64>,
    /// Channel the session is held on (web, telegram, matrix); repeat for several; none for all.
    #[arg(long = "channel", value_parser = parse_channel)]
    channels: Vec<sprechstunde_core::ChannelKind>,
    /// Repeat the session: `weekly`, or `monthly` (same nth weekday, e.g. every first
    /// Tuesday). Needs --count or --until.
    #[arg(long, value_parser = parse_repeat)]
    repeat: Option<sprechstunde_core::Repeat>,
    /// Number of sessions in a series (the first included).
    #[arg(long)]
    count: Option<u32>,
    /// Last date of a series, e.g. 2027-06-30.
    #[arg(long)]
    until: Option<jiff::civil::Date>,
}

fn parse_repeat(s: &str) -> Result<sprechstunde_core::Repeat, String> {
    match s.trim() {
        "weekly" | "woechentlich" | "wöchentlich" => Ok(sprechstunde_core::Repeat::Weekly),
        "monthly" | "monatlich" => Ok(sprechstunde_core::Repeat::Monthly),
        other => Err(format!("{other:?}: use weekly or monthly")),
    }
}

impl Cli {
    /// Loads the settings the command runs with.
    ///
    /// # Errors
    /// An invalid configuration.
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let mut settings = Settings::load(self.config.as_deref())?;
        if let Some(dir) = &self.data_dir {
            settings.server.data_dir.clone_from(dir);
        }
        if let Command::Serve {
            listen: Some(listen),
        } = &self.command
        {
            settings.server.listen = *listen;
        }
        Ok(settings)
    }
}

/// Runs an administration command.
///
/// # Errors
/// Whatever went wrong, in words for the operator.
pub async fn admin(command: Command, settings: &Settings) -> anyhow::Result<()> {
    if let Some(done) = crate::packaging_cli::without_settings(&command) {
        return done;
    }
    // Reads the data directory if it can, and works while the server runs too.
    if let Command::Privacy(c) = command {
        return crate::record::run(c, settings).await;
    }
    // Lockouts live in the running server: this one asks it, and needs no data directory.
    if let Command::Staff(crate::staff_cli::StaffCommand::Unlock {
        login,
        server,
        token_file,
    }) = &command
    {
        return crate::staff_cli::unlock(settings, login, server.as_deref(), token_file.as_ref())
            .await;
    }
    if let Command::Healthcheck { url } = command {
        return crate::packaging_cli::healthcheck(url, settings).await;
    }
    // The running server makes the copy; a restore writes a new data directory.
    match command {
        Command::Backup(args) => return crate::backup_cli::backup(args, settings).await,
        Command::Restore(args) => return crate::backup_cli::restore(args, settings).await,
        _ => {}
    }
    let store = open_store(settings).await?;
    match command {
        Command::Serve { .. }
        | Command::Privacy(_)
        | Command::Healthcheck { .. }
        | Command::Backup(_)
        | Command::Restore(_)
        | Command::Completions { .. }
        | Command::Man { .. } => unreachable_serve(),
        Command::Staff(c) => crate::staff_cli::run(c, settings, store).await,
        Command::Token(c) => token(c, &store).await,
        Command::Session(c) => session(c, settings, store).await,
        Command::Audit(c) => crate::audit_cli::run(c, settings, &store).await,
    }
}

fn unreachable_serve() -> anyhow::Result<()> {
    bail!("this is not an administration command on the data directory")
}

async fn token(command: TokenCommand, store: &Arc<dyn Store>) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create { staff, name } => {
            let member = store
                .staff_by_login(&staff)
                .await?
                .with_context(|| format!("no staff member with login {staff:?}"))?;
            let (id, secret) = new_token()?;
            store
                .put_token(&ApiToken {
                    id: id.clone(),
                    name,
                    staff: member.id,
                    secret_hash: sha256_hex(&secret),
                    created_at: jiff::Timestamp::now(),
                    revoked_at: None,
                })
                .await?;
            audit_cli::record_cli(
                &audit_cli::trail(store),
                "token.create",
                format!("token={id} staff={} login={staff}", member.id),
            )
            .await?;
            eprintln!("Token {id} created for {staff}. It is shown only now:");
            println!("{}", format_token(&id, &secret));
        }
        TokenCommand::List => {
            for t in store.tokens().await? {
                let state = t
                    .revoked_at
                    .map_or_else(|| "active".to_owned(), |at| format!("revoked {at}"));
                let used = store
                    .token_last_used(&t.id)
                    .await?
                    .map_or_else(|| "never used".to_owned(), |at| format!("last used {at}"));
                println!(
                    "{:<10} staff {:>4}  {:<30} {state}  {used}",
                    t.id, t.staff, t.name
                );
            }
        }
        TokenCommand::Revoke { id } => {
            let id = id.strip_prefix("spst_").unwrap_or(&id);
            let id = id.split('_').next().unwrap_or(id);
            let mut token = store
                .token(id)
                .await?
                .with_context(|| format!("no token with id {id:?}"))?;
            token.revoked_at = Some(jiff::Timestamp::now());
            store.put_token(&token).await?;
            audit_cli::record_cli(
                &audit_cli::trail(store),
                "token.revoke",
                format!("token={id} staff={}", token.staff),
            )
            .await?;
            println!("Token {id} revoked.");
        }
    }
    Ok(())
}

async fn session(
    command: SessionCommand,
    settings: &Settings,
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let office = open_office(settings, store, Arc::new(SystemClock)).await?;
    let cli = StaffRef {
        id: StaffId(0),
        name: "CLI".into(),
    };
    let zone = office.engine().policy().calendar.zone.clone();
    match command {
        SessionCommand::Create(a) => {
            let parse =
                |t: &str| sprechstunde_console::parse_time(t, &zone).map_err(anyhow::Error::msg);
            let draft = SessionDraft {
                channels: a.channels,
                title: a.title,
                host: a.host,
                description: a.description,
                starts_at: parse(&a.start)?,
                ends_at: parse(&a.end)?,
                question_cap: a.cap,
                presubmission: a
                    .presubmit_minutes
                    .map(SessionDraft::window_from_minutes)
                    .transpose()?,
            };
            let action = match a.repeat {
                Some(repeat) => StaffAction::OfficeHours(OfficeHoursAction::CreateSeries {
                    draft,
                    rule: sprechstunde_core::SeriesRule {
                        repeat,
                        count: a.count,
                        until: a.until,
                    },
                }),
                None if a.count.is_some() || a.until.is_some() => {
                    anyhow::bail!("--count and --until need --repeat weekly|monthly");
                }
                None => StaffAction::Session(SessionAction::Create(draft)),
            };
            let receipt = office
                .submit(Input::Staff { actor: cli, action })
                .await?
                .map_err(anyhow::Error::from)?;
            match receipt {
                Receipt::Session(id) => {
                    audit_cli::record_cli(
                        office.audit(),
                        "session.create",
                        format!("session={id}"),
                    )
                    .await?;
                    println!("Session {id} created.");
                }
                Receipt::Series(ids) => {
                    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
                    audit_cli::record_cli(
                        office.audit(),
                        "session.create_series",
                        format!("sessions={}", ids.join(",")),
                    )
                    .await?;
                    println!("Series created: sessions {}.", ids.join(", "));
                }
                _ => {}
            }
        }
        SessionCommand::List => {
            let lines = office
                .read(|state, engine, _| {
                    let cal = &engine.policy().calendar;
                    state
                        .sessions()
                        .map(|s| {
                            format!(
                                "{:>4}  {:<10} {} – {}  {}",
                                s.id,
                                format!("{:?}", s.status).to_lowercase(),
                                cal.format_datetime(s.starts_at, sprechstunde_core::Lang::De),
                                cal.format_time(s.ends_at, sprechstunde_core::Lang::De),
                                s.title
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .await;
            for line in lines {
                println!("{line}");
            }
        }
        SessionCommand::Cancel { id } => {
            office
                .submit(Input::Staff {
                    actor: cli,
                    action: StaffAction::Session(SessionAction::Cancel(SessionId(id))),
                })
                .await?
                .map_err(anyhow::Error::from)?;
            audit_cli::record_cli(office.audit(), "session.cancel", format!("session={id}"))
                .await?;
            println!("Session {id} cancelled.");
        }
        SessionCommand::Update(args) => crate::session_cli::update(args, &office, cli).await?,
    }
    Ok(())
}

/// A channel name for `--channel`.
pub(crate) fn parse_channel(name: &str) -> Result<sprechstunde_core::ChannelKind, String> {
    sprechstunde_core::ChannelKind::ALL
        .into_iter()
        .find(|c| c.as_str() == name.trim().to_ascii_lowercase())
        .ok_or_else(|| format!("unknown channel {name:?} (known: web, telegram, matrix, threema)"))
}
