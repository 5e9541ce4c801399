//! Command-line interface: clap types, settings resolution and the commands. The only
//! module (with `main.rs`) that uses `anyhow`; messages name paths and causes, never values.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::output::OutCompression;
use crate::pipeline::{self, RunConfig, Runtime};
use crate::pseudonym::{Key, Style};
use crate::rules::RuleSet;
use crate::settings::{self, env, ByteSize, ConfigFile};

/// Exit status of a run that finished but set records aside.
pub const EXIT_REJECTS: u8 = 3;

/// scrubline: make text corpora safe to train language models on.
#[derive(Debug, Parser)]
#[command(name = "scrubline", version, about, long_about = None)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scrub a corpus: detect, pseudonymize, deduplicate, write shards and a manifest.
    Run(Box<RunArgs>),
    /// Inspect the detection rules.
    #[command(subcommand)]
    Patterns(PatternsCommand),
    /// Print the detections in a text (an argument, or stdin) as JSON lines: entity type,
    /// rule id and character offsets, never the value. For testing rules.
    Detect(DetectArgs),
    /// Measure detection quality on a labeled corpus: per-type precision, recall and F1, and
    /// the share of hard negatives altered.
    Eval(EvalArgs),
    /// Check an output folder against its manifest: hashes, sizes, record counts, missing
    /// and extra files. Exits 1 on any mismatch.
    Verify(VerifyArgs),
    /// Resolve the input listing once into a plan file that every rank reads.
    Plan(PlanArgs),
    /// Global deduplication stages over the Parquet tables of a ranked run.
    #[command(subcommand)]
    Dedup(DedupCommand),
    /// Run manifests of ranked runs.
    #[command(subcommand)]
    Manifest(ManifestCommand),
}

/// `scrubline plan`
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Input file or folder (walked recursively in sorted order); repeatable.
    #[arg(long, short, required = true, num_args = 1.., value_name = "PATH")]
    pub input: Vec<PathBuf>,
    /// The plan file to write (JSON).
    #[arg(long, short, value_name = "PLAN")]
    pub output: PathBuf,
}

/// Rank and world size of a task; see `scaleout::rank` for the environment fallbacks
/// (SCRUBLINE_RANK, SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, RANK).
#[derive(Debug, Args)]
pub struct RankArgs {
    /// This task's rank (partition), 0-based.
    #[arg(long, value_name = "R")]
    pub rank: Option<u32>,
    /// Number of ranks (partitions).
    #[arg(long, value_name = "W")]
    pub world_size: Option<u32>,
    /// Added to the rank taken from the environment (Slurm arrays beyond MaxArraySize).
    #[arg(long, value_name = "N")]
    pub rank_offset: Option<u32>,
}

/// `scrubline dedup …`
#[derive(Debug, Subcommand)]
pub enum DedupCommand {
    /// Duplicate edges of one hash partition (of W2; any W2, as many tasks as you like).
    Candidates(DedupRankArgs),
    /// Union-find over all edges (one task): which records each rank drops.
    Cluster(DedupDirArgs),
    /// Drop a rank's duplicates: final shards and manifest under DIR/final.
    Filter(DedupFilterArgs),
}

/// A run folder.
#[derive(Debug, Args)]
pub struct DedupDirArgs {
    /// The output folder of the ranked run.
    pub dir: PathBuf,
}

/// A run folder and a partition.
#[derive(Debug, Args)]
pub struct DedupRankArgs {
    /// The output folder of the ranked run.
    pub dir: PathBuf,
    /// Partition and partition count.
    #[command(flatten)]
    pub rank: RankArgs,
}

/// `scrubline dedup filter`
#[derive(Debug, Args)]
pub struct DedupFilterArgs {
    /// The output folder of the ranked run.
    pub dir: PathBuf,
    /// The run rank to filter (the world size defaults to the run's).
    #[command(flatten)]
    pub rank: RankArgs,
    /// Rule folder the run used instead of the built-in rules.
    #[arg(long, env = env::PATTERNS, value_name = "DIR")]
    pub patterns: Option<PathBuf>,
}

/// `scrubline manifest …`
#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// Fold the per-rank manifests (DIR/final/_manifest, else DIR/_manifest) into one.
    Merge(DedupDirArgs),
}

/// `scrubline verify`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The output folder of a run.
    pub dir: PathBuf,
    /// Also run the detectors over the output and report residual detections per type.
    #[arg(long)]
    pub rescan: bool,
    /// Rule folder for --rescan instead of the built-in rules.
    #[arg(long, env = env::PATTERNS, value_name = "DIR")]
    pub patterns: Option<PathBuf>,
}

/// `scrubline patterns …`
#[derive(Debug, Subcommand)]
pub enum PatternsCommand {
    /// List every rule: id, entity type, description.
    List(PatternsArgs),
    /// Compile every rule, run its examples and negative examples, and check the set
    /// compiles together. Exits 1 on any failure.
    Check(PatternsArgs),
}

/// `scrubline detect`
#[derive(Debug, Args)]
pub struct DetectArgs {
    /// The text, its words joined with spaces; read from stdin when absent. Everything
    /// after the first word is text, even when it starts with `-` (a PEM block), so that
    /// no text ends up quoted in an argument error.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub text: Vec<String>,
    /// Rule folder instead of the built-in rules.
    #[arg(long, env = env::PATTERNS, value_name = "DIR")]
    pub patterns: Option<PathBuf>,
}

/// `scrubline eval`
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Labeled corpus files (`.jsonl`) or folders of them [default: fixtures/eval].
    pub paths: Vec<PathBuf>,
    /// Rule folder instead of the built-in rules.
    #[arg(long, env = env::PATTERNS, value_name = "DIR")]
    pub patterns: Option<PathBuf>,
}

/// Where the rules come from.
#[derive(Debug, Args)]
pub struct PatternsArgs {
    /// Rule folder to use instead of the built-in rules (every *.toml below it).
    #[arg(long, env = env::PATTERNS, value_name = "DIR")]
    pub patterns: Option<PathBuf>,
}

/// `scrubline run`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Input file or folder (walked recursively in sorted order); repeatable.
    #[arg(long, short, required_unless_present = "plan", num_args = 1.., value_name = "PATH")]
    pub input: Vec<PathBuf>,
    /// Run one rank of a partitioned run over this plan (`scrubline plan`): rank-named
    /// shards, docs/sig tables for `scrubline dedup`, no in-run deduplication.
    #[arg(long, value_name = "PLAN", conflicts_with = "input")]
    pub plan: Option<PathBuf>,
    /// Rank and world size with --plan (else from the environment).
    #[command(flatten)]
    pub rank: RankArgs,
    /// Output folder for shards, manifest and rejects.
    #[arg(long, short, value_name = "DIR")]
    pub output: PathBuf,
    /// Scan only these fields (`text`, `meta.author`, `messages[*].content`); repeatable.
    /// Default: every string value.
    #[arg(long = "field", value_name = "SELECTOR")]
    pub fields: Vec<String>,
    /// Fields that make a record's content for deduplication; repeatable. Default: `text`
    /// when the record has it, else `messages[*].content`, else every scanned string.
    #[arg(long = "dedup-field", value_name = "SELECTOR")]
    pub dedup_fields: Vec<String>,
    /// Keep exact duplicates.
    #[arg(long, overrides_with = "dedup")]
    pub no_dedup: bool,
    /// Remove exact duplicates (the default; overrides `dedup = false` in the config file
    /// and an earlier --no-dedup).
    #[arg(long, overrides_with = "no_dedup")]
    pub dedup: bool,
    /// Keep near-duplicates (MinHash LSH removal is on by default).
    #[arg(long, overrides_with = "near_dup")]
    pub no_near_dup: bool,
    /// Remove near-duplicates (the default; overrides `near_dup = false` in the config
    /// file and an earlier --no-near-dup).
    #[arg(long, overrides_with = "no_near_dup")]
    pub near_dup: bool,
    /// Estimated Jaccard similarity at or above which a record is a near-duplicate of an
    /// earlier one [default: 0.75].
    #[arg(long, value_name = "J")]
    pub near_dup_threshold: Option<f64>,
    /// Write one JSON line per removed duplicate: its location, its survivor's location and
    /// the estimated similarity (no text).
    #[arg(long, value_name = "FILE")]
    pub dedup_report: Option<PathBuf>,
    /// Replacement style: `tag` (`<EMAIL_5f2c9a1e7b3d4c60>`) or `redact` (`<EMAIL>`).
    #[arg(long, value_enum, env = env::STYLE)]
    pub style: Option<Style>,
    /// File holding the key (≥ 32 bytes, hex or raw). Else `SCRUBLINE_KEY`; else a random
    /// key for this run only.
    #[arg(long, env = env::KEY_FILE, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Rule folder instead of the built-in rules.
    #[arg(long, env = env::PATTERNS, value_name = "DIR")]
    pub patterns: Option<PathBuf>,
    /// Close a shard after this many uncompressed bytes [default: 256MiB].
    #[arg(long, env = env::SHARD_SIZE, value_name = "SIZE")]
    pub shard_size: Option<ByteSize>,
    /// Output format [default: the inputs' format: parquet when every input is Parquet,
    /// else jsonl].
    #[arg(long, value_enum)]
    pub format: Option<crate::pipeline::OutputFormat>,
    /// Most rows in a Parquet row group [default: 65536].
    #[arg(long, value_name = "N")]
    pub row_group_rows: Option<usize>,
    /// Shard compression for JSONL [default: zstd].
    #[arg(long, value_enum, env = env::COMPRESSION)]
    pub compression: Option<OutCompression>,
    /// zstd level [default: 3].
    #[arg(long, value_name = "N")]
    pub zstd_level: Option<i32>,
    /// Records longer than this are set aside [default: 64MiB].
    #[arg(long, value_name = "SIZE")]
    pub max_record_bytes: Option<ByteSize>,
    /// Worker threads [default: all cores]. Does not change the output.
    #[arg(long, short = 'j', env = env::THREADS, value_name = "N")]
    pub threads: Option<usize>,
    /// Replace the output of a previous run in the output folder.
    #[arg(long, conflicts_with = "resume")]
    pub overwrite: bool,
    /// Continue an interrupted run in the output folder (same inputs, configuration and
    /// key, checked against what it saved). The result is byte-identical to an
    /// uninterrupted run. On a complete run it does nothing.
    #[arg(long)]
    pub resume: bool,
    /// Fail the run when more records than this are set aside: a count (`100`), a ratio
    /// (`0.01`) or a percentage (`1%`) of the records read.
    #[arg(long, value_name = "N|RATIO")]
    pub max_rejects: Option<crate::pipeline::MaxRejects>,
    /// Input bytes per batch of work, JSONL lines or decoded Parquet rows (affects
    /// compression frames and row groups, so part of the configuration). For tests.
    #[arg(long, hide = true, value_name = "SIZE")]
    pub batch_bytes: Option<ByteSize>,
    /// No progress line and no summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// Config file (TOML, `[run]` table with the flags' names in snake_case). Relative
    /// paths in it are relative to its folder.
    #[arg(long, env = env::CONFIG, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("scrubline: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run(*args),
        Command::Verify(args) => verify(&args),
        Command::Plan(args) => {
            let plan = crate::scaleout::plan::Plan::build(&args.input)?;
            plan.write(&args.output)
                .with_context(|| format!("writing {}", args.output.display()))?;
            eprintln!(
                "scrubline: plan of {} file(s) written to {}",
                plan.files.len(),
                args.output.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Dedup(cmd) => dedup(cmd),
        Command::Manifest(ManifestCommand::Merge(args)) => {
            let (m, out) = crate::scaleout::merge::merge(&args.dir)
                .with_context(|| format!("merging the manifests of {}", args.dir.display()))?;
            eprintln!(
                "scrubline: merged {} output(s), {} records out; manifest: {}",
                m.outputs.len(),
                m.totals.records_out,
                out.join(crate::manifest::FILE_NAME).display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Patterns(PatternsCommand::List(args)) => {
            let rules = load_rules(args.patterns.as_deref())?;
            print_out(&crate::rules::check::list(&rules))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Patterns(PatternsCommand::Check(args)) => {
            let rules = load_rules(args.patterns.as_deref())?;
            let report = crate::rules::check::check(&rules);
            print_out(&with_newline(report.to_string()))?;
            Ok(if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Detect(args) => {
            let rules = load_rules(args.patterns.as_deref())?;
            let detector = crate::detect::Detector::new(&rules)?;
            let text = if args.text.is_empty() {
                let mut t = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut t)
                    .context("reading stdin")?;
                t
            } else {
                args.text.join(" ")
            };
            print_out(&detector.json_lines(&text))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval(args) => {
            let rules = load_rules(args.patterns.as_deref())?;
            let detector = crate::detect::Detector::new(&rules)?;
            let paths = if args.paths.is_empty() {
                vec![PathBuf::from("fixtures/eval")]
            } else {
                args.paths
            };
            let mut docs = Vec::new();
            for p in &paths {
                if p.is_dir() {
                    docs.extend(crate::eval::load_dir(p)?);
                } else {
                    let text = std::fs::read_to_string(p)
                        .with_context(|| format!("reading {}", p.display()))?;
                    docs.extend(crate::eval::parse_jsonl(&p.display().to_string(), &text)?);
                }
            }
            let report = crate::eval::evaluate(&docs, &detector);
            print_out(&with_newline(report.to_string()))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn resolve(args: &RankArgs, default_world: Option<u32>) -> Result<(u32, u32)> {
    use crate::scaleout::rank;
    let (r, w, _) = rank::resolve_rank_from(
        args.rank,
        args.world_size.or(default_world),
        args.rank_offset,
        &rank::process_env,
    )?;
    Ok((r, w))
}

fn dedup(cmd: DedupCommand) -> Result<ExitCode> {
    use crate::scaleout::{candidates, cluster, filter};
    match cmd {
        DedupCommand::Candidates(a) => {
            let (p, w) = resolve(&a.rank, None)?;
            let r = candidates::candidates(&a.dir, p, w)
                .with_context(|| format!("dedup candidates {p}/{w} in {}", a.dir.display()))?;
            eprintln!("scrubline: {}", serde_json::to_string(&r)?);
        }
        DedupCommand::Cluster(a) => {
            let r = cluster::cluster(&a.dir)
                .with_context(|| format!("dedup cluster in {}", a.dir.display()))?;
            eprintln!(
                "scrubline: {} edges, {} clusters, {} exact and {} near duplicates removed{}",
                r.edges,
                r.clusters,
                r.exact_removed,
                r.near_removed,
                if r.skipped { " (already done)" } else { "" }
            );
        }
        DedupCommand::Filter(a) => {
            let (world, _) = candidates::run_tables(&a.dir)
                .with_context(|| format!("reading the run in {}", a.dir.display()))?;
            if let Some(w) = a.rank.world_size.filter(|&w| w != world) {
                bail!("--world-size {w} differs from the run's world size {world}");
            }
            let (r, _) = resolve(&a.rank, Some(world))?;
            let rules = load_rules(a.patterns.as_deref())?;
            let rep = filter::filter(&a.dir, r, &rules)
                .with_context(|| format!("dedup filter rank {r} in {}", a.dir.display()))?;
            eprintln!("scrubline: {}", serde_json::to_string(&rep)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(args: &VerifyArgs) -> Result<ExitCode> {
    let scrubber = if args.rescan {
        let rules = load_rules(args.patterns.as_deref())?;
        let detector = crate::detect::Detector::new(&rules)?;
        // Rescanning only finds; the key is never used, so any key will do.
        let key = Key::random()?;
        Some(crate::scrub::Scrubber::new(
            detector,
            crate::pseudonym::Pseudonymizer::new(&key, Style::Tag),
        ))
    } else {
        None
    };
    let report = crate::verify::verify(&args.dir, scrubber.as_ref())
        .with_context(|| format!("verifying {}", args.dir.display()))?;
    println!("{report}");
    let residual = report.residual.as_ref().is_some_and(|r| !r.is_empty());
    Ok(if report.is_clean() && !residual {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `text`, ending in exactly one newline.
fn with_newline(mut text: String) -> String {
    while text.ends_with('\n') {
        text.pop();
    }
    text.push('\n');
    text
}

/// Writes to stdout; a closed pipe ends the command quietly (see `main`).
fn print_out(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Loads the built-in rules or those of `dir`.
pub fn load_rules(dir: Option<&std::path::Path>) -> Result<RuleSet> {
    Ok(match dir {
        Some(d) => {
            RuleSet::from_dir(d).with_context(|| format!("loading rules from {}", d.display()))?
        }
        None => RuleSet::builtin().context("loading the built-in rules")?,
    })
}

/// Resolves the key: `--key-file`/`SCRUBLINE_KEY_FILE`, then `SCRUBLINE_KEY`, then the
/// config file's `key_file`, else a random key (with a warning).
fn resolve_key(flag: Option<PathBuf>, file_setting: Option<PathBuf>, quiet: bool) -> Result<Key> {
    if let Some(path) = flag {
        return read_key_file(&path);
    }
    if let Some(material) = std::env::var_os(env::KEY) {
        return Key::from_material(material.as_encoded_bytes())
            .with_context(|| format!("reading the key from {}", env::KEY));
    }
    if let Some(path) = file_setting {
        return read_key_file(&path);
    }
    if !quiet {
        eprintln!(
            "scrubline: warning: no --key-file or {} given; using a random key for this run. \
             Its pseudonyms will not match those of any other run.",
            env::KEY
        );
    }
    Ok(Key::random()?)
}

fn read_key_file(path: &std::path::Path) -> Result<Key> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading key file {}", key_path(path)))?;
    Key::from_material(&bytes).with_context(|| format!("key file {}", path.display()))
}

/// The key file's path for an error message, unless it looks like the key itself (a long
/// run of hex or base64 with no folder or extension): pasting the key where its path
/// belongs is an easy slip, and the error must not print it.
fn key_path(path: &std::path::Path) -> String {
    let s = path.to_string_lossy();
    let key_like = s.chars().count() >= 24
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '=' | '_' | '-'));
    if key_like {
        format!(
            "(a name of {} characters that looks like key material, not shown: --key-file \
             takes the path of a file that holds the key)",
            s.chars().count()
        )
    } else {
        path.display().to_string()
    }
}

fn run(args: RunArgs) -> Result<ExitCode> {
    let file = match &args.config {
        Some(p) => ConfigFile::read(p)?.run,
        None => settings::RunFile::default(),
    };
    let patterns = args.patterns.clone().or(file.patterns.clone());
    let rules = load_rules(patterns.as_deref())?;
    let cfg = RunConfig {
        inputs: args.input.clone(),
        fields: pick_vec(args.fields, file.field),
        dedup: on_off(args.dedup, args.no_dedup)
            .or(file.dedup)
            .unwrap_or(true),
        near_dup: on_off(args.near_dup, args.no_near_dup)
            .or(file.near_dup)
            .unwrap_or(true),
        near_dup_threshold: args
            .near_dup_threshold
            .or(file.near_dup_threshold)
            .unwrap_or(crate::minhash::MinHashParams::default().threshold),
        near_dup_scheme: String::new(),
        dedup_fields: pick_vec(args.dedup_fields, file.dedup_field),
        style: args.style.or(file.style).unwrap_or_default(),
        patterns: patterns.map_or_else(|| "builtin".to_string(), |p| p.display().to_string()),
        shard_size: args
            .shard_size
            .or(file.shard_size)
            .map_or(settings::DEFAULT_SHARD_SIZE, |b| b.0),
        compression: args.compression.or(file.compression).unwrap_or_default(),
        zstd_level: args
            .zstd_level
            .or(file.zstd_level)
            .unwrap_or(settings::DEFAULT_ZSTD_LEVEL),
        format: args.format.or(file.format),
        row_group_rows: args
            .row_group_rows
            .or(file.row_group_rows)
            .unwrap_or(crate::columnar::WriterOptions::default().max_row_group_rows),
        max_record_bytes: args
            .max_record_bytes
            .or(file.max_record_bytes)
            .map_or(settings::DEFAULT_MAX_RECORD_BYTES, |b| b.0),
        batch_bytes: args
            .batch_bytes
            .map_or(pipeline::BATCH_BYTES as u64, |b| b.0),
    };
    if !(1..=22).contains(&cfg.zstd_level) {
        bail!("--zstd-level must be between 1 and 22");
    }
    if !(0.0..=1.0).contains(&cfg.near_dup_threshold) || cfg.near_dup_threshold == 0.0 {
        bail!("--near-dup-threshold must be in (0, 1]");
    }
    let mut cfg = cfg;
    if cfg.near_dup {
        cfg.near_dup_scheme = pipeline::minhash_params(&cfg).scheme_id();
    }
    let threads = args
        .threads
        .or(file.threads)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let rt = Runtime {
        threads,
        progress: !args.quiet && std::io::stderr().is_terminal(),
        overwrite: args.overwrite,
        resume: args.resume,
        max_rejects: args.max_rejects.or(file.max_rejects),
    };
    let key = resolve_key(args.key_file, file.key_file, args.quiet)?;
    let (files, partition, sink) = match &args.plan {
        None => {
            if args.rank.rank.is_some() || args.rank.world_size.is_some() {
                bail!("--rank and --world-size need --plan");
            }
            (None, None, None)
        }
        Some(plan_path) => {
            let plan = crate::scaleout::plan::Plan::read(plan_path)?;
            let (rank, world) = resolve(&args.rank, None)?;
            let part = pipeline::Partition {
                rank,
                world_size: world,
            };
            cfg.inputs = plan.inputs.clone();
            let done = crate::scaleout::rank_manifest_path(&args.output, rank).exists();
            let sink: Option<Box<dyn crate::sink::RecordSink>> = if done {
                None
            } else {
                let params = pipeline::minhash_params(&cfg);
                let near = cfg.near_dup;
                let opts = crate::scaleout::sigs::SigOptions {
                    world,
                    key_fingerprint: key.fingerprint(),
                    near: near.then(|| params.scheme_id()),
                    near_threshold: near.then_some(cfg.near_dup_threshold),
                    skip_exact: !cfg.dedup,
                    extra: Vec::new(),
                };
                Some(Box::new(crate::scaleout::sigs::SigSink::create(
                    &args.output,
                    rank,
                    &opts,
                )?))
            };
            (Some(plan.shard_of(rank, world)), Some(part), sink)
        }
    };
    let m = pipeline::run(pipeline::Job {
        cfg: &cfg,
        rt: &rt,
        rules: &rules,
        key: &key,
        out_dir: &args.output,
        files,
        partition,
        sink,
        dedup_report: args.dedup_report.clone(),
    })?;
    let t = &m.totals;
    // A rank writes its own manifest and rejects file (see Partition).
    let manifest_rel = m.partition.as_ref().map_or_else(
        || crate::manifest::FILE_NAME.to_string(),
        pipeline::Partition::manifest_rel,
    );
    let rejects_name = pipeline::rejects_name(m.partition.as_ref());
    if !args.quiet {
        eprintln!(
            "scrubline: {} records in, {} out, {} duplicates removed, {} rejected; {} values replaced; manifest: {}",
            t.records_in,
            t.records_out,
            t.duplicates_removed + t.near_duplicates_removed,
            t.records_rejected,
            t.detections_by_type.values().sum::<u64>(),
            args.output.join(&manifest_rel).display()
        );
        if m.rejects.records > 0 {
            eprintln!(
                "scrubline: {} reject(s) set aside; see {} (the run was not clean)",
                m.rejects.records,
                args.output.join("rejects").join(&rejects_name).display()
            );
        }
    }
    // File-level rejects (an empty or truncated file) count too: the run was not clean.
    Ok(if m.rejects.records > 0 {
        ExitCode::from(EXIT_REJECTS)
    } else {
        ExitCode::SUCCESS
    })
}

/// A `--x`/`--no-x` pair (clap keeps only the last one given): `Some` when either was
/// given, so it overrides the config file.
fn on_off(on: bool, off: bool) -> Option<bool> {
    match (on, off) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

fn pick_vec(flag: Vec<String>, file: Option<Vec<String>>) -> Vec<String> {
    if flag.is_empty() {
        file.unwrap_or_default()
    } else {
        flag
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_args(extra: &[&str]) -> RunArgs {
        let mut argv = vec!["scrubline", "run", "-i", "in", "-o", "out"];
        argv.extend_from_slice(extra);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Run(a) => *a,
            _ => unreachable!(),
        }
    }

    #[test]
    fn dedup_flags_override_each_other_the_last_wins() {
        let pair = |extra: &[&str]| {
            let a = run_args(extra);
            (
                on_off(a.dedup, a.no_dedup),
                on_off(a.near_dup, a.no_near_dup),
            )
        };
        assert_eq!(pair(&[]), (None, None));
        assert_eq!(pair(&["--dedup", "--near-dup"]), (Some(true), Some(true)));
        assert_eq!(
            pair(&["--no-dedup", "--no-near-dup"]),
            (Some(false), Some(false))
        );
        assert_eq!(pair(&["--no-dedup", "--dedup"]), (Some(true), None));
        assert_eq!(pair(&["--dedup", "--no-dedup"]), (Some(false), None));
        assert_eq!(pair(&["--no-near-dup", "--near-dup"]), (None, Some(true)));
        assert_eq!(pair(&["--near-dup", "--no-near-dup"]), (None, Some(false)));
    }
}
