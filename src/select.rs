//! Field selectors: which string values of a record are scanned or deduplicated.
//!
//! Grammar: segments joined by `.`; a segment is a key, optionally followed by `[*]` (every
//! element of an array) or `[N]` (element N), any number of times; `["a.b"]` quotes a key
//! that holds `.` or `[`. Examples: `text`, `meta.author`, `messages[*].content`.
//!
//! A selector selects the value at its path and every string beneath it: `meta` selects
//! `meta.author` and `meta.tags[3]`. The same selectors apply to JSON records and to
//! Parquet columns (struct fields are keys, list elements are indices, map values are named
//! by their keys). A JSON object key or a string map key has the path of its object or map,
//! so `meta` selects the keys of `meta`, `meta.author` does not.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// One step of a path inside a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathSeg<'a> {
    /// An object key, struct field or map key.
    Key(&'a str),
    /// A JSON object key written with escapes (`te\u0078t`), as written between its
    /// quotes. Selectors compare it decoded: an escape must not take a value out of
    /// `--field`.
    EscapedKey(&'a str),
    /// An array or list index.
    Index(usize),
}

impl PathSeg<'_> {
    /// The key as a string: decoded for [`PathSeg::EscapedKey`]; `None` for an index.
    pub fn key(&self) -> Option<std::borrow::Cow<'_, str>> {
        match self {
            PathSeg::Key(k) => Some(std::borrow::Cow::Borrowed(k)),
            PathSeg::EscapedKey(raw) => serde_json::from_str::<String>(&format!("\"{raw}\""))
                .ok()
                .map(std::borrow::Cow::Owned),
            PathSeg::Index(_) => None,
        }
    }
}

/// The label a value stands under: the nearest key or field name that holds it, past list
/// indices (`{"phones": ["…"]}`); an object key itself (`key`) has none. See
/// [`crate::scrub::Scrubber::scrub_labeled`].
pub fn label_of<'p>(path: &'p [PathSeg<'_>], key: bool) -> Option<std::borrow::Cow<'p, str>> {
    if key {
        return None;
    }
    path.iter().rev().find_map(PathSeg::key)
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    Key(String),
    AnyIndex,
    Index(usize),
}

/// A parsed selector.
#[derive(Clone, PartialEq, Eq)]
pub struct Selector {
    segs: Vec<Seg>,
    source: String,
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Selector({})", self.source)
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl FromStr for Selector {
    type Err = Error;

    fn from_str(s: &str) -> Result<Selector, Error> {
        let err = |reason: &str| Error::Selector {
            selector: s.to_string(),
            reason: reason.to_string(),
        };
        let b = s.as_bytes();
        let mut segs = Vec::new();
        let mut i = 0;
        let mut expect_key = true;
        while i < b.len() {
            match b[i] {
                b'[' => {
                    let close = s[i..].find(']').ok_or_else(|| err("unclosed `[`"))? + i;
                    let inner = &s[i + 1..close];
                    if inner == "*" {
                        segs.push(Seg::AnyIndex);
                    } else if let Some(q) =
                        inner.strip_prefix('"').and_then(|x| x.strip_suffix('"'))
                    {
                        segs.push(Seg::Key(q.to_string()));
                    } else {
                        let n = inner
                            .parse()
                            .map_err(|_| err("expected `[*]`, `[N]` or `[\"key\"]`"))?;
                        segs.push(Seg::Index(n));
                    }
                    i = close + 1;
                    expect_key = false;
                }
                b'.' => {
                    if expect_key {
                        return Err(err("empty key"));
                    }
                    i += 1;
                    expect_key = true;
                }
                _ => {
                    if !expect_key {
                        return Err(err("expected `.` or `[` between segments"));
                    }
                    let end = s[i..].find(['.', '[']).map_or(b.len(), |e| e + i);
                    segs.push(Seg::Key(s[i..end].to_string()));
                    i = end;
                    expect_key = false;
                }
            }
        }
        if segs.is_empty() || expect_key {
            return Err(err("empty selector or trailing `.`"));
        }
        Ok(Selector {
            segs,
            source: s.to_string(),
        })
    }
}

impl Selector {
    /// How `path` relates to this selector.
    pub fn relate(&self, path: &[PathSeg<'_>]) -> Relation {
        let n = self.segs.len().min(path.len());
        for (s, p) in self.segs[..n].iter().zip(&path[..n]) {
            let ok = match (s, p) {
                (Seg::Key(k), PathSeg::Key(q)) => k == q,
                (Seg::Key(k), p @ PathSeg::EscapedKey(_)) => p.key().is_some_and(|q| *k == q),
                (Seg::AnyIndex, PathSeg::Index(_)) => true,
                (Seg::Index(i), PathSeg::Index(j)) => i == j,
                _ => false,
            };
            if !ok {
                return Relation::None;
            }
        }
        match path.len().cmp(&self.segs.len()) {
            std::cmp::Ordering::Less => Relation::Ancestor,
            std::cmp::Ordering::Equal => Relation::Exact,
            std::cmp::Ordering::Greater => Relation::Inside,
        }
    }
}

/// How a path relates to a selector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    /// Unrelated.
    None,
    /// The path leads towards the selected value (worth descending into).
    Ancestor,
    /// The path is the selected value.
    Exact,
    /// The path is beneath the selected value.
    Inside,
}

/// A set of selectors; empty means "every string".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    selectors: Vec<Selector>,
}

impl Selection {
    /// Every string value.
    pub fn all() -> Selection {
        Selection::default()
    }

    /// These selectors.
    pub fn new(selectors: Vec<Selector>) -> Selection {
        Selection { selectors }
    }

    /// Parses each string.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Selection, Error> {
        items
            .iter()
            .map(|s| s.as_ref().parse())
            .collect::<Result<Vec<_>, _>>()
            .map(Selection::new)
    }

    /// True when this selects every string.
    pub fn is_all(&self) -> bool {
        self.selectors.is_empty()
    }

    /// The selectors.
    pub fn selectors(&self) -> &[Selector] {
        &self.selectors
    }

    /// Is the value at `path` selected (the path is, or is beneath, a selector)?
    pub fn selects(&self, path: &[PathSeg<'_>]) -> bool {
        self.is_all()
            || self
                .selectors
                .iter()
                .any(|s| matches!(s.relate(path), Relation::Exact | Relation::Inside))
    }

    /// Does `path` name a selector exactly?
    pub fn names_exactly(&self, path: &[PathSeg<'_>]) -> bool {
        self.selectors
            .iter()
            .any(|s| s.relate(path) == Relation::Exact)
    }

    /// Could anything at or beneath `path` be selected?
    pub fn may_select_within(&self, path: &[PathSeg<'_>]) -> bool {
        self.is_all()
            || self
                .selectors
                .iter()
                .any(|s| s.relate(path) != Relation::None)
    }
}

#[cfg(test)]
mod tests {
    use super::PathSeg::{Index as I, Key as K};
    use super::*;

    fn sel(s: &str) -> Selector {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_matches() {
        let s = sel("messages[*].content");
        assert_eq!(
            s.relate(&[K("messages"), I(3), K("content")]),
            Relation::Exact
        );
        assert_eq!(s.relate(&[K("messages"), I(3)]), Relation::Ancestor);
        assert_eq!(s.relate(&[K("messages"), I(3), K("role")]), Relation::None);
        assert_eq!(
            sel("meta").relate(&[K("meta"), K("author")]),
            Relation::Inside
        );
        assert_eq!(sel("a[1]").relate(&[K("a"), I(0)]), Relation::None);
        assert_eq!(
            sel("[\"a.b\"].c").relate(&[K("a.b"), K("c")]),
            Relation::Exact
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["", ".a", "a.", "a..b", "a[", "a[x]", "a[*]b"] {
            assert!(bad.parse::<Selector>().is_err(), "{bad}");
        }
    }

    #[test]
    fn selection_all_selects_everything() {
        assert!(Selection::all().selects(&[K("x"), I(0)]));
        let s = Selection::parse(&["text"]).unwrap();
        assert!(s.selects(&[K("text")]));
        assert!(!s.selects(&[K("id")]));
        assert!(s.may_select_within(&[]));
    }
}
