//! The pages' ES modules as a browser loads them: from the page's module script through
//! every static import, each checked to be served as JavaScript (browsers refuse module
//! scripts of any other type under `nosniff`).

use std::collections::BTreeSet;

use anyhow::{bail, ensure};

/// Loads the page at `base` + `page`, follows its module script `prefix` + `main.js` and
/// every relative static import from there, and returns the module names served.
///
/// # Errors
///
/// The page does not load `main.js` as a module, a module does not answer 200 with
/// `text/javascript; charset=utf-8`, does not start with a comment saying what it is for, or
/// imports other than relatively.
pub async fn served_modules(
    base: &str,
    page: &str,
    prefix: &str,
) -> anyhow::Result<BTreeSet<String>> {
    let html = reqwest::get(format!("{base}{page}")).await?.text().await?;
    let script = format!(r#"<script type="module" src="{prefix}main.js">"#);
    ensure!(
        html.contains(&script),
        "{page} does not load {prefix}main.js as a module"
    );
    let mut pending = vec!["main.js".to_owned()];
    let mut served = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if !served.insert(name.clone()) {
            continue;
        }
        let response = reqwest::get(format!("{base}{prefix}{name}")).await?;
        let status = response.status();
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        ensure!(status.is_success(), "{name}: {status}");
        ensure!(
            kind == "text/javascript; charset=utf-8",
            "{name}: served as {kind:?}"
        );
        let body = response.text().await?;
        ensure!(
            body.starts_with("// "),
            "{name} does not start with a comment"
        );
        for line in body.lines().filter(|l| l.starts_with("import ")) {
            let Some(module) = line
                .split("from './")
                .nth(1)
                .and_then(|rest| rest.split('\'').next())
            else {
                bail!("{name}: not a relative import: {line}");
            };
            pending.push(module.to_owned());
        }
    }
    Ok(served)
}
