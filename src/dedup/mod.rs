//! Deduplication. Exact: a keyed 128-bit fingerprint of the normalized scrubbed text; the
//! first record in input order with a given fingerprint survives.
//!
//! Fingerprints are keyed (XXH3-128 with a secret derived from the run key) *and* computed
//! on scrubbed text, so neither a fingerprint in memory nor one written to a file lets
//! anyone test whether a given text was in the corpus.

use std::collections::HashSet;

use xxhash_rust::xxh3::xxh3_128_with_secret;

use crate::pseudonym::Key;

/// Length of the XXH3 secret derived from the key.
const SECRET_LEN: usize = 192;

/// Keyed content fingerprints.
#[derive(Clone)]
pub struct Fingerprinter {
    secret: Box<[u8; SECRET_LEN]>,
}

impl std::fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fingerprinter(<keyed>)")
    }
}

impl Fingerprinter {
    /// A fingerprinter keyed by a subkey of `key`.
    pub fn new(key: &Key) -> Fingerprinter {
        let mut secret = Box::new([0u8; SECRET_LEN]);
        for (i, chunk) in secret.chunks_mut(32).enumerate() {
            let label = format!("scrubline/dedup-exact/v1/{i}");
            chunk.copy_from_slice(&key.derive(label.as_bytes())[..chunk.len()]);
        }
        Fingerprinter { secret }
    }

    /// The fingerprint of already-normalized text.
    pub fn fingerprint(&self, normalized: &str) -> u128 {
        xxh3_128_with_secret(normalized.as_bytes(), &self.secret[..])
    }
}

/// The set of fingerprints seen so far; the first record with a fingerprint survives.
///
/// About 16 bytes per distinct record plus hash-table overhead (~32 bytes in all).
#[derive(Default)]
pub struct ExactDedup {
    seen: HashSet<u128, BuildIdentity>,
}

impl ExactDedup {
    /// An empty set.
    pub fn new() -> ExactDedup {
        ExactDedup::default()
    }

    /// True when `fp` is new (the record survives); false for a duplicate.
    pub fn insert(&mut self, fp: u128) -> bool {
        self.seen.insert(fp)
    }

    /// Distinct fingerprints seen.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// True before the first insert.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

/// The fingerprints are already uniform keyed hashes: hashing them again is wasted work.
#[derive(Default, Clone, Copy)]
pub struct BuildIdentity;

impl std::hash::BuildHasher for BuildIdentity {
    type Hasher = IdentityHasher;
    fn build_hasher(&self) -> IdentityHasher {
        IdentityHasher(0)
    }
}

/// See [`BuildIdentity`].
#[derive(Default)]
pub struct IdentityHasher(u64);

impl std::hash::Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(b);
        }
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = (v as u64) ^ ((v >> 64) as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::dedup_normalize;

    #[test]
    fn keyed_and_normalized() {
        let a = Fingerprinter::new(&Key::from_material(&[1; 32]).unwrap());
        let b = Fingerprinter::new(&Key::from_material(&[2; 32]).unwrap());
        let x = a.fingerprint(&dedup_normalize("Hello  World"));
        assert_eq!(x, a.fingerprint(&dedup_normalize("hello world")));
        assert_ne!(x, b.fingerprint(&dedup_normalize("hello world")));
        let mut d = ExactDedup::new();
        assert!(d.insert(x));
        assert!(!d.insert(x));
    }
}
