//! End-to-end tests: the real server on 127.0.0.1:0 with sled in a temp dir, citizens over real
//! WebSockets, staff over HTTP, and headless Chromium for the pages.

mod browser;
mod console;
mod restart;
mod webchat;
