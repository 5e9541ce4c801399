//! The run: read → scrub → deduplicate → write → manifest.
//!
//! ```text
//! reader thread ──bounded channel──▶ window of batches ──rayon──▶ scrubbed batches
//!   (files in order,                                             │ in input order
//!    lines in bounded batches)                                   ▼
//!                      shards ◀── ordered writes ◀──rayon── compress ◀── dedup + shard split
//! ```
//!
//! Every decision that shapes the output (batch boundaries, which duplicate survives, where
//! a shard ends, frame boundaries) depends only on the input, never on thread timing, so
//! the bytes are identical for any `--threads`. Memory is bounded by the window: a few
//! batches of at most [`BATCH_BYTES`] per thread.

use std::collections::BTreeMap;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::dedup::{ExactDedup, Fingerprinter};
use crate::detect::Detector;
use crate::error::{Error, Result};
use crate::input::{self, Decoded, InputFile, LineItem, LineReader};
use crate::json::{self, RecordError};
use crate::manifest::{self, InputEntry, Manifest, RejectLocation, RejectsEntry, Totals};
use crate::normalize::dedup_normalize_into;
use crate::output::{self, JsonlShards, OutCompression};
use crate::pseudonym::{Key, Pseudonymizer, Style};
use crate::rules::RuleSet;
use crate::scrub::{Detections, ScrubScratch, Scrubber};
use crate::select::{PathSeg, Selection};

/// A batch is cut once it holds this many bytes of input lines.
pub const BATCH_BYTES: usize = 2 << 20;
/// … or this many lines.
pub const BATCH_LINES: usize = 16 * 1024;

/// Every setting that affects the output. Serialized into the manifest and hashed, so two
/// runs with the same `config_sha256`, inputs and key wrote the same bytes.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct RunConfig {
    /// Input paths as given.
    pub inputs: Vec<PathBuf>,
    /// `--field` selectors; empty = every string.
    pub fields: Vec<String>,
    /// Exact deduplication on.
    pub dedup: bool,
    /// `--dedup-field` selectors; empty = the default rule (`text`, else
    /// `messages[*].content`, else every scanned string).
    pub dedup_fields: Vec<String>,
    /// Token style.
    pub style: Style,
    /// `builtin` or the `--patterns` folder.
    pub patterns: String,
    /// Uncompressed bytes after which a shard is closed.
    pub shard_size: u64,
    /// Shard compression.
    pub compression: OutCompression,
    /// zstd level.
    pub zstd_level: i32,
    /// Longest record accepted, in bytes.
    pub max_record_bytes: u64,
}

/// Settings that do not affect the output bytes.
#[derive(Clone, Debug)]
pub struct Runtime {
    /// Worker threads.
    pub threads: usize,
    /// Show a progress line on stderr.
    pub progress: bool,
    /// Replace a previous run's output in the folder.
    pub overwrite: bool,
}

/// Reason codes of rejected records, as written to the manifest and rejects file.
pub mod reason {
    /// The line is longer than `--max-record-bytes`.
    pub const TOO_LARGE: &str = "record_too_large";
    /// The compressed stream ended early or is corrupt.
    pub const TRUNCATED: &str = "truncated_stream";
    /// The file holds no records.
    pub const EMPTY_FILE: &str = "empty_file";
}

// ---- reader thread: files in order, cut into bounded batches ------------------------------

enum ItemKind {
    Line(Range<usize>),
    TooLong(u64),
    ReadError(String),
    EmptyFile,
}

struct Item {
    line: u64,
    offset: u64,
    kind: ItemKind,
}

struct FileEnd {
    bytes: u64,
    sha256: String,
}

struct Batch {
    file: u32,
    data: Vec<u8>,
    items: Vec<Item>,
    end: Option<FileEnd>,
}

fn read_files(
    files: Vec<InputFile>,
    max_record: usize,
    tx: crossbeam_channel::Sender<Result<Batch>>,
) {
    let mut line = Vec::new();
    for file in files {
        let mut dec = match Decoded::open(&file) {
            Ok(d) => d,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        let mut lr = LineReader::new(max_record);
        let new_batch = || Batch {
            file: file.index,
            data: Vec::with_capacity(BATCH_BYTES + (64 << 10)),
            items: Vec::new(),
            end: None,
        };
        let mut batch = new_batch();
        loop {
            match lr.next(dec.reader(), &mut line) {
                Ok(None) => break,
                Ok(Some(LineItem::Line { line: n, offset })) => {
                    let start = batch.data.len();
                    batch.data.extend_from_slice(&line);
                    batch.items.push(Item {
                        line: n,
                        offset,
                        kind: ItemKind::Line(start..batch.data.len()),
                    });
                }
                Ok(Some(LineItem::TooLong {
                    line: n,
                    offset,
                    len,
                })) => batch.items.push(Item {
                    line: n,
                    offset,
                    kind: ItemKind::TooLong(len),
                }),
                Err(e) => {
                    batch.items.push(Item {
                        line: lr.lines() + 1,
                        offset: lr.offset(),
                        kind: ItemKind::ReadError(e.to_string()),
                    });
                    break;
                }
            }
            if batch.data.len() >= BATCH_BYTES || batch.items.len() >= BATCH_LINES {
                let full = std::mem::replace(&mut batch, new_batch());
                if tx.send(Ok(full)).is_err() {
                    return;
                }
            }
        }
        if lr.lines() == 0 && batch.items.is_empty() {
            batch.items.push(Item {
                line: 0,
                offset: 0,
                kind: ItemKind::EmptyFile,
            });
        }
        match dec.finish() {
            Ok((bytes, sha256)) => batch.end = Some(FileEnd { bytes, sha256 }),
            Err(e) => {
                let _ = tx.send(Err(Error::io(&file.path, e)));
                return;
            }
        }
        if tx.send(Ok(batch)).is_err() {
            return;
        }
    }
}

// ---- workers: parse, scrub, fingerprint ---------------------------------------------------

struct Reject {
    file: u32,
    line: u64,
    offset: u64,
    reason: &'static str,
    message: String,
    /// The raw line scrubbed as plain text; `None` when it was not kept (too large).
    text: Option<String>,
}

struct OutRec {
    end: usize,
    fp: u128,
    /// End of this record's rule ids in [`Processed::rules`].
    rules_end: usize,
}

struct Processed {
    file: u32,
    out: Vec<u8>,
    recs: Vec<OutRec>,
    /// Rule index of every value replaced, record after record: counted only for the
    /// records that survive deduplication.
    rules: Vec<u32>,
    rejects: Vec<Reject>,
    records_read: u64,
    blank: u64,
    bytes_in: u64,
    end: Option<FileEnd>,
}

/// What the workers share (read-only).
struct Worker<'a> {
    scrubber: &'a Scrubber,
    fingerprinter: &'a Fingerprinter,
    scan: Selection,
    dedup: Option<Selection>,
    dedup_on: bool,
    max_record: u64,
}

struct Scratch {
    scrub: ScrubScratch,
    record_counts: Detections,
    text_buf: String,
    msg_buf: String,
    all_buf: String,
    norm: String,
}

const FIELD_SEP: char = '\u{1e}';

impl Worker<'_> {
    fn scratch(&self) -> Scratch {
        Scratch {
            scrub: self.scrubber.scratch(),
            record_counts: Detections::default(),
            text_buf: String::new(),
            msg_buf: String::new(),
            all_buf: String::new(),
            norm: String::new(),
        }
    }

    fn process(&self, b: Batch, s: &mut Scratch) -> Processed {
        let mut p = Processed {
            file: b.file,
            out: Vec::with_capacity(b.data.len() + b.data.len() / 8),
            recs: Vec::with_capacity(b.items.len()),
            rules: Vec::new(),
            rejects: Vec::new(),
            records_read: 0,
            blank: 0,
            bytes_in: b.data.len() as u64,
            end: b.end,
        };
        for item in b.items {
            let reject = |reason: &'static str, message: String, text: Option<String>| Reject {
                file: b.file,
                line: item.line,
                offset: item.offset,
                reason,
                message,
                text,
            };
            match item.kind {
                ItemKind::Line(range) => {
                    let bytes = &b.data[range];
                    if bytes.iter().all(u8::is_ascii_whitespace) {
                        p.blank += 1;
                        continue;
                    }
                    p.records_read += 1;
                    match self.record(bytes, s, &mut p.out) {
                        Ok(fp) => {
                            p.out.push(b'\n');
                            for (rule, &n) in s.record_counts.by_rule.iter().enumerate() {
                                p.rules.extend(std::iter::repeat_n(rule as u32, n as usize));
                            }
                            p.recs.push(OutRec {
                                end: p.out.len(),
                                fp,
                                rules_end: p.rules.len(),
                            });
                        }
                        Err(e) => {
                            let text = self.scrub_plain(bytes, s);
                            p.rejects.push(reject(e.code(), e.to_string(), Some(text)));
                        }
                    }
                }
                ItemKind::TooLong(len) => {
                    p.records_read += 1;
                    p.rejects.push(reject(
                        reason::TOO_LARGE,
                        format!(
                            "record of {len} bytes exceeds --max-record-bytes {}",
                            self.max_record
                        ),
                        None,
                    ));
                }
                ItemKind::ReadError(msg) => p.rejects.push(reject(
                    reason::TRUNCATED,
                    format!("stream ends early or is corrupt after this point: {msg}"),
                    None,
                )),
                ItemKind::EmptyFile => p.rejects.push(reject(
                    reason::EMPTY_FILE,
                    "the file holds no records".into(),
                    None,
                )),
            }
        }
        p
    }

    /// Scrubs one record into `out` (without its newline); returns its dedup fingerprint.
    fn record(
        &self,
        bytes: &[u8],
        s: &mut Scratch,
        out: &mut Vec<u8>,
    ) -> Result<u128, RecordError> {
        let text = json::validate(bytes)?;
        s.record_counts.by_rule.iter_mut().for_each(|c| *c = 0);
        s.text_buf.clear();
        s.msg_buf.clear();
        s.all_buf.clear();
        let mut edits: Vec<(Range<usize>, String)> = Vec::new();
        let mut path = Vec::with_capacity(8);
        let mut has_text = false;
        let Scratch {
            scrub,
            record_counts,
            text_buf,
            msg_buf,
            all_buf,
            ..
        } = s;
        let matched = json::walk(text, &self.scan, &mut path, &mut |v| {
            let scanned = self.scan.selects(v.path);
            let mut value = v.value;
            if scanned {
                if let Some(new) = self.scrubber.scrub(&value, scrub, record_counts) {
                    value = std::borrow::Cow::Owned(new.clone());
                    edits.push((v.span, new));
                }
            }
            if !self.dedup_on {
                return;
            }
            let push = |buf: &mut String, v: &str| {
                if !buf.is_empty() {
                    buf.push(FIELD_SEP);
                }
                buf.push_str(v);
            };
            match &self.dedup {
                Some(sel) => {
                    if sel.selects(v.path) {
                        push(all_buf, &value);
                    }
                }
                None => {
                    if matches!(v.path, [PathSeg::Key("text")]) {
                        has_text = true;
                        push(text_buf, &value);
                    } else if matches!(
                        v.path,
                        [
                            PathSeg::Key("messages"),
                            PathSeg::Index(_),
                            PathSeg::Key("content")
                        ]
                    ) {
                        push(msg_buf, &value);
                    }
                    if scanned {
                        push(all_buf, &value);
                    }
                }
            }
        })?;
        if !matched {
            return Err(RecordError::MissingField);
        }
        if edits.is_empty() {
            out.extend_from_slice(bytes);
        } else {
            json::splice(text, &edits, out);
        }
        if !self.dedup_on {
            return Ok(0);
        }
        let content = if self.dedup.is_some() {
            &s.all_buf
        } else if has_text {
            &s.text_buf
        } else if !s.msg_buf.is_empty() {
            &s.msg_buf
        } else {
            &s.all_buf
        };
        s.norm.clear();
        dedup_normalize_into(content, &mut s.norm);
        Ok(self.fingerprinter.fingerprint(&s.norm))
    }

    /// A rejected line scrubbed as plain text, so rejects hold no raw values either.
    fn scrub_plain(&self, bytes: &[u8], s: &mut Scratch) -> String {
        let lossy = String::from_utf8_lossy(bytes);
        let mut ignored = Detections::default();
        self.scrubber
            .scrub(&lossy, &mut s.scrub, &mut ignored)
            .unwrap_or_else(|| lossy.into_owned())
    }
}

// ---- the run ------------------------------------------------------------------------------

/// Prepares `dir` for a run: creates it, and refuses a non-empty folder unless `overwrite`
/// is set, in which case only files a previous run wrote are removed.
pub fn prepare_output(dir: &Path, overwrite: bool) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut ours = Vec::new();
    let mut foreign = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_ours = name == manifest::FILE_NAME
            || name == "rejects"
            || name == "dedup-report.jsonl"
            || name.starts_with("part-")
            || (name.starts_with('.') && name.ends_with(".tmp"));
        if is_ours {
            ours.push(entry.path());
        } else {
            foreign.push(name);
        }
    }
    if ours.is_empty() && foreign.is_empty() {
        return Ok(());
    }
    if !overwrite {
        return Err(Error::Output {
            path: dir.to_path_buf(),
            reason: "output folder is not empty; pass --overwrite to replace a previous run".into(),
        });
    }
    if !foreign.is_empty() {
        return Err(Error::Output {
            path: dir.to_path_buf(),
            reason: format!(
                "output folder holds {} file(s) scrubline did not write (e.g. `{}`); refusing to overwrite",
                foreign.len(),
                foreign[0]
            ),
        });
    }
    for p in ours {
        let r = if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
        r.map_err(|e| Error::io(&p, e))?;
    }
    Ok(())
}

struct Rejects {
    dir: PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
    hasher: sha2::Sha256,
    entry: RejectsEntry,
}

impl Rejects {
    fn add(&mut self, r: &Reject, file_path: &str) -> Result<()> {
        use sha2::Digest;
        let path = self.dir.join("rejects").join("rejects.jsonl");
        if self.file.is_none() {
            let dir = self.dir.join("rejects");
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            let tmp = output::temp_path(&path);
            let f = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
            self.file = Some(std::io::BufWriter::new(f));
        }
        #[derive(Serialize)]
        struct Line<'a> {
            file: u32,
            path: &'a str,
            line: u64,
            byte_offset: u64,
            reason: &'a str,
            message: &'a str,
            text: Option<&'a str>,
        }
        let mut line = serde_json::to_vec(&Line {
            file: r.file,
            path: file_path,
            line: r.line,
            byte_offset: r.offset,
            reason: r.reason,
            message: &r.message,
            text: r.text.as_deref(),
        })
        .expect("reject serializes");
        line.push(b'\n');
        self.hasher.update(&line);
        let f = self.file.as_mut().expect("opened above");
        f.write_all(&line).map_err(|e| Error::io(&path, e))?;
        self.entry.records += 1;
        *self
            .entry
            .by_reason
            .entry(r.reason.to_string())
            .or_default() += 1;
        if self.entry.locations.len() < manifest::MAX_LISTED_REJECTS {
            self.entry.locations.push(RejectLocation {
                file: r.file,
                line: r.line,
                reason: r.reason.to_string(),
            });
        }
        Ok(())
    }

    fn finish(mut self) -> Result<RejectsEntry> {
        use sha2::Digest;
        if let Some(f) = self.file.take() {
            let path = self.dir.join("rejects").join("rejects.jsonl");
            let tmp = output::temp_path(&path);
            let f = f
                .into_inner()
                .map_err(|e| Error::io(&tmp, e.into_error()))?;
            f.sync_all().map_err(|e| Error::io(&tmp, e))?;
            std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
            self.entry.path = Some("rejects/rejects.jsonl".into());
            self.entry.sha256 = Some(hex::encode(self.hasher.finalize()));
        }
        Ok(self.entry)
    }
}

/// Runs the whole job and returns the manifest it wrote.
pub fn run(cfg: &RunConfig, rt: &Runtime, rules: &RuleSet, key: &Key) -> Result<Manifest> {
    run_into(cfg, rt, rules, key, None)
}

/// [`run`] with the output folder given separately from the config (the folder is not part
/// of the configuration hash: moving an output does not change what it is).
pub fn run_into(
    cfg: &RunConfig,
    rt: &Runtime,
    rules: &RuleSet,
    key: &Key,
    out_dir: Option<&Path>,
) -> Result<Manifest> {
    let started_at = manifest::now_rfc3339();
    let out_dir = out_dir.ok_or_else(|| Error::Config("no output folder".into()))?;
    let files = input::discover(&cfg.inputs)?;
    prepare_output(out_dir, rt.overwrite)?;

    let scan = Selection::parse(&cfg.fields)?;
    let dedup_sel = if cfg.dedup_fields.is_empty() {
        None
    } else {
        Some(Selection::parse(&cfg.dedup_fields)?)
    };
    let detector = Detector::new(rules)?;
    let scrubber = Scrubber::new(detector, Pseudonymizer::new(key, cfg.style));
    let fingerprinter = Fingerprinter::new(key);
    let worker = Worker {
        scrubber: &scrubber,
        fingerprinter: &fingerprinter,
        scan,
        dedup: dedup_sel,
        dedup_on: cfg.dedup,
        max_record: cfg.max_record_bytes,
    };

    let threads = rt.threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Config(format!("thread pool: {e}")))?;
    let window = (threads * 3).max(4);
    let (tx, rx) = crossbeam_channel::bounded(window * 2);
    let reader_files = files.clone();
    let max_record = usize::try_from(cfg.max_record_bytes).unwrap_or(usize::MAX);
    let reader = std::thread::Builder::new()
        .name("scrubline-reader".into())
        .spawn(move || read_files(reader_files, max_record, tx))
        .map_err(|e| Error::Config(format!("reader thread: {e}")))?;

    let mut inputs: Vec<InputEntry> = files
        .iter()
        .map(|f| InputEntry {
            index: f.index,
            path: f.path.display().to_string(),
            format: f.format,
            bytes: f.size,
            sha256: String::new(),
            records_read: 0,
            records_rejected: 0,
            row_groups: None,
            schema_sha256: None,
        })
        .collect();
    let mut shards = JsonlShards::new(out_dir, "part-", cfg.compression);
    let mut rejects = Rejects {
        dir: out_dir.to_path_buf(),
        file: None,
        hasher: <sha2::Sha256 as sha2::Digest>::new(),
        entry: RejectsEntry::default(),
    };
    let mut exact = ExactDedup::new();
    let mut totals = Totals::default();
    let mut counts = Detections::default();
    let mut shard_index: u32 = 0;
    let mut shard_bytes: u64 = 0;
    let progress = Progress::new(rt.progress, files.len());

    let mut done = false;
    while !done {
        let mut batch_window = Vec::with_capacity(window);
        while batch_window.len() < window {
            match rx.recv() {
                Ok(Ok(b)) => batch_window.push(b),
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    done = true;
                    break;
                }
            }
        }
        if batch_window.is_empty() {
            break;
        }
        let processed: Vec<Processed> = pool.install(|| {
            batch_window
                .into_par_iter()
                .map_init(|| worker.scratch(), |s, b| worker.process(b, s))
                .collect()
        });

        // In input order: dedup decisions, shard boundaries, rejects.
        let mut chunks: Vec<(u32, Vec<u8>, u64)> = Vec::new();
        for p in processed {
            let entry = &mut inputs[p.file as usize];
            entry.records_read += p.records_read;
            entry.records_rejected += p.rejects.len() as u64;
            totals.records_in += p.records_read;
            totals.blank_lines += p.blank;
            for r in &p.rejects {
                rejects.add(r, &inputs[r.file as usize].path)?;
            }
            let mut start = 0;
            let mut rules_start = 0;
            let mut chunk: Option<(u32, Vec<u8>, u64)> = None;
            for rec in &p.recs {
                let bytes = &p.out[start..rec.end];
                let rules = &p.rules[rules_start..rec.rules_end];
                start = rec.end;
                rules_start = rec.rules_end;
                if cfg.dedup && !exact.insert(rec.fp) {
                    totals.duplicates_removed += 1;
                    continue;
                }
                rules.iter().for_each(|&r| counts.add(r));
                let len = bytes.len() as u64;
                if shard_bytes > 0 && shard_bytes + len > cfg.shard_size {
                    shard_index += 1;
                    shard_bytes = 0;
                }
                shard_bytes += len;
                totals.records_out += 1;
                match &mut chunk {
                    Some((idx, buf, n)) if *idx == shard_index => {
                        buf.extend_from_slice(bytes);
                        *n += 1;
                    }
                    _ => {
                        if let Some(c) = chunk.take() {
                            chunks.push(c);
                        }
                        let mut buf = Vec::with_capacity(p.out.len());
                        buf.extend_from_slice(bytes);
                        chunk = Some((shard_index, buf, 1));
                    }
                }
            }
            if let Some(c) = chunk {
                chunks.push(c);
            }
            progress.advance(p.bytes_in, p.records_read, p.end.is_some());
            if let Some(end) = p.end {
                let entry = &mut inputs[p.file as usize];
                entry.bytes = end.bytes;
                entry.sha256 = end.sha256;
            }
        }
        let compressed: Vec<(u32, Vec<u8>, u64)> = pool.install(|| {
            chunks
                .into_par_iter()
                .map(|(i, buf, n)| (i, cfg.compression.compress(&buf, cfg.zstd_level), n))
                .collect()
        });
        for (i, frame, n) in compressed {
            shards.append(i, &frame, n)?;
        }
    }
    reader
        .join()
        .map_err(|_| Error::Config("reader thread panicked".into()))?;
    progress.finish();

    let outputs = shards.finish()?;
    let rejects = rejects.finish()?;
    totals.records_rejected = rejects.records;
    let mut by_type: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_rule: BTreeMap<String, u64> = BTreeMap::new();
    for (i, &n) in counts.by_rule.iter().enumerate() {
        if n > 0 {
            let rule = scrubber.detector().rule(i as u32);
            *by_type.entry(rule.entity.clone()).or_default() += n;
            *by_rule.entry(rule.id.clone()).or_default() += n;
        }
    }
    totals.detections_by_type = by_type;
    totals.detections_by_rule = by_rule;

    let config = serde_json::to_value(cfg).expect("config serializes");
    let manifest = Manifest {
        schema_version: manifest::SCHEMA_VERSION,
        tool: "scrubline".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        started_at,
        finished_at: manifest::now_rfc3339(),
        config_sha256: config_sha256(cfg),
        config,
        ruleset_sha256: rules.sha256().to_string(),
        key_fingerprint: key.fingerprint(),
        inputs,
        outputs,
        rejects,
        totals,
    };
    manifest.write(out_dir)?;
    Ok(manifest)
}

/// SHA-256 of the canonical JSON of the configuration.
pub fn config_sha256(cfg: &RunConfig) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(
        serde_json::to_vec(cfg).expect("config serializes"),
    ))
}

/// A progress line on stderr: files, records, MB/s. Silent unless enabled.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    files_total: usize,
    state: std::cell::Cell<(usize, u64, u64)>,
    started: Instant,
}

impl Progress {
    fn new(enabled: bool, files_total: usize) -> Progress {
        let bar = enabled.then(|| {
            let b = indicatif::ProgressBar::new_spinner();
            b.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg}").expect("valid template"),
            );
            b.enable_steady_tick(std::time::Duration::from_millis(200));
            b
        });
        Progress {
            bar,
            files_total,
            state: std::cell::Cell::new((0, 0, 0)),
            started: Instant::now(),
        }
    }

    fn advance(&self, bytes: u64, records: u64, file_done: bool) {
        let (f, r, b) = self.state.get();
        let s = (f + usize::from(file_done), r + records, b + bytes);
        self.state.set(s);
        if let Some(bar) = &self.bar {
            let secs = self.started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!(
                "{}/{} files, {} records, {:.1} MB/s",
                s.0,
                self.files_total,
                s.1,
                s.2 as f64 / 1e6 / secs
            ));
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
