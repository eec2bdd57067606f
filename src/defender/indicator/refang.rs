//! Undoes defanging and paste debris, keeping where each character came from.
//!
//! The conventions (each with its source in `tests.rs`): a dot or colon in brackets,
//! parentheses or braces (`[.] (.) {.} [:]`), spaced or not; a dot with a bracket on one side
//! only (`1[.2`, `1].[2`); `dot`/`DOT` in brackets, parentheses, braces or hyphens; a bare
//! upper-case ` DOT ` between digits; a backslash-escaped dot (`10\.10`); and `[://]`.
//! Zero-width and other invisible characters go (they hide inside pasted addresses), control
//! characters and odd spaces become plain spaces (a pasted line ends with CR or CRLF).

use crate::defender::sanitize::SUBSTITUTE;

/// One character of the cleaned text and the bytes of the original it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ch {
    pub c: char,
    pub from: usize,
    pub to: usize,
}

/// The text with defanging undone, character by character.
pub(super) fn refang(text: &str) -> Vec<Ch> {
    let plain = plain(text);
    let mut out: Vec<Ch> = Vec::with_capacity(plain.len());
    let mut i = 0;
    while i < plain.len() {
        if let Some((c, len)) = token(&plain[i..], out.last().map(|ch| ch.c)) {
            // `1 [.] 1`: the spaces around a dot token belong to it (never a line break: two
            // lines are two indicators).
            let mut end = i + len;
            if c == '.' {
                while out.last().is_some_and(|ch| ch.c == ' ') {
                    out.pop();
                }
                while plain.get(end).is_some_and(|ch| ch.c == ' ') {
                    end += 1;
                }
            }
            // Each emitted character spans the whole token, so spans stay in the text.
            for c in expand(c).chars() {
                out.push(Ch {
                    c,
                    from: plain[i].from,
                    to: plain[end - 1].to,
                });
            }
            i = end;
        } else {
            out.push(plain[i]);
            i += 1;
        }
    }
    out
}

/// `'/'` stands for the `://` of a defanged scheme.
fn expand(c: char) -> &'static str {
    match c {
        '.' => ".",
        ':' => ":",
        _ => "://",
    }
}

/// Drops invisible characters and turns controls and odd spaces into spaces.
fn plain(text: &str) -> Vec<Ch> {
    let mut out = Vec::with_capacity(text.len());
    for (from, c) in text.char_indices() {
        let to = from + c.len_utf8();
        if invisible(c) {
            continue;
        }
        let c = match c {
            '\n' | '\r' | '\u{2028}' | '\u{2029}' | '\u{85}' | '\u{b}' | '\u{c}' => '\n',
            c if c.is_control() || c.is_whitespace() || c == SUBSTITUTE => ' ',
            c => c,
        };
        out.push(Ch { c, from, to });
    }
    out
}

/// Zero-width and formatting characters: copied from chat and web pages inside addresses.
pub(super) fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

const OPEN: &[char] = &['[', '(', '{'];
const CLOSE: &[char] = &[']', ')', '}'];
/// Brackets that may stand on one side of a dot alone (`1[.2`, `1].[2`); parentheses may not,
/// or `(see 10.1.1.1).` would swallow the sentence's full stop.
const SQUARE_CURLY: &[char] = &['[', ']', '{', '}'];

/// A defang token at the start of `s`: what it stands for and how many characters it takes.
fn token(s: &[Ch], prev: Option<char>) -> Option<(char, usize)> {
    let at = |k: usize| s.get(k).map(|ch| ch.c);
    // 10\.10\.10\.10
    if at(0) == Some('\\') && at(1) == Some('.') {
        return Some(('.', 2));
    }
    if let Some(t) = bracketed(s) {
        return Some(t);
    }
    if let Some(t) = one_sided_dot(s) {
        return Some(t);
    }
    // 1-dot-2, 1 DOT 2, 1DOT2: only between alphanumerics, so prose keeps its words.
    let word_dot = |k: usize, case_sensitive: bool| {
        let w: String = (k..k + 3).filter_map(at).collect();
        if case_sensitive {
            w == "DOT"
        } else {
            w.eq_ignore_ascii_case("dot")
        }
    };
    let alnum_before = prev.is_some_and(|c| c.is_ascii_alphanumeric());
    if alnum_before && at(0) == Some('-') && word_dot(1, false) && at(4) == Some('-') {
        return Some(('.', 5));
    }
    if prev.is_some_and(|c| c.is_ascii_digit()) {
        let mut k = 0;
        while at(k) == Some(' ') {
            k += 1;
        }
        if word_dot(k, true) {
            let mut e = k + 3;
            while at(e) == Some(' ') {
                e += 1;
            }
            if at(e).is_some_and(|c| c.is_ascii_digit()) {
                return Some(('.', e));
            }
        }
    }
    None
}

/// `[.]`, `( . )`, `{dot}`, `[:]`, `[,]`, `[://]`: an opener, the core, a closer.
fn bracketed(s: &[Ch]) -> Option<(char, usize)> {
    let at = |k: usize| s.get(k).map(|ch| ch.c);
    if !at(0).is_some_and(|c| OPEN.contains(&c)) {
        return None;
    }
    let mut k = 1;
    while at(k) == Some(' ') {
        k += 1;
    }
    let spaced_before = k > 1;
    let comma = at(k) == Some(',');
    let (core, len) = core(&s[k.min(s.len())..])?;
    k += len;
    let inner_end = k;
    while at(k) == Some(' ') {
        k += 1;
    }
    // `[,]` only as written: `1.2.3.4 (, ) 5.6.7.8` must not join two addresses into one.
    if comma && (spaced_before || k > inner_end) {
        return None;
    }
    at(k).filter(|c| CLOSE.contains(c))?;
    Some((core, k + 1))
}

/// The inside of a bracketed token.
fn core(s: &[Ch]) -> Option<(char, usize)> {
    let word: String = s
        .iter()
        .take(5)
        .map(|ch| ch.c.to_ascii_lowercase())
        .collect();
    match s.first()?.c {
        '.' | ',' => Some(('.', 1)),
        ':' if word.starts_with("://") => Some(('/', 3)),
        ':' => Some((':', 1)),
        _ if word.starts_with("dot") => Some(('.', 3)),
        _ if word.starts_with("colon") => Some((':', 5)),
        _ => None,
    }
}

/// `1[.2`, `1.]2`, `1].[2`, `1{.2`: a dot with square brackets or braces on one side or both.
fn one_sided_dot(s: &[Ch]) -> Option<(char, usize)> {
    let at = |k: usize| s.get(k).map(|ch| ch.c);
    let mut k = 0;
    while at(k).is_some_and(|c| SQUARE_CURLY.contains(&c)) && k < 2 {
        k += 1;
    }
    if at(k) != Some('.') {
        return None;
    }
    let mut e = k + 1;
    while at(e).is_some_and(|c| SQUARE_CURLY.contains(&c)) && e < k + 3 {
        e += 1;
    }
    // Both sides must touch something that can be part of an address, or `[1.2.3.4].` and
    // `a.]` in prose would read as tokens.
    let next = at(e);
    if (k > 0 || e > k + 1) && next.is_some_and(|c| c.is_ascii_hexdigit()) {
        Some(('.', e))
    } else {
        None
    }
}
