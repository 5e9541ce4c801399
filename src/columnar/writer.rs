//! Writing Parquet shards.
//!
//! A [`ShardWriter`] writes record batches to one file, in row groups bounded by rows and by
//! estimated bytes, with the batches' Arrow schema embedded (so dictionary columns,
//! timezones, view types, field and schema metadata read back as they were written). The
//! caller names the (temporary) path and renames the file after [`ShardWriter::close`],
//! which flushes, fsyncs and returns the rows, row groups, size and SHA-256 of the file.
//!
//! The bytes depend only on the batches and the options: `created_by` is a fixed
//! `scrubline <version>` and nothing else in a Parquet file records time or host.
//!
//! Memory: the writer buffers the encoded pages of the row group in progress, so at most
//! about `max_row_group_bytes` (plus one batch) per open writer.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use sha2::{Digest, Sha256};

use crate::error::Error;

/// Rows handed to the Parquet writer at a time (the granularity of the byte bound).
pub const WRITE_CHUNK_ROWS: usize = 1024;

/// Options of a [`ShardWriter`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriterOptions {
    /// A row group ends after this many rows (`--row-group-rows`).
    pub max_row_group_rows: usize,
    /// A row group ends once its estimated encoded size reaches this many bytes.
    pub max_row_group_bytes: usize,
    /// Page compression; zstd level 3 by default.
    pub compression: Compression,
    /// The `created_by` string of the footer.
    pub created_by: String,
}

impl Default for WriterOptions {
    fn default() -> WriterOptions {
        WriterOptions {
            max_row_group_rows: 65_536,
            max_row_group_bytes: 64 << 20,
            compression: Compression::ZSTD(ZstdLevel::try_new(3).expect("zstd level 3 exists")),
            created_by: concat!("scrubline ", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

impl WriterOptions {
    /// The Parquet writer properties these options stand for.
    pub fn properties(&self) -> WriterProperties {
        WriterProperties::builder()
            .set_compression(self.compression)
            .set_max_row_group_row_count(Some(self.max_row_group_rows.max(1)))
            .set_max_row_group_bytes(Some(self.max_row_group_bytes.max(1)))
            .set_created_by(self.created_by.clone())
            .build()
    }
}

/// What a closed shard holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardSummary {
    /// Rows written.
    pub rows: u64,
    /// Row groups written.
    pub row_groups: usize,
    /// File size in bytes.
    pub bytes: u64,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
}

/// Hashes and counts what goes to the file, so closing needs no second read.
struct HashingWriter {
    file: BufWriter<File>,
    hasher: Sha256,
    bytes: u64,
}

impl Write for HashingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Writes one Parquet shard. See the [module docs](self).
pub struct ShardWriter {
    path: PathBuf,
    inner: ArrowWriter<HashingWriter>,
    rows: u64,
}

impl std::fmt::Debug for ShardWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardWriter")
            .field("path", &self.path)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl ShardWriter {
    /// Creates (truncates) `path` and writes the file header. Every batch written must have
    /// exactly `schema`.
    pub fn create(
        path: impl Into<PathBuf>,
        schema: SchemaRef,
        options: &WriterOptions,
    ) -> Result<ShardWriter, Error> {
        let path = path.into();
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        let sink = HashingWriter {
            file: BufWriter::with_capacity(1 << 20, file),
            hasher: Sha256::new(),
            bytes: 0,
        };
        let inner = ArrowWriter::try_new(sink, schema, Some(options.properties()))
            .map_err(|e| parquet_error(&path, e))?;
        Ok(ShardWriter {
            path,
            inner,
            rows: 0,
        })
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `batch`; a full row group is encoded and written out.
    ///
    /// The byte bound is checked between slices of [`WRITE_CHUNK_ROWS`] rows, so a row group
    /// ends at most one slice past `max_row_group_bytes`.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), Error> {
        let mut offset = 0;
        while offset < batch.num_rows() {
            let n = WRITE_CHUNK_ROWS.min(batch.num_rows() - offset);
            self.inner
                .write(&batch.slice(offset, n))
                .map_err(|e| parquet_error(&self.path, e))?;
            offset += n;
        }
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Adds a key-value pair to the file's footer metadata (visible to every Parquet reader,
    /// unlike the Arrow schema's own metadata, which only Arrow readers decode).
    pub fn append_key_value_metadata(&mut self, key: &str, value: &str) {
        self.inner
            .append_key_value_metadata(parquet::file::metadata::KeyValue::new(
                key.to_string(),
                value.to_string(),
            ));
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Bytes written plus the estimated size of the row group in progress: compare with
    /// `--shard-size` to decide when to rotate.
    pub fn estimated_size(&self) -> u64 {
        (self.inner.bytes_written() + self.inner.in_progress_size()) as u64
    }

    /// Writes the last row group and the footer, fsyncs, and summarizes the file.
    pub fn close(mut self) -> Result<ShardSummary, Error> {
        let path = self.path;
        self.inner.flush().map_err(|e| parquet_error(&path, e))?;
        let row_groups = self.inner.flushed_row_groups().len();
        let mut sink = self
            .inner
            .into_inner()
            .map_err(|e| parquet_error(&path, e))?;
        sink.flush().map_err(|e| Error::io(&path, e))?;
        let file = sink
            .file
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&path, e))?;
        Ok(ShardSummary {
            rows: self.rows,
            row_groups,
            bytes: sink.bytes,
            sha256: hex::encode(sink.hasher.finalize()),
        })
    }
}

fn parquet_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Parquet {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}
