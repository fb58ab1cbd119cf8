//! Settings of the web hardening: `[limits]`, the HSTS switch and the allowed origins
//! (see `docs/security.md`).

use std::net::SocketAddr;

use serde::Deserialize;

/// `server.hsts`: whether responses carry `Strict-Transport-Security`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Hsts {
    /// On when `server.public_url` starts with `https://`.
    #[default]
    Auto,
    /// Always (the server is reached over TLS, e.g. behind a proxy).
    On,
    /// Never.
    Off,
}

/// `[limits]`: flood limits, login throttling, request sizes, connection limits and timeouts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitSettings {
    /// Messages one citizen may send per window (every channel); 0 turns the limit off.
    pub citizen_messages: u32,
    /// The flood window in seconds.
    pub citizen_window_seconds: u32,
    /// Failed console logins for one login name before it is locked.
    pub login_failures_per_name: u32,
    /// Failed console logins from one client address before it is locked.
    pub login_failures_per_address: u32,
    /// First lockout in minutes; each further lockout of the same name or address doubles it.
    pub login_lockout_minutes: u32,
    /// Longest lockout in minutes.
    pub login_lockout_max_minutes: u32,
    /// Header holding the client address when a trusted reverse proxy sets it (e.g.
    /// `x-forwarded-for`; its last entry is used); empty for the TCP peer address.
    pub client_address_header: String,
    /// Largest request body of `POST /api/v1/login`, in bytes.
    pub login_body_bytes: usize,
    /// Largest request body of the other `/api/v1` routes, in bytes.
    pub api_body_bytes: usize,
    /// Largest request body anywhere else (e.g. the Telegram webhook), in bytes.
    pub max_body_bytes: usize,
    /// Reverse proxies (addresses or CIDR ranges) whose `client_address_header` the web chat
    /// believes; from any other peer the header is ignored.
    pub trusted_proxies: Vec<String>,
    /// Web chat frames one WebSocket connection may send per minute, whatever tokens it
    /// says hello with; 0 turns the limit off.
    pub connection_messages_per_minute: u32,
    /// Web chat messages per minute from one client address (IPv6: one /64); 0 off.
    pub address_messages_per_minute: u32,
    /// New web chat conversations (first message under an unknown token) per minute from one
    /// client address; 0 off.
    pub address_new_conversations_per_minute: u32,
    /// New web chat conversations per minute on the whole server; 0 off.
    pub new_conversations_per_minute: u32,
    /// Most open TCP connections (WebSockets included); 0 derives it from the open-file limit
    /// (which the server raises to its hard limit at start).
    pub max_connections: usize,
    /// A connection that has not sent a complete request head after this many seconds is
    /// closed (slowloris); idle keep-alive connections too.
    pub header_read_seconds: u32,
    /// A WebSocket that has not said `hello` after this many seconds is closed.
    pub websocket_hello_seconds: u32,
    /// A WebSocket from which nothing arrived for this many seconds (not even the answer to the
    /// server's pings, sent every third of it) is closed.
    pub websocket_idle_seconds: u32,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            citizen_messages: 20,
            citizen_window_seconds: 60,
            login_failures_per_name: 5,
            login_failures_per_address: 20,
            login_lockout_minutes: 15,
            login_lockout_max_minutes: 24 * 60,
            client_address_header: String::new(),
            login_body_bytes: 4 * 1024,
            api_body_bytes: 64 * 1024,
            max_body_bytes: 256 * 1024,
            trusted_proxies: vec!["127.0.0.1".into(), "::1".into()],
            connection_messages_per_minute: 30,
            address_messages_per_minute: 300,
            address_new_conversations_per_minute: 30,
            new_conversations_per_minute: 600,
            max_connections: 0,
            header_read_seconds: 10,
            websocket_hello_seconds: 10,
            websocket_idle_seconds: 120,
        }
    }
}

impl LimitSettings {
    /// The first problem with these values, as `(key, problem)`.
    pub(crate) fn problem(&self) -> Option<(&'static str, &'static str)> {
        if self.citizen_messages > 0 && !(1..=86_400).contains(&self.citizen_window_seconds) {
            return Some((
                "limits.citizen_window_seconds",
                "must be between 1 and 86400",
            ));
        }
        if self.login_failures_per_name == 0 || self.login_failures_per_address == 0 {
            return Some((
                "limits.login_failures_per_name",
                "the login failure limits must be at least 1",
            ));
        }
        if self.login_lockout_minutes == 0
            || self.login_lockout_max_minutes < self.login_lockout_minutes
        {
            return Some((
                "limits.login_lockout_minutes",
                "must be at least 1 and at most login_lockout_max_minutes",
            ));
        }
        if self.login_body_bytes < 256 || self.api_body_bytes < 1024 || self.max_body_bytes < 1024 {
            return Some((
                "limits.api_body_bytes",
                "body limits must be at least 256 (login) and 1024 bytes",
            ));
        }
        if !self.client_address_header.is_empty()
            && axum::http::HeaderName::try_from(self.client_address_header.as_str()).is_err()
        {
            return Some((
                "limits.client_address_header",
                "not a valid HTTP header name",
            ));
        }
        if self.client_addresses().is_err() {
            return Some((
                "limits.trusted_proxies",
                "every entry must be an IP address or range like 10.0.0.0/8",
            ));
        }
        if !(1..=3600).contains(&self.header_read_seconds) {
            return Some(("limits.header_read_seconds", "must be between 1 and 3600"));
        }
        if !(1..=3600).contains(&self.websocket_hello_seconds) {
            return Some((
                "limits.websocket_hello_seconds",
                "must be between 1 and 3600",
            ));
        }
        if !(3..=86_400).contains(&self.websocket_idle_seconds) {
            return Some((
                "limits.websocket_idle_seconds",
                "must be between 3 and 86400",
            ));
        }
        None
    }

    /// How the web chat finds a client's address.
    ///
    /// # Errors
    /// A `trusted_proxies` entry is not an address or range.
    pub fn client_addresses(
        &self,
    ) -> Result<sprechstunde_webchat::ClientAddresses, sprechstunde_webchat::BadProxy> {
        let header = (!self.client_address_header.is_empty())
            .then(|| axum::http::HeaderName::try_from(self.client_address_header.as_str()).ok())
            .flatten();
        sprechstunde_webchat::ClientAddresses::new(header, &self.trusted_proxies)
    }

    /// Turns the web chat's rate limits off (per connection, per address, new conversations):
    /// a benchmark's clients send far more from one address than people would.
    pub fn lift_web_chat_rate_limits(&mut self) {
        self.connection_messages_per_minute = 0;
        self.address_messages_per_minute = 0;
        self.address_new_conversations_per_minute = 0;
        self.new_conversations_per_minute = 0;
    }

    /// The web chat's limits.
    pub fn web_limits(&self) -> sprechstunde_webchat::WebLimits {
        sprechstunde_webchat::WebLimits {
            connection_messages_per_minute: self.connection_messages_per_minute,
            address_messages_per_minute: self.address_messages_per_minute,
            address_new_conversations_per_minute: self.address_new_conversations_per_minute,
            new_conversations_per_minute: self.new_conversations_per_minute,
            hello_timeout: std::time::Duration::from_secs(u64::from(self.websocket_hello_seconds)),
            idle_timeout: std::time::Duration::from_secs(u64::from(self.websocket_idle_seconds)),
        }
    }

    /// The header-read timeout of HTTP connections.
    pub fn header_read_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.header_read_seconds))
    }
}

/// The origin (`scheme://host[:port]`) of a URL such as `server.public_url`, lower-case and
/// without a trailing slash or path; `None` if it is not an http(s) URL.
pub fn origin_of(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    Some(format!("{scheme}://{authority}"))
}

/// The origins a browser page of this server has: `server.public_url`'s, and
/// `http://<listen address>` (with `localhost` for a loopback address).
pub fn own_origins(public_url: &str, listen: SocketAddr) -> Vec<String> {
    let mut origins = Vec::new();
    if let Some(origin) = origin_of(public_url) {
        origins.push(origin);
    }
    let port = listen.port();
    if !listen.ip().is_unspecified() {
        origins.push(format!("http://{listen}"));
    }
    if listen.ip().is_loopback() || listen.ip().is_unspecified() {
        origins.push(format!("http://localhost:{port}"));
        origins.push(format!("http://127.0.0.1:{port}"));
        origins.push(format!("http://[::1]:{port}"));
    }
    origins.dedup();
    origins
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised() {
        for (url, origin) in [
            (
                "https://Sprechstunde.Musterstadt.de/",
                Some("https://sprechstunde.musterstadt.de"),
            ),
            ("https://x.de:443/app?a", Some("https://x.de")),
            ("http://127.0.0.1:8080", Some("http://127.0.0.1:8080")),
            ("ftp://x.de", None),
            ("", None),
            ("https://user@x.de", None),
        ] {
            assert_eq!(origin_of(url).as_deref(), origin, "{url}");
        }
        let own = own_origins("", "127.0.0.1:8080".parse().expect("addr"));
        assert!(own.contains(&"http://127.0.0.1:8080".to_owned()));
        assert!(own.contains(&"http://localhost:8080".to_owned()));
    }

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(LimitSettings::default().problem(), None);
    }
}
