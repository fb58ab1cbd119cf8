//! Validation of an ID token: the signature against the provider's published keys (JWKS), the
//! issuer, the audience (our client id), the nonce of this sign-in and the expiry — by the
//! `openidconnect` crate's verifier, with the clock passed in.

use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, ClaimsVerificationError, ClientId, IdTokenVerifier, IssuerUrl, Nonce,
    SignatureVerificationError,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Every claim beyond the standard ones, such as `groups`, kept as JSON.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExtraClaims {
    #[serde(flatten)]
    rest: serde_json::Map<String, Value>,
}

impl AdditionalClaims for ExtraClaims {}

/// An ID token with [`ExtraClaims`].
pub type IdToken = openidconnect::IdToken<
    ExtraClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// What a token must match.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The provider's issuer URL, exactly as in its discovery document.
    pub issuer: &'a str,
    /// Our client id: the token's audience.
    pub client_id: &'a str,
    /// The provider's signing keys.
    pub jwks: &'a CoreJsonWebKeySet,
    /// The nonce sent with this sign-in.
    pub nonce: &'a str,
}

/// The claims of a valid ID token, as JSON (`iss`, `sub`, `name`, `groups`, …).
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The issuer.
    pub issuer: String,
    /// The subject.
    pub subject: String,
    /// Every claim.
    pub claims: Value,
}

/// Why an ID token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefused {
    /// Not a JWT at all.
    #[error("the ID token is malformed: {0}")]
    Malformed(String),
    /// No key of the provider matches the token's key id (the provider may have rotated its
    /// keys: fetch them again and retry once).
    #[error("no published key of the provider matches the ID token")]
    UnknownKey,
    /// The signature does not verify, or uses an algorithm that is not allowed.
    #[error("the ID token's signature is invalid: {0}")]
    Signature(String),
    /// Expired.
    #[error("the ID token has expired: {0}")]
    Expired(String),
    /// Issuer, audience, nonce or another claim is wrong.
    #[error("the ID token's claims are invalid: {0}")]
    Claims(String),
}

/// Algorithms accepted for ID token signatures: asymmetric only (an `HS256` token would be
/// signed with our own client secret), `none` never.
const ALLOWED: [CoreJwsSigningAlgorithm; 8] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// Validates `raw` (the compact JWT from the token endpoint) at time `now`.
///
/// # Errors
/// [`TokenRefused`] naming the first check that failed.
pub fn verify_id_token(
    raw: &str,
    expected: &Expected<'_>,
    now: jiff::Timestamp,
) -> Result<Verified, TokenRefused> {
    let token: IdToken = raw
        .trim()
        .parse()
        .map_err(|e: serde_json::Error| TokenRefused::Malformed(e.to_string()))?;
    let issuer = IssuerUrl::new(expected.issuer.to_owned())
        .map_err(|e| TokenRefused::Claims(format!("issuer URL: {e}")))?;
    let now =
        chrono::DateTime::from_timestamp(now.as_second(), now.subsec_nanosecond().max(0) as u32)
            .unwrap_or_default();
    let verifier = IdTokenVerifier::new_public_client(
        ClientId::new(expected.client_id.to_owned()),
        issuer,
        expected.jwks.clone(),
    )
    .set_allowed_algs(ALLOWED)
    .set_time_fn(move || now);
    let nonce = Nonce::new(expected.nonce.to_owned());
    let claims = token.claims(&verifier, &nonce).map_err(refused)?;
    let claims = serde_json::to_value(claims)
        .map_err(|e| TokenRefused::Malformed(format!("claims: {e}")))?;
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Ok(Verified {
        issuer: text("iss"),
        subject: text("sub"),
        claims,
    })
}

fn refused(error: ClaimsVerificationError) -> TokenRefused {
    match error {
        ClaimsVerificationError::Expired(e) => TokenRefused::Expired(e),
        ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        ) => TokenRefused::UnknownKey,
        ClaimsVerificationError::SignatureVerification(e) => TokenRefused::Signature(e.to_string()),
        other => TokenRefused::Claims(other.to_string()),
    }
}
