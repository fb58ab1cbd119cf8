//! A citizen in the web chat, over a real WebSocket.

use std::net::SocketAddr;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::DEADLINE;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A connected web chat citizen.
pub struct Citizen {
    ws: Ws,
    /// The token the server gave (resume with it).
    pub token: String,
    /// The `welcome` frame.
    pub welcome: Value,
}

impl Citizen {
    /// Connects, says hello and, if the privacy notice is still open, agrees to it through
    /// the real flow ([`Citizen::agree`]), like every citizen who goes on to ask.
    ///
    /// # Errors
    /// Connection or protocol failure.
    pub async fn connect(
        addr: SocketAddr,
        token: Option<&str>,
        lang: &str,
    ) -> anyhow::Result<Citizen> {
        let mut citizen = Citizen::connect_without_consent(addr, token, lang).await?;
        if citizen.privacy_notice().is_some() {
            citizen.agree(lang).await?;
        }
        Ok(citizen)
    }

    /// The privacy notice of the `welcome` frame, while the citizen has not agreed.
    pub fn privacy_notice(&self) -> Option<&str> {
        self.welcome["privacy_notice"].as_str()
    }

    /// Agrees to the privacy notice (`/einverstanden`, or `/agree` in English) and waits for
    /// the thanks.
    ///
    /// # Errors
    /// As [`Citizen::next_frame`].
    pub async fn agree(&mut self, lang: &str) -> anyhow::Result<Value> {
        let command = if lang.starts_with("en") {
            "/agree"
        } else {
            "/einverstanden"
        };
        self.send(command).await?;
        self.wait_for(|f| {
            f["type"] == "message"
                && f["text"].as_str().is_some_and(|t| {
                    t.contains("Vielen Dank für Ihr Einverständnis")
                        || t.contains("Thank you for your consent")
                })
        })
        .await
    }

    /// Connects and says hello, and nothing more: the privacy notice stays open.
    ///
    /// # Errors
    /// Connection or protocol failure.
    pub async fn connect_without_consent(
        addr: SocketAddr,
        token: Option<&str>,
        lang: &str,
    ) -> anyhow::Result<Citizen> {
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
            .await
            .context("websocket connect")?;
        let hello = json!({"type": "hello", "token": token, "lang": lang});
        ws.send(Message::Text(hello.to_string().into())).await?;
        let mut citizen = Citizen {
            ws,
            token: String::new(),
            welcome: Value::Null,
        };
        let welcome = citizen.wait_for(|f| f["type"] == "welcome").await?;
        citizen.token = welcome["token"].as_str().context("token")?.to_owned();
        citizen.welcome = welcome;
        Ok(citizen)
    }

    /// Sends a raw frame.
    ///
    /// # Errors
    /// The socket is closed.
    pub async fn send_raw(&mut self, frame: &str) -> anyhow::Result<()> {
        self.ws.send(Message::Text(frame.to_owned().into())).await?;
        Ok(())
    }

    /// Sends a message with a given client id.
    ///
    /// # Errors
    /// The socket is closed.
    pub async fn send_with_id(&mut self, client_id: &str, text: &str) -> anyhow::Result<()> {
        let frame = json!({"type": "message", "client_id": client_id, "text": text});
        self.send_raw(&frame.to_string()).await
    }

    /// Sends a message with a fresh client id (unique in this test process, like the page's
    /// random ids); returns the id.
    ///
    /// # Errors
    /// The socket is closed.
    pub async fn send(&mut self, text: &str) -> anyhow::Result<String> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = format!(
            "m-{}",
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        self.send_with_id(&id, text).await?;
        Ok(id)
    }

    /// The next frame, within the deadline.
    ///
    /// # Errors
    /// Deadline passed, socket closed, or not JSON.
    pub async fn next_frame(&mut self) -> anyhow::Result<Value> {
        loop {
            let msg = tokio::time::timeout(DEADLINE, self.ws.next())
                .await
                .context("no frame before the deadline")?
                .context("socket closed")??;
            match msg {
                Message::Text(text) => return Ok(serde_json::from_str(&text)?),
                Message::Close(frame) => bail!("socket closed by server: {frame:?}"),
                _ => {}
            }
        }
    }

    /// Reads frames until one matches.
    ///
    /// # Errors
    /// As [`Citizen::next_frame`].
    pub async fn wait_for(&mut self, matches: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            if tokio::time::Instant::now() > deadline {
                bail!("no matching frame before the deadline");
            }
            let frame = self.next_frame().await?;
            if matches(&frame) {
                return Ok(frame);
            }
        }
    }

    /// The next office message whose text contains `needle`.
    ///
    /// # Errors
    /// As [`Citizen::next_frame`].
    pub async fn office_message_containing(&mut self, needle: &str) -> anyhow::Result<Value> {
        self.wait_for(|f| {
            f["type"] == "message" && f["text"].as_str().is_some_and(|t| t.contains(needle))
        })
        .await
    }

    /// Asks a question: returns the `accepted` frame and the acknowledgement text.
    ///
    /// # Errors
    /// As [`Citizen::next_frame`], or an error frame.
    ///
    /// `accepted` and the acknowledgement may arrive in either order (the protocol does not
    /// order them), so this waits for both.
    pub async fn ask(&mut self, text: &str) -> anyhow::Result<(Value, String)> {
        let id = self.send(text).await?;
        let mut accepted = None;
        let mut ack = None;
        while accepted.is_none() || ack.is_none() {
            let frame = self
                .wait_for(|f| {
                    f["client_id"] == id.as_str() || f["type"] == "error" || f["type"] == "message"
                })
                .await?;
            match frame["type"].as_str() {
                Some("accepted") => accepted = Some(frame),
                Some("message") => {
                    ack = Some(frame["text"].as_str().unwrap_or_default().to_owned())
                }
                _ => bail!("message refused: {frame}"),
            }
        }
        Ok((accepted.unwrap_or_default(), ack.unwrap_or_default()))
    }

    /// Whether the server closed the connection (reads until close or deadline).
    pub async fn is_closed_by_server(&mut self) -> bool {
        loop {
            match tokio::time::timeout(DEADLINE, self.ws.next()).await {
                Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => {}
                Err(_) => return false,
            }
        }
    }

    /// Closes the connection.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
