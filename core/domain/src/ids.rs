//! Identifiers of the domain. All are plain numbers handed out by the engine from
//! [`Counters`](crate::state::Counters), so the engine stays deterministic.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An office-hour session.
    SessionId
);
id_type!(
    /// A question (Anliegen), internal key; citizens and staff see its [`Reference`].
    QuestionId
);
id_type!(
    /// A pseudonymous citizen identity on one channel.
    CitizenId
);
id_type!(
    /// A message in the outbox.
    OutboxId
);
id_type!(
    /// A staff member.
    StaffId
);
id_type!(
    /// A notification e-mail to staff in the mail queue.
    MailId
);
id_type!(
    /// A department (Fachamt).
    DepartmentId
);
id_type!(
    /// A municipality served by this installation. There is one today,
    /// [`TenantId::DEFAULT`]; requests carry it already so that serving several towns only
    /// has to resolve it.
    TenantId
);

impl TenantId {
    /// The one tenant of a single-town installation.
    pub const DEFAULT: TenantId = TenantId(0);
}

impl Default for TenantId {
    fn default() -> Self {
        TenantId::DEFAULT
    }
}

/// The short human reference of a question, shown as `A-1042`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Reference(pub u32);

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "A-{}", self.0)
    }
}

/// A reference that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a question reference (expected e.g. A-1042): {0:?}")]
pub struct BadReference(pub String);

impl FromStr for Reference {
    type Err = BadReference;

    /// Accepts `A-1042`, `a-1042`, `A1042` and `1042`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let digits = t
            .strip_prefix(['A', 'a'])
            .map(|rest| rest.strip_prefix('-').unwrap_or(rest))
            .unwrap_or(t);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BadReference(s.to_owned()));
        }
        digits
            .parse()
            .map(Reference)
            .map_err(|_| BadReference(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_in_the_forms_people_type() {
        for (input, want) in [
            ("A-1042", 1042),
            ("a-7", 7),
            ("A1042", 1042),
            (" 1042 ", 1042),
        ] {
            assert_eq!(input.parse::<Reference>(), Ok(Reference(want)), "{input}");
        }
        for bad in ["", "A-", "B-12", "A-12x", "-12"] {
            assert!(bad.parse::<Reference>().is_err(), "{bad}");
        }
        assert_eq!(Reference(1042).to_string(), "A-1042");
    }
}
