//! Scale-out: plan, ranks, the global dedup stages and the manifest merge, through the CLI.

use std::collections::BTreeSet;
use std::path::Path;

use scrubline::output::OutCompression;
use scrubline::rules::RuleSet;
use scrubline::scaleout::candidates::{read_all_edges, Kind};
use scrubline::scaleout::testkit::{reference_edges, synth_docs, write_rank, SynthDoc};

use crate::util::*;

fn synth_run(dir: &Path, docs: &[SynthDoc], world: u32, c: OutCompression) {
    let rules = RuleSet::builtin().unwrap();
    for r in 0..world {
        write_rank(dir, r, world, docs, 9, c, &rules).unwrap();
    }
}

fn stage(args: &[&str], dir: &Path) -> assert_cmd::assert::Assert {
    let mut c = scrubline();
    for v in [
        "SCRUBLINE_RANK",
        "SCRUBLINE_WORLD_SIZE",
        "SCRUBLINE_RANK_OFFSET",
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_MIN",
        "SLURM_ARRAY_TASK_COUNT",
        "JOB_COMPLETION_INDEX",
        "RANK",
        "WORLD_SIZE",
    ] {
        c.env_remove(v);
    }
    let (cmd, rest) = args.split_at(if args[0] == "manifest" || args[0] == "dedup" {
        2
    } else {
        1
    });
    c.args(cmd).arg(dir).args(rest).assert()
}

/// The global stages after the ranks, on the run folder `d.path(out)`: candidates over
/// `parts` partitions, cluster (twice: the second is a no-op), filter for each of the
/// `world` ranks, merge; then `verify` on the merged output.
fn global_stages(d: &Dir, out: &str, world: u32, parts: u32) {
    let run = d.path(out);
    for p in 0..parts {
        let (p, w) = (p.to_string(), parts.to_string());
        stage(
            &["dedup", "candidates", "--rank", &p, "--world-size", &w],
            &run,
        )
        .success();
    }
    stage(&["dedup", "cluster"], &run).success();
    stage(&["dedup", "cluster"], &run)
        .success()
        .stderr(predicates::str::contains("already done"));
    for r in 0..world {
        stage(&["dedup", "filter", "--rank", &r.to_string()], &run).success();
    }
    stage(&["manifest", "merge"], &run).success();
    scrubline()
        .arg("verify")
        .arg(run.join("final"))
        .assert()
        .success();
}

/// `scrubline plan` over `d.path("in")`, written to `d.path("plan.json")`.
fn make_plan(d: &Dir) {
    scrubline()
        .args(["plan", "--input"])
        .arg(d.path("in"))
        .arg("--output")
        .arg(d.path("plan.json"))
        .assert()
        .success();
}

/// Decoded final records (by `id`), sorted.
fn final_ids(dir: &Path) -> Vec<u64> {
    let mut ids: Vec<u64> = records(&dir.join("final"))
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    ids.sort();
    ids
}

#[test]
fn plan_lists_the_inputs_once() {
    let d = Dir::new();
    for i in 0..4 {
        d.write(&format!("in/{i}.jsonl"), "{\"text\":\"x\"}\n");
    }
    make_plan(&d);
    let plan = scrubline::scaleout::plan::Plan::read(&d.path("plan.json")).unwrap();
    assert_eq!(plan.files.len(), 4);
    assert_eq!(
        plan.shard_of(1, 3)
            .iter()
            .map(|f| f.index)
            .collect::<Vec<_>>(),
        [1]
    );
}

#[test]
fn candidate_edges_do_not_depend_on_the_partition_count() {
    let docs = synth_docs(9, 25, 4, 5, 11);
    let want = reference_edges(&docs);
    assert!(want.iter().any(|e| e.kind == Kind::Near));
    for parts in [1u32, 3] {
        let d = Dir::new();
        synth_run(&d.path("run"), &docs, 3, OutCompression::Zstd);
        for p in 0..parts {
            stage(
                &[
                    "dedup",
                    "candidates",
                    "--rank",
                    &p.to_string(),
                    "--world-size",
                    &parts.to_string(),
                ],
                &d.path("run"),
            )
            .success();
        }
        let (n, got) = read_all_edges(&d.path("run")).unwrap();
        assert_eq!(n, parts);
        assert_eq!(got, want, "W2 = {parts}");
    }
}

#[test]
fn ranks_come_from_slurm_and_kubernetes_variables() {
    let docs = synth_docs(3, 5, 2, 5, 12);
    let d = Dir::new();
    let run = d.path("run");
    synth_run(&run, &docs, 1, OutCompression::None);
    scrubline()
        .args(["dedup", "candidates"])
        .arg(&run)
        .env("SLURM_ARRAY_TASK_ID", "11")
        .env("SLURM_ARRAY_TASK_MIN", "10")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .assert()
        .success();
    assert!(run.join("dedup/edges/00001.parquet").exists());
    scrubline()
        .args(["dedup", "candidates"])
        .arg(&run)
        .env("JOB_COMPLETION_INDEX", "2")
        .assert()
        .failure()
        .stderr(predicates::str::contains("--world-size"));
    scrubline()
        .args(["dedup", "candidates", "--world-size", "3"])
        .arg(&run)
        .env("JOB_COMPLETION_INDEX", "2")
        .assert()
        .success();
    assert!(run.join("dedup/edges/00002.parquet").exists());
}

#[test]
fn stages_end_to_end_on_a_synthetic_run_any_world() {
    let docs = synth_docs(10, 20, 3, 5, 13);
    let removed: BTreeSet<u64> = reference_edges(&docs).iter().map(|e| e.doc_id).collect();
    let want: Vec<u64> = docs
        .iter()
        .map(|d| d.doc_id)
        .filter(|id| !removed.contains(id))
        .collect();
    let mut totals = Vec::new();
    for (world, parts) in [(1u32, 1u32), (3, 2), (7, 3)] {
        let d = Dir::new();
        let run = d.path("run");
        synth_run(&run, &docs, world, OutCompression::Zstd);
        global_stages(&d, "run", world, parts);
        assert_eq!(final_ids(&run), want, "W = {world}");
        let m = manifest(&run.join("final"));
        totals.push(m["totals"].clone());
    }
    assert_eq!(totals[0], totals[1]);
    assert_eq!(totals[0], totals[2]);
}

#[test]
fn filter_needs_the_cluster_stage_and_a_valid_rank() {
    let docs = synth_docs(2, 5, 0, 5, 14);
    let d = Dir::new();
    let run = d.path("run");
    synth_run(&run, &docs, 2, OutCompression::None);
    stage(&["dedup", "filter", "--rank", "0"], &run)
        .failure()
        .stderr(predicates::str::contains("dedup cluster"));
    stage(&["dedup", "candidates"], &run).success();
    stage(&["dedup", "cluster"], &run).success();
    stage(&["dedup", "filter", "--rank", "2"], &run)
        .failure()
        .stderr(predicates::str::contains("not below the world size 2"));
    stage(
        &["dedup", "filter", "--rank", "0", "--world-size", "3"],
        &run,
    )
    .failure()
    .stderr(predicates::str::contains(
        "differs from the run's world size",
    ));
}

// ---- end to end: `run --plan` ranks as processes ------------------------------------------

const WORDS: &[&str] = &[
    "river", "stone", "paper", "lantern", "harbor", "meadow", "signal", "copper", "orchard",
    "window", "thunder", "violet", "canyon", "ember", "glacier", "pepper", "saddle", "tundra",
    "velvet", "willow", "anchor", "bishop", "cobalt", "dune", "falcon", "garnet", "hollow",
];

/// A paragraph of `n` words from `seed`.
fn paragraph(seed: u64, n: usize) -> String {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            WORDS[(s % WORDS.len() as u64) as usize]
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// An unseen corpus in `dir/in`: `files` files (plain, gzip, zstd) with PII, exact copies
/// across files, near copies (one word changed in a long paragraph), blank lines and
/// broken records; `big` extra records in file 4 (for the kill test).
fn corpus(d: &Dir, files: usize, per_file: usize, big: usize) {
    use std::io::Write;
    let (pii, _) = synthetic_corpus(files * per_file + big);
    let mut pii = pii.lines();
    for f in 0..files {
        let mut text = String::new();
        let n = per_file + if f == 4 { big } else { 0 };
        for i in 0..n {
            let id = format!("f{f:02}-{i:06}");
            let mut rec: serde_json::Value = serde_json::from_str(pii.next().unwrap()).unwrap();
            rec["id"] = serde_json::json!(id);
            match i % 11 {
                // Exact copies of a few shared texts, in every file.
                0 => rec["text"] = serde_json::json!(format!("shared notice {}", i % 4)),
                // Near copies: a long paragraph with one word changed.
                3 => {
                    let mut p = paragraph((i % 5) as u64, 80);
                    p.push_str(&format!(" tail{}", (f + i) % 3));
                    rec["text"] = serde_json::json!(p);
                }
                // Distinct long paragraphs.
                5 => rec["text"] = serde_json::json!(paragraph(1000 + (f * n + i) as u64, 60)),
                _ => {}
            }
            text.push_str(&serde_json::to_string(&rec).unwrap());
            text.push('\n');
            if i % 97 == 5 {
                text.push_str("{\"id\": \"broken\", \"text\": \n");
            }
            if i % 53 == 7 {
                text.push_str("   \n");
            }
        }
        match f % 3 {
            0 => {
                d.write(&format!("in/part{f:02}.jsonl"), &text);
            }
            1 => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(text.as_bytes()).unwrap();
                d.write(&format!("in/part{f:02}.jsonl.gz"), e.finish().unwrap());
            }
            _ => {
                d.write(
                    &format!("in/part{f:02}.jsonl.zst"),
                    zstd::encode_all(text.as_bytes(), 3).unwrap(),
                );
            }
        }
    }
}

/// Output lines keyed by `id`, sorted by it.
fn lines_by_id(dir: &Path) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = shards(dir)
        .into_iter()
        .flat_map(|(_, b)| {
            String::from_utf8(b)
                .unwrap()
                .lines()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    (v["id"].as_str().unwrap().to_string(), l.to_string())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    v.sort();
    v
}

fn run_rank(d: &Dir, out: &str, rank: u32, world: u32) -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("scrubline"));
    c.args([
        "run",
        "--quiet",
        "--threads",
        "1",
        "--shard-size",
        "64KiB",
        "--plan",
    ])
    .arg(d.path("plan.json"))
    .arg("--output")
    .arg(d.path(out))
    .arg("--key-file")
    .arg(d.path("a.key"))
    .args([
        "--rank",
        &rank.to_string(),
        "--world-size",
        &world.to_string(),
    ])
    .env_remove("SCRUBLINE_KEY")
    .env_remove("SLURM_ARRAY_TASK_ID")
    .env_remove("RANK");
    c
}

fn single_run(d: &Dir) {
    // The corpus has broken records. This also writes `a.key`, which the ranks read.
    run_ok(d, "in", "single", &["--shard-size", "64KiB"]).code(3);
    make_plan(d);
}

fn assert_same_as_single(d: &Dir, out: &str) {
    let single = manifest(&d.path("single"));
    let merged = manifest(&d.path(out).join("final"));
    assert_eq!(merged["totals"], single["totals"], "{out}: totals");
    assert_eq!(merged["inputs"], single["inputs"], "{out}: inputs");
    assert_eq!(merged["rejects"]["records"], single["rejects"]["records"]);
    assert_eq!(
        std::fs::read(d.path(out).join("final/rejects/rejects.jsonl")).unwrap(),
        std::fs::read(d.path("single/rejects/rejects.jsonl")).unwrap(),
        "{out}: rejects"
    );
    let want = lines_by_id(&d.path("single"));
    let got = lines_by_id(&d.path(out).join("final"));
    assert_eq!(got.len(), want.len(), "{out}: record count");
    assert!(
        got == want,
        "{out}: surviving records or their tokens differ"
    );
}

#[test]
fn ranks_as_processes_equal_one_run_for_w_1_3_7() {
    let d = Dir::new();
    corpus(&d, 9, 160, 0);
    single_run(&d);
    let single = manifest(&d.path("single"));
    let t = &single["totals"];
    assert!(t["duplicates_removed"].as_u64().unwrap() > 0, "{t}");
    assert!(t["near_duplicates_removed"].as_u64().unwrap() > 0, "{t}");
    assert!(t["near_duplicate_clusters"].as_u64().unwrap() > 0, "{t}");
    assert!(t["records_rejected"].as_u64().unwrap() > 0, "{t}");
    for (world, parts) in [(1u32, 1u32), (3, 2), (7, 3)] {
        let out = format!("w{world}");
        // Ranks run concurrently, as on a cluster.
        let mut children: Vec<_> = (0..world)
            .map(|r| run_rank(&d, &out, r, world).spawn().unwrap())
            .collect();
        for c in &mut children {
            assert!(matches!(c.wait().unwrap().code(), Some(0 | 3)));
        }
        global_stages(&d, &out, world, parts);
        assert_same_as_single(&d, &out);
        // A finished rank does nothing when rerun.
        let m = std::fs::read(d.path(&out).join("_manifest/00000.json")).unwrap();
        assert!(matches!(
            run_rank(&d, &out, 0, world).status().unwrap().code(),
            Some(0 | 3)
        ));
        assert_eq!(
            std::fs::read(d.path(&out).join("_manifest/00000.json")).unwrap(),
            m
        );
    }
}

#[test]
fn a_rank_killed_mid_way_and_rerun_gives_the_same_result() {
    let d = Dir::new();
    corpus(&d, 6, 60, 12_000);
    single_run(&d);
    let world = 3;
    // File 4 (rank 1) is the big one.
    let mut killed_mid_way = false;
    // Shorter delays when the rank was faster than the kill.
    for delay_ms in [200u64, 80, 30, 10] {
        let out = d.path("w3");
        let mut child = run_rank(&d, "w3", 1, world).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let status = child.wait().unwrap();
        if status.code().is_none() {
            killed_mid_way = true;
            assert!(!out.join("_manifest/00001.json").exists());
            break;
        }
        std::fs::remove_file(out.join("_manifest/00001.json")).unwrap();
    }
    assert!(killed_mid_way, "the rank always finished before the kill");
    for r in 0..world {
        assert!(matches!(
            run_rank(&d, "w3", r, world).status().unwrap().code(),
            Some(0 | 3)
        ));
    }
    global_stages(&d, "w3", world, 2);
    assert_same_as_single(&d, "w3");
}

/// Every row of the Parquet shards in `dir`, as sorted JSON lines.
fn parquet_lines(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for p in shard_paths(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
    {
        for b in scrubline::columnar::ParquetFile::open(&p)
            .unwrap()
            .batches(4096)
        {
            let mut buf = Vec::new();
            scrubline::columnar::json::write_jsonl(&b.unwrap(), &mut buf).unwrap();
            out.extend(String::from_utf8(buf).unwrap().lines().map(str::to_string));
        }
    }
    out.sort();
    out
}

#[test]
fn parquet_ranks_equal_one_run() {
    use scrubline::columnar::{testdata, ShardWriter, WriterOptions};
    let d = Dir::new();
    // File 5 repeats file 0: exact duplicates across ranks.
    for (f, seed) in [(0, 0u64), (1, 1), (2, 2), (3, 3), (4, 4), (5, 0)] {
        let path = d.path(&format!("in/p{f}.parquet"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let batch = testdata::sample_batch(300, seed);
        let mut w = ShardWriter::create(&path, batch.schema(), &WriterOptions::default()).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }
    // Also writes `a.key`, which the ranks read.
    run_ok(&d, "in", "single", &[]).success();
    make_plan(&d);
    let world = 3;
    for r in 0..world {
        assert_eq!(
            run_rank(&d, "w3", r, world).status().unwrap().code(),
            Some(0)
        );
    }
    global_stages(&d, "w3", world, 2);
    let single = manifest(&d.path("single"));
    assert!(single["totals"]["duplicates_removed"].as_u64().unwrap() >= 300);
    assert_eq!(manifest(&d.path("w3/final"))["totals"], single["totals"]);
    let want = parquet_lines(&d.path("single"));
    assert!(!want.is_empty());
    assert!(
        parquet_lines(&d.path("w3/final")) == want,
        "surviving rows differ"
    );
    // The final shards keep the schema (metadata included) of a single run's.
    let schema_of = |p: std::path::PathBuf| {
        scrubline::columnar::ParquetFile::open(p)
            .unwrap()
            .fingerprint()
            .to_string()
    };
    assert_eq!(
        schema_of(d.path("w3/final/part-r00000-00000.parquet")),
        schema_of(d.path("single/part-00000.parquet"))
    );
}

/// The Slurm example of the docs, stage by stage as local processes with the variables a
/// job array sets (array ids starting at 5): the same totals as one run.
#[test]
#[cfg(unix)]
fn the_slurm_example_runs_the_whole_flow() {
    let d = Dir::new();
    corpus(&d, 5, 80, 0);
    single_run(&d);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/slurm/scrubline.sbatch");
    let stage = |name: &str, task: Option<(u32, u32)>| {
        let mut c = std::process::Command::new("bash");
        c.arg(&script)
            .env("STAGE", name)
            .env("SCRUBLINE", assert_cmd::cargo::cargo_bin("scrubline"))
            .env("CORPUS", d.path("in"))
            .env("OUT", d.path("slurm"))
            .env("KEY", d.path("a.key"))
            .env_remove("SCRUBLINE_RANK")
            .env_remove("SCRUBLINE_WORLD_SIZE")
            .env_remove("RANK")
            .env_remove("WORLD_SIZE")
            .env_remove("JOB_COMPLETION_INDEX");
        if let Some((id, count)) = task {
            c.env("SLURM_ARRAY_TASK_ID", (id + 5).to_string())
                .env("SLURM_ARRAY_TASK_MIN", "5")
                .env("SLURM_ARRAY_TASK_COUNT", count.to_string());
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "stage {name} {task:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::create_dir_all(d.path("slurm")).unwrap();
    stage("plan", None);
    (0..3).for_each(|i| stage("run", Some((i, 3))));
    (0..2).for_each(|i| stage("candidates", Some((i, 2))));
    stage("cluster", None);
    (0..3).for_each(|i| stage("filter", Some((i, 3))));
    stage("merge", None);
    assert_eq!(
        manifest(&d.path("slurm/final"))["totals"],
        manifest(&d.path("single"))["totals"]
    );
}

/// `--no-dedup` turns off the exact stage (exact copies then go as near-copies at
/// similarity 1.0), `--no-near-dup` the near stage: the ranks follow the single run.
#[test]
fn dedup_switches_apply_to_the_ranks_too() {
    for flag in ["--no-dedup", "--no-near-dup"] {
        let d = Dir::new();
        corpus(&d, 5, 120, 0);
        // Also writes `a.key`, which the ranks read.
        run_ok(&d, "in", "single", &[flag, "--shard-size", "64KiB"]).code(3);
        make_plan(&d);
        let t = manifest(&d.path("single"))["totals"].clone();
        if flag == "--no-dedup" {
            assert_eq!(t["duplicates_removed"], 0, "{flag}: {t}");
            assert!(
                t["near_duplicates_removed"].as_u64().unwrap() > 0,
                "{flag}: {t}"
            );
        } else {
            assert_eq!(t["near_duplicates_removed"], 0, "{flag}: {t}");
            assert!(t["duplicates_removed"].as_u64().unwrap() > 0, "{flag}: {t}");
        }
        for r in 0..3 {
            let mut c = run_rank(&d, "w3", r, 3);
            c.arg(flag);
            assert_eq!(c.status().unwrap().code(), Some(3));
        }
        global_stages(&d, "w3", 3, 2);
        assert_same_as_single(&d, "w3");
    }
}
