//! Turns the console's single sign-on on when `[oidc]` is configured: the client secret from
//! the environment or its file, and the base URL the provider sends browsers back to.

use std::net::SocketAddr;

use anyhow::Context;
use sprechstunde_console::Console;
use sprechstunde_console::oidc::Oidc;

use crate::settings::Settings;

/// `console` with single sign-on if `[oidc]` has an issuer; unchanged otherwise.
///
/// # Errors
/// The secret cannot be read or a URL is unusable (the settings were checked at load).
pub fn with_oidc(
    console: Console,
    settings: &Settings,
    bound: SocketAddr,
) -> anyhow::Result<Console> {
    let oidc = &settings.oidc;
    if !oidc.enabled() {
        return Ok(console);
    }
    let secret = oidc
        .client_secret()
        .map_err(|problem| anyhow::anyhow!("configuration key oidc.client_secret: {problem}"))?;
    let base = base_url(settings, bound);
    let sign_on = Oidc::new(oidc.clone(), secret, &base).context("cannot set up single sign-on")?;
    tracing::info!(
        issuer = %oidc.issuer.trim(),
        password_login = oidc.password_login,
        "single sign-on through an OpenID provider"
    );
    Ok(console.with_oidc(sign_on))
}

/// `oidc.redirect_base_url`, else `server.public_url`, else the listen address.
fn base_url(settings: &Settings, bound: SocketAddr) -> String {
    [
        &settings.oidc.redirect_base_url,
        &settings.server.public_url,
    ]
    .into_iter()
    .map(|u| u.trim().trim_end_matches('/'))
    .find(|u| !u.is_empty())
    .map_or_else(|| format!("http://{bound}"), str::to_owned)
}
