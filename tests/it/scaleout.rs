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
    scrubline()
        .args(["plan", "--input"])
        .arg(d.path("in"))
        .arg("--output")
        .arg(d.path("plan.json"))
        .assert()
        .success();
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
        assert_eq!(final_ids(&run), want, "W = {world}");
        scrubline()
            .arg("verify")
            .arg(run.join("final"))
            .assert()
            .success();
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
