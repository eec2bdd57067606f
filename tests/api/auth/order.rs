//! Which source signs in: the automatic order (`MDE_TOKEN`, then the client secret, then the
//! Azure CLI), the device code flow (the code shown, polled, renewed without asking again, on
//! stderr through the binary), and an explicit choice obeyed or a bad one named.

use super::*;
use mde_triage::defender::LookBack;

/// `doctor`'s line for `check`, e.g. "[ ok ] credentials      MDE_TOKEN (...)".
fn doctor_line(out: &Output, check: &str) -> String {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.get(7..).is_some_and(|l| l.starts_with(check)))
        .unwrap_or_else(|| panic!("no {check} line: {}", String::from_utf8_lossy(&out.stdout)))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_tries_mde_token_then_the_client_secret_then_the_azure_cli() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("order");
    let bin = fake_az_from_file(&home);
    set_az_answer(&home, &sim.token);
    // Every source set at once; each run takes away the ones before the expected pick.
    let doctor = |unset: &'static [&'static str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mde-triage"));
        cmd.envs(support::isolated_env());
        cmd.arg("doctor")
            .env_remove("MDE_SIGN_IN")
            .env("MDE_TOKEN", &sim.token)
            .env("AZURE_TENANT_ID", "contoso")
            .env("AZURE_CLIENT_ID", "sim-client")
            .env("AZURE_CLIENT_SECRET", SECRET)
            .env("AZURE_AUTHORITY_HOST", &sim.url)
            .env("PATH", &bin)
            .env("MDE_API_URL", &sim.url)
            .env("MDE_TRIAGE_LOG", "off");
        for var in unset {
            cmd.env_remove(var);
        }
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
    };
    let out = doctor(&[]).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let credentials = doctor_line(&out, "credentials");
    assert!(credentials.contains("MDE_TOKEN"), "{credentials}");
    assert_eq!(
        (token_posts(&sim), az_calls(&home)),
        (0, 0),
        "MDE_TOKEN used"
    );

    let out = doctor(&["MDE_TOKEN"]).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let credentials = doctor_line(&out, "credentials");
    assert!(
        credentials.contains("app registration sim-client in tenant contoso"),
        "{credentials}"
    );
    assert_eq!(
        (token_posts(&sim), az_calls(&home)),
        (1, 0),
        "the app signed in"
    );

    let out = doctor(&["MDE_TOKEN", "AZURE_TENANT_ID", "AZURE_CLIENT_ID"])
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let credentials = doctor_line(&out, "credentials");
    assert!(
        credentials.contains("the Azure CLI's session"),
        "{credentials}"
    );
    assert_eq!((token_posts(&sim), az_calls(&home)), (1, 1), "az asked");
    sim.shutdown().await;
}
#[tokio::test(flavor = "multi_thread")]
async fn device_code_sign_in_shows_the_code_polls_and_then_renews_without_asking() {
    let sim = sim_with(SimConfig {
        token_lifetime: Duration::ZERO, // every later call renews
        ..quick_device_codes()
    })
    .await;
    let shown = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let prompt = {
        let shown = shown.clone();
        Arc::new(move |m: &str| shown.lock().unwrap().push(m.to_owned()))
    };
    let source = Arc::new(
        DeviceCode::new(
            &sim.url,
            "organizations",
            "sim-public",
            prompt,
            Duration::from_secs(10),
        )
        .unwrap(),
    );
    let client = Client::new(
        ClientConfig {
            base_url: sim.url.clone(),
            timeout: Duration::from_secs(10),
        },
        source,
    )
    .unwrap();
    for _ in 0..3 {
        via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
            .await
            .unwrap();
    }
    let shown = shown.lock().unwrap().clone();
    assert_eq!(shown.len(), 1, "asked once: {shown:?}");
    assert!(
        shown[0].contains("https://microsoft.com/devicelogin")
            && shown[0].contains("enter the code")
    );
    let log: Vec<(String, u16)> = paths(&sim);
    let device = "/organizations/oauth2/v2.0/devicecode".to_owned();
    let token = "/organizations/oauth2/v2.0/token".to_owned();
    let stats = format!("/api/ips/{DOC_IP}/stats?lookBackHours=720");
    assert_eq!(
        log,
        [
            (device, 200),
            (token.clone(), 400), // authorization_pending
            (token.clone(), 400),
            (token.clone(), 200),
            (stats.clone(), 200),
            (token.clone(), 200), // refresh token, no new code
            (stats.clone(), 200),
            (token, 200),
            (stats, 200),
        ]
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_401_mid_session_renews_a_device_code_token_with_the_refresh_token() {
    let sim = sim_with(quick_device_codes()).await;
    let shown = Arc::new(std::sync::Mutex::new(0usize));
    let prompt = {
        let shown = shown.clone();
        Arc::new(move |_: &str| *shown.lock().unwrap() += 1)
    };
    let source = DeviceCode::new(
        &sim.url,
        "organizations",
        "sim-public",
        prompt,
        Duration::from_secs(10),
    )
    .unwrap();
    let client = api_client(&sim, Arc::new(source));
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap();
    let signed_in = paths(&sim).len();
    revoke(&sim).await;
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap();
    let stats = format!("/api/ips/{DOC_IP}/stats?lookBackHours=720");
    assert_eq!(
        paths(&sim)[signed_in..],
        [
            (stats.clone(), 401),
            ("/organizations/oauth2/v2.0/token".to_owned(), 200), // the refresh token
            (stats, 200),
        ]
    );
    assert_eq!(*shown.lock().unwrap(), 1, "the analyst is not asked again");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn device_code_through_the_binary_prints_the_code_on_stderr() {
    let sim = sim_with(quick_device_codes()).await;
    let home = scratch("device-code");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mde-triage"));
    cmd.envs(support::isolated_env());
    cmd.args(["ip", DOC_IP, "--json"])
        .env_remove("MDE_TOKEN")
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_CLIENT_SECRET")
        .env("MDE_SIGN_IN", "device-code")
        .env("AZURE_TENANT_ID", "contoso")
        .env("AZURE_AUTHORITY_HOST", &sim.url)
        .env("MDE_API_URL", &sim.url)
        .env("PATH", "")
        .env("XDG_STATE_HOME", home.join("state"))
        .env("MDE_TRIAGE_LOG", "trace");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("To sign in, use a web browser to open the page"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stats"]["prevalence"], 63515);
    // The device code, the access token and the refresh token stay in memory.
    assert_eq!(sim.issued_secrets().len(), 3);
    let written = logs(&home);
    assert!(written.contains("signed in (device code)"), "{written}");
    assert_no_issued_secret(&sim, "the log", &written);
    assert_no_issued_secret(&sim, "stderr", &err);
    assert_no_issued_secret(&sim, "stdout", &String::from_utf8_lossy(&out.stdout));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_explicit_sign_in_choice_is_obeyed_and_a_bad_one_named() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("choice");
    std::fs::create_dir_all(home.join("config/mde-triage")).unwrap();
    std::fs::write(
        home.join("config/mde-triage/config.toml"),
        "[settings]\nsign_in = \"azure-cli\"\n",
    )
    .unwrap();
    let run = |extra: Option<&'static str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mde-triage"));
        cmd.envs(support::isolated_env());
        cmd.args(["ip", DOC_IP])
            .env("MDE_TOKEN", &sim.token)
            .env("MDE_API_URL", &sim.url)
            .env_remove("MDE_SIGN_IN")
            .env("PATH", "")
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("MDE_TRIAGE_LOG", "off");
        if let Some(choice) = extra {
            cmd.env("MDE_SIGN_IN", choice);
        }
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
    };
    // The file asks for the Azure CLI: MDE_TOKEN is not used behind its back.
    let out = run(None).await.unwrap();
    assert_eq!(out.status.code(), Some(11));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sign-in is set to azure-cli but `az` is not on PATH"),
        "{err}"
    );
    // The environment overrides the file.
    let out = run(Some("token")).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(Some("kerberos")).await.unwrap();
    assert_eq!(out.status.code(), Some(11));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("MDE_SIGN_IN: unknown sign-in 'kerberos'"),
        "{err}"
    );
    sim.shutdown().await;
}
