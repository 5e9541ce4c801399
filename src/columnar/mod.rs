//! Arrow and Parquet: the columnar side of input and output.
//!
//! This layer knows formats, not rules. [`scrub`] visits and rewrites the selected strings
//! of a record batch through a callback; [`reader`] streams batches out of Parquet files
//! (whole files or single row groups); [`writer`] writes Parquet shards deterministically;
//! [`json`] converts between Arrow rows and JSON objects. [`testdata`] builds a synthetic
//! batch with the nested schema the tests use.

pub mod json;
pub mod reader;
pub mod scrub;
pub mod testdata;
pub mod writer;

pub use reader::{schema_fingerprint, Batches, ParquetFile, DEFAULT_BATCH_SIZE};
pub use scrub::{rewrite_strings, visit_strings, Rewrite, Visit};
pub use writer::{ShardSummary, ShardWriter, WriterOptions};

#[cfg(test)]
mod tests;
