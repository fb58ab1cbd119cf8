//! The staff queue phase of `sprechstunde-bench`: a store holding many questions (the
//! citizens' office works hundreds a day and keeps them for 90 days), then the staff reads over
//! HTTP with a bearer token, timed, and citizen intake timed alone and while staff clients
//! hammer the queue.
//!
//! Seeding goes through the runtime's `Office::submit`, the path every channel adapter takes
//! after translating its protocol: each input is durable before it returns. Channels, statuses,
//! departments, follow-ups, assignments and notes are mixed as a citizens' office would have
//! them; the last tenth of the questions is pre-submitted to a scheduled session, so their
//! queue positions are shown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;
use sprechstunde::Settings;
use sprechstunde::settings::DepartmentSettings;
use sprechstunde_core::{
    Channel, ChannelIdentity, ChannelKind, CitizenMessage, Delivery, DeliveryError, Input,
    QuestionAction, QuestionId, Receipt, SessionAction, SessionDraft, StaffAction, StaffRef,
    TriageAction,
};
use sprechstunde_runtime::Office;

use super::{Mode, Report};

/// What the queue phase is asked to do.
pub(crate) struct QueuePhase {
    /// Questions in the store before anything is timed.
    pub(crate) questions: u64,
    /// Timed requests per kind.
    pub(crate) requests: u64,
    /// Citizens writing during the intake measurement.
    pub(crate) citizens: usize,
    /// Citizen messages per intake measurement.
    pub(crate) messages: u64,
}

/// The staff requests that are timed: label and path.
const REQUESTS: [(&str, &str); 7] = [
    ("queue, default (all open questions)", "/api/v1/questions"),
    (
        "queue, first page (limit=200)",
        "/api/v1/questions?limit=200",
    ),
    (
        "queue, filtered (status=open&department=tiefbau)",
        "/api/v1/questions?status=open&department=tiefbau",
    ),
    (
        "queue, search over all (status=all&q=schlagloch goethestrasse)",
        "/api/v1/questions?status=all&q=schlagloch%20goethestrasse",
    ),
    (
        "queue, search, first page (…&limit=50)",
        "/api/v1/questions?status=all&q=strasse&limit=50",
    ),
    ("statistics JSON", "/api/v1/stats"),
    ("statistics CSV", "/api/v1/stats.csv"),
];

/// Runs the phase in its own server and data directory and prints its figures.
pub(crate) async fn run(phase: &QueuePhase) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut settings = Settings::load(None)?;
    settings.server.listen = "127.0.0.1:0".parse()?;
    settings.server.data_dir = dir.path().join("data");
    settings.limits.citizen_messages = 0;
    settings.limits.lift_web_chat_rate_limits();
    settings.departments = departments();
    let app = sprechstunde::Application::build(&settings).await?;
    let addr = app.local_addr()?;
    let office = app.office().clone();
    // Telegram and Matrix deliver at once, as healthy peers do; web citizens who left keep
    // their messages waiting for their return, as in real life.
    office.register_channel(Arc::new(Accepting(ChannelKind::Telegram)));
    office.register_channel(Arc::new(Accepting(ChannelKind::Matrix)));
    let stop = app.shutdown_token();
    let server = tokio::spawn(app.run());
    let base = super::app_base(addr);
    let (staff, bearer) = super::bench_staff(&office).await?;

    let started = Instant::now();
    seed(&office, &staff, phase.questions).await?;
    let seeded = started.elapsed();
    let (total, open) = office
        .read(|s, _, _| {
            (
                s.questions().count(),
                s.questions().filter(|q| q.is_open()).count(),
            )
        })
        .await;
    println!(
        "staff queue: seeded {total} questions ({open} open) in {:.1} s, {:.0} questions/s",
        seeded.as_secs_f64(),
        total as f64 / seeded.as_secs_f64()
    );

    let http = reqwest::Client::new();
    for (label, path) in REQUESTS {
        let timed = timed(&http, &base, &bearer, path, phase.requests).await?;
        println!(
            "{label}: p50 {:>8.2} ms, p99 {:>8.2} ms, {} items, {} KiB{}",
            timed.report.p50.as_secs_f64() * 1e3,
            timed.report.p99.as_secs_f64() * 1e3,
            timed.items,
            timed.bytes / 1024,
            timed
                .total
                .map(|t| format!(", X-Total-Count {t}"))
                .unwrap_or_default()
        );
    }

    let url = format!("ws://{addr}/ws");
    let alone = super::run(&url, phase.citizens, phase.messages, Mode::KeptOpen).await?;
    alone.print("intake while staff are idle");
    let hammering = Arc::new(AtomicBool::new(true));
    let served = Arc::new(AtomicU64::new(0));
    let mut hammers = tokio::task::JoinSet::new();
    for worker in 0..2 {
        let (http, base, bearer) = (http.clone(), base.clone(), bearer.clone());
        let (hammering, served) = (Arc::clone(&hammering), Arc::clone(&served));
        hammers
            .spawn(async move { hammer(&http, &base, &bearer, worker, &hammering, &served).await });
    }
    let loaded_start = Instant::now();
    let loaded = super::run(&url, phase.citizens, phase.messages, Mode::KeptOpen).await?;
    hammering.store(false, Ordering::Relaxed);
    while let Some(done) = hammers.join_next().await {
        done??;
    }
    let staff_rate = served.load(Ordering::Relaxed) as f64 / loaded_start.elapsed().as_secs_f64();
    loaded.print(&format!(
        "intake while 2 staff clients hammer queue and statistics ({staff_rate:.0} requests/s)"
    ));

    drop(office);
    stop.cancel();
    server.await??;
    Ok(())
}

/// Departments with routing keywords, as a town would configure them.
pub(crate) fn departments() -> Vec<DepartmentSettings> {
    let department = |id: u64, slug: &str, name: &str, keywords: &[&str]| DepartmentSettings {
        id,
        slug: slug.into(),
        name: name.into(),
        keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
        patterns: Vec::new(),
        requires_approval: false,
        text_modules: Vec::new(),
    };
    vec![
        department(
            1,
            "tiefbau",
            "Tiefbauamt",
            &["Schlagloch", "Gehweg", "Straßenbeleuchtung", "Baustelle"],
        ),
        department(
            2,
            "bauamt",
            "Bauordnungsamt",
            &["Bauantrag", "Baugenehmigung"],
        ),
        department(3, "ordnungsamt", "Ordnungsamt", &["Parken", "Lärm", "Hund"]),
        department(
            4,
            "abfall",
            "Abfallwirtschaft",
            &["Müll", "Sperrmüll", "Tonne"],
        ),
        department(
            5,
            "buergerbuero",
            "Bürgerbüro",
            &["Personalausweis", "Reisepass", "Anmeldung"],
        ),
    ]
}

const TOPICS: [&str; 10] = [
    "In der {street} ist seit Wochen ein tiefes Schlagloch vor Hausnummer {n}.",
    "Wann wird der Gehweg in der {street} endlich repariert? Mein Rollator bleibt hängen.",
    "Die Straßenbeleuchtung in der {street} ist nachts aus, das ist gefährlich.",
    "Wie lange dauert ein Bauantrag für einen Carport in der {street}?",
    "Vor der Schule in der {street} wird ständig falsch geparkt. Parken Sie dort bitte Kontrollen?",
    "Nachts ist in der {street} Lärm von der Gaststätte, bis 3 Uhr.",
    "Der Sperrmüll in der {street} wurde nicht abgeholt. Wer ist zuständig?",
    "Die Tonne in der {street} ist zu klein für unser Haus mit {n} Personen.",
    "Ich brauche schnell einen Reisepass, gibt es einen Termin im Bürgerbüro?",
    "Warum ist das Freibad im Sommer nur bis 19 Uhr geöffnet? Frage Nr. {n}.",
];

const STREETS: [&str; 8] = [
    "Goethestraße",
    "Schillerplatz",
    "Müllerweg",
    "Hauptstraße",
    "Am Bächle",
    "Lindenallee",
    "Friedrich-Ebert-Straße",
    "Große Gasse",
];

fn text(n: u64, salt: u64) -> String {
    let pick = n.wrapping_mul(2_654_435_761).wrapping_add(salt) >> 7;
    let topic = TOPICS[usize::try_from(pick % TOPICS.len() as u64).unwrap_or(0)];
    let street = STREETS[usize::try_from((pick / 16) % STREETS.len() as u64).unwrap_or(0)];
    topic
        .replace("{street}", street)
        .replace("{n}", &(n % 97 + 1).to_string())
}

/// What happens to question `n` after it came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Answered,
    Rejected,
    Withdrawn,
    Open,
}

fn fate(n: u64, in_session: bool) -> Fate {
    let r = n.wrapping_mul(11_400_714_819_323_198_485) >> 57; // 0..128
    let percent = r * 100 / 128;
    match (in_session, percent) {
        (_, 0..=2) => Fate::Withdrawn,
        (true, _) => Fate::Open,
        (false, 3..=6) => Fate::Rejected,
        (false, 7..=76) => Fate::Answered,
        (false, _) => Fate::Open,
    }
}

/// Seeds `total` questions with 64 concurrent writers; the last tenth after a scheduled
/// session with pre-submission has been created.
pub(crate) async fn seed(office: &Office, staff: &StaffRef, total: u64) -> anyhow::Result<()> {
    let office_share = total - total / 10;
    seed_range(office, staff, 0, office_share, false).await?;
    let now = office.now();
    let draft = SessionDraft {
        title: "Bürgersprechstunde mit der Oberbürgermeisterin".into(),
        host: "OB Muster".into(),
        description: String::new(),
        starts_at: now + jiff::SignedDuration::from_hours(2),
        ends_at: now + jiff::SignedDuration::from_hours(3),
        question_cap: None,
        presubmission: Some(jiff::SignedDuration::from_hours(24)),
        channels: Vec::new(),
    };
    office
        .submit(Input::Staff {
            actor: staff.clone(),
            action: StaffAction::Session(SessionAction::Create(draft)),
        })
        .await??;
    seed_range(office, staff, office_share, total, true).await
}

async fn seed_range(
    office: &Office,
    staff: &StaffRef,
    from: u64,
    to: u64,
    in_session: bool,
) -> anyhow::Result<()> {
    let next = Arc::new(AtomicU64::new(from));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let (office, staff, next) = (office.clone(), staff.clone(), Arc::clone(&next));
        tasks.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= to {
                    return anyhow::Ok(());
                }
                seed_one(&office, &staff, n, in_session).await?;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

/// One citizen: agrees, asks, sometimes follows up; then staff route, assign, note, answer or
/// reject as the question's fate says.
async fn seed_one(
    office: &Office,
    staff: &StaffRef,
    n: u64,
    in_session: bool,
) -> anyhow::Result<()> {
    let channel = match n % 10 {
        0..=5 => ChannelKind::Web,
        6..=8 => ChannelKind::Telegram,
        _ => ChannelKind::Matrix,
    };
    let identity = ChannelIdentity {
        channel,
        pseudonym: format!("bench-{n}"),
        address: format!("bench-{n}"),
    };
    let say = |text: String| {
        Input::Citizen(CitizenMessage {
            identity: identity.clone(),
            lang: None,
            text,
            intake_key: None,
            inline_errors: false,
            encrypted: None,
        })
    };
    agree(office, &identity, say("/einverstanden".into())).await?;
    let Receipt::Question { question, .. } = office.submit(say(text(n, 0))).await?? else {
        bail!("question {n} was not taken in");
    };
    if n.is_multiple_of(3) {
        office.submit(say(text(n, 1))).await??;
    }
    let act = |action: StaffAction| Input::Staff {
        actor: staff.clone(),
        action,
    };
    let fate = fate(n, in_session);
    if fate == Fate::Withdrawn {
        office.submit(say("/zurueckziehen".into())).await??;
        return Ok(());
    }
    // Most suggestions are confirmed; the rest stay with the citizens' office.
    if !n.is_multiple_of(5)
        && let Some(department) = suggestion(office, question).await
    {
        office
            .submit(act(StaffAction::Triage(TriageAction::Route {
                question,
                department: Some(department),
            })))
            .await??;
    }
    if n.is_multiple_of(4) {
        office
            .submit(act(StaffAction::Triage(TriageAction::Assign {
                question,
                assignee: Some(staff.clone()),
            })))
            .await??;
    }
    if n.is_multiple_of(7) {
        let text = "Rücksprache mit dem Fachamt gehalten.".into();
        office
            .submit(act(StaffAction::Question(QuestionAction::Note {
                question,
                text,
            })))
            .await??;
    }
    match fate {
        Fate::Answered => {
            let text = format!("Vielen Dank für Ihre Frage. Antwort der Verwaltung Nr. {n}.");
            office
                .submit(act(StaffAction::Question(QuestionAction::Answer {
                    question,
                    text,
                })))
                .await??;
        }
        Fate::Rejected => {
            let reason = "Dafür ist der Landkreis zuständig.".into();
            office
                .submit(act(StaffAction::Question(QuestionAction::Reject {
                    question,
                    reason,
                })))
                .await??;
        }
        Fate::Withdrawn | Fate::Open => {}
    }
    Ok(())
}

/// Agrees to the privacy notice as a citizen of any channel would: the web chat shows the
/// notice by itself, on Telegram and Matrix the first `/einverstanden` brings the notice
/// (nobody agrees to a text they have not seen) and the second one agrees.
async fn agree(office: &Office, identity: &ChannelIdentity, agree: Input) -> anyhow::Result<()> {
    for _ in 0..2 {
        office.submit(agree.clone()).await??;
        let agreed = office
            .read(|s, _, _| {
                s.citizen_by_pseudonym(identity.channel, &identity.pseudonym)
                    .is_some_and(|c| c.consent.is_some())
            })
            .await;
        if agreed {
            return Ok(());
        }
    }
    bail!("citizen {} did not get to agree", identity.pseudonym)
}

async fn suggestion(
    office: &Office,
    question: QuestionId,
) -> Option<sprechstunde_core::DepartmentId> {
    office
        .read(|s, _, _| {
            s.question(question)
                .and_then(|q| q.suggestion.as_ref().map(|x| x.department))
        })
        .await
}

/// A channel that takes every message at once.
pub(crate) struct Accepting(pub(crate) ChannelKind);

#[async_trait::async_trait]
impl Channel for Accepting {
    fn kind(&self) -> ChannelKind {
        self.0
    }

    async fn deliver(&self, _delivery: &Delivery) -> Result<(), DeliveryError> {
        Ok(())
    }
}

struct Timed {
    report: Report,
    items: usize,
    bytes: usize,
    total: Option<String>,
}

/// Sends `GET path` `requests` times one after the other and times each full response.
async fn timed(
    http: &reqwest::Client,
    base: &str,
    bearer: &str,
    path: &str,
    requests: u64,
) -> anyhow::Result<Timed> {
    let mut latencies = Vec::new();
    let (mut items, mut bytes, mut total) = (0, 0, None);
    let started = Instant::now();
    for _ in 0..requests {
        let sent = Instant::now();
        let response = http
            .get(format!("{base}{path}"))
            .bearer_auth(bearer)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("GET {path}: {}", response.status());
        }
        total = response
            .headers()
            .get("x-total-count")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.bytes().await?;
        latencies.push(sent.elapsed());
        bytes = body.len();
        items = count_items(&body);
    }
    Ok(Timed {
        report: Report::new(latencies, started.elapsed()),
        items,
        bytes,
        total,
    })
}

/// Questions or statistics rows in a response (CSV: lines without the header).
fn count_items(body: &[u8]) -> usize {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => ["questions", "stats"]
            .iter()
            .find_map(|k| v[k].as_array().map(Vec::len))
            .unwrap_or(0),
        Err(_) => body
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            .saturating_sub(1),
    }
}

/// One staff client: the requests above in turn, as fast as they come back, until told to stop.
async fn hammer(
    http: &reqwest::Client,
    base: &str,
    bearer: &str,
    worker: usize,
    hammering: &AtomicBool,
    served: &AtomicU64,
) -> anyhow::Result<()> {
    let mut i = worker;
    while hammering.load(Ordering::Relaxed) {
        let (_, path) = REQUESTS[i % REQUESTS.len()];
        let response = tokio::time::timeout(
            Duration::from_secs(60),
            http.get(format!("{base}{path}")).bearer_auth(bearer).send(),
        )
        .await
        .context("staff request took over 60 s")??;
        if !response.status().is_success() {
            bail!("GET {path}: {}", response.status());
        }
        response.bytes().await?;
        served.fetch_add(1, Ordering::Relaxed);
        i += 1;
    }
    Ok(())
}
