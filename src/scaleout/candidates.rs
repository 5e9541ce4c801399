//! `scrubline dedup candidates --rank P --world-size W2`: the duplicate edges of one hash
//! partition.
//!
//! Partition `P` of `W2` reads every rank's docs and sig tables and keeps the exact
//! fingerprints whose high 64 bits are `≡ P (mod W2)` and the band hashes (as unsigned)
//! `≡ P (mod W2)`. In each group of records sharing an exact fingerprint, or sharing a
//! `(band, band_hash)` bucket, the *root* is the smallest `doc_id`. Every other member of an
//! exact group gets an edge `(doc_id, root, exact)`; every other member of a bucket whose
//! MinHash sketch estimate against the root reaches the run's threshold
//! ([`crate::minhash::Sketch::jaccard`] `≥ scrubline.near_threshold`) gets an edge
//! `(doc_id, root, near)` (no exact edges when the run has exact deduplication off,
//! `scrubline.exact = off`). That is the single-process rule of `scrubline run`: a record is
//! removed iff an earlier record shares its exact fingerprint, or the first record of one of
//! its LSH buckets is similar enough. (The run indexes only exact survivors in the LSH
//! buckets; the bucket minimum is always one, because a record with the same fingerprint
//! has the same normalized text, hence the same band hashes, and is earlier.) Since a group
//! lies entirely in one partition, the union over `P` of the edges is the same for every
//! `W2`.
//!
//! # Reference SQL (the semantics; Spark SQL dialect)
//!
//! With `docs` = `DIR/docs/*.parquet`, `sig` = `DIR/sig/*.parquet` and `T` the threshold
//! from the metadata written as a double literal (`0.75D`; a bare `0.75` is a decimal in
//! Spark and rounds differently):
//!
//! ```sql
//! WITH exact_roots AS (
//!   SELECT exact_fp, MIN(doc_id) AS root FROM docs GROUP BY exact_fp),
//! bucket_roots AS (
//!   SELECT band, band_hash, MIN(doc_id) AS root FROM sig GROUP BY band, band_hash),
//! near_pairs AS (
//!   SELECT DISTINCT s.doc_id, g.root FROM sig s
//!   JOIN bucket_roots g ON s.band = g.band AND s.band_hash = g.band_hash
//!   WHERE s.doc_id <> g.root),
//! scored AS (
//!   SELECT p.doc_id, p.root,
//!     aggregate(zip_with(a.sketch, b.sketch, (x, y) -> x ^ y), 0, (acc, x) -> acc +
//!       bit_count((x | shiftrightunsigned(x, 1) | shiftrightunsigned(x, 2)
//!                  | shiftrightunsigned(x, 3)) & 1229782938247303441)) AS differ
//!   FROM near_pairs p JOIN docs a ON a.doc_id = p.doc_id JOIN docs b ON b.doc_id = p.root)
//! SELECT d.doc_id, e.root, 'exact' AS kind
//! FROM docs d JOIN exact_roots e ON d.exact_fp = e.exact_fp WHERE d.doc_id <> e.root
//! UNION
//! SELECT doc_id, root, 'near' AS kind FROM scored
//! WHERE (CAST(128 - differ AS DOUBLE) / 128D - 1D / 16D) / (15D / 16D) >= T
//! ```
//!
//! `differ` counts the 4-bit sketch cells that differ (128 cells in 8 words); the last line
//! is the chance-corrected b-bit estimate, computed with the same IEEE operations as the
//! Rust code. The union over partitions of `DIR/dedup/edges/*.parquet` equals this set (the
//! same `(doc_id, root, 'near')` edge may appear in two partitions when two bands agree;
//! deduplicate on read). `tests/spark/candidates_sql.py` runs this SQL.
//!
//! # Output: `DIR/dedup/edges/{P:05}.parquet`, schema version 1
//!
//! `doc_id: int64, root: int64, kind: utf8 ("exact" | "near")`, sorted by
//! `(doc_id, root, kind)`, distinct; footer metadata `scrubline.table = edges`,
//! `scrubline.rank = P`, `scrubline.world_size = W2`. Its presence marks the partition
//! done: a rerun does nothing.
//!
//! # Memory
//!
//! One partition at a time, in sorted vectors: 32 B per kept docs row, 24 B per kept sig
//! row, 24 B per edge, and for the sketch check 16 B per (record, bucket root) pair plus
//! 8 + 72 B per record in a pair. With `N` records and `B` bands, about
//! `(32 + 24·B)·N / W2` bytes plus the duplicates' share.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::sigs::{self, meta};
use crate::error::{Error, Result};
use crate::minhash::Sketch;

/// Folder of the edge tables.
pub const EDGES_DIR: &str = "dedup/edges";

/// Why a record is a duplicate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Same exact fingerprint as its root.
    Exact,
    /// Same LSH bucket as its root.
    Near,
}

impl Kind {
    /// `exact` or `near`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Exact => "exact",
            Kind::Near => "near",
        }
    }

    /// Parses [`Kind::as_str`].
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "exact" => Some(Kind::Exact),
            "near" => Some(Kind::Near),
            _ => None,
        }
    }
}

/// One edge: `doc_id` has an earlier duplicate `root`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Edge {
    /// The later record.
    pub doc_id: u64,
    /// The smallest `doc_id` of the group.
    pub root: u64,
    /// Exact or near.
    pub kind: Kind,
}

/// What a candidates task did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CandidateReport {
    /// The partition.
    pub part: u32,
    /// Partitions.
    pub parts: u32,
    /// The partition was already done; nothing was read or written.
    pub skipped: bool,
    /// docs rows kept in this partition.
    pub docs_rows: u64,
    /// sig rows kept in this partition.
    pub sig_rows: u64,
    /// (record, bucket root) pairs checked against the sketch threshold.
    pub near_pairs: u64,
    /// Exact edges written.
    pub exact_edges: u64,
    /// Near edges written.
    pub near_edges: u64,
}

/// `DIR/dedup/edges/{part:05}.parquet`.
pub fn edges_path(dir: &Path, part: u32) -> PathBuf {
    dir.join(EDGES_DIR).join(super::rank_file(part, "parquet"))
}

/// The edge table's schema.
pub fn edges_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("doc_id", DataType::Int64, false),
        Field::new("root", DataType::Int64, false),
        Field::new("kind", DataType::Utf8, false),
    ]))
}

/// `(rank, docs table, sig table)`.
pub type RankTables = (u32, PathBuf, PathBuf);

/// The docs and sig tables of a finished run: `(rank, docs path, sig path)` for ranks
/// `0..world`, after checking every rank finished (its manifest is present) and all agree
/// on world size, key and schemes. Returns the run's world size too.
pub fn run_tables(dir: &Path) -> Result<(u32, Vec<RankTables>)> {
    let docs = super::numbered_files(&dir.join(sigs::DOCS_DIR), "parquet")?;
    let sig = super::numbered_files(&dir.join(sigs::SIG_DIR), "parquet")?;
    let Some((_, first)) = docs.first() else {
        return Err(Error::Output {
            path: dir.join(sigs::DOCS_DIR),
            reason: "no docs tables: run the ranks with signatures first".into(),
        });
    };
    let m0 = sigs::check_table(first, "docs")?;
    let world: u32 = m0
        .get(meta::WORLD)
        .and_then(|w| w.parse().ok())
        .ok_or_else(|| Error::Parquet {
            path: first.clone(),
            reason: "no world size in the metadata".into(),
        })?;
    super::check_complete(&docs, world, &dir.join(sigs::DOCS_DIR))?;
    super::check_complete(&sig, world, &dir.join(sigs::SIG_DIR))?;
    let mut out = Vec::new();
    for ((r, d), (_, s)) in docs.into_iter().zip(sig) {
        for (path, table) in [(&d, "docs"), (&s, "sig")] {
            let m = sigs::check_table(path, table)?;
            for key in [
                meta::WORLD,
                meta::KEY,
                meta::EXACT,
                meta::NEAR,
                meta::NEAR_THRESHOLD,
            ] {
                if m.get(key) != m0.get(key) {
                    return Err(Error::Parquet {
                        path: path.clone(),
                        reason: format!(
                            "`{key}` differs from rank 0's ({:?} vs {:?}): ranks of different runs?",
                            m.get(key),
                            m0.get(key)
                        ),
                    });
                }
            }
        }
        let manifest = super::rank_manifest_path(dir, r);
        if !manifest.exists() {
            return Err(Error::Output {
                path: manifest,
                reason: format!("rank {r} has not finished (no manifest)"),
            });
        }
        out.push((r, d, s));
    }
    Ok((world, out))
}

/// Runs partition `part` of `parts` over the run folder `dir`. See the [module docs](self).
pub fn candidates(dir: &Path, part: u32, parts: u32) -> Result<CandidateReport> {
    if parts == 0 || part >= parts {
        return Err(Error::Config(format!(
            "partition {part} is not below the partition count {parts}"
        )));
    }
    let mut report = CandidateReport {
        part,
        parts,
        ..Default::default()
    };
    let out = edges_path(dir, part);
    if out.exists() {
        report.skipped = true;
        return Ok(report);
    }
    let (_world, tables) = run_tables(dir)?;
    let parts64 = u64::from(parts);
    let part64 = u64::from(part);

    let mut edges: Vec<Edge> = Vec::new();
    // Exact fingerprints (unless the run has exact deduplication off).
    let exact_on = sigs::check_table(&tables[0].1, "docs")?
        .get(meta::EXACT)
        .is_some_and(|e| e != "off");
    let mut fps: Vec<(u128, u64)> = Vec::new();
    for (_, docs, _) in tables.iter().filter(|_| exact_on) {
        sigs::for_each_doc(docs, &mut |row| {
            if ((row.exact_fp >> 64) as u64) % parts64 == part64 {
                fps.push((row.exact_fp, row.doc_id));
            }
            Ok(())
        })?;
    }
    report.docs_rows = fps.len() as u64;
    fps.sort_unstable();
    for group in fps.chunk_by(|a, b| a.0 == b.0) {
        let root = group[0].1;
        edges.extend(group[1..].iter().filter(|m| m.1 != root).map(|m| Edge {
            doc_id: m.1,
            root,
            kind: Kind::Exact,
        }));
    }
    drop(fps);
    // LSH buckets: (x, bucket root) pairs, then the sketch check.
    let near_on = sigs::check_table(&tables[0].1, "docs")?
        .get(meta::NEAR)
        .is_some_and(|n| n != "off");
    let mut buckets: Vec<(u32, u64, u64)> = Vec::new();
    for (_, _, sig) in tables.iter().filter(|_| near_on) {
        sigs::for_each_sig(sig, &mut |doc, band, hash| {
            if hash % parts64 == part64 {
                buckets.push((band, hash, doc));
            }
        })?;
    }
    report.sig_rows = buckets.len() as u64;
    buckets.sort_unstable();
    let mut pairs: Vec<(u64, u64)> = Vec::new();
    for group in buckets.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        let root = group[0].2;
        pairs.extend(
            group[1..]
                .iter()
                .filter(|m| m.2 != root)
                .map(|m| (m.2, root)),
        );
    }
    drop(buckets);
    pairs.sort_unstable();
    pairs.dedup();
    if !pairs.is_empty() {
        let threshold = near_threshold(&tables[0].1)?;
        let mut need: Vec<u64> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
        need.sort_unstable();
        need.dedup();
        let mut sketches: Vec<Option<Sketch>> = vec![None; need.len()];
        for (_, docs, _) in &tables {
            sigs::for_each_doc(docs, &mut |row| {
                if let Ok(i) = need.binary_search(&row.doc_id) {
                    sketches[i] = row.sketch.as_ref().map(Sketch::from_bytes);
                }
                Ok(())
            })?;
        }
        let sketch_of = |id: u64| -> Result<Sketch> {
            sketches[need.binary_search(&id).expect("listed")].ok_or_else(|| Error::Parquet {
                path: tables[0].1.clone(),
                reason: format!("record {id:#x} has band hashes but no sketch"),
            })
        };
        for &(doc, root) in &pairs {
            if sketch_of(doc)?.jaccard(&sketch_of(root)?) >= threshold {
                edges.push(Edge {
                    doc_id: doc,
                    root,
                    kind: Kind::Near,
                });
            }
        }
    }
    report.near_pairs = pairs.len() as u64;
    drop(pairs);
    edges.sort_unstable();
    edges.dedup();
    report.exact_edges = edges.iter().filter(|e| e.kind == Kind::Exact).count() as u64;
    report.near_edges = edges.len() as u64 - report.exact_edges;
    let key = sigs::check_table(&tables[0].1, "docs")?
        .get(meta::KEY)
        .cloned()
        .unwrap_or_default();
    write_edges(&out, part, parts, &key, &edges)?;
    Ok(report)
}

/// The near-dup threshold recorded in a docs table's metadata.
pub fn near_threshold(docs: &Path) -> Result<f64> {
    sigs::check_table(docs, "docs")?
        .get(meta::NEAR_THRESHOLD)
        .and_then(|t| t.parse::<f64>().ok())
        .filter(|t| *t > 0.0 && *t <= 1.0)
        .ok_or_else(|| Error::Parquet {
            path: docs.to_path_buf(),
            reason: format!(
                "band hashes but no valid `{}` in the metadata",
                meta::NEAR_THRESHOLD
            ),
        })
}

fn write_edges(path: &Path, part: u32, parts: u32, key: &str, edges: &[Edge]) -> Result<()> {
    let batches: Vec<RecordBatch> = edges
        .chunks(sigs::FLUSH_ROWS)
        .map(|c| {
            let cols: Vec<ArrayRef> = vec![
                Arc::new(Int64Array::from_iter_values(
                    c.iter().map(|e| e.doc_id as i64),
                )),
                Arc::new(Int64Array::from_iter_values(
                    c.iter().map(|e| e.root as i64),
                )),
                Arc::new(StringArray::from_iter_values(
                    c.iter().map(|e| e.kind.as_str()),
                )),
            ];
            RecordBatch::try_new(edges_schema(), cols).expect("edge columns match the schema")
        })
        .collect();
    let meta = vec![
        (meta::TABLE.to_string(), "edges".to_string()),
        (meta::VERSION.to_string(), sigs::SCHEMA_VERSION.to_string()),
        (meta::RANK.to_string(), part.to_string()),
        (meta::WORLD.to_string(), parts.to_string()),
        (meta::KEY.to_string(), key.to_string()),
    ];
    super::write_parquet_atomic(path, edges_schema(), &batches, &meta)
}

/// Reads one edge table.
pub fn read_edges(path: &Path) -> Result<Vec<Edge>> {
    sigs::check_table(path, "edges")?;
    let (_, batches) = super::read_batches(path)?;
    let mut out = Vec::new();
    for b in &batches {
        let doc = super::column::<Int64Array>(b, "doc_id", path)?;
        let root = super::column::<Int64Array>(b, "root", path)?;
        let kind = super::column::<StringArray>(b, "kind", path)?;
        for i in 0..b.num_rows() {
            out.push(Edge {
                doc_id: doc.value(i) as u64,
                root: root.value(i) as u64,
                kind: Kind::parse(kind.value(i)).ok_or_else(|| Error::Parquet {
                    path: path.to_path_buf(),
                    reason: format!("unknown edge kind {:?}", kind.value(i)),
                })?,
            });
        }
    }
    Ok(out)
}

/// Every edge of a finished candidates stage (all partitions), distinct and sorted; checks
/// that partitions `0..W2` are all there. Returns `(W2, edges)`.
pub fn read_all_edges(dir: &Path) -> Result<(u32, Vec<Edge>)> {
    let edge_dir = dir.join(EDGES_DIR);
    let files = super::numbered_files(&edge_dir, "parquet")?;
    let Some((_, first)) = files.first() else {
        return Err(Error::Output {
            path: edge_dir,
            reason: "no edge tables: run `scrubline dedup candidates` first".into(),
        });
    };
    let parts: u32 = sigs::check_table(first, "edges")?
        .get(meta::WORLD)
        .and_then(|w| w.parse().ok())
        .ok_or_else(|| Error::Parquet {
            path: first.clone(),
            reason: "no partition count in the metadata".into(),
        })?;
    super::check_complete(&files, parts, &edge_dir)?;
    let mut all = Vec::new();
    for (_, path) in &files {
        let m = sigs::check_table(path, "edges")?;
        if m.get(meta::WORLD).map(String::as_str) != Some(parts.to_string().as_str()) {
            return Err(Error::Parquet {
                path: path.clone(),
                reason: "partition count differs from partition 0's".into(),
            });
        }
        all.extend(read_edges(path)?);
    }
    all.sort_unstable();
    all.dedup();
    Ok((parts, all))
}
