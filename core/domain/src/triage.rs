//! Triage: routing rules, who may see which question, text modules and answer drafts.
//!
//! Pure helpers used by the engine (routing on intake, approval) and by the console
//! (department scoping, search, text modules).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::DepartmentId;
use crate::question::{Question, StaffRef};
use crate::staff::{Department, Role, StaffMember};

/// A text module (Textbaustein) of a department. Placeholders `{reference}`, `{session}` and
/// `{due}` are filled in when it is rendered for a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextModule {
    /// Short key, unique within the department, e.g. "schlagloch".
    pub key: String,
    /// Title shown in the console.
    pub title: String,
    /// The text with placeholders.
    pub text: String,
}

/// The department the routing rules suggest for a question, and the rule that matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteSuggestion {
    /// Suggested department.
    pub department: DepartmentId,
    /// The rule that matched, e.g. `keyword "Schlagloch"` or `pattern "stra(ß|ss)e"`.
    pub rule: String,
}

/// An answer waiting for four-eyes approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// Who wrote it.
    pub staff: StaffRef,
    /// The proposed answer.
    pub text: String,
    /// When.
    pub at: Timestamp,
}

/// Lower-cases and folds German umlauts and ß (`ä` → `ae`, `ß` → `ss`), so that searches and
/// keywords match however the citizen typed them ("Strasse" finds "Straße").
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            c => out.push(c),
        }
    }
    out
}

/// Why a department cannot be saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DepartmentError {
    /// Name empty.
    #[error("the department needs a name")]
    NoName,
    /// Slug not made of a-z, 0-9 and '-'.
    #[error("the slug must consist of a-z, 0-9 and '-' (got {0:?})")]
    BadSlug(String),
    /// A pattern does not compile.
    #[error("routing pattern {pattern:?} is not a valid regular expression: {problem}")]
    BadPattern {
        /// The pattern.
        pattern: String,
        /// The compiler's message.
        problem: String,
    },
    /// An empty keyword would match everything.
    #[error("routing keywords must not be empty")]
    EmptyKeyword,
    /// Text module keys must be unique and texts non-empty.
    #[error("text module {0:?}: keys must be unique, title and text non-empty")]
    BadTextModule(String),
}

/// Checks a department before it is saved.
///
/// # Errors
/// The first problem found.
pub fn validate_department(d: &Department) -> Result<(), DepartmentError> {
    if d.name.trim().is_empty() {
        return Err(DepartmentError::NoName);
    }
    if d.slug.is_empty()
        || !d
            .slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(DepartmentError::BadSlug(d.slug.clone()));
    }
    if d.keywords.iter().any(|k| k.trim().is_empty()) {
        return Err(DepartmentError::EmptyKeyword);
    }
    for p in &d.patterns {
        compile(p).map_err(|e| DepartmentError::BadPattern {
            pattern: p.clone(),
            problem: e.to_string(),
        })?;
    }
    let mut keys = std::collections::BTreeSet::new();
    for m in &d.text_modules {
        if !keys.insert(m.key.as_str())
            || m.key.trim().is_empty()
            || m.title.trim().is_empty()
            || m.text.trim().is_empty()
        {
            return Err(DepartmentError::BadTextModule(m.key.clone()));
        }
    }
    Ok(())
}

fn compile(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
}

/// The first department (in the given order) whose rules match `text`: keywords first (whole
/// word prefix, folded), then patterns.
pub fn suggest<'a>(
    departments: impl IntoIterator<Item = &'a Department>,
    text: &str,
) -> Option<RouteSuggestion> {
    let folded = fold(text);
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    for d in departments {
        for k in &d.keywords {
            let key = fold(k.trim());
            let hit = if key.contains(' ') {
                folded.contains(&key)
            } else {
                words.iter().any(|w| w.starts_with(&key))
            };
            if hit {
                return Some(RouteSuggestion {
                    department: d.id,
                    rule: format!("keyword {:?}", k.trim()),
                });
            }
        }
        for p in &d.patterns {
            if compile(p).is_ok_and(|re| re.is_match(text)) {
                return Some(RouteSuggestion {
                    department: d.id,
                    rule: format!("pattern {p:?}"),
                });
            }
        }
    }
    None
}

/// Whether a member only sees the questions of their own department: department staff who
/// are not also citizens' office or admin.
pub fn department_scoped(member: &StaffMember) -> bool {
    member.roles.contains(&Role::Department)
        && !member.roles.contains(&Role::CitizensOffice)
        && !member.roles.contains(&Role::Admin)
}

/// Whether `member` may see and act on `question`. Department staff see only questions
/// routed to their department; everybody else with queue access sees all.
pub fn may_access(member: &StaffMember, question: &Question) -> bool {
    if department_scoped(member) {
        member.department.is_some() && question.department == member.department
    } else {
        true
    }
}

/// Fills the placeholders `{reference}`, `{session}` and `{due}` of a text module. Unknown
/// placeholders are left as they are.
pub fn render_module(text: &str, reference: &str, session: &str, due: &str) -> String {
    text.replace("{reference}", reference)
        .replace("{session}", session)
        .replace("{due}", due)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn dept(id: u64, keywords: &[&str], patterns: &[&str]) -> Department {
        Department {
            id: DepartmentId(id),
            name: format!("D{id}"),
            slug: format!("d{id}"),
            keywords: keywords.iter().map(|s| (*s).to_owned()).collect(),
            patterns: patterns.iter().map(|s| (*s).to_owned()).collect(),
            requires_approval: false,
            text_modules: Vec::new(),
        }
    }

    #[test]
    fn routing_rules_table() {
        let ds = [
            dept(1, &["Schlagloch", "Straßenbeleuchtung"], &[]),
            dept(2, &["Kita"], &[r"\bbau(antrag|genehmigung)\b"]),
            dept(3, &["Müll abfuhr"], &[]),
        ];
        // (text, department, rule)
        let cases: [(&str, Option<(u64, &str)>); 8] = [
            (
                "Wann wird das SCHLAGLOCH repariert?",
                Some((1, "keyword \"Schlagloch\"")),
            ),
            (
                "Die Strassenbeleuchtung ist aus",
                Some((1, "keyword \"Straßenbeleuchtung\"")),
            ),
            (
                "Schlaglochsanierung überall",
                Some((1, "keyword \"Schlagloch\"")),
            ),
            ("Kitaplatz gesucht", Some((2, "keyword \"Kita\""))),
            (
                "Mein Bauantrag liegt seit Wochen",
                Some((2, "pattern \"\\\\bbau(antrag|genehmigung)\\\\b\"")),
            ),
            (
                "Muell abfuhr am Montag?",
                Some((3, "keyword \"Müll abfuhr\"")),
            ),
            ("Wo ist das Rathaus?", None),
            ("Akita-Hund", None),
        ];
        for (text, expected) in cases {
            let got = suggest(&ds, text).map(|s| (s.department.0, s.rule));
            assert_eq!(got, expected.map(|(d, r)| (d, r.to_owned())), "{text}");
        }
    }

    #[test]
    fn departments_are_validated() {
        let mut d = dept(1, &["x"], &["("]);
        assert!(matches!(
            validate_department(&d),
            Err(DepartmentError::BadPattern { .. })
        ));
        d.patterns.clear();
        assert_eq!(validate_department(&d), Ok(()));
        d.slug = "Bad Slug".into();
        assert!(validate_department(&d).is_err());
        d.slug = "ok".into();
        d.keywords.push(" ".into());
        assert_eq!(validate_department(&d), Err(DepartmentError::EmptyKeyword));
    }

    fn question() -> Question {
        let t = Timestamp::UNIX_EPOCH;
        Question {
            id: crate::ids::QuestionId(1),
            reference: crate::ids::Reference(1001),
            citizen: crate::ids::CitizenId(1),
            channel: crate::channel::ChannelKind::Web,
            session: None,
            queue: crate::question::Queue::CitizensOffice,
            status: crate::question::QuestionStatus::Open,
            department: None,
            created_at: t,
            updated_at: t,
            due: None,
            rejection: None,
            entries: Vec::new(),
            suggestion: None,
            assignee: None,
            draft: None,
            merged_into: None,
        }
    }

    #[test]
    fn department_staff_see_only_their_department() {
        let member = |roles: &[Role], dept: Option<u64>| StaffMember {
            id: crate::ids::StaffId(1),
            login: "x".into(),
            name: "X".into(),
            roles: roles.iter().copied().collect::<BTreeSet<_>>(),
            department: dept.map(DepartmentId),
            password_hash: String::new(),
            disabled: false,
            created_at: Timestamp::UNIX_EPOCH,
            email: None,
            notify: true,
            external: None,
        };
        let mut q = question();
        q.department = Some(DepartmentId(2));
        assert!(may_access(&member(&[Role::Department], Some(2)), &q));
        assert!(!may_access(&member(&[Role::Department], Some(3)), &q));
        assert!(!may_access(&member(&[Role::Department], None), &q));
        assert!(may_access(&member(&[Role::CitizensOffice], None), &q));
        assert!(may_access(
            &member(&[Role::Department, Role::CitizensOffice], Some(3)),
            &q
        ));
        q.department = None;
        assert!(!may_access(&member(&[Role::Department], Some(2)), &q));
    }

    #[test]
    fn text_modules_fill_placeholders() {
        assert_eq!(
            render_module(
                "Ihr Anliegen {reference} ({session}) bis {due}. {x}",
                "A-1",
                "S",
                "Mo"
            ),
            "Ihr Anliegen A-1 (S) bis Mo. {x}"
        );
        assert_eq!(fold("Straße ÄÖÜ"), "strasse aeoeue");
    }
}
