//! The team budget's Redis: `team_redis` in the file, `MDE_TEAM_REDIS`, `--team-redis`; its
//! password from the URL (file or environment only), `team_redis_password_file` or
//! `MDE_TEAM_REDIS_PASSWORD`. The password is split off the URL as soon as it is read, so the
//! URL can be shown and logged, and the password never is.

use std::path::Path;

use crate::defender::auth::Secret;

/// The forms accepted, said in every refusal.
pub const FORMS: &str = "redis://[USER@]HOST[:PORT][/DB], rediss://… (TLS), \
                         redis+unix:///PATH or unix:///PATH";

/// Where the team's shared budget lives.
#[derive(Debug, Clone)]
pub struct TeamSetting {
    /// The Redis URL with no password in it: safe to show, log and compare.
    pub url: String,
    pub password: Option<Secret>,
}

/// Reads `text` as a team Redis URL; the password it carries, if any, comes back apart.
/// `key` names the setting in the refusal (`team_redis`, `MDE_TEAM_REDIS`).
pub fn parse(key: &str, text: &str) -> Result<TeamSetting, String> {
    let text = text.trim();
    let refuse = |why: &str| format!("{key}: {why} (expected {FORMS})");
    // Never echo the value: it may carry the password.
    let mut url = reqwest::Url::parse(text).map_err(|_| refuse("not a URL"))?;
    let unix = match url.scheme() {
        "redis" | "rediss" => false,
        "redis+unix" | "unix" => true,
        _ => {
            let scheme = url.scheme().to_owned();
            return Err(refuse(&format!("'{scheme}' is not a Redis scheme")));
        }
    };
    if unix {
        if url.path().trim_matches('/').is_empty() {
            return Err(refuse("a unix socket URL needs the socket's path"));
        }
    } else if url.host_str().is_none_or(str::is_empty) {
        return Err(refuse("no host"));
    }
    let mut password = url.password().map(|p| {
        percent_encoding::percent_decode_str(p)
            .decode_utf8_lossy()
            .into_owned()
    });
    if password.is_some() {
        // Cannot fail: a URL with a password has a host.
        let _ = url.set_password(None);
    }
    // The Redis crate reads a unix socket's password from `?pass=`.
    if url.query_pairs().any(|(k, _)| k == "pass") {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter_map(|(k, v)| {
                if k == "pass" {
                    password.get_or_insert_with(|| v.clone().into_owned());
                    None
                } else {
                    Some((k.into_owned(), v.into_owned()))
                }
            })
            .collect();
        url.set_query(None);
        if !kept.is_empty() {
            url.query_pairs_mut().extend_pairs(kept);
        }
    }
    Ok(TeamSetting {
        url: url.to_string(),
        password: password.filter(|p| !p.is_empty()).map(Secret::new),
    })
}

/// `--team-redis URL`: a URL with a password is refused, with where the password goes. The
/// refusal never repeats the value.
pub fn parse_flag(text: &str) -> Result<TeamSetting, String> {
    let setting = parse("--team-redis", text)?;
    if setting.password.is_some() {
        return Err(
            "--team-redis: the URL carries a password, and a command line is seen by every \
             user of this machine (ps, shell history): put the password in \
             MDE_TEAM_REDIS_PASSWORD or in a file named by team_redis_password_file in the \
             configuration file, and pass the URL without it"
                .to_owned(),
        );
    }
    Ok(setting)
}

/// The inputs of the team setting, from every level.
#[derive(Debug, Default)]
pub struct Sources<'a> {
    /// `--team-redis`, already checked by [`parse_flag`].
    pub flag: Option<&'a TeamSetting>,
    /// `MDE_TEAM_REDIS`, already checked.
    pub env: Option<&'a TeamSetting>,
    /// `MDE_TEAM_REDIS_PASSWORD`.
    pub env_password: Option<&'a str>,
    /// The file's `team_redis` (profile over `[settings]`), already checked.
    pub file: Option<&'a TeamSetting>,
    /// The file's `team_redis_password_file`, relative to the file's directory.
    pub password_file: Option<&'a Path>,
    /// The configuration file's directory.
    pub base: Option<&'a Path>,
}

/// The URL from the highest level that names one (file < environment < flag); the password
/// from `MDE_TEAM_REDIS_PASSWORD`, else the password file, else the winning URL's own.
/// A password with no URL anywhere is not an error: nothing is shared, and nothing needs it.
pub fn resolve(s: &Sources<'_>) -> Result<Option<TeamSetting>, String> {
    let Some(mut setting) = s.flag.or(s.env).or(s.file).cloned() else {
        return Ok(None);
    };
    if let Some(pw) = s.env_password.filter(|p| !p.is_empty()) {
        setting.password = Some(Secret::new(pw));
    } else if let Some(path) = s.password_file {
        let path = match s.base {
            Some(base) if path.is_relative() => base.join(path),
            _ => path.to_owned(),
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "team_redis_password_file: cannot read {}: {e}",
                path.display()
            )
        })?;
        let pw = text.trim_end_matches(['\r', '\n']);
        if pw.is_empty() {
            return Err(format!(
                "team_redis_password_file: {} is empty",
                path.display()
            ));
        }
        setting.password = Some(Secret::new(pw));
    }
    Ok(Some(setting))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_parses_and_the_password_comes_apart() {
        let s = parse("k", "redis://:hunter2@redis.soc:6380/2").unwrap();
        assert_eq!(s.url, "redis://redis.soc:6380/2");
        assert_eq!(s.password.unwrap().expose(), "hunter2");
        let s = parse("k", "rediss://triage:p%40ss@redis.soc").unwrap();
        assert_eq!(s.url, "rediss://triage@redis.soc");
        assert_eq!(s.password.unwrap().expose(), "p@ss", "percent-decoded");
        let s = parse("k", "redis+unix:///run/r.sock?db=1&pass=s3cret").unwrap();
        assert_eq!(s.url, "redis+unix:///run/r.sock?db=1");
        assert_eq!(s.password.unwrap().expose(), "s3cret");
        let s = parse("k", " unix:///run/r.sock ").unwrap();
        assert_eq!(s.url, "unix:///run/r.sock");
        assert!(s.password.is_none());
    }

    #[test]
    fn broken_values_name_the_key_and_the_forms_and_never_the_value() {
        for (bad, why) in [
            ("http://:pw@redis.soc", "'http' is not a Redis scheme"),
            ("redis.soc:6379", "'redis.soc' is not a Redis scheme"),
            ("not a url", "not a URL"),
            ("unix://", "needs the socket's path"),
        ] {
            let e = parse("team_redis", bad).unwrap_err();
            assert!(e.starts_with("team_redis: "), "{e}");
            assert!(e.contains(why), "{bad}: {e}");
            assert!(e.contains("rediss://") && e.contains("unix:///PATH"), "{e}");
            assert!(!e.contains("pw@"), "{e}");
        }
    }

    #[test]
    fn a_flag_with_a_password_is_refused_without_repeating_it() {
        let e = parse_flag("redis://:hunter2@redis.soc").unwrap_err();
        assert!(e.contains("MDE_TEAM_REDIS_PASSWORD"), "{e}");
        assert!(e.contains("team_redis_password_file"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        assert!(parse_flag("redis+unix:///r.sock?pass=x").is_err());
        assert!(
            parse_flag("redis://triage@redis.soc").is_ok(),
            "a user alone"
        );
    }

    #[test]
    fn debug_never_shows_the_password() {
        let s = parse("k", "redis://:hunter2@redis.soc").unwrap();
        assert!(!format!("{s:?}").contains("hunter2"), "{s:?}");
    }

    #[test]
    fn levels_and_password_sources_take_their_turns() {
        let file = parse("team_redis", "redis://:from-url@file.soc").unwrap();
        let flag = parse_flag("redis://flag.soc").unwrap();
        let only_file = Sources {
            file: Some(&file),
            ..Sources::default()
        };
        let s = resolve(&only_file).unwrap().unwrap();
        assert_eq!(s.url, "redis://file.soc");
        assert_eq!(s.password.unwrap().expose(), "from-url");
        let from_env = parse("MDE_TEAM_REDIS", "redis://env.soc").unwrap();
        let env = Sources {
            env: Some(&from_env),
            ..only_file
        };
        let s = resolve(&env).unwrap().unwrap();
        assert_eq!(s.url, "redis://env.soc");
        assert!(
            s.password.is_none(),
            "the file's URL lost, and its password with it"
        );
        let all = Sources {
            flag: Some(&flag),
            env_password: Some("from-env"),
            ..env
        };
        let s = resolve(&all).unwrap().unwrap();
        assert_eq!(s.url, "redis://flag.soc");
        assert_eq!(s.password.unwrap().expose(), "from-env");
        assert!(resolve(&Sources::default()).unwrap().is_none());
    }

    #[test]
    fn a_password_file_is_read_relative_to_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("redis.pw"), "from-file\n").unwrap();
        let file = parse("team_redis", "redis://:from-url@file.soc").unwrap();
        let with_file = Sources {
            file: Some(&file),
            password_file: Some(Path::new("redis.pw")),
            base: Some(dir.path()),
            ..Sources::default()
        };
        let s = resolve(&with_file).unwrap().unwrap();
        assert_eq!(s.password.unwrap().expose(), "from-file");
        let missing = Sources {
            password_file: Some(Path::new("nope.pw")),
            ..with_file
        };
        let e = resolve(&missing).unwrap_err();
        assert!(
            e.starts_with("team_redis_password_file: cannot read"),
            "{e}"
        );
    }
}
