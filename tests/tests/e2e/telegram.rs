//! The Telegram channel against the Bot API emulator (to be written).
