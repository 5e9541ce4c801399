//! JSON records: validation, a walker over string values with their paths and byte spans,
//! and a splice-based rewriter.
//!
//! A record is never parsed into a DOM and serialized again. The walker reports each string
//! value's raw byte span in the line; the rewriter copies the line and splices in only the
//! strings that changed. Key order, number spelling, spacing and every untouched byte stay
//! as they were, and a record with no detection is written out byte for byte.

use std::borrow::Cow;
use std::ops::Range;

use serde::de::IgnoredAny;

use crate::select::{PathSeg, Selection};

/// Why a line is not an acceptable record. Messages name positions, never content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// The bytes are not UTF-8; `offset` is the first bad byte within the line.
    InvalidUtf8 {
        /// Byte offset within the line.
        offset: usize,
    },
    /// Not valid JSON.
    InvalidJson {
        /// serde_json's description, which names line and column but never the data.
        reason: String,
    },
    /// Valid JSON, but not an object.
    NotObject,
    /// A selector names a value that is a number or a boolean, not a string.
    FieldNotString {
        /// The path, as selector text.
        path: String,
    },
    /// None of the selectors matched anything in the record.
    MissingField,
}

impl RecordError {
    /// A stable, machine-readable reason code (used in the manifest and rejects).
    pub fn code(&self) -> &'static str {
        match self {
            RecordError::InvalidUtf8 { .. } => "invalid_utf8",
            RecordError::InvalidJson { .. } => "invalid_json",
            RecordError::NotObject => "not_object",
            RecordError::FieldNotString { .. } => "field_not_string",
            RecordError::MissingField => "missing_field",
        }
    }
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordError::InvalidUtf8 { offset } => {
                write!(f, "invalid UTF-8 at byte {offset} of the line")
            }
            RecordError::InvalidJson { reason } => write!(f, "invalid JSON: {reason}"),
            RecordError::NotObject => f.write_str("the line is JSON but not an object"),
            RecordError::FieldNotString { path } => {
                write!(f, "selected field `{path}` is not a string")
            }
            RecordError::MissingField => f.write_str("none of the selected fields is present"),
        }
    }
}

/// Checks that `line` is UTF-8 and one JSON object, and returns it as `&str`.
pub fn validate(line: &[u8]) -> Result<&str, RecordError> {
    // Every line passes here, so the SIMD check (several times faster than the standard
    // library's on text that is not all ASCII) takes the common case; the standard one
    // runs only on a bad line, for the offset the error names.
    let text = match simdutf8::basic::from_utf8(line) {
        Ok(text) => text,
        Err(_) => std::str::from_utf8(line).map_err(|e| RecordError::InvalidUtf8 {
            offset: e.valid_up_to(),
        })?,
    };
    let first = text.bytes().find(|b| !b.is_ascii_whitespace());
    serde_json::from_str::<IgnoredAny>(text).map_err(|e| RecordError::InvalidJson {
        reason: json_reason(&e),
    })?;
    if first != Some(b'{') {
        return Err(RecordError::NotObject);
    }
    Ok(text)
}

/// Parses a record that [`validate`] accepted into a tree, for Parquet output. JSON allows
/// a number no double can hold (`1e999`); Parquet output cannot take it, so such a record
/// is an error here, not a crash.
pub fn to_value(text: &[u8]) -> Result<serde_json::Value, RecordError> {
    serde_json::from_slice(text).map_err(|e| {
        let reason = if e.to_string().starts_with("number out of range") {
            format!(
                "number out of range of a 64-bit float at column {}",
                e.column()
            )
        } else {
            json_reason(&e)
        };
        RecordError::InvalidJson { reason }
    })
}

/// serde_json's message without any quoted input: its syntax errors only name a position,
/// but be defensive and keep only the category and position.
fn json_reason(e: &serde_json::Error) -> String {
    let what = match e.classify() {
        serde_json::error::Category::Eof => "unexpected end of input",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "data error",
        serde_json::error::Category::Io => "read error",
    };
    format!("{what} at column {}", e.column())
}

/// Deepest nesting of objects and arrays accepted in a record.
pub const MAX_DEPTH: usize = 128;

/// One string value found by [`walk`].
pub struct StringValue<'a, 'p> {
    /// Where it is.
    pub path: &'p [PathSeg<'a>],
    /// Byte span of the JSON string literal in the line, quotes included.
    pub span: Range<usize>,
    /// The decoded value.
    pub value: Cow<'a, str>,
    /// An object key rather than a value: `path` is then the path of the object holding
    /// it. Keys can hold data too (`{"alice@example.com": 3}`).
    pub key: bool,
}

/// Calls `f` for every string value and object key of the (already validated) JSON
/// `text`, in document order, a key just before its value. Keys also name their values in
/// paths. Returns whether any selector of `sel` names a value in the record (always true
/// for "all strings").
///
/// Keys that contain escapes are matched against selectors decoded.
pub fn walk<'a>(
    text: &'a str,
    sel: &Selection,
    path: &mut Vec<PathSeg<'a>>,
    f: &mut dyn FnMut(StringValue<'a, '_>),
) -> Result<bool, RecordError> {
    path.clear();
    let mut w = Walker {
        text,
        b: text.as_bytes(),
        sel,
        matched: sel.is_all(),
    };
    let pos = w.ws(0);
    w.value(pos, path, f)?;
    Ok(w.matched)
}

struct Walker<'a, 's> {
    text: &'a str,
    b: &'a [u8],
    sel: &'s Selection,
    matched: bool,
}

impl<'a> Walker<'a, '_> {
    fn ws(&self, mut i: usize) -> usize {
        while i < self.b.len() && matches!(self.b[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        i
    }

    /// End (exclusive) of the string literal starting at `i` (a `"`), and whether it has escapes.
    /// Jumps between quotes and backslashes with `memchr2`: string values are most of a
    /// record's bytes.
    fn string_end(&self, i: usize) -> (usize, bool) {
        let mut j = i + 1;
        let mut escaped = false;
        loop {
            let k = j + memchr::memchr2(b'"', b'\\', &self.b[j..])
                .expect("a validated string literal is closed");
            if self.b[k] == b'"' {
                return (k + 1, escaped);
            }
            escaped = true;
            j = k + 2;
        }
    }

    /// The decoded content of the string literal at `span` (quotes included).
    fn decode(&self, span: Range<usize>, escaped: bool) -> Result<Cow<'a, str>, RecordError> {
        let raw = &self.text[span];
        if !escaped {
            return Ok(Cow::Borrowed(&raw[1..raw.len() - 1]));
        }
        serde_json::from_str::<String>(raw)
            .map(Cow::Owned)
            .map_err(|e| RecordError::InvalidJson {
                reason: json_reason(&e),
            })
    }

    fn note_exact(&mut self, path: &[PathSeg<'a>]) {
        if !self.matched && self.sel.names_exactly(path) {
            self.matched = true;
        }
    }

    fn value(
        &mut self,
        i: usize,
        path: &mut Vec<PathSeg<'a>>,
        f: &mut dyn FnMut(StringValue<'a, '_>),
    ) -> Result<usize, RecordError> {
        // serde_json's validation of `IgnoredAny` has no depth limit; this recursion does.
        if path.len() >= MAX_DEPTH {
            return Err(RecordError::InvalidJson {
                reason: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
        }
        match self.b[i] {
            b'{' => {
                self.note_exact(path);
                let mut j = self.ws(i + 1);
                if self.b[j] == b'}' {
                    return Ok(j + 1);
                }
                loop {
                    let (kend, escaped) = self.string_end(j);
                    let key = &self.text[j + 1..kend - 1];
                    f(StringValue {
                        path,
                        span: j..kend,
                        value: self.decode(j..kend, escaped)?,
                        key: true,
                    });
                    j = self.ws(kend);
                    j = self.ws(j + 1); // ':'
                    path.push(if escaped {
                        PathSeg::EscapedKey(key)
                    } else {
                        PathSeg::Key(key)
                    });
                    j = self.value(j, path, f)?;
                    path.pop();
                    j = self.ws(j);
                    if self.b[j] == b',' {
                        j = self.ws(j + 1);
                    } else {
                        return Ok(j + 1); // '}'
                    }
                }
            }
            b'[' => {
                self.note_exact(path);
                let mut j = self.ws(i + 1);
                if self.b[j] == b']' {
                    return Ok(j + 1);
                }
                let mut idx = 0;
                loop {
                    path.push(PathSeg::Index(idx));
                    j = self.value(j, path, f)?;
                    path.pop();
                    idx += 1;
                    j = self.ws(j);
                    if self.b[j] == b',' {
                        j = self.ws(j + 1);
                    } else {
                        return Ok(j + 1); // ']'
                    }
                }
            }
            b'"' => {
                self.note_exact(path);
                let (end, escaped) = self.string_end(i);
                f(StringValue {
                    path,
                    span: i..end,
                    value: self.decode(i..end, escaped)?,
                    key: false,
                });
                Ok(end)
            }
            c => {
                let mut j = i;
                while j < self.b.len()
                    && !matches!(self.b[j], b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
                {
                    j += 1;
                }
                if c != b'n' && self.sel.names_exactly(path) {
                    return Err(RecordError::FieldNotString {
                        path: render_path(path),
                    });
                }
                if c == b'n' {
                    self.note_exact(path);
                }
                Ok(j)
            }
        }
    }
}

/// Renders a path as selector text (`messages[2].content`), for messages.
pub fn render_path(path: &[PathSeg<'_>]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            PathSeg::Key(_) | PathSeg::EscapedKey(_) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(&seg.key().unwrap_or_default());
            }
            PathSeg::Index(i) => {
                s.push('[');
                s.push_str(&i.to_string());
                s.push(']');
            }
        }
    }
    s
}

/// Writes `line` to `out` with each `(span, new value)` edit spliced in as a JSON string.
/// `edits` must be sorted by span and non-overlapping (as [`walk`] produces them).
pub fn splice(line: &str, edits: &[(Range<usize>, String)], out: &mut Vec<u8>) {
    let mut last = 0;
    for (span, value) in edits {
        out.extend_from_slice(&line.as_bytes()[last..span.start]);
        write_json_string(value, out);
        last = span.end;
    }
    out.extend_from_slice(&line.as_bytes()[last..]);
}

/// Appends `s` as a JSON string literal, escaped exactly as serde_json escapes it: `"`, `\`
/// and control characters, nothing else. Whole runs of bytes that need no escape are copied
/// at once, found eight bytes at a time: a scrubbed record rewrites whole text fields.
pub fn write_json_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut run = 0;
    let mut i = 0;
    while i < b.len() {
        i = next_escape(b, i);
        if i == b.len() {
            break;
        }
        out.extend_from_slice(&b[run..i]);
        let c = b[i];
        let short = match c {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            0x08 => Some(b'b'),
            0x0c => Some(b'f'),
            b'\n' => Some(b'n'),
            b'\r' => Some(b'r'),
            b'\t' => Some(b't'),
            _ => None,
        };
        match short {
            Some(e) => out.extend_from_slice(&[b'\\', e]),
            None => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(c >> 4)],
                HEX[usize::from(c & 0xf)],
            ]),
        }
        i += 1;
        run = i;
    }
    out.extend_from_slice(&b[run..]);
    out.push(b'"');
}

/// Index of the first byte at or after `i` that JSON requires escaped (`"`, `\`, below
/// 0x20), or `b.len()`.
#[inline]
fn next_escape(b: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Nonzero when some byte of `w` is zero (exact as a yes/no test).
    let zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGH;
    while let Some(chunk) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        // Bytes below 0x20, or equal to `"` or `\`; bytes >= 0x80 never test positive.
        let hit = (w.wrapping_sub(ONES * 0x20) & !w & HIGH)
            | zero(w ^ (ONES * u64::from(b'"')))
            | zero(w ^ (ONES * u64::from(b'\\')));
        if hit != 0 {
            break;
        }
        i += 8;
    }
    while i < b.len() && !(b[i] < 0x20 || b[i] == b'"' || b[i] == b'\\') {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(line: &str, sel: &Selection) -> Result<(bool, Vec<(String, String)>), RecordError> {
        let text = validate(line.as_bytes())?;
        let mut path = Vec::new();
        let mut got = Vec::new();
        let m = walk(text, sel, &mut path, &mut |v| {
            if !v.key {
                got.push((render_path(v.path), v.value.into_owned()))
            }
        })?;
        Ok((m, got))
    }

    #[test]
    fn keys_are_reported_before_their_values_with_the_object_path() {
        let line = r#"{"a\u0040b.c":{"k":"v"}}"#;
        let text = validate(line.as_bytes()).unwrap();
        let mut got = Vec::new();
        walk(text, &Selection::all(), &mut Vec::new(), &mut |v| {
            got.push((v.key, render_path(v.path), v.value.into_owned(), v.span))
        })
        .unwrap();
        assert_eq!(
            got,
            vec![
                (true, "".into(), "a@b.c".into(), 1..13),
                // Paths hold keys decoded, as selectors name them.
                (true, "a@b.c".into(), "k".into(), 15..18),
                (false, "a@b.c.k".into(), "v".into(), 19..22),
            ]
        );
    }

    #[test]
    fn walks_nested_strings_in_order() {
        let line = r#"{"id":7,"text":"hi \"you\"","messages":[{"role":"user","content":"a\nb"}],"n":null,"e":[],"o":{}}"#;
        let (_, got) = strings(line, &Selection::all()).unwrap();
        assert_eq!(
            got,
            vec![
                ("text".into(), "hi \"you\"".into()),
                ("messages[0].role".into(), "user".into()),
                ("messages[0].content".into(), "a\nb".into()),
            ]
        );
    }

    /// The SIMD check and the standard library's agree, and a bad line's error names the
    /// offset where valid UTF-8 ends, past long valid runs of ASCII and of CJK.
    #[test]
    fn utf8_errors_name_the_offset() {
        let mut line = b"{\"a\":\"".to_vec();
        line.extend("数据".repeat(40).as_bytes());
        line.extend(b"x".repeat(100));
        let bad_at = line.len();
        line.extend(b"\xe6\x95\"}");
        let err = validate(&line).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("invalid UTF-8 at byte {bad_at} of the line")
        );
        let mut good = b"{\"a\":\"".to_vec();
        good.extend("数据ü".repeat(40).as_bytes());
        good.extend(b"\"}");
        assert!(validate(&good).is_ok());
    }

    proptest::proptest! {
        /// On any bytes, the line is accepted as UTF-8 exactly when the standard library
        /// accepts it, and a rejection names its offset.
        #[test]
        fn utf8_check_agrees_with_std(body in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let mut line = b"{\"a\":\"".to_vec();
            line.extend(body.iter().map(|&b| if b == b'"' || b == b'\\' { b'x' } else { b }));
            line.extend(b"\"}");
            match std::str::from_utf8(&line) {
                Ok(_) => {
                    let utf8_error = matches!(validate(&line), Err(RecordError::InvalidUtf8 { .. }));
                    proptest::prop_assert!(!utf8_error, "valid UTF-8 rejected as invalid");
                }
                Err(e) => proptest::prop_assert_eq!(
                    validate(&line).unwrap_err().to_string(),
                    format!("invalid UTF-8 at byte {} of the line", e.valid_up_to())
                ),
            }
        }
    }

    #[test]
    fn classifies_bad_lines() {
        assert_eq!(validate(b"[1,2]").unwrap_err().code(), "not_object");
        assert_eq!(validate(b"{\"a\":").unwrap_err().code(), "invalid_json");
        assert_eq!(
            validate(b"{\"a\":\"\xff\"}").unwrap_err().code(),
            "invalid_utf8"
        );
        let sel = Selection::parse(&["n"]).unwrap();
        assert_eq!(
            strings(r#"{"n":5}"#, &sel).unwrap_err().code(),
            "field_not_string"
        );
        assert!(
            !strings(r#"{"m":"x"}"#, &sel).unwrap().0,
            "no selector matched"
        );
        assert!(
            strings(r#"{"n":null}"#, &sel).unwrap().0,
            "null counts as present"
        );
    }

    #[test]
    fn splice_keeps_everything_else() {
        let line = r#"{ "b" : 1.50e3, "t":"x y", "z":[ "k" ] }"#;
        let text = validate(line.as_bytes()).unwrap();
        let mut edits = Vec::new();
        let mut path = Vec::new();
        walk(text, &Selection::all(), &mut path, &mut |v| {
            if v.value == "x y" {
                edits.push((v.span, "<T>\"q\"".to_string()));
            }
        })
        .unwrap();
        let mut out = Vec::new();
        splice(line, &edits, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{ "b" : 1.50e3, "t":"<T>\"q\"", "z":[ "k" ] }"#
        );
    }

    proptest::proptest! {
        /// The run-copying writer is serde_json's escaping, byte for byte: shards written
        /// before and after it compare equal.
        #[test]
        fn string_writer_matches_serde_json(s in "(?s)[\\x00-\\x7f\u{80}-\u{7ff}\u{4e00}-\u{4e20}\"\\\\]{0,40}") {
            let mut out = Vec::new();
            write_json_string(&s, &mut out);
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&s).unwrap());
        }

        /// The memchr walk finds the same string ends as a byte-by-byte scan, escapes included.
        #[test]
        fn walk_reads_back_what_serde_json_wrote(vals in proptest::collection::vec("(?s)[\\x00-\\x7f\u{4e00}-\u{4e08}\"\\\\]{0,24}", 1..6)) {
            let line = serde_json::to_string(&vals).unwrap();
            let text = validate(format!("{{\"k\":{line}}}").as_bytes()).map(str::to_string).unwrap();
            let mut got = Vec::new();
            let mut path = Vec::new();
            walk(&text, &Selection::all(), &mut path, &mut |v| {
                if !v.key {
                    got.push(v.value.into_owned());
                }
            })
            .unwrap();
            proptest::prop_assert_eq!(got, vals);
        }
    }

    #[test]
    fn deep_nesting_is_rejected_not_a_stack_overflow() {
        let line = "{\"a\":".to_string() + &"[".repeat(100_000) + &"]".repeat(100_000) + "}";
        assert_eq!(
            strings(&line, &Selection::all()).unwrap_err().code(),
            "invalid_json"
        );
    }
}
