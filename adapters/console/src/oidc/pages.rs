//! The pages a browser sees when a sign-in through the provider does not end in the console:
//! German first, English below, with a way back.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Why a sign-in ended here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Valid sign-in, but no claim value maps to a role.
    NoRole,
    /// The member is disabled in sprechstunde.
    Disabled,
    /// Another member has the login name.
    LoginTaken,
    /// Unknown, replayed or foreign state; no flow cookie.
    StaleFlow,
    /// The provider reported an error or the user cancelled.
    Cancelled,
    /// The ID token (or the token exchange) did not verify.
    Invalid,
    /// The provider cannot be reached.
    Unavailable,
    /// Single sign-on is not configured.
    NotConfigured,
}

impl Refusal {
    fn texts(
        self,
    ) -> (
        StatusCode,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    ) {
        match self {
            Refusal::NoRole => (
                StatusCode::FORBIDDEN,
                "Kein Zugang zur Sprechstunde",
                "Ihr Dienstkonto ist keiner Rolle der Bürgersprechstunde zugeordnet. Bitte wenden Sie sich an die Administration, damit Ihr Konto einer Gruppe für die Sprechstunde zugeordnet wird.",
                "No access to the office hours",
                "Your organisation account is not assigned to any role of the office hours. Please ask your administrators to add your account to a group for the office hours.",
            ),
            Refusal::Disabled => (
                StatusCode::FORBIDDEN,
                "Konto gesperrt",
                "Ihr Zugang zur Bürgersprechstunde ist gesperrt. Bitte wenden Sie sich an die Administration.",
                "Account disabled",
                "Your access to the office hours is disabled. Please contact your administrators.",
            ),
            Refusal::LoginTaken => (
                StatusCode::CONFLICT,
                "Anmeldename bereits vergeben",
                "Ein anderes Konto der Sprechstunde trägt bereits Ihren Anmeldenamen. Bitte wenden Sie sich an die Administration.",
                "Login name taken",
                "Another office hours account already has your login name. Please contact your administrators.",
            ),
            Refusal::StaleFlow => (
                StatusCode::BAD_REQUEST,
                "Anmeldung abgelaufen",
                "Diese Anmeldung ist abgelaufen oder wurde schon verwendet. Bitte melden Sie sich erneut an.",
                "Sign-in expired",
                "This sign-in has expired or was used already. Please sign in again.",
            ),
            Refusal::Cancelled => (
                StatusCode::BAD_REQUEST,
                "Anmeldung abgebrochen",
                "Die Anmeldung beim Anmeldedienst wurde abgebrochen. Sie können es erneut versuchen.",
                "Sign-in cancelled",
                "The sign-in at the identity provider was cancelled. You can try again.",
            ),
            Refusal::Invalid => (
                StatusCode::UNAUTHORIZED,
                "Anmeldung ungültig",
                "Die Antwort des Anmeldedienstes konnte nicht bestätigt werden. Bitte melden Sie sich erneut an.",
                "Sign-in invalid",
                "The identity provider's answer could not be verified. Please sign in again.",
            ),
            Refusal::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Anmeldedienst nicht erreichbar",
                "Der Anmeldedienst ist gerade nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.",
                "Identity provider unavailable",
                "The identity provider cannot be reached right now. Please try again shortly.",
            ),
            Refusal::NotConfigured => (
                StatusCode::NOT_FOUND,
                "Keine Anmeldung mit Dienstkonto",
                "Für diese Installation ist keine Anmeldung mit Dienstkonto eingerichtet.",
                "No organisation sign-in",
                "Sign-in with an organisation account is not set up for this installation.",
            ),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, title_de, text_de, title_en, text_en) = self.texts();
        let body = format!(
            "<!doctype html>\n<html lang=\"de\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title_de} – Sprechstunde</title>\
             <link rel=\"stylesheet\" href=\"/staff/assets/console.css\"></head>\
             <body><main class=\"card narrow\" id=\"oidc-refusal\">\
             <h1>{title_de}</h1><p>{text_de}</p>\
             <div lang=\"en\"><h2>{title_en}</h2><p>{text_en}</p></div>\
             <p><a href=\"/staff/\">Zurück zur Anmeldung / Back to sign-in</a></p>\
             </main></body></html>\n"
        );
        (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response()
    }
}
