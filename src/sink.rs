//! A seam between a run and what is built on its records later (global dedup stages,
//! reports): one call per record written, in output order.
//!
//! A record's identity is its `doc_id`: the input file's index in the run's listing (or
//! plan) in the high 32 bits, its ordinal in the low 32 (JSONL: 1-based line number;
//! Parquet: 0-based row). Every later stage keys on it, so it must not depend on how the
//! work was split.

use crate::error::Result;

/// Packs a record identity.
pub fn doc_id(file_index: u32, ordinal: u32) -> u64 {
    (u64::from(file_index) << 32) | u64::from(ordinal)
}

/// Unpacks a record identity into `(file index, ordinal)`.
pub fn split_doc_id(doc_id: u64) -> (u32, u32) {
    ((doc_id >> 32) as u32, doc_id as u32)
}

/// One written record, as a sink sees it. Holds no text.
#[derive(Clone, Copy, Debug)]
pub struct SinkRecord<'a> {
    /// See the module docs.
    pub doc_id: u64,
    /// Index of the shard it was written to (in this run or rank).
    pub shard: u32,
    /// Keyed fingerprint of its normalized, scrubbed dedup content.
    pub exact_fp: u128,
    /// MinHash LSH band hashes (keyed), one per band; empty when near-dup is off or the
    /// record has no shingle.
    pub band_hashes: &'a [u64],
    /// The record's 64-byte MinHash verification sketch ([`crate::minhash::Sketch`]), when
    /// it has band hashes.
    pub sketch: Option<&'a [u8; 64]>,
    /// Rule index (in the run's rule set) of every value replaced in it.
    pub rules: &'a [u32],
}

/// Receives every written record, in output order, from one run or rank.
pub trait RecordSink: Send {
    /// One record.
    fn record(&mut self, rec: &SinkRecord<'_>) -> Result<()>;
    /// The run finished; flush and commit (rename) whatever was written.
    fn finish(self: Box<Self>) -> Result<()>;
}

#[cfg(test)]
mod tests {
    #[test]
    fn doc_ids_round_trip_and_sort_in_input_order() {
        let a = super::doc_id(3, 7);
        assert_eq!(super::split_doc_id(a), (3, 7));
        assert!(super::doc_id(3, u32::MAX) < super::doc_id(4, 0));
    }
}
