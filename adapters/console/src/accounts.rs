//! Staff credentials: argon2id password hashes, random secrets, API tokens.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Shortest accepted password.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// A credential operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The password is too short.
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    WeakPassword,
    /// The system has no randomness.
    #[error("no randomness available: {0}")]
    Random(String),
    /// Hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// `n` random bytes, URL-safe base64 without padding.
///
/// # Errors
/// The operating system has no randomness to give.
pub fn random_secret(n: usize) -> Result<String, AccountError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| AccountError::Random(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// SHA-256 of a secret, lower-case hex: how tokens and login cookies are stored.
pub fn sha256_hex(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Hashes a password with argon2id (default parameters: 19 MiB, 2 passes).
///
/// # Errors
/// A password shorter than [`MIN_PASSWORD_CHARS`]; no randomness for the salt.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::WeakPassword);
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AccountError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AccountError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

/// Checks a password against a stored hash. A malformed hash never verifies.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash of a random password nobody knows. Logins with an unknown name are verified
/// against it, so a wrong name takes as long as a wrong password.
///
/// # Errors
/// No randomness.
pub fn decoy_hash() -> Result<String, AccountError> {
    hash_password(&random_secret(24)?)
}

/// A new API token: `(id, secret)`. The caller shows `spst_<id>_<secret>` once and stores only
/// [`sha256_hex`] of the secret.
///
/// # Errors
/// No randomness.
pub fn new_token() -> Result<(String, String), AccountError> {
    let id: String = random_secret(6)?
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { 'x' })
        .collect();
    Ok((id, random_secret(32)?))
}

/// Splits a presented bearer token into `(id, secret)`.
pub fn parse_token(presented: &str) -> Option<(&str, &str)> {
    let rest = presented.strip_prefix("spst_")?;
    let (id, secret) = rest.split_once('_')?;
    (!id.is_empty() && !secret.is_empty()).then_some((id, secret))
}

/// The presentable form of a token.
pub fn format_token(id: &str, secret: &str) -> String {
    format!("spst_{id}_{secret}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterx", &hash));
        assert!(!verify_password("anything", &decoy_hash().expect("decoy")));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(matches!(
            hash_password("short"),
            Err(AccountError::WeakPassword)
        ));
    }

    #[test]
    fn tokens_round_trip_through_their_presentable_form() {
        let (id, secret) = new_token().expect("token");
        let shown = format_token(&id, &secret);
        assert_eq!(parse_token(&shown), Some((id.as_str(), secret.as_str())));
        assert_eq!(parse_token("Bearer x"), None);
        assert_eq!(parse_token("spst__x"), None);
    }
}
