//! `scrubline dedup filter --rank R`: drops rank `R`'s duplicates from its shards and writes
//! the final shards and a final per-rank manifest.
//!
//! The rank's shards are read in the order of its manifest; the `n`-th record is the `n`-th
//! row of `docs/{R:05}.parquet` (checked: same shard index, consecutive rows), and it is
//! dropped when `dedup/remove/{R:05}.parquet` lists that row. Survivors are copied byte
//! for byte (JSONL) or row for row (Parquet) into `final/` under the same file name, with
//! the same compression; a shard left with no record is not written. Scrubbing is not
//! re-run. The output depends only on the inputs (chunk boundaries every
//! [`CHUNK_BYTES`] of kept input), never on timing.
//!
//! The final manifest `final/_manifest/{R:05}.json` is the rank's manifest with the
//! outputs replaced, `records_out` the survivors, the removed records added to
//! `duplicates_removed` / `near_duplicates_removed`, the near clusters whose survivor the
//! rank owns added to `near_duplicate_clusters`, and the detection counts recomputed from
//! the surviving records' rule lists. It is written last: a rerun of a done rank does
//! nothing. The rejects entry is kept as is (its path relative to the run folder, where
//! `manifest merge` reads it).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::cluster::{self, Removal};
use super::sigs::{self, DocReader, DocRow};
use crate::error::{Error, Result};
use crate::manifest::Manifest;
use crate::output::{JsonlShards, OutCompression, ShardInfo};
use crate::rules::RuleSet;

/// Kept bytes of a JSONL shard compressed as one frame.
pub const CHUNK_BYTES: usize = 4 << 20;

/// What a filter task did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FilterReport {
    /// The rank.
    pub rank: u32,
    /// Already done; nothing was read or written.
    pub skipped: bool,
    /// Records read from the rank's shards.
    pub records_in: u64,
    /// Records written to the final shards.
    pub records_out: u64,
    /// Exact duplicates dropped.
    pub exact_removed: u64,
    /// Near duplicates dropped.
    pub near_removed: u64,
}

/// `DIR/final/_manifest/{rank:05}.json`.
pub fn final_manifest_path(dir: &Path, rank: u32) -> PathBuf {
    super::rank_manifest_path(&dir.join(super::FINAL_DIR), rank)
}

/// Reads a manifest file (any name).
pub fn read_manifest_file(path: &Path) -> Result<Manifest> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Manifest {
        path: path.to_path_buf(),
        reason: format!("not a scrubline manifest: {e}"),
    })
}

/// `part-r00003-00012.jsonl.zst` → (`part-r00003-`, 12, `jsonl.zst`).
pub fn parse_shard_name(name: &str) -> Option<(String, u32, &'static str)> {
    let ext = ["jsonl.zst", "jsonl.gz", "jsonl", "parquet"]
        .into_iter()
        .find(|e| name.ends_with(&format!(".{e}")))?;
    let stem = &name[..name.len() - ext.len() - 1];
    let dash = stem.rfind('-')?;
    let digits = &stem[dash + 1..];
    if digits.len() < 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((stem[..=dash].to_string(), digits.parse().ok()?, ext))
}

struct Cursor<'a> {
    docs: DocReader,
    removals: std::iter::Peekable<std::slice::Iter<'a, Removal>>,
    next_row: u64,
    counts: Vec<u64>,
    report: &'a mut FilterReport,
}

impl Cursor<'_> {
    /// Pairs the next record (of shard `k`) with its docs row; true when it survives.
    fn next(&mut self, k: u32, shard_path: &Path) -> Result<bool> {
        let row: DocRow = self.docs.next_row()?.ok_or_else(|| Error::Output {
            path: shard_path.to_path_buf(),
            reason: "more records in the shards than rows in the docs table".into(),
        })?;
        if row.shard != k || row.row != self.next_row {
            return Err(Error::Output {
                path: shard_path.to_path_buf(),
                reason: format!(
                    "record {} does not match the docs table (row {}, shard {})",
                    self.next_row, row.row, row.shard
                ),
            });
        }
        self.next_row += 1;
        self.report.records_in += 1;
        if let Some(r) = self.removals.peek() {
            if r.row == row.row {
                if r.doc_id != row.doc_id {
                    return Err(Error::Output {
                        path: shard_path.to_path_buf(),
                        reason: format!("remove list and docs table disagree at row {}", row.row),
                    });
                }
                match r.kind {
                    super::candidates::Kind::Exact => self.report.exact_removed += 1,
                    super::candidates::Kind::Near => self.report.near_removed += 1,
                }
                self.removals.next();
                return Ok(false);
            }
        }
        for &rule in &row.rules {
            let i = rule as usize;
            if i >= self.counts.len() {
                self.counts.resize(i + 1, 0);
            }
            self.counts[i] += 1;
        }
        self.report.records_out += 1;
        Ok(true)
    }
}

/// Runs the filter of rank `rank` over the run folder `dir`; `rules` is the run's rule set
/// (checked against the manifest's `ruleset_sha256`).
pub fn filter(dir: &Path, rank: u32, rules: &RuleSet) -> Result<FilterReport> {
    let mut report = FilterReport {
        rank,
        ..Default::default()
    };
    let done = final_manifest_path(dir, rank);
    if done.exists() {
        report.skipped = true;
        return Ok(report);
    }
    let cluster_path = dir.join(cluster::REPORT_FILE);
    let cluster_report: cluster::ClusterReport = {
        let bytes = std::fs::read(&cluster_path).map_err(|e| Error::Output {
            path: cluster_path.clone(),
            reason: format!("run `scrubline dedup cluster` first ({e})"),
        })?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Output {
            path: cluster_path.clone(),
            reason: format!("not a cluster report: {e}"),
        })?
    };
    let manifest_path = super::rank_manifest_path(dir, rank);
    let m = read_manifest_file(&manifest_path)?;
    if m.ruleset_sha256 != rules.sha256() {
        return Err(Error::Manifest {
            path: manifest_path,
            reason: "the rule set given is not the one the run used (ruleset_sha256 differs)"
                .into(),
        });
    }
    let removals = cluster::read_removals(&cluster::remove_path(dir, rank))?;
    let final_dir = dir.join(super::FINAL_DIR);
    std::fs::create_dir_all(&final_dir).map_err(|e| Error::io(&final_dir, e))?;
    let zstd_level = m
        .config
        .get("zstd_level")
        .and_then(|v| v.as_i64())
        .unwrap_or(3) as i32;

    // Parquet shards keep the run's row-group size and compression level.
    let opts = crate::columnar::WriterOptions {
        max_row_group_rows: m
            .config
            .get("row_group_rows")
            .and_then(|v| v.as_u64())
            .map_or(
                crate::columnar::WriterOptions::default().max_row_group_rows,
                |r| r as usize,
            ),
        compression: parquet::basic::Compression::ZSTD(
            parquet::basic::ZstdLevel::try_new(zstd_level)
                .map_err(|e| Error::Config(e.to_string()))?,
        ),
        ..Default::default()
    };
    let mut cur = Cursor {
        docs: DocReader::open(&sigs::docs_path(dir, rank))?,
        removals: removals.iter().peekable(),
        next_row: 0,
        counts: Vec::new(),
        report: &mut report,
    };
    let mut outputs: Vec<ShardInfo> = Vec::new();
    for (pos, shard) in m.outputs.iter().enumerate() {
        let src = dir.join(&shard.path);
        let name = Path::new(&shard.path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (prefix, k, ext) = parse_shard_name(&name).unwrap_or((String::new(), pos as u32, ""));
        let dst_dir = final_dir.join(Path::new(&shard.path).parent().unwrap_or(Path::new("")));
        let rel_dir = Path::new(&shard.path)
            .parent()
            .unwrap_or(Path::new(""))
            .to_path_buf();
        if ext == "parquet" {
            if let Some(info) = filter_parquet(&src, &dst_dir.join(&name), k, &opts, &mut cur)? {
                outputs.push(ShardInfo {
                    path: rel(&rel_dir, &info.path),
                    ..info
                });
            }
        } else {
            let compression = if name.ends_with(".zst") {
                OutCompression::Zstd
            } else if name.ends_with(".gz") {
                OutCompression::Gzip
            } else {
                OutCompression::None
            };
            let mut shards = JsonlShards::new(&dst_dir, &prefix, compression);
            filter_jsonl(&src, k, &mut cur, &mut |chunk, n| {
                shards.append(k, compression.compress(chunk, zstd_level), n)
            })?;
            for info in shards.finish()? {
                if info.path != name {
                    return Err(Error::Output {
                        path: src.clone(),
                        reason: format!("shard name `{name}` is not of the form PREFIX-NNNNN.EXT"),
                    });
                }
                outputs.push(ShardInfo {
                    path: rel(&rel_dir, &info.path),
                    ..info
                });
            }
        }
    }
    if cur.docs.next_row()?.is_some() {
        return Err(Error::Output {
            path: sigs::docs_path(dir, rank),
            reason: "the docs table has more rows than the shards have records".into(),
        });
    }
    if cur.removals.next().is_some() {
        return Err(Error::Output {
            path: cluster::remove_path(dir, rank),
            reason: "the remove list names rows the shards do not have".into(),
        });
    }
    let counts = std::mem::take(&mut cur.counts);
    drop(cur);
    let rank_counts = cluster_report
        .by_rank
        .iter()
        .find(|c| c.rank == rank)
        .cloned()
        .unwrap_or_default();
    if (rank_counts.exact_removed, rank_counts.near_removed)
        != (report.exact_removed, report.near_removed)
    {
        return Err(Error::Output {
            path: cluster_path,
            reason: format!(
                "the cluster report's counts for rank {rank} do not match its remove list"
            ),
        });
    }

    let mut fm = m.clone();
    fm.outputs = outputs;
    fm.finished_at = crate::manifest::now_rfc3339();
    let t = &mut fm.totals;
    t.records_out = report.records_out;
    t.duplicates_removed += report.exact_removed;
    t.near_duplicates_removed += report.near_removed;
    t.near_duplicate_clusters += rank_counts.near_clusters;
    let mut by_type: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_rule: BTreeMap<String, u64> = BTreeMap::new();
    for (i, &n) in counts.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let rule = rules.rules().get(i).ok_or_else(|| Error::Output {
            path: sigs::docs_path(dir, rank),
            reason: format!("rule index {i} is not in the rule set"),
        })?;
        *by_type.entry(rule.entity.clone()).or_default() += n;
        *by_rule.entry(rule.id.clone()).or_default() += n;
    }
    t.detections_by_type = by_type;
    t.detections_by_rule = by_rule;
    super::write_json_atomic(&done, &fm)?;
    Ok(report)
}

fn rel(dir: &Path, name: &str) -> String {
    if dir.as_os_str().is_empty() {
        name.to_string()
    } else {
        dir.join(name).to_string_lossy().replace('\\', "/")
    }
}

fn filter_jsonl(
    src: &Path,
    k: u32,
    cur: &mut Cursor<'_>,
    emit: &mut dyn FnMut(&[u8], u64) -> Result<()>,
) -> Result<()> {
    let mut r = BufReader::with_capacity(1 << 17, crate::output::open_shard(src)?);
    let mut line = Vec::new();
    let mut chunk: Vec<u8> = Vec::new();
    let mut n = 0u64;
    loop {
        line.clear();
        let got = r
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io(src, e))?;
        if got == 0 {
            break;
        }
        if cur.next(k, src)? {
            chunk.extend_from_slice(&line);
            n += 1;
            if chunk.len() >= CHUNK_BYTES {
                emit(&chunk, n)?;
                chunk.clear();
                n = 0;
            }
        }
    }
    if n > 0 {
        emit(&chunk, n)?;
    }
    Ok(())
}

fn filter_parquet(
    src: &Path,
    dst: &Path,
    k: u32,
    opts: &crate::columnar::WriterOptions,
    cur: &mut Cursor<'_>,
) -> Result<Option<ShardInfo>> {
    let file = crate::columnar::ParquetFile::open(src)?;
    let tmp = crate::output::temp_path(dst);
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let mut w = crate::columnar::ShardWriter::create(&tmp, file.schema().clone(), opts)?;
    for batch in file.batches(file.batch_size_for(64 << 20)) {
        let batch = batch?;
        let mut keep = Vec::with_capacity(batch.num_rows());
        for _ in 0..batch.num_rows() {
            keep.push(cur.next(k, src)?);
        }
        let mask = arrow_array::BooleanArray::from(keep);
        let kept = arrow_select::filter::filter_record_batch(&batch, &mask).map_err(|e| {
            Error::Parquet {
                path: src.to_path_buf(),
                reason: e.to_string(),
            }
        })?;
        if kept.num_rows() > 0 {
            w.write(&kept)?;
        }
    }
    if w.rows() == 0 {
        drop(w);
        let _ = std::fs::remove_file(&tmp);
        return Ok(None);
    }
    let s = w.close()?;
    std::fs::rename(&tmp, dst).map_err(|e| Error::io(dst, e))?;
    crate::output::sync_parent(dst)?;
    Ok(Some(ShardInfo {
        path: dst
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        records: s.rows,
        bytes: s.bytes,
        sha256: s.sha256,
        row_groups: Some(s.row_groups as u64),
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn shard_names() {
        assert_eq!(
            super::parse_shard_name("part-r00003-00012.jsonl.zst"),
            Some(("part-r00003-".into(), 12, "jsonl.zst"))
        );
        assert_eq!(
            super::parse_shard_name("part-00001.parquet"),
            Some(("part-".into(), 1, "parquet"))
        );
        assert_eq!(super::parse_shard_name("part-1.jsonl"), None);
        assert_eq!(super::parse_shard_name("x.txt"), None);
    }
}
