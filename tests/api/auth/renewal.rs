//! Tokens through the client and the scheduler: one sign-in however many requests wait, renewal
//! before expiry and after a 401 (once, however many saw it), refusals not retried, plain HTTP
//! refused, and no secret or token in any `Debug` text nor a garbled answer quoted.

use super::*;
use mde_triage::defender::LookBack;

#[tokio::test(flavor = "multi_thread")]
async fn one_sign_in_however_many_requests_wait() {
    let sim = sim_with(SimConfig::default()).await;
    let (client, _) = client(&sim, SECRET);
    let calls: Vec<_> = (1..=10)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move {
                via_scheduler(
                    &c,
                    FetchKey::IpStats(ip(&format!("10.0.0.{i}")), LookBack::MONTH),
                )
                .await
            })
        })
        .collect();
    for c in calls {
        assert!(c.await.unwrap().is_ok());
    }
    assert_eq!(token_posts(&sim), 1);
    // Still valid: later calls reuse it.
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap();
    assert_eq!(token_posts(&sim), 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_past_its_refresh_point_is_renewed_before_use() {
    // A zero lifetime puts the refresh point at the moment of issue: every call signs in
    // again first (the simulator still accepts each token for its clock-skew allowance).
    let sim = sim_with(SimConfig {
        token_lifetime: Duration::ZERO,
        ..SimConfig::default()
    })
    .await;
    let (client, _) = client(&sim, SECRET);
    for _ in 0..3 {
        via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
            .await
            .unwrap();
    }
    assert_eq!(token_posts(&sim), 3);
    assert!(paths(&sim).iter().all(|(_, status)| *status == 200));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_401_mid_session_renews_the_token_once() {
    let sim = sim_with(SimConfig::default()).await;
    let (client, _) = client(&sim, SECRET);
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap();
    revoke(&sim).await;
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap();
    let statuses: Vec<u16> = paths(&sim).into_iter().map(|(_, s)| s).collect();
    assert_eq!(statuses, [200, 200, 401, 200, 200], "{:?}", paths(&sim));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_401_seen_by_many_waiting_requests_renews_the_token_once() {
    // Slow answers: all ten requests are out with the revoked token before the first 401
    // comes back, so (barring a stalled machine) all ten see one.
    let sim = sim_with(SimConfig {
        latency: Duration::from_millis(300),
        ..SimConfig::default()
    })
    .await;
    let (client, _) = client(&sim, SECRET);
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap();
    revoke(&sim).await;
    let calls: Vec<_> = (1..=10)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move {
                via_scheduler(
                    &c,
                    FetchKey::IpStats(ip(&format!("10.0.0.{i}")), LookBack::MONTH),
                )
                .await
            })
        })
        .collect();
    for c in calls {
        assert!(c.await.unwrap().is_ok());
    }
    // However many refusals, one renewal: the first to see a 401 renews, the others wait for
    // it (or find it done) and retry with the fresh token.
    let statuses = api_statuses(&sim);
    let refused = statuses.iter().filter(|s| **s == 401).count();
    assert!((1..=10).contains(&refused), "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 11);
    assert_eq!(
        token_posts(&sim),
        2,
        "{refused} refusals: {:?}",
        paths(&sim)
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_refusals_are_not_retried_and_plain_http_is_refused() {
    let sim = sim_with(SimConfig::default()).await;
    let (client, _) = client(&sim, "nope");
    let err = via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap_err();
    assert_eq!(err.kind.exit_code(), 13);
    assert_eq!(token_posts(&sim), 1);
    sim.shutdown().await;
    let remote = ClientCredentials::new(
        AppCredentials {
            authority: "http://login.example.com".into(),
            tenant: "t".into(),
            client_id: "c".into(),
            secret: Secret::new("s3cr3t"),
        },
        Duration::from_secs(1),
    );
    assert!(remote.unwrap_err().message.contains("https"));
}

#[test]
fn debug_output_never_shows_a_secret() {
    let creds = AppCredentials {
        authority: "https://login.microsoftonline.com".into(),
        tenant: "t".into(),
        client_id: "c".into(),
        secret: Secret::new("s3cr3t-value"),
    };
    assert!(!format!("{creds:?}").contains("s3cr3t-value"));
    let source = ClientCredentials::new(creds, Duration::from_secs(1)).unwrap();
    assert!(!format!("{source:?}").contains("s3cr3t-value"));
}

#[tokio::test(flavor = "multi_thread")]
async fn debug_output_of_signed_in_sources_never_shows_a_token() {
    let sim = sim_with(quick_device_codes()).await;
    let device = Arc::new(
        DeviceCode::new(
            &sim.url,
            "organizations",
            "sim-public",
            Arc::new(|_: &str| {}),
            Duration::from_secs(10),
        )
        .unwrap(),
    );
    let client = api_client(&sim, device.clone());
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap();
    // Renewing with the refresh token puts a second pair in memory.
    revoke(&sim).await;
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap();
    assert_eq!(
        sim.issued_secrets().len(),
        5,
        "a code, then two token pairs"
    );
    assert_no_issued_secret(&sim, "DeviceCode's Debug", &format!("{device:?}"));
    assert_no_issued_secret(&sim, "Client's Debug", &format!("{client:?}"));

    let home = scratch("az-debug");
    let bin = fake_az_from_file(&home);
    set_az_answer(&home, &mint(&sim).await);
    let cli = Arc::new(AzureCli::new(bin.join("az")));
    let token = cli.token().await.unwrap();
    let shown = format!("{cli:?}");
    assert!(shown.contains("AzureCli"), "{shown}");
    assert!(!shown.contains(&token), "AzureCli's Debug shows its token");
    assert_no_issued_secret(&sim, "AzureCli's Debug", &shown);
    sim.shutdown().await;
}

/// A token endpoint whose answers are cut short (a proxy's doing): what does arrive holds a
/// token, or the device code.
async fn garbled_authority(code_answer: &'static str) -> String {
    use axum::routing::post;
    let router = axum::Router::new()
        .route(
            "/{tenant}/oauth2/v2.0/token",
            post(|| async {
                r#"{"token_type": "Bearer", "expires_in": 3599, "refresh_token": "sim-rt-LEAKY-refresh", "access_token": "sim-at-LEAKY-access"#
            }),
        )
        .route(
            "/{tenant}/oauth2/v2.0/devicecode",
            post(move || async move { code_answer }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

#[tokio::test(flavor = "multi_thread")]
async fn a_garbled_sign_in_answer_is_described_never_quoted() {
    let whole_code = r#"{"device_code": "sim-dc-LEAKY-code", "message": "Enter the code.", "interval": 0, "expires_in": 900}"#;
    let cut_code =
        r#"{"message": "Enter the code.", "interval": 0, "device_code": "sim-dc-LEAKY-code"#;
    let mut errors = Vec::new();
    let url = garbled_authority(whole_code).await;
    let app = ClientCredentials::new(
        AppCredentials {
            authority: url.clone(),
            tenant: "contoso".into(),
            client_id: "sim-client".into(),
            secret: Secret::new(SECRET),
        },
        Duration::from_secs(10),
    )
    .unwrap();
    errors.push(app.token().await.unwrap_err());
    for url in [url, garbled_authority(cut_code).await] {
        let device = DeviceCode::new(
            &url,
            "organizations",
            "sim-public",
            Arc::new(|_: &str| {}),
            Duration::from_secs(10),
        )
        .unwrap();
        errors.push(device.token().await.unwrap_err());
    }
    let home = scratch("az-garbled");
    let bin = fake_az(
        &home,
        r#"{"expires_on": 1, "accessToken": "sim-at-LEAKY-az"#,
        true,
    );
    errors.push(AzureCli::new(bin.join("az")).token().await.unwrap_err());
    for e in errors {
        let sentence = e.sentence();
        assert!(
            sentence.contains("at line 1, column") || sentence.contains("at line 2, column"),
            "where it broke: {sentence}"
        );
        assert!(
            sentence.contains("(not shown: it may hold a token)"),
            "{sentence}"
        );
        assert!(!sentence.contains("LEAKY"), "{sentence}");
        assert!(!format!("{e:?}").contains("LEAKY"), "{e:?}");
    }
}
