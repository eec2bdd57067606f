//! The scope override reaches every sign-in: the token endpoint from the environment or the
//! file, the device code and the Azure CLI; a bad scope is named before any call.

use super::*;
use mde_triage::defender::LookBack;

/// A scope other than the default, as a government tenant's analyst would set it.
const GOV_SCOPE: &str = "https://api-gcc.securitycenter.microsoft.us/.default";
const DEFAULT_SCOPE: &str = "https://api.securitycenter.microsoft.com/.default";

#[tokio::test(flavor = "multi_thread")]
async fn a_scope_override_reaches_the_token_endpoint_from_the_environment_or_the_file() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("scope");
    let ok = |out: &Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        )
    };
    ok(&run(&sim, Some(SECRET), &[], &home).await);
    assert_eq!(sim.requested_scopes(), [DEFAULT_SCOPE], "the default");
    let gov = [("MDE_SCOPE", GOV_SCOPE.to_owned())];
    ok(&run(&sim, Some(SECRET), &gov, &home).await);
    // The file's `scope`, and the environment over it.
    let file_scope = "https://mde.example.org/.default";
    std::fs::create_dir_all(home.join("config/mde-triage")).unwrap();
    std::fs::write(
        home.join("config/mde-triage/config.toml"),
        format!("[settings]\nscope = \"{file_scope}\"\n"),
    )
    .unwrap();
    ok(&run(&sim, Some(SECRET), &[], &home).await);
    ok(&run(&sim, Some(SECRET), &gov, &home).await);
    assert_eq!(
        sim.requested_scopes(),
        [DEFAULT_SCOPE, GOV_SCOPE, file_scope, GOV_SCOPE]
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scope_override_reaches_the_device_code_and_azure_cli_sign_ins() {
    let sim = sim_with(quick_device_codes()).await;
    // Device code through the binary: the code is asked for with the scope.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mde-triage"));
    cmd.envs(support::isolated_env());
    cmd.args(["ip", DOC_IP])
        .env_remove("MDE_TOKEN")
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_TENANT_ID")
        .env("MDE_SIGN_IN", "device-code")
        .env("MDE_SCOPE", GOV_SCOPE)
        .env("AZURE_AUTHORITY_HOST", &sim.url)
        .env("MDE_API_URL", &sim.url)
        .env("PATH", "")
        .env("MDE_TRIAGE_LOG", "off");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(sim.requested_scopes(), [GOV_SCOPE]);
    // And renewing with the refresh token asks for it again.
    let device = DeviceCode::new(
        &sim.url,
        "organizations",
        "sim-public",
        Arc::new(|_: &str| {}),
        Duration::from_secs(10),
    )
    .unwrap()
    .with_scope(GOV_SCOPE);
    let client = api_client(&sim, Arc::new(device));
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap();
    revoke(&sim).await;
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap();
    assert_eq!(sim.requested_scopes(), [GOV_SCOPE; 3]);

    // The Azure CLI is asked for the scope's resource; the fake refuses any other.
    let home = scratch("az-scope");
    let answer = format!(r#"{{"accessToken": "{}"}}"#, sim.token);
    let bin = az_script(
        &home,
        "https://api-gcc.securitycenter.microsoft.us",
        &format!("printf '%s\\n' '{answer}'"),
    );
    let out = run_with_az_and(&sim, &bin, &["ip", DOC_IP], &[("MDE_SCOPE", GOV_SCOPE)]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(az_calls(&home), 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_scope_in_the_environment_is_named_before_any_call() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("bad-scope");
    for bad in [
        "https://api.securitycenter.microsoft.com",
        "http://api.securitycenter.microsoft.com/.default",
        "api://fc780465-2017-40d4-a0c5-307022471b92/.default",
    ] {
        let out = run(&sim, Some(SECRET), &[("MDE_SCOPE", bad.to_owned())], &home).await;
        assert_eq!(out.status.code(), Some(11));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!(
                "mde-triage: MDE_SCOPE: '{bad}' is not a token scope (expected an https URL \
                 ending in /.default, e.g. {DEFAULT_SCOPE})\n"
            )
        );
    }
    assert!(paths(&sim).is_empty(), "nothing was sent");
    sim.shutdown().await;
}
