//! The Azure CLI as a fake `az`: its session used when nothing else is set, an older CLI's
//! local-time expiry, no session said plainly, and a 401 renewed once, then a clear error.

use super::*;
use mde_triage::defender::LookBack;

#[tokio::test(flavor = "multi_thread")]
async fn the_azure_cli_session_is_used_when_nothing_else_is_set() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("az");
    let in_an_hour = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let answer = format!(
        r#"{{"accessToken": "{}", "expiresOn": "2026-11-23 03:00:00.000000", "expires_on": {in_an_hour}, "tokenType": "Bearer"}}"#,
        sim.token
    );
    let bin = fake_az(&home, &answer, true);
    let out = run_with_az(&sim, &bin, &["ip", DOC_IP, "--json"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Two API calls, one `az` run: the token is cached.
    let calls = std::fs::read_to_string(home.join("calls")).unwrap();
    assert_eq!(calls.lines().count(), 1);
    assert_eq!(paths(&sim).len(), 2);
    let written = logs(&home.join("state"));
    assert!(written.contains("token from the Azure CLI"), "{written}");
    for text in [written, String::from_utf8_lossy(&out.stderr).into_owned()] {
        assert!(!text.contains(&sim.token), "az's token never shows");
    }

    // A token at the end of its life is asked for again before each use.
    let now = in_an_hour - 3600;
    let answer = format!(r#"{{"accessToken": "{}", "expires_on": {now}}}"#, sim.token);
    let home = scratch("az-expiring");
    let bin = fake_az(&home, &answer, true);
    let out = run_with_az(&sim, &bin, &["ip", DOC_IP]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = std::fs::read_to_string(home.join("calls")).unwrap();
    assert_eq!(calls.lines().count(), 2, "one `az` run per call");
    sim.shutdown().await;
}

/// The lifetime `az`'s token was given, from the log line "token from the Azure CLI secs=N".
fn az_lifetime_logged(state: &Path) -> u64 {
    let written = logs(state);
    written
        .lines()
        .filter(|l| l.contains("token from the Azure CLI"))
        .find_map(|l| {
            l.split("secs=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no lifetime logged: {written}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn an_older_azure_cli_expiry_in_local_time_is_read_in_the_local_zone() {
    let sim = sim_with(SimConfig::default()).await;
    // Twelve hours west of UTC (POSIX spelling: no time-zone data needed): read as UTC, the
    // expiry would be eleven hours gone.
    let zone = chrono::FixedOffset::west_opt(12 * 3600).unwrap();
    let expires_on = (chrono::Utc::now() + chrono::Duration::hours(1))
        .with_timezone(&zone)
        .format("%Y-%m-%d %H:%M:%S%.6f");
    for (expiry, lifetimes) in [
        (expires_on.to_string(), 3300..=3600),
        // Unreadable: asked again in five minutes.
        ("the first of December".to_owned(), 300..=300),
    ] {
        let home = scratch("az-local-time");
        let answer = format!(
            r#"{{"accessToken": "{}", "expiresOn": "{expiry}", "tokenType": "Bearer"}}"#,
            sim.token
        );
        let bin = fake_az(&home, &answer, true);
        let out = run_with_az_and(&sim, &bin, &["ip", DOC_IP], &[("TZ", "XYZ+12")]).await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lifetime = az_lifetime_logged(&home.join("state"));
        assert!(lifetimes.contains(&lifetime), "{expiry}: {lifetime}s");
        assert_eq!(az_calls(&home), 1);
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_azure_cli_without_a_session_says_what_to_do() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("az-out");
    let bin = fake_az(
        &home,
        "ERROR: Please run 'az login' to setup account.",
        false,
    );
    let out = run_with_az(&sim, &bin, &["ip", DOC_IP]).await;
    assert_eq!(out.status.code(), Some(13));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Please run 'az login' to setup account."),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(paths(&sim).is_empty(), "nothing reached the API");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_401_mid_session_renews_an_azure_cli_token_once() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("az-401");
    let bin = fake_az_from_file(&home);
    set_az_answer(&home, &mint(&sim).await);
    let client = api_client(&sim, Arc::new(AzureCli::new(bin.join("az"))));
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap();
    revoke(&sim).await;
    // After the revocation `az` signs in again and hands out a token the API accepts.
    set_az_answer(&home, &mint(&sim).await);
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap();
    assert_eq!(api_statuses(&sim), [200, 401, 200], "{:?}", paths(&sim));
    assert_eq!(az_calls(&home), 2, "asked again once, after the 401");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_refused_again_after_its_renewal_is_one_clear_unauthorized_error() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("az-401-twice");
    let bin = fake_az_from_file(&home);
    // `az` keeps serving the token it cached, revoked or not, until that token's expiry.
    set_az_answer(&home, &mint(&sim).await);
    let client = api_client(&sim, Arc::new(AzureCli::new(bin.join("az"))));
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap();
    revoke(&sim).await;
    let err = via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized);
    assert_eq!(err.kind.exit_code(), 5);
    let sentence = err.sentence();
    assert!(
        sentence.starts_with(
            "not signed in: the token is missing, invalid or expired (HTTP 401): The access \
             token has expired. (a renewed token was refused too)"
        ),
        "{sentence}"
    );
    // One renewal, then the answer: no loop of sign-ins and refusals.
    assert_eq!(api_statuses(&sim), [200, 401, 401], "{:?}", paths(&sim));
    assert_eq!(az_calls(&home), 2);
    sim.shutdown().await;
}
