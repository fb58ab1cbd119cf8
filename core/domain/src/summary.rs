//! Published summaries of office hours: the answered questions and their answers, without
//! names, references or ids, reviewed and published by the press office.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::SessionId;

/// One question and its answer, as the public reads them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryItem {
    /// The question (edited by the press office as needed).
    pub question: String,
    /// The answer.
    pub answer: String,
    /// How many people asked it (merged duplicates included).
    #[serde(default = "one")]
    pub asked_by: u32,
}

fn one() -> u32 {
    1
}

/// The summary of one session. Created as a draft when the session closes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The session (one summary per session).
    pub session: SessionId,
    /// The session's title at the time.
    pub title: String,
    /// The host.
    pub host: String,
    /// When the session started.
    pub starts_at: Timestamp,
    /// The items, in the order they are shown.
    pub items: Vec<SummaryItem>,
    /// Last edit.
    pub updated_at: Timestamp,
    /// When it was published; `None` while it is a draft.
    #[serde(default)]
    pub published_at: Option<Timestamp>,
}

impl Summary {
    /// Whether the public may see it.
    pub fn is_published(&self) -> bool {
        self.published_at.is_some()
    }

    /// The summary as Markdown.
    pub fn to_markdown(&self, when: &str) -> String {
        let mut out = format!("# {}\n\n{} – {}\n", self.title, self.host, when);
        for item in &self.items {
            out.push_str("\n## ");
            out.push_str(&single_line(&item.question));
            out.push('\n');
            if item.asked_by > 1 {
                out.push_str(&format!("\n*{} Personen fragten dies.*\n", item.asked_by));
            }
            out.push('\n');
            out.push_str(item.answer.trim());
            out.push('\n');
        }
        out
    }
}

fn single_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
