//! Synthetic runs for tests, examples and the Spark cross-check: rank folders with shards,
//! docs/sig tables and rank manifests, as `run --plan` writes them, from made-up records
//! with controlled exact and LSH collisions. Not part of the stable API.

use std::path::Path;

use super::sigs::{SigOptions, SigSink};
use crate::error::Result;
use crate::manifest::{Manifest, RejectsEntry, Totals};
use crate::output::{JsonlShards, OutCompression};
use crate::rules::RuleSet;
use crate::sink::{RecordSink, SinkRecord};

/// One made-up record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthDoc {
    /// Its identity.
    pub doc_id: u64,
    /// Exact fingerprint.
    pub fp: u128,
    /// Band hashes (empty: near-dup off, or no shingle).
    pub bands: Vec<u64>,
    /// MinHash sketch (with band hashes only).
    pub sketch: Option<[u8; 64]>,
    /// Rule indices of replaced values.
    pub rules: Vec<u32>,
    /// The JSON line (without newline).
    pub line: String,
}

/// The near-dup threshold of synthetic runs.
pub const THRESHOLD: f64 = 0.75;

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[derive(Clone)]
struct Content {
    fp: u128,
    bands: Vec<u64>,
    sketch: Option<[u8; 64]>,
}

fn content(s: &mut u64, bands: usize, families: &[[u8; 64]]) -> Content {
    let fp = u128::from(splitmix(s)) << 64 | u128::from(splitmix(s));
    let bands: Vec<u64> = (0..bands)
        .map(|_| {
            if splitmix(s).is_multiple_of(6) {
                // Collisions, with both signs of the int64 bit pattern.
                (splitmix(s) % 41).wrapping_mul(0x8000_0000_0000_0001)
            } else {
                splitmix(s)
            }
        })
        .collect();
    let sketch = (!bands.is_empty()).then(|| {
        // A family's sketch with some cells changed: estimates from ~1 down to ~0.5.
        let mut k = families[(splitmix(s) % families.len() as u64) as usize];
        for _ in 0..splitmix(s) % 48 {
            let cell = (splitmix(s) % 128) as usize;
            k[cell / 2] ^=
                if cell.is_multiple_of(2) { 0x0F } else { 0xF0 } & (splitmix(s) as u8 | 0x11);
        }
        k
    });
    Content { fp, bands, sketch }
}

/// `files` files of `per_file` records each, `bands` bands (0: near-dup off), rule indices
/// below `n_rules`. About a fifth of the records repeat an earlier content exactly (same
/// fingerprint, band hashes and sketch, as the real pipeline derives all three from the
/// same normalized text), a sixth of the band hashes collide, and sketches come from a few
/// families with random changes, so some bucket roots pass the threshold and some fail.
pub fn synth_docs(
    files: u32,
    per_file: u32,
    bands: usize,
    n_rules: u32,
    seed: u64,
) -> Vec<SynthDoc> {
    let mut s = seed;
    let families: Vec<[u8; 64]> = (0..4)
        .map(|_| {
            let mut k = [0u8; 64];
            k.iter_mut().for_each(|b| *b = splitmix(&mut s) as u8);
            k
        })
        .collect();
    let mut popular: Vec<Content> = Vec::new();
    let mut out = Vec::new();
    for f in 0..files {
        for o in 1..=per_file {
            let doc_id = crate::sink::doc_id(f, o);
            let c = if !popular.is_empty() && splitmix(&mut s).is_multiple_of(5) {
                popular[(splitmix(&mut s) % popular.len() as u64) as usize].clone()
            } else {
                let c = content(&mut s, bands, &families);
                if popular.len() < 23 && splitmix(&mut s).is_multiple_of(3) {
                    popular.push(c.clone());
                }
                c
            };
            let rules = (0..splitmix(&mut s) % 4)
                .map(|_| (splitmix(&mut s) % u64::from(n_rules.max(1))) as u32)
                .collect();
            let line = format!("{{\"id\":{doc_id},\"text\":\"record {f}/{o}\"}}");
            out.push(SynthDoc {
                doc_id,
                fp: c.fp,
                bands: c.bands,
                sketch: c.sketch,
                rules,
                line,
            });
        }
    }
    out
}

/// Writes rank `rank` of `world` of a run over `docs` into `dir`, as `run --plan` would:
/// files `index % world == rank`, shards of `per_shard` records, the docs/sig tables and,
/// last, the rank manifest.
pub fn write_rank(
    dir: &Path,
    rank: u32,
    world: u32,
    docs: &[SynthDoc],
    per_shard: usize,
    compression: OutCompression,
    rules: &RuleSet,
) -> Result<Manifest> {
    let mine: Vec<&SynthDoc> = docs
        .iter()
        .filter(|d| crate::sink::split_doc_id(d.doc_id).0 % world == rank)
        .collect();
    std::fs::create_dir_all(dir).map_err(|e| crate::error::Error::io(dir, e))?;
    let opts = SigOptions {
        world,
        key_fingerprint: "hmac-sha256:test".into(),
        near: docs
            .first()
            .filter(|d| !d.bands.is_empty())
            .map(|d| format!("synthetic bands={}", d.bands.len())),
        near_threshold: Some(THRESHOLD),
        skip_exact: false,
        extra: vec![],
    };
    let mut sink: Box<dyn RecordSink> = Box::new(SigSink::create(dir, rank, &opts)?);
    let mut shards = JsonlShards::new(dir, &super::shard_prefix(rank), compression);
    let mut counts = vec![0u64; rules.rules().len()];
    for (i, d) in mine.iter().enumerate() {
        let shard = (i / per_shard.max(1)) as u32;
        let mut line = d.line.clone().into_bytes();
        line.push(b'\n');
        shards.append(shard, compression.compress(&line, 3), 1)?;
        sink.record(&SinkRecord {
            doc_id: d.doc_id,
            shard,
            exact_fp: d.fp,
            band_hashes: &d.bands,
            sketch: d.sketch.as_ref(),
            rules: &d.rules,
        })?;
        for &r in &d.rules {
            counts[r as usize] += 1;
        }
    }
    let outputs = shards.finish()?;
    sink.finish()?;
    let mut totals = Totals {
        records_in: mine.len() as u64,
        records_out: mine.len() as u64,
        ..Default::default()
    };
    for (i, &n) in counts.iter().enumerate() {
        if n > 0 {
            let r = &rules.rules()[i];
            *totals
                .detections_by_type
                .entry(r.entity.clone())
                .or_default() += n;
            *totals.detections_by_rule.entry(r.id.clone()).or_default() += n;
        }
    }
    let m = Manifest {
        schema_version: crate::manifest::SCHEMA_VERSION,
        tool: "scrubline".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        started_at: crate::manifest::now_rfc3339(),
        finished_at: crate::manifest::now_rfc3339(),
        config: serde_json::json!({"zstd_level": 3}),
        config_sha256: "synthetic".into(),
        ruleset_sha256: rules.sha256().to_string(),
        key_fingerprint: "hmac-sha256:test".into(),
        partition: Some(crate::pipeline::Partition {
            rank,
            world_size: world,
        }),
        inputs: Vec::new(),
        outputs,
        rejects: RejectsEntry::default(),
        totals,
    };
    super::write_json_atomic(&super::rank_manifest_path(dir, rank), &m)?;
    Ok(m)
}

/// The reference answer: `(doc_id, root, kind)` edges by brute force over `docs`, as the
/// SQL of [`super::candidates`] defines them, sorted and distinct.
pub fn reference_edges(docs: &[SynthDoc]) -> Vec<super::candidates::Edge> {
    use super::candidates::{Edge, Kind};
    use std::collections::HashMap;
    let mut exact: HashMap<u128, u64> = HashMap::new();
    let mut near: HashMap<(usize, u64), u64> = HashMap::new();
    for d in docs {
        let e = exact.entry(d.fp).or_insert(d.doc_id);
        *e = (*e).min(d.doc_id);
        for (b, &h) in d.bands.iter().enumerate() {
            let e = near.entry((b, h)).or_insert(d.doc_id);
            *e = (*e).min(d.doc_id);
        }
    }
    let mut out = Vec::new();
    let sketch = |id: u64| {
        let d = docs.iter().find(|d| d.doc_id == id).expect("a doc");
        crate::minhash::Sketch::from_bytes(d.sketch.as_ref().expect("a sketch"))
    };
    for d in docs {
        let root = exact[&d.fp];
        if root != d.doc_id {
            out.push(Edge {
                doc_id: d.doc_id,
                root,
                kind: Kind::Exact,
            });
        }
        for (b, &h) in d.bands.iter().enumerate() {
            let root = near[&(b, h)];
            if root != d.doc_id && sketch(d.doc_id).jaccard(&sketch(root)) >= THRESHOLD {
                out.push(Edge {
                    doc_id: d.doc_id,
                    root,
                    kind: Kind::Near,
                });
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// What `scrubline run` decides in one process, through the real streaming index: records
/// removed as exact duplicates, as near duplicates, and the near-duplicate clusters.
pub fn streaming_reference(docs: &[SynthDoc]) -> (Vec<u64>, Vec<u64>, u64) {
    let bands = docs.iter().map(|d| d.bands.len()).max().unwrap_or(0);
    let mut exact = crate::dedup::ExactDedup::new();
    let params = crate::minhash::MinHashParams {
        bands: bands.max(1),
        rows: 1,
        threshold: THRESHOLD,
        ..Default::default()
    };
    let mut index = crate::minhash::LshIndex::new(&params);
    let (mut ex, mut near) = (Vec::new(), Vec::new());
    for d in docs {
        if exact.insert(d.fp, d.doc_id).is_some() {
            ex.push(d.doc_id);
            continue;
        }
        if let Some(k) = &d.sketch {
            let sk = crate::minhash::Sketch::from_bytes(k);
            if index
                .observe_parts(d.doc_id, &d.bands, sk)
                .expect("an in-memory index does no I/O")
                .is_some()
            {
                near.push(d.doc_id);
            }
        }
    }
    (ex, near, index.clusters())
}
