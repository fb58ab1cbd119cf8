//! Staff members, their roles, API tokens and console logins.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::{DepartmentId, StaffId};

/// What a staff member may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Citizens' office (Bürgerreferat): triage, answer, reject, notes.
    CitizensOffice,
    /// Department (Fachamt) staff: answer routed questions.
    Department,
    /// Host or moderator of live sessions.
    Host,
    /// Press office: schedule and announce sessions.
    PressOffice,
    /// Administrator: everything, including staff and tokens.
    Admin,
    /// Data protection officer: reads the audit trail (and nothing of the queue).
    DataProtection,
}

impl Role {
    /// All roles.
    pub const ALL: [Role; 6] = [
        Role::CitizensOffice,
        Role::Department,
        Role::Host,
        Role::PressOffice,
        Role::Admin,
        Role::DataProtection,
    ];

    /// Stable name used in the CLI, API and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::CitizensOffice => "citizens_office",
            Role::Department => "department",
            Role::Host => "host",
            Role::PressOffice => "press_office",
            Role::Admin => "admin",
            Role::DataProtection => "data_protection",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown role name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown role {0:?} (known: citizens_office, department, host, press_office, admin, data_protection)"
)]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// What a staff action needs, checked against a member's roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// See queues and threads.
    ReadQueue,
    /// Answer, note, reject.
    WorkQuestions,
    /// Create, edit, cancel sessions.
    ManageSessions,
    /// Route questions to departments (confirm or change the suggestion).
    RouteQuestions,
    /// Approve (or send back) answer drafts of departments that need four-eyes approval.
    ApproveAnswers,
    /// Create and edit departments, their routing rules and text modules.
    ManageDepartments,
    /// Read statistics.
    ReadStats,
    /// Read and verify the audit trail.
    ViewAudit,
    /// Moderate live sessions: the live queue, "answering now", merging duplicates.
    ModerateSessions,
}

impl Permission {
    /// All permissions.
    pub const ALL: [Permission; 9] = [
        Permission::ReadQueue,
        Permission::WorkQuestions,
        Permission::ManageSessions,
        Permission::RouteQuestions,
        Permission::ApproveAnswers,
        Permission::ManageDepartments,
        Permission::ReadStats,
        Permission::ViewAudit,
        Permission::ModerateSessions,
    ];

    /// Stable name, used as the OpenAPI security scope.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ReadQueue => "read_queue",
            Permission::WorkQuestions => "work_questions",
            Permission::ManageSessions => "manage_sessions",
            Permission::RouteQuestions => "route_questions",
            Permission::ApproveAnswers => "approve_answers",
            Permission::ManageDepartments => "manage_departments",
            Permission::ReadStats => "read_stats",
            Permission::ViewAudit => "view_audit",
            Permission::ModerateSessions => "moderate_sessions",
        }
    }
}

/// A staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    /// Id.
    pub id: StaffId,
    /// Login name.
    pub login: String,
    /// Display name shown with answers in the console.
    pub name: String,
    /// Roles.
    pub roles: BTreeSet<Role>,
    /// Department, for department staff.
    #[serde(default)]
    pub department: Option<DepartmentId>,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Disabled accounts cannot log in.
    #[serde(default)]
    pub disabled: bool,
    /// Created.
    pub created_at: Timestamp,
    /// E-mail address for notifications (see [`crate::staff_mail`]); none: no mails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the member wants notifications by e-mail (on unless switched off).
    #[serde(default = "notify_default")]
    pub notify: bool,
    /// The account at the town's identity provider this member signs in with (OpenID
    /// Connect); `None` for members with a password only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalIdentity>,
}

fn notify_default() -> bool {
    true
}

/// An account at an OpenID provider: the issuer and the subject (`sub`) it gave the user.
/// Together they name the user for good; a login name or e-mail address may change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalIdentity {
    /// The issuer URL, as in the ID token's `iss`.
    pub issuer: String,
    /// The subject, as in the ID token's `sub`.
    pub subject: String,
}

impl StaffMember {
    /// Whether the member holds a permission.
    pub fn may(&self, permission: Permission) -> bool {
        if self.disabled {
            return false;
        }
        let has = |r: Role| self.roles.contains(&r);
        has(Role::Admin)
            || match permission {
                Permission::ReadQueue | Permission::WorkQuestions => {
                    has(Role::CitizensOffice) || has(Role::Department) || has(Role::Host)
                }
                Permission::ManageSessions => has(Role::PressOffice),
                Permission::ViewAudit => has(Role::DataProtection),
                Permission::ModerateSessions => {
                    has(Role::Host) || has(Role::PressOffice) || has(Role::CitizensOffice)
                }
                Permission::RouteQuestions => has(Role::CitizensOffice),
                Permission::ApproveAnswers | Permission::ReadStats => {
                    has(Role::CitizensOffice) || has(Role::PressOffice)
                }
                Permission::ManageDepartments => false,
            }
    }
}

/// A bearer token for the API. Only the SHA-256 of the secret is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// Public token id (also the prefix of the secret).
    pub id: String,
    /// What it is for.
    pub name: String,
    /// The staff member it acts as.
    pub staff: StaffId,
    /// SHA-256 of the secret, hex.
    pub secret_hash: String,
    /// Created.
    pub created_at: Timestamp,
    /// Revoked tokens are kept for the record but refused.
    #[serde(default)]
    pub revoked_at: Option<Timestamp>,
}

/// A console login (cookie session). Only the SHA-256 of the cookie value is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginSession {
    /// SHA-256 of the cookie secret, hex.
    pub secret_hash: String,
    /// Who.
    pub staff: StaffId,
    /// Token the console must echo on state-changing requests.
    pub csrf: String,
    /// Created.
    pub created_at: Timestamp,
    /// Expires.
    pub expires_at: Timestamp,
}

/// A department (Fachamt) that questions can be routed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    /// Id.
    pub id: DepartmentId,
    /// Name, e.g. "Tiefbauamt".
    pub name: String,
    /// Short name used in URLs and filters, e.g. "tiefbau".
    #[serde(default)]
    pub slug: String,
    /// Routing rule: a question containing one of these words (case- and umlaut-insensitive)
    /// is suggested for this department.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Routing rule: regular expressions (case-insensitive) matched against the question.
    #[serde(default)]
    pub patterns: Vec<String>,
    /// Answers need four-eyes approval before the citizen gets them.
    #[serde(default)]
    pub requires_approval: bool,
    /// Text modules (Textbausteine) for answers.
    #[serde(default)]
    pub text_modules: Vec<crate::triage::TextModule>,
}
