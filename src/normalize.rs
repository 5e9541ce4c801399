//! Text normalization for deduplication: Unicode NFKC, lowercase, whitespace collapsed.
//!
//! Two texts that differ only in width forms (`ＡＢＣ`/`ABC`), case or spacing normalize to
//! the same string and so count as duplicates.

use unicode_normalization::UnicodeNormalization;

/// Appends the dedup normalization of `text` to `out`: NFKC, then lowercase, then every run
/// of whitespace as one space, with no leading or trailing space.
///
/// This runs on every record, so the common cases are fast paths: ASCII runs are folded a
/// byte at a time, and the NFKC iterator (a table walk per character) runs only when
/// `is_nfkc_quick` cannot vouch that the text is already in NFKC, which real text nearly
/// always is.
pub fn dedup_normalize_into(text: &str, out: &mut String) {
    let mut f = Folder {
        out,
        pending_space: false,
        start: 0,
    };
    f.start = f.out.len();
    if text.is_ascii() {
        f.push_ascii(text);
        return;
    }
    // One optimistic pass over bytes: runs of plain ASCII and of CJK ideographs and
    // punctuation (all stable NFKC starters, see `stable_cjk_at`) are copied whole; the
    // full-width forms, which map to ASCII, are folded from their bytes, and the ideographic
    // space is a blank. On the first other character, start over on the exact path.
    // Replacing a character by its compatibility decomposition does not change NFKD, hence
    // not NFKC, so mapping the full-width forms first is exact.
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let lead = b[i];
        let mut j = i;
        if lead < 0x80 {
            // The end of the ASCII run, eight bytes at a time.
            while let Some(chunk) = b.get(j..j + 8) {
                if u64::from_le_bytes(chunk.try_into().expect("eight bytes"))
                    & 0x8080_8080_8080_8080
                    != 0
                {
                    break;
                }
                j += 8;
            }
            while j < b.len() && b[j] < 0x80 {
                j += 1;
            }
            f.push_ascii(&text[i..j]);
            i = j;
            continue;
        }
        while stable_cjk_at(b, j) {
            j += 3;
        }
        if j > i {
            f.space_before_next();
            f.out.push_str(&text[i..j]);
            i = j;
            continue;
        }
        if let Some(lower) = latin1_letter_at(b, i) {
            f.space_before_next();
            f.out.push(lower);
            i += 2;
            continue;
        }
        if let Some(a) = fullwidth_ascii_at(b, i) {
            // Never a blank: U+FF01..=U+FF5E map to the visible ASCII characters.
            f.space_before_next();
            f.out.push(char::from(a.to_ascii_lowercase()));
            i += 3;
            continue;
        }
        // What the byte paths above leave: of the characters `fullwidth_to_ascii` maps,
        // only the ideographic space (a blank: it may join a run of spaces).
        if text[i..].starts_with('\u{3000}') {
            f.push_char(' ');
            i += '\u{3000}'.len_utf8();
        } else {
            f.out.truncate(f.start);
            f.pending_space = false;
            return exact(text, f);
        }
    }
}

/// ASCII whitespace as the fold sees it: `is_ascii_whitespace` plus vertical tab, which
/// `char::is_whitespace` also counts.
#[inline]
fn is_ascii_space(b: u8) -> bool {
    b.is_ascii_whitespace() || b == 0x0b
}

fn exact(text: &str, mut f: Folder<'_>) {
    let mapped = || text.chars().map(fullwidth_to_ascii);
    if unicode_normalization::is_nfkc_quick(mapped()) == unicode_normalization::IsNormalized::Yes {
        for c in mapped() {
            f.push_char(c);
        }
    } else {
        for c in text.nfkc() {
            f.push_char(c);
        }
    }
}

/// Whether the character at `j` is a CJK ideograph (lead byte E4..=E9, U+4000..=U+9FFF) or
/// one of the CJK punctuation marks U+3001, U+3002, U+3008..=U+3011 (bytes
/// E3 80 81/82/88..=91), all of them three bytes long: NFKC leaves them alone and they
/// never compose. Decided from the bytes: Chinese text is mostly these, and decoding each
/// one cost more than the rest of the fold.
#[inline]
fn stable_cjk_at(b: &[u8], j: usize) -> bool {
    match b.get(j) {
        Some(0xe4..=0xe9) => true,
        Some(0xe3) => {
            b.get(j + 1) == Some(&0x80) && matches!(b.get(j + 2), Some(0x81 | 0x82 | 0x88..=0x91))
        }
        _ => false,
    }
}

/// The lowercase of the Latin-1 letter at `i` (U+00C0..=U+00FF: C3 80..=BF), German,
/// French and Spanish text's `ü é ñ ß`. NFKC leaves them alone (their decompositions are
/// canonical, and they are composed); a combining mark after one is no byte path's and
/// sends the text to the exact path. `×` and `÷` are no letters but as stable.
#[inline]
fn latin1_letter_at(b: &[u8], i: usize) -> Option<char> {
    match (b.get(i), b.get(i + 1)) {
        (Some(0xc3), Some(&t @ 0x80..=0xbf)) => {
            let c = char::from_u32(0xc0 + u32::from(t - 0x80)).expect("U+00C0..=U+00FF");
            // U+00C0..=U+00DE lowercase 0x20 on, except `×` (U+00D7); the rest are lower.
            Some(match c {
                '\u{c0}'..='\u{de}' if c != '\u{d7}' => {
                    char::from_u32(c as u32 + 0x20).expect("Latin-1")
                }
                _ => c,
            })
        }
        _ => None,
    }
}

/// The ASCII character that the full-width form at `i` (U+FF01..=U+FF5E: EF BC 81..=BF,
/// EF BD 80..=9E) stands for, as [`fullwidth_to_ascii`] maps it.
#[inline]
fn fullwidth_ascii_at(b: &[u8], i: usize) -> Option<u8> {
    match (b.get(i), b.get(i + 1), b.get(i + 2)) {
        (Some(0xef), Some(0xbc), Some(&t @ 0x81..=0xbf)) => Some(0x20 + (t - 0x80)),
        (Some(0xef), Some(0xbd), Some(&t @ 0x80..=0x9e)) => Some(0x60 + (t - 0x80)),
        _ => None,
    }
}

/// U+FF01..=U+FF5E → U+0021..=U+007E, U+3000 → U+0020: their NFKC decompositions.
#[inline]
fn fullwidth_to_ascii(c: char) -> char {
    match c {
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// End of the run of ASCII text that starts before `i`: the first blank at or after `i`
/// that is not a lone space followed by a non-blank, or `b.len()`.
///
/// Eight bytes at a time: per byte, exact masks of "below 0x20" (every blank but the space
/// is) and "is a space", and of the same for the next byte (an unaligned load one byte on),
/// say whether the word holds a run end; only then are its bytes looked at one by one.
#[inline]
fn run_end(b: &[u8], mut i: usize) -> usize {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // High bit of each byte of `w` that is below 0x20. No carry crosses bytes:
    // (x & 0x7f) + 0x60 <= 0xdf.
    let below_space = |w: u64| !((w & LOW7) + 0x6060_6060_6060_6060) & !w & HIGH;
    // High bit of each byte of `w` that is 0x20.
    let is_space = |w: u64| {
        let t = w ^ 0x2020_2020_2020_2020;
        !(((t & LOW7) + LOW7) | t) & HIGH
    };
    while let Some(chunk) = b.get(i..i + 9) {
        let w = u64::from_le_bytes(chunk[..8].try_into().expect("eight bytes"));
        let next = u64::from_le_bytes(chunk[1..].try_into().expect("eight bytes"));
        // A blank other than a space, or a space followed by any blank.
        if below_space(w) | (is_space(w) & (is_space(next) | below_space(next))) != 0 {
            break;
        }
        i += 8;
    }
    while i < b.len() {
        if !is_ascii_space(b[i]) {
            // A control character that is not a blank is part of the run.
            i += 1;
        } else if b[i] == b' ' && i + 1 < b.len() && !is_ascii_space(b[i + 1]) {
            i += 2;
        } else {
            break;
        }
    }
    i
}

struct Folder<'a> {
    out: &'a mut String,
    pending_space: bool,
    start: usize,
}

impl Folder<'_> {
    #[inline]
    fn space_before_next(&mut self) {
        if self.pending_space && self.out.len() > self.start {
            self.out.push(' ');
        }
        self.pending_space = false;
    }

    /// Folds ASCII text. A lone space between two visible characters folds to itself, so
    /// text is copied in runs that end only at other blanks (newlines, tabs, double
    /// spaces), then lowercased in place. Run ends are found eight bytes at a time
    /// ([`run_end`]); a byte at a time cost three times as much.
    fn push_ascii(&mut self, text: &str) {
        let b = text.as_bytes();
        self.out.reserve(b.len());
        let mut i = 0;
        while i < b.len() {
            if is_ascii_space(b[i]) {
                self.pending_space = true;
                i += 1;
                continue;
            }
            let j = run_end(b, i + 1);
            self.space_before_next();
            let at = self.out.len();
            self.out.push_str(&text[i..j]);
            self.out[at..].make_ascii_lowercase();
            i = j;
        }
    }

    #[inline]
    fn push_char(&mut self, c: char) {
        if c.is_ascii() {
            let b = c as u8;
            if is_ascii_space(b) {
                self.pending_space = true;
            } else {
                self.space_before_next();
                self.out.push(char::from(b.to_ascii_lowercase()));
            }
            return;
        }
        // CJK ideographs and kana: neither space nor cased.
        if ('\u{3040}'..='\u{9fff}').contains(&c) {
            self.space_before_next();
            self.out.push(c);
            return;
        }
        if c.is_whitespace() {
            self.pending_space = true;
            return;
        }
        self.space_before_next();
        // Not `is_uppercase`: title-case letters (ǅ) lowercase too.
        self.out.extend(c.to_lowercase());
    }
}

/// Owned form of [`dedup_normalize_into`].
pub fn dedup_normalize(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    dedup_normalize_into(text, &mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The fast paths agree with the definition: NFKC, lowercase, collapse spaces.
        #[test]
        fn fast_paths_match_the_definition(s in "[a-zA-Z0-9.,!@ \u{000b}\r\u{3000}-\u{30ff}\u{4e00}-\u{4e40}\u{ff01}-\u{ff5e}\u{00c0}-\u{017f}\u{0300}-\u{0310}\t\n]{0,40}") {
            proptest::prop_assert_eq!(dedup_normalize(&s), slow(&s));
        }

        /// The word-at-a-time run scan on long ASCII text: blanks of every kind, single
        /// and doubled, control characters that are not blanks, at any offset in a word.
        #[test]
        fn ascii_runs_match_the_definition(s in "(?:[a-zA-Z]{1,11}[ \t\n\r\u{000b}\u{000c}\u{0001}\u{001f}]{0,2}){0,24}") {
            proptest::prop_assert_eq!(dedup_normalize(&s), slow(&s));
        }
    }

    proptest::proptest! {
        /// Mixed text: ASCII runs long enough for the word-at-a-time paths, between CJK
        /// ideographs and punctuation, full-width forms, a combining mark (which sends the
        /// text to the exact path) and a Latin letter.
        #[test]
        fn mixed_runs_match_the_definition(s in "(?:[a-zA-Z \t\n]{0,14}[\u{4e00}-\u{4e10}\u{3000}-\u{3012}\u{ff01}-\u{ff5e}\u{3099}\u{00c9}\u{00e9}]{0,3}){0,12}") {
            proptest::prop_assert_eq!(dedup_normalize(&s), slow(&s));
        }
    }

    /// The definition, one character at a time.
    fn slow(s: &str) -> String {
        let mut out = String::new();
        let mut pending = false;
        for c in s.nfkc() {
            if c.is_whitespace() {
                pending = true;
            } else {
                if pending && !out.is_empty() {
                    out.push(' ');
                }
                pending = false;
                out.extend(c.to_lowercase());
            }
        }
        out
    }

    #[test]
    fn latin1_letters_take_the_byte_path_as_the_definition_says() {
        let all: String = ('\u{c0}'..='\u{ff}').collect();
        assert_eq!(dedup_normalize(&all), slow(&all));
        assert_eq!(
            dedup_normalize("GRÜẞE Ünd Straße"),
            slow("GRÜẞE Ünd Straße")
        );
        // A combining mark after a Latin-1 letter composes: the exact path takes it.
        assert_eq!(dedup_normalize("u\u{308} ü\u{304}"), "ü ǖ");
    }

    #[test]
    fn folds_case_width_and_space() {
        assert_eq!(dedup_normalize("  Hello \t\n World  "), "hello world");
        assert_eq!(dedup_normalize("ＨＥＬＬＯ　世界"), "hello 世界");
        assert_eq!(dedup_normalize("Straße"), "straße");
        assert_eq!(dedup_normalize(""), "");
        assert_eq!(dedup_normalize("Ｅ＝ｍｃ² \u{2003}Ǆ"), "e=mc2 dž");
        assert_eq!(dedup_normalize("中文\t Text\u{00a0}Ä"), "中文 text ä");
        assert_eq!(dedup_normalize("你好，世界！\u{3000}ＯＫ"), "你好,世界! ok");
    }
}
