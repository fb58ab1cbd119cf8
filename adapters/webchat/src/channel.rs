//! The outbound side of the web chat: open sockets by citizen address.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use sprechstunde_core::{Channel, ChannelKind, Delivery, DeliveryError};
use tokio::sync::mpsc;

use crate::protocol::{From, ServerFrame};

/// Frames a connection can have queued before delivery counts as failing.
pub(crate) const CONNECTION_BUFFER: usize = 256;

type Senders = HashMap<String, Vec<(u64, mpsc::Sender<ServerFrame>)>>;

/// Open web chat connections, by citizen address (several tabs may be open).
#[derive(Clone, Default)]
pub struct WebChannel {
    connections: Arc<Mutex<Senders>>,
    next_id: Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for WebChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebChannel")
    }
}

/// A registered connection; unregisters itself when dropped.
pub(crate) struct Registration {
    channel: WebChannel,
    address: String,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut map = self.channel.lock();
        if let Some(list) = map.get_mut(&self.address) {
            list.retain(|(id, _)| *id != self.id);
            if list.is_empty() {
                map.remove(&self.address);
            }
        }
    }
}

impl WebChannel {
    fn lock(&self) -> std::sync::MutexGuard<'_, Senders> {
        self.connections.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn register(&self, address: &str, tx: mpsc::Sender<ServerFrame>) -> Registration {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.lock()
            .entry(address.to_owned())
            .or_default()
            .push((id, tx));
        Registration {
            channel: self.clone(),
            address: address.to_owned(),
            id,
        }
    }

    /// Number of open connections.
    pub fn connections(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }
}

#[async_trait]
impl Channel for WebChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Web
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let senders: Vec<_> = self
            .lock()
            .get(&delivery.address)
            .map(|list| list.iter().map(|(_, tx)| tx.clone()).collect())
            .unwrap_or_default();
        let frame = ServerFrame::Message {
            id: format!("o{}", delivery.id),
            from: From::Office,
            text: delivery.text.clone(),
            at: jiff::Timestamp::now().to_string(),
            choices: delivery.choices.clone(),
        };
        let mut delivered = false;
        for tx in senders {
            if tx.send(frame.clone()).await.is_ok() {
                delivered = true;
            }
        }
        if delivered {
            Ok(())
        } else {
            Err(DeliveryError::Deferred)
        }
    }
}
