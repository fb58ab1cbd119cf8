//! Single sign-on for staff with OpenID Connect (authorization code flow with PKCE): staff
//! sign in at the town's identity provider (Keycloak, openDesk's), sprechstunde maps a claim
//! such as `groups` to its roles, creates or updates the staff member and starts an ordinary
//! console login (the same cookie, CSRF token and device cookie as a password login).
//!
//! - [`settings`]: the `[oidc]` section and its checks;
//! - [`roles`]: claim values → roles and department (pure);
//! - [`verify`]: ID token validation (signature from the JWKS, issuer, audience, nonce, expiry);
//! - [`flow`]: state, nonce and PKCE verifier of sign-ins under way, server-side;
//! - `routes`: `/staff/oidc/login`, `/staff/oidc/callback`, `/staff/oidc/logout`, `/staff/oidc/config`;
//! - `members`: the staff record created or updated at each sign-in.
//!
//! The provider's discovery document (and its keys) is fetched at the first sign-in, not at
//! start: an identity provider that is down for a moment does not stop the office.

pub mod flow;
mod members;
mod pages;
pub mod roles;
mod routes;
pub mod settings;
pub mod verify;

use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::CoreClient;
use openidconnect::{
    ClientId, ClientSecret, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl,
    ProviderMetadataWithLogout, RedirectUrl,
};

pub use settings::OidcSettings;

/// The client as built from the discovery document.
pub(crate) type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// How long a fetched discovery document (with its keys) is used before it is fetched again.
const METADATA_FOR: Duration = Duration::from_secs(60 * 60);

/// Sign-in through an OpenID provider, as configured.
#[derive(Debug)]
pub struct Oidc {
    pub(crate) settings: OidcSettings,
    secret: ClientSecret,
    redirect: RedirectUrl,
    /// Where the provider sends the browser after its logout: the console.
    pub(crate) after_logout: String,
    http: openidconnect::reqwest::Client,
    metadata: tokio::sync::RwLock<Option<(Instant, Arc<ProviderMetadataWithLogout>)>>,
    pub(crate) flows: flow::Flows,
    /// Creating a member picks the next free id: one at a time.
    pub(crate) provisioning: tokio::sync::Mutex<()>,
}

/// The provider could not be used.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// A configured value is unusable.
    #[error("oidc configuration: {0}")]
    Config(String),
    /// Discovery, the token or the userinfo request failed.
    #[error("the identity provider cannot be reached or answered badly: {0}")]
    Provider(String),
}

impl Oidc {
    /// Sets up sign-in with `settings` (checked with [`OidcSettings::problem`] before), the
    /// client secret, and the public base URL of this server (callback and logout return).
    ///
    /// # Errors
    /// An unusable URL, or no HTTP client.
    pub fn new(settings: OidcSettings, secret: String, base_url: &str) -> Result<Oidc, OidcError> {
        let base = base_url.trim().trim_end_matches('/');
        let redirect = RedirectUrl::new(format!("{base}/staff/oidc/callback"))
            .map_err(|e| OidcError::Config(format!("redirect URL: {e}")))?;
        IssuerUrl::new(settings.issuer.trim().to_owned())
            .map_err(|e| OidcError::Config(format!("issuer: {e}")))?;
        let http = openidconnect::reqwest::Client::builder()
            // Following redirects would open the server to SSRF through the provider.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| OidcError::Config(format!("HTTP client: {e}")))?;
        Ok(Oidc {
            secret: ClientSecret::new(secret),
            redirect,
            after_logout: format!("{base}/staff/"),
            http,
            metadata: tokio::sync::RwLock::new(None),
            flows: flow::Flows::default(),
            provisioning: tokio::sync::Mutex::new(()),
            settings,
        })
    }

    /// The discovery document, fetched when missing, older than [`METADATA_FOR`] or when
    /// `fresh` (a token signed with a key we do not know yet).
    pub(crate) async fn metadata(
        &self,
        fresh: bool,
    ) -> Result<Arc<ProviderMetadataWithLogout>, OidcError> {
        if !fresh
            && let Some((at, m)) = self.metadata.read().await.as_ref()
            && at.elapsed() < METADATA_FOR
        {
            return Ok(m.clone());
        }
        let issuer = IssuerUrl::new(self.settings.issuer.trim().to_owned())
            .map_err(|e| OidcError::Config(format!("issuer: {e}")))?;
        let discovered = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| OidcError::Provider(format!("discovery: {e}")))?;
        let discovered = Arc::new(discovered);
        *self.metadata.write().await = Some((Instant::now(), discovered.clone()));
        Ok(discovered)
    }

    /// The client for `metadata`.
    pub(crate) fn client(&self, metadata: &ProviderMetadataWithLogout) -> Client {
        CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.settings.client_id.trim().to_owned()),
            Some(self.secret.clone()),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    /// The HTTP client for the provider.
    pub(crate) fn http(&self) -> &openidconnect::reqwest::Client {
        &self.http
    }
}

impl crate::Console {
    /// Turns sign-in through an OpenID provider on; `oidc.settings.password_login` says
    /// whether the password login stays available.
    pub fn with_oidc(mut self, oidc: Oidc) -> Self {
        self.password_login = oidc.settings.password_login;
        self.oidc = Some(Arc::new(oidc));
        self
    }
}

/// The routes under `/staff/oidc/` (also when sign-on is off: the console page asks
/// `/staff/oidc/config` what to show).
pub(crate) fn router() -> axum::Router<crate::Console> {
    routes::router()
}
