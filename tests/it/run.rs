//! `scrubline run` end to end.

use crate::util::*;

#[test]
fn no_sensitive_value_survives_and_other_fields_stay() {
    let d = Dir::new();
    let (corpus, raw) = synthetic_corpus(200);
    d.write("in/corpus.jsonl", &corpus);
    run_ok(&d, "in", "out", &[]).success();
    let out_text: String = shards(&d.path("out"))
        .into_iter()
        .map(|(_, b)| String::from_utf8(b).unwrap())
        .collect();
    for v in &raw {
        let compact: String = v
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '@' || *c == '.')
            .collect();
        assert!(!out_text.contains(v.as_str()), "raw value left in output");
        assert!(
            !out_text.contains(&compact),
            "raw value left in output (compact form)"
        );
    }
    // Non-string fields and untouched strings keep their values.
    let recs = records(&d.path("out"));
    assert_eq!(recs.len(), 200);
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r["id"], serde_json::json!(i));
    }
    assert_eq!(recs[0]["n"], serde_json::json!(1.5));
    assert_eq!(recs[1]["lang"], "zh");
}

#[test]
fn record_without_detections_is_byte_identical() {
    let d = Dir::new();
    let line = r#"{ "z" : 1.50e3,"text":"plain \u00e9 prose","a":[true ,null]}"#;
    d.write("in/a.jsonl", format!("{line}\n"));
    run_ok(&d, "in", "out", &["--compression", "none"]).success();
    let (_, bytes) = &shards(&d.path("out"))[0];
    assert_eq!(std::str::from_utf8(bytes).unwrap(), format!("{line}\n"));
}

#[test]
fn same_value_same_token_across_shards_other_key_other_token() {
    let d = Dir::new();
    let mut corpus = String::new();
    for i in 0..300 {
        corpus.push_str(&format!(
            "{{\"id\":{i},\"text\":\"record {i} from alice@example.com\"}}\n"
        ));
    }
    d.write("in/a.jsonl", &corpus);
    run_ok(&d, "in", "out", &["--shard-size", "2KiB"]).success();
    let shards_a = shards(&d.path("out"));
    assert!(
        shards_a.len() > 3,
        "expected several shards, got {}",
        shards_a.len()
    );
    let mut all = std::collections::BTreeSet::new();
    for (_, b) in &shards_a {
        all.extend(tokens(std::str::from_utf8(b).unwrap()));
    }
    assert_eq!(all.len(), 1, "one value, one token in every shard: {all:?}");

    let key_b = d.key("b.key", KEY_B);
    scrubline()
        .args(["run", "--quiet", "--input"])
        .arg(d.path("in"))
        .arg("--output")
        .arg(d.path("out_b"))
        .arg("--key-file")
        .arg(&key_b)
        .assert()
        .success();
    let b_tokens = tokens(std::str::from_utf8(&shards(&d.path("out_b"))[0].1).unwrap());
    assert!(
        !all.contains(&b_tokens[0]),
        "another key gives another token"
    );
}

#[test]
fn key_from_environment_matches_key_file() {
    let d = Dir::new();
    d.write("in/a.jsonl", "{\"text\":\"bob@example.org\"}\n");
    run_ok(&d, "in", "out1", &[]).success();
    scrubline()
        .env("SCRUBLINE_KEY", KEY_A)
        .args(["run", "--quiet", "--input"])
        .arg(d.path("in"))
        .arg("--output")
        .arg(d.path("out2"))
        .assert()
        .success();
    assert_eq!(shard_bytes(&d.path("out1")), shard_bytes(&d.path("out2")));
    assert_eq!(
        manifest(&d.path("out1"))["key_fingerprint"],
        manifest(&d.path("out2"))["key_fingerprint"]
    );
}

/// The key pasted where its file's path belongs, by flag or environment: the error says
/// so without printing it.
#[test]
fn a_key_given_as_the_key_file_path_is_not_printed() {
    let d = Dir::new();
    d.write("in/a.jsonl", "{\"text\":\"bob@example.org\"}\n");
    let by_flag = scrubline()
        .args(["run", "--quiet", "--input"])
        .arg(d.path("in"))
        .arg("--output")
        .arg(d.path("out1"))
        .args(["--key-file", KEY_A])
        .assert()
        .failure();
    let by_env = scrubline()
        .env("SCRUBLINE_KEY_FILE", KEY_A)
        .args(["run", "--quiet", "--input"])
        .arg(d.path("in"))
        .arg("--output")
        .arg(d.path("out2"))
        .assert()
        .failure();
    for a in [by_flag, by_env] {
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(!err.contains(&KEY_A[..16]), "{err}");
        assert!(err.contains("looks like key material"), "{err}");
    }
    // An ordinary missing path is still named.
    let a = scrubline()
        .args(["run", "--quiet", "--input"])
        .arg(d.path("in"))
        .arg("--output")
        .arg(d.path("out3"))
        .args(["--key-file", "keys/prod.key"])
        .assert()
        .failure();
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("keys/prod.key"));
}

#[test]
fn threads_and_reruns_give_identical_bytes() {
    let d = Dir::new();
    let (corpus, _) = synthetic_corpus(3000);
    // Duplicates spread over batches and files so survivor choice is exercised.
    d.write("in/a.jsonl", &corpus);
    let half: String = corpus
        .lines()
        .take(1500)
        .map(|l| format!("{l}\n"))
        .collect();
    d.write("in/b/c.jsonl", half);
    for (out, threads) in [("t1", "1"), ("t2", "2"), ("t8", "8"), ("t2b", "2")] {
        run_ok(
            &d,
            "in",
            out,
            &["--threads", threads, "--shard-size", "64KiB"],
        )
        .success();
    }
    let base = shard_bytes(&d.path("t1"));
    assert!(base.len() > 2);
    for out in ["t2", "t8", "t2b"] {
        assert_eq!(
            base,
            shard_bytes(&d.path(out)),
            "{out} differs from --threads 1"
        );
    }
}

#[test]
fn duplicates_removed_first_copy_survives() {
    let d = Dir::new();
    d.write(
        "in/a.jsonl",
        concat!(
            "{\"id\":1,\"text\":\"The Quick brown fox\"}\n",
            "{\"id\":2,\"text\":\"the quick   brown FOX \"}\n",
            "{\"id\":3,\"text\":\"The Quick brown fox\"}\n",
            "{\"id\":4,\"text\":\"another text\"}\n",
            "{\"id\":5,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}\n",
            "{\"id\":6,\"messages\":[{\"role\":\"user\",\"content\":\"hi \"}]}\n",
        ),
    );
    d.write("in/b.jsonl", "{\"id\":7,\"text\":\"ANOTHER TEXT\"}\n");
    run_ok(&d, "in", "out", &[]).success();
    let ids: Vec<i64> = records(&d.path("out"))
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![1, 4, 5]);
    assert_eq!(manifest(&d.path("out"))["totals"]["duplicates_removed"], 4);

    run_ok(&d, "in", "out_nodedup", &["--no-dedup", "--no-near-dup"]).success();
    assert_eq!(records(&d.path("out_nodedup")).len(), 7);
}

#[test]
fn manifest_matches_files_and_holds_no_raw_value() {
    let d = Dir::new();
    let (corpus, raw) = synthetic_corpus(400);
    d.write("in/a.jsonl", &corpus);
    d.write(
        "in/bad.jsonl",
        "{\"text\": \"broken alice@example.com\n{\"ok\":\"fine\"}\n",
    );
    let assert = run_ok(&d, "in", "out", &["--shard-size", "16KiB"]).code(3);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    let m = manifest(&d.path("out"));
    let text = std::fs::read_to_string(d.path("out/manifest.json")).unwrap();
    let rejects = std::fs::read_to_string(d.path("out/rejects/rejects.jsonl")).unwrap();
    for v in raw
        .iter()
        .chain(std::iter::once(&"alice@example.com".to_string()))
    {
        assert!(!text.contains(v.as_str()), "raw value in manifest");
        assert!(!stderr.contains(v.as_str()), "raw value on stderr");
        assert!(!rejects.contains(v.as_str()), "raw value in rejects");
    }
    assert!(!text.contains(KEY_A));
    let mut total = 0;
    for s in m["outputs"].as_array().unwrap() {
        let path = d.path("out").join(s["path"].as_str().unwrap());
        let bytes = std::fs::read(&path).unwrap();
        use sha2::Digest;
        assert_eq!(s["sha256"], hex::encode(sha2::Sha256::digest(&bytes)));
        assert_eq!(s["bytes"], bytes.len() as u64);
        let n = shards(&d.path("out"))
            .into_iter()
            .find(|(name, _)| name == s["path"].as_str().unwrap())
            .map(|(_, b)| b.iter().filter(|&&c| c == b'\n').count())
            .unwrap();
        assert_eq!(s["records"], n as u64);
        total += n;
    }
    assert_eq!(m["totals"]["records_out"], total as u64);
    assert_eq!(m["totals"]["records_rejected"], 1);
    assert_eq!(m["rejects"]["locations"][0]["line"], 1);
    assert_eq!(m["inputs"][1]["records_rejected"], 1);
}

#[test]
fn manifest_snapshot() {
    let d = Dir::new();
    d.write(
        "in/a.jsonl",
        concat!(
            "{\"text\":\"mail ops@example.com, call +86 139 1234 5678\"}\n",
            "{\"text\":\"card 4111-1111-1111-1111 from 192.168.7.3\"}\n",
            "{\"text\":\"mail ops@example.com, call +86 139 1234 5678\"}\n",
            "not json\n",
        ),
    );
    run_ok(&d, "in", "out", &[]).code(3);
    let mut m = manifest(&d.path("out"));
    let tmp = d.tmp.path().display().to_string();
    let text = serde_json::to_string_pretty(&m)
        .unwrap()
        .replace(&tmp, "[TMP]");
    m = serde_json::from_str(&text).unwrap();
    insta::assert_json_snapshot!(m, {
        ".started_at" => "[time]",
        ".finished_at" => "[time]",
        ".tool_version" => "[version]",
        ".ruleset_sha256" => "[ruleset]",
        ".config_sha256" => "[config-hash]",
        ".outputs[].sha256" => "[sha256]",
        ".outputs[].bytes" => "[bytes]",
        ".rejects.sha256" => "[sha256: the rejects file names the temp path]",
    });
}

#[test]
fn field_selection_and_missing_or_non_string_fields() {
    let d = Dir::new();
    d.write(
        "in/a.jsonl",
        concat!(
            "{\"text\":\"x@example.com\",\"meta\":{\"author\":\"y@example.com\"}}\n",
            "{\"meta\":{\"author\":\"z@example.com\"}}\n",
            "{\"other\":\"w@example.com\"}\n",
            "{\"text\":42}\n",
        ),
    );
    run_ok(
        &d,
        "in",
        "out",
        &["--field", "meta.author", "--field", "text", "--no-dedup"],
    )
    .code(3);
    let recs = records(&d.path("out"));
    assert_eq!(recs.len(), 2);
    assert!(recs[0]["text"].as_str().unwrap().starts_with("<EMAIL_"));
    assert!(recs[1]["meta"]["author"]
        .as_str()
        .unwrap()
        .starts_with("<EMAIL_"));
    let m = manifest(&d.path("out"));
    assert_eq!(m["rejects"]["by_reason"]["missing_field"], 1);
    assert_eq!(m["rejects"]["by_reason"]["field_not_string"], 1);

    // Only the selected field is scanned.
    run_ok(&d, "in", "out2", &["--field", "text", "--no-dedup"]).code(3);
    let recs = records(&d.path("out2"));
    assert_eq!(recs[0]["meta"]["author"], "y@example.com");
}

#[test]
fn compressed_inputs_and_outputs() {
    use std::io::Write;
    let d = Dir::new();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"{\"text\":\"a@example.com\"}\n").unwrap();
    let mut bytes = gz.finish().unwrap();
    // A second gzip member: web dumps are often multi-member.
    let mut gz2 = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz2.write_all(b"{\"text\":\"b@example.com\"}\n").unwrap();
    bytes.extend(gz2.finish().unwrap());
    d.write("in/a.jsonl.gz", bytes);
    d.write(
        "in/b.ndjson.zst",
        zstd::encode_all(&b"{\"text\":\"c@example.com\"}\n"[..], 3).unwrap(),
    );
    run_ok(&d, "in", "out", &["--compression", "gzip"]).success();
    let recs = records(&d.path("out"));
    assert_eq!(recs.len(), 3);
    assert!(shards(&d.path("out"))[0].0.ends_with(".jsonl.gz"));
}

#[test]
fn refuses_non_empty_output_without_overwrite() {
    let d = Dir::new();
    d.write("in/a.jsonl", "{\"text\":\"hello\"}\n");
    run_ok(&d, "in", "out", &[]).success();
    let a = run_ok(&d, "in", "out", &[]).failure();
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(err.contains("not empty"), "{err}");
    run_ok(&d, "in", "out", &["--overwrite"]).success();
    d.write("out/mine.txt", "user file");
    run_ok(&d, "in", "out", &["--overwrite"]).failure();
    assert!(
        d.path("out/mine.txt").exists(),
        "never deletes files it did not write"
    );
}

#[test]
fn fatal_errors_name_the_path() {
    let d = Dir::new();
    let a = scrubline()
        .args(["run", "-q", "--input"])
        .arg(d.path("missing"))
        .arg("--output")
        .arg(d.path("out"))
        .assert()
        .code(1);
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(err.contains("missing") && err.lines().count() == 1, "{err}");
}

#[test]
fn random_key_warns_and_records_ephemeral() {
    let d = Dir::new();
    d.write("in/a.jsonl", "{\"text\":\"hello\"}\n");
    let a = scrubline()
        .args(["run", "--input"])
        .arg(d.path("in"))
        .arg("--output")
        .arg(d.path("out"))
        .assert()
        .success();
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(err.contains("random key"), "{err}");
    assert_eq!(manifest(&d.path("out"))["key_fingerprint"], "ephemeral");
}

#[test]
fn config_file_is_layered_under_flags() {
    let d = Dir::new();
    d.write(
        "in/a.jsonl",
        "{\"text\":\"a@example.com\"}\n{\"text\":\"a@example.com\"}\n",
    );
    let cfg = d.write(
        "c.toml",
        "[run]\nstyle = \"redact\"\ndedup = false\nnear_dup = false\ncompression = \"none\"\n",
    );
    run_ok(&d, "in", "out", &["--config", cfg.to_str().unwrap()]).success();
    let recs = records(&d.path("out"));
    assert_eq!(recs.len(), 2, "dedup = false from the file");
    assert_eq!(recs[0]["text"], "<EMAIL>");
    run_ok(
        &d,
        "in",
        "out2",
        &["--config", cfg.to_str().unwrap(), "--style", "tag"],
    )
    .success();
    assert!(records(&d.path("out2"))[0]["text"]
        .as_str()
        .unwrap()
        .starts_with("<EMAIL_"));
}

#[test]
fn zero_size_in_config_file_is_refused() {
    let d = Dir::new();
    d.write("in/a.jsonl", "{\"text\":\"hello\"}\n");
    for key in ["max_record_bytes", "shard_size"] {
        let cfg = d.write("zero.toml", format!("[run]\n{key} = 0\n"));
        let a = run_ok(&d, "in", "out", &["--config", cfg.to_str().unwrap()]).code(1);
        let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
        assert!(err.contains(key) && err.contains("zero.toml"), "{err}");
        assert!(!d.path("out").join("manifest.json").exists());
    }
}

#[test]
fn max_rejects_ratio_out_of_range_is_refused_everywhere() {
    let d = Dir::new();
    d.write("in/a.jsonl", "{\"text\":\"hello\"}\n");
    for v in ["5.0", "-0.5", "\"150%\""] {
        let cfg = d.write("limits.toml", format!("[run]\nmax_rejects = {v}\n"));
        let a = run_ok(&d, "in", "out", &["--config", cfg.to_str().unwrap()]).code(1);
        let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
        assert!(
            err.contains("max_rejects") && err.contains("limits.toml"),
            "{v}: {err}"
        );
    }
    for v in ["5.0", "-0.5", "150%"] {
        run_ok(&d, "in", "out", &["--max-rejects", v]).code(2);
    }
    let cfg = d.write("limits.toml", "[run]\nmax_rejects = \"100%\"\n");
    run_ok(&d, "in", "out", &["--config", cfg.to_str().unwrap()]).success();
}

#[test]
fn config_file_paths_are_relative_to_the_config_file() {
    let d = Dir::new();
    d.write("in/a.jsonl", "{\"text\":\"mail bob@example.org\"}\n");
    run_ok(&d, "in", "out_flag", &[]).success();
    d.key("conf/secret.key", KEY_A);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    d.write(
        "conf/rules/email.toml",
        std::fs::read(root.join("patterns/pii/email.toml")).unwrap(),
    );
    let cfg = d.write(
        "conf/c.toml",
        "[run]\nkey_file = \"secret.key\"\npatterns = \"rules\"\n",
    );
    std::fs::create_dir_all(d.path("elsewhere")).unwrap();
    let run_from = |cwd: &str, out: &str, extra: &[&str]| {
        scrubline()
            .current_dir(d.path(cwd))
            .args(["run", "--quiet", "--config"])
            .arg(&cfg)
            .arg("--input")
            .arg(d.path("in"))
            .arg("--output")
            .arg(d.path(out))
            .args(extra)
            .assert()
    };
    run_from("elsewhere", "out_cfg", &[]).success();
    let m = manifest(&d.path("out_cfg"));
    assert_ne!(m["key_fingerprint"], "ephemeral");
    assert_eq!(
        m["key_fingerprint"],
        manifest(&d.path("out_flag"))["key_fingerprint"]
    );
    assert_eq!(
        records(&d.path("out_cfg"))[0]["text"],
        records(&d.path("out_flag"))[0]["text"]
    );
    // A relative flag is still relative to the current directory.
    d.key("elsewhere/b.key", KEY_B);
    run_from("elsewhere", "out_b", &["--key-file", "b.key"]).success();
    assert_ne!(
        manifest(&d.path("out_b"))["key_fingerprint"],
        m["key_fingerprint"]
    );
}

#[test]
fn dedup_flags_turn_the_stages_back_on_over_the_config_file() {
    let d = Dir::new();
    d.write(
        "in/a.jsonl",
        "{\"text\":\"the same line\"}\n{\"text\":\"the same line\"}\n",
    );
    let cfg = d.write("c.toml", "[run]\ndedup = false\nnear_dup = false\n");
    let cfg = cfg.to_str().unwrap();
    let removed = |out: &str| {
        let t = &manifest(&d.path(out))["totals"];
        (
            records(&d.path(out)).len(),
            t["duplicates_removed"].as_u64().unwrap(),
            t["near_duplicates_removed"].as_u64().unwrap(),
        )
    };
    run_ok(&d, "in", "off", &["--config", cfg]).success();
    assert_eq!(removed("off"), (2, 0, 0));
    run_ok(&d, "in", "exact", &["--config", cfg, "--dedup"]).success();
    assert_eq!(removed("exact"), (1, 1, 0));
    run_ok(&d, "in", "near", &["--config", cfg, "--near-dup"]).success();
    assert_eq!(removed("near"), (1, 0, 1));
    // The last of a --x/--no-x pair wins; the --no-* flags still work.
    run_ok(
        &d,
        "in",
        "last",
        &["--config", cfg, "--dedup", "--no-dedup"],
    )
    .success();
    assert_eq!(removed("last"), (2, 0, 0));
    run_ok(&d, "in", "plain", &["--no-dedup", "--no-near-dup"]).success();
    assert_eq!(removed("plain"), (2, 0, 0));
}

#[test]
fn sample_corpus_from_readme_runs() {
    let d = Dir::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    scrubline()
        .args(["run", "--quiet", "--input"])
        .arg(root.join("fixtures/sample"))
        .arg("--output")
        .arg(d.path("out"))
        .arg("--key-file")
        .arg(root.join("fixtures/sample/demo.key"))
        .assert()
        .code(3);
    let m = manifest(&d.path("out"));
    assert_eq!(m["totals"]["records_rejected"], 1);
    assert!(m["totals"]["records_out"].as_u64().unwrap() > 10);
}

#[test]
fn one_number_one_token_however_it_is_written() {
    let d = Dir::new();
    let spellings = [
        "电话13912345678",
        "电话 139 1234 5678",
        "我的电话是+86 13912345678",
        "call +86 139-1234-5678",
        "tel 008613912345678",
        "手机：139-1234-5678",
    ];
    let corpus: String = spellings
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{{\"id\":{i},\"text\":\"{t}\"}}\n"))
        .collect();
    d.write("in/a.jsonl", corpus);
    run_ok(&d, "in", "out", &["--no-dedup", "--no-near-dup"]).success();
    let recs = records(&d.path("out"));
    let mut all = std::collections::BTreeSet::new();
    for r in &recs {
        let t = r["text"].as_str().unwrap();
        assert!(!t.contains("1234"), "number left: {t}");
        assert!(
            !t.contains("+86") && !t.contains("0086"),
            "country code left outside the token: {t}"
        );
        all.extend(tokens(t));
    }
    assert_eq!(all.len(), 1, "{all:?}");
}

/// A rejected record is scrubbed after its JSON escapes are decoded, so an escape cannot
/// hide a value from the detector; a broken line keeps no text at all.
#[test]
fn rejects_hold_no_value_hidden_behind_json_escapes() {
    let d = Dir::new();
    d.write(
        "in/a.jsonl",
        concat!(
            "{\"body\":\"mail alice.jones\\u0040example.com\"}\n",
            "{\"text\":\"mail bob.smith\\u0040example.org\n",
            "{\"text\":\"fine\"}\n",
        ),
    );
    run_ok(&d, "in", "out", &["--field", "text"]).code(3);
    let rejects = std::fs::read_to_string(d.path("out/rejects/rejects.jsonl")).unwrap();
    assert_eq!(rejects.lines().count(), 2, "{rejects}");
    for raw in ["alice.jones", "bob.smith"] {
        assert!(!rejects.contains(raw), "raw value in rejects: {rejects}");
    }
    assert_eq!(rejects.matches("<EMAIL_").count(), 1, "{rejects}");
    let broken: serde_json::Value = serde_json::from_str(rejects.lines().nth(1).unwrap()).unwrap();
    assert_eq!(broken["reason"], "invalid_json");
    assert!(broken["text"].is_null(), "{rejects}");
}

/// A line that is not JSON is often one record cut apart by raw newlines, with a value on
/// a line away from the words that mark it; a line in another encoding loses its words to a
/// lossy decode. Neither keeps text in the rejects, so neither can leak.
#[test]
fn broken_lines_keep_no_text() {
    let d = Dir::new();
    d.write(
        "in/a.jsonl",
        concat!(
            "{\"id\":1,\"text\":\"password:\n",
            "Hunter2IsMyPass\"}\n",
            "{\"id\":2,\"text\":\"key -----BEGIN RSA PRIVATE KEY-----\n",
            "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n",
            "-----END RSA PRIVATE KEY-----\"}\n",
            "{\"id\":3,\"text\":\"fine\"}\n",
        ),
    );
    let mut gbk = b"{\"text\":\"\xd3\xc3\xbb\xa7\xc3\xdc\xc2\xeb: Tr0ub4dor\"}\n".to_vec();
    gbk.extend_from_slice(b"{\"text\":\"ok\"}\n");
    d.write("in/b.jsonl", gbk);
    run_ok(&d, "in", "out", &[]).code(3);
    let rejects = std::fs::read_to_string(d.path("out/rejects/rejects.jsonl")).unwrap();
    assert_eq!(rejects.lines().count(), 6, "{rejects}");
    for raw in ["Hunter2", "MIIE", "Tr0ub4dor"] {
        assert!(!rejects.contains(raw), "raw value in rejects: {rejects}");
    }
    assert_eq!(manifest(&d.path("out"))["totals"]["records_out"], 2);
}

/// Object keys can hold data (`{"alice@example.com": …}`): they are scrubbed like values
/// when the object holding them is selected, and the record stays valid JSON.
#[test]
fn object_keys_holding_values_are_scrubbed() {
    let d = Dir::new();
    d.write(
        "in/a.jsonl",
        "{\"text\":\"hello\",\"votes\":{\"alice.jones@example.com\":3,\"plain\":1}}\n",
    );
    run_ok(&d, "in", "out", &[]).success();
    let recs = records(&d.path("out"));
    assert_eq!(recs.len(), 1);
    let votes = recs[0]["votes"].as_object().unwrap();
    assert!(votes.keys().all(|k| !k.contains("alice")), "{votes:?}");
    assert!(votes.keys().any(|k| k.starts_with("<EMAIL_")), "{votes:?}");
    assert_eq!(votes["plain"], 1);
}

/// `detect` takes its text as words, hyphens included, and never prints it back: not in its
/// output, and not in an argument error.
#[test]
fn detect_prints_spans_never_the_text() {
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n-----END RSA PRIVATE KEY-----";
    for args in [
        vec!["detect", "call", "13912345678", "now"],
        vec!["detect", pem],
        vec!["detect", "key:", pem, "--patterns", "x"],
    ] {
        let a = scrubline().args(&args).assert().success();
        let out = a.get_output();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(all.contains("\"type\""), "{args:?}: {all}");
        assert!(
            !all.contains("13912345678") && !all.contains("MIIE"),
            "{all}"
        );
    }
}

/// A key written with escapes is the same key to `--field`: `te\u0078t` is `text`, so
/// an escape cannot take a value out of the scan.
#[test]
fn field_selectors_match_escaped_keys() {
    let d = Dir::new();
    d.write(
        "in/a.jsonl",
        concat!(
            "{\"text\":\"hi\",\"te\\u0078t\":\"mail bob.smith@example.com now\"}\n",
            "{\"m\\u0065ta\":{\"author\":\"call 13912345678\"}}\n",
        ),
    );
    run_ok(
        &d,
        "in",
        "out",
        &["--field", "text", "--field", "meta.author"],
    )
    .success();
    let all: String = records(&d.path("out"))
        .iter()
        .map(|r| r.to_string())
        .collect();
    assert!(
        !all.contains("bob.smith") && !all.contains("13912345678"),
        "{all}"
    );
    assert_eq!(
        all.matches("<EMAIL_").count() + all.matches("<PHONE_").count(),
        2
    );
}

/// A UTF-8 byte order mark at the start of a file (Windows exports) is not part of the
/// first record; a file of blank lines has no records and says so.
#[test]
fn byte_order_mark_and_blank_only_files() {
    let d = Dir::new();
    d.write(
        "in/a.jsonl",
        b"\xEF\xBB\xBF{\"id\":1,\"text\":\"bob@example.org\"}\n{\"id\":2}\n",
    );
    d.write("in/b.jsonl", "\n  \n\n");
    run_ok(&d, "in", "out", &["--no-dedup"]).code(3);
    let recs = records(&d.path("out"));
    assert_eq!(recs.len(), 2);
    assert!(recs[0]["text"].as_str().unwrap().starts_with("<EMAIL_"));
    let m = manifest(&d.path("out"));
    assert_eq!(m["rejects"]["by_reason"]["empty_file"], 1, "{m}");
    assert_eq!(m["rejects"]["records"], 1, "{m}");
    assert_eq!(m["totals"]["blank_lines"], 3, "{m}");
}

/// A value under a key that names what it is (`phone`, `ssn`, `id_card`, `密码`) is scanned
/// with that key as its label, as `phone: 4155552671` would be in prose, in JSON and in
/// Parquet (struct fields); the same number under a key that says nothing stays, and
/// `verify --rescan` scans the same way.
#[test]
fn values_are_scanned_under_the_key_that_labels_them() {
    let d = Dir::new();
    let record = concat!(
        "{\"user\":{\"phone\":\"4155552671\",\"ssn\":\"536221234\",",
        "\"id_card\":\"110105491231002\",\"密码\":\"Tr0ub4dor&3xyz\",",
        "\"note\":\"4155552671\"},\"text\":\"hello\"}\n"
    );
    d.write("in/a.jsonl", record);
    let raws = ["536221234", "110105491231002", "Tr0ub4dor"];
    let check = |out: &str| {
        let recs = records(&d.path(out));
        let user = &recs[0]["user"];
        let all = user.to_string();
        for raw in raws {
            assert!(!all.contains(raw), "{out}: {all}");
        }
        assert!(
            user["phone"].as_str().unwrap().starts_with("<PHONE_"),
            "{all}"
        );
        assert_eq!(user["note"], "4155552671", "no label, no context: {all}");
    };
    run_ok(&d, "in", "out", &["--compression", "none"]).success();
    check("out");
    let v = scrubline()
        .args(["verify", "--rescan"])
        .arg(d.path("out"))
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&v.get_output().stdout).contains("no residual"));
    // The same record as a Parquet struct, written raw by a rule set that finds nothing.
    d.write(
        "none/r.toml",
        "[[rule]]\nid = \"x.never.1\"\nentity = \"NEVER\"\ndescription = \"none\"\npattern = \"NEVERMATCHES_Q9Z\"\n",
    );
    scrubline()
        .args(["run", "-q", "--format", "parquet", "--patterns"])
        .arg(d.path("none"))
        .arg("--input")
        .arg(d.path("in"))
        .arg("--output")
        .arg(d.path("rawpq"))
        .arg("--key-file")
        .arg(d.key("a.key", KEY_A))
        .assert()
        .success();
    run_ok(
        &d,
        "rawpq/part-00000.parquet",
        "outpq",
        &["--format", "jsonl", "--compression", "none"],
    )
    .success();
    check("outpq");
}
