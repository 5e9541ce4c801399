//! Width folding: the view of a text that detection scans.
//!
//! Chinese and Japanese text often writes numbers, e-mail addresses and codes in
//! full-width forms (`电话：１３８００１３８０００`, `ａｂｃ＠ｅｘａｍｐｌｅ．ｃｏｍ`), and
//! text copied from web pages and word processors separates digit groups with no-break or
//! ideographic spaces. The rules are written for ASCII; rather than double every class of
//! every pattern, detection scans a folded copy in which those characters are their ASCII
//! selves, and maps what it finds back to the original's byte offsets. A value's
//! pseudonym is keyed by its folded form, so `１３８…` and `138…` get the same one.
//!
//! Only characters that stand for an ASCII character inside a value are folded: the
//! full-width digits, letters, `＠ ＋ － ． ＿`, the ideographic space and the no-break
//! space. Full-width punctuation that rules already name (`：，（）！`) is left as written.

use std::borrow::Cow;

/// The ASCII character that `c` stands for, if detection should read it as one.
#[inline]
pub fn fold_char(c: char) -> Option<char> {
    match c {
        '\u{ff10}'..='\u{ff19}'
        | '\u{ff20}'..='\u{ff3a}'
        | '\u{ff41}'..='\u{ff5a}'
        | '\u{ff0b}'
        | '\u{ff0d}'
        | '\u{ff0e}'
        | '\u{ff3f}' => char::from_u32(c as u32 - 0xfee0),
        '\u{3000}' | '\u{a0}' => Some(' '),
        _ => None,
    }
}

/// Does `text` hold a character that [`fold_char`] folds? Looks only at the lead bytes
/// those characters can start with (`0xEF`, `0xE3`, `0xC2`), so ASCII and CJK ideographs
/// (lead bytes `0xE4`–`0xE9`) pass at `memchr` speed.
pub fn needs_fold(text: &str) -> bool {
    first_fold(text).is_some()
}

/// Byte offset of the first character that folds.
fn first_fold(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    memchr::memchr3_iter(0xef, 0xe3, 0xc2, b).find(|&i| {
        // `i` is a lead byte: the three cannot be continuation bytes (`0x80`–`0xBF`).
        text[i..].chars().next().and_then(fold_char).is_some()
    })
}

/// The folded view of `text`, borrowed when nothing folds.
pub fn fold(text: &str) -> Cow<'_, str> {
    match first_fold(text) {
        None => Cow::Borrowed(text),
        Some(_) => Cow::Owned(text.chars().map(|c| fold_char(c).unwrap_or(c)).collect()),
    }
}

/// Writes the folded view of `text` to `out` and, in `map`, the byte offset in `text` of
/// each byte offset of `out`, plus one entry for `out.len()` (so that a span's end maps
/// too). Returns false, writing nothing, when nothing folds.
pub fn fold_with_map(text: &str, out: &mut String, map: &mut Vec<usize>) -> bool {
    let Some(first) = first_fold(text) else {
        return false;
    };
    out.clear();
    map.clear();
    out.push_str(&text[..first]);
    map.extend(0..first);
    for (i, c) in text[first..].char_indices() {
        let at = first + i;
        match fold_char(c) {
            Some(a) => {
                out.push(a);
                map.push(at);
            }
            None => {
                out.push(c);
                map.extend(at..at + c.len_utf8());
            }
        }
    }
    map.push(text.len());
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folds_digits_letters_and_spaces_only() {
        assert_eq!(
            fold("电话：１３８\u{3000}００１３\u{a0}８０００，ａｂｃ＠ｘ．ｃｏｍ（Ｘ）"),
            "电话：138 0013 8000，abc@x.com（X）"
        );
        assert!(matches!(fold("电话：13800138000。"), Cow::Borrowed(_)));
        // Lead bytes of folded characters, starting characters that do not fold.
        assert!(!needs_fold("「你好」、。，：¡～"));
    }

    #[test]
    fn map_points_at_the_original_characters() {
        let text = "a１b\u{a0}中ｃ";
        let (mut out, mut map) = (String::new(), Vec::new());
        assert!(fold_with_map(text, &mut out, &mut map));
        assert_eq!(out, "a1b 中c");
        assert_eq!(map.len(), out.len() + 1);
        assert_eq!(&text[map[1]..map[2]], "１");
        assert_eq!(&text[map[3]..map[4]], "\u{a0}");
        assert_eq!(&text[map[4]..map[7]], "中");
        assert_eq!(&text[map[7]..map[8]], "ｃ");
    }

    fn mixed() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "a", "Z", "7", "@", ".", " ", "，", "：", "。", "中", "é", "１", "ｚ", "Ｑ", "＠",
            "．", "－", "＋", "＿", "\u{3000}", "\u{a0}", "\u{3002}", "\u{ff0c}", "\u{ff5e}",
        ]);
        prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        /// Every span of whole characters of the folded text maps back to the span of the
        /// original that folds to it.
        #[test]
        fn spans_map_back(text in mixed()) {
            let (mut out, mut map) = (String::new(), Vec::new());
            if !fold_with_map(&text, &mut out, &mut map) {
                prop_assert!(!needs_fold(&text));
                prop_assert_eq!(fold(&text), text.as_str());
                return Ok(());
            }
            prop_assert_eq!(out.as_str(), fold(&text));
            prop_assert_eq!(map.len(), out.len() + 1);
            let cuts: Vec<usize> = out.char_indices().map(|(i, _)| i).chain([out.len()]).collect();
            for (k, &s) in cuts.iter().enumerate() {
                for &e in &cuts[k..] {
                    let orig = &text[map[s]..map[e]];
                    prop_assert_eq!(fold(orig), &out[s..e]);
                }
            }
        }
    }
}
