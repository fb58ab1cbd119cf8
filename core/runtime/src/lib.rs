//! The runtime around the pure engine: one in-memory [`OfficeState`], durable commits through a
//! [`Store`] (acknowledged only after the flush), the outbox dispatcher that hands messages to
//! the channels, and the session clock.
//!
//! Adapters hold an [`Office`] (cheap to clone) and call [`Office::submit`].
//!
//! [`OfficeState`]: sprechstunde_core::OfficeState
//! [`Store`]: sprechstunde_core::Store

mod assets;
mod audit;
mod clock;
mod dispatcher;
mod events;
mod mailer;
mod office;
mod pseudonym;
mod retention;
mod scheduler;
mod search;
mod telemetry;
mod writer;

pub use assets::Asset;
pub use audit::{AuditFilter, AuditTrail, Purged};
pub use clock::{Clock, ManualClock, SystemClock};
pub use events::OfficeEvent;
pub use office::{Office, OfficeError, Workers};
pub use pseudonym::{MIN_KEY_BYTES, Pseudonymizer, ShortKey};
pub use telemetry::{DeliveryOutcome, Telemetry};
