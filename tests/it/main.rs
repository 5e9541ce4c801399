//! The one integration-test binary: runs `scrubline` end to end on synthetic corpora.

mod neardup;
mod parquet;
mod props;
mod reliability;
mod run;
mod scaleout;
mod util;
mod verify;
