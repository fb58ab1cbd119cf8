//! End-to-end tests: the real server on 127.0.0.1:0 with sled in a temp dir, citizens over real
//! WebSockets, staff over HTTP, and headless Chromium for the pages.

// Test code: a failed unwrap is a failed test, with the location in the message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accessibility_statement;
mod audit;
mod browser;
mod citizen_page;
mod console;
mod hardening;
mod logins;
mod mail;
mod matrix;
mod metrics;
mod office_hours;
mod oidc;
mod privacy;
mod restart;
mod telegram;
mod threema;
mod triage;
mod webchat;
