//! Writes a synthetic ranked run (shards, docs/sig tables, rank manifests) with controlled
//! exact and near collisions, for the Spark cross-check of the candidate stage
//! (`tests/spark/run.sh`).
//!
//! `cargo run --example scaleout_synth -- DIR WORLD FILES PER_FILE BANDS SEED`

use scrubline::output::OutCompression;
use scrubline::rules::RuleSet;
use scrubline::scaleout::testkit::{synth_docs, write_rank};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 6 {
        return Err("usage: scaleout_synth DIR WORLD FILES PER_FILE BANDS SEED".into());
    }
    let dir = std::path::PathBuf::from(&args[0]);
    let world: u32 = args[1].parse()?;
    let files: u32 = args[2].parse()?;
    let per_file: u32 = args[3].parse()?;
    let bands: usize = args[4].parse()?;
    let seed: u64 = args[5].parse()?;
    let rules = RuleSet::builtin()?;
    let docs = synth_docs(files, per_file, bands, rules.rules().len() as u32, seed);
    for r in 0..world {
        write_rank(&dir, r, world, &docs, 1000, OutCompression::Zstd, &rules)?;
    }
    eprintln!(
        "{} records in {world} rank(s) under {}",
        docs.len(),
        dir.display()
    );
    Ok(())
}
