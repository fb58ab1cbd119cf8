//! Normalisation of German question text into comparable word tokens.
