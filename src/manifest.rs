//! The audit manifest: what a run read, what it wrote and what it changed, so a
//! data-governance reviewer can verify the result without seeing a raw value.
//!
//! It holds paths, sizes, hashes of files, counts, the configuration and the key's
//! fingerprint. It never holds a record, a matched value or the key.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::output::ShardInfo;

/// Version of the manifest layout; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// File name of the manifest in the output folder.
pub const FILE_NAME: &str = "manifest.json";

/// The run manifest (`DIR/manifest.json`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `scrubline`.
    pub tool: String,
    /// The crate version that wrote it.
    pub tool_version: String,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// RFC 3339 UTC.
    pub finished_at: String,
    /// The effective configuration (every setting that affects the output).
    pub config: serde_json::Value,
    /// SHA-256 of the canonical JSON of `config`.
    pub config_sha256: String,
    /// SHA-256 of the rule files used.
    pub ruleset_sha256: String,
    /// `hmac-sha256:<hex>` or `ephemeral`.
    pub key_fingerprint: String,
    /// For one rank of a partitioned run: its rank and the world size.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub partition: Option<crate::pipeline::Partition>,
    /// Every input file, in processing order.
    pub inputs: Vec<InputEntry>,
    /// Every output shard, in order.
    pub outputs: Vec<ShardInfo>,
    /// Records set aside.
    pub rejects: RejectsEntry,
    /// Totals.
    pub totals: Totals,
}

/// One input file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct InputEntry {
    /// Index in the run's listing: the first half of every record's identity.
    pub index: u32,
    /// Path as found from the `--input` arguments.
    pub path: String,
    /// `jsonl` or `parquet`.
    pub format: crate::input::Format,
    /// Size of the file.
    pub bytes: u64,
    /// SHA-256 of the file's bytes (compressed, as stored).
    pub sha256: String,
    /// Records read (lines or rows), rejected ones included; blank lines excluded.
    pub records_read: u64,
    /// Records set aside (file-level rejects, which stand for no record read, are not
    /// counted here: see [`crate::pipeline::reason::is_file_level`]).
    pub records_rejected: u64,
    /// Parquet: row groups.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub row_groups: Option<u64>,
    /// Parquet: SHA-256 of the Arrow schema.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub schema_sha256: Option<String>,
}

/// Rejected records: counted here, kept (scrubbed) in `rejects/rejects.jsonl`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct RejectsEntry {
    /// Path of the rejects file relative to the output folder, when there were any.
    pub path: Option<String>,
    /// Records rejected.
    pub records: u64,
    /// SHA-256 of the rejects file.
    pub sha256: Option<String>,
    /// Count per reason code (`invalid_json`, `invalid_utf8`, …).
    pub by_reason: BTreeMap<String, u64>,
    /// The first locations (file index, line or row, reason), at most [`MAX_LISTED_REJECTS`].
    pub locations: Vec<RejectLocation>,
}

/// How many reject locations the manifest lists; the rejects file has all of them.
pub const MAX_LISTED_REJECTS: usize = 1000;

/// Where a rejected record was.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RejectLocation {
    /// Input file index.
    pub file: u32,
    /// Line (JSONL) or row (Parquet), 1-based for lines, 0-based for rows; 0 for a whole file.
    pub line: u64,
    /// Reason code.
    pub reason: String,
}

/// Run totals.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Totals {
    /// Records read, rejected ones included.
    pub records_in: u64,
    /// Records written.
    pub records_out: u64,
    /// Records set aside (file-level rejects, which stand for no record read, are not
    /// counted here: see [`crate::pipeline::reason::is_file_level`]).
    pub records_rejected: u64,
    /// Exact (normalized) duplicates removed.
    pub duplicates_removed: u64,
    /// Near-duplicates removed.
    pub near_duplicates_removed: u64,
    /// Near-duplicate clusters (groups with at least one removed record).
    pub near_duplicate_clusters: u64,
    /// Blank lines skipped (not records).
    pub blank_lines: u64,
    /// Values replaced, per entity type.
    pub detections_by_type: BTreeMap<String, u64>,
    /// Values replaced, per rule id.
    pub detections_by_rule: BTreeMap<String, u64>,
}

impl Manifest {
    /// Reads `DIR/manifest.json`.
    pub fn read(dir: &Path) -> Result<Manifest> {
        let path = dir.join(FILE_NAME);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Manifest {
            path,
            reason: format!("not a scrubline manifest: {e}"),
        })
    }

    /// Writes it atomically to `DIR/manifest.json`, pretty-printed.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("manifest serializes");
        bytes.push(b'\n');
        crate::output::write_atomic(&dir.join(FILE_NAME), &bytes)
    }
}

/// Now, as RFC 3339 UTC with seconds.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
