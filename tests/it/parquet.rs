//! Parquet in and out (issue 4).

use std::collections::BTreeSet;

use arrow_array::{Array, Float64Array, Int64Array, RecordBatch, TimestampMicrosecondArray};
use scrubline::columnar::{testdata, visit_strings, ParquetFile, ShardWriter, WriterOptions};
use scrubline::select::Selection;

use crate::util::*;

fn write_parquet(path: &std::path::Path, batches: &[RecordBatch]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let opts = WriterOptions {
        max_row_group_rows: 700,
        ..WriterOptions::default()
    };
    let mut w = ShardWriter::create(path, batches[0].schema(), &opts).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.close().unwrap();
}

fn read_all(dir: &std::path::Path) -> Vec<RecordBatch> {
    shard_paths(dir)
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .flat_map(|p| {
            ParquetFile::open(p)
                .unwrap()
                .batches(4096)
                .map(Result::unwrap)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn all_strings(batches: &[RecordBatch]) -> String {
    let mut s = String::new();
    for b in batches {
        visit_strings(b, &Selection::all(), &mut |_, _, v, _| {
            s.push_str(v);
            s.push('\n');
        });
    }
    s
}

/// [`run_ok`] on two threads.
fn run(d: &Dir, input: &str, out: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    run_ok(d, input, out, &[&["--threads", "2"], extra].concat())
}

#[test]
fn parquet_schema_rows_and_non_string_columns_survive() {
    let d = Dir::new();
    let input = testdata::sample_batch(2000, 11);
    write_parquet(&d.path("in/corpus.parquet"), std::slice::from_ref(&input));
    run(&d, "in", "out", &[]).success();
    let out = read_all(&d.path("out"));
    assert!(!out.is_empty());
    for e in std::fs::read_dir(d.path("out")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "parquet") {
            let schema = ParquetFile::open(&p).unwrap().schema().clone();
            assert_eq!(
                schema,
                input.schema(),
                "output schema equals input schema, metadata included"
            );
        }
    }
    let rows: usize = out.iter().map(|b| b.num_rows()).sum();
    let m = manifest(&d.path("out"));
    assert_eq!(
        m["totals"]["duplicates_removed"].as_u64().unwrap() as usize,
        2000 - rows
    );
    assert!(
        2000 - rows >= 200,
        "every tenth row repeats the one before it"
    );
    assert_eq!(m["inputs"][0]["row_groups"], 3);
    assert!(m["inputs"][0]["schema_sha256"].as_str().unwrap().len() == 64);
    assert!(m["outputs"][0]["row_groups"].as_u64().unwrap() >= 1);

    // No raw value from any string column, nested ones included.
    let raw = all_strings(std::slice::from_ref(&input));
    let scrubbed = all_strings(&out);
    let emails: BTreeSet<&str> = raw
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| w.contains("@example."))
        .collect();
    assert!(!emails.is_empty());
    for e in &emails {
        assert!(
            !scrubbed.contains(e.trim_matches(|c: char| !c.is_ascii_alphanumeric())),
            "e-mail left"
        );
    }
    for n in 0..2000u64 {
        assert!(!scrubbed.contains(&testdata::card_number(n)));
    }
    for t in ["EMAIL", "PHONE", "CREDIT_CARD"] {
        assert!(scrubbed.contains(&format!("<{t}_")), "{t} tokens present");
    }

    // Non-string columns are bit-identical for the surviving rows.
    let in_ids = input
        .column_by_name("id")
        .unwrap()
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    let in_score = input
        .column_by_name("score")
        .unwrap()
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap();
    let in_created = input
        .column_by_name("created")
        .unwrap()
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .unwrap();
    let by_id: std::collections::HashMap<i64, usize> =
        (0..in_ids.len()).map(|i| (in_ids.value(i), i)).collect();
    for b in &out {
        let ids = b
            .column_by_name("id")
            .unwrap()
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        let score = b
            .column_by_name("score")
            .unwrap()
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        let created = b
            .column_by_name("created")
            .unwrap()
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .unwrap();
        for r in 0..b.num_rows() {
            let i = by_id[&ids.value(r)];
            assert_eq!(score.is_null(r), in_score.is_null(i));
            if !score.is_null(r) {
                assert_eq!(score.value(r).to_bits(), in_score.value(i).to_bits());
            }
            assert_eq!(created.is_null(r), in_created.is_null(i));
            if !created.is_null(r) {
                assert_eq!(created.value(r), in_created.value(i));
            }
        }
    }
}

#[test]
fn same_values_same_tokens_as_jsonl_and_parquet() {
    let d = Dir::new();
    let input = testdata::sample_batch(600, 5);
    write_parquet(&d.path("pq/c.parquet"), std::slice::from_ref(&input));
    let mut jsonl = Vec::new();
    scrubline::columnar::json::write_jsonl(&input, &mut jsonl).unwrap();
    d.write("js/c.jsonl", &jsonl);
    run(
        &d,
        "pq",
        "out_pq",
        &["--format", "jsonl", "--compression", "none"],
    )
    .success();
    run(&d, "js", "out_js", &["--compression", "none"]).success();
    let a: BTreeSet<String> = shards(&d.path("out_pq"))
        .iter()
        .flat_map(|(_, b)| tokens(std::str::from_utf8(b).unwrap()))
        .collect();
    let b: BTreeSet<String> = shards(&d.path("out_js"))
        .iter()
        .flat_map(|(_, b)| tokens(std::str::from_utf8(b).unwrap()))
        .collect();
    assert!(a.len() > 100);
    assert_eq!(a, b);
}

/// A Parquet file with maps keyed by personal data gives, as JSONL, byte for byte what its
/// JSONL form gives: map keys get the pseudonyms JSON keys get, and are not dedup content.
#[test]
fn map_keys_are_scrubbed_as_json_keys_are() {
    use arrow_array::builder::{MapBuilder, StringBuilder};
    use std::sync::Arc;
    let d = Dir::new();
    // The map batch without its `keys_sorted` column, whose entries may move (tested in
    // the library), plus rows whose values repeat under other keys.
    let maps = testdata::map_batch().project(&[0, 1, 2, 3]).unwrap();
    let mut m = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for k in ["alice@example.com", "bob@example.com", "lang"] {
        m.keys().append_value(k);
        m.values().append_value("the same value");
        m.append(true).unwrap();
    }
    let kv = arrow_array::RecordBatch::try_from_iter([(
        "kv",
        Arc::new(m.finish()) as arrow_array::ArrayRef,
    )])
    .unwrap();
    for (name, batch) in [("maps", &maps), ("kv", &kv)] {
        write_parquet(
            &d.path(&format!("pq_{name}/a.parquet")),
            std::slice::from_ref(batch),
        );
        let mut jsonl = Vec::new();
        scrubline::columnar::json::write_jsonl(batch, &mut jsonl).unwrap();
        d.write(&format!("js_{name}/a.jsonl"), &jsonl);
        let (pq, js) = (format!("pq_{name}"), format!("js_{name}"));
        let (pq_out, js_out) = (format!("out_pq_{name}"), format!("out_js_{name}"));
        run(
            &d,
            &pq,
            &pq_out,
            &["--format", "jsonl", "--compression", "none"],
        )
        .success();
        run(&d, &js, &js_out, &["--compression", "none"]).success();
        let (a, b) = (shards(&d.path(&pq_out)), shards(&d.path(&js_out)));
        assert_eq!(a, b, "{name}");
        let text: String = a
            .iter()
            .map(|(_, t)| String::from_utf8(t.clone()).unwrap())
            .collect();
        assert!(
            !text.contains("@example."),
            "{name}: an e-mail survived: {text}"
        );
        assert!(!text.contains("555-2671"), "{name}: a phone survived");
        let (ma, mb) = (manifest(&d.path(&pq_out)), manifest(&d.path(&js_out)));
        assert_eq!(
            ma["totals"]["detections_by_type"],
            mb["totals"]["detections_by_type"]
        );
        assert_eq!(
            ma["totals"]["duplicates_removed"],
            mb["totals"]["duplicates_removed"]
        );
    }
    // Keys are not content: three rows with one value under three keys are one record.
    let recs = records(&d.path("out_pq_kv"));
    assert_eq!(recs.len(), 1, "{recs:?}");
    let key = recs[0]["kv"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    assert!(key.starts_with("<EMAIL_"), "{key}");

    // Parquet to Parquet: same schema (dictionary keys included), keys scrubbed.
    run(&d, "pq_maps", "out_pq_pq", &["--format", "parquet"]).success();
    let out = read_all(&d.path("out_pq_pq"));
    assert_eq!(out[0].schema(), maps.schema());
    let mut keys = Vec::new();
    for b in &out {
        visit_strings(b, &Selection::all(), &mut |_, _, v, key| {
            if key {
                keys.push(v.to_string());
            }
        });
    }
    assert_eq!(keys.len(), 18, "{keys:?}");
    assert!(keys.contains(&"topic".to_string()));
    assert!(keys.iter().all(|k| !k.contains("@example.")), "{keys:?}");
}

/// `--dedup-field` names a map value by its key as written, for Parquet as for JSONL,
/// even where the key itself is scrubbed.
#[test]
fn dedup_field_under_a_scrubbed_map_key_matches_jsonl() {
    use arrow_array::builder::{MapBuilder, StringBuilder};
    use std::sync::Arc;
    let d = Dir::new();
    let mut m = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for v in ["one", "two", "one"] {
        m.keys().append_value("alice@example.com");
        m.values().append_value(v);
        m.append(true).unwrap();
    }
    let kv = arrow_array::RecordBatch::try_from_iter([(
        "kv",
        Arc::new(m.finish()) as arrow_array::ArrayRef,
    )])
    .unwrap();
    write_parquet(&d.path("pq/a.parquet"), std::slice::from_ref(&kv));
    let mut jsonl = Vec::new();
    scrubline::columnar::json::write_jsonl(&kv, &mut jsonl).unwrap();
    d.write("js/a.jsonl", &jsonl);
    let field = [
        "--dedup-field",
        "kv[\"alice@example.com\"]",
        "--no-near-dup",
    ];
    run(&d, "pq", "out_pq", &field).success();
    run(&d, "js", "out_js", &field).success();
    for out in ["out_pq", "out_js"] {
        let totals = &manifest(&d.path(out))["totals"];
        assert_eq!(totals["records_out"], 2, "{out}: {totals}");
        assert_eq!(totals["duplicates_removed"], 1, "{out}: {totals}");
    }
}

#[test]
fn jsonl_to_parquet_and_back() {
    let d = Dir::new();
    d.write(
        "in/a.jsonl",
        concat!(
            "{\"id\":1,\"text\":\"mail a@example.com\",\"score\":0.5,\"tags\":[\"x\"]}\n",
            "{\"id\":2,\"text\":\"plain\",\"score\":1.5,\"tags\":[]}\n",
        ),
    );
    run(&d, "in", "out", &["--format", "parquet"]).success();
    let out = read_all(&d.path("out"));
    assert_eq!(out.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
    let s = all_strings(&out);
    assert!(s.contains("<EMAIL_") && !s.contains("a@example.com"));
    let shard = d.path("out/part-00000.parquet");
    scrubline()
        .args([
            "run",
            "-q",
            "--format",
            "jsonl",
            "--compression",
            "none",
            "--input",
        ])
        .arg(&shard)
        .arg("--output")
        .arg(d.path("back"))
        .arg("--key-file")
        .arg(d.path("a.key"))
        .assert()
        .success();
    let recs = records(&d.path("back"));
    assert_eq!(recs[1]["text"], "plain");
    assert_eq!(recs[1]["score"], 1.5);
}

/// JSON allows `1e999`; a double cannot hold it, so Parquet output sets the record aside
/// (it used to panic) and keeps the others.
#[test]
fn a_number_too_big_for_parquet_is_a_reject_not_a_crash() {
    let d = Dir::new();
    d.write(
        "in/a.jsonl",
        "{\"n\":1,\"text\":\"a\"}\n{\"n\":1e999,\"text\":\"mail a@example.com\"}\n{\"n\":2,\"text\":\"b\"}\n",
    );
    run(&d, "in", "out", &["--format", "parquet"]).code(3);
    let m = manifest(&d.path("out"));
    assert_eq!(m["totals"]["records_out"], 2);
    assert_eq!(m["rejects"]["by_reason"]["invalid_json"], 1);
    let rejects = std::fs::read_to_string(d.path("out/rejects/rejects.jsonl")).unwrap();
    assert!(rejects.contains("number out of range"), "{rejects}");
    assert!(!rejects.contains("a@example.com"), "{rejects}");
}

#[test]
fn corrupt_parquet_is_reported_and_the_run_goes_on() {
    let d = Dir::new();
    write_parquet(&d.path("in/a.parquet"), &[testdata::sample_batch(50, 1)]);
    let good = std::fs::read(d.path("in/a.parquet")).unwrap();
    d.write("in/b_truncated.parquet", &good[..good.len() / 2]);
    d.write("in/c_garbage.parquet", b"not a parquet file at all");
    run(&d, "in", "out", &[]).code(3);
    let m = manifest(&d.path("out"));
    assert_eq!(m["rejects"]["by_reason"]["corrupt_parquet"], 2);
    assert!(m["totals"]["records_out"].as_u64().unwrap() > 0);
    let rejects = std::fs::read_to_string(d.path("out/rejects/rejects.jsonl")).unwrap();
    assert!(rejects.contains("b_truncated.parquet"), "{rejects}");
}

#[test]
fn parquet_output_is_deterministic_across_threads() {
    let d = Dir::new();
    write_parquet(&d.path("in/a.parquet"), &[testdata::sample_batch(3000, 3)]);
    let key = d.key("a.key", KEY_A);
    for (out, t) in [("o1", "1"), ("o2", "2")] {
        scrubline()
            .args([
                "run",
                "-q",
                "--shard-size",
                "64KiB",
                "--threads",
                t,
                "--input",
            ])
            .arg(d.path("in"))
            .arg("--output")
            .arg(d.path(out))
            .arg("--key-file")
            .arg(&key)
            .assert()
            .success();
    }
    let a = shard_bytes(&d.path("o1"));
    assert!(a.len() > 1, "several shards");
    assert_eq!(a, shard_bytes(&d.path("o2")));
}

/// A row group that cannot be read is set aside; the row groups after it are still read.
#[test]
fn a_corrupt_row_group_costs_only_its_own_rows() {
    let d = Dir::new();
    let lines: String = (0..200)
        .map(|i| {
            format!(
                "{{\"id\":{i},\"text\":\"record {i} lorem ipsum dolor sit amet {}\"}}\n",
                i * 7919
            )
        })
        .collect();
    d.write("in/a.jsonl", lines);
    let plain = ["--no-dedup", "--no-near-dup"];
    run(
        &d,
        "in",
        "pq",
        &[
            &["--format", "parquet", "--row-group-rows", "50"][..],
            &plain,
        ]
        .concat(),
    )
    .success();
    let good = std::fs::read(d.path("pq/part-00000.parquet")).unwrap();
    assert_eq!(
        ParquetFile::open(d.path("pq/part-00000.parquet"))
            .unwrap()
            .num_row_groups(),
        4
    );
    // Corrupt 20 bytes at a few places in the first half of the file (row group pages;
    // the footer is at the end) until one breaks a row group before the last.
    let mut seen = false;
    for pct in (20..=50).step_by(5) {
        let mut bytes = good.clone();
        let at = bytes.len() * pct / 100;
        bytes[at..at + 20].iter_mut().for_each(|b| *b ^= 0x5a);
        let (inp, out) = (format!("bad{pct}"), format!("out{pct}"));
        d.write(&format!("{inp}/a.parquet"), &bytes);
        run(
            &d,
            &inp,
            &out,
            &[&["--format", "jsonl", "--compression", "none"][..], &plain].concat(),
        )
        .get_output();
        let m = manifest(&d.path(&out));
        let rejected_at = m["rejects"]["locations"][0]["line"].as_u64();
        if m["rejects"]["by_reason"]["corrupt_parquet"] != 1 || rejected_at.is_none_or(|l| l >= 150)
        {
            continue;
        }
        let ids: Vec<i64> = records(&d.path(&out))
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids.len(), 150, "{m}");
        assert!(ids.contains(&199), "the last row group is read: {ids:?}");
        seen = true;
        break;
    }
    assert!(seen, "no corruption hit a row group before the last");
}
