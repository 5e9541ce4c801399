//! `scrubline verify`: checks an output folder against its manifest.
//!
//! Every shard listed must exist with the listed size, SHA-256 and record count; every file
//! in the folder must be listed (or be the manifest, the rejects file or a report). With
//! `rescan`, the detectors run over the output again and residual detections are counted
//! per entity type: on a clean run, zero for the validated types.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::manifest::Manifest;
use crate::output::sha256_file;
use crate::scrub::{Detections, Scrubber};

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
    /// With `--rescan`: residual detections per entity type.
    pub residual: Option<BTreeMap<String, u64>>,
}

impl VerifyReport {
    /// True when everything matched.
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty() && self.altered.is_empty()
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
        )
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
        for shard in &m.outputs {
            let path = dir.join(&shard.path);
            if !path.exists() {
                continue;
            }
            let reader = crate::output::open_shard(&path)?;
            for line in BufReader::new(reader).lines() {
                let line = line.map_err(|e| Error::io(&path, e))?;
                let Ok(text) = crate::json::validate(line.as_bytes()) else {
                    continue;
                };
                let mut p = Vec::new();
                let _ =
                    crate::json::walk(text, &crate::select::Selection::all(), &mut p, &mut |v| {
                        for f in scrubber.findings(&v.value, &mut scratch) {
                            counts.add(f.rule);
                        }
                    });
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

fn count_records(path: &Path) -> Result<u64> {
    if path.extension().is_some_and(|e| e == "parquet") {
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
