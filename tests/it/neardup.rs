//! Near-duplicate removal through the binary (issue 5).

use crate::util::*;

fn words(seed: u64, n: usize) -> Vec<String> {
    let vocab: Vec<String> = (0..5000).map(|i| format!("w{i:x}")).collect();
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            vocab[(x % vocab.len() as u64) as usize].clone()
        })
        .collect()
}

fn corpus() -> String {
    let mut out = String::new();
    for i in 0..200u64 {
        let base = words(i + 1, 120);
        out.push_str(
            &serde_json::json!({"id": format!("u{i}"), "text": base.join(" ")}).to_string(),
        );
        out.push('\n');
        if i % 4 == 0 {
            // A near-copy: 2 words of 120 changed (word 5-gram Jaccard about 0.85).
            let mut near = base.clone();
            near[30] = "changed".into();
            near[90] = "edited".into();
            out.push_str(
                &serde_json::json!({"id": format!("n{i}"), "text": near.join(" ")}).to_string(),
            );
            out.push('\n');
        }
        if i % 5 == 0 {
            let zh: String = (0..80)
                .map(|k| char::from_u32(0x4e00 + ((i * 7919 + k * 31) % 3000) as u32).unwrap())
                .collect();
            let mut zh2: Vec<char> = zh.chars().collect();
            zh2[40] = '改';
            out.push_str(&serde_json::json!({"id": format!("z{i}"), "text": zh}).to_string());
            out.push('\n');
            out.push_str(&serde_json::json!({"id": format!("zn{i}"), "text": zh2.iter().collect::<String>()}).to_string());
            out.push('\n');
        }
    }
    out
}

#[test]
fn near_copies_removed_first_copy_kept_and_reported() {
    let d = Dir::new();
    d.write("in/a.jsonl", corpus());
    let report = d.path("report.jsonl");
    run_ok(
        &d,
        "in",
        "out",
        &["--dedup-report", report.to_str().unwrap(), "--threads", "2"],
    )
    .success();
    let ids: Vec<String> = records(&d.path("out"))
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids.iter().filter(|i| i.starts_with('u')).count(),
        200,
        "no unique record removed"
    );
    assert_eq!(
        ids.iter()
            .filter(|i| i.starts_with('z') && !i.starts_with("zn"))
            .count(),
        40
    );
    let near_left = ids
        .iter()
        .filter(|i| i.starts_with('n') || i.starts_with("zn"))
        .count();
    assert!(
        near_left <= 4,
        "at most 10% of 90 near-copies left, got {near_left}"
    );
    let m = manifest(&d.path("out"));
    let removed = m["totals"]["near_duplicates_removed"].as_u64().unwrap();
    assert_eq!(removed as usize, 90 - near_left);
    assert!(m["totals"]["near_duplicate_clusters"].as_u64().unwrap() >= removed / 2);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&report)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, removed);
    for l in &lines {
        assert_eq!(l["kind"], "near");
        assert!(l["similarity"].as_f64().unwrap() >= 0.75);
        let id = l["removed"]["id"].as_str().unwrap();
        assert!(id.starts_with('n') || id.starts_with("zn"), "{id}");
        assert!(
            l["survivor"]["ordinal"].as_u64().unwrap() < l["removed"]["ordinal"].as_u64().unwrap()
        );
        assert!(l.get("text").is_none());
    }
    run_ok(&d, "in", "out1", &["--threads", "1"]).success();
    assert_eq!(
        shard_bytes(&d.path("out")),
        shard_bytes(&d.path("out1")),
        "threads do not change survivors"
    );
    run_ok(&d, "in", "off", &["--no-near-dup"]).success();
    assert_eq!(records(&d.path("off")).len(), 200 + 50 + 80);
}

#[test]
fn no_dedup_turns_off_the_exact_stage_only() {
    let d = Dir::new();
    d.write("in/a.jsonl", corpus());
    let first = corpus().lines().next().unwrap().to_string();
    d.write("in/b.jsonl", format!("{first}\n"));
    run_ok(&d, "in", "out", &["--no-dedup"]).success();
    let ids: Vec<String> = records(&d.path("out"))
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    // An exact copy is a near-copy at similarity 1.0: the near stage removes it.
    assert_eq!(ids.iter().filter(|i| *i == "u0").count(), 1);
    let near_left = ids
        .iter()
        .filter(|i| i.starts_with('n') || i.starts_with("zn"))
        .count();
    assert!(
        near_left <= 4,
        "near-copies still removed, {near_left} left"
    );
    let m = manifest(&d.path("out"));
    assert_eq!(m["totals"]["duplicates_removed"], 0);
    run_ok(&d, "in", "both_off", &["--no-dedup", "--no-near-dup"]).success();
    let ids = records(&d.path("both_off"));
    assert_eq!(
        ids.iter().filter(|r| r["id"] == "u0").count(),
        2,
        "both flags keep every copy"
    );
}

/// The report's `id` is the one the shard holds: scrubbed, never the raw value.
#[test]
fn dedup_report_ids_are_scrubbed() {
    let d = Dir::new();
    let line = r#"{"id":"alice.jones@example.com","text":"the same text twice"}"#;
    d.write("in/a.jsonl", format!("{line}\n{line}\n"));
    let report = d.path("report.jsonl");
    run_ok(
        &d,
        "in",
        "out",
        &["--dedup-report", report.to_str().unwrap()],
    )
    .success();
    let text = std::fs::read_to_string(&report).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(!text.contains("alice.jones"), "{text}");
    assert!(text.contains("<EMAIL_"), "{text}");
}
