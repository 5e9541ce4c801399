//! The reader thread: input files in order, cut into bounded batches.
//!
//! Batch boundaries depend only on the input (a byte or line budget for JSONL, the
//! Parquet reader's row batches), which is what makes every later decision independent of
//! the thread count.

use std::ops::Range;

use arrow_array::RecordBatch;

use super::pool::Buffers;
use crate::columnar::ParquetFile;
use crate::error::{Error, Result};
use crate::input::{Decoded, Format, InputFile, LineItem, LineReader};

/// Input bytes per batch: a JSONL batch is cut once its lines hold this many bytes, a
/// Parquet batch holds about this many decoded bytes (rows per batch derived from the
/// footer). About a dozen batches and their rewritten copies are in flight, so this bounds
/// memory: a 176 MB Parquet file peaked at 400 MiB with 8 MiB batches, 120 MiB with 1 MiB.
pub const BATCH_BYTES: usize = 1 << 20;
/// A JSONL batch is also cut at this many lines.
pub const BATCH_LINES: usize = 16 * 1024;
pub(crate) enum ItemKind {
    Line(Range<usize>),
    TooLong(u64),
    ReadError(String),
    EmptyFile,
    /// A Parquet file or row group that cannot be read.
    BadParquet(String),
}

pub(crate) struct Item {
    /// Line (1-based) or row (0-based); 0 for a whole file.
    pub line: u64,
    pub offset: u64,
    pub kind: ItemKind,
}

pub(crate) struct FileEnd {
    pub bytes: u64,
    pub sha256: String,
    pub row_groups: Option<u64>,
    pub schema_sha256: Option<String>,
}

pub(crate) enum Payload {
    Lines { data: Vec<u8>, items: Vec<Item> },
    Rows { first_row: u64, batch: RecordBatch },
    Problems(Vec<Item>),
}

pub(crate) struct Batch {
    pub file: u32,
    pub payload: Payload,
    pub end: Option<FileEnd>,
}

pub(crate) type Sender = crossbeam_channel::Sender<Result<Batch>>;

pub(crate) fn read_files(
    files: Vec<InputFile>,
    max_record: usize,
    batch_bytes: usize,
    bufs: &Buffers,
    tx: Sender,
) {
    for file in files {
        let ok = match file.format {
            Format::Jsonl => read_jsonl(&file, max_record, batch_bytes, bufs, &tx),
            Format::Parquet => read_parquet(&file, batch_bytes, &tx),
        };
        if !ok {
            return;
        }
    }
}

/// Sends one batch; false when the run is over (the receiver is gone).
fn send(tx: &Sender, b: Result<Batch>) -> bool {
    tx.send(b).is_ok()
}

fn read_jsonl(
    file: &InputFile,
    max_record: usize,
    batch_bytes: usize,
    bufs: &Buffers,
    tx: &Sender,
) -> bool {
    let mut dec = match Decoded::open(file) {
        Ok(d) => d,
        Err(e) => {
            send(tx, Err(e));
            return false;
        }
    };
    let mut lr = LineReader::new(max_record);
    let mut line = Vec::new();
    let new_batch = || {
        (
            bufs.bytes.take(batch_bytes.min(BATCH_BYTES) + (64 << 10)),
            bufs.items.take(0),
        )
    };
    let (mut data, mut items): (Vec<u8>, Vec<Item>) = new_batch();
    // A file of blank lines has no records either.
    let mut any_record = false;
    loop {
        match lr.next(dec.reader(), &mut line) {
            Ok(None) => break,
            Ok(Some(LineItem::Line { line: n, offset })) => {
                // A UTF-8 byte order mark (Windows exports) marks the file, not the record.
                let bom = if n == 1 && line.starts_with(b"\xEF\xBB\xBF") {
                    3
                } else {
                    0
                };
                any_record |= !line[bom..].iter().all(u8::is_ascii_whitespace);
                let start = data.len();
                data.extend_from_slice(&line[bom..]);
                items.push(Item {
                    line: n,
                    offset: offset + bom as u64,
                    kind: ItemKind::Line(start..data.len()),
                });
            }
            Ok(Some(LineItem::TooLong {
                line: n,
                offset,
                len,
            })) => {
                any_record = true;
                items.push(Item {
                    line: n,
                    offset,
                    kind: ItemKind::TooLong(len),
                })
            }
            Err(e) => {
                any_record = true;
                items.push(Item {
                    line: lr.lines() + 1,
                    offset: lr.offset(),
                    kind: ItemKind::ReadError(e.to_string()),
                });
                break;
            }
        }
        if data.len() >= batch_bytes || items.len() >= BATCH_LINES {
            let (d, i) = new_batch();
            let b = Batch {
                file: file.index,
                payload: Payload::Lines {
                    data: std::mem::replace(&mut data, d),
                    items: std::mem::replace(&mut items, i),
                },
                end: None,
            };
            if !send(tx, Ok(b)) {
                return false;
            }
        }
    }
    if !any_record {
        items.push(Item {
            line: 0,
            offset: 0,
            kind: ItemKind::EmptyFile,
        });
    }
    let end = match dec.finish() {
        Ok((bytes, sha256)) => FileEnd {
            bytes,
            sha256,
            row_groups: None,
            schema_sha256: None,
        },
        Err(e) => {
            send(tx, Err(Error::io(&file.path, e)));
            return false;
        }
    };
    send(
        tx,
        Ok(Batch {
            file: file.index,
            payload: Payload::Lines { data, items },
            end: Some(end),
        }),
    )
}

fn read_parquet(file: &InputFile, batch_bytes: usize, tx: &Sender) -> bool {
    let (bytes, sha256) = match crate::output::sha256_file(&file.path) {
        Ok(x) => x,
        Err(e) => {
            send(tx, Err(e));
            return false;
        }
    };
    let mut end = FileEnd {
        bytes,
        sha256,
        row_groups: None,
        schema_sha256: None,
    };
    let problem = |row: u64, reason: String| Item {
        line: row,
        offset: 0,
        kind: ItemKind::BadParquet(reason),
    };
    let pq = match ParquetFile::open(&file.path) {
        Ok(p) => p,
        Err(e) => {
            return send(
                tx,
                Ok(Batch {
                    file: file.index,
                    payload: Payload::Problems(vec![problem(0, e.to_string())]),
                    end: Some(end),
                }),
            );
        }
    };
    end.row_groups = Some(pq.num_row_groups() as u64);
    end.schema_sha256 = Some(pq.fingerprint().to_string());
    // Strings the columnar layer cannot reach would be copied out unscanned: the whole
    // file is set aside instead, naming the columns (schema paths, never data).
    let unreachable = crate::columnar::unreachable_strings(pq.schema());
    if !unreachable.is_empty() {
        let reason = format!(
            "string columns that cannot be scanned (list views, unions, run-end encoding, non-string map keys): {}",
            unreachable.join(", ")
        );
        return send(
            tx,
            Ok(Batch {
                file: file.index,
                payload: Payload::Problems(vec![problem(0, reason)]),
                end: Some(end),
            }),
        );
    }
    if pq.num_rows() == 0 {
        return send(
            tx,
            Ok(Batch {
                file: file.index,
                payload: Payload::Problems(vec![Item {
                    line: 0,
                    offset: 0,
                    kind: ItemKind::EmptyFile,
                }]),
                end: Some(end),
            }),
        );
    }
    let batch_size = pq.batch_size_for(batch_bytes);
    let mut pending: Option<Batch> = None;
    let mut group_start = 0u64;
    // Row group by row group: a group that cannot be read is set aside from the row where
    // it fails, and the groups after it are still read (their rows keep their numbers).
    for group in 0..pq.num_row_groups() {
        let mut row = group_start;
        group_start += pq.row_group_rows(group);
        // A group that cannot be opened fails like one that cannot be read.
        let (opened, failed) = match pq.row_group(group, batch_size) {
            Ok(b) => (Some(b), None),
            Err(e) => (None, Some(Err(e))),
        };
        for b in opened.into_iter().flatten().chain(failed) {
            if let Some(p) = pending.take() {
                if !send(tx, Ok(p)) {
                    return false;
                }
            }
            match b {
                Ok(batch) => {
                    // The Arrow reader's batches carry field metadata but not the
                    // schema-level metadata of the file; the output must keep both.
                    let batch = batch
                        .with_schema(pq.schema().clone())
                        .expect("a file's schema is a superset of its batches' schema");
                    let n = batch.num_rows() as u64;
                    pending = Some(Batch {
                        file: file.index,
                        payload: Payload::Rows {
                            first_row: row,
                            batch,
                        },
                        end: None,
                    });
                    row += n;
                }
                Err(e) => {
                    pending = Some(Batch {
                        file: file.index,
                        payload: Payload::Problems(vec![problem(row, e.to_string())]),
                        end: None,
                    });
                    break;
                }
            }
        }
    }
    let mut last = pending.unwrap_or(Batch {
        file: file.index,
        payload: Payload::Problems(Vec::new()),
        end: None,
    });
    last.end = Some(end);
    send(tx, Ok(last))
}
