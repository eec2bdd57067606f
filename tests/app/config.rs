//! The configuration file: precedence (file < environment < flags), profiles, settings, keys
//! and colours (each kind of bad file's message is `errors`'s). The binary runs with its own
//! config directory, so the developer's real configuration never leaks in.

mod errors;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use mde_triage::cli::GlobalArgs;
use mde_triage::config::{FileConfig, Settings};

/// A fresh directory for one test.
fn scratch() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mde-triage-config-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `expand --plan`, which prints the limits and reserve in force and calls nothing.
fn plan(home: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mde-triage"));
    cmd.args(args)
        .args(["expand", "--plan", "10.0.0.1"])
        .env("XDG_CONFIG_HOME", home)
        .env("HOME", home)
        .env("MDE_TRIAGE_DATA_DIR", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("MDE_TRIAGE_LOG", "off");
    for var in [
        "MDE_RATE_LIMIT",
        "MDE_RESERVE",
        "MDE_PROFILE",
        "MDE_CLOUD",
        "MDE_TRIAGE_CONFIG",
        "MDE_TEAM_REDIS",
        "MDE_TEAM_REDIS_PASSWORD",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn the_default_file_is_read_and_environment_then_flags_win() {
    let home = scratch();
    std::fs::create_dir_all(home.join("mde-triage")).unwrap();
    std::fs::write(
        home.join("mde-triage/config.toml"),
        "[settings]\nrate_limit = \"50/1m\"\nreserve = 0.5\n",
    )
    .unwrap();
    let file = plan(&home, &[], &[]);
    assert!(
        stdout(&file).contains("may use 25/1m of the 50/1m"),
        "{}",
        stderr(&file)
    );
    let env = plan(&home, &[("MDE_RATE_LIMIT", "40/1m")], &[]);
    assert!(
        stdout(&env).contains("may use 20/1m of the 40/1m"),
        "{}",
        stdout(&env)
    );
    let flag = plan(
        &home,
        &[("MDE_RATE_LIMIT", "40/1m")],
        &["--rate-limit", "30/1m", "--reserve", "0"],
    );
    assert!(
        stdout(&flag).contains("may use 30/1m of the 30/1m"),
        "{}",
        stdout(&flag)
    );
}

#[test]
fn profiles_select_a_tenant_and_unknown_ones_are_named() {
    let home = scratch();
    let path = write(
        &home,
        r#"
default_profile = "a"
[settings]
rate_limit = "60/1m"
[profiles.a]
reserve = 0.5
[profiles.b]
rate_limit = "10/1m"
reserve = 0.0
"#,
    );
    let config = path.to_str().unwrap();
    let default = plan(&home, &[], &["--config", config]);
    assert!(
        stdout(&default).contains("may use 30/1m of the 60/1m"),
        "{}",
        stderr(&default)
    );
    let b = plan(&home, &[("MDE_PROFILE", "b")], &["--config", config]);
    assert!(
        stdout(&b).contains("may use 10/1m of the 10/1m"),
        "{}",
        stderr(&b)
    );
    let missing = plan(&home, &[], &["--config", config, "--profile", "c"]);
    assert_eq!(missing.status.code(), Some(11));
    let err = stderr(&missing);
    assert!(
        err.contains("no profile 'c' (profiles here: a, b)"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one sentence: {err}");
}

#[test]
fn clouds_and_urls_resolve_by_level() {
    let dir = scratch();
    let path = write(
        &dir,
        "[settings]\ncloud = \"eu\"\n[profiles.lab]\napi_url = \"http://127.0.0.1:8080\"\n",
    );
    let resolve = |global: GlobalArgs| Settings::resolve(&global).unwrap();
    let base = GlobalArgs {
        config: Some(path.clone()),
        ..GlobalArgs::default()
    };
    let s = resolve(base.clone());
    assert_eq!(s.api_url, "https://eu.api.security.microsoft.com");
    assert_eq!(s.cloud.name, "eu");
    // A profile's URL beats the file-wide cloud, and keeps the cloud for sign-in.
    let s = resolve(GlobalArgs {
        profile: Some("lab".into()),
        ..base.clone()
    });
    assert_eq!(s.api_url, "http://127.0.0.1:8080");
    assert_eq!(s.cloud.name, "eu");
    // A cloud named on the command line beats any URL in the file.
    let s = resolve(GlobalArgs {
        profile: Some("lab".into()),
        cloud: Some("gcc-high".parse().unwrap()),
        ..base.clone()
    });
    assert_eq!(s.api_url, "https://api-gov.securitycenter.microsoft.us");
    assert_eq!(s.cloud.authority, "https://login.microsoftonline.us");
    // And an explicit URL beats everything.
    let s = resolve(GlobalArgs {
        api_url: Some("https://api.securitycenter.microsoft.com".into()),
        cloud: Some("us".parse().unwrap()),
        ..base
    });
    assert_eq!(s.api_url, "https://api.securitycenter.microsoft.com");
}

#[test]
fn the_sample_config_in_assets_is_valid() {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/config.sample.toml"
    ));
    let file = FileConfig::load(path).unwrap();
    assert_eq!(file.default_profile.as_deref(), Some("contoso"));
    let gov = file.layer(path, Some("fabrikam-gov")).unwrap();
    assert_eq!(gov.rate_limit.unwrap().to_string(), "50/1m,750/1h");
    assert_eq!(gov.reserve, Some(0.2), "inherited from [settings]");
    assert_eq!(
        file.settings.cache_ttl.as_ref().map(|t| t.resolve()),
        Some(mde_triage::fetch::Ttl::default()),
        "the sample's TTLs are the defaults it says they are"
    );
    // The scope is documented commented out (the default needs no line); uncommented, it is
    // the default and valid.
    let text = std::fs::read_to_string(path).unwrap();
    let scope = text
        .lines()
        .find_map(|l| l.strip_prefix("# scope = "))
        .expect("the sample documents `scope`");
    let uncommented = FileConfig::parse(path, &format!("[settings]\nscope = {scope}\n")).unwrap();
    assert_eq!(
        uncommented.settings.scope.as_deref(),
        Some(mde_triage::defender::auth::API_SCOPE)
    );

    // Its colours are said to be the built-in ones, every role listed: they must be.
    use mde_triage::app::{Action, Key, Keymap, Role, Theme};
    use ratatui::style::Color;
    assert_eq!(file.settings.colors.0.len(), Role::all().count());
    assert_eq!(
        Theme::with_choices(&file.settings.colors.0),
        Theme::default()
    );
    let theme = Theme::with_choices(&gov.colors.0);
    assert_eq!(
        (theme.banner_fg, theme.banner_bg),
        (Color::White, Color::Red)
    );
    assert_eq!(theme.focus, Color::Cyan, "inherited from [settings]");
    // Its keys are the defaults plus a few.
    let keys = Keymap::with_rebinds(&gov.keys.rebinds());
    let defaults = Keymap::default();
    for action in Action::all() {
        for k in defaults.keys_of(action) {
            assert!(keys.keys_of(action).contains(k), "{action:?} keeps {k}");
        }
    }
    assert!(
        keys.keys_of(Action::Back)
            .contains(&"h".parse::<Key>().unwrap())
    );
}

#[test]
fn a_token_scope_comes_from_the_file_and_a_profile_overrides_it() {
    let dir = scratch();
    let path = write(
        &dir,
        "[settings]\nscope = \"https://a.example/.default\"\n\
         [profiles.gov]\nscope = \" https://b.example/.default \"\n[profiles.other]\n",
    );
    let resolve = |profile: Option<&str>| {
        Settings::resolve(&GlobalArgs {
            config: Some(path.clone()),
            profile: profile.map(str::to_owned),
            ..GlobalArgs::default()
        })
        .unwrap()
        .token_scope
    };
    assert_eq!(resolve(None).as_deref(), Some("https://a.example/.default"));
    assert_eq!(
        resolve(Some("gov")).as_deref(),
        Some("https://b.example/.default"),
        "the profile's own, trimmed"
    );
    assert_eq!(
        resolve(Some("other")).as_deref(),
        Some("https://a.example/.default"),
        "inherited"
    );
    // No `scope` anywhere: none, which means the default for every cloud.
    let plain = write(&scratch(), "[settings]\ncloud = \"gcc-high\"\n");
    let s = Settings::resolve(&GlobalArgs {
        config: Some(plain),
        ..GlobalArgs::default()
    })
    .unwrap();
    assert_eq!(s.token_scope, None);
}

#[test]
fn cache_ttl_is_keyed_by_endpoint_name_and_the_old_keys_still_read() {
    use mde_triage::defender::Endpoint::{AlertIps, IpAlerts, IpStats};
    use std::time::Duration;
    let dir = scratch();
    let path = write(
        &dir,
        "[settings]\ncache_ttl = { ip_stats = \"2h\", alerts = \"5m\" }\n\
         [profiles.soc]\ncache_ttl = { ip_alerts = \"0s\" }\n\
         [profiles.old]\ncache_ttl = { stats = \"30m\", alert_ips = \"15m\" }\n\
         [profiles.none]\n",
    );
    let ttl = |profile: Option<&str>| {
        let s = Settings::resolve(&GlobalArgs {
            config: Some(path.clone()),
            profile: profile.map(str::to_owned),
            ..GlobalArgs::default()
        })
        .unwrap();
        [IpStats, IpAlerts, AlertIps].map(|e| s.cache.ttl.of(e).as_secs())
    };
    let (h, m) = (3600, 60);
    // A new name and an old key side by side; alert-IPs keep their default hour.
    assert_eq!(ttl(None), [2 * h, 5 * m, h]);
    // A profile's new name wins over [settings]' old key for the same endpoint.
    assert_eq!(ttl(Some("soc")), [2 * h, 0, h]);
    assert_eq!(ttl(Some("old")), [30 * m, 5 * m, 15 * m]);
    assert_eq!(ttl(Some("none")), [2 * h, 5 * m, h], "inherited whole");
    // No file: each endpoint's own default.
    let none = Settings::from_args(&GlobalArgs::default());
    for e in [IpStats, IpAlerts, AlertIps] {
        assert_eq!(none.cache.ttl.of(e), e.default_ttl(), "{e:?}");
    }
    assert_eq!(IpAlerts.default_ttl(), Duration::from_secs(10 * m));
}

#[test]
fn keys_and_colours_layer_per_action_and_role() {
    use mde_triage::app::{Action, Key};
    use ratatui::style::Color;
    let dir = scratch();
    let path = write(
        &dir,
        r##"
[settings.keys]
copy = ["c"]
note = ["N"]
[settings.colors]
severity_high = "magenta"
muted = "244"

[profiles.soc.keys]
copy = ["Y", "F5"]
tag = ["c"]
[profiles.soc.colors]
severity_high = "#ff8800"
focus = 39
"##,
    );
    let resolve = |profile: Option<&str>| {
        Settings::resolve(&GlobalArgs {
            config: Some(path.clone()),
            profile: profile.map(str::to_owned),
            ..GlobalArgs::default()
        })
        .unwrap()
    };
    let key = |s: &str| s.parse::<Key>().unwrap();

    let s = resolve(None);
    assert_eq!(s.keymap.keys_of(Action::Copy), &[key("c")]);
    assert_eq!(s.keymap.keys_of(Action::Note), &[key("N")]);
    assert_eq!(s.keymap.keys_of(Action::Tag), &[key("t")], "a default");
    assert_eq!(s.theme.severity_high, Color::Magenta);
    assert_eq!(s.theme.muted, Color::Indexed(244));
    assert_eq!(s.theme.focus, Color::Cyan, "a default");

    // The profile's lists win per action; what it leaves alone comes from [settings].
    let s = resolve(Some("soc"));
    assert_eq!(s.keymap.keys_of(Action::Copy), &[key("Y"), key("F5")]);
    assert_eq!(s.keymap.keys_of(Action::Tag), &[key("c")]);
    assert_eq!(s.keymap.keys_of(Action::Note), &[key("N")]);
    assert_eq!(s.theme.severity_high, Color::Rgb(0xff, 0x88, 0x00));
    assert_eq!(s.theme.focus, Color::Indexed(39));
    assert_eq!(s.theme.muted, Color::Indexed(244));

    // No file: the defaults, as README's key table says.
    let none = Settings::from_args(&GlobalArgs::default());
    assert_eq!(none.keymap, mde_triage::app::Keymap::default());
    assert_eq!(none.theme, mde_triage::app::Theme::default());
}

#[test]
fn the_mouse_is_on_unless_the_file_says_otherwise() {
    let resolve = |text: &str| {
        let path = write(&scratch(), text);
        Settings::resolve(&GlobalArgs {
            config: Some(path),
            profile: None,
            ..GlobalArgs::default()
        })
    };
    assert!(Settings::from_args(&GlobalArgs::default()).mouse);
    assert!(resolve("[settings]\n").unwrap().mouse);
    assert!(!resolve("[settings]\nmouse = false\n").unwrap().mouse);
    let profile = write(
        &scratch(),
        "default_profile = \"jump\"\n[settings]\nmouse = true\n[profiles.jump]\nmouse = false\n",
    );
    let s = Settings::resolve(&GlobalArgs {
        config: Some(profile),
        ..GlobalArgs::default()
    })
    .unwrap();
    assert!(!s.mouse, "the profile's own wins");
    let err = resolve("[settings]\nmouse = \"no\"\n").unwrap_err();
    assert!(
        err.message.starts_with("line 2, column 9:") && err.message.contains("bool"),
        "{err}"
    );
}

#[test]
fn the_look_back_is_30_days_unless_the_file_or_a_profile_says_otherwise() {
    use mde_triage::defender::LookBack;
    let resolve = |text: &str, profile: Option<&str>| {
        Settings::resolve(&GlobalArgs {
            config: Some(write(&scratch(), text)),
            profile: profile.map(str::to_owned),
            ..GlobalArgs::default()
        })
        .unwrap()
        .look_back
    };
    assert_eq!(
        Settings::from_args(&GlobalArgs::default()).look_back,
        LookBack::MONTH
    );
    assert_eq!(resolve("[settings]\n", None), LookBack::MONTH);
    assert_eq!(
        resolve("[settings]\nlook_back = \"7d\"\n", None),
        LookBack::WEEK
    );
    let both = "[settings]\nlook_back = \"7d\"\n[profiles.p]\nlook_back = \"48h\"\n";
    assert_eq!(
        resolve(both, Some("p")).hours(),
        48,
        "the profile's own wins"
    );
}

#[test]
fn the_team_redis_comes_from_settings_or_a_profile_and_its_password_from_a_file() {
    let dir = scratch();
    std::fs::write(dir.join("redis.pw"), "s3cret\n").unwrap();
    let path = write(
        &dir,
        r#"
[settings]
team_redis = "redis://redis.soc:6379"
team_redis_password_file = "redis.pw"
[profiles.lab]
team_redis = "redis+unix:///run/redis/r.sock?pass=in-url"
[profiles.plain]
"#,
    );
    let resolve = |profile: Option<&str>| {
        Settings::resolve(&GlobalArgs {
            config: Some(path.clone()),
            profile: profile.map(str::to_owned),
            ..GlobalArgs::default()
        })
        .unwrap()
        .team_redis
        .expect("a team setting")
    };
    let team = resolve(None);
    assert_eq!(team.url, "redis://redis.soc:6379");
    assert_eq!(team.password.as_ref().unwrap().expose(), "s3cret");
    // The profile's URL, the inherited password file over the URL's own password.
    let lab = resolve(Some("lab"));
    assert_eq!(lab.url, "redis+unix:///run/redis/r.sock");
    assert_eq!(lab.password.as_ref().unwrap().expose(), "s3cret");
    assert!(!format!("{lab:?}").contains("s3cret"));
    assert_eq!(resolve(Some("plain")).url, "redis://redis.soc:6379");
    // A flag's URL beats the file's, and keeps the file's password.
    let flagged = Settings::resolve(&GlobalArgs {
        config: Some(path.clone()),
        team_redis: Some(mde_triage::config::team::parse_flag("rediss://other.soc").unwrap()),
        ..GlobalArgs::default()
    })
    .unwrap()
    .team_redis
    .unwrap();
    assert_eq!(flagged.url, "rediss://other.soc");
    assert_eq!(flagged.password.unwrap().expose(), "s3cret");
}
