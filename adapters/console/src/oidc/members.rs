//! The staff record of a user who signed in through the provider: found by issuer and
//! subject, created at the first sign-in, and brought in line with the provider's claims at
//! every sign-in (roles the provider no longer grants are removed).

use sprechstunde_core::{ExternalIdentity, StaffId, StaffMember, Store, StoreError};

use super::roles::Granted;

/// Who signed in, from the verified claims.
#[derive(Debug, Clone)]
pub(crate) struct SignedIn {
    pub(crate) identity: ExternalIdentity,
    /// `preferred_username`, else `email`, else the subject.
    pub(crate) login: String,
    /// `name`, else the login.
    pub(crate) name: String,
}

/// Why no console login follows a valid sign-in.
#[derive(Debug)]
pub(crate) enum NotAdmitted {
    /// The member is disabled in sprechstunde.
    Disabled,
    /// Another member (with a password) has the login name.
    LoginTaken,
    /// The store failed.
    Store(StoreError),
}

impl From<StoreError> for NotAdmitted {
    fn from(e: StoreError) -> Self {
        NotAdmitted::Store(e)
    }
}

/// Creates or updates the member of `who` with `granted` (its department already resolved to
/// an id, or `None` to keep the member's own when `departments_from_claim` is false).
pub(crate) async fn provision(
    store: &dyn Store,
    who: &SignedIn,
    granted: &Granted,
    department: Option<sprechstunde_core::DepartmentId>,
    departments_from_claim: bool,
    now: jiff::Timestamp,
) -> Result<StaffMember, NotAdmitted> {
    let members = store.staff().await?;
    let linked = members
        .iter()
        .find(|m| m.external.as_ref() == Some(&who.identity))
        .cloned();
    let login_owner = members.iter().find(|m| m.login == who.login);
    let mut member = match linked {
        Some(m) => {
            if m.disabled {
                return Err(NotAdmitted::Disabled);
            }
            m
        }
        None => {
            if login_owner.is_some() {
                return Err(NotAdmitted::LoginTaken);
            }
            StaffMember {
                id: StaffId(members.iter().map(|m| m.id.0).max().unwrap_or(0) + 1),
                login: who.login.clone(),
                name: who.name.clone(),
                roles: Default::default(),
                department: None,
                // Never verifies: this member signs in at the provider only.
                password_hash: String::new(),
                disabled: false,
                created_at: now,
                external: Some(who.identity.clone()),
                // Notification mails need an address set by an admin (`staff update --email`).
                email: None,
                notify: true,
            }
        }
    };
    let before = member.clone();
    member.roles = granted.roles.clone();
    member.name = who.name.clone();
    // A renamed account keeps its old login name if the new one belongs to somebody else.
    if login_owner.is_none_or(|o| o.id == member.id) {
        member.login = who.login.clone();
    }
    if departments_from_claim {
        member.department = department;
    }
    if member != before || before.roles.is_empty() {
        // Durable before the login starts: the roles checked on every request are these.
        store.put_staff(&member).await?;
    }
    Ok(member)
}
