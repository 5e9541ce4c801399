//! `scrubline dedup cluster`: one task joins the edges of every partition into clusters
//! and tells each rank which of its records to drop.
//!
//! Union-find over the edge graph; a cluster's survivor is its smallest `doc_id`. A record
//! is removed iff it has an edge (every edge points to a smaller root, so a record with an
//! edge is never its cluster's minimum); it counts as an exact duplicate when one of its
//! edges is exact, else as a near duplicate. Near-duplicate clusters are counted as the
//! single-process run counts them: connected components of the near edges of records that
//! are not exact duplicates; each is counted for the rank that owns its smallest record.
//!
//! # Output, schema version 1
//!
//! `DIR/dedup/remove/{R:05}.parquet` for every run rank `R`, one row per record of rank `R`
//! to drop, in the rank's output order: `doc_id: int64, row: int64` (position in the rank's
//! output, as in the docs table), `survivor: int64` (cluster root), `kind: utf8`
//! (`exact`|`near`). Then `DIR/dedup/cluster.json` ([`ClusterReport`]), written last: its
//! presence marks the stage done, and a rerun does nothing.
//!
//! # Memory
//!
//! All edges (24 B each) plus, per record that appears in an edge, 8 B id + 4 B parent +
//! 2 B flags: about 16 GB for a billion duplicate edges (NOTES B.2; beyond that, run the
//! connected components in Spark/GraphFrames over the same edge tables).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};

use super::candidates::{self, Kind};
use super::sigs::{self, meta};
use crate::error::{Error, Result};

/// Folder of the remove tables.
pub const REMOVE_DIR: &str = "dedup/remove";
/// The stage's report and done-marker.
pub const REPORT_FILE: &str = "dedup/cluster.json";

/// Counts of one run rank.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankCounts {
    /// The rank.
    pub rank: u32,
    /// Its records removed as exact duplicates.
    pub exact_removed: u64,
    /// Its records removed as near duplicates.
    pub near_removed: u64,
    /// Near-duplicate clusters whose survivor it owns.
    pub near_clusters: u64,
}

/// `DIR/dedup/cluster.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterReport {
    /// [`sigs::SCHEMA_VERSION`].
    pub version: u32,
    /// The run's world size.
    pub world: u32,
    /// Candidate partitions read.
    pub parts: u32,
    /// Distinct edges.
    pub edges: u64,
    /// Clusters of two or more records.
    pub clusters: u64,
    /// Records removed as exact duplicates.
    pub exact_removed: u64,
    /// Records removed as near duplicates.
    pub near_removed: u64,
    /// Clusters with at least one near-removed record.
    pub near_clusters: u64,
    /// Per run rank.
    pub by_rank: Vec<RankCounts>,
    /// This call found the stage done and did nothing.
    #[serde(skip)]
    pub skipped: bool,
}

/// `DIR/dedup/remove/{rank:05}.parquet`.
pub fn remove_path(dir: &Path, rank: u32) -> PathBuf {
    dir.join(REMOVE_DIR).join(super::rank_file(rank, "parquet"))
}

/// The remove table's schema.
pub fn remove_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("doc_id", DataType::Int64, false),
        Field::new("row", DataType::Int64, false),
        Field::new("survivor", DataType::Int64, false),
        Field::new("kind", DataType::Utf8, false),
    ]))
}

/// One row of a remove table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Removal {
    /// The record.
    pub doc_id: u64,
    /// Its position in the rank's output.
    pub row: u64,
    /// Its cluster's survivor.
    pub survivor: u64,
    /// Exact or near.
    pub kind: Kind,
}

fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let p = parent[i as usize];
        parent[i as usize] = parent[p as usize];
        i = p;
    }
    i
}

/// Runs the stage over the run folder `dir`. See the [module docs](self).
pub fn cluster(dir: &Path) -> Result<ClusterReport> {
    let report_path = dir.join(REPORT_FILE);
    if report_path.exists() {
        let bytes = std::fs::read(&report_path).map_err(|e| Error::io(&report_path, e))?;
        let mut r: ClusterReport = serde_json::from_slice(&bytes).map_err(|e| Error::Output {
            path: report_path.clone(),
            reason: format!("not a cluster report: {e}"),
        })?;
        r.skipped = true;
        return Ok(r);
    }
    let (world, tables) = candidates::run_tables(dir)?;
    let (parts, edges) = candidates::read_all_edges(dir)?;

    // Nodes: every id in an edge, sorted, so index order is doc order.
    let mut nodes: Vec<u64> = edges.iter().flat_map(|e| [e.doc_id, e.root]).collect();
    nodes.sort_unstable();
    nodes.dedup();
    let index = |id: u64| nodes.binary_search(&id).expect("node listed") as u32;
    let mut parent: Vec<u32> = (0..nodes.len() as u32).collect();
    // 0: kept, 1: near-removed, 2: exact-removed.
    let mut state: Vec<u8> = vec![0; nodes.len()];
    for e in &edges {
        let (a, b) = (index(e.doc_id), index(e.root));
        let s = match e.kind {
            Kind::Exact => 2,
            Kind::Near => 1,
        };
        state[a as usize] = state[a as usize].max(s);
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra != rb {
            // The smaller index (= smaller doc_id) stays the root.
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            parent[hi as usize] = lo;
        }
    }
    let mut report = ClusterReport {
        version: sigs::SCHEMA_VERSION,
        world,
        parts,
        edges: edges.len() as u64,
        ..Default::default()
    };
    // Near clusters as the single-process run counts them: components of the graph of
    // near edges whose record is not an exact duplicate (the run indexes exact survivors
    // only), i.e. of verified (record, bucket root) pairs.
    let mut near_parent: Vec<u32> = (0..nodes.len() as u32).collect();
    for e in edges.iter().filter(|e| e.kind == Kind::Near) {
        let (a, b) = (index(e.doc_id), index(e.root));
        if state[a as usize] == 2 {
            continue;
        }
        let (ra, rb) = (find(&mut near_parent, a), find(&mut near_parent, b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            near_parent[hi as usize] = lo;
        }
    }
    drop(edges);
    let mut is_root_of_cluster = vec![false; nodes.len()];
    let mut near_cluster = vec![false; nodes.len()];
    for i in 0..nodes.len() as u32 {
        let r = find(&mut parent, i);
        if r != i {
            is_root_of_cluster[r as usize] = true;
        }
        let nr = find(&mut near_parent, i);
        if nr != i {
            near_cluster[nr as usize] = true;
        }
    }
    report.clusters = is_root_of_cluster.iter().filter(|&&b| b).count() as u64;
    report.near_clusters = near_cluster.iter().filter(|&&b| b).count() as u64;
    let expected_removed = state.iter().filter(|&&s| s > 0).count() as u64;

    let mut found_removed = 0u64;
    for (rank, docs, _) in &tables {
        let mut counts = RankCounts {
            rank: *rank,
            ..Default::default()
        };
        let mut removals: Vec<Removal> = Vec::new();
        sigs::for_each_doc(docs, &mut |row| {
            if let Ok(i) = nodes.binary_search(&row.doc_id) {
                let root = find(&mut parent, i as u32);
                match state[i] {
                    0 => {}
                    s => {
                        let kind = if s == 2 { Kind::Exact } else { Kind::Near };
                        match kind {
                            Kind::Exact => counts.exact_removed += 1,
                            Kind::Near => counts.near_removed += 1,
                        }
                        removals.push(Removal {
                            doc_id: row.doc_id,
                            row: row.row,
                            survivor: nodes[root as usize],
                            kind,
                        });
                    }
                }
                if near_cluster[i] {
                    counts.near_clusters += 1;
                }
            }
            Ok(())
        })?;
        found_removed += removals.len() as u64;
        report.exact_removed += counts.exact_removed;
        report.near_removed += counts.near_removed;
        write_removals(&remove_path(dir, *rank), *rank, world, &removals)?;
        report.by_rank.push(counts);
    }
    if found_removed != expected_removed {
        return Err(Error::Output {
            path: dir.join(candidates::EDGES_DIR),
            reason: format!(
                "{expected_removed} records to remove but {found_removed} found in the docs tables: \
                 edges of another run?"
            ),
        });
    }
    super::write_json_atomic(&report_path, &report)?;
    Ok(report)
}

fn write_removals(path: &Path, rank: u32, world: u32, rows: &[Removal]) -> Result<()> {
    let batches: Vec<RecordBatch> = rows
        .chunks(sigs::FLUSH_ROWS)
        .map(|c| {
            let cols: Vec<ArrayRef> = vec![
                Arc::new(Int64Array::from_iter_values(
                    c.iter().map(|e| e.doc_id as i64),
                )),
                Arc::new(Int64Array::from_iter_values(c.iter().map(|e| e.row as i64))),
                Arc::new(Int64Array::from_iter_values(
                    c.iter().map(|e| e.survivor as i64),
                )),
                Arc::new(StringArray::from_iter_values(
                    c.iter().map(|e| e.kind.as_str()),
                )),
            ];
            RecordBatch::try_new(remove_schema(), cols).expect("columns match the schema")
        })
        .collect();
    let meta = vec![
        (meta::TABLE.to_string(), "remove".to_string()),
        (meta::VERSION.to_string(), sigs::SCHEMA_VERSION.to_string()),
        (meta::RANK.to_string(), rank.to_string()),
        (meta::WORLD.to_string(), world.to_string()),
    ];
    super::write_parquet_atomic(path, remove_schema(), &batches, &meta)
}

/// Reads a remove table, in row order.
pub fn read_removals(path: &Path) -> Result<Vec<Removal>> {
    sigs::check_table(path, "remove")?;
    let (_, batches) = super::read_batches(path)?;
    let mut out = Vec::new();
    for b in &batches {
        let doc = super::column::<Int64Array>(b, "doc_id", path)?;
        let row = super::column::<Int64Array>(b, "row", path)?;
        let surv = super::column::<Int64Array>(b, "survivor", path)?;
        let kind = super::column::<StringArray>(b, "kind", path)?;
        for i in 0..b.num_rows() {
            out.push(Removal {
                doc_id: doc.value(i) as u64,
                row: row.value(i) as u64,
                survivor: surv.value(i) as u64,
                kind: Kind::parse(kind.value(i)).ok_or_else(|| Error::Parquet {
                    path: path.to_path_buf(),
                    reason: format!("unknown kind {:?}", kind.value(i)),
                })?,
            });
        }
    }
    Ok(out)
}
