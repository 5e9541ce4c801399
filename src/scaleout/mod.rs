//! Scale-out: one binary, stateless ranks, Parquet between stages (NOTES B.2).
//!
//! ```text
//! plan ─▶ run --plan --rank r (×W) ─▶ dedup candidates --rank p (×W2) ─▶ dedup cluster (×1)
//!      ─▶ dedup filter --rank r (×W) ─▶ manifest merge
//! ```
//!
//! Every unit of work is a pure function of (rank, world size, plan, config, key) and
//! commits its outputs under rank-named files, the marker file last, so any scheduler
//! (Slurm arrays, Kubernetes Indexed Jobs, a shell loop, Spark tasks) can drive it and a
//! rerun of a finished unit does nothing. Every stage keys on the stable record identity
//! `doc_id = file_index << 32 | ordinal` ([`crate::sink`]).
//!
//! Layout of a run folder `DIR` (all Parquet schemas are versioned, see [`sigs`]):
//!
//! | Path | Written by | What |
//! | --- | --- | --- |
//! | `part-r{R:05}-{k:05}.jsonl.zst` | `run --plan` rank R | scrubbed shards, no dedup |
//! | `docs/{R:05}.parquet` | rank R ([`sigs::SigSink`]) | one row per written record |
//! | `sig/{R:05}.parquet` | rank R ([`sigs::SigSink`]) | one row per (record, LSH band) |
//! | `_manifest/{R:05}.json` | rank R, last | per-rank manifest: the rank is done |
//! | `dedup/edges/{P:05}.parquet` | `dedup candidates --rank P` | duplicate edges of partition P |
//! | `dedup/remove/{R:05}.parquet` | `dedup cluster` | records rank R must drop |
//! | `dedup/cluster.json` | `dedup cluster`, last | counts; the stage is done |
//! | `final/part-r{R:05}-{k:05}.jsonl.zst` | `dedup filter --rank R` | final shards |
//! | `final/_manifest/{R:05}.json` | `dedup filter --rank R`, last | final per-rank manifest |
//! | `final/manifest.json` | `manifest merge` | the run manifest |

pub mod candidates;
pub mod cluster;
pub mod filter;
pub mod merge;
pub mod plan;
pub mod rank;
pub mod sigs;
#[doc(hidden)]
pub mod testkit;

use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;

use crate::error::{Error, Result};

/// Folder of the per-rank manifests of a run (and of the filter stage, under `final/`).
pub const MANIFEST_DIR: &str = "_manifest";
/// Folder of the final (deduplicated) shards.
pub const FINAL_DIR: &str = "final";

/// `{rank:05}.{ext}`: the name of every rank- or partition-named file.
pub fn rank_file(rank: u32, ext: &str) -> String {
    format!("{rank:05}.{ext}")
}

/// `DIR/_manifest/{rank:05}.json`.
pub fn rank_manifest_path(dir: &Path, rank: u32) -> PathBuf {
    dir.join(MANIFEST_DIR).join(rank_file(rank, "json"))
}

/// The shard-name prefix of rank `rank`: `part-r{rank:05}-`.
pub fn shard_prefix(rank: u32) -> String {
    format!("part-r{rank:05}-")
}

/// Ranks (or partitions) `0..n` that have a `{r:05}.{ext}` file in `dir`, sorted; files
/// with other names are ignored.
pub fn numbered_files(dir: &Path, ext: &str) -> Result<Vec<(u32, PathBuf)>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let suffix = format!(".{ext}");
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(&suffix) else {
            continue;
        };
        if stem.len() >= 5 && stem.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(r) = stem.parse::<u32>() {
                out.push((r, entry.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Checks that `files` are exactly ranks `0..world`.
pub(crate) fn check_complete(files: &[(u32, PathBuf)], world: u32, what: &Path) -> Result<()> {
    for r in 0..world {
        if files.get(r as usize).map(|f| f.0) != Some(r) {
            return Err(Error::Output {
                path: what.to_path_buf(),
                reason: format!(
                    "rank/partition {r} of {world} has not finished (no {} here)",
                    rank_file(r, "parquet")
                ),
            });
        }
    }
    if files.len() as u64 > u64::from(world) {
        return Err(Error::Output {
            path: what.to_path_buf(),
            reason: format!(
                "{} files for a world size of {world}: a leftover of another run?",
                files.len()
            ),
        });
    }
    Ok(())
}

/// All record batches of a Parquet file, in order (for the small per-stage tables; each
/// batch is bounded by the reader's batch size).
pub(crate) fn read_batches(path: &Path) -> Result<(arrow_schema::SchemaRef, Vec<RecordBatch>)> {
    let f = crate::columnar::ParquetFile::open(path)?;
    let schema = f.schema().clone();
    let batches = f
        .batches(crate::columnar::DEFAULT_BATCH_SIZE)
        .collect::<Result<Vec<_>>>()?;
    Ok((schema, batches))
}

/// Key-value metadata of a Parquet file (the Arrow schema's metadata).
pub(crate) fn file_metadata(path: &Path) -> Result<std::collections::HashMap<String, String>> {
    let f = crate::columnar::ParquetFile::open(path)?;
    Ok(f.schema()
        .metadata()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect())
}

/// Writes `batches` to `path` atomically (temporary name, rename), with `schema` and the
/// footer key-value metadata `meta`.
pub(crate) fn write_parquet_atomic(
    path: &Path,
    schema: arrow_schema::SchemaRef,
    batches: &[RecordBatch],
    meta: &[(String, String)],
) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let tmp = crate::output::temp_path(path);
    let mut w = crate::columnar::ShardWriter::create(&tmp, schema, &writer_options())?;
    for (k, v) in meta {
        w.append_key_value_metadata(k, v);
    }
    for b in batches {
        w.write(b)?;
    }
    w.close()?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    crate::output::sync_dir(dir)
}

/// Writer options of the stage tables: zstd, row groups of 1 Mi rows.
pub(crate) fn writer_options() -> crate::columnar::WriterOptions {
    crate::columnar::WriterOptions {
        max_row_group_rows: 1 << 20,
        ..Default::default()
    }
}

/// A column of `batch` by name, downcast, or a schema error naming `path`.
pub(crate) fn column<'a, T: 'static>(
    batch: &'a RecordBatch,
    name: &str,
    path: &Path,
) -> Result<&'a T> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| Error::Parquet {
            path: path.to_path_buf(),
            reason: format!("column `{name}` missing or of the wrong type"),
        })
}

/// Opens a file for writing a small JSON marker atomically.
pub(crate) fn write_json_atomic<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut bytes = serde_json::to_vec_pretty(value).expect("serializes");
    bytes.push(b'\n');
    crate::output::write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests;
