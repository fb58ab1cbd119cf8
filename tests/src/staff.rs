//! A staff member using the API over HTTP with a console login (cookie + CSRF header).

use anyhow::{Context, bail};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use sprechstunde_console::accounts::hash_password;
use sprechstunde_core::{Role, StaffId, StaffMember};

use crate::app::TestApp;

/// Password of every test staff member.
pub const PASSWORD: &str = "ein-langes-testpasswort";

/// A logged-in staff member.
pub struct StaffClient {
    http: Client,
    base: String,
    csrf: String,
}

/// Creates a staff member directly in the store; returns its id.
///
/// # Errors
/// Store failure or an unknown role.
pub async fn create_member(app: &TestApp, login: &str, roles: &[&str]) -> anyhow::Result<StaffId> {
    let store = app.office().store();
    let id = StaffId(
        store
            .staff()
            .await?
            .iter()
            .map(|m| m.id.0)
            .max()
            .unwrap_or(0)
            + 1,
    );
    let roles = roles
        .iter()
        .map(|r| r.parse::<Role>())
        .collect::<Result<_, _>>()?;
    store
        .put_staff(&StaffMember {
            id,
            login: login.into(),
            name: format!("{login} (Test)"),
            roles,
            department: None,
            password_hash: hash_password(PASSWORD)?,
            disabled: false,
            created_at: jiff::Timestamp::now(),
            email: None,
            notify: true,
            external: None,
        })
        .await?;
    Ok(id)
}

impl StaffClient {
    pub(crate) async fn create_and_login(
        app: &TestApp,
        login: &str,
        roles: &[&str],
    ) -> anyhow::Result<StaffClient> {
        create_member(app, login, roles).await?;
        Self::login(&app.base, login, PASSWORD).await
    }

    /// Logs in.
    ///
    /// # Errors
    /// Refused or failed.
    pub async fn login(base: &str, login: &str, password: &str) -> anyhow::Result<StaffClient> {
        let http = Client::builder().cookie_store(true).build()?;
        let response = http
            .post(format!("{base}/api/v1/login"))
            .json(&json!({"login": login, "password": password}))
            .send()
            .await?;
        if response.status() != StatusCode::OK {
            bail!("login refused: {}", response.status());
        }
        let body: Value = response.json().await?;
        let csrf = body["csrf"].as_str().context("csrf")?.to_owned();
        Ok(StaffClient {
            http,
            base: base.to_owned(),
            csrf,
        })
    }

    /// A request with cookie and CSRF header; returns status and JSON body (Null if none).
    ///
    /// # Errors
    /// Transport failure.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-csrf-token", &self.csrf);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok((status, value))
    }

    /// GET, expecting 200.
    ///
    /// # Errors
    /// Another status.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let (status, body) = self.request(Method::GET, path, None).await?;
        if status != StatusCode::OK {
            bail!("GET {path}: {status} {body}");
        }
        Ok(body)
    }

    /// POST, expecting 2xx.
    ///
    /// # Errors
    /// Another status.
    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let (status, reply) = self.request(Method::POST, path, Some(body)).await?;
        if !status.is_success() {
            bail!("POST {path}: {status} {reply}");
        }
        Ok(reply)
    }

    /// The CSRF token of the login (for hand-made requests).
    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    /// The underlying client (cookies included).
    pub fn http(&self) -> &Client {
        &self.http
    }

    /// Answers a question.
    ///
    /// # Errors
    /// Refused.
    pub async fn answer(&self, reference: &str, text: &str) -> anyhow::Result<Value> {
        self.post(
            &format!("/api/v1/questions/{reference}/answer"),
            json!({"text": text}),
        )
        .await
    }

    /// Creates a session from local wall-clock strings.
    ///
    /// # Errors
    /// Refused.
    pub async fn create_session(
        &self,
        title: &str,
        start: &str,
        end: &str,
    ) -> anyhow::Result<Value> {
        self.post(
            "/api/v1/sessions",
            json!({"title": title, "host": "Oberbürgermeisterin", "starts_at": start, "ends_at": end}),
        )
        .await
    }
}
