//! Arrow and Parquet: the columnar side of input and output.
//!
//! This layer knows formats, not rules. [`scrub`] visits and rewrites the selected strings
//! of a record batch through a callback; [`reader`] streams batches out of Parquet files
//! (whole files or single row groups); [`writer`] writes Parquet shards deterministically;
//! [`json`] converts between Arrow rows and JSON objects. [`testdata`] builds a synthetic
//! batch with the nested schema the tests use.
//!
//! The pipeline joins this layer and the [`Scrubber`](crate::scrub::Scrubber) in one
//! closure:
//!
//! ```
//! use scrubline::columnar::{json, rewrite_strings, testdata::sample_batch, visit_strings};
//! use scrubline::{detect::Detector, pseudonym::{Key, Pseudonymizer, Style}, rules::RuleSet};
//! use scrubline::{scrub::{Detections, Scrubber}, select::Selection};
//!
//! let scrubber = Scrubber::new(
//!     Detector::new(&RuleSet::builtin()?)?,
//!     Pseudonymizer::new(&Key::from_material(&[42u8; 32])?, Style::Tag),
//! );
//! let (mut scratch, mut counts) = (scrubber.scratch(), Detections::default());
//! let batch = sample_batch(100, 1); // from ParquetFile::batches in the pipeline
//! // Map keys come by too (the last argument is true): scrubbed like values.
//! let clean = rewrite_strings(&batch, &Selection::all(), &mut |_row, _path, s, _key| {
//!     scrubber.scrub(s, &mut scratch, &mut counts)
//! })?;
//! assert_eq!(clean.schema(), batch.schema());
//! let mut e_mails = 0;
//! visit_strings(&clean, &Selection::all(), &mut |_, _, s, _| e_mails += s.matches("@example.").count());
//! assert_eq!(e_mails, 0);
//! let mut jsonl = Vec::new();
//! json::write_jsonl(&clean, &mut jsonl)?; // --format jsonl
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod json;
pub mod reader;
pub mod scrub;
pub mod testdata;
pub mod writer;

pub use reader::{schema_fingerprint, Batches, ParquetFile, DEFAULT_BATCH_SIZE};
pub use scrub::{rewrite_strings, unreachable_strings, visit_strings, Rewrite, Visit};
pub use writer::{ShardSummary, ShardWriter, WriterOptions};

#[cfg(test)]
mod tests;
