//! The run: read → scrub → deduplicate → write → manifest.
//!
//! ```text
//! reader thread ──bounded channel──▶ window of batches ──rayon──▶ scrubbed batches
//!   (files in order, lines or                                    │ in input order
//!    Parquet rows in bounded batches)                            ▼
//!        shards ◀── ordered writes ◀──rayon── compress ◀── dedup, shard split, rejects
//! ```
//!
//! Every decision that shapes the output (batch boundaries, which duplicate survives, where
//! a shard ends, frame boundaries) depends only on the input, never on thread timing, so
//! the bytes are identical for any `--threads`. Memory is bounded by the window: a few
//! batches of at most [`read::BATCH_BYTES`] per thread.

mod pool;
mod read;
mod resume;
mod work;
mod write;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::columnar::WriterOptions;
use crate::dedup::{DedupReport, ExactDedup, Fingerprinter};
use crate::detect::Detector;
use crate::error::{Error, Result};
use crate::input::{self, Format, InputFile};
use crate::manifest::{self, InputEntry, Manifest, Totals};
use crate::minhash::{LshIndex, MinHasher};
use crate::output::{JsonlShards, OutCompression};
use crate::pseudonym::{Key, Pseudonymizer, Style};
use crate::rules::RuleSet;
use crate::scrub::{Detections, Scrubber};
use crate::select::Selection;
use crate::sink::{doc_id, RecordSink, SinkRecord};

pub use read::{BATCH_BYTES, BATCH_LINES};
use work::{Body, Processed, Worker};
use write::{filter_rows, values_batch, ParquetShards, Rejects};

/// Output format of the shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// JSON lines, compressed as `--compression` says.
    Jsonl,
    /// Apache Parquet, zstd pages.
    Parquet,
}

/// Every setting that affects the output. Serialized into the manifest and hashed, so two
/// runs with the same `config_sha256`, inputs and key wrote the same bytes.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunConfig {
    /// Input paths as given.
    pub inputs: Vec<PathBuf>,
    /// `--field` selectors; empty = every string.
    pub fields: Vec<String>,
    /// Exact deduplication on.
    pub dedup: bool,
    /// Near-duplicate removal on (MinHash LSH).
    pub near_dup: bool,
    /// Estimated Jaccard similarity at or above which a record is a near-duplicate.
    pub near_dup_threshold: f64,
    /// The MinHash scheme (`minhash-v1/…`), recorded so a reviewer knows how signatures
    /// were made.
    pub near_dup_scheme: String,
    /// `--dedup-field` selectors; empty = the default rule (`text`, else
    /// `messages[*].content`, else every scanned string).
    pub dedup_fields: Vec<String>,
    /// Token style.
    pub style: Style,
    /// `builtin` or the `--patterns` folder.
    pub patterns: String,
    /// `--format`; `None` = the inputs' format (Parquet when every input is Parquet).
    pub format: Option<OutputFormat>,
    /// Bytes after which a shard is closed: uncompressed for JSONL, estimated file size for
    /// Parquet.
    pub shard_size: u64,
    /// Shard compression (JSONL).
    pub compression: OutCompression,
    /// zstd level (JSONL shards and Parquet pages).
    pub zstd_level: i32,
    /// Most rows in a Parquet row group.
    pub row_group_rows: usize,
    /// Longest record accepted, in bytes.
    pub max_record_bytes: u64,
    /// Input bytes per batch (JSONL). Batches are the unit of parallel work and of output
    /// compression frames, so this shapes the output bytes; tests make it small.
    pub batch_bytes: u64,
}

impl RunConfig {
    /// The output format for these inputs.
    pub fn effective_format(&self, files: &[InputFile]) -> OutputFormat {
        self.format.unwrap_or({
            if !files.is_empty() && files.iter().all(|f| f.format == Format::Parquet) {
                OutputFormat::Parquet
            } else {
                OutputFormat::Jsonl
            }
        })
    }
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
    /// Continue an interrupted run in the folder.
    pub resume: bool,
    /// Fail the run when more records than this are set aside.
    pub max_rejects: Option<MaxRejects>,
}

/// `--max-rejects`: a count, or a share of the records read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MaxRejects {
    /// At most this many records.
    Count(u64),
    /// At most this share (0..=1) of the records read; build it with
    /// [`MaxRejects::ratio`] or [`MaxRejects::percent`], which check the range.
    Ratio(f64),
}

impl std::str::FromStr for MaxRejects {
    type Err = String;
    /// Errors never repeat the input, as for sizes: a config file's value must not reach
    /// stderr.
    fn from_str(s: &str) -> std::result::Result<MaxRejects, String> {
        let t = s.trim();
        if let Some(p) = t.strip_suffix('%') {
            let v: f64 = p
                .trim()
                .parse()
                .map_err(|_| "expected a count, a ratio or a percentage".to_string())?;
            return MaxRejects::percent(v);
        }
        if t.contains('.') {
            let v: f64 = t
                .parse()
                .map_err(|_| "expected a count, a ratio or a percentage".to_string())?;
            return MaxRejects::ratio(v);
        }
        t.parse()
            .map(MaxRejects::Count)
            .map_err(|_| "expected a count, a ratio or a percentage".to_string())
    }
}

impl MaxRejects {
    /// A share of the records read; refused unless `0 <= ratio <= 1`. Every way of setting
    /// a ratio (flag, config file) goes through here.
    pub fn ratio(ratio: f64) -> std::result::Result<MaxRejects, String> {
        if (0.0..=1.0).contains(&ratio) {
            Ok(MaxRejects::Ratio(ratio))
        } else {
            Err("a ratio is between 0 and 1".to_string())
        }
    }

    /// A percentage of the records read; refused unless `0 <= percent <= 100`.
    pub fn percent(percent: f64) -> std::result::Result<MaxRejects, String> {
        if (0.0..=100.0).contains(&percent) {
            MaxRejects::ratio(percent / 100.0)
        } else {
            Err("a percentage is between 0% and 100%".to_string())
        }
    }

    fn exceeded(&self, rejected: u64, read: u64, finished: bool) -> bool {
        match *self {
            MaxRejects::Count(n) => rejected > n,
            // A ratio is judged on the whole run; partial counts would fail early runs of
            // bad lines that the rest of the corpus dilutes.
            MaxRejects::Ratio(r) => finished && rejected as f64 > r * read as f64,
        }
    }
}

/// This process's share of a partitioned run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    /// 0-based rank.
    pub rank: u32,
    /// Number of ranks.
    pub world_size: u32,
}

impl Partition {
    /// File name prefix of this rank's shards.
    pub fn shard_prefix(&self) -> String {
        format!("part-r{:05}-", self.rank)
    }

    /// Path of this rank's manifest, relative to the output folder.
    pub fn manifest_rel(&self) -> String {
        format!("_manifest/{:05}.json", self.rank)
    }
}

/// Everything one run needs.
pub struct Job<'a> {
    /// Output-shaping settings.
    pub cfg: &'a RunConfig,
    /// Threads, progress, overwrite.
    pub rt: &'a Runtime,
    /// The rules.
    pub rules: &'a RuleSet,
    /// The key.
    pub key: &'a Key,
    /// The output folder.
    pub out_dir: &'a Path,
    /// The files to read (from a plan); `None` = discover `cfg.inputs`.
    pub files: Option<Vec<InputFile>>,
    /// Set for one rank of a partitioned run: rank-named shards and manifest, and no
    /// in-run deduplication (the global dedup stages do it).
    pub partition: Option<Partition>,
    /// Receives every written record (doc id, fingerprints, rule ids).
    pub sink: Option<Box<dyn RecordSink>>,
    /// Where to write the dedup report (one line per removed record), if anywhere.
    pub dedup_report: Option<PathBuf>,
}

/// MinHash parameters of a configuration.
pub fn minhash_params(cfg: &RunConfig) -> crate::minhash::MinHashParams {
    crate::minhash::MinHashParams {
        threshold: cfg.near_dup_threshold,
        ..crate::minhash::MinHashParams::default()
    }
}

/// Reason codes of rejected records, as written to the manifest and rejects file. Record
/// errors add `invalid_utf8`, `invalid_json`, `not_object`, `field_not_string` and
/// `missing_field` (see [`crate::json::RecordError::code`]).
pub mod reason {
    /// The line is longer than `--max-record-bytes`.
    pub const TOO_LARGE: &str = "record_too_large";
    /// The compressed stream ended early or is corrupt.
    pub const TRUNCATED: &str = "truncated_stream";
    /// The file holds no records.
    pub const EMPTY_FILE: &str = "empty_file";
    /// A Parquet file or row group that cannot be read.
    pub const CORRUPT_PARQUET: &str = "corrupt_parquet";

    /// A reject that stands for a file or a part of one, not for a record read: counted in
    /// the rejects file and `by_reason`, not in `records_rejected`.
    pub fn is_file_level(reason: &str) -> bool {
        matches!(reason, TRUNCATED | EMPTY_FILE | CORRUPT_PARQUET)
    }
}

/// Prepares `dir` for a run: creates it, and refuses a non-empty folder unless `overwrite`
/// is set, in which case only files a previous run wrote are removed.
pub fn prepare_output(dir: &Path, overwrite: bool) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut ours = Vec::new();
    let mut foreign = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_run_output(&name) {
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
        remove(&p)?;
    }
    Ok(())
}

/// Names a run writes in its output folder.
fn is_run_output(name: &str) -> bool {
    name == manifest::FILE_NAME
        || name == "rejects"
        || name == "_manifest"
        || name == "sig"
        || name == "docs"
        || name == "dedup"
        || name == "final"
        || name == "dedup-report.jsonl"
        || name == resume::STATE_DIR
        || name.starts_with("part-")
        || (name.starts_with('.') && name.ends_with(".tmp"))
}

fn remove(p: &Path) -> Result<()> {
    let r = if p.is_dir() {
        std::fs::remove_dir_all(p)
    } else {
        std::fs::remove_file(p)
    };
    r.map_err(|e| Error::io(p, e))
}

/// Removes what an interrupted run of this rank left: its shards (complete or not: without
/// the rank manifest none of them counts), temporary files and rejects.
fn clean_rank(dir: &Path, part: &Partition) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let prefix = part.shard_prefix();
    let rejects = rejects_name(Some(part));
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix)
            || (name.starts_with(&format!(".{prefix}")) && name.ends_with(".tmp"))
        {
            remove(&entry.path())?;
        }
    }
    for stale in [
        format!("rejects/{rejects}"),
        format!("rejects/.{rejects}.tmp"),
    ] {
        let p = dir.join(stale);
        if p.exists() {
            remove(&p)?;
        }
    }
    Ok(())
}

/// The rejects file's name in `DIR/rejects/`: one per rank in a partitioned run.
pub(crate) fn rejects_name(part: Option<&Partition>) -> String {
    match part {
        Some(p) => format!("rejects-r{:05}.jsonl", p.rank),
        None => "rejects.jsonl".to_string(),
    }
}

/// Runs the whole job (or one rank of it) and returns the manifest it wrote.
pub fn run(job: Job<'_>) -> Result<Manifest> {
    let started_at = manifest::now_rfc3339();
    let Job {
        cfg,
        rt,
        rules,
        key,
        out_dir,
        files,
        partition,
        sink,
        dedup_report,
    } = job;
    let files = match files {
        Some(f) => f,
        None => input::discover(&cfg.inputs)?,
    };
    if let Some(part) = &partition {
        let done = out_dir.join(part.manifest_rel());
        if done.exists() {
            // A present rank manifest means the rank is complete: rerunning does nothing.
            let bytes = std::fs::read(&done).map_err(|e| Error::io(&done, e))?;
            return serde_json::from_slice(&bytes).map_err(|e| Error::Manifest {
                path: done,
                reason: e.to_string(),
            });
        }
        clean_rank(out_dir, part)?;
    }
    let mut cfg = cfg.clone();
    let format = cfg.effective_format(&files);
    cfg.format = Some(format);
    let cfg = &cfg;
    let identity = resume::Identity {
        config_sha256: config_sha256(cfg),
        ruleset_sha256: rules.sha256().to_string(),
        key_fingerprint: key.fingerprint(),
        files: files
            .iter()
            .map(|f| (f.path.display().to_string(), f.size))
            .collect(),
    };
    let mut resumed: Option<resume::State> = None;
    if partition.is_none() {
        if rt.resume {
            if out_dir.join(manifest::FILE_NAME).exists() {
                // Complete already: nothing to continue.
                return Manifest::read(out_dir);
            }
            if key.is_ephemeral() {
                return Err(Error::Config(
                    "--resume needs the run's key (--key-file or SCRUBLINE_KEY); a random key cannot be resumed".into(),
                ));
            }
            match resume::State::read(out_dir)? {
                Some(state) => {
                    if state.identity != identity {
                        return Err(Error::Output {
                            path: out_dir.to_path_buf(),
                            reason: describe_mismatch(&state.identity, &identity),
                        });
                    }
                    resumed = Some(state);
                }
                None => prepare_output(out_dir, true)?,
            }
        } else {
            prepare_output(out_dir, rt.overwrite)?;
        }
    }
    let started_at = resumed
        .as_ref()
        .map_or(started_at, |s| s.started_at.clone());

    let scan = Selection::parse(&cfg.fields)?;
    let dedup_sel = if cfg.dedup_fields.is_empty() {
        None
    } else {
        Some(Selection::parse(&cfg.dedup_fields)?)
    };
    let detector = Detector::new(rules)?;
    let scrubber = Scrubber::new(detector, Pseudonymizer::new(key, cfg.style));
    let fingerprinter = Fingerprinter::new(key);
    // A rank still fingerprints (for the global stages) but never drops a record itself.
    let in_run_dedup = cfg.dedup && partition.is_none();
    let in_run_near = cfg.near_dup && partition.is_none();
    let params = minhash_params(cfg);
    let minhasher = if cfg.near_dup {
        Some(MinHasher::new(
            params.clone(),
            key.derive(b"scrubline/minhash/v1"),
        )?)
    } else {
        None
    };
    // The index spills what it reads only on a band hit to a nameless file beside the
    // shards, so that its memory is the band tables alone (see `minhash`, "Memory").
    let mut lsh = if in_run_near {
        Some(LshIndex::spilling(&params, out_dir)?)
    } else {
        None
    };
    let report = match (&dedup_report, &resumed) {
        (Some(p), Some(st)) => Some(DedupReport::resume(p, st.report_len)?),
        (Some(p), None) => Some(DedupReport::create(p)?),
        (None, _) => None,
    };
    let threads = rt.threads.max(1);
    let window = (threads * 3).max(4);
    // In flight at once: the channel (one window), the window being scrubbed and the one
    // being written.
    let batch_bytes = usize::try_from(cfg.batch_bytes)
        .unwrap_or(BATCH_BYTES)
        .max(1);
    let bufs = std::sync::Arc::new(pool::Buffers::new(window * 3 + 1, batch_bytes));
    let worker = Worker {
        bufs: &bufs,
        scrubber: &scrubber,
        fingerprinter: &fingerprinter,
        scan,
        dedup: dedup_sel,
        // Normalized content feeds both the exact fingerprint and the MinHash signature.
        dedup_on: cfg.dedup || cfg.near_dup || sink.is_some(),
        max_record: cfg.max_record_bytes,
        format,
        minhasher: minhasher.as_ref(),
        want_id: report.is_some(),
    };

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Config(format!("thread pool: {e}")))?;
    // One window read ahead is enough to keep the workers fed; a deeper queue only adds
    // memory (a batch is BATCH_BYTES of input plus its rewritten copy).
    let (tx, rx) = crossbeam_channel::bounded(window);
    let reader_bufs = bufs.clone();
    let reader_files = files.clone();
    let max_record = usize::try_from(cfg.max_record_bytes).unwrap_or(usize::MAX);
    let reader = std::thread::Builder::new()
        .name("scrubline-reader".into())
        .spawn(move || read::read_files(reader_files, max_record, batch_bytes, &reader_bufs, tx))
        .map_err(|e| Error::Config(format!("reader thread: {e}")))?;

    let index_of: BTreeMap<u32, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.index, i))
        .collect();
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
    let prefix = partition.map_or_else(|| "part-".to_string(), |p| p.shard_prefix());
    let mut jsonl = JsonlShards::new(out_dir, &prefix, cfg.compression);
    let mut parquet = ParquetShards::new(
        out_dir,
        &prefix,
        WriterOptions {
            max_row_group_rows: cfg.row_group_rows,
            compression: parquet::basic::Compression::ZSTD(
                parquet::basic::ZstdLevel::try_new(cfg.zstd_level)
                    .map_err(|e| Error::Config(e.to_string()))?,
            ),
            created_by: format!("scrubline {}", env!("CARGO_PKG_VERSION")),
            ..WriterOptions::default()
        },
        cfg.shard_size,
    );
    let mut rejects = Rejects::new(out_dir, &rejects_name(partition.as_ref()));
    let mut exact = ExactDedup::new();
    let file_paths: BTreeMap<u32, String> = files
        .iter()
        .map(|f| (f.index, f.path.display().to_string()))
        .collect();
    let mut totals = Totals::default();
    let mut counts = Detections::default();
    let mut shard_index: u32 = 0;
    let mut shard_bytes: u64 = 0;
    let progress = Progress::new(rt.progress, files.len());

    // Checkpoint logs (single-process runs only: a rank is simply rerun).
    let lsh_entry = 8 + 8 * params.bands + crate::minhash::Sketch::BYTES;
    let mut logs: Option<(resume::Log, resume::Log)> = None;
    let mut skip_batches = 0u64;
    if partition.is_none() {
        let (exact_len, lsh_len) = resumed
            .as_ref()
            .map_or((0, 0), |st| (st.exact_len, st.lsh_len));
        let exact_log = resume::Log::open(out_dir, "exact.log", exact_len)?;
        let lsh_log = resume::Log::open(out_dir, "lsh.log", lsh_len)?;
        if let Some(st) = resumed.take() {
            exact_log.replay(24, |e| {
                let fp = u128::from_le_bytes(e[..16].try_into().expect("16 bytes"));
                let id = u64::from_le_bytes(e[16..24].try_into().expect("8 bytes"));
                exact.insert(fp, id);
                Ok(())
            })?;
            if let Some(index) = lsh.as_mut() {
                lsh_log.replay(lsh_entry, |e| {
                    let id = u64::from_le_bytes(e[..8].try_into().expect("8 bytes"));
                    let bands: Vec<u64> = e[8..8 + 8 * params.bands]
                        .chunks_exact(8)
                        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
                        .collect();
                    let sketch = crate::minhash::Sketch::from_bytes(
                        e[8 + 8 * params.bands..].try_into().expect("sketch bytes"),
                    );
                    index.observe_parts(id, &bands, sketch).map(drop)
                })?;
            }
            for shard in st.jsonl_done.iter().chain(&st.parquet_done) {
                crate::output::check_finished(out_dir, shard)?;
            }
            let known: Vec<&str> = st
                .jsonl_done
                .iter()
                .chain(&st.parquet_done)
                .map(|s| s.path.as_str())
                .collect();
            let open_tmp: Vec<String> = st
                .jsonl_open
                .iter()
                .map(|o| {
                    let name =
                        crate::output::shard_name(&prefix, o.index, cfg.compression.extension());
                    format!(".{name}.tmp")
                })
                .collect();
            if let Some(o) = &st.jsonl_open {
                let name = crate::output::shard_name(&prefix, o.index, cfg.compression.extension());
                let path = out_dir.join(name);
                crate::output::unfinish(&path, &crate::output::temp_path(&path))?;
            }
            resume::remove_unknown_outputs(out_dir, &known, &open_tmp)?;
            jsonl = jsonl.resume(st.jsonl_done, st.jsonl_open.as_ref())?;
            parquet.resume(st.parquet_done, st.parquet_next);
            rejects.resume(st.rejects, st.rejects_len)?;
            inputs = st.inputs;
            totals = st.totals;
            counts.by_rule = st.counts;
            shard_index = st.shard_index;
            shard_bytes = st.shard_bytes;
            skip_batches = st.next_batch;
        }
        logs = Some((exact_log, lsh_log));
    }
    let mut batch_seq = 0u64;
    let mut o = Ordered {
        jsonl,
        parquet,
        rejects,
        report,
        logs,
        inputs,
        totals,
        counts,
        shard_index,
        shard_bytes,
        exact,
        lsh,
        sink,
        progress,
    };
    let cx = Cx {
        cfg,
        bufs: &bufs,
        format,
        index_of,
        file_paths,
        in_run_dedup,
        max_rejects: rt.max_rejects,
        identity,
        started_at,
        out_dir,
    };

    let mut pending: Option<(Vec<Processed>, u64, u64)> = None;
    let mut done = false;
    while !done {
        let mut batch_window = Vec::with_capacity(window);
        while batch_window.len() < window {
            match rx.recv() {
                Ok(Ok(_)) if batch_seq < skip_batches => batch_seq += 1,
                Ok(Ok(b)) => {
                    batch_seq += 1;
                    batch_window.push(b);
                }
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
        let first_seq = batch_seq - batch_window.len() as u64;
        // Two stages in flight: this window is scrubbed while the previous one is
        // sequenced and written, so the ordered side does not leave cores idle.
        let (processed, sequenced) = pool.install(|| {
            rayon::join(
                || {
                    batch_window
                        .into_par_iter()
                        .map_init(|| worker.scratch(), |s, b| worker.process(b, s))
                        .collect::<Vec<Processed>>()
                },
                || match pending.take() {
                    Some((p, first, next)) => o.sequence(p, first, next, &cx),
                    None => Ok(()),
                },
            )
        });
        sequenced?;
        pending = Some((processed, first_seq, batch_seq));
    }
    if let Some((p, first, next)) = pending.take() {
        pool.install(|| o.sequence(p, first, next, &cx))?;
    }
    reader
        .join()
        .map_err(|_| Error::Config("reader thread panicked".into()))?;
    o.progress.finish();
    let Ordered {
        jsonl,
        parquet,
        rejects,
        report,
        inputs,
        mut totals,
        counts,
        lsh,
        sink,
        ..
    } = o;
    let Cx { started_at, .. } = cx;

    // Before any shard gets its final name: a failed run leaves only temporary files, as
    // when a count limit stops it midway.
    if let Some(limit) = &rt.max_rejects {
        let n = rejects.entry.records;
        if limit.exceeded(n, totals.records_in, true) {
            return Err(too_many_rejects(n, totals.records_in, limit));
        }
    }
    let mut outputs = jsonl.finish()?;
    outputs.extend(parquet.finish()?);
    if let Some(sink) = sink {
        sink.finish()?;
    }
    let rejects = rejects.finish()?;
    if let Some(index) = &lsh {
        totals.near_duplicate_clusters = index.clusters();
    }
    if let Some(r) = report {
        r.finish()?;
    }
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
        partition,
        inputs,
        outputs,
        rejects,
        totals,
    };
    match &partition {
        Some(part) => {
            let path = out_dir.join(part.manifest_rel());
            let dir = path.parent().expect("_manifest/");
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            let mut bytes = serde_json::to_vec_pretty(&manifest).expect("manifest serializes");
            bytes.push(b'\n');
            crate::output::write_atomic(&path, &bytes)?;
        }
        None => {
            manifest.write(out_dir)?;
            resume::clear(out_dir)?;
        }
    }
    Ok(manifest)
}

fn too_many_rejects(rejected: u64, read: u64, limit: &MaxRejects) -> Error {
    let limit = match limit {
        MaxRejects::Count(n) => format!("{n} records"),
        MaxRejects::Ratio(r) => format!("{:.4}% of records read", r * 100.0),
    };
    Error::Config(format!(
        "too many rejected records: {rejected} of {read} read, over --max-rejects ({limit}); no manifest written"
    ))
}

/// Says which part of a run's identity changed, without printing any secret.
fn describe_mismatch(saved: &resume::Identity, now: &resume::Identity) -> String {
    let what = if saved.key_fingerprint != now.key_fingerprint {
        "the key differs"
    } else if saved.config_sha256 != now.config_sha256 {
        "the configuration differs"
    } else if saved.ruleset_sha256 != now.ruleset_sha256 {
        "the rules differ"
    } else {
        "the input files differ (paths or sizes)"
    };
    format!(
        "cannot resume: {what} from the interrupted run's; rerun with --overwrite to start over"
    )
}

/// The ordered side's state: every output decision so far, and all a checkpoint saves.
struct Ordered {
    jsonl: JsonlShards,
    parquet: ParquetShards,
    rejects: Rejects,
    report: Option<DedupReport>,
    /// `(exact, lsh)` dedup logs; `None` for a rank, which is simply rerun.
    logs: Option<(resume::Log, resume::Log)>,
    inputs: Vec<InputEntry>,
    totals: Totals,
    counts: Detections,
    shard_index: u32,
    shard_bytes: u64,
    exact: ExactDedup,
    lsh: Option<LshIndex>,
    sink: Option<Box<dyn RecordSink>>,
    progress: Progress,
}

impl Ordered {
    /// Takes one window of processed batches in input order: dedup decisions, shard
    /// boundaries, rejects, the sink, then compressed writes and a checkpoint.
    fn sequence(
        &mut self,
        processed: Vec<Processed>,
        first_seq: u64,
        next_seq: u64,
        cx: &Cx<'_>,
    ) -> Result<()> {
        // In input order: dedup decisions, shard boundaries, rejects, the sink.
        let mut chunks: Vec<(u32, Vec<u8>, u64)> = Vec::new();
        for (k, p) in processed.into_iter().enumerate() {
            // A Parquet shard closes between batches, so a checkpoint can follow with no
            // writer open (an Arrow writer's state cannot be saved).
            if cx.format == OutputFormat::Parquet && self.parquet.rotate_if_full()? {
                self.checkpoint(first_seq + k as u64, cx)?;
            }
            let slot = cx.index_of[&p.file];
            self.inputs[slot].records_read += p.records_read;
            let record_rejects = p
                .rejects
                .iter()
                .filter(|r| !reason::is_file_level(r.reason))
                .count() as u64;
            self.inputs[slot].records_rejected += record_rejects;
            self.totals.records_rejected += record_rejects;
            self.totals.records_in += p.records_read;
            self.totals.blank_lines += p.blank;
            for r in &p.rejects {
                self.rejects
                    .add(r, &self.inputs[cx.index_of[&r.file]].path)?;
            }
            if let Some(limit) = &cx.max_rejects {
                if limit.exceeded(self.rejects.entry.records, self.totals.records_in, false) {
                    return Err(too_many_rejects(
                        self.rejects.entry.records,
                        self.totals.records_in,
                        limit,
                    ));
                }
            }
            let mut keep = Vec::with_capacity(p.recs.len());
            let mut bands_start = 0;
            for rec in &p.recs {
                let id = doc_id(p.file, u32::try_from(rec.ordinal).unwrap_or(u32::MAX));
                let bands = &p.bands[bands_start..rec.bands_end];
                bands_start = rec.bands_end;
                let mut survives = true;
                if cx.in_run_dedup {
                    if let Some(first) = self.exact.insert(rec.fp, id) {
                        survives = false;
                        self.totals.duplicates_removed += 1;
                        if let Some(r) = self.report.as_mut() {
                            r.add(&cx.file_paths, id, rec.id.as_deref(), first, 1.0, "exact")?;
                        }
                    } else if let Some((log, _)) = self.logs.as_mut() {
                        let mut e = [0u8; 24];
                        e[..16].copy_from_slice(&rec.fp.to_le_bytes());
                        e[16..].copy_from_slice(&id.to_le_bytes());
                        log.append(&e)?;
                    }
                }
                if survives {
                    if let (Some(index), Some(sketch)) = (self.lsh.as_mut(), rec.sketch) {
                        if let Some((_, log)) = self.logs.as_mut() {
                            log.append(&id.to_le_bytes())?;
                            for b in bands {
                                log.append(&b.to_le_bytes())?;
                            }
                            log.append(&sketch.to_bytes())?;
                        }
                        if let Some(nd) = index.observe_parts(id, bands, sketch)? {
                            survives = false;
                            self.totals.near_duplicates_removed += 1;
                            if let Some(r) = self.report.as_mut() {
                                r.add(
                                    &cx.file_paths,
                                    id,
                                    rec.id.as_deref(),
                                    nd.survivor,
                                    nd.similarity,
                                    "near",
                                )?;
                            }
                        }
                    }
                }
                keep.push(survives);
            }
            let mut rec_shard = vec![0u32; p.recs.len()];
            match &p.body {
                Body::Lines(out) => {
                    let mut start = 0;
                    let mut chunk: Option<(u32, Vec<u8>, u64)> = None;
                    for (i, rec) in p.recs.iter().enumerate() {
                        let bytes = &out[start..rec.end];
                        start = rec.end;
                        if !keep[i] {
                            continue;
                        }
                        let len = bytes.len() as u64;
                        if self.shard_bytes > 0 && self.shard_bytes + len > cx.cfg.shard_size {
                            self.shard_index += 1;
                            self.shard_bytes = 0;
                        }
                        self.shard_bytes += len;
                        rec_shard[i] = self.shard_index;
                        match &mut chunk {
                            Some((idx, buf, n)) if *idx == self.shard_index => {
                                buf.extend_from_slice(bytes);
                                *n += 1;
                            }
                            _ => {
                                if let Some(c) = chunk.take() {
                                    chunks.push(c);
                                }
                                let mut buf = cx.bufs.bytes.take(out.len());
                                buf.extend_from_slice(bytes);
                                chunk = Some((self.shard_index, buf, 1));
                            }
                        }
                    }
                    chunks.extend(chunk);
                }
                Body::Rows(batch) => {
                    if keep.iter().any(|&k| k) {
                        let kept = filter_rows(batch, &keep)?;
                        rec_shard.fill(self.parquet.write(&kept)?);
                    }
                }
                Body::Values(values) => {
                    let kept: Vec<serde_json::Value> = values
                        .iter()
                        .zip(&keep)
                        .filter(|(_, &k)| k)
                        .map(|(v, _)| v.clone())
                        .collect();
                    if !kept.is_empty() {
                        let batch = values_batch(&kept, self.parquet.schema())?;
                        rec_shard.fill(self.parquet.write(&batch)?);
                    }
                }
            }
            let mut rules_start = 0;
            let mut bands_start = 0;
            for (i, rec) in p.recs.iter().enumerate() {
                let rules = &p.rules[rules_start..rec.rules_end];
                rules_start = rec.rules_end;
                let bands = &p.bands[bands_start..rec.bands_end];
                bands_start = rec.bands_end;
                if !keep[i] {
                    continue;
                }
                self.totals.records_out += 1;
                rules.iter().for_each(|&r| self.counts.add(r));
                if let Some(sink) = self.sink.as_mut() {
                    let sketch = rec.sketch.map(|k| k.to_bytes());
                    sink.record(&SinkRecord {
                        doc_id: doc_id(p.file, u32::try_from(rec.ordinal).unwrap_or(u32::MAX)),
                        shard: rec_shard[i],
                        exact_fp: rec.fp,
                        band_hashes: bands,
                        sketch: sketch.as_ref(),
                        rules,
                    })?;
                }
            }
            self.progress
                .advance(p.bytes_in, p.records_read, p.end.is_some());
            if let Some(end) = p.end {
                let entry = &mut self.inputs[slot];
                entry.bytes = end.bytes;
                entry.sha256 = end.sha256;
                entry.row_groups = end.row_groups;
                entry.schema_sha256 = end.schema_sha256;
            }
            if let Body::Lines(out) = p.body {
                cx.bufs.bytes.give(out);
            }
        }
        // Called on a rayon thread: compression fans out over the pool.
        let compressed: Vec<(u32, Vec<u8>, u64)> = chunks
            .into_par_iter()
            .map(|(i, buf, n)| {
                let frame = cx.cfg.compression.compress(&buf, cx.cfg.zstd_level);
                cx.bufs.bytes.give(buf);
                (i, frame, n)
            })
            .collect();
        for (i, frame, n) in compressed {
            self.jsonl.append(i, frame, n)?;
        }
        if cx.format == OutputFormat::Jsonl {
            self.checkpoint(next_seq, cx)?;
        }
        Ok(())
    }

    /// Makes everything written so far durable, then records where the run stands.
    fn checkpoint(&mut self, next_batch: u64, cx: &Cx<'_>) -> Result<()> {
        let Some((exact_log, lsh_log)) = self.logs.as_mut() else {
            return Ok(());
        };
        let (parquet_done, parquet_next) = self.parquet.progress();
        let state = resume::State {
            version: resume::State::new_version(),
            identity: cx.identity.clone(),
            started_at: cx.started_at.clone(),
            next_batch,
            inputs: self.inputs.clone(),
            totals: self.totals.clone(),
            counts: self.counts.by_rule.clone(),
            rejects: self.rejects.entry.clone(),
            rejects_len: self.rejects.checkpoint()?,
            report_len: match self.report.as_mut() {
                Some(r) => r.checkpoint()?,
                None => 0,
            },
            exact_len: exact_log.checkpoint()?,
            lsh_len: lsh_log.checkpoint()?,
            jsonl_done: self.jsonl.done().to_vec(),
            jsonl_open: self.jsonl.checkpoint()?,
            shard_index: self.shard_index,
            shard_bytes: self.shard_bytes,
            parquet_done: parquet_done.to_vec(),
            parquet_next,
        };
        state.write(cx.out_dir)
    }
}

/// What the ordered side reads but does not change.
struct Cx<'a> {
    cfg: &'a RunConfig,
    bufs: &'a pool::Buffers,
    format: OutputFormat,
    index_of: BTreeMap<u32, usize>,
    file_paths: BTreeMap<u32, String>,
    in_run_dedup: bool,
    max_rejects: Option<MaxRejects>,
    identity: resume::Identity,
    started_at: String,
    out_dir: &'a Path,
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

#[cfg(test)]
mod tests {
    use super::MaxRejects;

    #[test]
    fn max_rejects_parses_counts_ratios_and_percentages_in_range() {
        let p = |s: &str| s.parse::<MaxRejects>();
        assert_eq!(p("100"), Ok(MaxRejects::Count(100)));
        assert_eq!(p("0.01"), Ok(MaxRejects::Ratio(0.01)));
        assert_eq!(p("1.0"), Ok(MaxRejects::Ratio(1.0)));
        assert_eq!(p("1%"), Ok(MaxRejects::Ratio(0.01)));
        assert_eq!(p("0%"), Ok(MaxRejects::Ratio(0.0)));
        assert_eq!(p("100%"), Ok(MaxRejects::Ratio(1.0)));
        for bad in [
            "5.0", "-0.5", "150%", "-1%", "100.5%", "NaN%", "inf%", "-1", "x",
        ] {
            assert!(p(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn ratio_and_percent_check_the_range() {
        assert_eq!(MaxRejects::ratio(0.0), Ok(MaxRejects::Ratio(0.0)));
        assert_eq!(MaxRejects::ratio(1.0), Ok(MaxRejects::Ratio(1.0)));
        assert!(MaxRejects::ratio(1.000_001).is_err());
        assert!(MaxRejects::ratio(-0.5).is_err());
        assert!(MaxRejects::ratio(f64::NAN).is_err());
        assert!(MaxRejects::ratio(f64::INFINITY).is_err());
        assert_eq!(MaxRejects::percent(100.0), Ok(MaxRejects::Ratio(1.0)));
        assert!(MaxRejects::percent(150.0).is_err());
        assert!(MaxRejects::percent(-1.0).is_err());
    }
}
