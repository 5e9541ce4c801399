//! Text normalization for deduplication: Unicode NFKC, lowercase, whitespace collapsed.
//!
//! Two texts that differ only in width forms (`ＡＢＣ`/`ABC`), case or spacing normalize to
//! the same string and so count as duplicates.

use unicode_normalization::UnicodeNormalization;

/// Appends the dedup normalization of `text` to `out`: NFKC, then lowercase, then every run
/// of whitespace as one space, with no leading or trailing space.
pub fn dedup_normalize_into(text: &str, out: &mut String) {
    let mut pending_space = false;
    let start = out.len();
    let mut push = |c: char, out: &mut String| {
        if c.is_whitespace() {
            pending_space = true;
        } else {
            if pending_space && out.len() > start {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        }
    };
    if text.is_ascii() {
        // NFKC and lowercase are trivial on ASCII: skip the iterator machinery.
        for b in text.bytes() {
            push(char::from(b.to_ascii_lowercase()), out);
        }
        return;
    }
    for c in text.nfkc() {
        if c.is_uppercase() {
            for l in c.to_lowercase() {
                push(l, out);
            }
        } else {
            push(c, out);
        }
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

    #[test]
    fn folds_case_width_and_space() {
        assert_eq!(dedup_normalize("  Hello \t\n World  "), "hello world");
        assert_eq!(dedup_normalize("ＨＥＬＬＯ　世界"), "hello 世界");
        assert_eq!(dedup_normalize("Straße"), "straße");
        assert_eq!(dedup_normalize(""), "");
    }
}
