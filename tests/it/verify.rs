//! `scrubline verify`.

use crate::util::*;

fn make_run(d: &Dir) -> std::path::PathBuf {
    make_run_with(d, &[])
}

fn make_run_with(d: &Dir, extra: &[&str]) -> std::path::PathBuf {
    let (corpus, _) = synthetic_corpus(600);
    d.write("in/a.jsonl", &corpus);
    run_ok(
        d,
        "in",
        "out",
        &[&["--shard-size", "32KiB"], extra].concat(),
    )
    .success();
    d.path("out")
}

/// `batch` as the bytes of a one-row-group Parquet file (written under `d`).
fn parquet_bytes(d: &Dir, name: &str, batch: &arrow_array::RecordBatch) -> Vec<u8> {
    let tmp = d.path(name);
    let mut w = scrubline::columnar::ShardWriter::create(
        &tmp,
        batch.schema(),
        &scrubline::columnar::WriterOptions::default(),
    )
    .unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    std::fs::read(&tmp).unwrap()
}

/// Replaces the first listed shard with `bytes` and makes the manifest agree, so only a
/// rescan can notice what is inside. Returns the shard's path in the manifest.
fn plant_first_shard(out: &std::path::Path, bytes: &[u8], records: u64) -> String {
    let mut m = manifest(out);
    let rel = m["outputs"][0]["path"].as_str().unwrap().to_string();
    std::fs::write(out.join(&rel), bytes).unwrap();
    use sha2::Digest;
    m["outputs"][0]["sha256"] = hex::encode(sha2::Sha256::digest(bytes)).into();
    m["outputs"][0]["bytes"] = bytes.len().into();
    m["outputs"][0]["records"] = records.into();
    std::fs::write(out.join("manifest.json"), serde_json::to_vec(&m).unwrap()).unwrap();
    rel
}

fn verify(dir: &std::path::Path, extra: &[&str]) -> (i32, String) {
    let out = scrubline()
        .arg("verify")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn clean_output_verifies_and_rescan_finds_nothing() {
    let d = Dir::new();
    let out = make_run(&d);
    let (code, text) = verify(&out, &["--rescan"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("no residual detections"), "{text}");
}

#[test]
fn catches_flipped_byte_deleted_shard_and_added_file() {
    let d = Dir::new();
    let out = make_run(&d);
    let shards = shard_paths(&out);
    assert!(shards.len() >= 3);

    let mut bytes = std::fs::read(&shards[0]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&shards[0], bytes).unwrap();
    let (code, text) = verify(&out, &[]);
    assert_eq!(code, 1);
    assert!(text.contains("altered  part-00000"), "{text}");

    std::fs::remove_file(&shards[1]).unwrap();
    std::fs::write(out.join("part-99999.jsonl.zst"), b"x").unwrap();
    let (code, text) = verify(&out, &[]);
    assert_eq!(code, 1);
    assert!(text.contains("missing  part-00001"), "{text}");
    assert!(text.contains("extra    part-99999.jsonl.zst"), "{text}");
}

#[test]
fn rescan_reports_residual_values() {
    let d = Dir::new();
    let out = make_run(&d);
    // Plant a raw value in a shard and make the manifest agree with the new bytes, so only
    // the rescan can notice.
    let plain = zstd::encode_all(&b"{\"text\":\"leak carol@example.com\"}\n"[..], 3).unwrap();
    let shard = out.join("part-00000.jsonl.zst");
    std::fs::write(&shard, &plain).unwrap();
    let mut m = manifest(&out);
    use sha2::Digest;
    m["outputs"][0]["sha256"] = hex::encode(sha2::Sha256::digest(&plain)).into();
    m["outputs"][0]["bytes"] = plain.len().into();
    m["outputs"][0]["records"] = 1.into();
    std::fs::write(out.join("manifest.json"), serde_json::to_vec(&m).unwrap()).unwrap();
    assert_eq!(verify(&out, &[]).0, 0);
    let (code, text) = verify(&out, &["--rescan"]);
    assert_eq!(code, 1);
    assert!(text.contains("residual EMAIL: 1"), "{text}");
    assert!(!text.contains("carol"), "never prints the value: {text}");
}

#[test]
fn rescan_reads_parquet_shards() {
    let d = Dir::new();
    let out = make_run_with(&d, &["--format", "parquet"]);
    let m = manifest(&out);
    let outputs = m["outputs"].as_array().unwrap();
    assert!(!outputs.is_empty());
    assert!(
        outputs
            .iter()
            .all(|o| o["path"].as_str().unwrap().ends_with(".parquet")),
        "{m}"
    );
    let (code, text) = verify(&out, &["--rescan"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("no residual detections"), "{text}");

    // A raw value in a Parquet shard (manifest made to agree) is found by the rescan alone.
    use std::sync::Arc;
    let batch = arrow_array::RecordBatch::try_from_iter([(
        "text",
        Arc::new(arrow_array::StringArray::from(vec![
            "nothing here",
            "leak carol@example.com",
        ])) as arrow_array::ArrayRef,
    )])
    .unwrap();
    plant_first_shard(&out, &parquet_bytes(&d, "planted.parquet", &batch), 2);
    assert_eq!(verify(&out, &[]).0, 0);
    let (code, text) = verify(&out, &["--rescan"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("residual EMAIL: 1"), "{text}");
    assert!(!text.contains("carol"), "never prints the value: {text}");

    // A raw value that is only a map key is found too.
    let mut m = arrow_array::builder::MapBuilder::new(
        None,
        arrow_array::builder::StringBuilder::new(),
        arrow_array::builder::Int64Builder::new(),
    );
    m.keys().append_value("leak dave@example.com");
    m.values().append_value(1);
    m.append(true).unwrap();
    let batch = arrow_array::RecordBatch::try_from_iter([(
        "counts",
        Arc::new(m.finish()) as arrow_array::ArrayRef,
    )])
    .unwrap();
    plant_first_shard(&out, &parquet_bytes(&d, "planted_map.parquet", &batch), 1);
    assert_eq!(verify(&out, &[]).0, 0);
    let (code, text) = verify(&out, &["--rescan"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("residual EMAIL: 1"), "{text}");
    assert!(!text.contains("dave"), "never prints the value: {text}");
}

#[test]
fn rescan_reports_lines_that_are_not_json_objects() {
    let d = Dir::new();
    let out = make_run(&d);
    let lines = b"{\"text\":\"fine\"}\nnot json carol@example.com\n[1]\n\xff\xfe\n";
    let rel = plant_first_shard(&out, &zstd::encode_all(&lines[..], 3).unwrap(), 4);
    assert_eq!(verify(&out, &[]).0, 0);
    let (code, text) = verify(&out, &["--rescan"]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!("invalid  {rel}: 3 lines not a JSON object")),
        "{text}"
    );
    assert!(text.contains("no residual detections"), "{text}");
    assert!(!text.contains("carol"), "never prints the value: {text}");
}
