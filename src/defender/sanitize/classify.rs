//! What each character of server text becomes, so that the terminal and ratatui agree on every
//! cell. ratatui lays text out by grapheme cluster, measured with `unicode-width`; the terminal
//! (tmux, through the C library's `wcwidth`) advances per character by its own tables. Wherever
//! the two can differ, the character is replaced, given a base, or dropped here:
//!
//! | what | becomes | why |
//! |---|---|---|
//! | controls (Cc), format characters (Cf: bidi, zero-width, soft hyphen, U+0600.., U+2061.., tags) | U+FFFD | invisible: they hide or reorder text, and terminals give them 0 or 1 column |
//! | private use (Co), unassigned and non-characters (Cn) | U+FFFD | fonts draw private-use glyphs at any width; terminals drop what their tables do not know |
//! | U+2028, U+2029 | a line break | they are line breaks; terminals draw nothing for them |
//! | VS15, VS16 (U+FE0E, U+FE0F) | dropped | they only choose text or emoji look; unicode-width widens on VS16, terminals do not |
//! | other variation selectors, CGJ, Hangul fillers, Khmer inherent vowels | U+FFFD | invisible; a run of them is the known way to smuggle data in plain text |
//! | emoji modifier (U+1F3FB..1F3FF) after an emoji that takes one | dropped | it only tints the emoji; terminals draw it as a second wide cell |
//! | emoji modifier anywhere else | U+FFFD | it would cluster with the letter before it |
//! | ZWJ between two emoji | dropped | the sequence falls apart into its emoji, each drawn where ratatui put it |
//! | ZWJ anywhere else | U+FFFD | (format character) |
//! | regional indicator | its letter (🇫🇷 → FR) | a flag is one cluster of two wide-or-narrow halves, by terminal |
//! | halfwidth katakana sound marks (U+FF9E, U+FF9F) | combining U+3099, U+309A | ratatui adds a column for them that terminals do not |
//! | zero-width marks (Mn, Me) | kept, on U+25CC ◌ when they have no base | a mark with no base lands on whatever the terminal drew last, a border included |
//! | conjoining Hangul vowels and finals | kept where they build a syllable, U+FFFD elsewhere | elsewhere they are a cluster of no width, which ratatui draws nowhere or on the cell before |
//! | more than [`MAX_MARKS`] marks on one base | the rest as one U+FFFD | stacked marks paint over the rows above and below |
//! | zero-width spacing marks (Bengali ◌া, Tamil ◌ா, ...), zero-width letters (prepended marks, Malayalam dot reph) | U+FFFD | unicode-width gives 0 columns, terminals 1 |
//! | [`is_disputed`] characters | U+FFFD | widths that changed between Unicode versions or differ from the C library's |
//!
//! Kept as they are: letters, digits, punctuation and symbols of one or two columns, East Asian
//! ambiguous ones included (the frame itself draws with box-drawing, "…" and "·", which are
//! ambiguous too, so a terminal set to draw them double is broken already), emoji of default
//! text presentation (one column, as `wcwidth` says). Arabic lam-alef and Lisu tone letters
//! are kept: unicode-width counts such a pair one column narrower as a string, but ratatui draws
//! them as separate clusters, at the terminal's widths.
//!
//! Not covered: a character newer than the terminal's own tables (an emoji of Unicode 15 on a
//! C library of Unicode 14) is drawn by the terminal at a width ratatui cannot know.

use unicode_properties::{EmojiStatus, GeneralCategory, UnicodeEmoji, UnicodeGeneralCategory};
use unicode_width::UnicodeWidthChar;

/// Combining marks kept on one base: enough for Vietnamese, Thai, pointed Hebrew and Tibetan
/// stacks; beyond that it is "Zalgo" text, which paints over the neighbouring rows.
pub const MAX_MARKS: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Drawn in its own cell(s), and a base for the marks after it.
    Base(char),
    /// Zero columns, drawn on the base before it.
    Mark(char),
    /// A Hangul medial vowel or final consonant: zero columns, part of the syllable before it.
    Jamo(char),
    /// Shown as the substitute.
    Substitute,
    /// Dropped: it only chooses how the character before it looks.
    Presentation,
    /// An emoji modifier: dropped after an emoji that takes one, substituted elsewhere.
    Modifier,
    /// U+200D: dropped between two emoji, substituted elsewhere.
    Joiner,
    /// `\n`, U+2028, U+2029.
    Break,
    Tab,
}

pub fn class(c: char) -> Class {
    if c.is_ascii() {
        return match c {
            '\n' => Class::Break,
            '\t' => Class::Tab,
            ' '..='~' => Class::Base(c),
            _ => Class::Substitute,
        };
    }
    match c {
        '\u{2028}' | '\u{2029}' => return Class::Break,
        '\u{FE0E}' | '\u{FE0F}' => return Class::Presentation,
        '\u{200D}' => return Class::Joiner,
        '\u{1F3FB}'..='\u{1F3FF}' => return Class::Modifier,
        '\u{1F1E6}'..='\u{1F1FF}' => {
            let letter = b'A' + (c as u32 - 0x1F1E6) as u8;
            return Class::Base(char::from(letter));
        }
        '\u{FF9E}' => return Class::Mark('\u{3099}'),
        '\u{FF9F}' => return Class::Mark('\u{309A}'),
        _ => {}
    }
    if is_invisible(c) || is_disputed(c) {
        return Class::Substitute;
    }
    let width = c.width().unwrap_or(0);
    use GeneralCategory as G;
    match c.general_category() {
        G::Control
        | G::Format
        | G::PrivateUse
        | G::Unassigned
        | G::Surrogate
        | G::LineSeparator
        | G::ParagraphSeparator => Class::Substitute,
        G::NonspacingMark | G::EnclosingMark if width == 0 => Class::Mark(c),
        _ if width == 0 && (is_vowel_jamo(c) || is_final_jamo(c)) => Class::Jamo(c),
        // Marks that unicode-width gives a column (Tifinagh joiner) and anything else of zero
        // columns that is no mark: the terminal's count differs.
        G::NonspacingMark | G::EnclosingMark => Class::Substitute,
        _ if width == 0 => Class::Substitute,
        _ => Class::Base(c),
    }
}

/// A character kept unchanged (no line break, no context needed).
pub fn is_plain(c: char) -> bool {
    class(c) == Class::Base(c)
}

/// Takes an emoji modifier (👍 in 👍🏽).
pub fn is_modifier_base(c: char) -> bool {
    matches!(
        c.emoji_status(),
        EmojiStatus::EmojiModifierBase | EmojiStatus::EmojiPresentationAndModifierBase
    )
}

/// An emoji a ZWJ sequence joins; ASCII digits and `#` are emoji too, but a ZWJ between them is
/// a hidden character in plain text.
pub fn is_pictograph(c: char) -> bool {
    !c.is_ascii() && c.is_emoji_char()
}

/// Whether Hangul `jamo` builds one syllable with `prev` (decomposed Korean, as macOS file
/// names carry it): a vowel after an initial or a vowel, a final after a vowel or a final, or
/// either after a precomposed syllable that has room for it.
pub fn joins(prev: Option<char>, jamo: char) -> bool {
    let Some(prev) = prev else { return false };
    let syllable = ('\u{AC00}'..='\u{D7A3}').contains(&prev);
    let open_syllable = syllable && (prev as u32 - 0xAC00).is_multiple_of(28);
    if is_vowel_jamo(jamo) {
        is_initial_jamo(prev) || is_vowel_jamo(prev) || open_syllable
    } else {
        is_vowel_jamo(prev) || is_final_jamo(prev) || syllable
    }
}

fn is_initial_jamo(c: char) -> bool {
    matches!(c, '\u{1100}'..='\u{115E}' | '\u{A960}'..='\u{A97C}')
}

fn is_vowel_jamo(c: char) -> bool {
    matches!(c, '\u{1161}'..='\u{11A7}' | '\u{D7B0}'..='\u{D7C6}')
}

fn is_final_jamo(c: char) -> bool {
    matches!(c, '\u{11A8}'..='\u{11FF}' | '\u{D7CB}'..='\u{D7FB}')
}

/// Default-ignorable characters that are not format characters: drawn as nothing, or as blank
/// as a space (the Hangul fillers), so they can make two names look alike.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{034F}'                    // combining grapheme joiner
        | '\u{115F}' | '\u{1160}'     // Hangul choseong and jungseong fillers
        | '\u{17B4}' | '\u{17B5}'     // Khmer inherent vowels
        | '\u{180B}'..='\u{180D}' | '\u{180F}' // Mongolian variation selectors
        | '\u{3164}' | '\u{FFA0}'     // Hangul fillers
        | '\u{FE00}'..='\u{FE0D}'     // variation selectors 1-14
        | '\u{E0100}'..='\u{E01EF}'   // variation selectors 17-256
    )
}

/// Characters whose width unicode-width and the C library's `wcwidth` disagree on, found by
/// comparing the two over every assigned character (unicode-width 0.2.3, glibc 2.36), beyond
/// what the categories above already catch.
pub fn is_disputed(c: char) -> bool {
    matches!(c,
        '\u{17A4}'                    // Khmer QAA: 2 columns here, 1 there
        | '\u{17D2}'                  // Khmer coeng: unicode-width takes the consonant after it as 0 columns
        | '\u{17D8}'                  // Khmer BEYYAL: 3 columns here
        | '\u{2630}'..='\u{2637}'     // trigrams: wide since Unicode 16, narrow before
        | '\u{268A}'..='\u{268F}'     // monograms and digrams: likewise
        | '\u{3248}'..='\u{324F}'     // circled numbers on squares: 1 here, 2 there
        | '\u{1171E}'                 // Ahom medial ra: 1 here, 0 there
        | '\u{1D300}'..='\u{1D356}'   // Tai Xuan Jing symbols: wide since Unicode 16
        | '\u{1D360}'..='\u{1D376}'   // counting rods: likewise
    )
}
