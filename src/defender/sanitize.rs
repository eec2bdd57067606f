//! Server text is untrusted: this turns it into text that is safe to draw, print, copy and log.
//!
//! ratatui drops C0 controls when drawing but not bidi overrides or zero-width characters, and
//! nothing protects stdout, the clipboard or log files. So every string decoded from the API
//! passes through [`clean`] once, at decode time.

/// Shown in place of a character that could hide or reorder text.
pub const SUBSTITUTE: char = '\u{FFFD}';

/// Removes terminal escape sequences whole and replaces control, bidi and invisible characters
/// with [`SUBSTITUTE`]. Newlines and tabs survive (descriptions are multi-line); CR does not.
pub fn clean(input: &str) -> String {
    if !input.chars().any(needs_care) {
        return input.to_owned();
    }
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // C1 control sequence introducer and friends: 8-bit forms of ESC [ / ESC ] etc.
            '\u{9b}' => skip_csi_body(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{9e}' | '\u{9f}' => skip_string_body(&mut chars),
            '\n' | '\t' => out.push(c),
            c if is_unsafe(c) => out.push(SUBSTITUTE),
            c => out.push(c),
        }
    }
    out
}

/// Like [`clean`], and also flattens line breaks and tabs, for one-line cells.
pub fn one_line(input: &str) -> String {
    clean(input)
        .chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .collect()
}

fn needs_care(c: char) -> bool {
    c == '\u{1b}' || is_unsafe(c)
}

fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}'   // zero-width space/joiners, LRM, RLM
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{061C}'              // Arabic letter mark
            | '\u{FEFF}'              // zero-width no-break space / BOM
            | '\u{00AD}'              // soft hyphen
            | '\u{180E}'              // Mongolian vowel separator
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation controls
            | '\u{E0000}'..='\u{E007F}' // tag characters
        )
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// After ESC: CSI (`[`), OSC/DCS/APC/PM/SOS (`]`, `P`, `_`, `^`, `X`) or a two-byte sequence.
fn skip_escape(chars: &mut Chars<'_>) {
    match chars.next() {
        Some('[') => skip_csi_body(chars),
        Some(']' | 'P' | '_' | '^' | 'X') => skip_string_body(chars),
        // nF sequences: intermediates then one final byte.
        Some(' '..='/') => {
            while let Some(&c) = chars.peek() {
                chars.next();
                if !(' '..='/').contains(&c) {
                    break;
                }
            }
        }
        _ => {}
    }
}

/// Parameters and intermediates, then one final byte in `@`..=`~`.
fn skip_csi_body(chars: &mut Chars<'_>) {
    for c in chars.by_ref() {
        if ('@'..='~').contains(&c) || c.is_control() {
            break;
        }
    }
}

/// Up to BEL or ST (`ESC \` or U+009C).
fn skip_string_body(chars: &mut Chars<'_>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                break;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_untouched() {
        assert_eq!(
            clean("Mimikatz on host-7 — ünïcode"),
            "Mimikatz on host-7 — ünïcode"
        );
    }

    #[test]
    fn escape_sequences_are_removed_whole() {
        assert_eq!(clean("a\u{1b}[31mred\u{1b}[0m b"), "ared b");
        assert_eq!(clean("x\u{1b}]0;owned title\u{7}y"), "xy");
        assert_eq!(clean("x\u{1b}]52;c;ZXZpbA==\u{1b}\\y"), "xy");
        assert_eq!(clean("x\u{9b}2Jy"), "xy");
        assert_eq!(clean("x\u{1b}(By"), "xy");
    }

    #[test]
    fn controls_bidi_and_invisibles_become_visible() {
        assert_eq!(clean("evil\u{202E}fdp.exe"), "evil\u{FFFD}fdp.exe");
        assert_eq!(clean("a\u{200B}b\rc\u{7}d"), "a\u{FFFD}b\u{FFFD}c\u{FFFD}d");
        assert_eq!(clean("line1\nline2\tend"), "line1\nline2\tend");
        assert_eq!(one_line("line1\nline2"), "line1 line2");
    }
}
