//! The ordered side of a run: dedup decisions, shard boundaries, rejects and the record
//! sink, all taken in input order on one thread; then shard files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{BooleanArray, RecordBatch};
use arrow_schema::SchemaRef;
use serde::Serialize;

use super::work::Reject;
use crate::columnar::{self, ShardWriter, WriterOptions};
use crate::error::{Error, Result};
use crate::manifest::{self, RejectLocation, RejectsEntry};
use crate::output::{self, shard_name, ShardInfo};

/// Parquet shards: one writer open at a time, rotated when the estimated file size reaches
/// the shard size or when the schema changes.
pub(crate) struct ParquetShards {
    dir: PathBuf,
    prefix: String,
    opts: WriterOptions,
    shard_size: u64,
    open: Option<OpenParquet>,
    next: u32,
    done: Vec<ShardInfo>,
}

struct OpenParquet {
    index: u32,
    schema: SchemaRef,
    writer: ShardWriter,
    path: PathBuf,
}

impl ParquetShards {
    pub fn new(dir: &Path, prefix: &str, opts: WriterOptions, shard_size: u64) -> ParquetShards {
        ParquetShards {
            dir: dir.to_path_buf(),
            prefix: prefix.to_string(),
            opts,
            shard_size,
            open: None,
            next: 0,
            done: Vec::new(),
        }
    }

    /// Continues after a checkpoint taken with no shard open.
    pub fn resume(&mut self, done: Vec<ShardInfo>, next: u32) {
        self.done = done;
        self.next = next;
    }

    /// Finished shards so far, and the index of the next one.
    pub fn progress(&self) -> (&[ShardInfo], u32) {
        (&self.done, self.next)
    }

    /// Closes the open shard if it reached the shard size; true if it did. Called between
    /// batches, so that a checkpoint can follow with no writer open.
    pub fn rotate_if_full(&mut self) -> Result<bool> {
        if self
            .open
            .as_ref()
            .is_some_and(|o| o.writer.estimated_size() >= self.shard_size)
        {
            self.finish_open()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// The schema of the open shard.
    pub fn schema(&self) -> Option<&SchemaRef> {
        self.open.as_ref().map(|o| &o.schema)
    }

    /// Writes `batch`; returns the index of the shard it went to.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<u32> {
        let rotate = self.open.as_ref().is_some_and(|o| {
            o.writer.estimated_size() >= self.shard_size
                || o.schema.as_ref() != batch.schema().as_ref()
        });
        if rotate {
            self.finish_open()?;
        }
        if self.open.is_none() {
            let index = self.next;
            self.next += 1;
            let path = self.dir.join(shard_name(&self.prefix, index, "parquet"));
            let writer = ShardWriter::create(output::temp_path(&path), batch.schema(), &self.opts)?;
            self.open = Some(OpenParquet {
                index,
                schema: batch.schema(),
                writer,
                path,
            });
        }
        let o = self.open.as_mut().expect("opened above");
        o.writer.write(batch)?;
        Ok(o.index)
    }

    fn finish_open(&mut self) -> Result<()> {
        let Some(o) = self.open.take() else {
            return Ok(());
        };
        let tmp = o.writer.path().to_path_buf();
        let summary = o.writer.close()?;
        std::fs::rename(&tmp, &o.path).map_err(|e| Error::io(&o.path, e))?;
        output::sync_dir(&self.dir)?;
        self.done.push(ShardInfo {
            path: o
                .path
                .file_name()
                .expect("named")
                .to_string_lossy()
                .into_owned(),
            records: summary.rows,
            bytes: summary.bytes,
            sha256: summary.sha256,
            row_groups: Some(summary.row_groups as u64),
        });
        Ok(())
    }

    pub fn finish(mut self) -> Result<Vec<ShardInfo>> {
        self.finish_open()?;
        Ok(self.done)
    }
}

/// Keeps the rows of `batch` whose `keep` is true.
pub(crate) fn filter_rows(batch: &RecordBatch, keep: &[bool]) -> Result<RecordBatch> {
    if keep.iter().all(|&k| k) {
        return Ok(batch.clone());
    }
    let mask = BooleanArray::from(keep.to_vec());
    arrow_select::filter::filter_record_batch(batch, &mask)
        .map_err(|e| Error::Config(format!("filtering rows: {e}")))
}

/// JSON records as a batch: with the open shard's schema when every record fits it (so a
/// shard keeps one schema), else with a schema inferred from these records.
pub(crate) fn values_batch(
    values: &[serde_json::Value],
    current: Option<&SchemaRef>,
) -> Result<RecordBatch> {
    let schema = match current {
        Some(s) if values.iter().all(|v| columnar::json::fits(v, s).is_ok()) => s.clone(),
        _ => Arc::new(columnar::json::infer_schema(values.iter())),
    };
    columnar::json::records_to_batch(values, &schema)
        .map_err(|e| Error::Config(format!("converting records to Arrow: {e}")))
}

/// The rejects file: every set-aside record with its location, reason and scrubbed text.
pub(crate) struct Rejects {
    path: PathBuf,
    rel: String,
    file: Option<std::io::BufWriter<std::fs::File>>,
    len: u64,
    pub entry: RejectsEntry,
}

impl Rejects {
    pub fn new(dir: &Path, name: &str) -> Rejects {
        Rejects {
            path: dir.join("rejects").join(name),
            rel: format!("rejects/{name}"),
            file: None,
            len: 0,
            entry: RejectsEntry::default(),
        }
    }

    /// Continues from a checkpoint: the temporary file is cut back to `len` bytes.
    pub fn resume(&mut self, entry: RejectsEntry, len: u64) -> Result<()> {
        self.entry = entry;
        self.len = len;
        if len > 0 {
            let tmp = output::temp_path(&self.path);
            output::unfinish(&self.path, &tmp)?;
            self.file = Some(std::io::BufWriter::new(output::reopen_at(&tmp, len)?));
        }
        Ok(())
    }

    /// Makes what was written durable; returns its length.
    pub fn checkpoint(&mut self) -> Result<u64> {
        if let Some(f) = self.file.as_mut() {
            f.flush().map_err(|e| Error::io(&self.path, e))?;
            f.get_ref()
                .sync_data()
                .map_err(|e| Error::io(&self.path, e))?;
        }
        Ok(self.len)
    }

    pub fn add(&mut self, r: &Reject, file_path: &str) -> Result<()> {
        if self.file.is_none() {
            let dir = self.path.parent().expect("rejects/ parent");
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            let tmp = output::temp_path(&self.path);
            let f = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
            self.file = Some(std::io::BufWriter::new(f));
        }
        #[derive(Serialize)]
        struct Line<'a> {
            file: u32,
            path: &'a str,
            line: u64,
            byte_offset: u64,
            reason: &'a str,
            message: &'a str,
            text: Option<&'a str>,
        }
        let mut line = serde_json::to_vec(&Line {
            file: r.file,
            path: file_path,
            line: r.line,
            byte_offset: r.offset,
            reason: r.reason,
            message: &r.message,
            text: r.text.as_deref(),
        })
        .expect("reject serializes");
        line.push(b'\n');
        let f = self.file.as_mut().expect("opened above");
        f.write_all(&line).map_err(|e| Error::io(&self.path, e))?;
        self.len += line.len() as u64;
        self.entry.records += 1;
        *self
            .entry
            .by_reason
            .entry(r.reason.to_string())
            .or_default() += 1;
        if self.entry.locations.len() < manifest::MAX_LISTED_REJECTS {
            self.entry.locations.push(RejectLocation {
                file: r.file,
                line: r.line,
                reason: r.reason.to_string(),
            });
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<RejectsEntry> {
        if let Some(f) = self.file.take() {
            let tmp = output::temp_path(&self.path);
            let f = f
                .into_inner()
                .map_err(|e| Error::io(&tmp, e.into_error()))?;
            f.sync_all().map_err(|e| Error::io(&tmp, e))?;
            let (_, sha) = output::sha256_file(&tmp)?;
            std::fs::rename(&tmp, &self.path).map_err(|e| Error::io(&self.path, e))?;
            self.entry.path = Some(self.rel.clone());
            self.entry.sha256 = Some(sha);
        }
        Ok(self.entry)
    }
}
