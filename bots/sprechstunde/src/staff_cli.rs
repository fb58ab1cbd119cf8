//! `sprechstunde staff …`: staff accounts, their roles and department membership.
//!
//! A department id given here must name a department the office knows: one from
//! `[[departments]]` (created at first start, here too) or one an admin created in the console.
//! Department staff (`--role department`) need a department: without one they would see no
//! question at all.

use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Subcommand;
use sprechstunde_console::accounts::hash_password;
use sprechstunde_core::{DepartmentId, Role, StaffId, StaffMember, Store};
use sprechstunde_runtime::SystemClock;

use crate::app::open_office;
use crate::audit_cli;
use crate::settings::Settings;

/// `staff …`.
#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create a staff account. The password is read from --password-file, or asked for.
    Add {
        /// Login name.
        #[arg(long)]
        login: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Role (repeat for several): citizens_office, department, host, press_office, admin,
        /// data_protection.
        #[arg(long = "role", required = true)]
        roles: Vec<Role>,
        /// Read the password from this file (first line).
        #[arg(long, value_name = "PATH")]
        password_file: Option<PathBuf>,
        /// Department id (`staff list` and the console show them), for department staff.
        #[arg(long, value_name = "ID")]
        department: Option<u64>,
        /// E-mail address for notifications (routed and assigned questions, drafts to
        /// approve, the daily digest); they never contain what a citizen wrote.
        #[arg(long, value_name = "ADDRESS")]
        email: Option<String>,
        /// Whether the member gets notifications by e-mail.
        #[arg(long, value_name = "on|off", default_value = "on")]
        notify: OnOff,
    },
    /// Change roles, department, display name, or disable/enable an account.
    Update {
        /// Login name.
        login: String,
        /// New roles (repeat for several); replace the current ones.
        #[arg(long = "role")]
        roles: Vec<Role>,
        /// Join this department (id).
        #[arg(long, value_name = "ID", conflicts_with = "no_department")]
        department: Option<u64>,
        /// Leave the department.
        #[arg(long)]
        no_department: bool,
        /// New display name.
        #[arg(long)]
        name: Option<String>,
        /// Disable the account: it can no longer log in, its logins and tokens stop working.
        #[arg(long, conflicts_with = "enable")]
        disable: bool,
        /// Enable a disabled account again.
        #[arg(long)]
        enable: bool,
        /// New e-mail address for notifications.
        #[arg(long, value_name = "ADDRESS", conflicts_with = "no_email")]
        email: Option<String>,
        /// Remove the e-mail address (no notifications).
        #[arg(long)]
        no_email: bool,
        /// Switch notifications by e-mail on or off.
        #[arg(long, value_name = "on|off")]
        notify: Option<OnOff>,
    },
    /// List staff accounts with roles and department.
    List,
    /// Set a new password. Ends the member's console logins (API tokens stay valid).
    Passwd {
        /// Login name.
        login: String,
        /// Read the password from this file (first line).
        #[arg(long, value_name = "PATH")]
        password_file: Option<PathBuf>,
    },
    /// Log a member out everywhere: end every console login (API tokens stay valid; `token
    /// list` shows their last use, `token revoke` ends one).
    Logout {
        /// Login name.
        login: String,
    },
    /// Clear a login lockout (too many wrong passwords) in the running server, through its
    /// API with an admin's token.
    Unlock {
        /// Login name.
        login: String,
        /// Base URL of the running server; default: `server.public_url`, else the listen
        /// address.
        #[arg(long, value_name = "URL")]
        server: Option<String>,
        /// File with an admin's API token (`token create --staff ADMIN`), first line; else
        /// the environment variable SPRECHSTUNDE_ADMIN_TOKEN.
        #[arg(long, value_name = "PATH")]
        token_file: Option<PathBuf>,
    },
}

/// `on` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOff {
    /// On.
    On,
    /// Off.
    Off,
}

/// A checked e-mail address.
fn email_address(text: &str) -> anyhow::Result<String> {
    let text = text.trim();
    if !sprechstunde_core::staff_mail::is_valid_address(text) {
        bail!("{text:?} is not an e-mail address (like name@musterstadt.de)");
    }
    Ok(text.to_owned())
}

/// Runs `staff …` on the store.
///
/// # Errors
/// Whatever went wrong, in words for the operator.
pub async fn run(
    command: StaffCommand,
    settings: &Settings,
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    match command {
        StaffCommand::Add {
            login,
            name,
            roles,
            password_file,
            department,
            email,
            notify,
        } => {
            let email = email.as_deref().map(email_address).transpose()?;
            let login = login.trim().to_owned();
            if login.is_empty() || login.chars().any(char::is_whitespace) {
                bail!("the login name must not be empty or contain spaces");
            }
            if store.staff_by_login(&login).await?.is_some() {
                bail!("a staff member with login {login:?} already exists");
            }
            let roles = roles.into_iter().collect::<BTreeSet<_>>();
            let department = department.map(DepartmentId);
            check_membership(&departments(settings, &store).await?, &roles, department)?;
            let password = read_password(password_file.as_ref())?;
            let next = store
                .staff()
                .await?
                .iter()
                .map(|m| m.id.0)
                .max()
                .unwrap_or(0)
                + 1;
            let member = StaffMember {
                id: StaffId(next),
                login: login.clone(),
                name,
                roles,
                department,
                password_hash: hash_password(&password)?,
                disabled: false,
                created_at: jiff::Timestamp::now(),
                email,
                notify: notify == OnOff::On,
                external: None,
            };
            store.put_staff(&member).await?;
            audit_cli::record_cli(
                &audit_cli::trail(&store),
                "staff.add",
                format!("staff={next} login={login} {}", membership(&member)),
            )
            .await?;
            println!("Staff member {login} created (id {next}).");
        }
        StaffCommand::Update {
            login,
            roles,
            department,
            no_department,
            name,
            disable,
            enable,
            email,
            no_email,
            notify,
        } => {
            let mut member = store
                .staff_by_login(&login)
                .await?
                .with_context(|| format!("no staff member with login {login:?}"))?;
            if roles.is_empty()
                && department.is_none()
                && !no_department
                && name.is_none()
                && !disable
                && !enable
                && email.is_none()
                && !no_email
                && notify.is_none()
            {
                bail!(
                    "nothing to change: give --role, --department, --no-department, --name, \
                     --disable, --enable, --email, --no-email or --notify"
                );
            }
            if let Some(email) = &email {
                member.email = Some(email_address(email)?);
            } else if no_email {
                member.email = None;
            }
            if let Some(notify) = notify {
                member.notify = notify == OnOff::On;
            }
            let membership_changed = !roles.is_empty() || department.is_some() || no_department;
            if let Some(id) = department {
                member.department = Some(DepartmentId(id));
            } else if no_department {
                member.department = None;
            }
            if let Some(name) = name {
                let name = name.trim();
                if name.is_empty() {
                    bail!("the display name must not be empty");
                }
                name.clone_into(&mut member.name);
            }
            // New roles or a disabled account end the member's logins: a browser logged in
            // with the old rights must log in again.
            let ends_logins = (!roles.is_empty()
                && roles.iter().copied().collect::<BTreeSet<_>>() != member.roles)
                || (disable && !member.disabled);
            if !roles.is_empty() {
                member.roles = roles.into_iter().collect();
            }
            if disable {
                member.disabled = true;
            } else if enable {
                member.disabled = false;
            }
            let known = departments(settings, &store).await?;
            // An account from before these checks can still be renamed or disabled.
            if membership_changed {
                check_membership(&known, &member.roles, member.department)?;
            }
            store.put_staff(&member).await?;
            let ended = if ends_logins {
                store.end_logins_of(member.id, None).await?
            } else {
                0
            };
            audit_cli::record_cli(
                &audit_cli::trail(&store),
                "staff.update",
                format!(
                    "staff={} login={login} {} disabled={}",
                    member.id,
                    membership(&member),
                    member.disabled
                ),
            )
            .await?;
            println!(
                "Staff member {login} updated: {}.",
                describe(&member, &known)
            );
            if ends_logins {
                println!("{}", ended_logins(ended));
            }
        }
        StaffCommand::List => {
            let known = departments(settings, &store).await?;
            for m in store.staff().await? {
                println!(
                    "{:>4}  {:<20} {:<30} {}",
                    m.id,
                    m.login,
                    m.name,
                    describe(&m, &known)
                );
            }
        }
        StaffCommand::Passwd {
            login,
            password_file,
        } => {
            let mut member = store
                .staff_by_login(&login)
                .await?
                .with_context(|| format!("no staff member with login {login:?}"))?;
            let password = read_password(password_file.as_ref())?;
            member.password_hash = hash_password(&password)?;
            store.put_staff(&member).await?;
            let ended = store.end_logins_of(member.id, None).await?;
            audit_cli::record_cli(
                &audit_cli::trail(&store),
                "staff.passwd",
                format!("staff={} login={login}", member.id),
            )
            .await?;
            println!("Password of {login} changed. {}", ended_logins(ended));
        }
        StaffCommand::Logout { login } => {
            let member = store
                .staff_by_login(&login)
                .await?
                .with_context(|| format!("no staff member with login {login:?}"))?;
            let ended = store.end_logins_of(member.id, None).await?;
            audit_cli::record_cli(
                &audit_cli::trail(&store),
                "staff.logout",
                format!("staff={} login={login} ended={ended}", member.id),
            )
            .await?;
            println!("{login}: {}", ended_logins(ended));
        }
        StaffCommand::Unlock { .. } => {
            bail!("staff unlock talks to the running server (see crate::staff_cli::unlock)")
        }
    }
    Ok(())
}

/// The departments the office knows, by id: those in the store and the configured ones
/// (which opening the office creates, as `serve` does at start).
async fn departments(
    settings: &Settings,
    store: &Arc<dyn Store>,
) -> anyhow::Result<Vec<(DepartmentId, String)>> {
    let office = open_office(settings, Arc::clone(store), Arc::new(SystemClock)).await?;
    Ok(office
        .read(|state, _, _| {
            state
                .departments()
                .map(|d| (d.id, d.name.clone()))
                .collect()
        })
        .await)
}

/// Refuses an unknown department, and department staff without a department.
fn check_membership(
    known: &[(DepartmentId, String)],
    roles: &BTreeSet<Role>,
    department: Option<DepartmentId>,
) -> anyhow::Result<()> {
    let list = || {
        if known.is_empty() {
            "none yet: add [[departments]] to the configuration or create one in the console"
                .to_owned()
        } else {
            let names: Vec<String> = known.iter().map(|(id, n)| format!("{id} {n}")).collect();
            names.join(", ")
        }
    };
    if let Some(id) = department
        && !known.iter().any(|(k, _)| *k == id)
    {
        bail!(
            "there is no department with id {id} (departments: {})",
            list()
        );
    }
    if roles.contains(&Role::Department) && department.is_none() {
        bail!(
            "the role department needs a department: add --department ID (departments: {})",
            list()
        );
    }
    Ok(())
}

/// Roles and department for the audit trail (ids only).
fn membership(member: &StaffMember) -> String {
    let roles: Vec<_> = member.roles.iter().map(|r| r.as_str()).collect();
    let department = member
        .department
        .map_or_else(|| "-".to_owned(), |d| d.to_string());
    let mail = match (&member.email, member.notify) {
        (None, _) => "none",
        (Some(_), true) => "on",
        (Some(_), false) => "off",
    };
    format!(
        "roles={} department={department} mail={mail}",
        roles.join(",")
    )
}

/// Roles, department (with its name) and state, for the operator.
fn describe(member: &StaffMember, known: &[(DepartmentId, String)]) -> String {
    let roles: Vec<_> = member.roles.iter().map(|r| r.as_str()).collect();
    let mut text = roles.join(",");
    if let Some(id) = member.department {
        let name = known
            .iter()
            .find(|(k, _)| *k == id)
            .map_or("unknown", |(_, n)| n.as_str());
        text.push_str(&format!("  department {id} ({name})"));
    }
    if member.disabled {
        text.push_str("  (disabled)");
    }
    match (&member.email, member.notify) {
        (Some(email), true) => text.push_str(&format!("  mail {email}")),
        (Some(email), false) => text.push_str(&format!("  mail {email} (off)")),
        (None, _) => {}
    }
    text
}

/// "N console login(s) ended.", for the operator.
fn ended_logins(ended: usize) -> String {
    format!("{ended} console login(s) ended; API tokens stay valid (token list, token revoke).")
}

/// An admin's API token for a command that talks to the running server: the first line of
/// `token_file`, else `SPRECHSTUNDE_ADMIN_TOKEN`.
///
/// # Errors
/// Neither is there, or the file cannot be read.
pub(crate) fn admin_token(command: &str, token_file: Option<&PathBuf>) -> anyhow::Result<String> {
    let token = match token_file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned(),
        None => std::env::var("SPRECHSTUNDE_ADMIN_TOKEN").unwrap_or_default(),
    };
    if token.is_empty() {
        bail!(
            "{command} needs an admin's API token: --token-file PATH or \
             SPRECHSTUNDE_ADMIN_TOKEN (create one with `token create --staff ADMIN`)"
        );
    }
    Ok(token)
}

/// The running server's base URL: `server`, else `server.public_url`, else the listen
/// address.
pub(crate) fn server_base(settings: &Settings, server: Option<&str>) -> String {
    match server {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None if !settings.server.public_url.is_empty() => {
            settings.server.public_url.trim_end_matches('/').to_owned()
        }
        None => format!("http://{}", settings.server.listen),
    }
}

/// `staff unlock LOGIN`: the lockouts live in the running server's memory (and end with it),
/// so this asks the server, as an admin with an API token: it looks the member up in
/// `GET /api/v1/staff` and clears the lockout with `POST /api/v1/staff/{id}/unlock`.
///
/// # Errors
/// No token, the server unreachable or refusing, no such member.
pub async fn unlock(
    settings: &Settings,
    login: &str,
    server: Option<&str>,
    token_file: Option<&PathBuf>,
) -> anyhow::Result<()> {
    let token = admin_token("staff unlock", token_file)?;
    let base = server_base(settings, server);
    let http = reqwest::Client::new();
    let auth = format!("Bearer {token}");
    let answer = |what: &str, r: reqwest::Response| {
        let status = r.status();
        if status.is_success() {
            Ok(r)
        } else {
            Err(anyhow::anyhow!("the server refused {what}: {status}"))
        }
    };
    let staff: serde_json::Value = answer(
        "the staff list",
        http.get(format!("{base}/api/v1/staff"))
            .header("authorization", &auth)
            .send()
            .await
            .with_context(|| format!("cannot reach the server at {base} (is it running?)"))?,
    )?
    .json()
    .await?;
    let id = staff["staff"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["login"] == login)
        .and_then(|m| m["id"].as_u64())
        .with_context(|| format!("no staff member with login {login:?}"))?;
    let result: serde_json::Value = answer(
        "the unlock",
        http.post(format!("{base}/api/v1/staff/{id}/unlock"))
            .header("authorization", &auth)
            .send()
            .await?,
    )?
    .json()
    .await?;
    if result["was_locked"] == true {
        println!("Lockout of {login} cleared.");
    } else {
        println!("{login} was not locked; nothing to clear.");
    }
    Ok(())
}

fn read_password(file: Option<&PathBuf>) -> anyhow::Result<String> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return Ok(text.lines().next().unwrap_or_default().to_owned());
    }
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Passwort / password: ")?;
        let second = rpassword::prompt_password("Wiederholen / repeat: ")?;
        if first != second {
            bail!("the passwords do not match");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
