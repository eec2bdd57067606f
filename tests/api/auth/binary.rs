//! App credentials end to end through the binary: a sign-in that works, a wrong secret (one
//! sentence, its own exit code), a declined device code (one prompt and one code for the whole
//! command), and a secret read from a file.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_end_to_end_through_the_binary() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("e2e");
    let out = run(&sim, Some(SECRET), &[], &home).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stats"]["prevalence"], 63515);
    let log = paths(&sim);
    assert_eq!(
        log[0],
        ("/contoso.onmicrosoft.com/oauth2/v2.0/token".into(), 200)
    );
    assert_eq!(log.len(), 3, "one sign-in for both calls: {log:?}");
    let written = logs(&home);
    assert!(written.contains("signed in"), "the log says so");
    assert!(!written.contains(SECRET), "the secret is never logged");
    assert_eq!(sim.issued_secrets().len(), 1, "one access token");
    for (what, text) in [
        ("the log", written),
        ("stdout", String::from_utf8_lossy(&out.stdout).into_owned()),
        ("stderr", String::from_utf8_lossy(&out.stderr).into_owned()),
    ] {
        assert!(!text.contains(SECRET), "{what} shows the client secret");
        assert_no_issued_secret(&sim, what, &text);
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_secret_is_one_sentence_and_its_own_exit_code() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("wrong");
    let wrong = "wrong-secret-Zq8~value";
    let out = run(&sim, Some(wrong), &[], &home).await;
    assert_eq!(out.status.code(), Some(13));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("sign-in refused by Entra ID"), "{err}");
    assert!(
        err.contains("AADSTS7000215: Invalid client secret provided."),
        "{err}"
    );
    assert!(!err.contains("Trace ID"), "noise stripped: {err}");
    assert!(!err.contains(wrong) && !logs(&home).contains(wrong));
    assert!(out.stdout.is_empty());
    // Nothing reached the API.
    assert!(paths(&sim).iter().all(|(p, _)| !p.starts_with("/api/")));
    // `ip` asks two endpoints at once: both wait on the one sign-in and share its refusal.
    assert_eq!(sim.sign_in_requests(), ["client_credentials"]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_declined_device_code_is_one_prompt_and_one_code_for_the_whole_command() {
    let sim = sim_with(SimConfig {
        device_code_declined: true,
        ..quick_device_codes()
    })
    .await;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mde-triage"));
    cmd.envs(support::isolated_env());
    cmd.args(["ip", DOC_IP])
        .env_remove("MDE_TOKEN")
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_TENANT_ID")
        .env("MDE_SIGN_IN", "device-code")
        .env("AZURE_AUTHORITY_HOST", &sim.url)
        .env("MDE_API_URL", &sim.url)
        .env("PATH", "")
        .env("MDE_TRIAGE_LOG", "off");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(13));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.matches("To sign in, use a web browser").count(),
        1,
        "{err}"
    );
    assert!(
        err.contains(
            "authorization_declined: AADSTS70000: The end user denied the authorization request."
        ),
        "{err}"
    );
    assert!(
        !err.contains("Trace ID") && !err.contains("Correlation ID"),
        "{err}"
    );
    // The code, polled until the simulated user declined (two "pending" answers, then no).
    let poll = "urn:ietf:params:oauth:grant-type:device_code";
    assert_eq!(sim.sign_in_requests(), ["devicecode", poll, poll, poll]);
    assert!(paths(&sim).iter().all(|(p, _)| !p.starts_with("/api/")));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_secret_can_come_from_a_file() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("file");
    let file = home.join("secret");
    std::fs::write(&file, format!("{SECRET}\n")).unwrap();
    let extra = [("AZURE_CLIENT_SECRET_FILE", file.display().to_string())];
    let out = run(&sim, None, &extra, &home).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let missing = [("AZURE_CLIENT_SECRET_FILE", "/nonexistent/secret".to_owned())];
    let out = run(&sim, None, &missing, &home).await;
    assert_eq!(out.status.code(), Some(11));
    sim.shutdown().await;
}
