//! Checkpoints, so that `run --resume` continues a killed run and still writes exactly the
//! bytes an uninterrupted run would.
//!
//! State lives in `DIR/.scrubline/`:
//!
//! * `state.json`: where the ordered side stood after the last checkpoint (next batch,
//!   partial counts, finished shards, the open JSONL shard's length, the lengths of the
//!   rejects file, the dedup report and the logs below), written atomically;
//! * `exact.log`: every new exact fingerprint with its doc id (24 bytes each);
//! * `lsh.log`: every record fed to the near-duplicate index: doc id, band hashes, sketch.
//!
//! A checkpoint first makes every file durable up to the recorded lengths, then writes
//! `state.json`; a resume cuts every file back to those lengths, rebuilds both dedup
//! indexes by replaying the logs, skips the batches already handled and goes on. Because
//! every decision depends only on the input, the rest comes out as it would have.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::manifest::{InputEntry, RejectsEntry, Totals};
use crate::output::{OpenShardState, ShardInfo};

/// The hidden folder of checkpoint state inside an output folder.
pub const STATE_DIR: &str = ".scrubline";
const STATE_FILE: &str = "state.json";
const STATE_VERSION: u32 = 1;

/// What must match for a resume to be allowed.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Identity {
    pub config_sha256: String,
    pub ruleset_sha256: String,
    pub key_fingerprint: String,
    /// `(path, size)` of every input.
    pub files: Vec<(String, u64)>,
}

/// The ordered side's state at a checkpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct State {
    pub version: u32,
    pub identity: Identity,
    pub started_at: String,
    /// Batches (in input order) fully handled.
    pub next_batch: u64,
    pub inputs: Vec<InputEntry>,
    pub totals: Totals,
    pub counts: Vec<u64>,
    pub rejects: RejectsEntry,
    pub rejects_len: u64,
    pub report_len: u64,
    pub exact_len: u64,
    pub lsh_len: u64,
    pub jsonl_done: Vec<ShardInfo>,
    pub jsonl_open: Option<OpenShardState>,
    pub shard_index: u32,
    pub shard_bytes: u64,
    pub parquet_done: Vec<ShardInfo>,
    pub parquet_next: u32,
}

impl State {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(STATE_DIR).join(STATE_FILE)
    }

    pub fn read(dir: &Path) -> Result<Option<State>> {
        let path = State::path(dir);
        if !path.exists() {
            return Ok(None);
        }
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let state: State = serde_json::from_slice(&bytes).map_err(|e| Error::Manifest {
            path: path.clone(),
            reason: format!("unreadable checkpoint: {e}"),
        })?;
        if state.version != STATE_VERSION {
            return Err(Error::Manifest {
                path,
                reason: format!(
                    "checkpoint version {} (this scrubline writes {STATE_VERSION})",
                    state.version
                ),
            });
        }
        Ok(Some(state))
    }

    pub fn write(&self, dir: &Path) -> Result<()> {
        let bytes = serde_json::to_vec(self).expect("state serializes");
        crate::output::write_atomic(&State::path(dir), &bytes)
    }

    pub fn new_version() -> u32 {
        STATE_VERSION
    }
}

/// An append-only binary log of fixed-size entries.
pub(crate) struct Log {
    path: PathBuf,
    out: BufWriter<File>,
    len: u64,
}

impl Log {
    /// Opens `name` in the state folder, cut back to `len` bytes (0: a new log).
    pub fn open(dir: &Path, name: &str, len: u64) -> Result<Log> {
        let state = dir.join(STATE_DIR);
        std::fs::create_dir_all(&state).map_err(|e| Error::io(&state, e))?;
        let path = state.join(name);
        let f = crate::output::reopen_at(&path, len)?;
        Ok(Log {
            path,
            out: BufWriter::with_capacity(1 << 20, f),
            len,
        })
    }

    /// Reads the whole log (before appending to it), in `entry`-byte records.
    pub fn replay(&self, entry: usize, mut f: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
        let mut file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        let mut buf = vec![0u8; entry * 4096];
        let mut left = self.len;
        while left > 0 {
            let want = buf.len().min(left as usize);
            file.read_exact(&mut buf[..want])
                .map_err(|e| Error::io(&self.path, e))?;
            for rec in buf[..want].chunks_exact(entry) {
                f(rec)?;
            }
            left -= want as u64;
        }
        Ok(())
    }

    pub fn append(&mut self, bytes: &[u8]) -> Result<()> {
        self.out
            .write_all(bytes)
            .map_err(|e| Error::io(&self.path, e))?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Flushes and fsyncs; returns the durable length.
    pub fn checkpoint(&mut self) -> Result<u64> {
        self.out.flush().map_err(|e| Error::io(&self.path, e))?;
        self.out
            .get_ref()
            .sync_data()
            .map_err(|e| Error::io(&self.path, e))?;
        Ok(self.len)
    }
}

/// Removes the checkpoint state after a complete run.
pub(crate) fn clear(dir: &Path) -> Result<()> {
    let state = dir.join(STATE_DIR);
    if state.exists() {
        std::fs::remove_dir_all(&state).map_err(|e| Error::io(&state, e))?;
    }
    Ok(())
}

/// Removes shards and temporary files that a checkpoint does not know: written after it,
/// they will be written again, identically.
pub(crate) fn remove_unknown_outputs(
    dir: &Path,
    known: &[&str],
    open_tmp: &[String],
) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let shard = name.starts_with("part-") && !known.contains(&name.as_str());
        let tmp = name.starts_with(".part-") && name.ends_with(".tmp") && !open_tmp.contains(&name);
        if shard || tmp {
            std::fs::remove_file(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
        }
    }
    Ok(())
}
