//! `scrubline plan`: the input listing, resolved once, so every rank sees the same work.
//!
//! The plan is a versioned JSON file:
//!
//! ```json
//! {"version": 1, "inputs": ["corpus/"],
//!  "files": [{"index": 0, "path": "corpus/a.jsonl.zst", "size": 1234,
//!             "format": "jsonl", "compression": "zstd"}]}
//! ```
//!
//! `files` is exactly what [`crate::input::discover`] lists for `inputs` (byte-wise sorted
//! walk, in the order the inputs were given), so file indices, and with them every record's
//! identity, are those of a single run over the same inputs. Rank `r` of `W` takes
//! `files[r], files[r + W], …` ([`Plan::shard_of`]), keeping the global indices. Paths are
//! stored as discovered: give absolute inputs (or run every rank from the same folder)
//! when ranks run on several machines.
//!
//! Row-group splitting of large Parquet files is not implemented: a file is the unit of work.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::input::{Compression, Format, InputFile};

/// Version of the plan layout.
pub const PLAN_VERSION: u32 = 1;

/// A resolved input listing. See the [module docs](self).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// [`PLAN_VERSION`].
    pub version: u32,
    /// The `--input` paths as given.
    pub inputs: Vec<PathBuf>,
    /// Every input file, in index order.
    pub files: Vec<PlanFile>,
}

/// One input file of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanFile {
    /// Global file index: the high half of every record's `doc_id`.
    pub index: u32,
    /// Path to open.
    pub path: PathBuf,
    /// Size in bytes when planned.
    pub size: u64,
    /// `jsonl` or `parquet`.
    pub format: Format,
    /// `none`, `gzip` or `zstd` (JSONL only).
    pub compression: Compression,
}

impl Plan {
    /// Lists `inputs` (see [`crate::input::discover`]).
    pub fn build(inputs: &[PathBuf]) -> Result<Plan> {
        let files = crate::input::discover(inputs)?;
        Ok(Plan::from_files(inputs, &files))
    }

    /// A plan over an existing listing.
    pub fn from_files(inputs: &[PathBuf], files: &[InputFile]) -> Plan {
        Plan {
            version: PLAN_VERSION,
            inputs: inputs.to_vec(),
            files: files
                .iter()
                .map(|f| PlanFile {
                    index: f.index,
                    path: f.path.clone(),
                    size: f.size,
                    format: f.format,
                    compression: f.compression,
                })
                .collect(),
        }
    }

    /// Writes the plan atomically (temporary file, rename).
    pub fn write(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let mut bytes = serde_json::to_vec_pretty(self).expect("plan serializes");
        bytes.push(b'\n');
        crate::output::write_atomic(path, &bytes)
    }

    /// Reads and checks a plan: known version, indices `0..n` in order.
    pub fn read(path: &Path) -> Result<Plan> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let bad = |reason: String| Error::Config(format!("plan {}: {reason}", path.display()));
        let plan: Plan = serde_json::from_slice(&bytes)
            .map_err(|e| bad(format!("not a scrubline plan: {e}")))?;
        if plan.version != PLAN_VERSION {
            return Err(bad(format!(
                "version {} (this scrubline reads version {PLAN_VERSION})",
                plan.version
            )));
        }
        for (i, f) in plan.files.iter().enumerate() {
            if f.index as usize != i {
                return Err(bad(format!("file {i} has index {}", f.index)));
            }
        }
        Ok(plan)
    }

    /// Every file as an [`InputFile`], in index order.
    pub fn input_files(&self) -> Vec<InputFile> {
        self.files.iter().map(PlanFile::to_input).collect()
    }

    /// The files of rank `rank` of `world`: `files[rank::world]`, global indices kept.
    /// Panics when `world == 0`.
    pub fn shard_of(&self, rank: u32, world: u32) -> Vec<InputFile> {
        assert!(world > 0, "world size 0");
        self.files
            .iter()
            .skip(rank as usize)
            .step_by(world as usize)
            .map(PlanFile::to_input)
            .collect()
    }

    /// The rank of `world` that reads file `index`.
    pub fn owner_of(index: u32, world: u32) -> u32 {
        index % world
    }
}

impl PlanFile {
    /// As the pipeline's input type.
    pub fn to_input(&self) -> InputFile {
        InputFile {
            index: self.index,
            path: self.path.clone(),
            format: self.format,
            compression: self.compression,
            size: self.size,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(n: usize) -> (tempfile::TempDir, Plan) {
        let d = tempfile::tempdir().unwrap();
        for i in 0..n {
            std::fs::write(d.path().join(format!("f{i:02}.jsonl")), "{}\n").unwrap();
        }
        std::fs::write(d.path().join("z.parquet"), "x").unwrap();
        let plan = Plan::build(&[d.path().to_path_buf()]).unwrap();
        (d, plan)
    }

    #[test]
    fn round_trips_and_matches_discover() {
        let (d, plan) = corpus(5);
        assert_eq!(plan.files.len(), 6);
        assert_eq!(plan.files[5].format, Format::Parquet);
        assert_eq!(
            plan.input_files(),
            crate::input::discover(&[d.path().to_path_buf()]).unwrap()
        );
        let p = d.path().join("out/plan.json");
        plan.write(&p).unwrap();
        assert_eq!(Plan::read(&p).unwrap(), plan);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("\"version\": 1"), "{text}");
    }

    #[test]
    fn shards_partition_the_files_strided() {
        let (_d, plan) = corpus(9);
        for world in 1..=12u32 {
            let mut seen: Vec<u32> = (0..world)
                .flat_map(|r| {
                    let files = plan.shard_of(r, world);
                    for f in &files {
                        assert_eq!(f.index % world, r);
                        assert_eq!(Plan::owner_of(f.index, world), r);
                    }
                    files.into_iter().map(|f| f.index)
                })
                .collect();
            seen.sort();
            assert_eq!(seen, (0..10).collect::<Vec<_>>(), "world {world}");
        }
        let r1 = plan.shard_of(1, 3);
        assert_eq!(r1.iter().map(|f| f.index).collect::<Vec<_>>(), [1, 4, 7]);
    }

    #[test]
    fn rejects_other_versions_and_gaps() {
        let (d, mut plan) = corpus(2);
        let p = d.path().join("plan.json");
        plan.version = 2;
        plan.write(&p).unwrap();
        assert!(Plan::read(&p)
            .unwrap_err()
            .to_string()
            .contains("version 2"));
        plan.version = 1;
        plan.files.remove(0);
        plan.write(&p).unwrap();
        assert!(Plan::read(&p).unwrap_err().to_string().contains("index"));
    }
}
