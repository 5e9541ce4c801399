//! `scrubline verify`: checks an output folder against its manifest.
//!
//! Every shard listed must exist with the listed size, SHA-256 and record count; every file
//! in the folder must be listed (or be the manifest, the rejects file or a report). With
//! `rescan`, the detectors run over the output again and residual detections are counted
//! per entity type: on a clean run, zero for the validated types. JSONL shards are rescanned
//! line by line (a line that is not one JSON object is counted as invalid), Parquet shards
//! batch by batch; either way every string value goes through the same check.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::manifest::Manifest;
use crate::output::sha256_file;
use crate::scrub::{Detections, Scrubber};
use crate::select::label_of;

/// What `verify` found.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct VerifyReport {
    /// Files checked and found as listed.
    pub ok: Vec<String>,
    /// Listed but absent.
    pub missing: Vec<String>,
    /// Present but not listed.
    pub extra: Vec<String>,
    /// Present, listed, but with another size, hash or record count: `(path, what)`.
    pub altered: Vec<(String, String)>,
    /// With `--rescan`: JSONL shards with lines that are not one JSON object (and so could
    /// not be rescanned): `(path, lines)`.
    pub invalid: Vec<(String, u64)>,
    /// With `--rescan`: residual detections per entity type.
    pub residual: Option<BTreeMap<String, u64>>,
}

impl VerifyReport {
    /// True when everything matched.
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty()
            && self.extra.is_empty()
            && self.altered.is_empty()
            && self.invalid.is_empty()
    }
}

impl std::fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for p in &self.missing {
            writeln!(f, "missing  {p}")?;
        }
        for p in &self.extra {
            writeln!(f, "extra    {p}")?;
        }
        for (p, why) in &self.altered {
            writeln!(f, "altered  {p}: {why}")?;
        }
        for (p, n) in &self.invalid {
            writeln!(f, "invalid  {p}: {n} lines not a JSON object")?;
        }
        if let Some(r) = &self.residual {
            if r.is_empty() {
                writeln!(f, "rescan: no residual detections")?;
            }
            for (t, n) in r {
                writeln!(f, "residual {t}: {n}")?;
            }
        }
        write!(
            f,
            "{} ok, {} missing, {} extra, {} altered",
            self.ok.len(),
            self.missing.len(),
            self.extra.len(),
            self.altered.len()
        )?;
        if !self.invalid.is_empty() {
            write!(f, ", {} with invalid lines", self.invalid.len())?;
        }
        Ok(())
    }
}

/// Files the manifest does not list but a run writes (per-rank manifests and reject files
/// of a ranked run included: the merged manifest lists the merged rejects).
fn is_bookkeeping(rel: &str) -> bool {
    rel == crate::manifest::FILE_NAME
        || rel == "dedup-report.jsonl"
        || rel.starts_with("_manifest/")
        || (rel.starts_with("rejects/rejects-r") && rel.ends_with(".jsonl"))
        || rel.starts_with(".scrubline/")
}

/// Verifies `dir` against its manifest; `rescan` reruns `scrubber` over the output.
pub fn verify(dir: &Path, rescan: Option<&Scrubber>) -> Result<VerifyReport> {
    let m = Manifest::read(dir)?;
    let mut report = VerifyReport::default();
    let mut listed = BTreeSet::new();
    for shard in &m.outputs {
        listed.insert(shard.path.clone());
        let path = dir.join(&shard.path);
        if !path.exists() {
            report.missing.push(shard.path.clone());
            continue;
        }
        let (bytes, sha) = sha256_file(&path)?;
        let mut why = Vec::new();
        if bytes != shard.bytes {
            why.push(format!("{bytes} bytes, manifest says {}", shard.bytes));
        }
        if sha != shard.sha256 {
            why.push("SHA-256 differs".to_string());
        }
        if why.is_empty() {
            match count_records(&path) {
                Ok(n) if n == shard.records => {}
                Ok(n) => why.push(format!("{n} records, manifest says {}", shard.records)),
                Err(e) => why.push(format!("unreadable: {e}")),
            }
        }
        if why.is_empty() {
            report.ok.push(shard.path.clone());
        } else {
            report.altered.push((shard.path.clone(), why.join("; ")));
        }
    }
    if let (Some(p), Some(sha)) = (&m.rejects.path, &m.rejects.sha256) {
        listed.insert(p.clone());
        let path = dir.join(p);
        if !path.exists() {
            report.missing.push(p.clone());
        } else if &sha256_file(&path)?.1 != sha {
            report.altered.push((p.clone(), "SHA-256 differs".into()));
        } else {
            report.ok.push(p.clone());
        }
    }
    let mut present = Vec::new();
    list_files(dir, dir, &mut present)?;
    for rel in present {
        if !listed.contains(&rel) && !is_bookkeeping(&rel) {
            report.extra.push(rel);
        }
    }
    if let Some(scrubber) = rescan {
        let mut counts = Detections::default();
        let mut scratch = scrubber.scratch();
        // Each value under its label, as `run` scans it.
        let mut check = |label: Option<&str>, s: &str| {
            for f in scrubber.findings_labeled(label, s, &mut scratch) {
                counts.add(f.rule);
            }
        };
        for shard in &m.outputs {
            let path = dir.join(&shard.path);
            if !path.exists() {
                continue;
            }
            if is_parquet(&path) {
                rescan_parquet(&path, &mut check)?;
            } else {
                let bad = rescan_jsonl(&path, &mut check)?;
                if bad > 0 {
                    report.invalid.push((shard.path.clone(), bad));
                }
            }
        }
        let mut by_type = BTreeMap::new();
        for (i, &n) in counts.by_rule.iter().enumerate() {
            if n > 0 {
                *by_type
                    .entry(scrubber.detector().rule(i as u32).entity.clone())
                    .or_default() += n;
            }
        }
        report.residual = Some(by_type);
    }
    Ok(report)
}

/// Rows per Parquet batch during a rescan are chosen to decode about this many bytes, so
/// memory stays bounded whatever the row size. One batch is held at a time here, unlike the
/// pipeline's windows, so it can be larger than the pipeline's.
const RESCAN_PARQUET_BATCH_BYTES: usize = 8 << 20;

fn is_parquet(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "parquet")
}

/// Hands every string value of every record of a JSONL shard to `check`; returns how many
/// lines are not one JSON object (those are not scanned).
fn rescan_jsonl(path: &Path, check: &mut dyn FnMut(Option<&str>, &str)) -> Result<u64> {
    let mut reader = BufReader::new(crate::output::open_shard(path)?);
    let mut line = Vec::new();
    let mut invalid = 0u64;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Ok(invalid);
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        // Bytes, not `lines()`: a line that is not UTF-8 is an invalid record to count, not
        // an I/O error that ends the verification.
        let Ok(text) = crate::json::validate(&line) else {
            invalid += 1;
            continue;
        };
        let mut p = Vec::new();
        let walked = crate::json::walk(text, &crate::select::Selection::all(), &mut p, &mut |v| {
            check(label_of(v.path, v.key).as_deref(), &v.value)
        });
        if walked.is_err() {
            invalid += 1;
        }
    }
}

/// Hands every string value of every row of a Parquet shard to `check`, batch by batch.
fn rescan_parquet(path: &Path, check: &mut dyn FnMut(Option<&str>, &str)) -> Result<()> {
    let pq = crate::columnar::ParquetFile::open(path)?;
    let all = crate::select::Selection::all();
    for batch in pq.batches(pq.batch_size_for(RESCAN_PARQUET_BATCH_BYTES)) {
        // Map keys too: a key can hold data, as a JSON key can.
        crate::columnar::visit_strings(&batch?, &all, &mut |_, path, s, key| {
            check(label_of(path, key).as_deref(), s)
        });
    }
    Ok(())
}

fn count_records(path: &Path) -> Result<u64> {
    if is_parquet(path) {
        return Ok(crate::columnar::ParquetFile::open(path)?.num_rows());
    }
    let mut r = crate::output::open_shard(path)?;
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let k = r.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if k == 0 {
            return Ok(n);
        }
        n += buf[..k].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

fn list_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        if path.is_dir() {
            list_files(root, &path, out)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}
