//! `sprechstunde session update`: reschedule or edit a session from the command line.
//!
//! It sends the engine the same input the console API sends for `PUT /api/v1/sessions/{id}`
//! ([`SessionAction::Update`] with a whole [`SessionDraft`]), so subscribers are told of a
//! new time through the outbox exactly as when the press office moves it in the console. Only
//! the options given change; the rest is taken from the stored session.

use anyhow::{Context, bail};
use clap::Args;
use jiff::SignedDuration;
use sprechstunde_core::{
    ChannelKind, Input, Lang, Session, SessionAction, SessionDraft, SessionId, StaffAction,
};
use sprechstunde_runtime::Office;

use crate::audit_cli;

/// `session update ID …`: only what is given changes.
#[derive(Debug, Args)]
pub struct SessionUpdateArgs {
    /// Session id (see `sprechstunde session list`).
    id: u64,
    /// New title.
    #[arg(long)]
    title: Option<String>,
    /// New host.
    #[arg(long)]
    host: Option<String>,
    /// New description for citizens.
    #[arg(long)]
    description: Option<String>,
    /// New start: local time "2026-12-01T17:00" or RFC 3339. Without --end the session
    /// keeps its length.
    #[arg(long)]
    start: Option<String>,
    /// New end: local time or RFC 3339.
    #[arg(long)]
    end: Option<String>,
    /// At most this many questions in the live queue.
    #[arg(long, conflicts_with = "no_cap")]
    cap: Option<u32>,
    /// Remove the question cap.
    #[arg(long)]
    no_cap: bool,
    /// Accept questions this many minutes before the start.
    #[arg(long, conflicts_with = "no_presubmit")]
    presubmit_minutes: Option<i64>,
    /// Accept no questions before the start.
    #[arg(long)]
    no_presubmit: bool,
    /// Channel the session is held on (web, telegram, matrix); repeat for several. Replaces
    /// the session's channels.
    #[arg(long = "channel", value_parser = crate::cli::parse_channel, conflicts_with = "all_channels")]
    channels: Vec<ChannelKind>,
    /// Hold the session on every channel.
    #[arg(long)]
    all_channels: bool,
}

impl SessionUpdateArgs {
    /// Whether no change was asked for.
    fn changes_nothing(&self) -> bool {
        self.title.is_none()
            && self.host.is_none()
            && self.description.is_none()
            && self.start.is_none()
            && self.end.is_none()
            && self.cap.is_none()
            && !self.no_cap
            && self.presubmit_minutes.is_none()
            && !self.no_presubmit
            && self.channels.is_empty()
            && !self.all_channels
    }

    /// The draft the stored session `current` becomes, with local times in `zone`.
    fn draft(self, current: &Session, zone: &jiff::tz::TimeZone) -> anyhow::Result<SessionDraft> {
        let parse = |t: &str| sprechstunde_console::parse_time(t, zone).map_err(anyhow::Error::msg);
        let starts_at = match &self.start {
            Some(t) => parse(t)?,
            None => current.starts_at,
        };
        let ends_at = match (&self.end, &self.start) {
            (Some(t), _) => parse(t)?,
            // Moved without a new end: same length as before.
            (None, Some(_)) => starts_at
                .checked_add(current.ends_at.duration_since(current.starts_at))
                .context("the new start is too far in the future")?,
            (None, None) => current.ends_at,
        };
        let presubmission = match (self.presubmit_minutes, self.no_presubmit) {
            (Some(minutes), _) => Some(
                SignedDuration::try_from_mins(minutes)
                    .with_context(|| format!("--presubmit-minutes {minutes} is too large"))?,
            ),
            (None, true) => None,
            (None, false) => current.presubmission,
        };
        let channels = if self.all_channels {
            Vec::new()
        } else if self.channels.is_empty() {
            current.channels.clone()
        } else {
            self.channels
        };
        Ok(SessionDraft {
            title: self.title.unwrap_or_else(|| current.title.clone()),
            host: self.host.unwrap_or_else(|| current.host.clone()),
            description: self
                .description
                .unwrap_or_else(|| current.description.clone()),
            starts_at,
            ends_at,
            question_cap: if self.no_cap {
                None
            } else {
                self.cap.or(current.question_cap)
            },
            presubmission,
            channels,
        })
    }
}

/// Applies `args` to their session through the engine, as the console API does.
///
/// # Errors
/// An unknown session, a time that does not parse, a draft the engine refuses (e.g. an end
/// before the start, a session that is over), or the store failed.
pub async fn update(
    args: SessionUpdateArgs,
    office: &Office,
    actor: sprechstunde_core::StaffRef,
) -> anyhow::Result<()> {
    let id = SessionId(args.id);
    if args.changes_nothing() {
        bail!("nothing to change: give at least one of --title, --host, --start, --end, …");
    }
    let Some(current) = office
        .read(move |state, _, _| state.session(id).cloned())
        .await
    else {
        bail!("no session with id {id} (see `sprechstunde session list`)");
    };
    let zone = office.engine().policy().calendar.zone.clone();
    let draft = args.draft(&current, &zone)?;
    office
        .submit(Input::Staff {
            actor,
            action: StaffAction::Session(SessionAction::Update { id, draft }),
        })
        .await?
        .map_err(|refusal| anyhow::anyhow!("session {id} not changed: {refusal}"))?;
    audit_cli::record_cli(office.audit(), "session.update", format!("session={id}")).await?;
    let (was_start, was_end) = (current.starts_at, current.ends_at);
    let (when, moved) = office
        .read(move |state, engine, _| {
            state.session(id).map(|s| {
                let cal = &engine.policy().calendar;
                let when = format!(
                    "{} – {}",
                    cal.format_datetime(s.starts_at, Lang::De),
                    cal.format_time(s.ends_at, Lang::De)
                );
                (when, s.starts_at != was_start || s.ends_at != was_end)
            })
        })
        .await
        .unwrap_or_default();
    // The engine tells subscribers of a new time only (as for the console).
    let note = if moved {
        " Subscribers are told of the new time."
    } else {
        ""
    };
    println!("Session {id} updated: {when}.{note}");
    Ok(())
}
