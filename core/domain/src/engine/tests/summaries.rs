//! Summaries and data protection: erasure takes a citizen's questions out of every summary,
//! the retention purge out of drafts only.

use std::collections::BTreeSet;

use super::*;
use crate::privacy::Retention;
use crate::summary::Summary;

/// Citizen 1's question (the primary of a merge), citizen 2's duplicate, citizen 3's other
/// question; answered 16:50 (1 and 2) and 16:10 (3).
const FIRST: &str = "Wann wird die Brücke-4711 saniert?";
const DUPLICATE: &str = "Brücke: wann saniert?";
const OTHER: &str = "Parkplätze am Markt-0815?";

/// A closed session whose draft summary holds two items: the merged question (asked by 2)
/// and the other one; published if `publish`.
fn closed_session(engine: &Engine, publish: bool) -> (OfficeState, SessionId, [Asked; 3]) {
    let mut state = OfficeState::default();
    let id = add_session(engine, &mut state, draft(), FRIDAY);
    let a = ask(engine, &mut state, 1, FIRST, DURING_SESSION);
    let b = ask(engine, &mut state, 2, DUPLICATE, DURING_SESSION);
    let c = ask(engine, &mut state, 3, OTHER, DURING_SESSION);
    let merge = StaffAction::OfficeHours(OfficeHoursAction::Merge {
        primary: a.question,
        duplicates: vec![b.question],
    });
    run(engine, &mut state, by_staff(merge), DURING_SESSION);
    run(
        engine,
        &mut state,
        answer(c.question, "Nein."),
        DURING_SESSION,
    );
    let late = "2026-12-01T16:50:00Z";
    run(engine, &mut state, answer(a.question, "Im März."), late);
    run(engine, &mut state, Input::Tick, SESSION_END);
    if publish {
        let action = by_staff(StaffAction::OfficeHours(OfficeHoursAction::PublishSummary(
            id,
        )));
        run(engine, &mut state, action, "2026-12-02T09:00:00Z");
    }
    (state, id, [a, b, c])
}

/// An item as (question, how many asked, duplicates linked).
type Item<'a> = (&'a str, u32, usize);

/// The items of a summary.
fn items(summary: &Summary) -> Vec<Item<'_>> {
    summary
        .items
        .iter()
        .map(|i| {
            let linked = i.source.as_ref().map_or(0, |s| s.duplicates.len());
            (i.question.as_str(), i.asked_by, linked)
        })
        .collect()
}

#[test]
fn erasure_takes_what_the_citizen_asked_out_of_drafts_and_published_summaries() {
    let engine = engine();
    // (published, who erases, items after, whether the summary is written)
    let cases: &[(bool, u64, &[Item], bool)] = &[
        // The primary's asker: the item quotes them, so it goes (the duplicate's asker loses
        // it too: it is their answer, but not their words).
        (false, 1, &[(OTHER, 1, 0)], true),
        (true, 1, &[(OTHER, 1, 0)], true),
        // The duplicate's asker: one person fewer.
        (false, 2, &[(FIRST, 1, 0), (OTHER, 1, 0)], true),
        (true, 2, &[(FIRST, 1, 0), (OTHER, 1, 0)], true),
        (false, 3, &[(FIRST, 2, 1)], true),
        (true, 3, &[(FIRST, 2, 1)], true),
        // Someone who asked nothing in the session: the summary stays untouched.
        (true, 4, &[(FIRST, 2, 1), (OTHER, 1, 0)], false),
    ];
    for &(published, who, expected, written) in cases {
        // Arrange
        let (mut state, id, _) = closed_session(&engine, published);
        ask(
            &engine,
            &mut state,
            4,
            "Frage außerhalb",
            "2026-12-02T10:00:00Z",
        );
        let later = "2026-12-03T09:00:00Z";
        run(&engine, &mut state, says(who, "/loeschen"), later);

        // Act
        let erased = engine.handle(&mut state, says(who, "/loeschen bestaetigen"), at(later));

        // Assert
        let summary = state.summary(id).expect("summary");
        let case = format!("published {published}, citizen {who}");
        assert_eq!(items(summary), expected, "{case}");
        assert_eq!(summary.is_published(), published, "{case}");
        let stored: Vec<&Summary> = erased
            .changes
            .iter()
            .filter_map(|c| match c {
                Change::Summary(s) => Some(s),
                _ => None,
            })
            .collect();
        assert_eq!(stored.len(), usize::from(written), "{case}");
        if let Some(s) = stored.first() {
            assert_eq!(*s, summary, "{case}: the redacted version is stored");
            assert_eq!(s.updated_at, at(later), "{case}");
        }
        let kept = serde_json::to_string(summary).expect("json");
        let theirs = [FIRST, DUPLICATE, OTHER, ""][usize::try_from(who - 1).expect("n")];
        assert!(
            theirs.is_empty() || !kept.contains(theirs),
            "{case}: {kept}"
        );
    }
}

#[test]
fn the_purge_takes_forgotten_questions_out_of_drafts_and_leaves_published_summaries() {
    let mut policy = Policy::default();
    policy.privacy.retention = Retention {
        answered_days: 30,
        ..Retention::default()
    };
    let engine = engine_with(policy);
    // 30 days after the answers of 16:10 (the other question) and 16:50 (the merged one).
    // (published, purge at, items after, whether the summary is written)
    let cases: &[(bool, &str, &[Item], bool)] = &[
        (
            false,
            "2026-12-31T16:00:00Z",
            &[(FIRST, 2, 1), (OTHER, 1, 0)],
            false,
        ),
        (false, "2026-12-31T16:20:00Z", &[(FIRST, 2, 1)], true),
        (false, "2026-12-31T17:00:00Z", &[], true),
        (
            true,
            "2026-12-31T16:20:00Z",
            &[(FIRST, 2, 1), (OTHER, 1, 0)],
            false,
        ),
        (
            true,
            "2026-12-31T17:00:00Z",
            &[(FIRST, 2, 1), (OTHER, 1, 0)],
            false,
        ),
    ];
    for &(published, when, expected, written) in cases {
        // Arrange
        let (mut state, id, [_, _, other]) = closed_session(&engine, published);

        // Act
        let purged = engine.handle(&mut state, Input::Purge, at(when));

        // Assert
        let case = format!("published {published}, purge at {when}");
        let gone = state.question(other.question).is_none();
        assert_eq!(gone, when >= "2026-12-31T16:10:00Z", "{case}");
        assert_eq!(
            items(state.summary(id).expect("summary")),
            expected,
            "{case}"
        );
        let written_now = keys(&purged.changes).contains(&Key::Summary(id.0));
        assert_eq!(written_now, written, "{case}");
    }
}

#[test]
fn a_purged_duplicate_leaves_the_count_of_a_draft_item_and_only_its_link_goes() {
    // Arrange: the draft of the fixture; the duplicate alone is forgotten.
    let engine = engine();
    let (state, id, [_, b, _]) = closed_session(&engine, false);
    let mut summary = state.summary(id).expect("draft").clone();

    // Act
    let changed = summary.forget_purged(&BTreeSet::from([b.question]));

    // Assert
    assert!(changed);
    assert_eq!(items(&summary), [(FIRST, 2, 0), (OTHER, 1, 0)]);
}
