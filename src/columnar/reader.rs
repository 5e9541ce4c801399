//! Reading Parquet files as a stream of record batches.
//!
//! [`ParquetFile::open`] reads only the footer (schema, row groups, row counts).
//! [`ParquetFile::batches`] and [`ParquetFile::row_group`] then decode one row group at a
//! time, page by page, into batches of at most `batch_size` rows: memory is bounded by the
//! batch size (times the columns' widths), never by the file size. Each row group reader
//! opens its own file handle, so row groups can be read on several threads at once.
//!
//! Errors name the file, the row group when there is one, and the parquet crate's reason
//! (which describes structure, never values).

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use sha2::{Digest, Sha256};

use crate::error::Error;

/// The default number of rows per batch.
pub const DEFAULT_BATCH_SIZE: usize = 8192;

/// An opened Parquet file: its footer, Arrow schema and schema fingerprint.
#[derive(Clone)]
pub struct ParquetFile {
    path: PathBuf,
    meta: ArrowReaderMetadata,
    fingerprint: String,
}

impl std::fmt::Debug for ParquetFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetFile")
            .field("path", &self.path)
            .field("rows", &self.num_rows())
            .field("row_groups", &self.num_row_groups())
            .finish_non_exhaustive()
    }
}

impl ParquetFile {
    /// Opens `path` and reads its footer. A missing, truncated or corrupt footer is an
    /// [`Error::Parquet`] naming the path.
    pub fn open(path: impl Into<PathBuf>) -> Result<ParquetFile, Error> {
        let path = path.into();
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(|e| {
            Error::Parquet {
                path: path.clone(),
                reason: format!("footer: {e}"),
            }
        })?;
        let fingerprint = schema_fingerprint(meta.schema());
        Ok(ParquetFile {
            path,
            meta,
            fingerprint,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The Arrow schema (from the embedded Arrow schema when there is one), with the file's
    /// key-value metadata as schema metadata.
    pub fn schema(&self) -> &SchemaRef {
        self.meta.schema()
    }

    /// [`schema_fingerprint`] of [`Self::schema`].
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Rows in the file, as the footer says.
    pub fn num_rows(&self) -> u64 {
        self.meta.metadata().file_metadata().num_rows().max(0) as u64
    }

    /// Row groups in the file.
    pub fn num_row_groups(&self) -> usize {
        self.meta.metadata().num_row_groups()
    }

    /// Rows in row group `index` (panics when out of range).
    pub fn row_group_rows(&self, index: usize) -> u64 {
        self.meta.metadata().row_group(index).num_rows().max(0) as u64
    }

    /// A batch size (rows) whose decoded batches hold about `target_bytes`, from the
    /// uncompressed sizes in the footer, between 1 and [`DEFAULT_BATCH_SIZE`]: use it to keep
    /// memory bounded when rows are large (a batch of 8192 one-megabyte documents would
    /// need 8 GB).
    pub fn batch_size_for(&self, target_bytes: usize) -> usize {
        let md = self.meta.metadata();
        let bytes: i64 = md.row_groups().iter().map(|g| g.total_byte_size()).sum();
        let rows = self.num_rows().max(1);
        let per_row = (bytes.max(0) as u64).div_ceil(rows).max(1);
        ((target_bytes as u64 / per_row) as usize).clamp(1, DEFAULT_BATCH_SIZE)
    }

    /// All rows, row group after row group, in batches of at most `batch_size` rows
    /// (a batch never spans two row groups).
    pub fn batches(&self, batch_size: usize) -> Batches {
        Batches {
            file: self.clone(),
            groups: (0..self.num_row_groups()).collect(),
            next_group: 0,
            current: None,
            batch_size: batch_size.max(1),
            failed: false,
        }
    }

    /// The rows of row group `index`, in batches of at most `batch_size` rows.
    pub fn row_group(&self, index: usize, batch_size: usize) -> Result<Batches, Error> {
        if index >= self.num_row_groups() {
            return Err(Error::Parquet {
                path: self.path.clone(),
                reason: format!(
                    "row group {index} does not exist ({} row groups)",
                    self.num_row_groups()
                ),
            });
        }
        Ok(Batches {
            file: self.clone(),
            groups: vec![index],
            next_group: 0,
            current: None,
            batch_size: batch_size.max(1),
            failed: false,
        })
    }

    fn reader(&self, group: usize, batch_size: usize) -> Result<ParquetRecordBatchReader, Error> {
        let file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.meta.clone())
            .with_batch_size(batch_size)
            .with_row_groups(vec![group])
            .build()
            .map_err(|e| self.group_error(group, e))
    }

    fn group_error(&self, group: usize, e: impl std::fmt::Display) -> Error {
        Error::Parquet {
            path: self.path.clone(),
            reason: format!("row group {group}: {e}"),
        }
    }
}

/// Batches of one or more row groups of a [`ParquetFile`]. Stops after the first error.
pub struct Batches {
    file: ParquetFile,
    groups: Vec<usize>,
    next_group: usize,
    current: Option<(usize, ParquetRecordBatchReader)>,
    batch_size: usize,
    failed: bool,
}

impl std::fmt::Debug for Batches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batches")
            .field("file", &self.file.path)
            .field("groups", &self.groups)
            .finish_non_exhaustive()
    }
}

impl Batches {
    /// The row group the last batch came from.
    pub fn row_group(&self) -> Option<usize> {
        self.current.as_ref().map(|(g, _)| *g)
    }
}

impl Iterator for Batches {
    type Item = Result<RecordBatch, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            if let Some((group, reader)) = &mut self.current {
                match reader.next() {
                    Some(Ok(batch)) => return Some(Ok(batch)),
                    Some(Err(e)) => {
                        self.failed = true;
                        return Some(Err(self.file.group_error(*group, e)));
                    }
                    None => self.current = None,
                }
            }
            let &group = self.groups.get(self.next_group)?;
            self.next_group += 1;
            match self.file.reader(group, self.batch_size) {
                Ok(r) => self.current = Some((group, r)),
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// SHA-256 (lower-case hex) of a canonical rendering of `schema`: every field's name, type,
/// nullability and metadata (keys sorted), recursively, then the schema metadata (keys
/// sorted). Equal schemas give equal fingerprints, whatever the order of their metadata
/// maps. Leaf types are rendered by the `arrow-schema` crate's `Debug` form, so an upgrade
/// of that crate could change a fingerprint; the rendering is prefixed `v1`.
pub fn schema_fingerprint(schema: &Schema) -> String {
    let mut s = String::from("v1;schema{");
    for f in schema.fields() {
        render_field(f, &mut s);
        s.push(',');
    }
    s.push('}');
    render_metadata(schema.metadata(), &mut s);
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn render_metadata(m: &arrow_schema::Metadata, out: &mut String) {
    let mut kv: Vec<_> = m.iter().collect();
    kv.sort(); // already sorted by key in arrow-schema 60; do not depend on it
    out.push_str("meta{");
    for (k, v) in kv {
        out.push_str(&format!("{k:?}={v:?},"));
    }
    out.push('}');
}

fn render_field(f: &Field, out: &mut String) {
    out.push_str(&format!("{:?}:", f.name()));
    render_type(f.data_type(), out);
    out.push_str(if f.is_nullable() { "?" } else { "!" });
    render_metadata(f.metadata(), out);
}

fn render_type(t: &DataType, out: &mut String) {
    let fields = |name: &str, fs: &mut dyn Iterator<Item = &Field>, out: &mut String| {
        out.push_str(name);
        out.push('<');
        for f in fs {
            render_field(f, out);
            out.push(',');
        }
        out.push('>');
    };
    match t {
        DataType::List(f) => fields("List", &mut std::iter::once(f.as_ref()), out),
        DataType::LargeList(f) => fields("LargeList", &mut std::iter::once(f.as_ref()), out),
        DataType::ListView(f) => fields("ListView", &mut std::iter::once(f.as_ref()), out),
        DataType::LargeListView(f) => {
            fields("LargeListView", &mut std::iter::once(f.as_ref()), out)
        }
        DataType::FixedSizeList(f, n) => {
            fields(
                &format!("FixedSizeList[{n}]"),
                &mut std::iter::once(f.as_ref()),
                out,
            );
        }
        DataType::Struct(fs) => fields("Struct", &mut fs.iter().map(|f| f.as_ref()), out),
        DataType::Map(f, sorted) => fields(
            &format!("Map[sorted={sorted}]"),
            &mut std::iter::once(f.as_ref()),
            out,
        ),
        DataType::Union(fs, mode) => fields(
            &format!(
                "Union[{mode:?};{}]",
                fs.iter()
                    .map(|(id, _)| id.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            &mut fs.iter().map(|(_, f)| f.as_ref()),
            out,
        ),
        DataType::Dictionary(k, v) => {
            out.push_str("Dictionary<");
            render_type(k, out);
            out.push(',');
            render_type(v, out);
            out.push('>');
        }
        DataType::RunEndEncoded(r, v) => fields(
            "RunEndEncoded",
            &mut [r.as_ref(), v.as_ref()].into_iter(),
            out,
        ),
        leaf => out.push_str(&format!("{leaf:?}")),
    }
}
