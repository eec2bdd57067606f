//! Exports of hostile server text: a corpus of formula and Markdown payloads, and any string
//! (proptest), put in every text field of a case at once. The Markdown is read back by comrak
//! (a port of GitHub's cmark-gfm, with GitHub's extensions on) and must hold only our own
//! links and no image, HTML, emphasis or quote, with its tables and headings intact; the CSV
//! must have every cell quoted and no field that starts with a formula trigger, whichever of
//! `,` `;` tab `|` a spreadsheet splits on; the JSON must parse and give every string back.

mod hostile;

use comrak::nodes::{AstNode, NodeValue};
use comrak::{Arena, Options, parse_document};
use hostile::{FORMULAS, MARKDOWN, PORTAL, hostile_case, t};
use mde_triage::defender::Alert;
use mde_triage::report::{CaseReport, Dated, Format, PlaceEntry, PlaceFacts, render};
use proptest::prelude::*;

fn gfm() -> Options<'static> {
    let mut o = Options::default();
    let e = &mut o.extension;
    (e.strikethrough, e.table, e.autolink, e.tasklist) = (true, true, true, true);
    (
        e.footnotes,
        e.math_dollars,
        e.alerts,
        e.wikilinks_title_after_pipe,
    ) = (true, true, true, true);
    (e.subscript, e.underline, e.spoiler) = (true, true, true);
    o
}

/// The text of a node and its descendants, as a reader sees it.
fn plain<'a>(node: &'a AstNode<'a>) -> String {
    node.descendants()
        .filter_map(|n| match &n.data().value {
            NodeValue::Text(t) => Some(t.to_string()),
            NodeValue::EscapedTag(t) => Some(t.to_string()),
            NodeValue::Code(c) => Some(c.literal.clone()),
            _ => None,
        })
        .collect()
}

/// What a linkifier would take for a link in text: a scheme URL, `www.` starting a word, a
/// mail address, or a dotted name ending in a word of two letters or more (CyberChef's domain
/// pattern, which linkifiers with a list of top-level domains come close to).
fn linkable(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    for pat in ["http://", "https://", "ftp://"] {
        if lower.contains(pat) {
            return Some(pat.into());
        }
    }
    let label = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    let chars: Vec<char> = text.chars().collect();
    let around = |i: usize| -> String {
        chars[i.saturating_sub(20)..chars.len().min(i + 20)]
            .iter()
            .collect()
    };
    for i in 0..chars.len() {
        let www: String = chars[i..chars.len().min(i + 4)].iter().collect();
        if www.eq_ignore_ascii_case("www.")
            && (i == 0 || !chars[i - 1].is_alphanumeric())
            && chars.get(i + 4).is_some_and(|&c| !c.is_whitespace())
        {
            return Some(around(i));
        }
        // A label before the dot, with a letter or digit in it (comrak drops an escaped `|`
        // in some table cells, which can glue a lone `-` to a dot).
        let before = chars[..i].iter().rev().take_while(|&&c| label(c));
        if chars[i] != '.' || !before.clone().any(|c| c.is_alphanumeric()) {
            continue;
        }
        let tld: String = chars[i + 1..].iter().take_while(|&&c| label(c)).collect();
        let word = tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic);
        let start = chars[..i]
            .iter()
            .rposition(|&c| !(label(c) || c == '.'))
            .map_or(0, |j| j + 1);
        let mail = start > 0 && chars[start - 1] == '@' && !tld.is_empty();
        if word || mail {
            return Some(around(i));
        }
    }
    None
}

/// The text of a node's Text descendants (code spans left out: no renderer links those; an
/// escaped `|` in a table cell is an EscapedTag).
fn text_only<'a>(node: &'a AstNode<'a>) -> String {
    node.descendants()
        .filter_map(|n| match &n.data().value {
            NodeValue::Text(t) => Some(t.to_string()),
            NodeValue::EscapedTag(t) => Some(t.to_string()),
            _ => None,
        })
        .collect()
}

/// An IP's alert list, its table in the Markdown; a device's section has no table.
fn alerts_of(e: &PlaceEntry) -> Option<&Dated<Vec<Alert>>> {
    match &e.facts {
        PlaceFacts::Ip { alerts, .. } => alerts.as_ref(),
        PlaceFacts::Device { .. } => None,
    }
}

/// Reads the Markdown back as GitHub would and checks it holds only what the report wrote.
fn check_markdown(r: &CaseReport, md: &str) -> Result<(), String> {
    let arena = Arena::new();
    let root = parse_document(&arena, md, &gfm());
    let mut links = Vec::new();
    let (mut headings, mut tables) = (0, Vec::new());
    for node in root.descendants() {
        let value = node.data().value.clone();
        match value {
            NodeValue::Link(l) => links.push(l.url.clone()),
            NodeValue::Table(_) => tables.push(node),
            NodeValue::Paragraph | NodeValue::TableCell | NodeValue::Heading(_) => {
                if matches!(value, NodeValue::Heading(_)) {
                    headings += 1;
                }
                let t = text_only(node);
                if let Some(hit) = linkable(&t) {
                    return Err(format!("linkable text {hit:?} in {t:?}"));
                }
            }
            NodeValue::Image(_)
            | NodeValue::HtmlInline(_)
            | NodeValue::HtmlBlock(_)
            | NodeValue::FootnoteReference(_)
            | NodeValue::FootnoteDefinition(_)
            | NodeValue::WikiLink(_)
            | NodeValue::Math(_)
            | NodeValue::Emph
            | NodeValue::Strong
            | NodeValue::Strikethrough
            | NodeValue::Subscript
            | NodeValue::Underline
            | NodeValue::SpoileredText
            | NodeValue::BlockQuote
            | NodeValue::Alert(_)
            | NodeValue::CodeBlock(_)
            | NodeValue::ThematicBreak
            | NodeValue::TaskItem(_)
            | NodeValue::LineBreak => return Err(format!("markup from text: {value:?}")),
            _ => {}
        }
    }
    // Ours: each step's IP and alert, each IP's portal link and its table's alerts, each
    // alert's own link and its related IPs. Nothing more, nothing less, all to the portal.
    let steps: usize = r
        .path
        .iter()
        .map(|s| s.place.iter().count() + s.alert.iter().count())
        .sum();
    let rows: usize = r
        .places
        .iter()
        .map(|e| 1 + alerts_of(e).map_or(0, |d| d.value.len()))
        .sum();
    let alerts: usize = r
        .alerts
        .iter()
        .map(|e| 1 + e.ips.as_ref().map_or(0, |d| d.value.len()))
        .sum();
    if links.len() != steps + rows + alerts {
        return Err(format!(
            "{} links, not {}: {links:?}",
            links.len(),
            steps + rows + alerts
        ));
    }
    if let Some(l) = links.iter().find(|l| !l.starts_with(&format!("{PORTAL}/"))) {
        return Err(format!("a link not to the portal: {l}"));
    }
    let want = 4 + r.places.len() + r.alerts.len();
    if headings != want {
        return Err(format!("{headings} headings, not {want}"));
    }
    // Each table: a header and one row per alert, six cells each, the last holding the
    // alert's own link (a cell split by injected text would push it out: GFM drops extras).
    let listed: Vec<&Vec<Alert>> = r
        .places
        .iter()
        .filter_map(alerts_of)
        .map(|d| &d.value)
        .collect();
    let listed: Vec<&Vec<Alert>> = listed.into_iter().filter(|v| !v.is_empty()).collect();
    if tables.len() != listed.len() {
        return Err(format!("{} tables, not {}", tables.len(), listed.len()));
    }
    for (table, alerts) in tables.iter().zip(listed) {
        let rows: Vec<_> = table.children().collect();
        if rows.len() != alerts.len() + 1 {
            return Err(format!(
                "{} table rows for {} alerts",
                rows.len(),
                alerts.len()
            ));
        }
        for (row, a) in rows[1..].iter().zip(alerts) {
            let cells: Vec<_> = row.children().collect();
            let last_link = cells[5].descendants().find_map(|n| match &n.data().value {
                NodeValue::Link(l) => Some(l.url.clone()),
                _ => None,
            });
            if last_link.as_deref() != Some(r.alert_link(&a.id).as_str()) {
                return Err(format!("the alert cell lost its link: {}", plain(row)));
            }
        }
    }
    Ok(())
}

/// Triggers a spreadsheet evaluates at the start of a field (OWASP's, and the full-width
/// forms), written here independently of the code under test.
const TRIGGERS: &[char] = &[
    '=', '+', '-', '@', '\t', '\r', '\n', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
];

/// Splits the CSV as a spreadsheet that picked another separator would, ignoring quotes, and
/// checks no field starts with a trigger once leading blanks and quotes are skipped; and that
/// every cell is quoted and the file parses back with the same number of fields on each row.
fn check_csv(csv_text: &str, rows: usize) -> Result<(), String> {
    if csv_text.contains(['\t', '\r']) {
        return Err("a tab or CR in the file".into());
    }
    for sep in [',', ';', '\t', '|'] {
        for line in csv_text.split('\n') {
            for field in line.split(sep) {
                let rest = field.trim_start_matches(|c: char| {
                    c == '"' || c.is_whitespace() && !TRIGGERS.contains(&c)
                });
                if rest.starts_with(TRIGGERS) {
                    return Err(format!("split on {sep:?}: field {field:?} in {line:?}"));
                }
            }
        }
    }
    let lines: Vec<&str> = csv_text.lines().collect();
    if lines.len() != rows + 1 {
        return Err(format!("{} lines for {rows} rows", lines.len()));
    }
    for line in &lines {
        quoted_cells(line).map_err(|e| format!("{e}: {line}"))?;
    }
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let width = reader.headers().map_err(|e| e.to_string())?.len();
    for rec in reader.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        if rec.len() != width {
            return Err(format!("{} fields, not {width}", rec.len()));
        }
    }
    Ok(())
}

/// Every cell of a line is `"..."`, with inner quotes doubled.
fn quoted_cells(line: &str) -> Result<usize, String> {
    let mut chars = line.chars().peekable();
    let mut cells = 0;
    loop {
        if chars.next() != Some('"') {
            return Err(format!("cell {cells} is not quoted"));
        }
        loop {
            match chars.next() {
                Some('"') if chars.peek() == Some(&'"') => {
                    chars.next();
                }
                Some('"') => break,
                Some(_) => {}
                None => return Err("unterminated quote".into()),
            }
        }
        cells += 1;
        match chars.next() {
            Some(',') => continue,
            None => return Ok(cells),
            Some(c) => return Err(format!("{c:?} after a closing quote")),
        }
    }
}

/// The JSON parses and gives back every string exactly as it was.
fn check_json(s: &str, json: &str) -> Result<(), String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let details = &v["alerts"][0]["details"];
    let exact = [
        (&v["case"], s.to_owned()),
        (&v["tenant_id"], s.to_owned()),
        (&v["ips"][1]["ip"], s.to_owned()),
        (&v["ips"][1]["notes"][0]["text"], s.to_owned()),
        (&v["ips"][0]["tags"][0], s.to_owned()),
        (&details["title"], s.to_owned()),
        (&details["device"], s.to_owned()),
        (&details["description"], format!("{s}\n{s}")),
        (&details["comments"][0]["text"], s.to_owned()),
        (&details["evidence"][0]["url"], s.to_owned()),
        (&details["evidence"][0]["command_line"], s.to_owned()),
        (&v["alerts"][0]["ips"]["items"][0], s.to_owned()),
    ];
    for (got, want) in exact {
        if got.as_str() != Some(want.as_str()) {
            return Err(format!("{got} is not {want:?}"));
        }
    }
    Ok(())
}

fn check_all(s: &str) -> Result<(), String> {
    let r = hostile_case(s);
    let now = t(16);
    let md = render(&r, Format::Markdown, now);
    check_markdown(&r, &md).map_err(|e| format!("markdown: {e}\n{md}"))?;
    let csv_text = render(&r, Format::Csv, now);
    check_csv(&csv_text, r.places.len() + r.alerts.len())
        .map_err(|e| format!("csv: {e}\n{csv_text}"))?;
    check_json(s, &render(&r, Format::Json, now)).map_err(|e| format!("json: {e}"))
}

#[test]
fn every_hostile_string_in_every_field_is_harmless_in_every_format() {
    for s in FORMULAS.iter().chain(MARKDOWN) {
        if let Err(e) = check_all(s) {
            panic!("{s:?}: {e}");
        }
    }
}

/// The checks can fail: the same checks catch each kind of attack in unprotected output.
#[test]
fn the_checks_catch_what_they_are_for() {
    let r = hostile_case("x");
    let md = render(&r, Format::Markdown, t(16));
    assert!(check_markdown(&r, &md).is_ok());
    for injected in [
        "[x](https://evil.example)",
        "![x](https://evil.example/p.png)",
        "<img src=x>",
        "https://evil.example",
        "www.evil.example",
        "evil.example",
        "a@evil.example",
        "*em*",
        "x | y",
    ] {
        let bad = md.replacen("| x |", &format!("| {injected} |"), 1);
        assert_ne!(bad, md);
        assert!(check_markdown(&r, &bad).is_err(), "{injected}");
    }
    let csv_text = render(&r, Format::Csv, t(16));
    assert!(check_csv(&csv_text, 3).is_ok());
    for injected in [
        "=1+1",
        "x;=1",
        "x|@A1",
        "x; -1",
        "\t",
        "\"\"=1",
        "\u{FF1D}1",
    ] {
        let bad = csv_text.replacen("\"x\"", &format!("\"{injected}\""), 1);
        assert!(check_csv(&bad, 3).is_err(), "{injected:?}");
    }
    assert!(
        check_csv(&csv_text.replacen("\"x\"", "x", 1), 3).is_err(),
        "unquoted"
    );
}

/// What an analyst reads in a ticket: defanged indicators, shown as written, not links.
#[test]
fn markdown_shows_defanged_indicators_as_written() {
    for (input, shown) in [
        ("http://evil.example/x", "hxxp://evil[.]example/x"),
        ("HTTPS://Evil.Example", "HXXPS://Evil[.]Example"),
        ("ftp://evil.example", "fxp://evil[.]example"),
        ("file://evil.example/s", "file[://]evil[.]example/s"),
        ("www.evil.example", "www[.]evil[.]example"),
        ("admin@evil.example", "admin@evil[.]example"),
        ("[x](https://evil.example)", "[x](hxxps://evil[.]example)"),
        (
            "<img src=x onerror=alert(1)>",
            "<img src=x onerror=alert(1)>",
        ),
        ("*not bold* | _x_ `y`", "*not bold* | _x_ `y`"),
        ("=cmd|' /C calc'!A0", "=cmd|' /C calc'!A0"),
        ("line one\nline two", "line one line two"),
        ("10.0.0.1 and 2001:db8::7", "10.0.0.1 and 2001:db8::7"),
    ] {
        let r = hostile_case(input);
        let md = render(&r, Format::Markdown, t(16));
        let arena = Arena::new();
        let root = parse_document(&arena, &md, &gfm());
        let table = root
            .descendants()
            .find(|n| matches!(n.data().value, NodeValue::Table(_)))
            .unwrap();
        let row = table.children().nth(1).unwrap();
        let title = row.children().nth(4).unwrap();
        assert_eq!(plain(title), shown, "{input:?}\n{md}");
    }
}

/// A legitimate leading `-` stays readable, behind the `'` that makes it text.
#[test]
fn csv_keeps_values_readable_behind_the_quote_mark() {
    let r = hostile_case("-enc SQBFAFgA; =1 | @x");
    let text = render(&r, Format::Csv, t(16));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let title = header.iter().position(|h| h == "title").unwrap();
    let alert = reader.records().map(Result::unwrap).nth(2).unwrap();
    assert_eq!(&alert[0], "alert");
    assert_eq!(&alert[title], "'-enc SQBFAFgA;' =1 |' @x");
    let device = header.iter().position(|h| h == "device").unwrap();
    let r = hostile_case("ws-fin-07.contoso.local");
    let text = render(&r, Format::Csv, t(16));
    let row = csv::Reader::from_reader(text.as_bytes())
        .records()
        .nth(2)
        .unwrap()
        .unwrap();
    assert_eq!(
        &row[device], "ws-fin-07.contoso.local",
        "CSV is not defanged"
    );
}

/// Hostile characters, densely: separators, quotes, triggers, markup and URL pieces.
fn dense() -> impl Strategy<Value = String> {
    let pieces = proptest::sample::select(vec![
        "=", "+", "-", "@", "\t", "\r", "\n", ",", ";", "|", "\"", "'", " ", "\u{3000}",
        "\u{FF1D}", "\u{FF0D}", "<", ">", "&", "[", "]", "(", ")", "!", "`", "*", "_", "~", "#",
        "$", "\\", ".", ":", "/", "http", "https://", "ftp://", "www.", "@evil", "evil", "example",
        "com", "1", "a", "é", "рф", "\u{1b}[", "\u{202E}", "\u{FEFF}", "\u{2028}",
    ]);
    proptest::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any string at all, in every field: every format holds.
    #[test]
    fn any_string_is_harmless_in_every_format(s in any::<String>()) {
        check_all(&s).map_err(TestCaseError::fail)?;
    }

    /// Strings made of the pieces attacks are made of.
    #[test]
    fn any_mix_of_hostile_pieces_is_harmless_in_every_format(s in dense()) {
        check_all(&s).map_err(TestCaseError::fail)?;
    }
}
