//! The Matrix channel against a real Synapse (to be written).
