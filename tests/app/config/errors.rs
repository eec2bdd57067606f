//! Bad configuration, each said precisely: every kind of bad file gets a message naming its
//! place and what was expected, a broken or missing file stops with exit 11 before any call,
//! and a team Redis password on the command line or a broken Redis URL is refused and named.

use super::*;

#[test]
fn each_kind_of_bad_file_gets_a_precise_message() {
    let cases = [
        (
            "[settings]\nrate_limt = \"10/1m\"\n",
            "line 2, column 1",
            "unknown field `rate_limt`",
        ),
        (
            "[settings]\nrate_limit = \"10 per minute\"\n",
            "line 2, column 14",
            "bad rate limit '10 per minute'",
        ),
        (
            "[settings]\ncloud = \"mars\"\n",
            "line 2, column 9",
            "expected one of: public, us, eu",
        ),
        (
            "[settings]\nreserve = 1.5\n",
            "line 2, column 11",
            "not a fraction between 0.0 and 1.0",
        ),
        (
            "[settings]\nreserve = \"lots\"\n",
            "line 2, column 11",
            "invalid type: string",
        ),
        (
            "[settings]\ntimeout_secs = 0\n",
            "line 2, column 16",
            "between 1 and 600 seconds",
        ),
        (
            "[profiles.x]\napi_url = \"ftp://host\"\n",
            "line 2, column 11",
            "is not an http(s) URL",
        ),
        (
            "[settings\nrate_limit = \"10/1m\"\n",
            "line 1, column 10",
            "",
        ),
        (
            "[settings]\nlook_back = \"0h\"\n",
            "line 2, column 13",
            "'0h' is outside 1h to 720h (30 days)",
        ),
        (
            "[profiles.x]\nlook_back = \"a week\"\n",
            "line 2, column 13",
            "'a week' is not a period: write whole hours or days, e.g. 48h, 7d or 30d",
        ),
        (
            "[settings]\nlook_back = 48\n",
            "line 2, column 13",
            "invalid type: integer",
        ),
        (
            "colour = \"blue\"\n",
            "line 1, column 1",
            "unknown field `colour`",
        ),
        (
            "[settings]\nsign_in = \"kerberos\"\n",
            "line 2, column 11",
            "unknown sign-in 'kerberos' (expected auto, token",
        ),
        (
            "[settings]\ntheme = \"neon\"\n",
            "line 2, column 9",
            "unknown theme 'neon' (expected default, high-contrast or no-color)",
        ),
        (
            "[settings]\nscope = \"https://api.securitycenter.microsoft.com\"\n",
            "line 2, column 9",
            "'https://api.securitycenter.microsoft.com' is not a token scope (expected an https \
             URL ending in /.default, e.g. https://api.securitycenter.microsoft.com/.default)",
        ),
        (
            "[profiles.gov]\nscope = \"http://api-gov.securitycenter.microsoft.us/.default\"\n",
            "line 2, column 9",
            "is not a token scope (expected an https URL ending in /.default",
        ),
        (
            "[settings]\ncache_ttl = { alerts = \"soon\" }\n",
            "line 2",
            "'soon' is not a time span",
        ),
        (
            "[settings.keys]\ncopyy = [\"c\"]\n",
            "line 2, column 1",
            "unknown action 'copyy' (expected one of quit, help, focus_input, submit",
        ),
        (
            "[settings.keys]\ncopy = [\"c\"]\nnote = [\"n\", \"ctrl-\"]\n",
            "line 3, column 8",
            "'ctrl-' is not a key (expected a single character such as \"x\" or \"?\", or one of Enter, Esc",
        ),
        (
            "[profiles.a.keys]\nback = [\"PgDown\"]\n",
            "line 2, column 8",
            "'PgDown' is not a key",
        ),
        (
            "[settings.keys]\ncopy = [\"c\"]\n\ntag = [\"t\", \"c\"]\n",
            "line 4, column 7",
            "'c' is bound to both copy and tag (a key does one thing)",
        ),
        (
            "[settings.keys]\ncopy = []\n",
            "line 2, column 8",
            "no keys for copy (expected at least one, e.g. copy = [\"x\"])",
        ),
        (
            "[settings]\nkeys = { quit = [\"q\", \"C-c\"] }\n",
            "line 2, column 17",
            "'C-c' is reserved: Ctrl-C always quits",
        ),
        (
            "[settings.keys]\nquit = \"x\"\n",
            "line 2, column 8",
            "expected a list of keys such as [\"x\", \"ctrl-d\", \"PageDown\"]",
        ),
        (
            "[settings.keys]\ncopy = [\"c\"]\n[profiles.soc.keys]\ntag = [\"c\"]\n",
            "line 4, column 7",
            "'c' is bound to both tag and copy (line 2, [settings]); a key does one thing",
        ),
        (
            "[settings.colors]\nfocuss = \"red\"\n",
            "line 2, column 1",
            "unknown colour role 'focuss' (expected one of focus, border, muted, label, ok, warn, \
             error, banner_fg, banner_bg, severity_high, severity_medium, severity_low, \
             severity_informational)",
        ),
        (
            "[profiles.x.colors]\nok = \"green\"\nseverity_high = \"#ff00\"\n",
            "line 3, column 17",
            "'#ff00' is not a colour (expected a name such as red, lightred, darkgray, gray, \
             white or reset, \"#rrggbb\", or an index \"0\" to \"255\")",
        ),
        (
            "[settings.colors]\nmuted = 256\n",
            "line 2, column 9",
            "256 is not a colour index (expected 0 to 255)",
        ),
        (
            "[settings]\ncolors = \"dark\"\n",
            "line 2, column 10",
            "expected a table of role = colour",
        ),
        (
            "[settings]\ncache_ttl = { ip-alerts = \"1m\" }\n",
            "line 2",
            "unknown endpoint 'ip-alerts' in cache_ttl (expected ip_stats, ip_alerts, alert_ips",
        ),
        (
            "[settings]\ncache_ttl = { stats = \"1h\", ip_stats = \"2h\" }\n",
            "line 2",
            "sets ip_stats a second time (an old key and a new one name the same endpoint)",
        ),
    ];
    for (text, at, what) in cases {
        let err = FileConfig::parse(Path::new("/etc/mde.toml"), text).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with("/etc/mde.toml: "), "{message}");
        assert!(message.contains(at), "{text:?}: {message}");
        assert!(message.contains(what), "{text:?}: {message}");
        assert!(!message.contains('\n'), "one line: {message:?}");
    }
}

#[test]
fn a_broken_or_missing_file_stops_with_exit_11_before_any_call() {
    let home = scratch();
    let path = write(&home, "[settings]\nrate_limit = \"fast\"\n");
    let out = plan(&home, &[], &["--config", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(11));
    let err = stderr(&out);
    assert!(
        err.contains("config.toml: line 2, column 14: bad rate limit 'fast'"),
        "{err}"
    );
    let out = plan(&home, &[], &["--config", "/nonexistent/mde.toml"]);
    assert_eq!(out.status.code(), Some(11));
    assert!(
        stderr(&out).contains("/nonexistent/mde.toml: cannot read it"),
        "{}",
        stderr(&out)
    );
    let out = plan(&home, &[], &["--profile", "prod"]);
    assert_eq!(out.status.code(), Some(11));
    assert!(
        stderr(&out).contains("--profile prod needs a configuration file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_team_redis_password_on_the_command_line_is_refused_with_exit_2_and_never_echoed() {
    let home = scratch();
    let out = plan(&home, &[], &["--team-redis", "redis://:hunter2@redis.soc"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("MDE_TEAM_REDIS_PASSWORD"), "{err}");
    assert!(err.contains("team_redis_password_file"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    // Without a password the flag is fine; in the environment a password is too.
    let out = plan(&home, &[], &["--team-redis", "redis://triage@redis.soc"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = plan(&home, &[("MDE_TEAM_REDIS", "redis://:pw@redis.soc")], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_broken_team_redis_names_the_key_and_the_forms() {
    let home = scratch();
    let path = write(&home, "[settings]\nteam_redis = \"http://redis.soc\"\n");
    let out = plan(&home, &[], &["--config", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(11));
    let err = stderr(&out);
    assert!(
        err.contains(
            "line 2, column 14: team_redis: 'http' is not a Redis scheme (expected redis://"
        ),
        "{err}"
    );
    assert!(err.contains("unix:///PATH"), "{err}");
    let out = plan(&home, &[("MDE_TEAM_REDIS", "redis.soc:6379")], &[]);
    assert_eq!(out.status.code(), Some(11));
    assert!(
        stderr(&out).contains("environment: MDE_TEAM_REDIS: 'redis.soc' is not a Redis scheme"),
        "{}",
        stderr(&out)
    );
    let out = plan(
        &home,
        &[("MDE_TEAM_REDIS", "redis://redis.soc")],
        &["--team-redis", "ftp://x"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--team-redis: 'ftp' is not a Redis scheme"),
        "{}",
        stderr(&out)
    );
}
