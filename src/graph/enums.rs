//! Graph's enum members onto the MDE model's, so an alert reads the same on both sources.
//!
//! Graph sends camelCase (`inProgress`), some of its own examples PascalCase (`Active`), and
//! members outside its schema (`microsoftDataLossPrevention`, the number `5`; FACTS §0.1, §8):
//! every match here ignores case, and a value not in a table is kept as sent (sanitised by
//! [`Fields`](crate::defender::fields::Fields) before it gets here), never guessed.
//! `unknownFutureValue` is kept too: it is Graph saying "a member newer than you asked for".

use crate::defender::{Severity, Status};

/// `unknown` is Graph's "not set" for severity; MDE says `UnSpecified`.
pub fn severity(raw: &str) -> Severity {
    match_table(
        raw,
        &[
            ("unknown", Severity::UnSpecified),
            ("unspecified", Severity::UnSpecified),
            ("informational", Severity::Informational),
            ("low", Severity::Low),
            ("medium", Severity::Medium),
            ("high", Severity::High),
        ],
    )
    .unwrap_or_else(|| Severity::from(raw))
}

pub fn status(raw: &str) -> Status {
    match_table(
        raw,
        &[
            ("unknown", Status::Unknown),
            ("new", Status::New),
            ("inProgress", Status::InProgress),
            ("resolved", Status::Resolved),
        ],
    )
    .unwrap_or_else(|| Status::from(raw))
}

/// `unknown` (and `null`, seen in 2026 answers) is "not classified yet": MDE's null.
pub fn classification(raw: &str) -> Option<String> {
    pascal_unless_unknown(raw)
}

/// The service schema's members differ from the v1.0 docs' (and MDE's alerts.md) for four
/// meanings (FACTS §2.3): those are shown with MDE's names, the rest PascalCased alike.
pub fn determination(raw: &str) -> Option<String> {
    let renamed = match_table(
        raw,
        &[
            ("compromisedAccount", "CompromisedUser"),
            ("notMalicious", "Clean"),
            ("notEnoughDataToValidate", "InsufficientData"),
            ("confirmedActivity", "ConfirmedUserActivity"),
        ],
    );
    match renamed {
        Some(mde) => Some(mde.to_owned()),
        None => pascal_unless_unknown(raw),
    }
}

/// Same members on both APIs, camelCase on Graph (FACTS §2.3); `unknown` kept, as MDE sends
/// `Unknown`.
pub fn investigation_state(raw: &str) -> Option<String> {
    non_empty(raw).map(pascal)
}

/// Graph's detection sources under the names the MDE API used for the same detectors
/// (MDE FACTS §1, `alerts-queue.md`); the rest as Graph sends them.
pub fn detection_source(raw: &str) -> Option<String> {
    let mde = match_table(
        raw,
        &[
            ("microsoftDefenderForEndpoint", "WindowsDefenderAtp"),
            ("antivirus", "WindowsDefenderAv"),
            ("smartScreen", "WindowsDefenderSmartScreen"),
            ("customTi", "CustomerTI"),
            ("automatedInvestigation", "AutomatedInvestigation"),
            ("microsoftThreatExperts", "ThreatExperts"),
            ("customDetection", "CustomDetection"),
            ("microsoft365Defender", "MTP"),
            ("microsoftDefenderForOffice365", "OfficeATP"),
            ("microsoftDefenderForIdentity", "AzureATP"),
            ("cloudAppSecurity", "MCAS"),
        ],
    );
    match mde {
        Some(m) => Some(m.to_owned()),
        None => non_empty(raw).map(str::to_owned),
    }
}

/// Device health, risk and similar members: the same words on both APIs, PascalCase on MDE
/// (`active` → `Active`, `none` → `None`).
pub fn pascal_case(raw: &str) -> Option<String> {
    non_empty(raw).map(pascal)
}

fn pascal_unless_unknown(raw: &str) -> Option<String> {
    let raw = non_empty(raw)?;
    (!raw.eq_ignore_ascii_case("unknown")).then(|| pascal(raw))
}

fn non_empty(raw: &str) -> Option<&str> {
    let t = raw.trim();
    (!t.is_empty()).then_some(t)
}

fn pascal(raw: &str) -> String {
    let mut chars = raw.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn match_table<T: Clone>(raw: &str, table: &[(&str, T)]) -> Option<T> {
    let raw = raw.trim();
    table
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(raw))
        .map(|(_, v)| v.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn either_casing_reads_as_the_mde_member() {
        assert_eq!(severity("medium"), Severity::Medium);
        assert_eq!(severity("Medium"), Severity::Medium);
        assert_eq!(severity("unknown"), Severity::UnSpecified);
        assert_eq!(status("inProgress"), Status::InProgress);
        assert_eq!(status("INPROGRESS"), Status::InProgress);
        assert_eq!(
            classification("truePositive").as_deref(),
            Some("TruePositive")
        );
        assert_eq!(
            classification("TruePositive").as_deref(),
            Some("TruePositive")
        );
        assert_eq!(classification("unknown"), None);
        assert_eq!(
            determination("multiStagedAttack").as_deref(),
            Some("MultiStagedAttack")
        );
        assert_eq!(
            determination("compromisedAccount").as_deref(),
            Some("CompromisedUser")
        );
        assert_eq!(determination("unknown"), None);
        assert_eq!(
            detection_source("antivirus").as_deref(),
            Some("WindowsDefenderAv")
        );
        assert_eq!(
            pascal_case("impairedCommunication").as_deref(),
            Some("ImpairedCommunication")
        );
    }

    #[test]
    fn unknown_members_are_kept_as_sent() {
        assert_eq!(severity("critical"), Severity::Other("critical".into()));
        assert_eq!(
            severity("unknownFutureValue"),
            Severity::Other("unknownFutureValue".into())
        );
        assert_eq!(
            status("awaitingAction"),
            Status::Other("awaitingAction".into())
        );
        assert_eq!(severity(""), Severity::Missing);
        assert_eq!(
            detection_source("microsoftDefenderForIoT").as_deref(),
            Some("microsoftDefenderForIoT")
        );
        assert_eq!(investigation_state(""), None);
    }
}
