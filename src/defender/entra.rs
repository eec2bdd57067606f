//! What Entra ID's token endpoint says when it refuses, as one sentence: the AADSTS code and
//! its description, without the trace id, correlation id and timestamp appended to it (those
//! go to the log, where a support ticket can find them).

use serde_json::Value;

use super::error::{self, ApiError, ErrorKind};
use super::sanitize;

/// The fields Entra appends to every description, each with its value.
const NOISE: [&str; 3] = ["Trace ID:", "Correlation ID:", "Timestamp:"];

/// The token endpoint's refusal (`status`, `body`) as an error for the analyst.
pub(crate) fn sign_in_error(status: u16, body: &[u8]) -> ApiError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(name)?.as_str())
            .map(sanitize::one_line)
            .filter(|s| !s.trim().is_empty())
    };
    let code = field("error");
    let description = parsed
        .as_ref()
        .and_then(|v| v.get("error_description")?.as_str())
        .map(|d| sanitize::one_line(&without_noise(d)))
        .filter(|d| !d.is_empty());
    tracing::warn!(
        status,
        error = code.as_deref().unwrap_or(""),
        trace_id = field("trace_id").as_deref().unwrap_or(""),
        correlation_id = field("correlation_id").as_deref().unwrap_or(""),
        timestamp = field("timestamp").as_deref().unwrap_or(""),
        "the token endpoint answered an error"
    );
    let kind = match status {
        429 => ErrorKind::Throttled,
        500.. => ErrorKind::Server,
        _ => ErrorKind::SignIn,
    };
    let message = match (code, description) {
        (Some(code), Some(d)) => format!("{code}: {d}"),
        (None, Some(d)) => d,
        (Some(code), None) => code,
        (None, None) => format!("HTTP {status} from the token endpoint"),
    };
    let mut e = ApiError::new(kind, error::shorten_logged("a sign-in refusal", &message));
    e.status = Some(status);
    e
}

/// `description` without Entra's "Trace ID: …", "Correlation ID: …" and "Timestamp: …",
/// whether each has its own line (after `\r\n`, `\n` or `\r`) or follows a space on one line.
/// The lines left are joined with a space.
pub(crate) fn without_noise(description: &str) -> String {
    description
        .split(['\r', '\n'])
        .map(|line| {
            let end = NOISE
                .iter()
                .filter_map(|marker| field_at(line, marker))
                .min()
                .unwrap_or(line.len());
            line[..end].trim()
        })
        .filter(|kept| !kept.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where `marker` starts `line` or follows whitespace in it: a field, not a word in a sentence.
fn field_at(line: &str, marker: &str) -> Option<usize> {
    line.match_indices(marker)
        .map(|(at, _)| at)
        .find(|&at| at == 0 || line[..at].ends_with(char::is_whitespace))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bodies as Entra sends them (shapes from public reports; ids and apps made up).
    const REFUSALS: &[(&str, u16, &str)] = &[
        (
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '11111111-2222-3333-4444-555555555555'.\r\nTrace ID: 6f6c4645-0202-4486-b625-fa957dfc4700\r\nCorrelation ID: 5fc87507-4086-4e77-b415-cee677eb232e\r\nTimestamp: 2023-05-06 06:03:00Z","error_codes":[7000215],"timestamp":"2023-05-06 06:03:00Z","trace_id":"6f6c4645-0202-4486-b625-fa957dfc4700","correlation_id":"5fc87507-4086-4e77-b415-cee677eb232e","error_uri":"https://login.microsoftonline.com/error?code=7000215"}"#,
            401,
            "invalid_client: AADSTS7000215: Invalid client secret provided. Ensure the secret \
             being sent in the request is the client secret value, not the client secret ID, for \
             a secret added to app '11111111-2222-3333-4444-555555555555'.",
        ),
        (
            r#"{"error":"unauthorized_client","error_description":"AADSTS700016: Application with identifier 'aaaa0000-bb11-2222-33cc-444444dddddd' was not found in the directory 'Contoso'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.\nTrace ID: 2d61dd77-aca3-44ff-86cc-f700e17a9901\nCorrelation ID: 586635ab-e714-4e16-a955-3d4c66009706\nTimestamp: 2023-05-30 19:31:55Z","error_codes":[700016]}"#,
            400,
            "unauthorized_client: AADSTS700016: Application with identifier \
             'aaaa0000-bb11-2222-33cc-444444dddddd' was not found in the directory 'Contoso'. \
             This can happen if the application has not been installed by the administrator of \
             the tenant or consented to by any user in the tenant. You may have sent your \
             authentication request to the wrong tenant.",
        ),
        (
            r#"{"error":"invalid_tenant","error_description":"AADSTS90002: Tenant 'contoso.example' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant. Trace ID: 2e35e78b-e885-4bdd-90e2-d7beb467df00 Correlation ID: 0774b819-134d-4815-9573-a31a98397420 Timestamp: 2025-08-18 15:26:14Z","error_codes":[90002],"timestamp":"2025-08-18 15:26:14Z"}"#,
            400,
            "invalid_tenant: AADSTS90002: Tenant 'contoso.example' not found. Check to make sure \
             you have the correct tenant ID and are signing into the correct cloud. Check with \
             your subscription administrator, this may happen if there are no active \
             subscriptions for the tenant.",
        ),
        (
            // Bare carriage returns, and the fields in another order.
            r#"{"error":"invalid_scope","error_description":"AADSTS70011: The provided value for the input parameter 'scope' isn't valid.\rCorrelation ID: fb3d2015-bc17-4bb9-bb85-30c5cf1aaaa7\rTrace ID: 255d1aef-8c98-452f-ac51-23d051240864\rTimestamp: 2016-01-09 02:02:12Z"}"#,
            400,
            "invalid_scope: AADSTS70011: The provided value for the input parameter 'scope' \
             isn't valid.",
        ),
        (
            // A description on several lines of its own keeps them, joined.
            r#"{"error":"interaction_required","error_description":"AADSTS50076: Due to a configuration change made by your administrator, you must use multi-factor authentication.\r\nSign in again.\r\nTrace ID: e0e6689e-7e5d-43b3-be28-a43490025900\r\nCorrelation ID: 01e262f5-9585-45b8-9820-2a12448900fb\r\nTimestamp: 2019-06-14 08:19:08Z"}"#,
            400,
            "interaction_required: AADSTS50076: Due to a configuration change made by your \
             administrator, you must use multi-factor authentication. Sign in again.",
        ),
        (
            r#"{"error":"temporarily_unavailable","error_description":"AADSTS90033: A transient error has occurred. Please try again.\r\nTrace ID: 1\r\nCorrelation ID: 2\r\nTimestamp: 3"}"#,
            503,
            "temporarily_unavailable: AADSTS90033: A transient error has occurred. Please try \
             again.",
        ),
        // Not JSON (a proxy's page): the status is all there is to say.
        (
            "<html><body>Bad Gateway</body></html>",
            502,
            "HTTP 502 from the token endpoint",
        ),
    ];

    #[test]
    fn entra_refusals_keep_the_code_and_the_sentence_and_drop_the_noise() {
        for (body, status, expected) in REFUSALS {
            let e = sign_in_error(*status, body.as_bytes());
            assert_eq!(e.message, *expected, "{body}");
            assert_eq!(e.status, Some(*status));
            for noise in NOISE {
                assert!(!e.sentence().contains(noise), "{}", e.sentence());
            }
        }
    }

    #[test]
    fn the_status_decides_whether_asking_again_can_help() {
        let kinds: Vec<ErrorKind> = [400, 401, 429, 500, 503]
            .iter()
            .map(|s| sign_in_error(*s, b"{}").kind)
            .collect();
        use ErrorKind::*;
        assert_eq!(kinds, [SignIn, SignIn, Throttled, Server, Server]);
    }

    #[test]
    fn a_word_that_only_looks_like_a_field_is_kept() {
        assert_eq!(
            without_noise("AADSTS1: Renew the token (Timestamp:5 is bad).\nTimestamp: 9"),
            "AADSTS1: Renew the token (Timestamp:5 is bad)."
        );
        assert_eq!(without_noise("Trace ID: 1"), "");
    }

    #[test]
    fn a_megabyte_description_is_cut_and_the_cut_said() {
        let body = serde_json::json!({
            "error": "invalid_request",
            "error_description": format!("AADSTS900144: {}", "ü".repeat(1_000_000)),
        });
        let e = sign_in_error(400, body.to_string().as_bytes());
        let (shown, note) = e.message.rsplit_once("… (").unwrap();
        assert_eq!(shown.chars().count(), error::SHOWN_CHARS);
        assert!(shown.starts_with("invalid_request: AADSTS900144: üü"));
        let more: usize = note
            .strip_suffix(" more characters)")
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            more,
            "invalid_request: AADSTS900144: ".len() + 1_000_000 - error::SHOWN_CHARS
        );
    }
}
