//! Which rank am I, of how many? From flags, else from what the scheduler exports.
//!
//! Order (the first source that gives a rank wins; the world size comes from `--world-size`
//! when given, else from the same source):
//!
//! 1. `--rank` (world: `--world-size`, else `SCRUBLINE_WORLD_SIZE`);
//! 2. `SCRUBLINE_RANK` / `SCRUBLINE_WORLD_SIZE`;
//! 3. Slurm job arrays: `SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN` (min defaults to 0)
//!    with `SLURM_ARRAY_TASK_COUNT`;
//! 4. Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX`; Kubernetes does not export the
//!    completion count, so `--world-size` (or `SCRUBLINE_WORLD_SIZE`) is required;
//! 5. torchrun style: `RANK` / `WORLD_SIZE`;
//! 6. default: rank 0 of 1.
//!
//! Then `--rank-offset` (else `SCRUBLINE_RANK_OFFSET`) is added to the rank, as datatrove's
//! `RUN_OFFSET`, so a world larger than Slurm's `MaxArraySize` (1001 by default) runs as
//! several arrays: `--rank-offset 1000 --world-size 2500` on the second. With an offset the
//! world size must be given explicitly (an array's task count is not the world size).
//! Finally `rank < world` is checked.

use crate::error::{Error, Result};

/// Environment variables read, in the order of the module docs.
pub mod env {
    /// Explicit rank.
    pub const RANK: &str = "SCRUBLINE_RANK";
    /// Explicit world size.
    pub const WORLD_SIZE: &str = "SCRUBLINE_WORLD_SIZE";
    /// Added to the resolved rank.
    pub const RANK_OFFSET: &str = "SCRUBLINE_RANK_OFFSET";
    /// Slurm array task id.
    pub const SLURM_ID: &str = "SLURM_ARRAY_TASK_ID";
    /// Slurm array lowest task id.
    pub const SLURM_MIN: &str = "SLURM_ARRAY_TASK_MIN";
    /// Slurm array task count.
    pub const SLURM_COUNT: &str = "SLURM_ARRAY_TASK_COUNT";
    /// Kubernetes Indexed Job index.
    pub const K8S_INDEX: &str = "JOB_COMPLETION_INDEX";
    /// torchrun rank.
    pub const TORCH_RANK: &str = "RANK";
    /// torchrun world size.
    pub const TORCH_WORLD: &str = "WORLD_SIZE";
}

/// Where the rank came from (for log lines).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RankSource {
    /// `--rank`.
    Flag,
    /// `SCRUBLINE_RANK`.
    Scrubline,
    /// `SLURM_ARRAY_TASK_ID`.
    Slurm,
    /// `JOB_COMPLETION_INDEX`.
    Kubernetes,
    /// `RANK`.
    Torch,
    /// Nothing set: 0 of 1.
    Default,
}

/// [`resolve_rank_from`] without the offset and source: `(rank, world)`.
pub fn resolve_rank(
    flag_rank: Option<u32>,
    flag_world: Option<u32>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(u32, u32)> {
    resolve_rank_from(flag_rank, flag_world, None, env).map(|(r, w, _)| (r, w))
}

/// The process environment, for [`resolve_rank`].
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Resolves `(rank, world, source)` as the [module docs](self) say.
pub fn resolve_rank_from(
    flag_rank: Option<u32>,
    flag_world: Option<u32>,
    flag_offset: Option<u32>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(u32, u32, RankSource)> {
    let num =
        |name: &str| -> Result<Option<u32>> {
            match env(name) {
                None => Ok(None),
                Some(v) => v.trim().parse::<u32>().map(Some).map_err(|_| {
                    Error::Config(format!("{name}={v:?} is not a non-negative integer"))
                }),
            }
        };
    let explicit_world = match flag_world {
        Some(w) => Some(w),
        None => num(env::WORLD_SIZE)?,
    };
    let (rank, source_world, source) = if let Some(r) = flag_rank {
        (r, None, RankSource::Flag)
    } else if let Some(r) = num(env::RANK)? {
        (r, None, RankSource::Scrubline)
    } else if let Some(id) = num(env::SLURM_ID)? {
        let min = num(env::SLURM_MIN)?.unwrap_or(0);
        let r = id.checked_sub(min).ok_or_else(|| {
            Error::Config(format!(
                "{}={id} is below {}={min}",
                env::SLURM_ID,
                env::SLURM_MIN
            ))
        })?;
        (r, num(env::SLURM_COUNT)?, RankSource::Slurm)
    } else if let Some(i) = num(env::K8S_INDEX)? {
        (i, None, RankSource::Kubernetes)
    } else if let Some(r) = num(env::TORCH_RANK)? {
        (r, num(env::TORCH_WORLD)?, RankSource::Torch)
    } else {
        (0, Some(1), RankSource::Default)
    };
    let offset = match flag_offset {
        Some(o) => o,
        None => num(env::RANK_OFFSET)?.unwrap_or(0),
    };
    let world =
        match (explicit_world, source_world) {
            (Some(w), _) => w,
            (None, Some(w)) if offset == 0 || source == RankSource::Default => w,
            (None, Some(_)) => return Err(Error::Config(
                "with a rank offset, give the world size (--world-size or SCRUBLINE_WORLD_SIZE)"
                    .into(),
            )),
            (None, None) => {
                let hint = match source {
                    RankSource::Kubernetes => {
                        " (Kubernetes does not export the completion count: pass --world-size)"
                    }
                    _ => "",
                };
                return Err(Error::Config(format!(
                    "a rank was given but no world size: pass --world-size{hint}"
                )));
            }
        };
    let rank = rank
        .checked_add(offset)
        .ok_or_else(|| Error::Config("rank + offset overflows".into()))?;
    if world == 0 {
        return Err(Error::Config("the world size must be at least 1".into()));
    }
    if rank >= world {
        return Err(Error::Config(format!(
            "rank {rank} is not below the world size {world}"
        )));
    }
    Ok((rank, world, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    #[test]
    fn default_is_zero_of_one() {
        assert_eq!(resolve_rank(None, None, &env_of(&[])).unwrap(), (0, 1));
    }

    #[test]
    fn flags_win_over_everything() {
        let e = env_of(&[
            ("SCRUBLINE_RANK", "1"),
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("RANK", "3"),
        ]);
        assert_eq!(resolve_rank(Some(4), Some(5), &e).unwrap(), (4, 5));
        let e = env_of(&[("SCRUBLINE_WORLD_SIZE", "9")]);
        assert_eq!(resolve_rank(Some(4), None, &e).unwrap(), (4, 9));
        assert!(resolve_rank(Some(4), None, &env_of(&[])).is_err());
    }

    #[test]
    fn scrubline_env_before_slurm() {
        let e = env_of(&[
            ("SCRUBLINE_RANK", "1"),
            ("SCRUBLINE_WORLD_SIZE", "3"),
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "7"),
        ]);
        assert_eq!(resolve_rank(None, None, &e).unwrap(), (1, 3));
    }

    #[test]
    fn slurm_arrays_subtract_the_min() {
        let e = env_of(&[
            ("SLURM_ARRAY_TASK_ID", "12"),
            ("SLURM_ARRAY_TASK_MIN", "10"),
            ("SLURM_ARRAY_TASK_COUNT", "7"),
            ("RANK", "0"),
            ("WORLD_SIZE", "1"),
        ]);
        assert_eq!(resolve_rank(None, None, &e).unwrap(), (2, 7));
        // --world-size overrides the array's count.
        assert_eq!(resolve_rank(None, Some(20), &e).unwrap(), (2, 20));
        let e = env_of(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(resolve_rank(None, None, &e).unwrap(), (3, 4));
    }

    #[test]
    fn kubernetes_needs_the_world_size() {
        let e = env_of(&[("JOB_COMPLETION_INDEX", "5")]);
        let err = resolve_rank(None, None, &e).unwrap_err().to_string();
        assert!(err.contains("--world-size"), "{err}");
        assert_eq!(resolve_rank(None, Some(8), &e).unwrap(), (5, 8));
        let e = env_of(&[
            ("JOB_COMPLETION_INDEX", "5"),
            ("RANK", "1"),
            ("WORLD_SIZE", "2"),
        ]);
        assert_eq!(resolve_rank(None, Some(6), &e).unwrap(), (5, 6));
    }

    #[test]
    fn torchrun_last() {
        let e = env_of(&[("RANK", "1"), ("WORLD_SIZE", "2")]);
        assert_eq!(resolve_rank(None, None, &e).unwrap(), (1, 2));
    }

    #[test]
    fn offsets_for_arrays_beyond_max_array_size() {
        let e = env_of(&[
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "1000"),
        ]);
        assert_eq!(
            resolve_rank_from(None, Some(2500), Some(1000), &e).unwrap(),
            (1004, 2500, RankSource::Slurm)
        );
        assert!(resolve_rank_from(None, None, Some(1000), &e).is_err());
        let e = env_of(&[
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SCRUBLINE_RANK_OFFSET", "2000"),
            ("SCRUBLINE_WORLD_SIZE", "2500"),
        ]);
        assert_eq!(resolve_rank(None, None, &e).unwrap(), (2004, 2500));
    }

    #[test]
    fn validates() {
        assert!(resolve_rank(Some(3), Some(3), &env_of(&[])).is_err());
        assert!(resolve_rank(Some(0), Some(0), &env_of(&[])).is_err());
        let e = env_of(&[("RANK", "x"), ("WORLD_SIZE", "2")]);
        assert!(resolve_rank(None, None, &e)
            .unwrap_err()
            .to_string()
            .contains("RANK"));
        let e = env_of(&[("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_MIN", "2")]);
        assert!(resolve_rank(None, Some(4), &e).is_err());
    }
}
