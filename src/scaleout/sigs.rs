//! The per-rank signature tables a run writes for the global dedup stages, through the
//! [`RecordSink`] seam: `DIR/docs/{rank:05}.parquet` and `DIR/sig/{rank:05}.parquet`.
//!
//! # Schema, version 1
//!
//! Long form, so SQL engines (Spark, DataFusion, DuckDB, Trino) group and join them
//! directly. Spark has no unsigned integers, so 64-bit values are stored as `int64`
//! (bit-cast): `doc_id = file_index << 32 | ordinal` stays non-negative and ordered as
//! long as a plan has fewer than 2³¹ files; `band_hash` is an opaque bit pattern (only
//! equality matters; partitioning casts it back to unsigned).
//!
//! `docs/{rank:05}.parquet`, one row per record the rank wrote, in output order:
//!
//! | column | type | meaning |
//! | --- | --- | --- |
//! | `doc_id` | int64 | stable record identity (see [`crate::sink`]) |
//! | `rank` | int32 | the run rank that wrote it |
//! | `shard` | int32 | shard index `k` of `part-r{rank:05}-{k:05}.*` |
//! | `row` | int64 | 0-based position in the rank's output (all shards, in order) |
//! | `exact_fp` | binary (16 bytes) | keyed XXH3-128 of the normalized scrubbed content, big-endian |
//! | `rules` | list\<int32\> | rule index (in the run's rule set) of every value replaced |
//! | `sketch` | list\<int64\>, nullable | the 64-byte MinHash verification sketch as 8 little-endian words ([`crate::minhash::Sketch`]); null without band hashes |
//!
//! `sig/{rank:05}.parquet`, one row per (record, LSH band); no rows when near-dup is off:
//!
//! | column | type | meaning |
//! | --- | --- | --- |
//! | `doc_id` | int64 | as above |
//! | `band` | int32 | band number, 0-based |
//! | `band_hash` | int64 | keyed hash of the band's MinHash values (bit-cast u64) |
//!
//! Footer key-value metadata of both: `scrubline.table` (`docs`/`sig`),
//! `scrubline.schema_version` (`1`), `scrubline.rank`, `scrubline.world_size`,
//! `scrubline.key_fingerprint`, `scrubline.exact` (the fingerprint scheme, or `off` when
//! the run has exact deduplication off) and
//! `scrubline.near` (`off`, or the MinHash scheme id, e.g.
//! `minhash-v1/oph128/xxh3-keyed/w5/c5/b10x4`), `scrubline.near_threshold` (the sketch
//! Jaccard a bucket root must reach, e.g. `0.75`, when near-dup is on), plus whatever
//! [`SigOptions::extra`] holds.
//!
//! Fingerprints and band hashes are keyed and computed on scrubbed text, so the tables are
//! no membership oracle for raw text to anyone without the key.
//!
//! Memory: at most [`FLUSH_ROWS`] buffered rows per table (~40 B per docs row plus its rule
//! ids, 16 B per sig row) plus the Parquet writer's open row group.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{Int32Builder, Int64Builder, ListBuilder};
use arrow_array::{Array, ArrayRef, BinaryArray, Int32Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::columnar::ShardWriter;
use crate::error::{Error, Result};
use crate::sink::{RecordSink, SinkRecord};

/// Version of the docs/sig/edges/remove table schemas.
pub const SCHEMA_VERSION: u32 = 1;
/// Folder of the docs tables.
pub const DOCS_DIR: &str = "docs";
/// Folder of the sig tables.
pub const SIG_DIR: &str = "sig";
/// Rows buffered per table before a batch goes to the writer.
pub const FLUSH_ROWS: usize = 64 * 1024;
/// The exact-fingerprint scheme the pipeline uses.
pub const EXACT_SCHEME: &str = "xxh3-128-keyed/scrubline-dedup-exact-v1";

/// Metadata keys.
pub mod meta {
    /// `docs`, `sig`, `edges` or `remove`.
    pub const TABLE: &str = "scrubline.table";
    /// [`super::SCHEMA_VERSION`].
    pub const VERSION: &str = "scrubline.schema_version";
    /// The writing rank (or partition).
    pub const RANK: &str = "scrubline.rank";
    /// The run's world size (or the partition count).
    pub const WORLD: &str = "scrubline.world_size";
    /// The key fingerprint of the run.
    pub const KEY: &str = "scrubline.key_fingerprint";
    /// The exact fingerprint scheme.
    pub const EXACT: &str = "scrubline.exact";
    /// The near-dup scheme, or `off`.
    pub const NEAR: &str = "scrubline.near";
    /// The near-dup verification threshold.
    pub const NEAR_THRESHOLD: &str = "scrubline.near_threshold";
}

/// The docs table's schema.
pub fn docs_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("doc_id", DataType::Int64, false),
        Field::new("rank", DataType::Int32, false),
        Field::new("shard", DataType::Int32, false),
        Field::new("row", DataType::Int64, false),
        Field::new("exact_fp", DataType::Binary, false),
        Field::new(
            "rules",
            DataType::List(Arc::new(Field::new("item", DataType::Int32, true))),
            false,
        ),
        Field::new(
            "sketch",
            DataType::List(Arc::new(Field::new("item", DataType::Int64, true))),
            true,
        ),
    ]))
}

/// The sig table's schema.
pub fn sig_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("doc_id", DataType::Int64, false),
        Field::new("band", DataType::Int32, false),
        Field::new("band_hash", DataType::Int64, false),
    ]))
}

/// What the tables' metadata records about the run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SigOptions {
    /// The run's world size.
    pub world: u32,
    /// `hmac-sha256:<hex>` of the run key (never the key).
    pub key_fingerprint: String,
    /// Near-dup scheme ([`crate::minhash::MinHashParams::scheme_id`]), `None` when off
    /// (then band hashes and sketches handed to the sink are not written).
    pub near: Option<String>,
    /// Near-dup threshold on the sketch Jaccard estimate (when near-dup is on).
    pub near_threshold: Option<f64>,
    /// Exact deduplication is off for the run (`--no-dedup`): the candidate stage emits no
    /// exact edges (`scrubline.exact = off`). The fingerprints are still written.
    pub skip_exact: bool,
    /// More key-value metadata.
    pub extra: Vec<(String, String)>,
}

/// `DIR/docs/{rank:05}.parquet`.
pub fn docs_path(dir: &Path, rank: u32) -> PathBuf {
    dir.join(DOCS_DIR).join(super::rank_file(rank, "parquet"))
}

/// `DIR/sig/{rank:05}.parquet`.
pub fn sig_path(dir: &Path, rank: u32) -> PathBuf {
    dir.join(SIG_DIR).join(super::rank_file(rank, "parquet"))
}

/// A [`RecordSink`] writing a rank's docs and sig tables. See the [module docs](self).
pub struct SigSink {
    rank: u32,
    near_on: bool,
    row: u64,
    docs: Table,
    sig: Table,
    // docs buffers
    doc_id: Vec<i64>,
    shard: Vec<i32>,
    rows: Vec<i64>,
    fp: Vec<[u8; 16]>,
    rules: ListBuilder<Int32Builder>,
    sketch: ListBuilder<Int64Builder>,
    // sig buffers
    s_doc: Vec<i64>,
    s_band: Vec<i32>,
    s_hash: Vec<i64>,
}

struct Table {
    path: PathBuf,
    writer: ShardWriter,
}

impl Table {
    fn create(path: PathBuf, schema: SchemaRef, meta: &[(String, String)]) -> Result<Table> {
        let dir = path.parent().expect("table path has a folder");
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let mut writer = ShardWriter::create(
            crate::output::temp_path(&path),
            schema,
            &super::writer_options(),
        )?;
        for (k, v) in meta {
            writer.append_key_value_metadata(k, v);
        }
        Ok(Table { path, writer })
    }

    fn commit(self) -> Result<()> {
        let tmp = self.writer.path().to_path_buf();
        self.writer.close()?;
        std::fs::rename(&tmp, &self.path).map_err(|e| Error::io(&self.path, e))?;
        crate::output::sync_parent(&self.path)
    }
}

impl std::fmt::Debug for SigSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigSink")
            .field("rank", &self.rank)
            .field("rows", &self.row)
            .finish_non_exhaustive()
    }
}

/// The metadata pairs common to the tables of one rank.
pub fn table_meta(table: &str, rank: u32, opts: &SigOptions) -> Vec<(String, String)> {
    let mut m = vec![
        (meta::TABLE.to_string(), table.to_string()),
        (meta::VERSION.to_string(), SCHEMA_VERSION.to_string()),
        (meta::RANK.to_string(), rank.to_string()),
        (meta::WORLD.to_string(), opts.world.to_string()),
        (meta::KEY.to_string(), opts.key_fingerprint.clone()),
        (
            meta::EXACT.to_string(),
            if opts.skip_exact { "off" } else { EXACT_SCHEME }.to_string(),
        ),
        (
            meta::NEAR.to_string(),
            opts.near.clone().unwrap_or_else(|| "off".into()),
        ),
    ];
    if let Some(t) = opts.near_threshold {
        m.push((meta::NEAR_THRESHOLD.to_string(), format!("{t:?}")));
    }
    m.extend(opts.extra.iter().cloned());
    m
}

impl SigSink {
    /// Starts `DIR/docs/{rank}.parquet` and `DIR/sig/{rank}.parquet` under temporary names;
    /// [`RecordSink::finish`] renames them.
    pub fn create(dir: &Path, rank: u32, opts: &SigOptions) -> Result<SigSink> {
        let docs = Table::create(
            docs_path(dir, rank),
            docs_schema(),
            &table_meta("docs", rank, opts),
        )?;
        let sig = Table::create(
            sig_path(dir, rank),
            sig_schema(),
            &table_meta("sig", rank, opts),
        )?;
        Ok(SigSink {
            rank,
            near_on: opts.near.is_some(),
            row: 0,
            docs,
            sig,
            doc_id: Vec::new(),
            shard: Vec::new(),
            rows: Vec::new(),
            fp: Vec::new(),
            rules: ListBuilder::new(Int32Builder::new()),
            sketch: ListBuilder::new(Int64Builder::new()),
            s_doc: Vec::new(),
            s_band: Vec::new(),
            s_hash: Vec::new(),
        })
    }

    fn flush_docs(&mut self) -> Result<()> {
        if self.doc_id.is_empty() {
            return Ok(());
        }
        let n = self.doc_id.len();
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(std::mem::take(&mut self.doc_id))),
            Arc::new(Int32Array::from(vec![self.rank as i32; n])),
            Arc::new(Int32Array::from(std::mem::take(&mut self.shard))),
            Arc::new(Int64Array::from(std::mem::take(&mut self.rows))),
            Arc::new(BinaryArray::from_iter_values(self.fp.drain(..))),
            Arc::new(self.rules.finish()),
            Arc::new(self.sketch.finish()),
        ];
        let batch = RecordBatch::try_new(docs_schema(), cols).map_err(|e| Error::Parquet {
            path: self.docs.path.clone(),
            reason: e.to_string(),
        })?;
        self.docs.writer.write(&batch)
    }

    fn flush_sig(&mut self) -> Result<()> {
        if self.s_doc.is_empty() {
            return Ok(());
        }
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(std::mem::take(&mut self.s_doc))),
            Arc::new(Int32Array::from(std::mem::take(&mut self.s_band))),
            Arc::new(Int64Array::from(std::mem::take(&mut self.s_hash))),
        ];
        let batch = RecordBatch::try_new(sig_schema(), cols).map_err(|e| Error::Parquet {
            path: self.sig.path.clone(),
            reason: e.to_string(),
        })?;
        self.sig.writer.write(&batch)
    }
}

impl RecordSink for SigSink {
    fn record(&mut self, rec: &SinkRecord<'_>) -> Result<()> {
        let doc = rec.doc_id as i64;
        self.doc_id.push(doc);
        self.shard.push(rec.shard as i32);
        self.rows.push(self.row as i64);
        self.fp.push(rec.exact_fp.to_be_bytes());
        self.rules
            .append_value(rec.rules.iter().map(|&r| Some(r as i32)));
        match rec.sketch.filter(|_| self.near_on) {
            Some(bytes) => self.sketch.append_value(
                bytes
                    .chunks_exact(8)
                    .map(|c| Some(u64::from_le_bytes(c.try_into().expect("8 bytes")) as i64)),
            ),
            None => self.sketch.append_null(),
        }
        self.row += 1;
        let bands = if self.near_on { rec.band_hashes } else { &[] };
        for (band, &h) in bands.iter().enumerate() {
            self.s_doc.push(doc);
            self.s_band.push(band as i32);
            self.s_hash.push(h as i64);
        }
        if self.doc_id.len() >= FLUSH_ROWS {
            self.flush_docs()?;
        }
        if self.s_doc.len() >= FLUSH_ROWS {
            self.flush_sig()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.flush_docs()?;
        self.flush_sig()?;
        let SigSink { docs, sig, .. } = *self;
        sig.commit()?;
        docs.commit()
    }
}

/// One row of a docs table, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocRow {
    /// See the schema.
    pub doc_id: u64,
    /// See the schema.
    pub rank: u32,
    /// See the schema.
    pub shard: u32,
    /// See the schema.
    pub row: u64,
    /// See the schema.
    pub exact_fp: u128,
    /// See the schema.
    pub rules: Vec<u32>,
    /// See the schema (as [`crate::minhash::Sketch::to_bytes`]).
    pub sketch: Option<[u8; 64]>,
}

/// Streams the rows of a docs table in order, batch by batch.
pub fn for_each_doc(path: &Path, f: &mut dyn FnMut(DocRow) -> Result<()>) -> Result<()> {
    let mut r = DocReader::open(path)?;
    while let Some(row) = r.next_row()? {
        f(row)?;
    }
    Ok(())
}

/// Reads a docs table row by row (one decoded batch in memory at a time).
pub struct DocReader {
    path: PathBuf,
    batches: crate::columnar::Batches,
    batch: Option<RecordBatch>,
    next: usize,
}

impl std::fmt::Debug for DocReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocReader")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl DocReader {
    /// Opens a docs table.
    pub fn open(path: &Path) -> Result<DocReader> {
        let file = crate::columnar::ParquetFile::open(path)?;
        Ok(DocReader {
            path: path.to_path_buf(),
            batches: file.batches(crate::columnar::DEFAULT_BATCH_SIZE),
            batch: None,
            next: 0,
        })
    }

    /// The next row, or `None` at the end.
    pub fn next_row(&mut self) -> Result<Option<DocRow>> {
        loop {
            if let Some(b) = &self.batch {
                if self.next < b.num_rows() {
                    let i = self.next;
                    self.next += 1;
                    return doc_row(b, i, &self.path).map(Some);
                }
            }
            match self.batches.next() {
                None => return Ok(None),
                Some(b) => {
                    self.batch = Some(b?);
                    self.next = 0;
                }
            }
        }
    }
}

fn doc_row(b: &RecordBatch, i: usize, path: &Path) -> Result<DocRow> {
    let doc = super::column::<Int64Array>(b, "doc_id", path)?;
    let rank = super::column::<Int32Array>(b, "rank", path)?;
    let shard = super::column::<Int32Array>(b, "shard", path)?;
    let row = super::column::<Int64Array>(b, "row", path)?;
    let fp = super::column::<BinaryArray>(b, "exact_fp", path)?;
    let rules = super::column::<arrow_array::ListArray>(b, "rules", path)?;
    let bytes: [u8; 16] = fp.value(i).try_into().map_err(|_| Error::Parquet {
        path: path.to_path_buf(),
        reason: format!("exact_fp of row {i} is not 16 bytes"),
    })?;
    let sketches = super::column::<arrow_array::ListArray>(b, "sketch", path)?;
    let sketch = if sketches.is_null(i) {
        None
    } else {
        let words = sketches.value(i);
        let words = words
            .as_any()
            .downcast_ref::<Int64Array>()
            .filter(|w| w.len() == 8)
            .ok_or_else(|| Error::Parquet {
                path: path.to_path_buf(),
                reason: "sketch is not a list of 8 int64".into(),
            })?;
        let mut out = [0u8; 64];
        for (chunk, w) in out.chunks_exact_mut(8).zip(words.values().iter()) {
            chunk.copy_from_slice(&(*w as u64).to_le_bytes());
        }
        Some(out)
    };
    let list = rules.value(i);
    let list = list
        .as_any()
        .downcast_ref::<Int32Array>()
        .ok_or_else(|| Error::Parquet {
            path: path.to_path_buf(),
            reason: "rules is not a list of int32".into(),
        })?;
    Ok(DocRow {
        doc_id: doc.value(i) as u64,
        rank: rank.value(i) as u32,
        shard: shard.value(i) as u32,
        row: row.value(i) as u64,
        exact_fp: u128::from_be_bytes(bytes),
        rules: list.values().iter().map(|&r| r as u32).collect(),
        sketch,
    })
}

/// Streams the `(doc_id, band, band_hash)` rows of a sig table.
pub fn for_each_sig(path: &Path, f: &mut dyn FnMut(u64, u32, u64)) -> Result<()> {
    let file = crate::columnar::ParquetFile::open(path)?;
    for batch in file.batches(crate::columnar::DEFAULT_BATCH_SIZE) {
        let b = batch?;
        let doc = super::column::<Int64Array>(&b, "doc_id", path)?;
        let band = super::column::<Int32Array>(&b, "band", path)?;
        let hash = super::column::<Int64Array>(&b, "band_hash", path)?;
        for i in 0..b.num_rows() {
            f(
                doc.value(i) as u64,
                band.value(i) as u32,
                hash.value(i) as u64,
            );
        }
    }
    Ok(())
}

/// Checks a table's metadata: our table kind and schema version. Returns the metadata.
pub fn check_table(path: &Path, table: &str) -> Result<std::collections::HashMap<String, String>> {
    let m = super::file_metadata(path)?;
    let bad = |reason: String| Error::Parquet {
        path: path.to_path_buf(),
        reason,
    };
    if m.get(meta::TABLE).map(String::as_str) != Some(table) {
        return Err(bad(format!("not a scrubline `{table}` table")));
    }
    let v = m.get(meta::VERSION).cloned().unwrap_or_default();
    if v != SCHEMA_VERSION.to_string() {
        return Err(bad(format!(
            "schema version {v:?}; this scrubline reads version {SCHEMA_VERSION}"
        )));
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_reads_back_in_order() {
        let d = tempfile::tempdir().unwrap();
        let opts = SigOptions {
            world: 3,
            key_fingerprint: "hmac-sha256:ab".into(),
            near: Some("minhash/v1 bands=2".into()),
            near_threshold: Some(0.75),
            skip_exact: false,
            extra: vec![],
        };
        let mut sink: Box<dyn RecordSink> = Box::new(SigSink::create(d.path(), 1, &opts).unwrap());
        let n = FLUSH_ROWS + 10;
        for i in 0..n as u64 {
            let bands = [i % 7, u64::MAX - i];
            let rules = [(i % 3) as u32, 5];
            let sketch = [(i % 251) as u8; 64];
            sink.record(&SinkRecord {
                sketch: (i % 2 == 0).then_some(&sketch),
                doc_id: crate::sink::doc_id(1, i as u32 + 1),
                shard: (i / 1000) as u32,
                exact_fp: u128::from(i) << 64 | 0xfeed,
                band_hashes: &bands,
                rules: &rules[..(i % 3) as usize],
            })
            .unwrap();
        }
        assert!(!docs_path(d.path(), 1).exists(), "committed before finish");
        sink.finish().unwrap();
        let m = check_table(&docs_path(d.path(), 1), "docs").unwrap();
        assert_eq!(m[meta::WORLD], "3");
        assert_eq!(m[meta::NEAR], "minhash/v1 bands=2");
        assert_eq!(m[meta::NEAR_THRESHOLD], "0.75");
        check_table(&sig_path(d.path(), 1), "sig").unwrap();
        assert!(check_table(&sig_path(d.path(), 1), "docs").is_err());
        let mut k = 0u64;
        for_each_doc(&docs_path(d.path(), 1), &mut |r| {
            assert_eq!(r.doc_id, crate::sink::doc_id(1, k as u32 + 1));
            assert_eq!((r.rank, r.row, r.shard), (1, k, (k / 1000) as u32));
            assert_eq!(r.exact_fp, u128::from(k) << 64 | 0xfeed);
            assert_eq!(r.rules, [(k % 3) as u32, 5][..(k % 3) as usize]);
            assert_eq!(
                r.sketch,
                k.is_multiple_of(2).then_some([(k % 251) as u8; 64])
            );
            k += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(k, n as u64);
        let mut sigs = Vec::new();
        for_each_sig(&sig_path(d.path(), 1), &mut |doc, band, h| {
            sigs.push((doc, band, h))
        })
        .unwrap();
        assert_eq!(sigs.len(), 2 * n);
        assert_eq!(sigs[1], (crate::sink::doc_id(1, 1), 1, u64::MAX));
    }
}
