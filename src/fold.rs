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
//! themselves (`：，！`), are left as written.
//!
//! Crawled pages also put invisible characters into addresses and numbers against
//! harvesters (`press\u{200B}@example.org`, `139\u{200B}1234\u{200B}5678`). They get a view
//! of their own, the *joined* view ([`Folded::join`]): the folded view without the zero-width
//! spaces and joiners, word joiners, byte-order marks and soft hyphens that stand between
//! two value characters. It is scanned in addition to the other two, never instead: an
//! invisible character can as well be the only boundary between a value and the next
//! word (`139 1234 5678\u{200B}now`), and there the folded view's reading must stand.

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

/// Is `c` one of the invisible characters that the joined view drops inside a value?
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{ad}'
    )
}

/// A character an invisible one may stand between and vanish: letters, digits and the
/// punctuation of addresses, ASCII or full-width. (Not the Unicode dashes: they fold only
/// between digits, and the dropped character must join one byte of the view.)
fn is_value_char(c: char) -> bool {
    let c = match c {
        '\u{ff01}'..='\u{ff5e}' => fold_char(c).unwrap_or(c),
        c => c,
    };
    c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '-' | '_' | '+')
}

/// The length of the invisible character at byte `i` if the joined view drops it: when the
/// nearest visible characters on both sides are value characters, so that it sits inside
/// a value.
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

/// The most invisible characters in a row that the joined view drops.
const RUN_MAX: usize = 4;

/// Does `text` have a joined view: an invisible character that [`Folded::join`] drops?
pub fn joins(text: &str) -> bool {
    memchr::memchr3_iter(0xe2, 0xef, 0xc2, text.as_bytes()).any(|i| vanishes_at(text, i).is_some())
}

/// The end of the span `start..end` of `text` without the invisible characters it ends
/// with. A value found in the joined view that ends before a dropped one
/// (`bob@example.com\u{200B}_x`) maps back past it, and would otherwise take it into its
/// pseudonym.
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

/// Does a form fold at byte `i`, or an invisible character vanish from the joined view?
#[inline]
fn changes_at(text: &str, i: usize, at: &OnceCell<bool>) -> bool {
    folds_at(text, i, at).is_some() || vanishes_at(text, i).is_some()
}

/// Byte offset of the first form that folds or invisible character that the joined view
/// drops. Looks only at the bytes they start with (`0xC2`, `0xE2`, `0xEF`, `%`, `&`) and
/// the bytes after them, and for the ideographic space as a whole: its lead byte `0xE3`
/// also starts every kana and `。`.
fn first_fold(text: &str) -> Option<usize> {
    static IDEOGRAPHIC_SPACE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new("\u{3000}"));
    let b = text.as_bytes();
    let at = OnceCell::new();
    // Labels and values are short, and asked one by one: one loop over their bytes costs
    // less than setting up three searches.
    if b.len() <= 64 {
        return (0..b.len()).find(|&j| is_lead(b[j]) && changes_at(text, j, &at));
    }
    let mut first = IDEOGRAPHIC_SPACE.find(b).unwrap_or(b.len());
    // None of these bytes can be a UTF-8 continuation byte, so each hit is a character
    // boundary.
    if let Some(i) =
        memchr::memchr3_iter(0xef, 0xe2, 0xc2, &b[..first]).find(|&i| changes_at(text, i, &at))
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

/// The form of a found value that its pseudonym is keyed by: folded, and without the
/// invisible characters inside it (the joined view), so that `bob\u{200B}@example.com`
/// and `ｂｏｂ＠example.com` get the pseudonym of `bob@example.com`. Borrowed when nothing
/// changes.
pub fn fold_value(text: &str) -> Cow<'_, str> {
    let mut f = Folded::default();
    if f.build(text, true) {
        Cow::Owned(f.text)
    } else {
        Cow::Borrowed(text)
    }
}

/// A reusable folded view and the way back to the original's offsets.
#[derive(Default)]
pub struct Folded {
    text: String,
    /// One entry per folded form, in order: its offset in `text`, and its offset and
    /// length in the original. Everything between two entries was copied as it was. In the
    /// joined view, a dropped invisible character joins the entry of the character before
    /// it, which then spans both in the original.
    units: Vec<(u32, u32, u32)>,
    /// Set by [`Folded::fold`]: the text holds an invisible character that the joined view
    /// drops.
    joins: bool,
    /// Set by [`Folded::join`]: where in the original each dropped invisible character is.
    dropped: Vec<u32>,
}

impl Folded {
    /// Folds `text` into this view. Returns false, and leaves the view empty, when nothing
    /// folds (or the text is beyond 4 GiB, which no record is). Also notes whether the
    /// joined view would differ from it: see [`Folded::joins`].
    pub fn fold(&mut self, text: &str) -> bool {
        self.build(text, false)
    }

    /// Did the last [`Folded::fold`] see an invisible character that [`Folded::join`]
    /// drops?
    pub fn joins(&self) -> bool {
        self.joins
    }

    /// Makes this the joined view of `text`: the folded view without the invisible
    /// characters inside values (see the module docs). Returns false, and leaves the view
    /// empty, when no invisible character is dropped.
    pub fn join(&mut self, text: &str) -> bool {
        if self.build(text, true) && !self.dropped.is_empty() {
            return true;
        }
        self.text.clear();
        self.units.clear();
        false
    }

    /// Builds the folded view of `text`, or with `join` the joined one. Returns whether
    /// it differs from `text`; leaves it empty when not.
    fn build(&mut self, text: &str, join: bool) -> bool {
        self.text.clear();
        self.units.clear();
        self.joins = false;
        self.dropped.clear();
        let Some(first) = first_fold(text).filter(|_| u32::try_from(text.len()).is_ok()) else {
            return false;
        };
        self.text.push_str(&text[..first]);
        let has_at = OnceCell::new();
        let mut at = first;
        while at < text.len() {
            if let Some(len) = vanishes_at(text, at) {
                self.joins = true;
                if join && self.drop_invisible(text, at, len) {
                    self.dropped.push(at as u32);
                    at += len;
                    continue;
                }
            }
            match folds_at(text, at, &has_at) {
                Some((a, len)) => {
                    self.units
                        .push((self.text.len() as u32, at as u32, len as u32));
                    self.text.push(a);
                    at += len;
                }
                None => {
                    // Nothing folds or vanishes before the next byte that can start a
                    // form: copy up to it. No such byte is a UTF-8 continuation byte, so
                    // each is a character boundary.
                    let b = text.as_bytes();
                    let next = b[at + 1..]
                        .iter()
                        .position(|&c| is_lead(c))
                        .map_or(b.len(), |p| at + 1 + p);
                    self.text.push_str(&text[at..next]);
                    at = next;
                }
            }
        }
        if self.units.is_empty() {
            self.text.clear();
            return false;
        }
        true
    }

    /// Drops the `len`-byte invisible character at `at` from the view by joining it to the
    /// one byte the character before it became: a folded form whose entry ends here, or an
    /// ASCII character copied as written. Anything else before it (a Unicode dash left as
    /// written) keeps it.
    fn drop_invisible(&mut self, text: &str, at: usize, len: usize) -> bool {
        let here = self.text.len() as u32 - 1;
        match self.units.last_mut() {
            Some(u) if u.0 == here && (u.1 + u.2) as usize == at => u.2 += len as u32,
            _ if text.as_bytes()[at - 1].is_ascii() => {
                self.units.push((here, at as u32 - 1, 1 + len as u32));
            }
            _ => return false,
        }
        true
    }

    /// Does the span `start..end` of the original hold, past its first character, an
    /// invisible character that [`Folded::join`] dropped? A joined-view candidate that
    /// holds none read nothing the other views could not, or only read its edge
    /// differently (a boundary that the dropped character after it made).
    pub fn joins_inside(&self, start: usize, end: usize) -> bool {
        let k = self.dropped.partition_point(|&p| p as usize <= start);
        self.dropped.get(k).is_some_and(|&p| (p as usize) < end)
    }

    /// Does the span `start..end` of the original hold a form that was folded?
    pub fn touches(&self, start: usize, end: usize) -> bool {
        let k = self.units.partition_point(|u| (u.1 as usize) < start);
        self.units.get(k).is_some_and(|u| (u.1 as usize) < end)
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
            (_, Some((f, r, len))) => (r + len) as usize + (x - f as usize - 1),
        }
    }

    /// Drops buffers grown by an outsized text, so that one huge record does not keep its
    /// memory for the rest of a run.
    pub fn shrink(&mut self) {
        const KEEP: usize = 1 << 20;
        if self.text.capacity() > KEEP {
            self.text = String::new();
        }
        if self.units.capacity() > KEEP / 12 {
            self.units = Vec::new();
        }
        if self.dropped.capacity() > KEEP / 4 {
            self.dropped = Vec::new();
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

    /// The joined view drops invisible characters between value characters only, maps
    /// each back together with the character before it, and leaves prose, CJK, long runs
    /// and the edges of a text alone.
    #[test]
    fn joined_view_drops_invisible_characters_inside_values_only() {
        let joined = |t: &str| {
            let mut f = Folded::default();
            f.join(t).then(|| f.text().to_string())
        };
        assert_eq!(
            joined("press\u{200b}@example.org, 139\u{200b}1234\u{2060}5678").as_deref(),
            Some("press@example.org, 13912345678")
        );
        assert_eq!(
            joined("alice\u{200b}＠ｅxample.com wang\u{ad}li").as_deref(),
            Some("alice@example.com wangli")
        );
        assert_eq!(
            joined("a%40\u{feff}b 1\u{200c}\u{200d}2").as_deref(),
            Some("a@b 12")
        );
        for stays in [
            "中\u{200b}文",
            "\u{200b}abc",
            "abc\u{200b}",
            "a\u{200b} b",
            "prose, \u{ad}then",
            "a\u{2014}\u{200b}b",
            "a\u{200b}\u{200b}\u{200b}\u{200b}\u{200b}b",
        ] {
            assert_eq!(joined(stays), None, "{stays:?}");
        }
        // The folded view keeps them, but notes that the joined view differs.
        let mut f = Folded::default();
        assert!(!f.fold("press\u{200b}@example.org"));
        assert!(f.joins());
        assert!(f.fold("ｐress\u{200b}@example.org"));
        assert_eq!(f.text(), "press\u{200b}@example.org");
        assert!(f.joins());
        assert!(joins("press\u{200b}@example.org") && !joins("中\u{200b}文 ａ"));
        assert!(f.fold("中\u{200b}文 ａ"));
        assert!(!f.joins());
        // Offsets: a dropped character belongs to the one before it.
        let text = "x1\u{200b}\u{ad}2ｙ\u{200b}z";
        assert!(f.join(text));
        assert_eq!(f.text(), "x12yz");
        let at = |x| f.original_offset(x);
        assert_eq!(&text[at(1)..at(2)], "1\u{200b}\u{ad}");
        assert_eq!(&text[at(2)..at(3)], "2");
        assert_eq!(&text[at(3)..at(4)], "ｙ\u{200b}");
        assert_eq!(&text[at(4)..at(5)], "z");
        assert_eq!(trim_invisible_end(text, 0, at(2)), 2);
        assert!(f.joins_inside(0, 8) && f.joins_inside(1, 3) && f.joins_inside(5, 12));
        assert!(!f.joins_inside(0, 2) && !f.joins_inside(2, 5) && !f.joins_inside(8, 11));
        assert_eq!(trim_invisible_end(text, 2, 2), 2);
        // A long run costs one look per character.
        let run = format!("a{}b", "\u{200b}".repeat(100_000));
        assert!(!needs_fold(&run));
        // The key form of a value is folded and joined.
        assert_eq!(fold_value("ｂob\u{200b}@example.com"), "bob@example.com");
        assert!(matches!(fold_value("bob@example.com"), Cow::Borrowed(_)));
    }

    fn mixed() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "a", "Z", "7", "@", ".", " ", "，", "：", "。", "中", "é", "😀", "§", "\u{feff}", "｡",
            "１", "ｚ", "Ｑ", "＠", "．", "－", "＋", "＿", "＝", "\u{3000}", "\u{a0}", "\u{202f}",
            "\u{2014}", "\u{2010}", "“", "%40", "%4", "%", "0", "%3A", "%2f", "%41", "&#64;",
            "&#x40;", "&commat;", "&#6", "&", "#", ";", "（", "）", "（0", "10）", "\u{200b}",
            "\u{ad}", "\u{2060}", "\u{200d}", "-", "_",
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
            // Padding that neither folds nor is a value character an invisible one could
            // vanish next to.
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
                prop_assert!(!needs_fold(&text) || f.joins());
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
                let orig = &text[a..b];
                prop_assert!(
                    orig.chars().eq([c]) || fold_form(orig) == Some(c),
                    "{:?} at {} came from {:?}", c, s, orig
                );
            }
        }

        /// The joined view maps back likewise; a character there may also carry the
        /// invisible ones dropped after it. Without them it is the folded view, and it
        /// exists exactly when the folded view noted that it would differ.
        #[test]
        fn joined_characters_map_back(text in mixed()) {
            let mut f = Folded::default();
            f.fold(&text);
            let joins = f.joins();
            if !f.join(&text) {
                prop_assert!(!joins);
                return Ok(());
            }
            prop_assert!(joins);
            let out = f.text().to_string();
            prop_assert_eq!(&out, &fold_value(&text));
            let without: String = text.chars().filter(|&c| !is_invisible(c)).collect();
            let folded_without: String = fold(&text).chars().filter(|&c| !is_invisible(c)).collect();
            prop_assert_eq!(out.chars().filter(|&c| !is_invisible(c)).collect::<String>(), folded_without);
            prop_assert!(without.len() <= text.len());
            prop_assert_eq!(f.original_offset(0), 0);
            prop_assert_eq!(f.original_offset(out.len()), text.len());
            for (s, c) in out.char_indices() {
                let (a, b) = (f.original_offset(s), f.original_offset(s + c.len_utf8()));
                prop_assert!(a < b && text.is_char_boundary(a) && text.is_char_boundary(b));
                let orig = &text[a..b];
                let head = &text[a..trim_invisible_end(text.as_str(), a, b)];
                prop_assert!(
                    orig.chars().eq([c]) || head.chars().eq([c]) || fold_form(head) == Some(c),
                    "{:?} at {} came from {:?}", c, s, orig
                );
            }
        }
    }
}
