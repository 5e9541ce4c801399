//! Deduplication. Exact: a keyed 128-bit fingerprint of the normalized scrubbed text; the
//! first record in input order with a given fingerprint survives.
//!
//! Fingerprints are keyed (XXH3-128 with a secret derived from the run key) *and* computed
//! on scrubbed text, so neither a fingerprint in memory nor one written to a file lets
//! anyone test whether a given text was in the corpus.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

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

/// The fingerprints seen so far, each with the record that had it first (the survivor).
///
/// 25 bytes per hash-table slot (a 128-bit fingerprint as two `u64`s, so that a slot is
/// not padded to 16-byte alignment, a doc id and a control byte): about 30 to 60 bytes per
/// distinct record, depending on the table's load.
#[derive(Default)]
pub struct ExactDedup {
    seen: HashMap<Fp, u64, BuildIdentity>,
}

/// A fingerprint stored as two halves: 8-byte aligned, unlike `u128`.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Fp(u64, u64);

impl std::hash::Hash for Fp {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        // The fingerprint is already a keyed hash: its halves are the table hash.
        h.write_u64(self.0 ^ self.1);
    }
}

impl ExactDedup {
    /// An empty set.
    pub fn new() -> ExactDedup {
        ExactDedup::default()
    }

    /// `None` when `fp` is new (record `doc_id` survives); else the doc id of the record
    /// that had it first.
    pub fn insert(&mut self, fp: u128, doc_id: u64) -> Option<u64> {
        match self.seen.entry(Fp(fp as u64, (fp >> 64) as u64)) {
            std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(doc_id);
                None
            }
        }
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

/// `--dedup-report`: one JSON line per removed record with its location, its survivor's
/// location and the estimated similarity. Never any text.
pub struct DedupReport {
    path: PathBuf,
    tmp: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    len: u64,
}

impl DedupReport {
    /// Creates the report (under a temporary name until [`DedupReport::finish`]).
    pub fn create(path: &Path) -> Result<DedupReport> {
        let tmp = crate::output::temp_path(path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let f = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        Ok(DedupReport {
            path: path.to_path_buf(),
            tmp,
            out: std::io::BufWriter::new(f),
            len: 0,
        })
    }

    /// Continues a report after a checkpoint: its temporary file cut back to `len` bytes.
    pub fn resume(path: &Path, len: u64) -> Result<DedupReport> {
        let tmp = crate::output::temp_path(path);
        crate::output::unfinish(path, &tmp)?;
        let f = crate::output::reopen_at(&tmp, len)?;
        Ok(DedupReport {
            path: path.to_path_buf(),
            tmp,
            out: std::io::BufWriter::new(f),
            len,
        })
    }

    /// Makes what was written durable; returns its length.
    pub fn checkpoint(&mut self) -> Result<u64> {
        self.out.flush().map_err(|e| Error::io(&self.tmp, e))?;
        self.out
            .get_ref()
            .sync_data()
            .map_err(|e| Error::io(&self.tmp, e))?;
        Ok(self.len)
    }

    /// One removed record. `files` maps file indices to paths; `id` is the record's own
    /// `id` field as JSON text, when it has one.
    pub fn add(
        &mut self,
        files: &BTreeMap<u32, String>,
        removed: u64,
        id: Option<&str>,
        survivor: u64,
        similarity: f64,
        kind: &str,
    ) -> Result<()> {
        let loc = |doc: u64| {
            let (file, ordinal) = crate::sink::split_doc_id(doc);
            serde_json::json!({
                "file": files.get(&file).map_or("", String::as_str),
                "file_index": file,
                "ordinal": ordinal,
            })
        };
        let mut line = serde_json::json!({
            "kind": kind,
            "removed": loc(removed),
            "survivor": loc(survivor),
            "similarity": (similarity * 1000.0).round() / 1000.0,
        });
        if let Some(id) = id {
            line["removed"]["id"] = serde_json::from_str(id).unwrap_or(serde_json::Value::Null);
        }
        let mut bytes = serde_json::to_vec(&line).expect("report line serializes");
        bytes.push(b'\n');
        self.len += bytes.len() as u64;
        self.out
            .write_all(&bytes)
            .map_err(|e| Error::io(&self.tmp, e))
    }

    /// Flushes and renames the report into place.
    pub fn finish(self) -> Result<()> {
        let f = self
            .out
            .into_inner()
            .map_err(|e| Error::io(&self.tmp, e.into_error()))?;
        f.sync_all().map_err(|e| Error::io(&self.tmp, e))?;
        std::fs::rename(&self.tmp, &self.path).map_err(|e| Error::io(&self.path, e))?;
        // Like every other atomic write: the rename itself must survive a crash.
        crate::output::sync_parent(&self.path)
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
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
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
        assert_eq!(d.insert(x, 5), None);
        assert_eq!(d.insert(x, 9), Some(5));
    }
}
