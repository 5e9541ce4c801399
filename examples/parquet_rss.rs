//! Peak-memory check for the columnar layer (issue 4): generate a large Parquet file, then
//! scrub it row group by row group on N threads and report the peak RSS.
//!
//! ```text
//! cargo run --release --example parquet_rss -- gen /tmp/big.parquet 145000
//! cargo run --release --example parquet_rss -- scrub /tmp/big.parquet /tmp/out 2
//! ```
//!
//! `scrub` stands in for the pipeline: each thread takes every N-th row group, rewrites the
//! strings holding `@` and writes its own shard. The callback is not the real scrubber
//! (this layer knows no rules), so the figure measures reading, rewriting and writing.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use scrubline::columnar::testdata::sample_batch;
use scrubline::columnar::{
    rewrite_strings, ParquetFile, ShardWriter, WriterOptions, DEFAULT_BATCH_SIZE,
};
use scrubline::select::Selection;

fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

/// Pads each text with ~2 KB of random letters, so the file is large and compresses poorly.
fn padded(batch: &RecordBatch, seed: u64) -> RecordBatch {
    let mut x = seed | 1;
    let text = batch
        .column_by_name("text")
        .unwrap()
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    let col: StringArray = text
        .iter()
        .map(|t| {
            let mut s = String::from(t.unwrap_or("row"));
            s.push(' ');
            for i in 0..2000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push(if i % 7 == 6 {
                    ' '
                } else {
                    (b'a' + (x % 26) as u8) as char
                });
            }
            Some(s)
        })
        .collect();
    let mut cols: Vec<ArrayRef> = batch.columns().to_vec();
    cols[batch.schema().index_of("text").unwrap()] = Arc::new(col);
    RecordBatch::try_new(batch.schema(), cols).unwrap()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("gen") => {
            let rows: usize = args[3].parse()?;
            let first = sample_batch(1, 0);
            let mut w = ShardWriter::create(&args[2], first.schema(), &WriterOptions::default())?;
            let mut done = 0;
            while done < rows {
                let n = 1000.min(rows - done);
                w.write(&padded(&sample_batch(n, done as u64), done as u64 + 1))?;
                done += n;
            }
            let s = w.close()?;
            println!("{s:?} peak_rss_mib={}", peak_rss_mib());
        }
        Some("scrub") => {
            let file = ParquetFile::open(&args[2])?;
            let out = std::path::PathBuf::from(&args[3]);
            std::fs::create_dir_all(&out)?;
            let threads: usize = args[4].parse()?;
            println!(
                "input rows={} row_groups={} fingerprint={}",
                file.num_rows(),
                file.num_row_groups(),
                file.fingerprint()
            );
            let start = std::time::Instant::now();
            let summaries = std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let file = &file;
                        let out = &out;
                        s.spawn(move || -> Result<_, scrubline::error::Error> {
                            let path = out.join(format!("part-{t:05}.parquet"));
                            let mut w = ShardWriter::create(
                                &path,
                                file.schema().clone(),
                                &WriterOptions::default(),
                            )?;
                            for g in (t..file.num_row_groups()).step_by(threads) {
                                for batch in file.row_group(g, DEFAULT_BATCH_SIZE)? {
                                    let batch = rewrite_strings(
                                        &batch?,
                                        &Selection::all(),
                                        &mut |_, _, s, _| {
                                            s.contains('@').then(|| s.replace('@', "<AT>"))
                                        },
                                    )
                                    .expect("rewrite");
                                    w.write(&batch)?;
                                }
                            }
                            w.close()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("thread"))
                    .collect::<Result<Vec<_>, _>>()
            })?;
            let rows: u64 = summaries.iter().map(|s| s.rows).sum();
            println!(
                "output rows={rows} shards={} secs={:.1} peak_rss_mib={}",
                summaries.len(),
                start.elapsed().as_secs_f64(),
                peak_rss_mib()
            );
        }
        _ => eprintln!("usage: parquet_rss gen PATH ROWS | scrub PATH OUT_DIR THREADS"),
    }
    Ok(())
}
