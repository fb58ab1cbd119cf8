//! Session input never makes the engine panic: drafts are bounded (dates, length,
//! pre-submission window, not already over), and the arithmetic on stored sessions saturates.

use super::*;
use crate::engine::Refusal;
use crate::series::{Repeat, SeriesRule};
use crate::session::SessionDraftError;

fn minutes(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

#[test]
fn drafts_outside_the_limits_are_refused_on_create_update_and_series() {
    let year = |y: i16| {
        jiff::civil::date(y, 6, 1)
            .at(12, 0, 0, 0)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .expect("fixture date")
            .timestamp()
    };
    let cases: Vec<(&str, SessionDraft, SessionDraftError)> = vec![
        (
            "a window of a year and a day",
            SessionDraft {
                presubmission: Some(hours(366 * 24)),
                ..draft()
            },
            SessionDraftError::WindowTooLong,
        ),
        (
            "the largest window there is",
            SessionDraft {
                presubmission: Some(SignedDuration::MAX),
                ..draft()
            },
            SessionDraftError::WindowTooLong,
        ),
        (
            "a start in 1999",
            SessionDraft {
                starts_at: year(1999),
                ..draft()
            },
            SessionDraftError::OutOfRange,
        ),
        (
            "an end in 2101",
            SessionDraft {
                ends_at: year(2101),
                ..draft()
            },
            SessionDraftError::OutOfRange,
        ),
        (
            "a start at the beginning of time",
            SessionDraft {
                starts_at: jiff::Timestamp::MIN,
                ..draft()
            },
            SessionDraftError::OutOfRange,
        ),
        (
            "a session of 24 hours and a minute",
            SessionDraft {
                ends_at: at(SESSION_START) + hours(24) + minutes(1),
                ..draft()
            },
            SessionDraftError::TooLong,
        ),
        (
            "a session that ended before now",
            SessionDraft {
                starts_at: at(FRIDAY) - hours(2),
                ends_at: at(FRIDAY) - hours(1),
                ..draft()
            },
            SessionDraftError::EndsInPast,
        ),
        (
            "a session that ends right now",
            SessionDraft {
                starts_at: at(FRIDAY) - hours(1),
                ends_at: at(FRIDAY),
                ..draft()
            },
            SessionDraftError::EndsInPast,
        ),
    ];
    for (name, bad, error) in cases {
        // Arrange
        let engine = engine();
        let mut state = OfficeState::default();
        let id = add_session(&engine, &mut state, draft(), FRIDAY);
        let before = dump(&state);
        let series = SeriesRule {
            repeat: Repeat::Weekly,
            count: Some(2),
            until: None,
        };

        // Act
        let outcomes = [
            engine.handle(
                &mut state,
                by_staff(StaffAction::Session(SessionAction::Create(bad.clone()))),
                at(FRIDAY),
            ),
            engine.handle(
                &mut state,
                by_staff(StaffAction::Session(SessionAction::Update {
                    id,
                    draft: bad.clone(),
                })),
                at(FRIDAY),
            ),
            engine.handle(
                &mut state,
                by_staff(StaffAction::OfficeHours(OfficeHoursAction::CreateSeries {
                    draft: bad,
                    rule: series,
                })),
                at(FRIDAY),
            ),
        ];

        // Assert
        for outcome in outcomes {
            assert_eq!(
                outcome.result,
                Err(Refusal::InvalidSession(error.clone())),
                "{name}"
            );
            assert_eq!(outcome.changes, [], "{name}");
        }
        assert_eq!(dump(&state), before, "{name}");
    }
}

#[test]
fn drafts_at_the_limits_are_accepted() {
    let cases: Vec<(&str, SessionDraft)> = vec![
        (
            "a window of exactly 365 days",
            SessionDraft {
                presubmission: Some(hours(365 * 24)),
                ..draft()
            },
        ),
        (
            "a session of exactly 24 hours",
            SessionDraft {
                ends_at: at(SESSION_START) + hours(24),
                ..draft()
            },
        ),
        (
            "a session in its last minute",
            SessionDraft {
                starts_at: at(FRIDAY) - hours(1),
                ends_at: at(FRIDAY) + minutes(1),
                ..draft()
            },
        ),
    ];
    for (name, good) in cases {
        let engine = engine();
        let mut state = OfficeState::default();

        let outcome = engine.handle(
            &mut state,
            by_staff(StaffAction::Session(SessionAction::Create(good))),
            at(FRIDAY),
        );

        assert!(
            matches!(outcome.result, Ok(Receipt::Session(_))),
            "{name}: {:?}",
            outcome.result
        );
    }
}

#[test]
fn a_window_in_minutes_is_converted_without_overflow() {
    let cases: &[(i64, Result<SignedDuration, SessionDraftError>)] = &[
        (0, Ok(SignedDuration::ZERO)),
        (1440, Ok(hours(24))),
        (365 * 24 * 60, Ok(hours(365 * 24))),
        (365 * 24 * 60 + 1, Err(SessionDraftError::WindowTooLong)),
        (i64::MAX / 60 + 1, Err(SessionDraftError::WindowTooLong)),
        (i64::MAX, Err(SessionDraftError::WindowTooLong)),
        (-1, Err(SessionDraftError::NegativeWindow)),
        (i64::MIN, Err(SessionDraftError::NegativeWindow)),
    ];
    for (input, want) in cases {
        assert_eq!(&SessionDraft::window_from_minutes(*input), want, "{input}");
    }
}

#[test]
fn stored_sessions_beyond_the_limits_do_not_stop_intake_or_the_clock() {
    // Arrange: sessions saved before the limits existed: one with the largest window, one
    // starting at the beginning of time (both still scheduled), and reminders configured.
    let engine = engine();
    let mut fresh = OfficeState::default();
    add_session(&engine, &mut fresh, draft(), FRIDAY);
    add_session(&engine, &mut fresh, draft(), FRIDAY);
    let mut snapshot = dump(&fresh);
    snapshot.sessions[0].presubmission = Some(SignedDuration::MAX);
    snapshot.sessions[1].starts_at = jiff::Timestamp::MIN;
    snapshot.sessions[1].ends_at = jiff::Timestamp::MIN + hours(1);
    snapshot.sessions[1].presubmission = Some(SignedDuration::MAX);
    let [huge, ancient] = [snapshot.sessions[0].clone(), snapshot.sessions[1].clone()];
    let mut state = OfficeState::from_snapshot(snapshot);
    let engine = engine_with(Policy {
        reminders: vec![hours(24), SignedDuration::MAX],
        ..Policy::default()
    });

    // Act: the window and the reminders are computed; a citizen asks.
    let open = huge.accepts_presubmission(at(FRIDAY));
    let deadline = engine.next_deadline(&state);
    let asked = ask(&engine, &mut state, 1, "Wann ist Sperrmüll?", FRIDAY);

    // Assert: the window saturates at the beginning of time, so it is open.
    assert!(open);
    assert_eq!(huge.before_start(SignedDuration::MAX), jiff::Timestamp::MIN);
    assert_eq!(ancient.before_start(hours(24)), jiff::Timestamp::MIN);
    assert_eq!(deadline, Some(jiff::Timestamp::MIN));
    assert_eq!(
        asked.intake,
        Intake::New(crate::question::Queue::Session(huge.id))
    );
}
