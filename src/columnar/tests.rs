//! Parquet round trips through [`ShardWriter`] and [`ParquetFile`].

use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
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
        let out = rewrite_strings(&batch, &Selection::all(), &mut |_, _, s, _| {
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
    visit_strings(&y, &Selection::all(), &mut |_, _, s, _| {
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
    let out = rewrite_strings(&batch, &Selection::all(), &mut |_, _, s, _| {
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
        &mut |_, _, s, _| (s == "en").then(|| "EN".to_string()),
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
        &mut |_, _, s, _| langs.push(s.to_string()),
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
    let clean = rewrite_strings(&batch, &Selection::all(), &mut |_, _, s, _| {
        scrubber.scrub(s, &mut scratch, &mut counts)
    })
    .unwrap();
    assert!(counts.total() > 400, "{}", counts.total());
    let mut left = 0;
    visit_strings(&clean, &Selection::all(), &mut |_, _, s, _| {
        left += scrubber.findings(s, &mut scratch).len();
        assert!(!s.contains("@example."), "an e-mail survived");
        assert!(!s.contains("4111 1111 1111"), "a card survived");
        assert!(!s.contains("+86 139-"), "a phone survived");
    });
    assert_eq!(left, 0);
    // Scrubbing is a function of the value: twice gives the same batch.
    let (mut scratch, mut c2) = (scrubber.scratch(), Detections::default());
    let again = rewrite_strings(&batch, &Selection::all(), &mut |_, _, s, _| {
        scrubber.scrub(s, &mut scratch, &mut c2)
    })
    .unwrap();
    assert_eq!(again, clean);
    assert_eq!(c2, counts);
}

/// A real scrubber (builtin rules, tag pseudonyms, a fixed key), built once.
fn real_scrubber() -> &'static crate::scrub::Scrubber {
    use crate::detect::Detector;
    use crate::pseudonym::{Key, Pseudonymizer, Style};
    use crate::rules::RuleSet;
    static SCRUBBER: std::sync::OnceLock<crate::scrub::Scrubber> = std::sync::OnceLock::new();
    SCRUBBER.get_or_init(|| {
        crate::scrub::Scrubber::new(
            Detector::new(&RuleSet::builtin().unwrap()).unwrap(),
            Pseudonymizer::new(&Key::from_material(&[9u8; 32]).unwrap(), Style::Tag),
        )
    })
}

/// The pseudonym of a string that holds one detectable value.
fn token(s: &str) -> String {
    let scrubber = real_scrubber();
    scrubber
        .scrub(s, &mut scrubber.scratch(), &mut Vec::new())
        .expect("a detectable value")
}

/// Scrubs every selected string of `batch`, map keys included, as the pipeline does.
fn scrub_batch(batch: &RecordBatch, sel: &Selection) -> RecordBatch {
    let scrubber = real_scrubber();
    let (mut scratch, mut counts) = (scrubber.scratch(), crate::scrub::Detections::default());
    rewrite_strings(batch, sel, &mut |_, _, s, _| {
        scrubber.scrub(s, &mut scratch, &mut counts)
    })
    .unwrap()
}

/// What the pipeline makes of a JSON line: every string and object key where `sel`
/// selects it scrubbed in place (the `record` path of `pipeline::work`).
fn scrub_json_line(line: &[u8], sel: &Selection) -> String {
    let scrubber = real_scrubber();
    let (mut scratch, mut found) = (scrubber.scratch(), Vec::new());
    let text = crate::json::validate(line).unwrap();
    let mut edits = Vec::new();
    crate::json::walk(text, sel, &mut Vec::new(), &mut |v| {
        if sel.selects(v.path) {
            if let Some(new) = scrubber.scrub(&v.value, &mut scratch, &mut found) {
                edits.push((v.span, new));
            }
        }
    })
    .unwrap();
    let mut out = Vec::new();
    crate::json::splice(text, &edits, &mut out);
    String::from_utf8(out).unwrap()
}

/// Row `row` of map column `col` as `(key, value)` pairs in entry order, values as JSON
/// text; `None` for a null map.
fn map_row(batch: &RecordBatch, col: &str, row: usize) -> Option<Vec<(String, String)>> {
    let map = batch.column_by_name(col).unwrap().as_map();
    if map.is_null(row) {
        return None;
    }
    let keys = map.keys();
    let key = |j: usize| -> String {
        match keys.data_type() {
            arrow_schema::DataType::Dictionary(..) => {
                let d = keys.as_any_dictionary();
                let k = d.normalized_keys()[j];
                d.values().as_string::<i32>().value(k).to_string()
            }
            _ => keys.as_string::<i32>().value(j).to_string(),
        }
    };
    let value = |j: usize| -> String {
        let one = RecordBatch::try_from_iter([("v", map.values().slice(j, 1))]).unwrap();
        json::row_to_value(&one, 0).unwrap()["v"].to_string()
    };
    let o = map.value_offsets();
    Some(
        (o[row] as usize..o[row + 1] as usize)
            .map(|j| (key(j), value(j)))
            .collect(),
    )
}

#[test]
fn map_keys_get_the_pseudonyms_json_keys_get() {
    use crate::columnar::testdata::map_batch;
    let batch = map_batch();
    let all = Selection::all();
    let clean = scrub_batch(&batch, &all);
    assert_eq!(clean.schema(), batch.schema());
    assert!(Arc::ptr_eq(batch.column(0), clean.column(0)), "id shared");

    // Row by row, the JSON form of the scrubbed row is the JSON form of the input row
    // scrubbed as a JSONL record: keys and values get the same pseudonyms. (`sorted` is
    // left out: its entries may move, see below.)
    let unsorted: Vec<usize> = (0..4).collect();
    let (b, c) = (
        batch.project(&unsorted).unwrap(),
        clean.project(&unsorted).unwrap(),
    );
    for row in 0..batch.num_rows() {
        let (mut raw, mut out) = (Vec::new(), Vec::new());
        json::write_row(&b, row, &mut raw).unwrap();
        json::write_row(&c, row, &mut out).unwrap();
        assert_eq!(
            scrub_json_line(&raw, &all),
            String::from_utf8(out).unwrap(),
            "row {row}"
        );
    }

    let scrubber = real_scrubber();
    let mut scratch = scrubber.scratch();
    let alice = token("alice@example.com");
    assert!(alice.starts_with("<EMAIL_"), "{alice}");
    assert_eq!(
        map_row(&clean, "counts", 0).unwrap(),
        [(alice, "3".into()), ("plain".into(), "1".into())]
    );
    // An unsorted map keeps its entry order even where new keys are out of order.
    let row4 = map_row(&clean, "counts", 4).unwrap();
    assert!(row4[0].0.starts_with("call <PHONE_"), "{row4:?}");
    assert!(!row4[0].0.contains("555-2671"));
    assert_eq!(row4[1], (token("bob@example.org"), "5".into()));
    assert!(row4[0].0 > row4[1].0);
    // Values under a replaced key are scrubbed too; nulls stay null.
    assert_eq!(
        map_row(&clean, "attrs", 0).unwrap(),
        [
            (
                token("carol@example.com"),
                format!("\"write to {}\"", token("dave@example.net"))
            ),
            ("lang".into(), "\"en\"".into())
        ]
    );
    assert_eq!(
        map_row(&clean, "attrs", 1).unwrap(),
        [
            ("note".into(), "null".into()),
            (token("erin@example.com"), "null".into())
        ]
    );
    // Dictionary-encoded keys: still a dictionary, one pseudonym per value.
    assert_eq!(clean.column(3).data_type(), batch.column(3).data_type());
    let frank = token("frank@example.com");
    assert_eq!(
        map_row(&clean, "dict", 1).unwrap(),
        [(frank.clone(), "\"again\"".into())]
    );
    assert_eq!(map_row(&clean, "dict", 0).unwrap()[0].0, frank);
    // Null and empty maps, and the null buffers, are the input's.
    for (i, name) in ["counts", "attrs", "dict", "sorted"].iter().enumerate() {
        let (x, y) = (batch.column(i + 1), clean.column(i + 1));
        assert_eq!(x.nulls(), y.nulls(), "{name}");
        assert_eq!(x.as_map().offsets(), y.as_map().offsets(), "{name}");
    }
    assert_eq!(map_row(&clean, "counts", 1), None);
    assert_eq!(map_row(&clean, "counts", 2), Some(vec![]));
    // A row without personal data keeps every key byte for byte.
    for name in ["counts", "attrs", "dict", "sorted"] {
        assert_eq!(map_row(&clean, name, 3), map_row(&batch, name, 3), "{name}");
    }
    // Nothing detectable is left, keys included.
    let mut left = 0;
    let mut keys = 0;
    visit_strings(&clean, &all, &mut |_, _, s, key| {
        keys += usize::from(key);
        left += scrubber.findings(s, &mut scratch).len();
    });
    assert_eq!(left, 0);
    // counts 2 + 2 + 2, attrs 2 + 2 + 2 + 2, dict 2 + 1 + 1, sorted 3 + 2 + 2 + 2.
    assert_eq!(keys, 27, "every key of every non-null map");
}

#[test]
fn sorted_maps_stay_sorted() {
    use crate::columnar::testdata::map_batch;
    let batch = map_batch();
    let clean = scrub_batch(&batch, &Selection::all());
    let arrow_schema::DataType::Map(_, true) = clean.schema().field(4).data_type() else {
        panic!("the type still declares sorted keys")
    };
    for row in [0, 1, 3, 4] {
        let e = map_row(&clean, "sorted", row).unwrap();
        assert!(e.windows(2).all(|w| w[0].0 <= w[1].0), "row {row}: {e:?}");
    }
    // The pseudonym sorts before letters: its entry moved to the front, with its value.
    assert_eq!(
        map_row(&clean, "sorted", 0).unwrap(),
        [
            (token("grace@example.com"), "\"y\"".into()),
            ("a-team".into(), "\"x\"".into()),
            ("zeta".into(), "\"z\"".into()),
        ]
    );
    // Only a value changed: nothing moves.
    assert_eq!(
        map_row(&clean, "sorted", 1).unwrap(),
        [
            ("alpha".into(), "\"1\"".into()),
            ("beta".into(), format!("\"{}\"", token("heidi@example.com"))),
        ]
    );
    // Both keys replaced: each value still under its own key.
    let mut want = vec![
        (token("ivan@example.com"), "\"v\"".to_string()),
        (token("judy@example.com"), "null".to_string()),
    ];
    want.sort();
    assert_eq!(map_row(&clean, "sorted", 4).unwrap(), want);

    // A slice re-sorts the same maps the same way.
    let part = scrub_batch(&batch.slice(1, 4), &Selection::all());
    for row in 0..4 {
        for name in ["counts", "attrs", "dict", "sorted"] {
            assert_eq!(
                map_row(&part, name, row),
                map_row(&clean, name, row + 1),
                "{name} {row}"
            );
        }
    }

    // And the result survives Parquet, sorted flag and all.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("maps.parquet");
    write(&p, std::slice::from_ref(&clean), &WriterOptions::default());
    let back = concat_batches(clean.schema_ref(), &read_all(&p, 2)).unwrap();
    assert_eq!(back.schema(), batch.schema());
    for row in 0..5 {
        for name in ["counts", "attrs", "dict", "sorted"] {
            assert_eq!(map_row(&back, name, row), map_row(&clean, name, row));
        }
    }
}
