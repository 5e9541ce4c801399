//! Stage tests over synthetic runs (see [`super::testkit`]).

use std::collections::BTreeSet;
use std::path::Path;

use super::testkit::{reference_edges, streaming_reference, synth_docs, write_rank, SynthDoc};
use super::*;
use crate::output::OutCompression;
use crate::rules::RuleSet;

fn run_ranks(dir: &Path, docs: &[SynthDoc], world: u32, c: OutCompression, rules: &RuleSet) {
    for r in 0..world {
        write_rank(dir, r, world, docs, 7, c, rules).unwrap();
    }
}

fn final_ids(dir: &Path) -> Vec<u64> {
    let m = crate::manifest::Manifest::read(&dir.join(FINAL_DIR)).unwrap();
    let mut ids = Vec::new();
    for s in &m.outputs {
        let raw = std::fs::read(dir.join(FINAL_DIR).join(&s.path)).unwrap();
        let text = if s.path.ends_with(".zst") {
            zstd::decode_all(&raw[..]).unwrap()
        } else {
            raw
        };
        for line in String::from_utf8(text).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            ids.push(v["id"].as_u64().unwrap());
        }
    }
    ids.sort();
    ids
}

#[test]
fn candidates_equal_the_reference_for_every_partition_count() {
    let rules = RuleSet::builtin().unwrap();
    let docs = synth_docs(7, 40, 3, rules.rules().len() as u32, 1);
    let want = reference_edges(&docs);
    assert!(want.iter().any(|e| e.kind == candidates::Kind::Exact));
    assert!(want.iter().any(|e| e.kind == candidates::Kind::Near));
    for (world, parts) in [(1, 1), (3, 1), (3, 3), (2, 5)] {
        let d = tempfile::tempdir().unwrap();
        run_ranks(d.path(), &docs, world, OutCompression::None, &rules);
        for p in 0..parts {
            let r = candidates::candidates(d.path(), p, parts).unwrap();
            assert!(!r.skipped);
            assert!(candidates::candidates(d.path(), p, parts).unwrap().skipped);
        }
        let (n, got) = candidates::read_all_edges(d.path()).unwrap();
        assert_eq!(n, parts);
        assert_eq!(got, want, "world {world}, parts {parts}");
    }
}

#[test]
fn candidates_refuse_an_unfinished_run() {
    let rules = RuleSet::builtin().unwrap();
    let docs = synth_docs(4, 5, 2, 3, 2);
    let d = tempfile::tempdir().unwrap();
    write_rank(d.path(), 0, 2, &docs, 7, OutCompression::None, &rules).unwrap();
    let err = candidates::candidates(d.path(), 0, 1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("rank/partition 1"), "{err}");
    write_rank(d.path(), 1, 2, &docs, 7, OutCompression::None, &rules).unwrap();
    std::fs::remove_file(rank_manifest_path(d.path(), 1)).unwrap();
    let err = candidates::candidates(d.path(), 0, 1)
        .unwrap_err()
        .to_string();
    assert!(err.contains("rank 1 has not finished"), "{err}");
}

#[test]
fn cluster_filter_merge_give_the_same_survivors_for_any_world() {
    let rules = RuleSet::builtin().unwrap();
    let docs = synth_docs(8, 30, 3, rules.rules().len() as u32, 3);
    let edges = reference_edges(&docs);
    let removed: BTreeSet<u64> = edges.iter().map(|e| e.doc_id).collect();
    let exact: BTreeSet<u64> = edges
        .iter()
        .filter(|e| e.kind == candidates::Kind::Exact)
        .map(|e| e.doc_id)
        .collect();
    let want: Vec<u64> = docs
        .iter()
        .map(|d| d.doc_id)
        .filter(|id| !removed.contains(id))
        .collect();
    let mut totals = Vec::new();
    for (world, parts, c) in [
        (1, 1, OutCompression::Zstd),
        (3, 2, OutCompression::Zstd),
        (7, 3, OutCompression::None),
    ] {
        let d = tempfile::tempdir().unwrap();
        run_ranks(d.path(), &docs, world, c, &rules);
        for p in 0..parts {
            candidates::candidates(d.path(), p, parts).unwrap();
        }
        let rep = cluster::cluster(d.path()).unwrap();
        assert_eq!(rep.exact_removed, exact.len() as u64);
        assert_eq!(rep.exact_removed + rep.near_removed, removed.len() as u64);
        assert!(cluster::cluster(d.path()).unwrap().skipped);
        for r in 0..world {
            let f = filter::filter(d.path(), r, &rules).unwrap();
            assert!(!f.skipped);
            assert!(filter::filter(d.path(), r, &rules).unwrap().skipped);
        }
        let (m, out) = merge::merge(d.path()).unwrap();
        assert_eq!(out, d.path().join(FINAL_DIR));
        assert_eq!(final_ids(d.path()), want, "world {world}");
        assert_eq!(m.totals.records_out, want.len() as u64);
        assert_eq!(m.totals.duplicates_removed, exact.len() as u64);
        let v = crate::verify::verify(&out, None).unwrap();
        assert!(v.missing.is_empty() && v.altered.is_empty(), "{v}");
        totals.push(m.totals);
    }
    assert_eq!(totals[0], totals[1]);
    assert_eq!(totals[0], totals[2]);
    // Detections recomputed from the survivors.
    let mut by_rule = std::collections::BTreeMap::<String, u64>::new();
    for d in docs.iter().filter(|d| !removed.contains(&d.doc_id)) {
        for &r in &d.rules {
            *by_rule
                .entry(rules.rules()[r as usize].id.clone())
                .or_default() += 1;
        }
    }
    assert_eq!(totals[0].detections_by_rule, by_rule);
}

#[test]
fn filter_refuses_another_rule_set() {
    let rules = RuleSet::builtin().unwrap();
    let docs = synth_docs(2, 5, 0, 3, 4);
    let d = tempfile::tempdir().unwrap();
    run_ranks(d.path(), &docs, 1, OutCompression::None, &rules);
    candidates::candidates(d.path(), 0, 1).unwrap();
    cluster::cluster(d.path()).unwrap();
    let path = rank_manifest_path(d.path(), 0);
    let mut m = filter::read_manifest_file(&path).unwrap();
    m.ruleset_sha256 = "other".into();
    write_json_atomic(&path, &m).unwrap();
    let err = filter::filter(d.path(), 0, &rules).unwrap_err().to_string();
    assert!(err.contains("ruleset_sha256"), "{err}");
}

#[test]
fn global_stages_remove_what_the_streaming_run_removes() {
    let rules = RuleSet::builtin().unwrap();
    for seed in 0..4 {
        let docs = synth_docs(6, 60, 4, rules.rules().len() as u32, 100 + seed);
        let (ex, near, clusters) = streaming_reference(&docs);
        assert!(
            !ex.is_empty() && !near.is_empty() && clusters > 0,
            "seed {seed}"
        );
        let edges = reference_edges(&docs);
        let has_exact: BTreeSet<u64> = edges
            .iter()
            .filter(|e| e.kind == candidates::Kind::Exact)
            .map(|e| e.doc_id)
            .collect();
        let near_only: BTreeSet<u64> = edges
            .iter()
            .map(|e| e.doc_id)
            .filter(|id| !has_exact.contains(id))
            .collect();
        assert_eq!(has_exact, ex.iter().copied().collect(), "seed {seed}");
        assert_eq!(near_only, near.iter().copied().collect(), "seed {seed}");
        for (world, parts) in [(1, 1), (3, 2), (5, 4)] {
            let d = tempfile::tempdir().unwrap();
            run_ranks(d.path(), &docs, world, OutCompression::None, &rules);
            for p in 0..parts {
                candidates::candidates(d.path(), p, parts).unwrap();
            }
            let (_, got) = candidates::read_all_edges(d.path()).unwrap();
            assert_eq!(got, edges, "seed {seed} world {world}");
            let rep = cluster::cluster(d.path()).unwrap();
            assert_eq!(
                (rep.exact_removed, rep.near_removed, rep.near_clusters),
                (ex.len() as u64, near.len() as u64, clusters),
                "seed {seed} world {world}"
            );
            let per_rank: u64 = rep.by_rank.iter().map(|r| r.near_clusters).sum();
            assert_eq!(per_rank, clusters);
        }
    }
}
