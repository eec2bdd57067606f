//! Defanging, the way SOC tickets write indicators (`hxxp://evil[.]example`), so that no
//! renderer, ticket system or mail client turns server text into a link someone could click.
//!
//! The convention is CyberChef's "Defang URL" in its "Valid domains and full URLs" mode
//! (gchq/CyberChef, `src/core/operations/DefangURL.mjs`, after SANS ISC's "Defang all the
//! things" diary): every dot of anything shaped like a host name becomes `[.]`. Schemes take
//! the words that ioc-fanger and most refangers read back: `http` → `hxxp`, `https` → `hxxps`,
//! `ftp` → `fxp`; any other scheme keeps its name and its `://` becomes `[://]` (CyberChef's
//! "Escape ://"). What counts as host-shaped is at least what GitHub's autolinker takes:
//! `www.` names, the host after `://`, the domain after `@` (mail addresses), and otherwise,
//! as CyberChef's domain pattern, dotted labels with an alphabetic label of two or more letters
//! after a dot. File names such as `cmd.exe` match that too (`.zip` and `.mov` are real
//! top-level domains): the cost of a rule that needs no list of domains. A path's dots are
//! left alone (`hxxp://evil[.]example/a.ps1`) unless they look like a host themselves.
//!
//! IP addresses are left readable: they are what the analyst pivots on, and no renderer links
//! a bare address. In a URL the whole host is defanged, an address or not.

/// Text with every URL and host name in it defanged; everything else as it was.
pub fn defang(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    // Set just after `://`: the run that follows is a host, whatever it looks like.
    let mut after_scheme = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == ':' && chars.get(i + 1) == Some(&'/') && chars.get(i + 2) == Some(&'/') {
            scheme(&mut out);
            after_scheme = true;
            i += 3;
            continue;
        }
        if in_run(&chars, i) {
            let start = i;
            while i < chars.len() && in_run(&chars, i) {
                i += 1;
            }
            let run = &chars[start..i];
            // (A backslash may stand between: Markdown escapes a `_` that starts a label.)
            let forced = after_scheme || out.ends_with('@') || out.ends_with("@\\");
            push_run(&mut out, run, host_shaped(run), forced);
            after_scheme = false;
            continue;
        }
        out.push(c);
        after_scheme &= c == '\\';
        i += 1;
    }
    out
}

/// Rewrites the scheme word at the end of `out` and writes the `://` that follows it.
fn scheme(out: &mut String) {
    let len = out
        .chars()
        .rev()
        .take_while(char::is_ascii_alphabetic)
        .count();
    // ASCII letters: one byte each.
    let word = out[out.len() - len..].to_ascii_lowercase();
    match word.as_str() {
        // http, https and ftp all lose their `t`s: hxxp, hxxps, fxp (case kept).
        "http" | "https" | "ftp" => {
            let fixed: String = out[out.len() - len..]
                .chars()
                .map(|c| match c {
                    't' => 'x',
                    'T' => 'X',
                    c => c,
                })
                .collect();
            out.truncate(out.len() - len);
            out.push_str(&fixed);
            out.push_str("://");
        }
        // Already defanged, or no scheme at all: nothing a renderer would link.
        "hxxp" | "hxxps" | "fxp" | "" => out.push_str("://"),
        _ => out.push_str("[://]"),
    }
}

/// What a run of host-shaped text is made of: labels, dots, and a `|` or an escaped `\|`,
/// which count as nothing (a Markdown table cell drops its escaped `\|`, gluing
/// `evil\|.http` into `evil.http`).
fn in_run(chars: &[char], i: usize) -> bool {
    let c = chars[i];
    is_label(c) || c == '.' || c == '|' || (c == '\\' && chars.get(i + 1) == Some(&'|'))
}

/// A character a renderer may drop from between two labels.
fn dropped(c: char) -> bool {
    c == '|' || c == '\\'
}

/// A character of a host name label (IDNs included).
fn is_label(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || c == '_'
}

/// A `www` label, or dotted labels one of which, after the first, is alphabetic and two
/// letters or more (`xn--` punycode counts): a name a linkifier could take for a domain.
fn host_shaped(run: &[char]) -> bool {
    let s: String = run.iter().filter(|&&c| !dropped(c)).collect();
    let s = s.trim_matches('.');
    // GitHub links `www.` names whatever their last label; a `www` label anywhere is enough.
    if s.contains('.') && s.split('.').any(|l| l.eq_ignore_ascii_case("www")) {
        return true;
    }
    // Any label after a dot will do, not only the last: `evil.example.x1` holds `evil.example`.
    s.split('.').skip(1).any(|l| {
        let alphabetic = l.chars().count() >= 2 && l.chars().all(char::is_alphabetic);
        let punycode = l.len() > 4 && l.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--"));
        alphabetic || punycode
    })
}

/// Writes a run, with `[.]` for each dot between two label characters when it is host-shaped,
/// for every dot when it follows `@` or `://` (mail autolinkers take a domain that starts with
/// one), and for the dot after `www` when no letter or digit comes before it (GitHub links
/// `www.` and almost anything after it, even after a `_`).
fn push_run(out: &mut String, run: &[char], shaped: bool, forced: bool) {
    for (j, &c) in run.iter().enumerate() {
        // Neighbours as a renderer may see them: with any `|` between gone.
        let before = run[..j].iter().rev().find(|&&p| !dropped(p));
        let after = run[j + 1..].iter().find(|&&n| !dropped(n));
        let inner = before.is_some_and(|&p| is_label(p)) && after.is_some_and(|&n| is_label(n));
        let www = j >= 3
            && run[j - 3..j]
                .iter()
                .collect::<String>()
                .eq_ignore_ascii_case("www")
            && (j == 3 || !run[j - 4].is_alphanumeric());
        if c == '.' && (shaped && inner || forced || www) {
            out.push_str("[.]");
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::defang;

    /// (server text, what a ticket gets). Not exhaustive: the property tests in
    /// `tests/api/report_hostile.rs` hold the whole export to it.
    const CASES: &[(&str, &str)] = &[
        ("http://evil.example/x", "hxxp://evil[.]example/x"),
        ("HTTPS://Evil.Example", "HXXPS://Evil[.]Example"),
        ("ftp://files.evil.example", "fxp://files[.]evil[.]example"),
        ("see https://a.b.c/p?q=1.", "see hxxps://a[.]b[.]c/p?q=1."),
        ("http://185.220.101.4/a", "hxxp://185[.]220[.]101[.]4/a"),
        ("http://localhost:8080/", "hxxp://localhost:8080/"),
        ("file://share.corp/x", "file[://]share[.]corp/x"),
        ("xhttp://a.b", "xhttp[://]a[.]b"),
        ("hxxp://evil[.]example", "hxxp://evil[.]example"),
        ("hxxp://evil.example", "hxxp://evil[.]example"),
        ("www.x", "www[.]x"),
        ("a.www.x", "a[.]www[.]x"),
        ("awww.x", "awww.x"),
        ("_www.", "_www[.]"),
        ("www.", "www[.]"),
        ("WWW.\\x", "WWW[.]\\x"),
        ("(www.evil.example)", "(www[.]evil[.]example)"),
        ("mail admin@evil.co", "mail admin@evil[.]co"),
        ("a@b.c", "a@b[.]c"),
        ("+@.http", "+@[.]http"),
        ("|@evil|.http", "|@evil|[.]http"),
        ("evil|.example", "evil|[.]example"),
        ("a | b.co", "a | b[.]co"),
        ("\\|@evil\\|.http", "\\|@evil\\|[.]http"),
        ("a@\\_b.c", "a@\\_b[.]c"),
        ("evil.example.x1", "evil[.]example[.]x1"),
        ("tier1@contoso.com", "tier1@contoso[.]com"),
        ("evil.example.", "evil[.]example."),
        ("ws-fin-07.contoso.local", "ws-fin-07[.]contoso[.]local"),
        ("пример.рф", "пример[.]рф"),
        ("xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd[.]xn--p1ai"),
        ("payload.exe", "payload[.]exe"),
        ("invoke.ps1", "invoke.ps1"),
        ("10.209.67.177", "10.209.67.177"),
        ("2001:db8::7", "2001:db8::7"),
        ("::ffff:10.0.0.1", "::ffff:10.0.0.1"),
        ("T1059.001", "T1059.001"),
        ("e.g. this", "e.g. this"),
        (
            "Beacons every 60 s. Same host",
            "Beacons every 60 s. Same host",
        ),
        ("wait...what", "wait...what"),
        (
            "636688558380765161_2136280442",
            "636688558380765161_2136280442",
        ),
        ("C:\\Windows\\System32\\v1.0", "C:\\Windows\\System32\\v1.0"),
        ("", ""),
    ];

    #[test]
    fn urls_and_hosts_are_defanged_as_soc_tickets_write_them() {
        for (input, want) in CASES {
            assert_eq!(defang(input), *want, "defang({input:?})");
        }
    }

    #[test]
    fn defanging_is_idempotent() {
        for (input, _) in CASES {
            let once = defang(input);
            assert_eq!(defang(&once), once, "{input:?}");
        }
    }
}
