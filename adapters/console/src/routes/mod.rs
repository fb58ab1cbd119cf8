//! The API routes, one file per resource.

pub(crate) mod audit;
pub(crate) mod backup;
pub(crate) mod board;
pub(crate) mod channels;
pub(crate) mod departments;
pub(crate) mod events;
pub(crate) mod login;
pub(crate) mod notifications;
pub(crate) mod office_hours;
pub(crate) mod outbox;
pub(crate) mod questions;
pub(crate) mod sessions;
pub(crate) mod staff;
pub(crate) mod stage;
pub(crate) mod stats;
pub(crate) mod triage;
