//! Text for Markdown that shows as written: no link, image, autolink, HTML, entity, emphasis,
//! heading, list or table cell can start from it, in CommonMark and GitHub's, GitLab's or
//! Jira's flavours. Server and analyst text is flattened to one line, escaped, then defanged.

use super::defang::defang;
use super::one_line;

/// Server or analyst text in running Markdown or a table cell: one line, trimmed (leading
/// blanks could make an indented code block where the text starts a list item), escaped, then
/// defanged.
///
/// Defanging comes last so that its brackets stay as SOC tickets write them, `evil[.]example`
/// and not `evil\[.\]example`. They can do nothing: `(` is always escaped, so no `[.](`
/// link can follow, and a `[.]` is never where a line or block starts, so no `[.]: url`
/// definition can exist for it to refer to. Escaping first cannot hide a host from the
/// defanger: the only label characters it escapes are a leading `-` and a `_` outside a word,
/// and the defanger reads past that backslash where it matters (`a@\_b.c`, `\_www.x`).
pub(super) fn text(s: &str) -> String {
    defang(&escape(one_line(s).trim()))
}

/// Backslash-escapes what Markdown would read as markup. Every ASCII punctuation mark that can
/// open a construct is escaped wherever it stands (CommonMark lets any of them be escaped);
/// list markers only where they could start a line. An underscore inside a word
/// (`636688558380765161_2136280442`) emphasises nothing, so it stays as it is, for reading.
fn escape(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let word = |j: Option<usize>| {
        j.and_then(|j| chars.get(j))
            .is_some_and(|c| c.is_alphanumeric())
    };
    // `1. ` or `1)` at the start would make an ordered list; `10.0.0.1` would not.
    let digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for (i, &c) in chars.iter().enumerate() {
        if c == '\n' || c == '\r' {
            out.push(' ');
            continue;
        }
        let escaped = match c {
            // A backslash only escapes punctuation (or, last on a line, breaks it).
            '\\' => chars.get(i + 1).is_none_or(|n| n.is_ascii_punctuation()),
            '_' => !(word(i.checked_sub(1)) && word(Some(i + 1))),
            '`' | '*' | '[' | ']' | '<' | '>' | '&' | '(' | ')' | '!' | '|' | '~' | '#' | '$' => {
                true
            }
            '-' | '+' => i == 0,
            // (`)` is escaped wherever it stands.)
            '.' => digits > 0 && i == digits && chars.get(i + 1).is_none_or(|n| n.is_whitespace()),
            _ => false,
        };
        if escaped {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Text inside a code span, where no escape works: cleaned and defanged like any text, and a
/// backtick cannot close the span early.
pub(super) fn code(s: &str) -> String {
    defang(&one_line(s)).replace('`', "'")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (hostile text, what the report writes). Links, images, autolinks, HTML, entities,
    /// emphasis, code, headings, lists, quotes and table breaks.
    const CASES: &[(&str, &str)] = &[
        (
            "[click](javascript:alert(1))",
            "\\[click\\]\\(javascript:alert\\(1\\)\\)",
        ),
        (
            "![x](https://evil.example/t.png)",
            "\\!\\[x\\]\\(hxxps://evil[.]example/t[.]png\\)",
        ),
        ("<https://evil.example>", "\\<hxxps://evil[.]example\\>"),
        (
            "<img src=x onerror=alert(1)>",
            "\\<img src=x onerror=alert\\(1\\)\\>",
        ),
        (
            "<script>alert(1)</script>",
            "\\<script\\>alert\\(1\\)\\</script\\>",
        ),
        ("&lt;b&gt; &#60;", "\\&lt;b\\&gt; \\&\\#60;"),
        (
            "[x]: https://evil.example",
            "\\[x\\]: hxxps://evil[.]example",
        ),
        ("[^1] [[wiki]]", "\\[^1\\] \\[\\[wiki\\]\\]"),
        (
            "*bold* **b** ~~s~~",
            "\\*bold\\* \\*\\*b\\*\\* \\~\\~s\\~\\~",
        ),
        ("_x_ a_b", "\\_x\\_ a_b"),
        ("`code` ``x``", "\\`code\\` \\`\\`x\\`\\`"),
        ("# heading #", "\\# heading \\#"),
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("1. item", "1\\. item"),
        ("12) item", "12\\) item"),
        ("> quote", "\\> quote"),
        ("a | b || c", "a \\| b \\|\\| c"),
        ("line\nbreak\r\nthere", "line break  there"),
        ("\t\u{2028}    code?", "code?"),
        ("$x^2$", "\\$x^2\\$"),
        ("C:\\Users\\jdoe", "C:\\Users\\jdoe"),
        ("trailing\\", "trailing\\\\"),
        ("\\[not a link\\]", "\\\\\\[not a link\\\\\\]"),
        ("a\u{1b}[31mred", "ared"),
        ("ws-fin-07 INC-1042 -1", "ws-fin-07 INC-1042 -1"),
        ("-1", "\\-1"),
        ("10.0.0.1", "10.0.0.1"),
    ];

    #[test]
    fn hostile_text_is_shown_as_written() {
        for (input, want) in CASES {
            assert_eq!(text(input), *want, "text({input:?})");
        }
    }

    #[test]
    fn code_spans_cannot_be_closed_early() {
        assert_eq!(code("a`b\nc"), "a'b c");
    }
}
