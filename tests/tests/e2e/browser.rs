//! The pages in headless Chromium: the citizen page and the console's answer flow, with
//! axe-core accessibility checks on both.
