//! Settings layered as flags > environment > config file > defaults.
//!
//! clap resolves flags and their `SCRUBLINE_*` environment variables into `Option`s; a
//! value still unset is taken from the config file (`--config FILE`, TOML, the same names
//! in snake_case under `[run]`), and then from the defaults here.
//!
//! Relative paths in a config file (`patterns`, `key_file`) are relative to the config
//! file's folder; relative paths in flags and environment variables stay relative to the
//! current directory.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::output::OutCompression;
use crate::pseudonym::Style;

/// Default `--shard-size`: 256 MiB before compression.
pub const DEFAULT_SHARD_SIZE: u64 = 256 << 20;
/// Default `--max-record-bytes`: 64 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: u64 = 64 << 20;
/// Default zstd level.
pub const DEFAULT_ZSTD_LEVEL: i32 = 3;

/// Every environment variable scrubline reads.
pub mod env {
    /// Key material (hex or raw, ≥ 32 bytes) when `--key-file` is not given.
    pub const KEY: &str = "SCRUBLINE_KEY";
    /// `--key-file`.
    pub const KEY_FILE: &str = "SCRUBLINE_KEY_FILE";
    /// `--config`.
    pub const CONFIG: &str = "SCRUBLINE_CONFIG";
    /// `--threads`.
    pub const THREADS: &str = "SCRUBLINE_THREADS";
    /// `--patterns`.
    pub const PATTERNS: &str = "SCRUBLINE_PATTERNS";
    /// `--style`.
    pub const STYLE: &str = "SCRUBLINE_STYLE";
    /// `--compression`.
    pub const COMPRESSION: &str = "SCRUBLINE_COMPRESSION";
    /// `--shard-size`.
    pub const SHARD_SIZE: &str = "SCRUBLINE_SHARD_SIZE";
}

/// The `[run]` table of a config file. Every field is optional.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunFile {
    /// `--field`.
    pub field: Option<Vec<String>>,
    /// `--dedup-field`.
    pub dedup_field: Option<Vec<String>>,
    /// `dedup = false` is `--no-dedup` (`--dedup` turns it back on).
    pub dedup: Option<bool>,
    /// `near_dup = false` is `--no-near-dup` (`--near-dup` turns it back on).
    pub near_dup: Option<bool>,
    /// `--near-dup-threshold`.
    pub near_dup_threshold: Option<f64>,
    /// `--style`.
    pub style: Option<Style>,
    /// `--patterns`; relative to the config file's folder (see [`ConfigFile::read`]).
    pub patterns: Option<PathBuf>,
    /// `--key-file`; relative to the config file's folder (see [`ConfigFile::read`]).
    pub key_file: Option<PathBuf>,
    /// `--shard-size` (`"256MiB"` or a number of bytes).
    #[serde(default, deserialize_with = "shard_size")]
    pub shard_size: Option<ByteSize>,
    /// `--compression`.
    pub compression: Option<OutCompression>,
    /// `--format`.
    pub format: Option<crate::pipeline::OutputFormat>,
    /// `--row-group-rows`.
    pub row_group_rows: Option<usize>,
    /// `--zstd-level`.
    pub zstd_level: Option<i32>,
    /// `--threads`.
    pub threads: Option<usize>,
    /// `--max-record-bytes`.
    #[serde(default, deserialize_with = "max_record_bytes")]
    pub max_record_bytes: Option<ByteSize>,
    /// `--max-rejects` (a count, a ratio such as `0.01`, or `"1%"`).
    #[serde(default, deserialize_with = "max_rejects")]
    pub max_rejects: Option<crate::pipeline::MaxRejects>,
}

fn shard_size<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<ByteSize>, D::Error> {
    size_setting(d, "shard_size")
}

fn max_record_bytes<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<ByteSize>, D::Error> {
    size_setting(d, "max_record_bytes")
}

/// A size setting of the `[run]` table; the error names the key (the file is named by
/// [`ConfigFile::read`]).
fn size_setting<'de, D: serde::Deserializer<'de>>(
    d: D,
    key: &str,
) -> std::result::Result<Option<ByteSize>, D::Error> {
    ByteSize::deserialize(d)
        .map(Some)
        .map_err(|e| serde::de::Error::custom(format!("run.{key}: {e}")))
}

fn max_rejects<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<crate::pipeline::MaxRejects>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        N(u64),
        // A negative count: matched so that it is refused as such, never printed.
        I(#[allow(dead_code)] i64),
        F(f64),
        S(String),
    }
    Ok(Some(match Raw::deserialize(d)? {
        Raw::N(n) => crate::pipeline::MaxRejects::Count(n),
        Raw::I(_) => {
            return Err(serde::de::Error::custom(
                "run.max_rejects: a count cannot be negative",
            ))
        }
        Raw::F(f) => crate::pipeline::MaxRejects::ratio(f)
            .map_err(|e| serde::de::Error::custom(format!("run.max_rejects: {e}")))?,
        Raw::S(s) => s
            .parse()
            .map_err(|e| serde::de::Error::custom(format!("run.max_rejects: {e}")))?,
    }))
}

/// A config file.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Settings of `scrubline run`.
    #[serde(default)]
    pub run: RunFile,
}

impl ConfigFile {
    /// Reads and parses a config file, and resolves its relative paths against the
    /// file's folder, so a config file means the same wherever scrubline is started.
    pub fn read(path: &Path) -> Result<ConfigFile> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut file: ConfigFile = toml::from_str(&text).map_err(|e| {
            let reason = crate::error::toml_reason(&e, &text);
            Error::Config(format!("{}: {reason}", path.display()))
        })?;
        file.run
            .resolve_paths(path.parent().unwrap_or_else(|| Path::new("")));
        Ok(file)
    }
}

impl RunFile {
    /// Makes the relative paths of these settings relative to `base` (the config file's
    /// folder). Absolute paths are kept.
    pub fn resolve_paths(&mut self, base: &Path) {
        for path in [&mut self.patterns, &mut self.key_file]
            .into_iter()
            .flatten()
        {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        }
    }
}

/// A byte count written as a number or with a unit (`512`, `64KiB`, `256MiB`, `1GB`);
/// never zero. Build one with [`ByteSize::new`] (or parse one), which checks that.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// A size of `bytes` bytes; zero is refused (a zero record limit would reject every
    /// record, a zero shard size would write one shard per record).
    pub fn new(bytes: u64) -> std::result::Result<ByteSize, String> {
        if bytes == 0 {
            Err("a size must be greater than 0".to_string())
        } else {
            Ok(ByteSize(bytes))
        }
    }
}

impl std::str::FromStr for ByteSize {
    type Err = String;
    /// Errors never repeat the input: a secret pasted into the wrong setting of a config
    /// file must not reach stderr (clap names a bad flag's value itself).
    fn from_str(s: &str) -> std::result::Result<ByteSize, String> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: u64 = num
            .parse()
            .map_err(|_| "not a size (e.g. 256MiB)".to_string())?;
        let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" => 1_000,
            "kib" => 1 << 10,
            "m" | "mb" => 1_000_000,
            "mib" => 1 << 20,
            "g" | "gb" => 1_000_000_000,
            "gib" => 1 << 30,
            _ => return Err("unknown size unit (use B, KiB, MiB, GiB, KB, MB, GB)".to_string()),
        };
        let bytes = n
            .checked_mul(mult)
            .ok_or_else(|| "out of range".to_string())?;
        ByteSize::new(bytes)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<ByteSize, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => ByteSize::new(n).map_err(serde::de::Error::custom),
            Raw::S(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_do_not_echo_a_pasted_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        let hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        std::fs::write(&path, format!("[run]\nkey = \"{hex}\"\n")).unwrap();
        let err = ConfigFile::read(&path).unwrap_err().to_string();
        assert!(!err.contains(hex), "{err}");
        assert!(err.contains("c.toml") && err.contains("line 2"), "{err}");
    }

    /// A key pasted into any setting, plain, after an escaped quote or as an unknown enum
    /// variant, stays out of the message; the message still names the place.
    #[test]
    fn config_errors_do_not_echo_a_value_in_any_setting() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        let hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        for setting in [
            "shard_size",
            "max_record_bytes",
            "max_rejects",
            "threads",
            "style",
            "compression",
            "field",
        ] {
            for value in [
                format!("\"{hex}\""),
                format!("\"x\\\"{hex}\""),
                format!("\"5{hex}\""),
            ] {
                std::fs::write(&path, format!("[run]\n{setting} = {value}\n")).unwrap();
                let err = ConfigFile::read(&path).unwrap_err().to_string();
                assert!(!err.contains(&hex[..16]), "{setting} = {value}: {err}");
                assert!(err.contains("c.toml") && err.contains("line 2"), "{err}");
            }
        }
    }

    /// An unknown setting or enum value is not repeated, but the names it could have
    /// been are: they are the schema's, not the user's.
    #[test]
    fn config_errors_list_what_was_expected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        let hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let cases = [
            (
                "[run]\nstyle = \"bogus\"\n",
                "expected one of `tag`, `redact`, `surrogate`",
            ),
            ("[run]\nbogus_setting = 1\n", "`shard_size`"),
            ("stray = 1\n", "expected `run`"),
        ];
        for (text, want) in cases {
            std::fs::write(&path, text).unwrap();
            let err = ConfigFile::read(&path).unwrap_err().to_string();
            assert!(
                err.contains(want) && !err.contains("bogus") && !err.contains("stray"),
                "{err}"
            );
        }
        // A value that imitates the list gets no list at all.
        for value in [
            format!("\"{hex}, expected one of `a`\""),
            format!("\"x`, expected `{hex}\""),
            format!("\"x\", expected one of `{hex}`\""),
        ] {
            std::fs::write(&path, format!("[run]\nstyle = {value}\n")).unwrap();
            let err = ConfigFile::read(&path).unwrap_err().to_string();
            assert!(!err.contains(&hex[..16]), "{value}: {err}");
            std::fs::write(&path, format!("[run]\n\"{hex}, expected `a`\" = 1\n")).unwrap();
            let err = ConfigFile::read(&path).unwrap_err().to_string();
            assert!(!err.contains(&hex[..16]), "{err}");
        }
    }

    #[test]
    fn byte_sizes() {
        assert_eq!("256MiB".parse::<ByteSize>().unwrap().0, 256 << 20);
        assert_eq!("1GB".parse::<ByteSize>().unwrap().0, 1_000_000_000);
        assert_eq!("42".parse::<ByteSize>().unwrap().0, 42);
        assert!("0".parse::<ByteSize>().is_err());
        assert!("12 parsecs".parse::<ByteSize>().is_err());
    }

    #[test]
    fn config_file_parses() {
        let c: ConfigFile = toml::from_str(
            "[run]\nfield = [\"text\"]\nshard_size = \"1MiB\"\nstyle = \"redact\"\ndedup = false\n",
        )
        .unwrap();
        assert_eq!(c.run.shard_size, Some(ByteSize(1 << 20)));
        assert_eq!(c.run.style, Some(Style::Redact));
        assert!(toml::from_str::<ConfigFile>("[run]\nbogus = 1\n").is_err());
    }

    #[test]
    fn max_rejects_in_config_is_range_checked() {
        use crate::pipeline::MaxRejects;
        let parse = |v: &str| toml::from_str::<ConfigFile>(&format!("[run]\nmax_rejects = {v}\n"));
        assert_eq!(
            parse("10").unwrap().run.max_rejects,
            Some(MaxRejects::Count(10))
        );
        assert_eq!(
            parse("0.25").unwrap().run.max_rejects,
            Some(MaxRejects::Ratio(0.25))
        );
        assert_eq!(
            parse("1.0").unwrap().run.max_rejects,
            Some(MaxRejects::Ratio(1.0))
        );
        assert_eq!(
            parse("0.0").unwrap().run.max_rejects,
            Some(MaxRejects::Ratio(0.0))
        );
        assert_eq!(
            parse("\"1%\"").unwrap().run.max_rejects,
            Some(MaxRejects::Ratio(0.01))
        );
        assert_eq!(
            parse("\"100%\"").unwrap().run.max_rejects,
            Some(MaxRejects::Ratio(1.0))
        );
        for bad in [
            "5.0", "-0.5", "1.5", "nan", "inf", "-1", "\"150%\"", "\"-1%\"", "\"5.0\"",
        ] {
            let err = parse(bad).unwrap_err().to_string();
            assert!(err.contains("run.max_rejects"), "{bad}: {err}");
        }
    }

    #[test]
    fn relative_paths_are_resolved_against_the_config_folder() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("conf");
        std::fs::create_dir(&conf).unwrap();
        let abs = dir.path().join("abs.key");
        let path = conf.join("c.toml");
        std::fs::write(
            &path,
            "[run]\nkey_file = \"keys/a.key\"\npatterns = \"../rules\"\n",
        )
        .unwrap();
        let run = ConfigFile::read(&path).unwrap().run;
        assert_eq!(run.key_file, Some(conf.join("keys/a.key")));
        assert_eq!(run.patterns, Some(conf.join("../rules")));

        let mut run = RunFile {
            key_file: Some(abs.clone()),
            patterns: None,
            ..RunFile::default()
        };
        run.resolve_paths(&conf);
        assert_eq!(run.key_file, Some(abs), "absolute paths are kept");
        assert_eq!(run.patterns, None);

        // A config file named without a folder: its paths stay relative to the current
        // directory, which is its folder.
        let mut run = RunFile {
            key_file: Some(PathBuf::from("a.key")),
            ..RunFile::default()
        };
        run.resolve_paths(Path::new("c.toml").parent().unwrap());
        assert_eq!(run.key_file, Some(PathBuf::from("a.key")));
    }

    #[test]
    fn byte_size_new_refuses_zero() {
        assert!(ByteSize::new(0).is_err());
        assert_eq!(ByteSize::new(1), Ok(ByteSize(1)));
    }

    #[test]
    fn zero_size_in_config_is_refused_naming_key_and_file() {
        let dir = tempfile::tempdir().unwrap();
        for key in ["shard_size", "max_record_bytes"] {
            for value in ["0", "\"0\"", "\"0MiB\""] {
                let path = dir.path().join("zero.toml");
                std::fs::write(&path, format!("[run]\n{key} = {value}\n")).unwrap();
                let err = ConfigFile::read(&path).unwrap_err().to_string();
                assert!(
                    err.contains(&format!("run.{key}")),
                    "{key} = {value}: {err}"
                );
                assert!(err.contains("greater than 0"), "{key} = {value}: {err}");
                assert!(err.contains("zero.toml"), "{key} = {value}: {err}");
            }
            let c: ConfigFile = toml::from_str(&format!("[run]\n{key} = 1\n")).unwrap();
            assert_eq!(
                c.run.shard_size.or(c.run.max_record_bytes),
                Some(ByteSize(1))
            );
        }
    }
}
