//! What the emulated Gateway knows: the bot's account, the public key directory, the citizens'
//! apps (key pairs and inboxes) and the counters tests look at.

use std::collections::{HashMap, HashSet};

use threema_gateway::{PublicKey, SecretKey};

use crate::Received;

/// One citizen's Threema app.
pub(crate) struct CitizenApp {
    /// The app's secret key (its public key is in the directory).
    pub(crate) key: SecretKey,
    /// The public nickname sent along with the citizen's messages, if any.
    pub(crate) nickname: Option<String>,
    /// What the bot sent, decrypted, in the order the Gateway accepted it.
    pub(crate) inbox: Vec<Received>,
    /// How many inbox entries [`crate::Citizen::next_message`] has handed out.
    pub(crate) cursor: usize,
}

/// The whole emulated world behind one [`crate::Gateway`].
pub(crate) struct World {
    pub(crate) gateway_id: String,
    pub(crate) secret: String,
    pub(crate) bot_key: SecretKey,
    /// Every identity's public key, the bot's included (what `/pubkeys` answers).
    pub(crate) directory: HashMap<String, PublicKey>,
    pub(crate) citizens: HashMap<String, CitizenApp>,
    pub(crate) credits: i64,
    pub(crate) outage: bool,
    pub(crate) accepted: usize,
    pub(crate) pubkey_lookups: usize,
    pub(crate) callback_url: Option<String>,
    /// The body of the last callback a citizen's message caused, byte for byte.
    pub(crate) last_callback: Option<String>,
    used_message_ids: HashSet<u64>,
}

impl World {
    pub(crate) fn new(gateway_id: String, secret: String, bot_key: SecretKey) -> World {
        let mut directory = HashMap::new();
        directory.insert(gateway_id.clone(), bot_key.public_key());
        World {
            gateway_id,
            secret,
            bot_key,
            directory,
            citizens: HashMap::new(),
            credits: crate::INITIAL_CREDITS,
            outage: false,
            accepted: 0,
            pubkey_lookups: 0,
            callback_url: None,
            last_callback: None,
            used_message_ids: HashSet::new(),
        }
    }

    /// A random message id never handed out before by this Gateway (either direction).
    pub(crate) fn fresh_message_id(&mut self) -> u64 {
        loop {
            let id = u64::from_le_bytes(crate::random_bytes::<8>());
            if id != 0 && self.used_message_ids.insert(id) {
                return id;
            }
        }
    }
}
