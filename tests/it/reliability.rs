//! Bad input, crash safety and resume (issue 6).

use std::io::Write;
use std::time::Duration;

use crate::util::*;

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn every_kind_of_bad_input_is_counted_set_aside_and_scrubbed() {
    let d = Dir::new();
    let good = "{\"text\":\"good one a@example.com\"}\n{\"text\":\"good two\"}\n";
    let mut bad = String::new();
    bad.push_str("{\"text\": \"broken json bob@example.com\n");
    bad.push_str("[\"not\", \"an object\", \"carol@example.com\"]\n");
    bad.push_str("{\"text\": 12}\n");
    bad.push_str("{\"other\": \"no text field dave@example.com\"}\n");
    bad.push_str(&format!("{{\"text\":\"{}\"}}\n", "x".repeat(5000)));
    bad.push_str("{\"text\":\"fine after the bad ones\"}\n");
    let mut bytes = bad.into_bytes();
    bytes.extend_from_slice(b"{\"text\":\"bad utf8 \xff\xfe eve@example.com\"}\n");
    d.write("in/a_bad.jsonl", &bytes);
    d.write("in/b_good.jsonl", good);
    let full = gz(b"{\"text\":\"in gzip\"}\n{\"text\":\"second gzip line frank@example.com\"}\n");
    d.write("in/c_truncated.jsonl.gz", &full[..full.len() - 12]);
    let z = zstd::encode_all(
        &b"{\"text\":\"in zstd grace@example.com\"}\n".repeat(200)[..],
        3,
    )
    .unwrap();
    d.write("in/d_truncated.jsonl.zst", &z[..z.len() / 2]);
    d.write("in/e_empty.jsonl", "");
    d.write("in/f_corrupt.parquet", "PAR1 this is not parquet PAR1");
    run_ok(
        &d,
        "in",
        "out",
        &["--field", "text", "--max-record-bytes", "4KiB"],
    )
    .code(3);
    let m = manifest(&d.path("out"));
    let by = &m["rejects"]["by_reason"];
    for (reason, n) in [
        ("invalid_json", 1),
        ("not_object", 1),
        ("field_not_string", 1),
        ("missing_field", 1),
        ("record_too_large", 1),
        ("invalid_utf8", 1),
        ("truncated_stream", 2),
        ("empty_file", 1),
        ("corrupt_parquet", 1),
    ] {
        assert_eq!(by[reason], n, "{reason}: {by}");
    }
    // The audit identity holds; file-level rejects stand for no record read.
    let t = &m["totals"];
    let n = |k: &str| t[k].as_u64().unwrap();
    assert_eq!(
        n("records_in"),
        n("records_out")
            + n("records_rejected")
            + n("duplicates_removed")
            + n("near_duplicates_removed"),
        "{t}"
    );
    assert_eq!(
        n("records_rejected") + 4,
        m["rejects"]["records"].as_u64().unwrap()
    );
    let texts: Vec<String> = records(&d.path("out"))
        .iter()
        .map(|r| r["text"].as_str().unwrap().to_string())
        .collect();
    for t in ["good two", "fine after the bad ones"] {
        assert!(texts.iter().any(|x| x == t), "good record `{t}` lost");
    }
    assert!(texts.iter().any(|x| x.starts_with("good one <EMAIL_")));
    let rejects = std::fs::read_to_string(d.path("out/rejects/rejects.jsonl")).unwrap();
    for raw in [
        "bob@example.com",
        "carol@example.com",
        "dave@example.com",
        "eve@example.com",
    ] {
        assert!(!rejects.contains(raw), "raw value in rejects");
    }
    assert!(
        rejects.contains("<EMAIL_"),
        "rejected text is kept, scrubbed"
    );
    for line in rejects.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(
            v["path"].as_str().unwrap().len() > 3
                && v["reason"].is_string()
                && v["message"].is_string()
        );
    }
}

#[test]
fn max_rejects_fails_the_run() {
    let d = Dir::new();
    d.write("in/a.jsonl", "bad\nbad\n{\"text\":\"ok\"}\n");
    let run = |limit: &str| run_ok(&d, "in", "out", &["--overwrite", "--max-rejects", limit]);
    let a = run("1").code(1);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("too many rejected records"));
    assert!(!d.path("out/manifest.json").exists());
    run("50%").code(1);
    // A ratio is only known at the end; still, nothing looks finished after the failure.
    assert!(shard_paths(&d.path("out")).is_empty());
    assert!(!d.path("out/rejects/rejects.jsonl").exists());
    run("2").code(3);
    run("0.7").code(3);
}

fn big_corpus(d: &Dir) {
    let (corpus, _) = synthetic_corpus(6000);
    d.write("in/a.jsonl", &corpus);
    let (more, _) = synthetic_corpus(3000);
    d.write("in/b.jsonl.gz", gz(more.as_bytes()));
}

fn resume_args(d: &Dir, out: &str) -> Vec<std::ffi::OsString> {
    resume_args_key(d, out, KEY_A)
}

fn resume_args_key(d: &Dir, out: &str, key: &str) -> Vec<std::ffi::OsString> {
    let mut v: Vec<std::ffi::OsString> = [
        "run",
        "-q",
        "--threads",
        "2",
        "--shard-size",
        "96KiB",
        "--batch-bytes",
        "48KiB",
    ]
    .iter()
    .map(Into::into)
    .collect();
    v.push("--input".into());
    v.push(d.path("in").into());
    v.push("--output".into());
    v.push(d.path(out).into());
    v.push("--key-file".into());
    v.push(d.key(if key == KEY_A { "k" } else { "k2" }, key).into());
    v.push("--dedup-report".into());
    v.push(d.path(&format!("{out}-report.jsonl")).into());
    v
}

#[test]
fn killed_five_times_then_resumed_gives_identical_output() {
    let d = Dir::new();
    big_corpus(&d);
    scrubline().args(resume_args(&d, "ref")).assert().success();
    let reference = shard_bytes(&d.path("ref"));
    assert!(reference.len() > 5);
    let ref_manifest = manifest(&d.path("ref"));

    let bin = assert_cmd::cargo::cargo_bin("scrubline");
    let started = std::time::Instant::now();
    scrubline()
        .args(resume_args(&d, "timing"))
        .assert()
        .success();
    let full = started.elapsed();
    // Five kills at spread-out moments, each followed by a resume that is itself killed,
    // then a final resume to the end.
    let mut first = true;
    // Kills that stopped a child before it finished (killed by the signal, no manifest):
    // at least one is needed for the resumes below to have anything to resume.
    let mut mid_run_kills = 0;
    for k in 0..5u32 {
        let mut cmd = std::process::Command::new(&bin);
        cmd.args(resume_args(&d, "out"));
        if !first {
            cmd.arg("--resume");
        }
        first = false;
        let mut child = cmd.spawn().unwrap();
        let frac = [0.15, 0.3, 0.2, 0.45, 0.25][k as usize];
        std::thread::sleep(full.mul_f64(frac));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        if status.code().is_none() && !d.path("out/manifest.json").exists() {
            mid_run_kills += 1;
        }
        assert!(
            !d.path("out/manifest.json").exists() || k > 0,
            "no manifest before the end"
        );
        // No file that looks like a finished shard is incomplete: every part-* file present
        // matches the reference bytes.
        for (name, bytes) in shard_bytes(&d.path("out")) {
            let r = reference
                .iter()
                .find(|(n, _)| *n == name)
                .expect("shard name of the reference");
            assert_eq!(&r.1, &bytes, "{name} looks complete but differs");
        }
    }
    assert!(
        mid_run_kills > 0,
        "every child finished before its kill: nothing was resumed"
    );
    scrubline()
        .args(resume_args(&d, "out"))
        .arg("--resume")
        .assert()
        .success();
    assert_eq!(shard_bytes(&d.path("out")), reference);
    let m = manifest(&d.path("out"));
    assert_eq!(m["outputs"], ref_manifest["outputs"]);
    assert_eq!(m["totals"], ref_manifest["totals"]);
    assert_eq!(m["rejects"], ref_manifest["rejects"]);
    assert_eq!(
        std::fs::read(d.path("out-report.jsonl")).unwrap(),
        std::fs::read(d.path("ref-report.jsonl")).unwrap()
    );
    assert!(
        !d.path("out/.scrubline").exists(),
        "checkpoint state removed at the end"
    );
    // Resuming a complete run does nothing.
    scrubline()
        .args(resume_args(&d, "out"))
        .arg("--resume")
        .assert()
        .success();
    assert_eq!(shard_bytes(&d.path("out")), reference);
}

#[test]
fn resume_refuses_another_configuration_or_key() {
    let d = Dir::new();
    big_corpus(&d);
    let bin = assert_cmd::cargo::cargo_bin("scrubline");
    let state = d.path("out/.scrubline/state.json");
    let mut killed_mid_way = false;
    // Kill as soon as a checkpoint exists; when the run finished first anyway, start over
    // on a bigger corpus.
    for attempt in 1..=3u32 {
        if attempt > 1 {
            std::fs::remove_dir_all(d.path("out")).unwrap();
            let _ = std::fs::remove_file(d.path("out-report.jsonl"));
            let (more, _) = synthetic_corpus(6000 * attempt as usize);
            d.write(&format!("in/c{attempt}.jsonl"), &more);
        }
        let mut child = std::process::Command::new(&bin)
            .args(resume_args(&d, "out"))
            .spawn()
            .unwrap();
        let t = std::time::Instant::now();
        while !state.exists()
            && child.try_wait().unwrap().is_none()
            && t.elapsed() < Duration::from_secs(60)
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        if status.code().is_none() && state.exists() && !d.path("out/manifest.json").exists() {
            killed_mid_way = true;
            break;
        }
    }
    assert!(
        killed_mid_way,
        "the run always finished before a checkpoint could be interrupted"
    );
    let a = scrubline()
        .args(resume_args(&d, "out"))
        .args(["--resume", "--style", "redact"])
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("configuration differs"));
    let a = scrubline()
        .args(resume_args_key(&d, "out", KEY_B))
        .arg("--resume")
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("key differs"));
    let a = scrubline().args(resume_args(&d, "out")).assert().code(1);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("not empty"));
    // A file the checkpoint counts on must hold what it counts: a resume refuses rather
    // than pad a log or a shard with zeros.
    let st: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert!(st["exact_len"].as_u64().unwrap() > 0, "{st}");
    let log = d.path("out/.scrubline/exact.log");
    let saved = std::fs::read(&log).unwrap();
    for cut in [None, Some(saved.len() / 2)] {
        match cut {
            None => std::fs::remove_file(&log).unwrap(),
            Some(n) => std::fs::write(&log, &saved[..n]).unwrap(),
        }
        let a = scrubline()
            .args(resume_args(&d, "out"))
            .arg("--resume")
            .assert()
            .code(1);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(
            err.contains("cannot resume") && err.contains("exact.log"),
            "{err}"
        );
    }
    std::fs::write(&log, &saved).unwrap();
    let done = scrubline()
        .args(resume_args(&d, "out"))
        .arg("--resume")
        .output()
        .unwrap();
    assert!(matches!(done.status.code(), Some(0 | 3)), "{done:?}");
    assert!(d.path("out/manifest.json").exists());
}

/// A corrupt (not only cut) gzip stream keeps the lines before the corruption: the
/// decoder drops what it decoded in the call that fails, so it is given little room per
/// call. zlib decodes 100 whole lines of this file before the corruption (see
/// `fixtures/broken/README.md`); a 128 KiB room kept none of them.
#[test]
fn corrupt_gzip_keeps_the_lines_before_the_corruption() {
    let d = Dir::new();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/broken/corrupt_deflate.jsonl.gz");
    d.write("in/a.jsonl.gz", std::fs::read(fixture).unwrap());
    run_ok(&d, "in", "out", &["--no-dedup", "--no-near-dup"]).code(3);
    let m = manifest(&d.path("out"));
    let kept = m["totals"]["records_out"].as_u64().unwrap();
    // At most one 4 KiB read of lines (about 70 of these) is lost.
    assert!((30..=100).contains(&kept), "kept {kept} of 100");
    assert_eq!(m["rejects"]["by_reason"]["truncated_stream"], 1);
}
