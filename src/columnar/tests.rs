//! Parquet round trips through [`ShardWriter`] and [`ParquetFile`].

use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, RecordBatch};
use arrow_select::concat::concat_batches;

use super::testdata::{sample_batch, sample_schema};
use super::*;
use crate::error::Error;
use crate::select::Selection;

fn write(path: &Path, batches: &[RecordBatch], opts: &WriterOptions) -> ShardSummary {
    let mut w = ShardWriter::create(path, batches[0].schema(), opts).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.close().unwrap()
}

fn read_all(path: &Path, batch_size: usize) -> Vec<RecordBatch> {
    ParquetFile::open(path)
        .unwrap()
        .batches(batch_size)
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

#[test]
fn round_trip_keeps_schema_and_rows() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.parquet");
    let batch = sample_batch(1000, 9);
    let s = write(
        &p,
        &[batch.slice(0, 600), batch.slice(600, 400)],
        &WriterOptions::default(),
    );
    assert_eq!(s.rows, 1000);
    assert_eq!(s.bytes, std::fs::metadata(&p).unwrap().len());
    let f = ParquetFile::open(&p).unwrap();
    assert_eq!(f.schema(), &sample_schema(), "schema incl. metadata");
    assert_eq!(f.num_rows(), 1000);
    assert_eq!(f.fingerprint(), schema_fingerprint(&sample_schema()));
    assert_eq!(f.batch_size_for(1 << 30), DEFAULT_BATCH_SIZE);
    let small = f.batch_size_for(10_000);
    assert!((10..1000).contains(&small), "{small}");
    let back = read_all(&p, 128);
    assert!(back.iter().all(|b| b.num_rows() <= 128));
    let back = concat_batches(f.schema(), &back).unwrap();
    assert_eq!(back, batch);
}

#[test]
fn scrubbed_file_changes_only_strings() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        dir.path().join("in.parquet"),
        dir.path().join("out.parquet"),
    );
    write(&a, &[sample_batch(500, 2)], &WriterOptions::default());
    let f = ParquetFile::open(&a).unwrap();
    let mut w = ShardWriter::create(&b, f.schema().clone(), &WriterOptions::default()).unwrap();
    for batch in f.batches(100) {
        let batch = batch.unwrap();
        let out = rewrite_strings(&batch, &Selection::all(), &mut |_, _, s| {
            s.contains('@').then(|| s.replace('@', " at "))
        })
        .unwrap();
        w.write(&out).unwrap();
    }
    w.close().unwrap();
    let (x, y) = (read_all(&a, 8192), read_all(&b, 8192));
    let (x, y) = (
        concat_batches(f.schema(), &x).unwrap(),
        concat_batches(f.schema(), &y).unwrap(),
    );
    assert_eq!(x.schema(), y.schema());
    for name in ["id", "score", "created"] {
        let (c, d) = (
            x.column_by_name(name).unwrap(),
            y.column_by_name(name).unwrap(),
        );
        assert_eq!(c.to_data(), d.to_data(), "{name} bit-identical");
    }
    let mut left = 0;
    visit_strings(&y, &Selection::all(), &mut |_, _, s| {
        left += s.matches('@').count()
    });
    assert_eq!(left, 0);
    let lang = y.column_by_name("lang").unwrap();
    assert!(matches!(
        lang.data_type(),
        arrow_schema::DataType::Dictionary(..)
    ));
}

#[test]
fn writer_is_deterministic_and_bounds_row_groups() {
    let dir = tempfile::tempdir().unwrap();
    let opts = WriterOptions {
        max_row_group_rows: 300,
        ..WriterOptions::default()
    };
    let batch = sample_batch(1000, 4);
    let one = write(
        &dir.path().join("1.parquet"),
        std::slice::from_ref(&batch),
        &opts,
    );
    let two = write(
        &dir.path().join("2.parquet"),
        std::slice::from_ref(&batch),
        &opts,
    );
    assert_eq!(one, two);
    assert_eq!(one.row_groups, 4);
    let bytes = std::fs::read(dir.path().join("1.parquet")).unwrap();
    assert_eq!(bytes, std::fs::read(dir.path().join("2.parquet")).unwrap());
    use sha2::Digest;
    assert_eq!(one.sha256, hex::encode(sha2::Sha256::digest(&bytes)));
    let created_by = format!("scrubline {}", env!("CARGO_PKG_VERSION"));
    assert!(bytes
        .windows(created_by.len())
        .any(|w| w == created_by.as_bytes()));

    let f = ParquetFile::open(dir.path().join("1.parquet")).unwrap();
    assert_eq!(f.num_row_groups(), 4);
    assert_eq!(f.row_group_rows(3), 100);
    let g: Vec<_> = f
        .row_group(2, 64)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let g = concat_batches(f.schema(), &g).unwrap();
    assert_eq!(g, batch.slice(600, 300));
    assert!(f.row_group(4, 64).is_err());

    // A byte bound splits too.
    let small = WriterOptions {
        max_row_group_bytes: 16 << 10,
        ..WriterOptions::default()
    };
    let slices: Vec<_> = (0..10).map(|i| batch.slice(i * 100, 100)).collect();
    let s = write(&dir.path().join("3.parquet"), &slices, &small);
    assert!(s.row_groups > 2, "{s:?}");
}

#[test]
fn truncated_and_corrupt_files_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("good.parquet");
    write(
        &p,
        &[sample_batch(2000, 1)],
        &WriterOptions {
            max_row_group_rows: 1000,
            ..WriterOptions::default()
        },
    );
    let bytes = std::fs::read(&p).unwrap();

    let t = dir.path().join("truncated.parquet");
    std::fs::write(&t, &bytes[..bytes.len() / 2]).unwrap();
    let e = ParquetFile::open(&t).unwrap_err();
    assert!(matches!(e, Error::Parquet { .. }));
    assert!(e.to_string().contains("truncated.parquet"), "{e}");

    let g = dir.path().join("garbage.parquet");
    std::fs::write(&g, b"not a parquet file at all").unwrap();
    assert!(ParquetFile::open(&g)
        .unwrap_err()
        .to_string()
        .contains("garbage.parquet"));

    // Corrupt the data pages (keep the footer): the error comes while reading batches.
    let c = dir.path().join("corrupt.parquet");
    let mut bad = bytes.clone();
    let footer = u32::from_le_bytes(bad[bad.len() - 8..bad.len() - 4].try_into().unwrap());
    let data_end = bad.len() - 8 - footer as usize;
    for b in &mut bad[8..data_end] {
        *b = b.wrapping_mul(31).wrapping_add(7);
    }
    std::fs::write(&c, &bad).unwrap();
    let f = ParquetFile::open(&c).unwrap();
    let errs: Vec<Error> = f.batches(512).filter_map(Result::err).collect();
    assert_eq!(errs.len(), 1, "stops after the first error");
    let msg = errs[0].to_string();
    assert!(
        msg.contains("corrupt.parquet") && msg.contains("row group 0"),
        "{msg}"
    );
}

#[test]
fn fingerprint_sees_metadata_and_types() {
    let s = sample_schema();
    let mut m = s.metadata().clone();
    m.insert("x", "y");
    let s2 = Arc::new(s.as_ref().clone().with_metadata(m));
    assert_ne!(schema_fingerprint(&s), schema_fingerprint(&s2));
    assert_eq!(schema_fingerprint(&s), schema_fingerprint(&sample_schema()));
    assert_eq!(schema_fingerprint(&s).len(), 64);
}

#[test]
fn exotic_types_round_trip_after_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.parquet");
    let batch = super::testdata::exotic_batch();
    let out = rewrite_strings(&batch, &Selection::all(), &mut |_, _, s| {
        s.contains('@').then(|| s.replace('@', "<at>"))
    })
    .unwrap();
    write(&p, std::slice::from_ref(&out), &WriterOptions::default());
    let back = read_all(&p, 1);
    assert_eq!(back.len(), 2);
    let back = concat_batches(&batch.schema(), &back).unwrap();
    assert_eq!(back, out);
    let mut json = Vec::new();
    json::write_jsonl(&back, &mut json).unwrap();
    let json = String::from_utf8(json).unwrap();
    assert!(!json.contains('@') && json.contains("<at>"), "{json}");
}

#[test]
fn dictionary_rewrite_survives_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("d.parquet");
    let batch = sample_batch(300, 8);
    let out = rewrite_strings(
        &batch,
        &Selection::parse(&["lang"]).unwrap(),
        &mut |_, _, s| (s == "en").then(|| "EN".to_string()),
    )
    .unwrap();
    assert!(!Arc::ptr_eq(batch.column(2), out.column(2)));
    assert!(Arc::ptr_eq(batch.column(1), out.column(1)));
    write(&p, std::slice::from_ref(&out), &WriterOptions::default());
    let back = concat_batches(out.schema_ref(), &read_all(&p, 8192)).unwrap();
    assert_eq!(back.schema(), batch.schema());
    let mut langs = Vec::new();
    visit_strings(
        &back,
        &Selection::parse(&["lang"]).unwrap(),
        &mut |_, _, s| langs.push(s.to_string()),
    );
    assert!(langs.contains(&"EN".to_string()) && !langs.contains(&"en".to_string()));
}

#[test]
fn handles_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<ParquetFile>();
    send::<Batches>();
    send::<ShardWriter>();
}

#[test]
fn real_scrubber_leaves_nothing_detectable() {
    use crate::detect::Detector;
    use crate::pseudonym::{Key, Pseudonymizer, Style};
    use crate::rules::RuleSet;
    use crate::scrub::{Detections, Scrubber};
    let scrubber = Scrubber::new(
        Detector::new(&RuleSet::builtin().unwrap()).unwrap(),
        Pseudonymizer::new(&Key::from_material(&[7u8; 32]).unwrap(), Style::Tag),
    );
    let (mut scratch, mut counts) = (scrubber.scratch(), Detections::default());
    let batch = sample_batch(400, 12);
    let clean = rewrite_strings(&batch, &Selection::all(), &mut |_, _, s| {
        scrubber.scrub(s, &mut scratch, &mut counts)
    })
    .unwrap();
    assert!(counts.total() > 400, "{}", counts.total());
    let mut left = 0;
    visit_strings(&clean, &Selection::all(), &mut |_, _, s| {
        left += scrubber.findings(s, &mut scratch).len();
        assert!(!s.contains("@example."), "an e-mail survived");
        assert!(!s.contains("4111 1111 1111"), "a card survived");
        assert!(!s.contains("+86 139-"), "a phone survived");
    });
    assert_eq!(left, 0);
    // Scrubbing is a function of the value: twice gives the same batch.
    let (mut scratch, mut c2) = (scrubber.scratch(), Detections::default());
    let again = rewrite_strings(&batch, &Selection::all(), &mut |_, _, s| {
        scrubber.scrub(s, &mut scratch, &mut c2)
    })
    .unwrap();
    assert_eq!(again, clean);
    assert_eq!(c2, counts);
}
