//! Reading lines without ever holding more than `max` bytes of one: a line longer than the
//! limit is skipped to its end and reported by length, so a 10 GB line costs no memory.

use std::io::{self, BufRead};

/// What [`LineReader::next`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineItem {
    /// A line, now in the caller's buffer (without its `\n`).
    Line {
        /// 1-based line number.
        line: u64,
        /// Byte offset of the line in the decompressed stream.
        offset: u64,
    },
    /// A line longer than the limit; its bytes were skipped.
    TooLong {
        /// 1-based line number.
        line: u64,
        /// Byte offset of the line in the decompressed stream.
        offset: u64,
        /// Its length in bytes.
        len: u64,
    },
}

/// Splits a buffered stream into bounded lines.
pub struct LineReader {
    max: usize,
    line: u64,
    offset: u64,
}

impl LineReader {
    /// A reader that refuses lines over `max` bytes.
    pub fn new(max: usize) -> Self {
        LineReader {
            max,
            line: 0,
            offset: 0,
        }
    }

    /// Lines read so far.
    pub fn lines(&self) -> u64 {
        self.line
    }

    /// Decompressed bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Reads the next line into `buf` (cleared first). `Ok(None)` at end of stream.
    pub fn next(&mut self, r: &mut dyn BufRead, buf: &mut Vec<u8>) -> io::Result<Option<LineItem>> {
        buf.clear();
        let start = self.offset;
        let mut len: u64 = 0;
        let mut too_long = false;
        loop {
            let chunk = match r.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                if len == 0 {
                    return Ok(None);
                }
                break;
            }
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            if !too_long && buf.len() + take > self.max {
                too_long = true;
                buf.clear();
            }
            if !too_long {
                buf.extend_from_slice(&chunk[..take]);
            }
            len += take as u64;
            let consumed = take + usize::from(done);
            r.consume(consumed);
            self.offset += consumed as u64;
            if done {
                break;
            }
        }
        self.line += 1;
        Ok(Some(if too_long {
            LineItem::TooLong {
                line: self.line,
                offset: start,
                len,
            }
        } else {
            LineItem::Line {
                line: self.line,
                offset: start,
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_lines() {
        let data = b"ab\n\nxxxxxxxxxx\nlast";
        let mut r = io::BufReader::with_capacity(3, &data[..]);
        let mut lr = LineReader::new(4);
        let mut buf = Vec::new();
        let mut got = Vec::new();
        while let Some(item) = lr.next(&mut r, &mut buf).unwrap() {
            got.push((item, String::from_utf8(buf.clone()).unwrap()));
        }
        assert_eq!(
            got,
            vec![
                (LineItem::Line { line: 1, offset: 0 }, "ab".into()),
                (LineItem::Line { line: 2, offset: 3 }, "".into()),
                (
                    LineItem::TooLong {
                        line: 3,
                        offset: 4,
                        len: 10
                    },
                    "".into()
                ),
                (
                    LineItem::Line {
                        line: 4,
                        offset: 15
                    },
                    "last".into()
                ),
            ]
        );
    }
}
