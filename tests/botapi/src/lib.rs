//! A Telegram Bot API emulator (to be written).
