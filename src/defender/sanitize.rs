//! Server text is untrusted: this turns it into text that is safe to draw, print, copy and log.
//!
//! ratatui drops C0 controls when drawing but not bidi overrides or zero-width characters, and
//! nothing protects stdout, the clipboard or log files. Nor does anything keep the terminal and
//! ratatui agreeing on how wide a character is: where they differ, text spills into the next
//! cell or over a pane's border (`sanitize/classify.rs` says what is replaced by what, and why).
//! So every string decoded from the API passes through [`clean`] once, at decode time.

mod classify;

pub use classify::MAX_MARKS;
use classify::{Class, class, is_modifier_base, is_pictograph, is_plain, joins};

/// Shown in place of a character that could hide or reorder text, or that terminals draw at
/// widths of their own.
pub const SUBSTITUTE: char = '\u{FFFD}';

/// The base given to a combining mark that has none, as Unicode shows a mark alone.
pub const DOTTED_CIRCLE: char = '\u{25CC}';

/// Removes terminal escape sequences whole and makes the rest unambiguous: control, bidi,
/// invisible and width-disputed characters become [`SUBSTITUTE`], a combining mark with no base
/// gets [`DOTTED_CIRCLE`], U+2028 and U+2029 become newlines, presentation-only characters go
/// (the table in `sanitize/classify.rs`). Newlines and tabs survive (descriptions are multi-line); CR does not.
pub fn clean(input: &str) -> String {
    if input.chars().all(|c| c == '\n' || c == '\t' || is_plain(c)) {
        return input.to_owned();
    }
    let mut out = Out::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // C1 control sequence introducer and friends: 8-bit forms of ESC [ / ESC ] etc.
            '\u{9b}' => skip_csi_body(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{9e}' | '\u{9f}' => skip_string_body(&mut chars),
            c => match class(c) {
                Class::Base(b) => out.base(b),
                Class::Mark(m) => out.mark(m),
                Class::Jamo(j) if joins(out.prev, j) => out.mark(j),
                Class::Substitute => out.base(SUBSTITUTE),
                Class::Presentation => {}
                Class::Modifier if out.last.is_some_and(is_modifier_base) => {}
                Class::Joiner
                    if out.last.is_some_and(is_pictograph)
                        && chars.peek().is_some_and(|&n| is_pictograph(n)) => {}
                Class::Modifier | Class::Joiner | Class::Jamo(_) => out.base(SUBSTITUTE),
                Class::Break => out.line('\n'),
                Class::Tab => out.line('\t'),
            },
        }
    }
    out.text
}

/// Like [`clean`], and also flattens line breaks and tabs, for one-line cells.
pub fn one_line(input: &str) -> String {
    clean(input)
        .chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .collect()
}

/// The text so far, and what a mark coming next would sit on.
struct Out {
    text: String,
    /// The last base on this line; `None` at its start.
    last: Option<char>,
    /// Marks since that base, counted past [`MAX_MARKS`].
    marks: usize,
    /// The last character written, base or mark.
    prev: Option<char>,
}

impl Out {
    fn with_capacity(n: usize) -> Self {
        Self {
            text: String::with_capacity(n),
            last: None,
            marks: 0,
            prev: None,
        }
    }

    fn push(&mut self, c: char) {
        self.text.push(c);
        self.prev = Some(c);
    }

    fn base(&mut self, c: char) {
        self.push(c);
        self.last = Some(c);
        self.marks = 0;
    }

    fn mark(&mut self, c: char) {
        if self.last.is_none() {
            self.base(DOTTED_CIRCLE);
        }
        self.marks += 1;
        if self.marks <= MAX_MARKS {
            self.push(c);
        } else if self.marks == MAX_MARKS + 1 {
            // Says that marks were cut; the ones after it in the run go without a word more.
            self.push(SUBSTITUTE);
        }
    }

    /// A tab is no base: a mark after it would land on the cell before.
    fn line(&mut self, c: char) {
        self.push(c);
        self.last = None;
        self.marks = 0;
    }
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
mod tests;
