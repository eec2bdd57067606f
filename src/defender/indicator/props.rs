//! Property tests of the reader: it never returns an address the text does not hold, and what
//! it returns reads the same refanged or defanged again.

use std::net::IpAddr;

use proptest::prelude::*;

use super::read;

/// An independent, plain refanging of one written address: the table of tokens, then the
/// decorations an address may carry. What the reader returns must come out of its own span
/// this way: an address the text does not hold can never be returned.
fn oracle(written: &str) -> Option<IpAddr> {
    let mut s: String = written
        .chars()
        // The list of invisible characters is data, shared; the refanging below is not.
        .filter(|&c| !super::refang::invisible(c))
        .collect();
    for (from, to) in [
        ("\\.", "."),
        ("[://]", "://"),
        ("-dot-", "."),
        (" DOT ", "."),
        ("DOT", "."),
        ("[dot]", "."),
        ("(dot)", "."),
        ("{dot}", "."),
        ("[DOT]", "."),
        ("(DOT)", "."),
        ("{DOT}", "."),
    ] {
        s = s.replace(from, to);
    }
    let t = oracle_brackets(&s);
    let t = t.trim();
    let t = t.rsplit_once("://").map_or(t, |(_, h)| h);
    let t = t.split('/').next().unwrap_or(t);
    let t = t.split('%').next().unwrap_or(t);
    let host = if let Some(rest) = t.strip_prefix('[') {
        rest.split(']').next()?
    } else if t.matches(':').count() == 1 {
        t.split(':').next()?
    } else {
        t
    };
    let ip: IpAddr = host.parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => super::embedded::host(v6).map_or(ip, |(v4, _)| IpAddr::V4(v4)),
        v4 => v4,
    })
}

/// A `.`, `,` or `:` with brackets or spaces around it, as the token table allows: a colon
/// takes one bracket on each side, a dot any brackets on either side.
fn oracle_brackets(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let bracket = |c: char| "[](){}".contains(c);
    let mut t = String::new();
    let mut i = 0;
    while i < chars.len() {
        let mut j = i;
        while j < chars.len() && (bracket(chars[j]) || chars[j] == ' ') {
            j += 1;
        }
        let core = chars.get(j).copied();
        let before = &chars[i..j];
        let brackets_before = before.iter().filter(|&&c| bracket(c)).count();
        let taken = match core {
            Some(':') if brackets_before == 1 => {
                let mut k = j + 1;
                while chars.get(k) == Some(&' ') {
                    k += 1;
                }
                chars.get(k).filter(|&&c| bracket(c)).map(|_| {
                    let mut k = k + 1;
                    while chars.get(k) == Some(&' ') {
                        k += 1;
                    }
                    (':', k)
                })
            }
            Some('.' | ',') => {
                let mut k = j + 1;
                while k < chars.len() && (bracket(chars[k]) || chars[k] == ' ') {
                    k += 1;
                }
                (j > i || k > j + 1).then_some(('.', k))
            }
            _ => None,
        };
        match taken {
            Some((c, k)) if j > i || core == Some('.') || core == Some(',') => {
                // Trailing spaces written before the token belong to it.
                while t.ends_with(' ') {
                    t.pop();
                }
                t.push(c);
                i = k;
            }
            _ => {
                t.push(chars[i]);
                i += 1;
            }
        }
    }
    t
}

fn defanged(ip: IpAddr, style: usize) -> String {
    let plain = ip.to_string();
    match (ip, style % 6) {
        (_, 0) => plain,
        (IpAddr::V4(_), 1) => plain.replace('.', "[.]"),
        (IpAddr::V4(_), 2) => plain.replace('.', "(dot)"),
        (IpAddr::V4(_), 3) => plain.replace('.', "\\."),
        (IpAddr::V4(_), 4) => format!("{plain}:8443"),
        (IpAddr::V4(_), _) => plain.replace('.', " [.] "),
        (IpAddr::V6(_), 1 | 2) => plain.replace(':', "[:]"),
        (IpAddr::V6(_), 3) => format!("[{plain}]:443"),
        (IpAddr::V6(_), _) => format!("[{plain}]"),
    }
}

/// Addresses the reader returns as themselves: no IPv4 inside an IPv6, no port-like tail.
fn plain_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        any::<[u16; 8]>()
            .prop_map(IpAddr::from)
            .prop_filter("stays IPv6", |ip| match ip {
                IpAddr::V6(v6) => {
                    super::embedded::host(*v6).is_none()
                        && !v6.is_unspecified()
                        && super::scan::port_reading(&v6.to_string()).is_none()
                }
                IpAddr::V4(_) => false,
            }),
    ]
}

/// Words and punctuation that can stand between addresses without making one.
fn filler() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[g-zG-Z]{1,8}".prop_map(String::from),
            Just(" ".to_owned()),
            Just(", ".to_owned()),
            Just("; ".to_owned()),
            Just(" (".to_owned()),
            Just(") ".to_owned()),
            Just(" \"".to_owned()),
            Just("\r\n".to_owned()),
            Just(" \u{200b}".to_owned()),
            Just("\t".to_owned()),
        ],
        1..5,
    )
    .prop_map(|parts| format!(" {} ", parts.concat()))
}

/// Text dense in near-addresses: addresses in every convention glued to digits, dots, colons,
/// brackets, slashes and letters, and arbitrary characters.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        (any::<IpAddr>(), 0usize..6).prop_map(|(ip, style)| defanged(ip, style)),
        "[0-9a-fA-F.:\\[\\](){}/%, \\\\dotDOT-]{1,12}",
        "\\PC{1,8}",
        Just("::ffff:".to_owned()),
        Just("/32".to_owned()),
        Just("\r\n".to_owned()),
        Just("\u{200b}".to_owned()),
    ];
    prop::collection::vec(piece, 0..8).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever the text, the reader does not panic, and every address it returns comes out of
    /// its own span under the plain refanging above.
    #[test]
    fn nothing_returned_that_the_text_does_not_hold(text in hostile_text()) {
        let r = read(&text);
        for f in &r.found {
            prop_assert_eq!(&text[f.at.clone()], f.written.as_str());
            prop_assert_eq!(oracle(&f.written), Some(f.ip), "{:?} in {:?}", f.written, text);
        }
    }

    /// Addresses written in any convention among words and punctuation come back, in order,
    /// each once; and reading the refanged output, or the output defanged again, gives the
    /// same addresses.
    #[test]
    fn every_address_comes_back_and_reads_the_same_refanged(
        parts in prop::collection::vec((plain_ip(), 0usize..6, filler()), 1..6),
        lead in filler(),
    ) {
        let mut text = lead;
        let mut want: Vec<IpAddr> = Vec::new();
        for (ip, style, gap) in &parts {
            text.push_str(&defanged(*ip, *style));
            text.push_str(gap);
            if !want.contains(ip) {
                want.push(*ip);
            }
        }
        let got = read(&text);
        prop_assert_eq!(got.ips(), want.clone(), "{:?}", text);
        prop_assert!(got.skipped.is_empty(), "{:?} -> {:?}", text, got.skipped);
        for f in &got.found {
            prop_assert_eq!(oracle(&f.written), Some(f.ip));
        }
        let refanged: Vec<String> = want.iter().map(IpAddr::to_string).collect();
        prop_assert_eq!(read(&refanged.join("\n")).ips(), want.clone());
        let again: Vec<String> = want.iter().enumerate().map(|(k, ip)| defanged(*ip, k + 1)).collect();
        prop_assert_eq!(read(&again.join(", ")).ips(), want);
    }
}
