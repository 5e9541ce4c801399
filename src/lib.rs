//! scrubline makes text corpora safe to train language models on.
//!
//! The pipeline, one module per stage, joined by small types:
//!
//! ```text
//! input ──Record──▶ scrub (detect ▶ pseudonym) ──▶ dedup ──▶ output ──▶ manifest
//! ```
//!
//! * [`rules`] loads rules kept as data (`patterns/*.toml`); [`detect`] compiles them into
//!   one multi-pattern pass over a `&str` and knows nothing of files; [`validate`] holds the
//!   checksums and checks a regex cannot express.
//! * [`pseudonym`] turns a detected value into a keyed token (HMAC-SHA256), [`scrub`] joins
//!   detection and pseudonyms into the one call every input format uses.
//! * [`select`] says which fields of a record are scanned; [`normalize`] canonicalizes
//!   text for deduplication.
//! * [`surrogate`] makes realistic stand-ins for `--style surrogate`; [`eval`] scores a
//!   detector on a labeled corpus (`scrubline eval`); [`rules::check`] runs every rule's
//!   examples (`scrubline patterns check`).
//!
//! ```
//! use scrubline::{detect::Detector, pseudonym::{Key, Pseudonymizer, Style}, rules::RuleSet};
//! use scrubline::scrub::{Detections, Scrubber};
//!
//! let detector = Detector::new(&RuleSet::builtin()?)?;
//! let key = Key::from_material(&[42u8; 32])?;
//! let scrubber = Scrubber::new(detector, Pseudonymizer::new(&key, Style::Tag));
//! let mut scratch = scrubber.scratch();
//! let mut counts = Detections::default();
//! let out = scrubber.scrub("mail alice@example.com", &mut scratch, &mut counts).unwrap();
//! assert!(out.starts_with("mail <EMAIL_"));
//! # Ok::<(), scrubline::error::Error>(())
//! ```

pub mod cli;
pub mod columnar;
pub mod dedup;
pub mod detect;
pub mod error;
pub mod eval;
pub mod fold;
pub mod input;
pub mod json;
pub mod keywords;
pub mod lanes;
pub mod manifest;
pub mod minhash;
pub mod normalize;
pub mod output;
pub mod pipeline;
pub mod pseudonym;
pub mod rules;
pub mod scaleout;
pub mod scrub;
pub mod secret;
pub mod select;
pub mod settings;
pub mod sink;
pub mod surrogate;
pub mod validate;
pub mod verify;
