//! Workers: parse, scrub and fingerprint one batch. Pure functions of the batch, the rules
//! and the key; run in parallel on rayon threads with per-thread scratch space.

use std::ops::Range;

use arrow_array::RecordBatch;

use super::pool::Buffers;
use super::read::{Batch, FileEnd, Item, ItemKind, Payload};
use super::{reason, OutputFormat};
use crate::columnar;
use crate::dedup::Fingerprinter;
use crate::json::{self, RecordError};
use crate::minhash::{MinHasher, Signature, Sketch};
use crate::normalize::dedup_normalize_into;
use crate::scrub::{ScrubScratch, Scrubber};
use crate::select::{label_of, PathSeg, Selection};

pub(crate) struct Reject {
    pub file: u32,
    pub line: u64,
    pub offset: u64,
    pub reason: &'static str,
    pub message: String,
    /// The raw record scrubbed as plain text; `None` when it was not kept.
    pub text: Option<String>,
}

/// One good record of a processed batch.
pub(crate) struct OutRec {
    /// Line (1-based) or row (0-based) in its file.
    pub ordinal: u64,
    /// End of its bytes in [`Body::Lines`] (exclusive).
    pub end: usize,
    /// Keyed dedup fingerprint (0 when dedup is off).
    pub fp: u128,
    /// End of its rule ids in [`Processed::rules`].
    pub rules_end: usize,
    /// End of its band hashes in [`Processed::bands`] (none without near-dup).
    pub bands_end: usize,
    /// Its MinHash sketch, when it has band hashes.
    pub sketch: Option<Sketch>,
    /// Its top-level `id` as JSON text, for the dedup report.
    pub id: Option<String>,
}

/// The scrubbed records of a batch, in the output format.
pub(crate) enum Body {
    /// JSON lines, each ending in `\n`.
    Lines(Vec<u8>),
    /// Arrow rows, one per [`OutRec`].
    Rows(RecordBatch),
    /// Parsed JSON records bound for Parquet output.
    Values(Vec<serde_json::Value>),
}

pub(crate) struct Processed {
    pub file: u32,
    pub body: Body,
    pub recs: Vec<OutRec>,
    pub rules: Vec<u32>,
    pub bands: Vec<u64>,
    pub rejects: Vec<Reject>,
    pub records_read: u64,
    pub blank: u64,
    pub bytes_in: u64,
    pub end: Option<FileEnd>,
}

/// What the workers share (read-only).
pub(crate) struct Worker<'a> {
    pub bufs: &'a Buffers,
    pub scrubber: &'a Scrubber,
    pub fingerprinter: &'a Fingerprinter,
    pub scan: Selection,
    pub dedup: Option<Selection>,
    pub dedup_on: bool,
    pub max_record: u64,
    pub format: OutputFormat,
    pub minhasher: Option<&'a MinHasher>,
    pub want_id: bool,
}

pub(crate) struct Scratch {
    scrub: ScrubScratch,
    found: Vec<u32>,
    /// A record's replaced strings (span, new value), reused from record to record.
    edits: Vec<(Range<usize>, String)>,
    content: Content,
    norm: String,
    sig: Signature,
}

/// The dedup content of one record, gathered while its strings go by.
#[derive(Default)]
struct Content {
    has_text: bool,
    text: String,
    messages: String,
    all: String,
}

const FIELD_SEP: char = '\u{1e}';

fn push_field(buf: &mut String, v: &str) {
    if !buf.is_empty() {
        buf.push(FIELD_SEP);
    }
    buf.push_str(v);
}

impl Content {
    fn clear(&mut self) {
        self.has_text = false;
        self.text.clear();
        self.messages.clear();
        self.all.clear();
    }

    /// Notes one string value (already scrubbed if it was scanned).
    fn add(&mut self, dedup: Option<&Selection>, scanned: bool, path: &[PathSeg<'_>], value: &str) {
        match dedup {
            Some(sel) => {
                if sel.selects(path) {
                    push_field(&mut self.all, value);
                }
            }
            None => {
                let is = |seg: &PathSeg<'_>, name: &str| seg.key().is_some_and(|k| k == name);
                match path {
                    [t] if is(t, "text") => {
                        self.has_text = true;
                        push_field(&mut self.text, value);
                    }
                    [m, PathSeg::Index(_), c] if is(m, "messages") && is(c, "content") => {
                        push_field(&mut self.messages, value);
                    }
                    _ => {}
                }
                if scanned {
                    push_field(&mut self.all, value);
                }
            }
        }
    }

    /// `--dedup-field` content, else `text` when the record has it, else the messages'
    /// contents, else every scanned string.
    fn pick(&self, explicit: bool) -> &str {
        if explicit {
            &self.all
        } else if self.has_text {
            &self.text
        } else if !self.messages.is_empty() {
            &self.messages
        } else {
            &self.all
        }
    }
}

impl Worker<'_> {
    pub fn scratch(&self) -> Scratch {
        Scratch {
            scrub: self.scrubber.scratch(),
            found: Vec::new(),
            edits: Vec::new(),
            content: Content::default(),
            norm: String::new(),
            sig: Signature::new(),
        }
    }

    pub fn process(&self, b: Batch, s: &mut Scratch) -> Processed {
        let mut p = Processed {
            file: b.file,
            body: match self.format {
                OutputFormat::Jsonl => Body::Lines(Vec::new()),
                OutputFormat::Parquet => Body::Values(Vec::new()),
            },
            recs: Vec::new(),
            rules: Vec::new(),
            bands: Vec::new(),
            rejects: Vec::new(),
            records_read: 0,
            blank: 0,
            bytes_in: 0,
            end: b.end,
        };
        match b.payload {
            Payload::Lines { data, items } => {
                self.lines(b.file, &data, items, s, &mut p);
                self.bufs.bytes.give(data);
            }
            Payload::Rows { first_row, batch } => self.rows(b.file, first_row, &batch, s, &mut p),
            Payload::Problems(items) => {
                for item in items {
                    self.problem(b.file, item, &mut p);
                }
            }
        }
        p
    }

    fn problem(&self, file: u32, item: Item, p: &mut Processed) {
        let (reason, message) = match item.kind {
            ItemKind::TooLong(len) => {
                p.records_read += 1;
                (
                    reason::TOO_LARGE,
                    format!(
                        "record of {len} bytes exceeds --max-record-bytes {}",
                        self.max_record
                    ),
                )
            }
            ItemKind::ReadError(msg) => (
                reason::TRUNCATED,
                format!("stream ends early or is corrupt after this point: {msg}"),
            ),
            ItemKind::EmptyFile => (reason::EMPTY_FILE, "the file holds no records".to_string()),
            ItemKind::BadParquet(msg) => (reason::CORRUPT_PARQUET, msg),
            ItemKind::Line(_) => unreachable!("lines are records, not problems"),
        };
        p.rejects.push(Reject {
            file,
            line: item.line,
            offset: item.offset,
            reason,
            message,
            text: None,
        });
    }

    fn lines(&self, file: u32, data: &[u8], items: Vec<Item>, s: &mut Scratch, p: &mut Processed) {
        p.bytes_in = data.len() as u64;
        let mut out = self.bufs.bytes.take(data.len() + data.len() / 8);
        let mut values = Vec::new();
        let mut items = items;
        for item in items.drain(..) {
            let ItemKind::Line(range) = &item.kind else {
                self.problem(file, item, p);
                continue;
            };
            let bytes = &data[range.clone()];
            if bytes.iter().all(u8::is_ascii_whitespace) {
                p.blank += 1;
                continue;
            }
            p.records_read += 1;
            let start = out.len();
            let scrubbed = self.record(bytes, s, &mut out).and_then(|fp| {
                if self.format == OutputFormat::Parquet {
                    values.push(json::to_value(&out[start..])?);
                }
                Ok(fp)
            });
            match scrubbed {
                Ok(fp) => {
                    // From the scrubbed record: the report must not hold an `id` that the
                    // shard itself no longer holds.
                    let id = self.want_id.then(|| top_level_id(&out[start..])).flatten();
                    if self.format == OutputFormat::Parquet {
                        out.truncate(start);
                    } else {
                        out.push(b'\n');
                    }
                    p.rules.append(&mut s.found);
                    let sketch = self.near(&s.norm, &mut s.sig, &mut p.bands);
                    p.recs.push(OutRec {
                        ordinal: item.line,
                        end: out.len(),
                        fp,
                        rules_end: p.rules.len(),
                        bands_end: p.bands.len(),
                        sketch,
                        id,
                    });
                }
                Err(e) => {
                    out.truncate(start);
                    let text = self.scrub_reject(bytes, s);
                    p.rejects.push(Reject {
                        file,
                        line: item.line,
                        offset: item.offset,
                        reason: e.code(),
                        message: e.to_string(),
                        text,
                    });
                }
            }
        }
        self.bufs.items.give(items);
        p.body = match self.format {
            OutputFormat::Jsonl => Body::Lines(out),
            OutputFormat::Parquet => {
                self.bufs.bytes.give(out);
                Body::Values(values)
            }
        };
    }

    /// Scrubs one JSON record into `out` (without its newline); returns its fingerprint.
    /// Rule ids of replaced values are left in `s.found`.
    fn record(
        &self,
        bytes: &[u8],
        s: &mut Scratch,
        out: &mut Vec<u8>,
    ) -> Result<u128, RecordError> {
        let text = json::validate(bytes)?;
        s.found.clear();
        s.content.clear();
        let mut path = Vec::with_capacity(8);
        let Scratch {
            scrub,
            found,
            edits,
            content,
            ..
        } = s;
        edits.clear();
        let matched = json::walk(text, &self.scan, &mut path, &mut |v| {
            let scanned = self.scan.selects(v.path);
            let label = label_of(v.path, v.key);
            let replaced = scanned
                && match self
                    .scrubber
                    .scrub_labeled(label.as_deref(), &v.value, scrub, found)
                {
                    Some(new) => {
                        edits.push((v.span, new));
                        true
                    }
                    None => false,
                };
            // Keys are scrubbed but are not content: dedup compares values.
            if self.dedup_on && !v.key {
                let value = if replaced {
                    &edits[edits.len() - 1].1
                } else {
                    &*v.value
                };
                content.add(self.dedup.as_ref(), scanned, v.path, value);
            }
        })?;
        if !matched {
            return Err(RecordError::MissingField);
        }
        if edits.is_empty() {
            out.extend_from_slice(bytes);
        } else {
            json::splice(text, edits, out);
        }
        Ok(self.fingerprint(&s.content, &mut s.norm))
    }

    /// MinHash of the normalized content left in `norm` by [`Worker::fingerprint`]:
    /// appends the band hashes and returns the sketch (none for text without a shingle).
    fn near(&self, norm: &str, sig: &mut Signature, bands: &mut Vec<u64>) -> Option<Sketch> {
        let hasher = self.minhasher?;
        hasher.signature(norm, sig);
        if sig.is_empty() {
            return None;
        }
        bands.extend_from_slice(sig.band_hashes());
        Some(sig.sketch())
    }

    /// The exact-dedup fingerprint of a record's content, leaving its normalized form in
    /// `norm` for [`Worker::near`]; 0 with dedup off.
    fn fingerprint(&self, content: &Content, norm: &mut String) -> u128 {
        if !self.dedup_on {
            return 0;
        }
        norm.clear();
        dedup_normalize_into(content.pick(self.dedup.is_some()), norm);
        self.fingerprinter.fingerprint(norm)
    }

    fn rows(
        &self,
        file: u32,
        first_row: u64,
        batch: &RecordBatch,
        s: &mut Scratch,
        p: &mut Processed,
    ) {
        p.bytes_in = batch.get_array_memory_size() as u64;
        let n = batch.num_rows();
        p.records_read = n as u64;
        // Rule ids per row: the rewrite visits rows in order.
        let mut row_rules: Vec<(usize, u32)> = Vec::new();
        // Per row: fingerprint, end of its band hashes in `bands`, sketch.
        let mut fps: Vec<(u128, usize, Option<Sketch>)> = Vec::new();
        let clean = {
            let Scratch {
                scrub,
                found,
                content,
                norm,
                sig,
                ..
            } = s;
            content.clear();
            let mut cur = 0usize;
            // A row's content is complete: its fingerprint, band hashes and sketch, as for
            // a JSON record.
            let mut row_done = |content: &mut Content| {
                let fp = self.fingerprint(content, norm);
                let sketch = self.near(norm, sig, &mut p.bands);
                fps.push((fp, p.bands.len(), sketch));
                content.clear();
            };
            // With dedup on, every string is visited: the unscanned ones are content too,
            // as in a JSON record. Content is the scrubbed value under the path as read,
            // the one JSON records use, so that `--field` and `--dedup-field` judge a map's
            // values under its keys as written even where a key is scrubbed.
            let all = Selection::all();
            let visit = if self.dedup_on { &all } else { &self.scan };
            let rewritten =
                columnar::rewrite_strings(batch, visit, &mut |row, path, value, key| {
                    let scanned = !self.dedup_on || self.scan.selects(path);
                    let out = if scanned {
                        found.clear();
                        // Map keys are scrubbed like values (and counted), as JSON object
                        // keys are.
                        let label = label_of(path, key);
                        let out =
                            self.scrubber
                                .scrub_labeled(label.as_deref(), value, scrub, found);
                        row_rules.extend(found.iter().map(|&r| (row, r)));
                        out
                    } else {
                        None
                    };
                    if self.dedup_on {
                        while cur < row {
                            row_done(content);
                            cur += 1;
                        }
                        // Keys are scrubbed but are not content, as in `record`: dedup
                        // compares values.
                        if !key {
                            let v = out.as_deref().unwrap_or(value);
                            content.add(self.dedup.as_ref(), scanned, path, v);
                        }
                    }
                    out
                });
            if rewritten.is_ok() && self.dedup_on {
                while cur < n {
                    row_done(content);
                    cur += 1;
                }
            }
            rewritten
        };
        let clean = match clean {
            Ok(c) => c,
            Err(e) => {
                p.records_read = n as u64;
                p.rejects.push(Reject {
                    file,
                    line: first_row,
                    offset: 0,
                    reason: reason::CORRUPT_PARQUET,
                    message: format!(
                        "rows {first_row}..{}: cannot rebuild the batch: {e}",
                        first_row + n as u64
                    ),
                    text: None,
                });
                return;
            }
        };
        let mut rr = row_rules.into_iter().peekable();
        // Returned to the pool by the ordered side, like the lines of a JSONL batch.
        let mut lines = self.bufs.bytes.take(0);
        for row in 0..n {
            while let Some(&(r, rule)) = rr.peek() {
                if r != row {
                    break;
                }
                p.rules.push(rule);
                rr.next();
            }
            if self.format == OutputFormat::Jsonl {
                columnar::json::write_row(&clean, row, &mut lines)
                    .expect("Arrow rows convert to JSON");
                lines.push(b'\n');
            }
            let (fp, bands_end, sketch) = fps.get(row).copied().unwrap_or((0, p.bands.len(), None));
            p.recs.push(OutRec {
                ordinal: first_row + row as u64,
                end: lines.len(),
                fp,
                rules_end: p.rules.len(),
                bands_end,
                sketch,
                id: None,
            });
        }
        p.body = match self.format {
            OutputFormat::Jsonl => Body::Lines(lines),
            OutputFormat::Parquet => Body::Rows(clean),
        };
    }

    /// The text a reject keeps: the record with every string scrubbed, when the line is
    /// JSON (not an object, or without the selected fields). A line that is not UTF-8 or
    /// not JSON keeps none: it is often one record cut into lines by raw newlines, where a
    /// value can sit on a line apart from the words that mark it (a PEM body, a password
    /// after its label), or text in another encoding whose words a lossy decode breaks,
    /// so no scrubbing of it can be trusted. Its file, line and offset find it.
    fn scrub_reject(&self, bytes: &[u8], s: &mut Scratch) -> Option<String> {
        let text = json::validate(bytes).ok()?;
        let mut ignored = Vec::new();
        let mut edits = Vec::new();
        let mut path = Vec::new();
        json::walk(text, &Selection::all(), &mut path, &mut |v| {
            let label = label_of(v.path, v.key);
            if let Some(new) =
                self.scrubber
                    .scrub_labeled(label.as_deref(), &v.value, &mut s.scrub, &mut ignored)
            {
                edits.push((v.span, new));
            }
        })
        .ok()?;
        let mut out = Vec::with_capacity(text.len());
        json::splice(text, &edits, &mut out);
        Some(String::from_utf8(out).expect("spliced JSON is UTF-8"))
    }
}

/// The record's top-level `id` as JSON text (for the dedup report), if it has one.
fn top_level_id(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct IdOnly<'a> {
        #[serde(borrow)]
        id: Option<&'a serde_json::value::RawValue>,
    }
    let parsed: IdOnly<'_> = serde_json::from_slice(bytes).ok()?;
    parsed.id.map(|v| v.get().to_string())
}
