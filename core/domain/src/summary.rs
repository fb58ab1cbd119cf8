//! Published summaries of office hours: the answered questions and their answers, without
//! names, references or ids, reviewed and published by the press office.
//!
//! Each item remembers the questions it was drawn from ([`ItemSource`]), so that erasing a
//! citizen removes what they asked, and the retention purge removes forgotten questions from
//! drafts. The source is internal: the public pages and exports never show it.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::{QuestionId, SessionId};

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
    /// The questions the item was drawn from; `None` for items stored before sources were
    /// kept and for items an edit could not trace back. Internal: never shown publicly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ItemSource>,
}

/// Where a summary item comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemSource {
    /// The primary question, whose first message the item quotes.
    pub question: QuestionId,
    /// The questions merged into it as duplicates, each one person in `asked_by`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<QuestionId>,
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

    /// The summary as Markdown. Every text staff or citizens wrote is escaped
    /// ([`escape_markdown`]): a renderer of the published file shows no raw HTML and follows
    /// no link of theirs (`javascript:` included).
    pub fn to_markdown(&self, when: &str) -> String {
        let mut out = format!(
            "# {}\n\n{} – {}\n",
            escape_markdown(&single_line(&self.title)),
            escape_markdown(&single_line(&self.host)),
            escape_markdown(when)
        );
        for item in &self.items {
            out.push_str("\n## ");
            out.push_str(&escape_markdown(&single_line(&item.question)));
            out.push('\n');
            if item.asked_by > 1 {
                out.push_str(&format!("\n*{} Personen fragten dies.*\n", item.asked_by));
            }
            out.push('\n');
            out.push_str(&escape_markdown(item.answer.trim()));
            out.push('\n');
        }
        out
    }

    /// Takes out what erased citizens asked (`erased`: their questions), draft or published:
    /// an item quoting one of their questions goes; an item they only asked as a merged
    /// duplicate stays with one person fewer. Returns whether anything changed.
    pub(crate) fn redact(&mut self, erased: &BTreeSet<QuestionId>) -> bool {
        let before = self.items.clone();
        self.items.retain(|item| {
            !item
                .source
                .as_ref()
                .is_some_and(|s| erased.contains(&s.question))
        });
        for item in &mut self.items {
            let Some(source) = item.source.as_mut() else {
                continue;
            };
            let asked = source.duplicates.len();
            source.duplicates.retain(|d| !erased.contains(d));
            let gone = u32::try_from(asked - source.duplicates.len()).unwrap_or(u32::MAX);
            item.asked_by = item.asked_by.saturating_sub(gone).max(1);
        }
        self.items != before
    }

    /// After the retention purge forgot `purged`: a draft loses the items quoting them and
    /// the links to purged duplicates (the count stays: it is a number, not a person's
    /// data). A published summary is a reviewed public document and stays as it is. Returns
    /// whether anything changed.
    pub(crate) fn forget_purged(&mut self, purged: &BTreeSet<QuestionId>) -> bool {
        if self.is_published() {
            return false;
        }
        let before = self.items.clone();
        self.items.retain(|item| {
            !item
                .source
                .as_ref()
                .is_some_and(|s| purged.contains(&s.question))
        });
        for source in self.items.iter_mut().filter_map(|i| i.source.as_mut()) {
            source.duplicates.retain(|d| !purged.contains(d));
        }
        self.items != before
    }
}

/// Gives the items of an edit (`edited`) the sources of the items they were edited from
/// (`old`), so that an edit does not lose the link an erasure needs.
///
/// An edited item that names a source keeps the stored source of the old item with the same
/// primary question (a client cannot attach a question of its own choosing). The others are
/// matched in order, as the console sends them (items removed, texts edited, never
/// reordered): first the items whose question or answer is unchanged, then, between two
/// such matches, items left over in equal numbers on both sides by position. An item that
/// matches nothing has no source.
pub(crate) fn carry_sources(old: &[SummaryItem], edited: &mut [SummaryItem]) {
    let mut used = vec![false; old.len()];
    let mut open = Vec::new();
    for (i, item) in edited.iter_mut().enumerate() {
        let named = item.source.take().map(|s| s.question);
        let found = named.and_then(|q| {
            old.iter()
                .enumerate()
                .find(|(j, o)| !used[*j] && o.source.as_ref().is_some_and(|s| s.question == q))
        });
        match found {
            Some((j, o)) => {
                used[j] = true;
                item.source.clone_from(&o.source);
            }
            None => open.push(i),
        }
    }
    let rest: Vec<usize> = (0..old.len()).filter(|j| !used[*j]).collect();
    let same = |i: usize, j: usize| {
        let (e, o) = (&edited[i], &old[j]);
        e.question.trim() == o.question.trim() || e.answer.trim() == o.answer.trim()
    };
    let pairs = aligned(open.len(), rest.len(), |a, b| same(open[a], rest[b]));
    for (a, b) in pairs {
        edited[open[a]].source.clone_from(&old[rest[b]].source);
    }
}

/// The pairs `(a, b)` of a longest order-keeping matching of `0..n` to `0..m` under
/// `matches`, with the gaps between matched pairs filled by position where both sides of a
/// gap are equally long.
fn aligned(n: usize, m: usize, matches: impl Fn(usize, usize) -> bool) -> Vec<(usize, usize)> {
    // Longest common subsequence, table of suffix lengths.
    let mut len = vec![vec![0usize; m + 1]; n + 1];
    for a in (0..n).rev() {
        for b in (0..m).rev() {
            len[a][b] = if matches(a, b) {
                len[a + 1][b + 1] + 1
            } else {
                len[a + 1][b].max(len[a][b + 1])
            };
        }
    }
    let mut anchors = Vec::new();
    let (mut a, mut b) = (0, 0);
    while a < n && b < m {
        if matches(a, b) && len[a][b] == len[a + 1][b + 1] + 1 {
            anchors.push((a, b));
            a += 1;
            b += 1;
        } else if len[a + 1][b] >= len[a][b + 1] {
            a += 1;
        } else {
            b += 1;
        }
    }
    let mut pairs = Vec::new();
    let (mut from_a, mut from_b) = (0, 0);
    for (to_a, to_b) in anchors.iter().copied().chain([(n, m)]) {
        if to_a - from_a == to_b - from_b {
            pairs.extend((from_a..to_a).zip(from_b..to_b));
        }
        if to_a < n {
            pairs.push((to_a, to_b));
        }
        (from_a, from_b) = (to_a + 1, to_b + 1);
    }
    pairs
}

/// Text as Markdown that renders as exactly that text's characters, never as markup that
/// could run or lead anywhere: `<`, `>` and `&` become entities (no raw HTML, no `<…>`
/// autolink), and the characters of link, image and emphasis syntax get a backslash (no
/// `[text](javascript:…)`, no `![…](…)`). Bare `https://` addresses stay plain text that a
/// renderer may link; CommonMark autolinks no `javascript:` address.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '[' | ']' | '(' | ')' | '!' | '*' | '_' | '`' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn single_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_items(items: Vec<SummaryItem>) -> Summary {
        Summary {
            session: SessionId(1),
            title: "Bürgersprechstunde".into(),
            host: "OB".into(),
            starts_at: Timestamp::UNIX_EPOCH,
            items,
            updated_at: Timestamp::UNIX_EPOCH,
            published_at: None,
        }
    }

    #[test]
    fn the_markdown_shows_raw_html_and_links_as_text() {
        // (what staff wrote, what the Markdown must not contain)
        let cases = [
            ("<script>alert(1)</script>", "<script"),
            ("<img src=x onerror=alert(1)>", "<img"),
            ("[Hier klicken](javascript:alert(1))", "](javascript:"),
            ("<javascript:alert(1)>", "<javascript:"),
            ("![x](https://evil.example/pixel.png)", "!["),
        ];
        for (answer, forbidden) in cases {
            let summary = with_items(vec![item(answer, answer, None)]);

            let markdown = summary.to_markdown("1. Dezember");

            assert!(!markdown.contains(forbidden), "{answer}: {markdown}");
        }
        let plain = with_items(vec![item(
            "Wann?",
            "Ab 1. März, siehe https://stadt.example/bau.",
            None,
        )]);
        assert!(
            plain
                .to_markdown("1. Dezember")
                .contains("Ab 1. März, siehe https://stadt.example/bau."),
            "plain text stays readable"
        );
    }

    fn item(question: &str, answer: &str, source: Option<u64>) -> SummaryItem {
        SummaryItem {
            question: question.into(),
            answer: answer.into(),
            asked_by: 1,
            source: source.map(|q| ItemSource {
                question: QuestionId(q),
                duplicates: Vec::new(),
            }),
        }
    }

    fn sources(items: &[SummaryItem]) -> Vec<Option<u64>> {
        items
            .iter()
            .map(|i| i.source.as_ref().map(|s| s.question.0))
            .collect()
    }

    #[test]
    fn an_edit_keeps_each_items_source_as_far_as_it_can_be_traced() {
        let old = [
            item("Brücke?", "März.", Some(1)),
            item("Parken?", "Nein.", Some(2)),
            item("Bus?", "Ja.", Some(3)),
        ];
        // (what the edit sends, the sources it ends up with)
        let cases: Vec<(Vec<SummaryItem>, Vec<Option<u64>>)> = vec![
            // Unchanged.
            (old.to_vec(), vec![Some(1), Some(2), Some(3)]),
            // Texts edited in place, no source sent (the console): by position.
            (
                vec![
                    item("Brücke 1?", "März 1.", None),
                    item("Parken 2?", "Nein 2.", None),
                    item("Bus 3?", "Ja 3.", None),
                ],
                vec![Some(1), Some(2), Some(3)],
            ),
            // The middle one removed, the others edited in one text each.
            (
                vec![
                    item("Brücke?", "Im März.", None),
                    item("Bus 3?", "Ja.", None),
                ],
                vec![Some(1), Some(3)],
            ),
            // One removed and one rewritten entirely: which one is left is unknown.
            (
                vec![item("Neu?", "Neu.", None), item("Bus?", "Ja.", None)],
                vec![None, Some(3)],
            ),
            // Reordered by a client that sends the sources; a foreign source is dropped.
            (
                vec![
                    item("Bus?", "Ja.", Some(3)),
                    item("x", "y", Some(99)),
                    item("Brücke?", "März.", Some(1)),
                ],
                vec![Some(3), Some(2), Some(1)],
            ),
            // Everything removed.
            (Vec::new(), Vec::new()),
        ];
        for (mut edited, expected) in cases {
            let sent = sources(&edited);
            carry_sources(&old, &mut edited);
            assert_eq!(sources(&edited), expected, "edit with sources {sent:?}");
        }
    }

    #[test]
    fn the_public_fields_of_an_item_do_not_include_its_source_when_it_has_none() {
        let json = serde_json::to_value(item("F", "A", None)).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"question": "F", "answer": "A", "asked_by": 1})
        );
        let old: SummaryItem =
            serde_json::from_str(r#"{"question":"F","answer":"A","asked_by":2}"#).expect("old");
        assert_eq!(old.source, None);
    }
}
