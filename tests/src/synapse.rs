//! A real Synapse homeserver on loopback for the Matrix tests (to be written).
