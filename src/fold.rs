//! Folding: a second view of a text for detection to scan.
//!
//! Chinese and Japanese text often writes numbers, e-mail addresses and codes in
//! full-width forms (`电话：１３８００１３８０００`, `ａｂｃ＠ｅｘａｍｐｌｅ．ｃｏｍ`); text
//! copied from web pages and word processors separates digit groups with no-break, thin
//! or ideographic spaces and Unicode dashes; and crawled pages keep e-mail addresses URL-
//! or HTML-encoded (`mailto:alice%40example.com`, `alice&#64;example.com`). The rules are
//! written for plain ASCII; rather than double every class of every pattern, detection
//! also scans a folded copy in which those forms are their ASCII selves, and maps what it
//! finds back to the original's byte offsets (see `Detector::find`). A value's pseudonym
//! is keyed by its folded form, so `１３８…` and `138…`, or `a%40b.com` and `a@b.com`, get
//! the same one.
//!
//! Only what stands for an ASCII character inside a value is folded: the full-width
//! digits, letters and `＠ ＋ － ． ／ ＝ ＿`; the ideographic space; the encodings of `@`
//! (`%40`, `&#64;`, `&#x40;`, `&commat;`) and of the punctuation around one in a link
//! (`%3A`, `%3D`, `%3F`, `%2F`…); and, between two digits, the no-break and other
//! fixed-width spaces, the Unicode hyphens and dashes and the minus sign; and the
//! full-width parentheses around an area code (`（010）6552 1234`, as Chinese text writes
//! a landline). Otherwise they, and the other full-width punctuation that rules name
//! themselves (`：，！`), are left as written. Invisible characters inside a value (the
//! zero-width space, joiners, word joiner, byte-order mark and soft hyphen, which pages
//! put into addresses to keep harvesters off: `alice\u{200B}@example.com`) fold to
//! nothing: the view keeps the character before and maps it back to both.

use std::borrow::Cow;
use std::cell::OnceCell;

/// The ASCII character that `c` stands for, if detection should read it as one (the
/// spaces and dashes only between digits: see `folds_at`).
#[inline]
pub fn fold_char(c: char) -> Option<char> {
    match c {
        '\u{ff10}'..='\u{ff19}'
        | '\u{ff20}'..='\u{ff3a}'
        | '\u{ff41}'..='\u{ff5a}'
        | '\u{ff0b}'
        | '\u{ff0d}'
        | '\u{ff0e}'
        | '\u{ff0f}'
        | '\u{ff1d}'
        | '\u{ff3f}' => char::from_u32(c as u32 - 0xfee0),
        '\u{a0}' | '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}' => Some(' '),
        '\u{2010}'..='\u{2015}' | '\u{2212}' => Some('-'),
        _ => None,
    }
}

/// The span `start..end` of `text`, grown over the full-width digits that continue it
/// where its first or last character is a digit: in `QQ：12345６７８９` the scan of the text
/// as written stops at `６`, where the number goes on. (Digits only: a letter after a
/// value, `…002Xａ`, is as often a word, and would change the value's pseudonym.)
pub fn widen(text: &str, start: usize, end: usize) -> (usize, usize) {
    let wide_digit = |c: &char| !c.is_ascii() && is_digit(*c);
    let mut e = end;
    if text[..end].chars().next_back().is_some_and(is_digit) {
        e += text[end..]
            .chars()
            .take_while(wide_digit)
            .map(char::len_utf8)
            .sum::<usize>();
    }
    let mut s = start;
    if text[start..].chars().next().is_some_and(is_digit) {
        s -= text[..start]
            .chars()
            .rev()
            .take_while(wide_digit)
            .map(char::len_utf8)
            .sum::<usize>();
    }
    (s, e)
}

/// The HTML encodings of `@` that crawled text keeps.
const AT_FORMS: &[&str] = &["&#64;", "&#064;", "&#x40;", "&#X40;", "&commat;"];

/// The URL-encoded characters that fold (`%40` is `@`): the ones that sit in or around an
/// e-mail address in a link (`mailto%3Aalice%40example.com`, `%3Femail%3Dalice%40…`).
fn percent(hi: u8, lo: u8) -> Option<char> {
    let hex = |b: u8| char::from(b).to_digit(16);
    let c = char::from((hex(hi)? * 16 + hex(lo)?) as u8);
    matches!(
        c,
        ' ' | '"' | '&' | '\'' | '+' | ',' | '/' | ':' | ';' | '<' | '=' | '>' | '?' | '@'
    )
    .then_some(c)
}

/// What starts at byte `i` of `text` (a character boundary), if it folds: its ASCII
/// character and its length in `text`. Tests the bytes before decoding anything: this
/// runs at every `，`, `。`, curly quote and `&` of a text.
///
/// A text that folds is scanned twice, so forms that prose uses on their own are folded
/// only where they can be part of a value: the no-break, thin and other fixed-width
/// spaces and the dashes only between two digits (`+33 1 42…`, `010‐1234`), not in
/// `Tél :` or an em dash between words; and the URL escapes of punctuation only in a text
/// that has an `@` (written or encoded) for them to stand around, so that a page of
/// search links is not scanned twice. The ideographic space, the full-width forms and the
/// encoded `@` fold wherever they are. `at` caches whether the text has an `@`.
#[inline]
fn folds_at(text: &str, i: usize, at: &OnceCell<bool>) -> Option<(char, usize)> {
    let b = &text.as_bytes()[i..];
    let decode = || text[i..].chars().next().and_then(fold_char);
    match *b {
        [b'%', hi, lo, ..] => percent(hi, lo)
            .filter(|&c| c == '@' || *at.get_or_init(|| mentions_at(text)))
            .map(|c| (c, 3)),
        [b'&', ..] => AT_FORMS
            .iter()
            .find(|f| b.starts_with(f.as_bytes()))
            .map(|f| ('@', f.len())),
        [0xe3, 0x80, 0x80, ..] => Some((' ', 3)),
        [0xc2, 0xa0, ..] => between_digits(text, i, 2).then_some((' ', 2)),
        [0xe2, 0x80, 0x80..=0x8a | 0x90..=0x95 | 0xaf, ..]
        | [0xe2, 0x81, 0x9f, ..]
        | [0xe2, 0x88, 0x92, ..] => decode()
            .filter(|_| between_digits(text, i, 3))
            .map(|a| (a, 3)),
        // `（` and `）` only around an area code: `（1）` and `（2020年）` stay as written.
        [0xef, 0xbc, 0x88, ..] => area_code_opens(text, i).then_some(('(', 3)),
        [0xef, 0xbc, 0x89, ..] => area_code_closes(text, i).then_some((')', 3)),
        // Only the third bytes that fold: `，：！？；` (`EF BC 8C`, `9A`, …) fail here,
        // undecoded.
        [0xef, 0xbc, 0x8b | 0x8d..=0x99 | 0x9d | 0xa0..=0xba | 0xbf, ..]
        | [0xef, 0xbd, 0x81..=0x9a, ..] => decode().map(|a| (a, 3)),
        _ => None,
    }
}

/// Does the `（` at byte `i` open a parenthesized area code: a trunk `0`, two or three
/// more digits, then `）` (`（010）`, `（０７５５）`)?
fn area_code_opens(text: &str, i: usize) -> bool {
    let mut chars = text[i + '（'.len_utf8()..].chars();
    if !matches!(chars.next(), Some('0' | '０')) {
        return false;
    }
    let mut digits = 1;
    for c in chars {
        if !is_digit(c) {
            return c == '）' && (3..=4).contains(&digits);
        }
        digits += 1;
        if digits > 4 {
            return false;
        }
    }
    false
}

/// Does the `）` at byte `i` close a parenthesized area code (see [`area_code_opens`])?
fn area_code_closes(text: &str, i: usize) -> bool {
    let mut j = i;
    for c in text[..i].chars().rev().take(5) {
        j -= c.len_utf8();
        if !is_digit(c) {
            return c == '（' && area_code_opens(text, j);
        }
    }
    false
}

/// Is `c` one of the invisible characters that fold to nothing inside a value?
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{ad}'
    )
}

/// A character an invisible one may stand between and vanish: ASCII letters and digits and
/// the punctuation of addresses.
fn is_value_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '-' | '_' | '+')
}

/// The length of the invisible character at byte `i` if it folds to nothing: when the
/// nearest visible characters on both sides are value characters (so it sits inside a
/// value, and the one before is ASCII, one byte of the folded view).
#[inline]
fn vanishes_at(text: &str, i: usize) -> Option<usize> {
    let len = match text.as_bytes()[i..] {
        [0xe2, 0x80, 0x8b..=0x8d, ..] | [0xe2, 0x81, 0xa0, ..] | [0xef, 0xbb, 0xbf, ..] => 3,
        [0xc2, 0xad, ..] => 2,
        _ => return None,
    };
    // A few in a row at most: a longer run is no value's, and looking past it from each
    // of its characters would make a text of them quadratic.
    let mut run = 1;
    let before = first_visible(text[..i].chars().rev(), &mut run);
    let after = first_visible(text[i + len..].chars(), &mut run);
    (run <= RUN_MAX && before.is_some_and(is_value_char) && after.is_some_and(is_value_char))
        .then_some(len)
}

/// The first visible character of `chars`, counting the invisible ones before it in
/// `run`; `None` as soon as `run` passes [`RUN_MAX`].
fn first_visible(chars: impl Iterator<Item = char>, run: &mut usize) -> Option<char> {
    for c in chars {
        if !is_invisible(c) {
            return Some(c);
        }
        *run += 1;
        if *run > RUN_MAX {
            return None;
        }
    }
    None
}

/// The most invisible characters in a row that fold to nothing.
const RUN_MAX: usize = 4;

/// The end of the span `start..end` of `text` without the invisible characters it ends
/// with: a value found in the folded view that ends before one (`bob@example.com\u{200B}_x`)
/// is mapped back past it, and would otherwise take it along into its pseudonym.
pub fn trim_invisible_end(text: &str, start: usize, mut end: usize) -> usize {
    while let Some(c) = text[start..end]
        .chars()
        .next_back()
        .filter(|&c| is_invisible(c))
    {
        end -= c.len_utf8();
    }
    end
}

/// Does anything fold at byte `i`?
#[inline]
fn any_fold_at(text: &str, i: usize, at: &OnceCell<bool>) -> bool {
    folds_at(text, i, at).is_some() || vanishes_at(text, i).is_some()
}

/// Does `text` hold an `@`, written or in one of its encodings?
fn mentions_at(text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memchr(b'@', b).is_some()
        || memchr::memmem::find(b, b"%40").is_some()
        || AT_FORMS
            .iter()
            .any(|f| memchr::memmem::find(b, f.as_bytes()).is_some())
}

/// A digit, ASCII or full-width.
fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

/// Is the `len`-byte character at `i` between two digits?
fn between_digits(text: &str, i: usize, len: usize) -> bool {
    text[..i].chars().next_back().is_some_and(is_digit)
        && text[i + len..].chars().next().is_some_and(is_digit)
}

/// Does `text` hold anything that folds? (The tests' name for [`first_fold`].)
#[cfg(test)]
fn needs_fold(text: &str) -> bool {
    first_fold(text).is_some()
}

/// Byte offset of the first form that folds. Looks only at the bytes a folded form
/// starts with (`0xC2`, `0xE2`, `0xEF`, `%`, `&`) and the bytes after them, and for the
/// ideographic space as a whole: its lead byte `0xE3` also starts every kana and `。`.
fn first_fold(text: &str) -> Option<usize> {
    static IDEOGRAPHIC_SPACE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new("\u{3000}"));
    let b = text.as_bytes();
    let at = OnceCell::new();
    // Labels and values are short, and asked one by one: one loop over their bytes costs
    // less than setting up three searches.
    if b.len() <= 64 {
        return (0..b.len()).find(|&j| is_lead(b[j]) && any_fold_at(text, j, &at));
    }
    let mut first = IDEOGRAPHIC_SPACE.find(b).unwrap_or(b.len());
    // None of these bytes can be a UTF-8 continuation byte, so each hit is a character
    // boundary.
    if let Some(i) =
        memchr::memchr3_iter(0xef, 0xe2, 0xc2, &b[..first]).find(|&i| any_fold_at(text, i, &at))
    {
        first = i;
    }
    if let Some(i) =
        memchr::memchr2_iter(b'%', b'&', &b[..first]).find(|&i| folds_at(text, i, &at).is_some())
    {
        first = i;
    }
    (first < b.len()).then_some(first)
}

/// Can a folded form start with byte `c`?
#[inline]
fn is_lead(c: u8) -> bool {
    matches!(c, 0xc2 | 0xe2 | 0xe3 | 0xef | b'%' | b'&')
}

/// The folded view of `text`, borrowed when nothing folds.
pub fn fold(text: &str) -> Cow<'_, str> {
    let mut f = Folded::default();
    if f.fold(text) {
        Cow::Owned(f.text)
    } else {
        Cow::Borrowed(text)
    }
}

/// A reusable folded view and the way back to the original's offsets.
#[derive(Default)]
pub struct Folded {
    text: String,
    /// One entry per folded form, in order: its offset in `text`, its offset and length in
    /// the original, and where in the original what was folded starts. Everything between
    /// two entries was copied as it was. An invisible character that folds to nothing joins
    /// the entry of the character before it, which then spans both; when that character
    /// was copied as written, what was folded starts at the invisible one, so a value
    /// written up to the character before it does not count as holding a folded form.
    units: Vec<(u32, u32, u32, u32)>,
}

impl Folded {
    /// Folds `text` into this view. Returns false, and leaves the view empty, when nothing
    /// folds (or the text is beyond 4 GiB, which no record is).
    pub fn fold(&mut self, text: &str) -> bool {
        self.text.clear();
        self.units.clear();
        let Some(first) = first_fold(text).filter(|_| u32::try_from(text.len()).is_ok()) else {
            return false;
        };
        self.text.push_str(&text[..first]);
        let has_at = OnceCell::new();
        let mut at = first;
        while at < text.len() {
            if let Some(len) = vanishes_at(text, at) {
                // The character before is ASCII: one byte of the view, copied or folded.
                let here = self.text.len() as u32 - 1;
                match self.units.last_mut() {
                    Some(u) if u.0 == here && (u.1 + u.2) as usize == at => u.2 += len as u32,
                    _ => self
                        .units
                        .push((here, at as u32 - 1, 1 + len as u32, at as u32)),
                }
                at += len;
                continue;
            }
            match folds_at(text, at, &has_at) {
                Some((a, len)) => {
                    let (folded, at32) = (self.text.len() as u32, at as u32);
                    self.units.push((folded, at32, len as u32, at32));
                    self.text.push(a);
                    at += len;
                }
                None => {
                    let len = text[at..].chars().next().map_or(1, char::len_utf8);
                    self.text.push_str(&text[at..at + len]);
                    at += len;
                }
            }
        }
        true
    }

    /// Does the span `start..end` of the original hold a form that was folded?
    pub fn touches(&self, start: usize, end: usize) -> bool {
        let k = self.units.partition_point(|u| (u.3 as usize) < start);
        self.units.get(k).is_some_and(|u| (u.3 as usize) < end)
    }

    /// The folded text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The original's byte offset of byte offset `x` of the folded text (a character
    /// boundary, or its end).
    pub fn original_offset(&self, x: usize) -> usize {
        let k = self.units.partition_point(|u| (u.0 as usize) < x);
        match (self.units.get(k), k.checked_sub(1).map(|p| self.units[p])) {
            (Some(u), _) if u.0 as usize == x => u.1 as usize,
            (_, None) => x,
            // Past a folded form (one byte here, `len` there): the copied bytes since.
            (_, Some((f, r, len, _))) => (r + len) as usize + (x - f as usize - 1),
        }
    }

    /// Drops buffers grown by an outsized text, so that one huge record does not keep its
    /// memory for the rest of a run.
    pub fn shrink(&mut self) {
        const KEEP: usize = 1 << 20;
        if self.text.capacity() > KEEP {
            self.text = String::new();
        }
        if self.units.capacity() > KEEP / 16 {
            self.units = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folds_digits_letters_spaces_dashes_and_encoded_at_only() {
        assert_eq!(
            fold("电话：１３８\u{3000}００１３\u{a0}８０００，ａｂｃ＠ｘ．ｃｏｍ（Ｘ）"),
            "电话：138 0013 8000，abc@x.com（X）"
        );
        assert_eq!(
            fold("138\u{202f}1234\u{2009}5678 ０１０‐１２３ x＝y／z"),
            "138 1234 5678 010-123 x=y/z"
        );
        // Spaces and dashes that prose uses on their own stay, and do not make a text fold.
        assert!(!needs_fold("Tél\u{a0}: prix — 20\u{202f}€ !"));
        assert_eq!(fold("Tél\u{a0}: 1\u{a0}2 —x"), "Tél\u{a0}: 1 2 —x");
        assert!(matches!(fold("电话：13800138000。"), Cow::Borrowed(_)));
        assert_eq!(
            fold("mailto:a%40b.com &#64; &#x40; &commat; &#6; %4 100% &amp; %41 %zz"),
            "mailto:a@b.com @ @ @ &#6; %4 100% &amp; %41 %zz"
        );
        assert_eq!(
            fold("mailto%3Aa%2Bb%40c.com%3Fx%3d1"),
            "mailto:a+b@c.com?x=1"
        );
        // Escapes of punctuation fold only where an `@` is, written or encoded.
        assert!(!needs_fold(
            "https://example.com/search?q=a%20b%3Fc&x=%2Fhome"
        ));
        assert_eq!(fold("?to=a@b.com&s=x%3Fy"), "?to=a@b.com&s=x?y");
        assert!(!needs_fold("50% off & more, 100%4"));
        // Lead bytes of folded forms, starting characters that do not fold.
        assert!(!needs_fold("「你好」、。，：¡～“quoted”…•§\u{feff}｡"));
    }

    /// Full-width parentheses fold only around an area code: a trunk `0` and two or three
    /// more digits, ASCII or full-width.
    #[test]
    fn parentheses_fold_around_an_area_code_only() {
        assert_eq!(
            fold("电话：（010）65521234，传真（０７５５）８８８８６６６６"),
            "电话：(010)65521234，传真(0755)88886666"
        );
        for stays in [
            "（1）第一条",
            "（2020年）",
            "（01）",
            "（01234）",
            "（010",
            "010）",
            "（0a0）",
            "（ 010）",
            "（123）",
        ] {
            assert!(!needs_fold(stays), "{stays}");
        }
        let text = "座机（010）6552 1234";
        let mut f = Folded::default();
        assert!(f.fold(text));
        let open = f.text().find('(').unwrap();
        let close = f.text().find(')').unwrap();
        assert_eq!(
            &text[f.original_offset(open)..f.original_offset(open + 1)],
            "（"
        );
        assert_eq!(
            &text[f.original_offset(close)..f.original_offset(close + 1)],
            "）"
        );
    }

    /// Invisible characters vanish inside a value, one or several, after a copied or a
    /// folded character, and map back with the character before them; elsewhere they stay.
    #[test]
    fn invisible_characters_vanish_inside_values_only() {
        assert_eq!(
            fold("mail alice\u{200b}@example.com"),
            "mail alice@example.com"
        );
        assert_eq!(fold("139\u{200b}1234\u{2060}5678"), "13912345678");
        assert_eq!(fold("wang\u{ad}\u{200d}li@x.cn"), "wangli@x.cn");
        assert_eq!(fold("a%40\u{200b}b.com"), "a@b.com");
        for stays in [
            "\u{200b}alice",
            "alice\u{200b}",
            "中\u{200b}文",
            "a \u{200b} b",
            "\u{feff}{\"a\": 1}",
        ] {
            assert!(!needs_fold(stays), "{stays:?}");
        }
        // Full-width digits fold, but the one before is not an ASCII byte to join.
        assert_eq!(fold("１\u{200b}２"), "1\u{200b}2");
        let text = "x1\u{200b}\u{ad}2y";
        let mut f = Folded::default();
        assert!(f.fold(text));
        assert_eq!(f.text(), "x12y");
        assert_eq!(
            &text[f.original_offset(1)..f.original_offset(2)],
            "1\u{200b}\u{ad}"
        );
        assert_eq!(&text[f.original_offset(2)..f.original_offset(3)], "2");
        // What was folded is the invisible characters, not the `1` before them: a value
        // written up to the `1` holds no folded form, and its written reading stands.
        assert!(!f.touches(0, 2));
        assert!(f.touches(0, 3));
        assert!(!f.touches(7, 9));
        assert_eq!(trim_invisible_end(text, 0, 7), 2);
        assert_eq!(trim_invisible_end(text, 2, 2), 2);
        // A long run is no value's: it stays, and costs one look per character.
        let run = format!("a{}b", "\u{200b}".repeat(100_000));
        assert!(!needs_fold(&run));
        assert_eq!(fold("a\u{200b}\u{200b}\u{200b}\u{200b}b"), "ab");
        assert!(!needs_fold("a\u{200b}\u{200b}\u{200b}\u{200b}\u{200b}b"));
    }

    #[test]
    fn widen_takes_the_full_width_digits_that_continue_a_number() {
        let w = |t: &str, v: &str| {
            let s = t.find(v).unwrap();
            let (a, b) = widen(t, s, s + v.len());
            t[a..b].to_string()
        };
        assert_eq!(w("QQ：12345６７８９ ok", "12345"), "12345６７８９");
        assert_eq!(w("１２3456", "3456"), "１２3456");
        assert_eq!(w("ab12ｃｄ", "ab12"), "ab12");
        assert_eq!(w("002Xａ", "002X"), "002X");
        assert_eq!(w("卡号4111ｘ", "4111"), "4111");
        assert_eq!(w("x 12 y", "12"), "12");
    }

    #[test]
    fn offsets_point_at_the_original_characters() {
        let text = "a１b\u{3000}中ｃ%40d";
        let mut f = Folded::default();
        assert!(f.fold(text));
        assert_eq!(f.text(), "a1b 中c@d");
        let at = |x| f.original_offset(x);
        assert_eq!(&text[at(1)..at(2)], "１");
        assert_eq!(&text[at(3)..at(4)], "\u{3000}");
        assert_eq!(&text[at(4)..at(7)], "中");
        assert_eq!(&text[at(7)..at(8)], "ｃ");
        assert_eq!(&text[at(8)..at(9)], "%40");
        assert_eq!(&text[at(9)..at(10)], "d");
    }

    /// A text of many folded forms keeps a map of its forms, not of its bytes, and gives
    /// the memory back when told.
    #[test]
    fn huge_texts_do_not_keep_their_memory() {
        let text = "中".repeat(1 << 20) + "\u{3000}";
        let mut f = Folded::default();
        assert!(f.fold(&text));
        assert_eq!(f.units.len(), 1);
        f.shrink();
        assert_eq!(f.text.capacity(), 0);
    }

    fn mixed() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "a", "Z", "7", "@", ".", " ", "，", "：", "。", "中", "é", "😀", "§", "\u{feff}", "｡",
            "１", "ｚ", "Ｑ", "＠", "．", "－", "＋", "＿", "＝", "\u{3000}", "\u{a0}", "\u{202f}",
            "\u{2014}", "\u{2010}", "“", "%40", "%4", "%", "0", "%3A", "%2f", "%41", "&#64;",
            "&#x40;", "&commat;", "&#6", "&", "#", ";", "（", "）", "（0", "10）", "\u{200b}",
            "\u{ad}", "\u{2060}",
        ]);
        prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
    }

    /// What a form folds to, judged alone (no digits around it to ask about).
    fn fold_form(form: &str) -> Option<char> {
        if AT_FORMS.contains(&form) {
            return Some('@');
        }
        if let [b'%', hi, lo] = *form.as_bytes() {
            return percent(hi, lo);
        }
        let mut cs = form.chars();
        let c = cs.next()?;
        if cs.next().is_some() {
            return None;
        }
        match c {
            '（' => Some('('),
            '）' => Some(')'),
            c => fold_char(c),
        }
    }

    proptest! {
        /// Short texts take a loop of their own: it agrees with the searches long texts
        /// take, on the same text padded past the cut-off (padding that never folds).
        #[test]
        fn short_and_long_texts_fold_alike(text in mixed()) {
            // Not a letter: one would make an invisible character at the edge of `text`
            // sit inside a value, and fold.
            let pad = "~".repeat(80);
            let short = needs_fold(&text);
            prop_assert_eq!(needs_fold(&format!("{text}{pad}")), short);
            prop_assert_eq!(needs_fold(&format!("{pad}{text}")), short);
        }

        /// The folded text, character by character, maps back onto the original: each
        /// character is either copied or the fold of the form it came from; offsets rise
        /// and the ends meet.
        #[test]
        fn characters_map_back(text in mixed()) {
            let mut f = Folded::default();
            if !f.fold(&text) {
                prop_assert!(!needs_fold(&text));
                prop_assert_eq!(fold(&text), text.as_str());
                return Ok(());
            }
            let out = f.text();
            prop_assert_eq!(out, fold(&text));
            prop_assert_eq!(f.original_offset(0), 0);
            prop_assert_eq!(f.original_offset(out.len()), text.len());
            for (s, c) in out.char_indices() {
                let (a, b) = (f.original_offset(s), f.original_offset(s + c.len_utf8()));
                prop_assert!(a < b && text.is_char_boundary(a) && text.is_char_boundary(b));
                // An invisible character that folded to nothing is mapped with the one
                // before it.
                let orig: String = if is_invisible(c) {
                    text[a..b].to_string()
                } else {
                    text[a..b].chars().filter(|&c| !is_invisible(c)).collect()
                };
                prop_assert!(
                    orig.chars().eq([c]) || fold_form(&orig) == Some(c),
                    "{:?} at {} came from {:?}", c, s, &text[a..b]
                );
            }
        }
    }
}
