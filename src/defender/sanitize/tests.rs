//! The sanitiser's guarantees, example by example and for any input (proptest).

use proptest::prelude::*;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::classify::{Class, class, joins};
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

/// Text in the scripts and symbols analysts meet, as it should stay.
const KEPT: &[&str] = &[
    "Mimikatz — ünïcode · 10.1.2.3 … ±§×",
    "中文標題 日本語のテキスト ＦＵＬＬ　ｈａｌｆ ｶﾀｶﾅ",
    "한국어 \u{1112}\u{1161}\u{11AB}",
    "Привет Ελληνικά Việt Vie\u{0302}\u{0323}t e\u{301}",
    "لا إله العربية שָׁלוֹם हिन्दी क्षत्रिय ภาษาไทย",
    "🦀😀👍🔥 ☺ ✈ ⌚ ©",
    "1\u{20E3} ※ ①",
];

#[test]
fn text_of_every_day_is_kept() {
    for s in KEPT {
        assert_eq!(clean(s), *s);
    }
}

#[test]
fn a_mark_with_no_base_gets_one() {
    assert_eq!(clean("\u{301}x"), "\u{25CC}\u{301}x");
    assert_eq!(clean("a\n\u{301}\u{302}b"), "a\n\u{25CC}\u{301}\u{302}b");
    assert_eq!(clean("\t\u{20E3}"), "\t\u{25CC}\u{20E3}");
    assert_eq!(one_line("a\n\u{301}"), "a \u{25CC}\u{301}");
    // A character dropped is no base; one substituted is one.
    assert_eq!(clean("\u{FE0F}\u{301}"), "\u{25CC}\u{301}");
    assert_eq!(clean("\u{202E}\u{301}"), "\u{FFFD}\u{301}");
}

#[test]
fn hangul_vowels_and_finals_stay_only_inside_a_syllable() {
    assert_eq!(
        clean("\u{1100}\u{1161}\u{11A8}"),
        "\u{1100}\u{1161}\u{11A8}"
    );
    assert_eq!(clean("가\u{11A8} 각"), "가\u{11A8} 각");
    for lone in [
        "\u{1161}",
        "a\u{1161}",
        " \u{11A8}",
        "\u{1100}\u{11A8}",
        "각\u{1161}",
    ] {
        assert!(
            clean(lone).ends_with(SUBSTITUTE),
            "{lone:?}: {:?}",
            clean(lone)
        );
    }
}

#[test]
fn stacked_marks_stop_at_the_limit_and_say_so() {
    let zalgo: String = std::iter::once('x')
        .chain((0x300..0x308).map(|c| char::from_u32(c).unwrap()))
        .collect();
    assert_eq!(clean(&zalgo), "x\u{300}\u{301}\u{302}\u{303}\u{FFFD}");
    assert_eq!(
        clean("y\u{300}\u{301}\u{302}\u{303}"),
        "y\u{300}\u{301}\u{302}\u{303}"
    );
}

#[test]
fn emoji_sequences_fall_apart_into_what_each_terminal_draws_alike() {
    assert_eq!(clean("👨\u{200D}👩\u{200D}👧"), "👨👩👧");
    assert_eq!(clean("a\u{200D}b 👨\u{200D}"), "a\u{FFFD}b 👨\u{FFFD}");
    assert_eq!(clean("👍🏻 ✌🏿"), "👍 ✌");
    assert_eq!(clean("a🏾 🏾"), "a\u{FFFD} \u{FFFD}");
    assert_eq!(clean("❤\u{FE0F} ⌚\u{FE0E}"), "❤ ⌚");
    assert_eq!(clean("1\u{FE0F}\u{20E3}"), "1\u{20E3}");
    assert_eq!(clean("🇫🇷🇩🇪 🇦"), "FRDE A");
    assert_eq!(
        clean("🏴\u{E0067}\u{E0062}\u{E007F}"),
        "🏴\u{FFFD}\u{FFFD}\u{FFFD}"
    );
    assert_eq!(clean("‘\u{FE01}’"), "‘\u{FFFD}’");
}

#[test]
fn separators_break_lines_or_flatten() {
    assert_eq!(clean("one\u{2028}two\u{2029}three"), "one\ntwo\nthree");
    assert_eq!(one_line("one\u{2028}two\u{2029}three"), "one two three");
}

#[test]
fn private_use_unassigned_format_and_disputed_characters_are_substituted() {
    for c in [
        '\u{E000}',
        '\u{F0000}',
        '\u{FFFF}',
        '\u{FDD0}',
        '\u{FFFE}',
        '\u{1FFFE}',
        '\u{0378}',
        '\u{2061}',
        '\u{00AD}',
        '\u{0600}',
        '\u{FEFF}',
        '\u{FFF9}',
        '\u{3164}',
        '\u{115F}',
        '\u{FFA0}',
        '\u{0D4E}',
        '\u{A8FA}',
        '\u{2630}',
        '\u{3248}',
        '\u{17D2}',
        '\u{2D7F}',
        '\u{FE00}',
        '\u{E0100}',
        '\u{034F}',
    ] {
        assert_eq!(clean(&format!("a{c}b")), "a\u{FFFD}b", "U+{:04X}", c as u32);
    }
    // A spacing vowel sign that unicode-width gives no column: the consonant stays.
    assert_eq!(clean("কা"), "ক\u{FFFD}");
}

#[test]
fn halfwidth_sound_marks_become_their_combining_forms() {
    assert_eq!(clean("ｶﾞｷﾟ"), "ｶ\u{3099}ｷ\u{309A}");
    assert_eq!(clean("ﾞ"), "\u{25CC}\u{3099}");
}

/// Characters that have broken frames, for the generator to mix in.
const HOSTILE: &[char] = &[
    '\u{301}',
    '\u{20DD}',
    '\u{20E3}',
    '\u{200D}',
    '\u{200C}',
    '\u{FE0F}',
    '\u{FE0E}',
    '\u{FE01}',
    '\u{1F3FB}',
    '\u{1F3FF}',
    '\u{1F1EB}',
    '\u{1F1F7}',
    '\u{E0067}',
    '\u{E007F}',
    '\u{2028}',
    '\u{2029}',
    '\u{E000}',
    '\u{FFFF}',
    '\u{FDD0}',
    '\u{2061}',
    '\u{00AD}',
    '\u{0600}',
    '\u{202E}',
    '\u{1100}',
    '\u{1161}',
    '\u{11A8}',
    '\u{3164}',
    '\u{17D2}',
    '\u{1780}',
    '\u{0995}',
    '\u{09BE}',
    '\u{FF76}',
    '\u{FF9E}',
    '\u{0644}',
    '\u{0627}',
    '\u{A4F8}',
    '\u{A4FC}',
    '\u{1b}',
    '[',
    '\n',
    '\t',
    '\r',
    ' ',
    'a',
    '1',
    '#',
    '中',
    '👍',
    '👨',
    '👩',
    '❤',
    '✌',
    '⌚',
    '‘',
];

fn hostile_text() -> impl Strategy<Value = String> {
    let c = prop_oneof![
        3 => any::<char>(),
        6 => prop::sample::select(HOSTILE),
    ];
    prop::collection::vec(c, 0..40).prop_map(|v| v.into_iter().collect())
}

fn text_that_stays() -> impl Strategy<Value = String> {
    let c = prop_oneof![
        prop::char::range('a', 'z'),
        prop::char::range(' ', '~'),
        prop::char::range('\u{4E00}', '\u{9FFF}'),
        prop::char::range('\u{AC00}', '\u{D7A3}'),
        prop::char::range('\u{0410}', '\u{044F}'),
        prop::char::range('\u{1F600}', '\u{1F64F}'),
    ];
    prop::collection::vec(c, 0..40).prop_map(|v| v.into_iter().collect())
}

/// Columns as a terminal counts them: one character at a time.
fn per_char(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// Columns as ratatui lays them out: one grapheme cluster at a time.
fn per_cluster(s: &str) -> usize {
    s.graphemes(true).map(UnicodeWidthStr::width).sum()
}

/// unicode-width's lam-alef, Lisu tone-letter and Kirat Rai ligatures make a whole string one
/// column narrower than its clusters; ratatui draws the clusters, so only the string measure
/// differs (and a span after one starts a column early, inside its pane).
fn has_string_ligature(s: &str) -> bool {
    s.chars().any(|c| {
        matches!(c, '\u{0600}'..='\u{08FF}' | '\u{A4D0}'..='\u{A4FF}' | '\u{16D40}'..='\u{16D7F}')
    })
}

/// Every character is kept as is or a mark on a base; no line begins with a mark nor carries
/// more than [`MAX_MARKS`] in a row.
fn only_safe_characters(s: &str) -> Result<(), TestCaseError> {
    for line in s.split('\n') {
        let mut marks = None;
        let mut prev = None;
        for c in line.chars() {
            match class(c) {
                Class::Base(b) if b == c => marks = Some(0),
                Class::Tab => marks = None,
                Class::Jamo(_) => prop_assert!(joins(prev, c), "{c:?} alone in {line:?}"),
                Class::Mark(m) if m == c => {
                    let n = marks.map(|n| n + 1);
                    prop_assert!(n.is_some(), "a mark with no base in {line:?}");
                    prop_assert!(n <= Some(MAX_MARKS), "too many marks in {line:?}");
                    marks = n;
                }
                other => prop_assert!(false, "{c:?} ({other:?}) in {line:?}"),
            }
            prev = Some(c);
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn the_output_holds_no_dangerous_character(s in hostile_text()) {
        only_safe_characters(&clean(&s))?;
        let flat = one_line(&s);
        only_safe_characters(&flat)?;
        prop_assert!(!flat.contains(['\n', '\t', '\r', '\u{2028}', '\u{2029}']), "{flat:?}");
    }

    #[test]
    fn every_measure_of_the_width_agrees(s in hostile_text()) {
        let flat = one_line(&s);
        prop_assert_eq!(per_char(&flat), per_cluster(&flat), "{:?}", flat);
        if !has_string_ligature(&flat) {
            prop_assert_eq!(per_char(&flat), flat.width(), "{:?}", flat);
        }
        // ratatui draws no tab; a mark after one has a base of its own.
        for line in clean(&s).replace('\t', "").split('\n') {
            prop_assert_eq!(per_char(line), per_cluster(line), "{:?}", line);
        }
    }

    #[test]
    fn cleaning_twice_changes_nothing_more(s in hostile_text()) {
        let once = clean(&s);
        prop_assert_eq!(clean(&once), once.clone());
        prop_assert_eq!(one_line(&once), one_line(&s));
    }

    #[test]
    fn latin_cjk_and_plain_emoji_are_kept_as_they_are(s in text_that_stays()) {
        prop_assert_eq!(clean(&s), s.clone());
        prop_assert_eq!(one_line(&s), s);
    }
}
