//! The body of `POST /v1.0/security/runHuntingQuery` (FACTS §4.1).

use serde::Serialize;

/// Where hunting queries go, under the Graph base (`https://graph.microsoft.com`).
pub const HUNTING_PATH: &str = "/v1.0/security/runHuntingQuery";

/// One hunting request.
///
/// The parameter names are sent as `Query` / `Timespan`, as the v1.0 docs, the SDK snippets
/// and Microsoft's own msticpy do; the service schema spells them `query` / `timespan`, and one
/// third-party code base reports `Query` ignored (a 400 "The incomplete fragment is unexpected"
/// for a non-empty query). FACTS §4.1 leaves it UNVERIFIED, so the casing lives in these two
/// attributes only, and [`super::error`] names that 400 when it comes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HuntingRequest {
    #[serde(rename = "Query")]
    pub query: String,
    /// ISO 8601 (`P30D`, `start/end`); the service defaults to 30 days and applies the shorter
    /// of this and the query's own window. Our queries carry their window in KQL, so it is
    /// left out unless a caller wants it.
    #[serde(rename = "Timespan", skip_serializing_if = "Option::is_none")]
    pub timespan: Option<String>,
}

impl HuntingRequest {
    pub fn new(query: String) -> Self {
        Self {
            query,
            timespan: None,
        }
    }

    pub fn with_timespan(self, timespan: impl Into<String>) -> Self {
        Self {
            timespan: Some(timespan.into()),
            ..self
        }
    }

    /// The JSON body to send with `Content-Type: application/json; charset=utf-8` (FACTS
    /// §4.1: without the charset, non-ASCII queries were read differently).
    pub fn body(&self) -> String {
        // A struct of two strings always serialises; the fallback only satisfies the types.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_uses_the_documented_names() {
        let r = HuntingRequest::new("DeviceInfo | take 1".into());
        assert_eq!(r.body(), r#"{"Query":"DeviceInfo | take 1"}"#);
        let r = r.with_timespan("P7D");
        assert_eq!(
            r.body(),
            r#"{"Query":"DeviceInfo | take 1","Timespan":"P7D"}"#
        );
    }

    #[test]
    fn quotes_and_line_breaks_in_the_query_are_json_escaped() {
        let r = HuntingRequest::new("T\n| where A == \"x\\\"\"".into());
        let back: serde_json::Value = serde_json::from_str(&r.body()).unwrap();
        assert_eq!(back["Query"], "T\n| where A == \"x\\\"\"");
    }
}
