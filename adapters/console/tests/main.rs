//! Integration tests of the console's API over real HTTP on `127.0.0.1:0`, with sled in a
//! temporary directory.

// Test code: a failed unwrap is a failed test, with the location in the message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod identity;
