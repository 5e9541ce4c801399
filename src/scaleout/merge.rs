//! `scrubline manifest merge DIR`: folds the per-rank manifests into one run manifest.
//!
//! Reads `DIR/final/_manifest/*.json` when the filter stage ran (else `DIR/_manifest/`),
//! requires ranks `0..n` with no gap (and `n` equal to the world size when the manifests
//! record one), and requires every rank to agree on the schema version, tool version,
//! configuration hash, rule set and key fingerprint (the error names the first rank that
//! differs). It writes `manifest.json` next to the shards (`DIR/final/` or `DIR/`):
//!
//! * `inputs`: every rank's inputs, sorted by file index;
//! * `outputs`: every rank's shards in rank order (paths relative to that folder);
//! * `totals`: sums (maps summed key by key);
//! * `rejects`: counts summed; the rank reject files (read from the run folder)
//!   concatenated into
//!   `rejects/rejects.jsonl`, lines ordered by (file index, line) as a single run orders
//!   them, with the first [`MAX_LISTED_REJECTS`](crate::manifest::MAX_LISTED_REJECTS)
//!   locations in that order;
//! * `started_at` the earliest rank's, `finished_at` now; the rest from rank 0.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::Digest;

use crate::error::{Error, Result};
use crate::manifest::{Manifest, RejectsEntry, Totals};

/// Where the merge reads from and writes to: `(manifest folder, output folder)`.
pub fn merge_dirs(dir: &Path) -> (PathBuf, PathBuf) {
    let fin = dir.join(super::FINAL_DIR);
    if fin.join(super::MANIFEST_DIR).is_dir() {
        (fin.join(super::MANIFEST_DIR), fin)
    } else {
        (dir.join(super::MANIFEST_DIR), dir.to_path_buf())
    }
}

/// Merges the rank manifests of `dir` and writes the run manifest; returns it and the
/// folder it was written to.
pub fn merge(dir: &Path) -> Result<(Manifest, PathBuf)> {
    let (mdir, out) = merge_dirs(dir);
    let files = super::numbered_files(&mdir, "json")?;
    if files.is_empty() {
        return Err(Error::Output {
            path: mdir,
            reason: "no rank manifests".into(),
        });
    }
    let mut ranks = Vec::new();
    for (i, (r, path)) in files.iter().enumerate() {
        if *r as usize != i {
            return Err(Error::Output {
                path: mdir.clone(),
                reason: format!("rank {i} has no manifest (ranks must be 0..n without gaps)"),
            });
        }
        ranks.push((*r, super::filter::read_manifest_file(path)?));
    }
    // Every rank manifest records its partition; the first one's world size says how
    // many there must be.
    let world = ranks[0].1.partition.map(|p| p.world_size);
    if let Some(w) = world {
        if w as usize != ranks.len() {
            return Err(Error::Output {
                path: mdir,
                reason: format!(
                    "{} rank manifests for a world size of {w}: not every rank has finished",
                    ranks.len()
                ),
            });
        }
    }
    let mut merged = merge_manifests(&ranks)?;
    merged.rejects = merge_rejects(dir, &out, &ranks)?;
    merged.write(&out)?;
    Ok((merged, out))
}

/// The pure part of [`merge`]: everything but the rejects file.
pub fn merge_manifests(ranks: &[(u32, Manifest)]) -> Result<Manifest> {
    let (_, first) = ranks
        .first()
        .ok_or_else(|| Error::Config("no manifests".into()))?;
    let mut m = first.clone();
    for (r, x) in ranks {
        let checks: [(&str, String, String); 5] = [
            (
                "schema_version",
                x.schema_version.to_string(),
                first.schema_version.to_string(),
            ),
            (
                "tool_version",
                x.tool_version.clone(),
                first.tool_version.clone(),
            ),
            (
                "config_sha256",
                x.config_sha256.clone(),
                first.config_sha256.clone(),
            ),
            (
                "ruleset_sha256",
                x.ruleset_sha256.clone(),
                first.ruleset_sha256.clone(),
            ),
            (
                "key_fingerprint",
                x.key_fingerprint.clone(),
                first.key_fingerprint.clone(),
            ),
        ];
        for (what, a, b) in checks {
            if a != b {
                return Err(Error::Config(format!(
                    "rank {r}: {what} differs from rank {}'s ({a} vs {b}); ranks of different runs?",
                    ranks[0].0
                )));
            }
        }
        // A manifest that records its partition must be this rank's, of the same world: a
        // stale one from a run split differently would otherwise merge.
        let world = first.partition.map(|p| p.world_size);
        if let Some(p) = x.partition {
            if p.rank != *r || Some(p.world_size) != world {
                return Err(Error::Config(format!(
                    "rank {r}: its manifest is rank {} of {}, not rank {r} of {}; ranks of different runs?",
                    p.rank,
                    p.world_size,
                    world.map_or("an unpartitioned run".to_string(), |w| w.to_string())
                )));
            }
        }
    }
    m.partition = None;
    m.started_at = ranks
        .iter()
        .map(|(_, x)| x.started_at.clone())
        .min()
        .unwrap_or_default();
    m.finished_at = crate::manifest::now_rfc3339();
    m.inputs = ranks.iter().flat_map(|(_, x)| x.inputs.clone()).collect();
    m.inputs.sort_by_key(|i| i.index);
    m.outputs = ranks.iter().flat_map(|(_, x)| x.outputs.clone()).collect();
    let mut t = Totals::default();
    for (_, x) in ranks {
        let s = &x.totals;
        t.records_in += s.records_in;
        t.records_out += s.records_out;
        t.records_rejected += s.records_rejected;
        t.duplicates_removed += s.duplicates_removed;
        t.near_duplicates_removed += s.near_duplicates_removed;
        t.near_duplicate_clusters += s.near_duplicate_clusters;
        t.blank_lines += s.blank_lines;
        add_maps(&mut t.detections_by_type, &s.detections_by_type);
        add_maps(&mut t.detections_by_rule, &s.detections_by_rule);
    }
    m.totals = t;
    let mut rej = RejectsEntry::default();
    for (_, x) in ranks {
        rej.records += x.rejects.records;
        add_maps(&mut rej.by_reason, &x.rejects.by_reason);
        rej.locations.extend(x.rejects.locations.iter().cloned());
    }
    rej.locations.sort_by_key(|l| (l.file, l.line));
    rej.locations.truncate(crate::manifest::MAX_LISTED_REJECTS);
    m.rejects = rej;
    Ok(m)
}

fn add_maps(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

/// Concatenates the ranks' reject files (paths relative to the run folder `dir`) into
/// `out/rejects/rejects.jsonl`, ordered by (file, line).
fn merge_rejects(dir: &Path, out: &Path, ranks: &[(u32, Manifest)]) -> Result<RejectsEntry> {
    let base = merge_manifests(ranks)?.rejects;
    let mut lines: Vec<((u64, u64), Vec<u8>)> = Vec::new();
    for (_, x) in ranks {
        let Some(p) = &x.rejects.path else { continue };
        let path = dir.join(p);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        for line in bytes.split_inclusive(|&b| b == b'\n') {
            #[derive(serde::Deserialize)]
            struct Loc {
                file: u64,
                line: u64,
            }
            let loc: Loc = serde_json::from_slice(line).map_err(|e| Error::Manifest {
                path: path.clone(),
                reason: format!("not a rejects line: {e}"),
            })?;
            lines.push(((loc.file, loc.line), line.to_vec()));
        }
    }
    if lines.is_empty() {
        return Ok(base);
    }
    lines.sort_by_key(|(k, _)| *k);
    let bytes: Vec<u8> = lines.into_iter().flat_map(|(_, l)| l).collect();
    let rel = "rejects/rejects.jsonl";
    let path = out.join(rel);
    let dir = path.parent().expect("has a folder");
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    crate::output::write_atomic(&path, &bytes)?;
    Ok(RejectsEntry {
        path: Some(rel.to_string()),
        sha256: Some(hex::encode(sha2::Sha256::digest(&bytes))),
        ..base
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{InputEntry, RejectLocation};
    use crate::output::ShardInfo;

    fn rank(r: u32, inputs: &[u32]) -> Manifest {
        let mut t = Totals {
            records_in: 10,
            records_out: 8,
            records_rejected: 1,
            ..Default::default()
        };
        t.detections_by_type
            .insert("EMAIL".into(), 2 + u64::from(r));
        Manifest {
            schema_version: 1,
            tool: "scrubline".into(),
            tool_version: "0.1.0".into(),
            started_at: format!("2026-11-28T10:00:0{r}Z"),
            finished_at: "x".into(),
            config: serde_json::json!({}),
            config_sha256: "c".into(),
            ruleset_sha256: "r".into(),
            key_fingerprint: "k".into(),
            partition: None,
            inputs: inputs
                .iter()
                .map(|&i| InputEntry {
                    index: i,
                    path: format!("in/{i}.jsonl"),
                    format: crate::input::Format::Jsonl,
                    bytes: 1,
                    sha256: String::new(),
                    records_read: 10,
                    records_rejected: 0,
                    row_groups: None,
                    schema_sha256: None,
                })
                .collect(),
            outputs: vec![ShardInfo {
                path: format!("part-r{r:05}-00000.jsonl.zst"),
                records: 8,
                bytes: 1,
                sha256: String::new(),
                row_groups: None,
            }],
            rejects: RejectsEntry {
                records: 1,
                by_reason: [("invalid_json".to_string(), 1)].into(),
                locations: vec![RejectLocation {
                    file: inputs[0],
                    line: 3,
                    reason: "invalid_json".into(),
                }],
                ..Default::default()
            },
            totals: t,
        }
    }

    #[test]
    fn sums_sorts_and_checks_agreement() {
        let ranks = vec![(0, rank(0, &[0, 2])), (1, rank(1, &[1]))];
        let m = merge_manifests(&ranks).unwrap();
        assert_eq!(
            m.inputs.iter().map(|i| i.index).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert_eq!(m.outputs[1].path, "part-r00001-00000.jsonl.zst");
        assert_eq!(m.totals.records_in, 20);
        assert_eq!(m.totals.detections_by_type["EMAIL"], 5);
        assert_eq!(m.rejects.records, 2);
        assert_eq!(m.rejects.locations[1].file, 1);
        assert_eq!(m.started_at, "2026-11-28T10:00:00Z");
        let mut bad = rank(1, &[1]);
        bad.key_fingerprint = "other".into();
        let err = merge_manifests(&[(0, rank(0, &[0])), (1, bad)])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("rank 1") && err.contains("key_fingerprint"),
            "{err}"
        );
    }

    #[test]
    fn merges_files_and_refuses_gaps() {
        let d = tempfile::tempdir().unwrap();
        let mdir = d.path().join("_manifest");
        std::fs::create_dir_all(&mdir).unwrap();
        for r in [0u32, 2] {
            let mut m = rank(r, &[r]);
            m.rejects.path = Some(format!("rejects/r{r:05}.jsonl"));
            std::fs::create_dir_all(d.path().join("rejects")).unwrap();
            std::fs::write(
                d.path().join(format!("rejects/r{r:05}.jsonl")),
                format!("{{\"file\":{r},\"line\":3}}\n"),
            )
            .unwrap();
            crate::scaleout::write_json_atomic(&mdir.join(format!("{r:05}.json")), &m).unwrap();
        }
        assert!(merge(d.path()).unwrap_err().to_string().contains("rank 1"));
        let mut m1 = rank(1, &[1]);
        m1.rejects.path = None;
        m1.rejects.records = 0;
        m1.totals.records_rejected = 0;
        m1.rejects.locations.clear();
        m1.rejects.by_reason.clear();
        crate::scaleout::write_json_atomic(&mdir.join("00001.json"), &m1).unwrap();
        let (m, out) = merge(d.path()).unwrap();
        assert_eq!(out, d.path());
        assert_eq!(m.rejects.records, 2);
        assert_eq!(m.totals.records_rejected, 2);
        assert_eq!(
            std::fs::read_to_string(d.path().join("rejects/rejects.jsonl")).unwrap(),
            "{\"file\":0,\"line\":3}\n{\"file\":2,\"line\":3}\n"
        );
        assert_eq!(Manifest::read(d.path()).unwrap(), m);
    }

    #[test]
    fn refuses_fewer_manifests_than_the_world_size() {
        let d = tempfile::tempdir().unwrap();
        let mdir = d.path().join("_manifest");
        std::fs::create_dir_all(&mdir).unwrap();
        for r in [0u32, 1] {
            let mut m = rank(r, &[r]);
            m.rejects = RejectsEntry::default();
            m.partition = Some(crate::pipeline::Partition {
                rank: r,
                world_size: 3,
            });
            crate::scaleout::write_json_atomic(&mdir.join(format!("{r:05}.json")), &m).unwrap();
        }
        let err = merge(d.path()).unwrap_err().to_string();
        assert!(err.contains("not every rank has finished"), "{err}");
    }

    #[test]
    fn refuses_a_manifest_of_another_rank_or_world() {
        let part = |r: u32, world_size| {
            let mut m = rank(r, &[r]);
            m.partition = Some(crate::pipeline::Partition {
                rank: r,
                world_size,
            });
            m
        };
        let ok = merge_manifests(&[(0, part(0, 2)), (1, part(1, 2))]);
        assert!(ok.is_ok(), "{ok:?}");
        for stale in [part(1, 3), part(0, 2)] {
            let err = merge_manifests(&[(0, part(0, 2)), (1, stale)])
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("rank 1") && err.contains("different runs"),
                "{err}"
            );
        }
    }
}
