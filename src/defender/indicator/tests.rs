//! The forms the reader takes and refuses, each with where the convention comes from (the
//! property tests are in `props.rs`).

use std::net::IpAddr;

use super::{Embedding, Note, Refusal, read};

fn one(text: &str) -> String {
    let r = read(text);
    assert_eq!(r.found.len(), 1, "{text:?} -> {r:?}");
    assert!(r.skipped.is_empty(), "{text:?} -> {r:?}");
    r.found[0].ip.to_string()
}

/// (written, read as, source of the convention)
const TAKEN: &[(&str, &str, &str)] = &[
    // ioc-fanger fang.json and tests/test_dot_variants.py; iocextract test_data/valid.txt.
    (
        "10[.]209[.]67[.]177",
        "10.209.67.177",
        "ioc-fanger, iocextract",
    ),
    ("10(.)209(.)67(.)177", "10.209.67.177", "ioc-fanger"),
    (
        "10{.}209{.}67{.}177",
        "10.209.67.177",
        "ioc-fanger test_dot_variants",
    ),
    (
        "10].[209].[67].[177",
        "10.209.67.177",
        "ioc-fanger test_dot_variants",
    ),
    (
        "10[.209[.67[.177",
        "10.209.67.177",
        "ioc-fanger test_dot_variants",
    ),
    (
        "10.]209.]67.]177",
        "10.209.67.177",
        "ioc-fanger test_dot_variants",
    ),
    (
        "10[dot]209[dot]67[dot]177",
        "10.209.67.177",
        "ioc-fanger, iocextract valid.txt",
    ),
    (
        "10[DOT]209[DOT]67[DOT]177",
        "10.209.67.177",
        "ioc-fanger test_systematic_dot",
    ),
    (
        "10(dot)209(dot)67(dot)177",
        "10.209.67.177",
        "ioc-fanger test_systematic_dot",
    ),
    (
        "10{dot}209{dot}67{dot}177",
        "10.209.67.177",
        "ioc-fanger issue 30",
    ),
    (
        "10 DOT 209 DOT 67 DOT 177",
        "10.209.67.177",
        "ioc-fanger fang.json (bare DOT)",
    ),
    (
        "10-dot-209-dot-67-dot-177",
        "10.209.67.177",
        "ioc-fanger test_systematic_dot",
    ),
    (
        "10 [.] 209 [.] 67 [.] 177",
        "10.209.67.177",
        "the issue: spaced brackets",
    ),
    (
        "10[ . ]209[ . ]67[ . ]177",
        "10.209.67.177",
        "ioc-fanger fang.json (spaces inside)",
    ),
    (
        "192[.]168[dot]0[.]1",
        "192.168.0.1",
        "iocextract valid.txt (mixed)",
    ),
    (
        "10\\.10\\.10\\.10",
        "10.10.10.10",
        "ioc-fanger fang.json (backslash-escaped dot)",
    ),
    (
        "10[,]209[,]67[,]177",
        "10.209.67.177",
        "ioc-fanger fang.json (bracketed comma)",
    ),
    // CyberChef "Defang IP Addresses" writes IPv6 colons as [:].
    (
        "2001[:]db8[:][:]1",
        "2001:db8::1",
        "CyberChef Defang IP Addresses",
    ),
    (
        "2001(:)db8(:)(:)1",
        "2001:db8::1",
        "ioc-fanger fang.json (colon)",
    ),
    ("fe80[:][:]1", "fe80::1", "CyberChef"),
    // URLs, defanged or not, with ports: iocextract test_data/valid.txt.
    (
        "hxxp://192[.]168[.]0[.]1:80/path",
        "192.168.0.1",
        "iocextract valid.txt",
    ),
    (
        "tcp://192[.]168[.]0[.]1:80/path",
        "192.168.0.1",
        "iocextract valid.txt",
    ),
    (
        "http://123.123.123.123/test",
        "123.123.123.123",
        "iocextract valid.txt",
    ),
    (
        "hxxps[://]10.1.2.3/a",
        "10.1.2.3",
        "ioc-fanger fang.json ([://])",
    ),
    (
        "http://1.2.3.4/1/a.php",
        "1.2.3.4",
        "a URL path is not a prefix",
    ),
    (
        "http://[fdc4:2581:575b:5a72:0000:0000:0000:0001]:80/path",
        "fdc4:2581:575b:5a72::1",
        "iocextract valid.txt (RFC 3986 §3.2.2 brackets)",
    ),
    (
        "http://fdc4:2581:575b:5a72:0000:0000:0000:0001",
        "fdc4:2581:575b:5a72::1",
        "iocextract valid.txt",
    ),
    // host:port and [v6]:port: the port is dropped with a note.
    ("1.2.3.4:8080", "1.2.3.4", "the issue"),
    (
        "[2001:db8::1]:443",
        "2001:db8::1",
        "the issue; RFC 3986 §3.2.2",
    ),
    ("[2001:db8::1]", "2001:db8::1", "RFC 3986 §3.2.2"),
    // Surrounding punctuation: ioc-finder find_iocs_cases/ip_addr.py ("(1.2.3.54)").
    ("(1.2.3.54)", "1.2.3.54", "ioc-finder ip_addr.py"),
    ("1.2.3.4,", "1.2.3.4", "the issue"),
    ("\"1.2.3.4\"", "1.2.3.4", "quoted in CSV and JSON"),
    ("'1.2.3.4';", "1.2.3.4", "quoted in code"),
    ("<1.2.3.4>", "1.2.3.4", "angle brackets in mail"),
    ("see 1.2.3.4.", "1.2.3.4", "a sentence's full stop"),
    ("IP:1.2.3.4", "1.2.3.4", "a label's colon"),
    ("Source:1.2.3.4", "1.2.3.4", "a label glued to its colon"),
    ("src=1.2.3.4", "1.2.3.4", "key=value logs"),
    // Paste debris.
    ("10.209.67.177\n", "10.209.67.177", "a pasted line"),
    (
        "10.209.67.177\r\n",
        "10.209.67.177",
        "a pasted line from Windows",
    ),
    (
        "\u{200b}10.209\u{200b}.67.177\u{feff}",
        "10.209.67.177",
        "zero-width characters from chat",
    ),
    (
        "\u{a0}10.209.67.177\u{a0}",
        "10.209.67.177",
        "no-break spaces from web pages",
    ),
    // Prefixes: a /32 or /128 is a host (ioc-finder ip_addr.py lists 1.2.3.4/32).
    ("1.2.3.4/32", "1.2.3.4", "ioc-finder ip_addr.py"),
    ("2001:db8::1/128", "2001:db8::1", "RFC 4291 §2.3"),
    // IPv6 forms: ioc-finder ip_addr.py.
    (
        "2001:0db8:0000:0000:0000:ff00:0042:8329",
        "2001:db8::ff00:42:8329",
        "ioc-finder ip_addr.py",
    ),
    (
        "2001:db8:0:0:0:ff00:42:8329",
        "2001:db8::ff00:42:8329",
        "ioc-finder ip_addr.py",
    ),
    (
        "2001:db8::ff00:42:8329",
        "2001:db8::ff00:42:8329",
        "ioc-finder ip_addr.py",
    ),
    ("::1", "::1", "ioc-finder ip_addr.py"),
    ("2001:DB8::1", "2001:db8::1", "RFC 5952: upper case is read"),
    (
        "2001:4860:4860::8888",
        "2001:4860:4860::8888",
        "a decimal last group right after ::",
    ),
    ("fe80::1%eth0", "fe80::1", "RFC 4007 §11 zone"),
    // IPv4 inside IPv6: looked up as the IPv4.
    (
        "::ffff:10.209.67.177",
        "10.209.67.177",
        "RFC 4291 §2.5.5.2; Windows event logs",
    ),
    (
        "::FFFF:0ad1:43b1",
        "10.209.67.177",
        "the mapped form in hex",
    ),
    ("::ffff:0:10.209.67.177", "10.209.67.177", "RFC 2765 §2.1"),
    ("::10.209.67.177", "10.209.67.177", "RFC 4291 §2.5.5.1"),
    ("64:ff9b::10.209.67.177", "10.209.67.177", "RFC 6052 §2.1"),
    (
        "[::ffff:10.209.67.177]:443",
        "10.209.67.177",
        "bracketed mapped form",
    ),
];

#[test]
fn every_convention_reads_as_its_address() {
    for (written, want, source) in TAKEN {
        assert_eq!(one(written), *want, "{written:?} ({source})");
    }
}

/// (written, why it is refused)
#[test]
fn refusals_say_why() {
    type Is = fn(&Refusal) -> bool;
    let cases: &[(&str, Is)] = &[
        ("10.0.0.0/8", |r| {
            matches!(r, Refusal::Network { prefix: 8 })
        }),
        ("2001:db8::/32", |r| {
            matches!(r, Refusal::Network { prefix: 32 })
        }),
        ("1.2.3.4/33", |r| {
            matches!(r, Refusal::BadPrefix { prefix: 33 })
        }),
        // ioc-finder test_odd_ip_address_formats.py reads these as octal; others as decimal.
        ("0177.0.0.01", |r| matches!(r, Refusal::LeadingZeros)),
        ("010.209.67.177", |r| matches!(r, Refusal::LeadingZeros)),
        ("255.256.344.1", |r| matches!(r, Refusal::OctetOver255)),
        ("2001:db8::1:443", |r| {
            matches!(r, Refusal::AmbiguousPort { port: 443, .. })
        }),
        ("::1:631", |r| {
            matches!(r, Refusal::AmbiguousPort { port: 631, .. })
        }),
        ("2001:db8:0:0:0:0:0:1:443", |r| {
            matches!(r, Refusal::AmbiguousPort { port: 443, .. })
        }),
        ("2001:db8::1:65535", |r| {
            matches!(r, Refusal::AmbiguousPort { port: 65535, .. })
        }),
        ("1::2::3", |r| matches!(r, Refusal::NotAnAddress)),
    ];
    for (written, is) in cases {
        let r = read(written);
        assert!(r.found.is_empty(), "{written:?} -> {r:?}");
        assert_eq!(r.skipped.len(), 1, "{written:?} -> {r:?}");
        assert!(is(&r.skipped[0].why), "{written:?} -> {r:?}");
        assert_eq!(r.skipped[0].written, *written);
    }
    // A sentence's full stop after a prefix, and a URL path that is not a prefix.
    let r = read("the range 10.0.0.0/8.");
    assert!(r.found.is_empty(), "{r:?}");
    assert!(matches!(r.skipped[0].why, Refusal::Network { prefix: 8 }));
    assert_eq!(one("hxxp://10.1.1.1/2fa/login"), "10.1.1.1");
    let said = read("010.1.1.1").summary();
    assert!(said.contains("leading zeros"), "{said}");
    let said = read("2001:db8::1:443").summary();
    assert!(said.contains("[2001:db8::1]:443"), "{said}");
}

#[test]
fn not_addresses_are_passed_over_quietly() {
    for text in [
        "version 1.2.3",
        "1.2.3.4.5",
        "12:30:45",
        "00:1a:2b:3c:4d:5e",
        "std::vector",
        "ip1.2.3.4",
        "1.2.3.4th",
        "www.1.2.3.4",
        "1.2.3.4.in-addr.arpa",
        "1,2,3,4",
        "2026-11-20T09:14:00Z",
        "the DOT report",
    ] {
        assert_eq!(read(text), super::Reading::default(), "{text:?}");
    }
}

#[test]
fn notes_say_what_was_read_past() {
    let f = &read("1.2.3.4:8080").found[0];
    assert_eq!(f.notes, vec![Note::Port(8080)]);
    assert_eq!(f.said(), "1.2.3.4:8080: port 8080 dropped");
    let f = &read("::ffff:10.209.67.177").found[0];
    assert!(matches!(
        f.notes[..],
        [Note::Embedded {
            how: Embedding::Mapped,
            ..
        }]
    ));
    assert!(f.said().contains("IPv4-mapped"), "{}", f.said());
    let f = &read("1.2.3.4/32").found[0];
    assert_eq!(f.notes, vec![Note::HostPrefix(32)]);
    // 6to4 carries a relay's IPv4, another machine: it stays IPv6.
    assert_eq!(one("2002:c000:0204::1"), "2002:c000:204::1");
}

#[test]
fn ticket_text_gives_every_ip_in_order_once_with_what_was_skipped() {
    let ticket = "Hi team,\r\nUser reported beaconing to 185[.]220[.]101[.]4 (port 443) and \
                  hxxp://45.9.148.114:8080/gate.php.\r\nAlso seen: 185.220.101.4, the range \
                  10.0.0.0/8 and [2001:db8::7]:443.\r\n\u{200b}Thanks";
    let r = read(ticket);
    assert_eq!(
        r.ips().iter().map(IpAddr::to_string).collect::<Vec<_>>(),
        ["185.220.101.4", "45.9.148.114", "2001:db8::7"]
    );
    assert_eq!(
        r.summary(),
        "3 IPs found · 1 skipped: 10.0.0.0/8 is a network (/8), not one host"
    );
    assert_eq!(r.found[0].written, "185[.]220[.]101[.]4");
    assert_eq!(&ticket[r.found[1].at.clone()], "45.9.148.114:8080");
}

#[test]
fn the_text_shown_cannot_break_the_line() {
    let r = read("\u{1b}[2J010.1.1.1");
    let said = r.summary();
    assert!(!said.contains('\u{1b}'), "{said:?}");
}
