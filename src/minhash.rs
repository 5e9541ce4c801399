//! Near-duplicate detection: keyed MinHash signatures (one-permutation hashing with optimal
//! densification) and a streaming LSH index with union-find clusters.
//!
//! Two halves, so the pipeline can parallelize the expensive part and keep the decision
//! deterministic:
//!
//! * [`MinHasher`] (`Send + Sync`, pure): normalized scrubbed text → [`Signature`]. Run it in
//!   any number of workers; the output depends only on the text, [`MinHashParams`] and the key.
//! * [`LshIndex`] (sequential, `&mut self`): fed the signatures **in input order**, it says
//!   for each record whether it is a near-duplicate of an earlier one, and of which survivor.
//!
//! # Scheme, version 1 ([`SCHEME_VERSION`])
//!
//! Input is the dedup normalization of the *scrubbed* text ([`crate::normalize`]: NFKC,
//! lowercase, whitespace runs collapsed to one space).
//!
//! 1. **Shingling, chosen per record from its script.** Tokens are separated by ASCII
//!    whitespace only (the only whitespace left after normalization). Count the characters
//!    other than ASCII whitespace and, among them, the CJK ones ([`is_cjk`]: Han including
//!    extensions and compatibility ideographs, CJK symbols and punctuation, Hiragana,
//!    Katakana, Bopomofo, Hangul). If at least 1 in 4 is CJK ([`Shingling::Chars`]), tokens
//!    are the *characters* (ASCII whitespace skipped) and shingles are `ngram_chars`-grams
//!    (default 5). Otherwise ([`Shingling::Words`]) tokens are the whitespace-separated
//!    words and shingles are `ngram_words`-grams (default 5). Mixed text: the 1-in-4 rule
//!    sends Chinese prose with English terms, numbers, URLs or pseudonym tokens to
//!    character shingles (word shingles would be useless on unsegmented text, while
//!    character shingles still work on the Latin part); English prose with a few Chinese
//!    names stays on words. A text with fewer tokens than `n` is one shingle (all its
//!    tokens). A text with no token has an empty signature and is never a near-duplicate
//!    (exact dedup handles empty texts). Unsegmented non-CJK scripts (Thai, Lao, Khmer,
//!    Myanmar) fall to word shingles over long tokens and get poor recall: not handled.
//! 2. **Token hashes, once per token:** `t = xxh3_64_with_secret(utf8(token), S)` where `S`
//!    is a 192-byte secret derived from the caller's 32-byte key material as
//!    `HMAC-SHA256(k, "scrubline/minhash/v1/secret" || i)` for `i = 0..6`, concatenated.
//! 3. **Shingle hash, O(1) per shingle:** polynomial rolling hash over the window of token
//!    hashes, `r = Σ t_j · P^(n-1-j) mod 2^64` with `P = 0x9E3779B97F4A7C15`, then
//!    `x = fmix64(r ^ m)` (MurmurHash3 finalizer), where `m` is a key-derived word or char
//!    mode constant (the first/second 8 bytes of `HMAC-SHA256(k, "scrubline/minhash/v1/mix")`,
//!    little-endian), so word and character shingles never collide by construction.
//! 4. **One-permutation hashing** into `K = 128` bins ([`BINS`]): bin `x >> 57`, value the low
//!    32 bits of `x`; each bin keeps its minimum. Cost per shingle is constant: no loop over
//!    permutations at all (the "naive MinHash" loop is what caps pipelines near 25 MB/s).
//! 5. **Densification** (optimal densification, Shrivastava 2017, with the probe sequence
//!    replaced by a fixed order): an empty bin `i` takes the value of the originally
//!    non-empty bin `j` that comes first in bin `i`'s donor order, bins sorted by
//!    `fmix64(d ^ (i << 32 | j))` (`d` the third 8 bytes of the mix HMAC above). The order
//!    depends only on `i` and the key, so both documents of a pair use the same one, and
//!    `P[bin values equal] = J` holds as with probing. A 128 × 128 table of ranks makes it a
//!    vectorized min per empty bin, about 1 µs for a 100-byte text.
//! 6. **Bands:** bins `0 .. bands·rows` are cut into `bands` bands of `rows` bins; band `b`'s
//!    hash is `xxh3_64_with_secret(le_u32(b) || le_u32(bin) for its rows, S)`.
//!    Defaults: 10 bands × 4 rows. The probability that a pair at Jaccard `s` shares at
//!    least one band is `1 − (1 − s^4)^10`:
//!
//!    | s | 0.3 | 0.5 | 0.6 | 0.7 | 0.75 | 0.8 | 0.85 | 0.9 |
//!    |---|-----|-----|-----|-----|------|-----|------|-----|
//!    | P(candidate) | 0.078 | 0.476 | 0.750 | 0.936 | 0.978 | 0.995 | 0.9994 | 1.000 |
//!
//!    The banding is deliberately permissive (datatrove's 14 × 8 catches only 0.92 at 0.8
//!    and 0.77 at 0.75) because every candidate is *verified*, below; the cost of a false
//!    candidate is one 64-byte comparison, and there are at most `bands` (+ their roots)
//!    per record.
//! 7. **Verification sketch:** the low 4 bits of all 128 bins (b-bit minwise hashing),
//!    64 bytes. For two sketches with `e` equal nibbles out of 128 the estimate is
//!    `Ĵ = (e/128 − 1/16) / (15/16)`, clamped to `[0, 1]`; its standard deviation is about
//!    0.037 at J = 0.8 and 0.04 at J = 0.7.
//!
//! Everything in the scheme is fixed by [`SCHEME_VERSION`], the [`MinHashParams`] and the
//! key; nothing depends on the machine, endianness, thread count or crate versions beyond
//! xxh3's specified output. Any change to steps 1–7 must bump [`SCHEME_VERSION`].
//!
//! **Privacy.** Signatures are computed on normalized *scrubbed* text and every hash is
//! keyed: without the key nobody can compute the signature or band hashes of a guessed raw
//! text, so a band-hash file is not a membership oracle. (xxh3 is not a PRF; the claim rests
//! on the 256-bit key being secret and on the text already being scrubbed. Whoever holds
//! the key, or can have chosen texts processed under it and read the band hashes, can
//! still test membership: rotate keys between parties as for pseudonyms.) The per-record
//! sketch and band hashes (keyed) go to the index's nameless spill file (see *Memory*), to
//! the scale-out docs tables and to the resume log `lsh.log`; no text does.
//!
//! # Semantics of [`LshIndex::observe`]
//!
//! Records are observed in input order with strictly increasing caller ordinals. For record
//! `x`, the *candidates* are, for each band, the earliest earlier record with the same band
//! hash (kept or removed). A candidate *matches* if the sketch estimate
//! `Ĵ(x, candidate) ≥ threshold`. The decision for `x` thus depends only on `x` and the
//! first record of each of its buckets: exactly what a partitioned stage computes with
//! `MIN(doc_id)` per `(band, band_hash)` and a sketch check, so a run split into ranks
//! removes the same records as one process. Then:
//!
//! * no match: `x` is kept (`None`), starting its own cluster. A record whose only similar
//!   record comes *later* stays: it is not a near-copy of anything before it.
//! * one or more matches: `x` is removed (`Some(NearDup)`); `x` and every matched record are
//!   merged by union-find, and the survivor reported is the root of the merged cluster,
//!   i.e. its earliest record, which was necessarily kept. When `x` bridges two clusters
//!   whose roots were both kept (A ≈ x ≈ B, A ≉ B), both stay kept (streaming cannot take a
//!   record back) and the survivor reported is the earlier root.
//!
//! Every observed record, kept or removed, is indexed: its bands are inserted where the band
//! hash is new (first record wins, as `MIN(doc_id)` per bucket in the SQL of NOTES B.2).
//! The result is a function of the input order only.
//!
//! # Memory
//!
//! The index keeps in memory only what every record's lookup touches: one table per band
//! (open addressing, linear probing) whose slots are bit-packed, a 16-bit fingerprint of the
//! band hash plus a record id of just enough bits (35 bits a slot at 150 k records, 39 at
//! 1.5 M), at a load between 0.6 and 0.9, plus a 4-byte union-find parent per record.
//! Everything else a record needs only when one of its bands is hit (its ordinal, band
//! hashes and sketch, 154 bytes at 10 bands) goes to a store: a nameless temporary file in
//! the output directory for [`LshIndex::spilling`], which the pipeline uses, or a vector for
//! [`LshIndex::new`]. A fingerprint hit is confirmed against the full hash in the store,
//! so the buckets are exactly those of the 64-bit hashes. Growing rebuilds the tables from
//! the store (1.5× at a time, old tables freed first), so there is never a second copy.
//!
//! Measured with [`LshIndex::memory_bytes`] (allocated capacity) on distinct synthetic
//! records at the default 10 bands, release build (`memory_per_record_1m` in the tests):
//!
//! | records | [`LshIndex::spilling`] | [`LshIndex::new`] | [`LshIndex::with_capacity`] |
//! |---------|---------|---------|---------|
//! | 14 k    | 71 B/record | 343 B/record | 201 B/record |
//! | 144 k   | 67 B/record | 298 B/record | 207 B/record |
//! | 1 M     | 77 B/record | 345 B/record | 211 B/record |
//! | 1.5 M   | 79 B/record | 257 B/record | 211 B/record |
//! | 2 M     | 60 B/record | 328 B/record | 212 B/record |
//!
//! The spill file grows by 154 bytes per record (22 MB per 144 k records); the page cache
//! serves its reads, which come only on a band hit or a rebuild. Compared with the earlier
//! all-in-memory index (276 B/record on the bench corpus), the pipeline's near-duplicate
//! stage costs about 11 % more CPU on a million short records (2.64 s against 2.38) and
//! no measurable time on the bench corpus, mostly the rebuilds. A lookup prefetches the home slots
//! of all bands of a record together, so their cache misses overlap. For corpora beyond one
//! node's memory, the band hashes go to Parquet and the candidate step runs per hash
//! partition (NOTES B.2); [`Signature::band_hashes`] is what that file stores.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use xxhash_rust::xxh3::xxh3_64_with_secret;

use crate::error::{Error, Result};

/// Version of the signature scheme described in the module docs. Written next to any
/// persisted band hash, so that files from different schemes are never joined.
pub const SCHEME_VERSION: u32 = 1;

/// Number of one-permutation-hashing bins in a [`Signature`].
pub const BINS: usize = 128;

/// Largest n-gram length accepted.
pub const MAX_NGRAM: usize = 32;

/// Bytes in a verification sketch (4 bits per bin).
pub const SKETCH_BYTES: usize = BINS / 2;

const SKETCH_WORDS: usize = SKETCH_BYTES / 8;
const EMPTY: u32 = u32::MAX;
const P: u64 = 0x9E37_79B9_7F4A_7C15;

/// Parameters of the scheme. [`Default`] gives the documented defaults.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MinHashParams {
    /// Words per shingle for space-delimited text (default 5).
    pub ngram_words: usize,
    /// Characters per shingle for CJK text (default 5).
    pub ngram_chars: usize,
    /// LSH bands (default 10).
    pub bands: usize,
    /// Bins per band (default 4). `bands × rows ≤ BINS`.
    pub rows: usize,
    /// A candidate is a near-duplicate when the estimated Jaccard similarity is at least
    /// this (default 0.75: see [`MinHashParams::default`]).
    pub threshold: f64,
    /// Must equal [`SCHEME_VERSION`]; recorded with persisted signatures.
    pub scheme_version: u32,
}

impl Default for MinHashParams {
    /// 5-word / 5-character shingles, 10 bands × 4 rows, threshold 0.75 on the *estimated*
    /// Jaccard similarity. The estimate has a standard deviation of about 0.037 at J = 0.8,
    /// so a cut at 0.8 would keep about half of the pairs at exactly 0.8 (recall over
    /// near-copies with J in 0.8–0.95 measured at 0.93); a cut at 0.75 removes about 90 %
    /// of pairs at J = 0.8 and over 99 % at J ≥ 0.85 (recall measured at 0.99), removes
    /// about 12 % of pairs at J = 0.7 and under 0.1 % of pairs at J ≤ 0.6.
    fn default() -> Self {
        MinHashParams {
            ngram_words: 5,
            ngram_chars: 5,
            bands: 10,
            rows: 4,
            threshold: 0.75,
            scheme_version: SCHEME_VERSION,
        }
    }
}

impl MinHashParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        let err = |m: String| Err(Error::Config(format!("near-dup: {m}")));
        if self.scheme_version != SCHEME_VERSION {
            return err(format!(
                "scheme version {} is not supported (this build implements {SCHEME_VERSION})",
                self.scheme_version
            ));
        }
        for (name, n) in [
            ("ngram_words", self.ngram_words),
            ("ngram_chars", self.ngram_chars),
        ] {
            if n == 0 || n > MAX_NGRAM {
                return err(format!("{name} must be in 1..={MAX_NGRAM}, not {n}"));
            }
        }
        if self.bands == 0 || self.rows == 0 || self.bands * self.rows > BINS {
            return err(format!(
                "bands × rows must be between 1 and {BINS}, not {} × {}",
                self.bands, self.rows
            ));
        }
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return err(format!(
                "threshold must be in (0, 1], not {}",
                self.threshold
            ));
        }
        Ok(())
    }

    /// A one-line identity of the signature scheme, for the manifest and the key-value
    /// metadata of signature files: two runs can join band hashes only if these are equal
    /// (and the key fingerprints too). The threshold is not part of it: it only affects
    /// the index, not the hashes. Example: `minhash-v1/oph128/xxh3-keyed/w5/c5/b10x4`.
    pub fn scheme_id(&self) -> String {
        format!(
            "minhash-v{}/oph{BINS}/xxh3-keyed/w{}/c{}/b{}x{}",
            self.scheme_version, self.ngram_words, self.ngram_chars, self.bands, self.rows
        )
    }

    /// Probability that a pair at Jaccard similarity `s` shares at least one band:
    /// `1 − (1 − s^rows)^bands`.
    pub fn candidate_probability(&self, s: f64) -> f64 {
        1.0 - (1.0 - s.powi(self.rows as i32)).powi(self.bands as i32)
    }
}

/// How a record was shingled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Shingling {
    /// No token: the signature is empty.
    #[default]
    Empty,
    /// Word n-grams.
    Words,
    /// Character n-grams over non-whitespace characters (CJK text).
    Chars,
}

/// A MinHash signature: 128 densified bins and the band hashes. Reuse one per worker.
#[derive(Clone, Debug)]
pub struct Signature {
    bins: [u32; BINS],
    bands: Vec<u64>,
    shingling: Shingling,
    shingles: u32,
}

impl Default for Signature {
    fn default() -> Self {
        Signature {
            bins: [EMPTY; BINS],
            bands: Vec::new(),
            shingling: Shingling::Empty,
            shingles: 0,
        }
    }
}

impl Signature {
    /// An empty signature to be filled by [`MinHasher::signature`].
    pub fn new() -> Signature {
        Signature::default()
    }

    /// True when the text had no token. Empty signatures are never near-duplicates.
    pub fn is_empty(&self) -> bool {
        self.shingling == Shingling::Empty
    }

    /// The keyed band hashes (`bands` of them; none for an empty signature). These are what
    /// a signature file stores.
    pub fn band_hashes(&self) -> &[u64] {
        &self.bands
    }

    /// The 128 bin values.
    pub fn bins(&self) -> &[u32; BINS] {
        &self.bins
    }

    /// Word or character shingles.
    pub fn shingling(&self) -> Shingling {
        self.shingling
    }

    /// Number of shingle positions in the text (with repeats).
    pub fn shingle_count(&self) -> u32 {
        self.shingles
    }

    /// Estimated Jaccard similarity from the full 32-bit bins (share of equal bins).
    pub fn jaccard(&self, other: &Signature) -> f64 {
        if self.is_empty() || other.is_empty() {
            return 0.0;
        }
        let eq = self
            .bins
            .iter()
            .zip(&other.bins)
            .filter(|(a, b)| a == b)
            .count();
        eq as f64 / BINS as f64
    }

    /// The 64-byte verification sketch: the low 4 bits of each bin.
    pub fn sketch(&self) -> Sketch {
        let mut words = [0u64; SKETCH_WORDS];
        for (w, chunk) in words.iter_mut().zip(self.bins.chunks_exact(16)) {
            for (k, &v) in chunk.iter().enumerate() {
                *w |= u64::from(v & 0xF) << (4 * k);
            }
        }
        Sketch(words)
    }
}

/// The verification sketch kept per record by [`LshIndex`] (b-bit minwise hashing, b = 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sketch([u64; SKETCH_WORDS]);

impl Sketch {
    /// Size of [`Sketch::to_bytes`].
    pub const BYTES: usize = SKETCH_WORDS * 8;

    /// The sketch as little-endian bytes, for signature files.
    pub fn to_bytes(&self) -> [u8; SKETCH_WORDS * 8] {
        let mut out = [0u8; SKETCH_WORDS * 8];
        for (chunk, w) in out.chunks_exact_mut(8).zip(self.0) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// Reads [`Sketch::to_bytes`] back.
    pub fn from_bytes(bytes: &[u8; SKETCH_WORDS * 8]) -> Sketch {
        let mut words = [0u64; SKETCH_WORDS];
        for (w, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
            *w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        }
        Sketch(words)
    }

    /// Estimated Jaccard similarity, corrected for chance nibble collisions.
    pub fn jaccard(&self, other: &Sketch) -> f64 {
        const LOW: u64 = 0x1111_1111_1111_1111;
        let mut differ = 0u32;
        for (a, b) in self.0.iter().zip(&other.0) {
            let x = a ^ b;
            differ += ((x | x >> 1 | x >> 2 | x >> 3) & LOW).count_ones();
        }
        let p = f64::from(BINS as u32 - differ) / BINS as f64;
        ((p - 1.0 / 16.0) / (15.0 / 16.0)).clamp(0.0, 1.0)
    }
}

/// Computes keyed signatures. Pure and `Send + Sync`: share one across workers.
#[derive(Clone)]
pub struct MinHasher {
    params: MinHashParams,
    secret: Box<[u8; 192]>,
    word_mix: u64,
    char_mix: u64,
    /// `donor_order[i][j] = rank << 7 | j`, the rank of bin `j` in bin `i`'s donor order.
    donor_order: Box<[[i16; BINS]; BINS]>,
}

impl std::fmt::Debug for MinHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MinHasher")
            .field("params", &self.params)
            .field("secret", &"<redacted>")
            .finish()
    }
}

#[inline(always)]
fn fmix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

#[inline(always)]
fn is_ascii_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// True for the characters counted as CJK by the shingling rule: Hangul Jamo
/// (U+1100–11FF); U+2E80–9FFF (CJK radicals, CJK symbols and punctuation, Hiragana,
/// Katakana, Bopomofo, Hangul compatibility Jamo, enclosed CJK, CJK extension A, CJK
/// unified ideographs); Hangul syllables (U+AC00–D7AF); CJK compatibility ideographs
/// (U+F900–FAFF); U+20000–3FFFF (CJK extensions B and later).
pub fn is_cjk(c: char) -> bool {
    is_cjk_code_point(c as u32)
}

#[inline(always)]
fn is_cjk_code_point(cp: u32) -> bool {
    matches!(cp,
        0x1100..=0x11FF | 0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF)
}

/// Length of the UTF-8 sequence starting with lead byte `b`.
#[inline(always)]
fn utf8_len(b: u8) -> usize {
    match b {
        0..=0x7F => 1,
        0x80..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

/// The shingling the scheme picks for `normalized_text` (see the module docs). Only ASCII
/// whitespace separates tokens: it is the only whitespace [`crate::normalize`] leaves.
pub fn choose_shingling(normalized_text: &str) -> Shingling {
    let b = normalized_text.as_bytes();
    if normalized_text.is_ascii() {
        return if b.iter().all(|&c| is_ascii_ws(c)) {
            Shingling::Empty
        } else {
            Shingling::Words
        };
    }
    let (mut cjk, mut non_ws) = (0usize, 0usize);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            non_ws += usize::from(!is_ascii_ws(c));
            i += 1;
            continue;
        }
        non_ws += 1;
        // Decode the code point (the input is valid UTF-8; 2-byte ones are never CJK).
        let l = utf8_len(c);
        let cont = |k: usize| u32::from(b[i + k] & 0x3F);
        let cp = match l {
            2 => 0,
            3 => u32::from(c & 0x0F) << 12 | cont(1) << 6 | cont(2),
            _ => u32::from(c & 0x07) << 18 | cont(1) << 12 | cont(2) << 6 | cont(3),
        };
        cjk += usize::from(is_cjk_code_point(cp));
        i += l;
    }
    if non_ws == 0 {
        Shingling::Empty
    } else if 4 * cjk >= non_ws {
        Shingling::Chars
    } else {
        Shingling::Words
    }
}

/// Rolling window of token hashes, emitting one OPH update per shingle.
struct Roller<'a> {
    ring: [u64; MAX_NGRAM],
    n: usize,
    pos: usize,
    count: usize,
    roll: u64,
    pn: u64,
    mix: u64,
    bins: &'a mut [u32; BINS],
}

impl<'a> Roller<'a> {
    fn new(n: usize, mix: u64, bins: &'a mut [u32; BINS]) -> Self {
        Roller {
            ring: [0; MAX_NGRAM],
            n,
            pos: 0,
            count: 0,
            roll: 0,
            pn: P.wrapping_pow(n as u32),
            mix,
            bins,
        }
    }

    #[inline(always)]
    fn emit(&mut self) {
        let x = fmix64(self.roll ^ self.mix);
        let bin = &mut self.bins[(x >> 57) as usize];
        *bin = (*bin).min(x as u32);
    }

    #[inline(always)]
    fn push(&mut self, h: u64) {
        let out = self.ring[self.pos];
        self.ring[self.pos] = h;
        self.pos += 1;
        if self.pos == self.n {
            self.pos = 0;
        }
        self.count += 1;
        // Before the window is full, `out` is 0 and the subtraction is a no-op.
        self.roll = self
            .roll
            .wrapping_mul(P)
            .wrapping_add(h)
            .wrapping_sub(out.wrapping_mul(self.pn));
        if self.count >= self.n {
            self.emit();
        }
    }

    /// Number of shingle positions; emits the whole-text shingle of a short text.
    fn finish(mut self) -> u32 {
        if self.count == 0 {
            0
        } else if self.count < self.n {
            self.emit();
            1
        } else {
            (self.count - self.n + 1) as u32
        }
    }
}

/// Bin `i`'s donor order: bins `j` sorted by `fmix64(d ^ (i << 32 | j))`, ties by `j`.
fn donor_order(d: u64) -> Box<[[i16; BINS]; BINS]> {
    let mut t = Box::new([[0i16; BINS]; BINS]);
    for (i, row) in t.iter_mut().enumerate() {
        let mut order: Vec<(u64, usize)> = (0..BINS)
            .map(|j| (fmix64(d ^ ((i as u64) << 32 | j as u64)), j))
            .collect();
        order.sort_unstable();
        for (rank, &(_, j)) in order.iter().enumerate() {
            row[j] = (rank << 7 | j) as i16;
        }
    }
    t
}

impl MinHasher {
    /// A hasher for `params`, keyed by `key_material` (pass
    /// `key.derive(b"scrubline/minhash/v1")`: a purpose-specific subkey).
    pub fn new(params: MinHashParams, key_material: [u8; 32]) -> Result<MinHasher> {
        params.validate()?;
        let mac = |label: &[u8], i: Option<u8>| -> [u8; 32] {
            let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(&key_material)
                .expect("HMAC takes keys of any length");
            m.update(label);
            if let Some(i) = i {
                m.update(&[i]);
            }
            m.finalize().into_bytes().into()
        };
        let mut secret = Box::new([0u8; 192]);
        for (i, chunk) in secret.chunks_exact_mut(32).enumerate() {
            chunk.copy_from_slice(&mac(b"scrubline/minhash/v1/secret", Some(i as u8)));
        }
        let mix = mac(b"scrubline/minhash/v1/mix", None);
        let le = |i: usize| u64::from_le_bytes(mix[8 * i..8 * i + 8].try_into().expect("8 bytes"));
        Ok(MinHasher {
            params,
            secret,
            word_mix: le(0),
            char_mix: le(1),
            donor_order: donor_order(le(2)),
        })
    }

    /// The parameters.
    pub fn params(&self) -> &MinHashParams {
        &self.params
    }

    #[inline(always)]
    fn token_hash(&self, token: &[u8]) -> u64 {
        xxh3_64_with_secret(token, &self.secret[..])
    }

    /// Computes the signature of `normalized_text` (the dedup normalization of the
    /// scrubbed text) into `out`, reusing its allocation.
    pub fn signature(&self, normalized_text: &str, out: &mut Signature) {
        out.bins = [EMPTY; BINS];
        out.bands.clear();
        out.shingles = 0;
        out.shingling = choose_shingling(normalized_text);
        let shingles = match out.shingling {
            Shingling::Empty => return,
            Shingling::Words => self.shingle_words(normalized_text.as_bytes(), &mut out.bins),
            Shingling::Chars => self.shingle_chars(normalized_text.as_bytes(), &mut out.bins),
        };
        out.shingles = shingles;
        self.densify(&mut out.bins);
        self.band_hashes_into(&out.bins, &mut out.bands);
    }

    fn shingle_words(&self, b: &[u8], bins: &mut [u32; BINS]) -> u32 {
        let mut r = Roller::new(self.params.ngram_words, self.word_mix, bins);
        let mut i = 0;
        let len = b.len();
        while i < len {
            while i < len && is_ascii_ws(b[i]) {
                i += 1;
            }
            if i == len {
                break;
            }
            let start = i;
            while i < len && !is_ascii_ws(b[i]) {
                i += 1;
            }
            r.push(self.token_hash(&b[start..i]));
        }
        r.finish()
    }

    fn shingle_chars(&self, b: &[u8], bins: &mut [u32; BINS]) -> u32 {
        let mut r = Roller::new(self.params.ngram_chars, self.char_mix, bins);
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c < 0x80 && is_ascii_ws(c) {
                i += 1;
                continue;
            }
            let end = i + utf8_len(c);
            r.push(self.token_hash(&b[i..end]));
            i = end;
        }
        r.finish()
    }

    fn densify(&self, bins: &mut [u32; BINS]) {
        // mask[j] = 0x7FFF for an empty bin, so that `rank | mask` never wins the min.
        let mut mask = [0i16; BINS];
        let mut empty = 0;
        for (m, &v) in mask.iter_mut().zip(bins.iter()) {
            *m = if v == EMPTY { 0x7FFF } else { 0 };
            empty += usize::from(v == EMPTY);
        }
        if empty == 0 {
            return;
        }
        debug_assert!(empty < BINS, "a non-empty text fills a bin");
        for i in 0..BINS {
            if mask[i] == 0 {
                continue;
            }
            // The donor is the non-empty bin of lowest rank in bin i's order.
            let best = self.donor_order[i]
                .iter()
                .zip(&mask)
                .map(|(&r, &m)| r | m)
                .min()
                .expect("BINS > 0");
            bins[i] = bins[(best & 0x7F) as usize];
        }
    }

    fn band_hashes_into(&self, bins: &[u32; BINS], out: &mut Vec<u64>) {
        let rows = self.params.rows;
        let mut buf = [0u8; 4 + 4 * BINS];
        for b in 0..self.params.bands {
            buf[..4].copy_from_slice(&(b as u32).to_le_bytes());
            for (k, v) in bins[b * rows..(b + 1) * rows].iter().enumerate() {
                buf[4 + 4 * k..8 + 4 * k].copy_from_slice(&v.to_le_bytes());
            }
            out.push(self.token_hash(&buf[..4 + 4 * rows]));
        }
    }
}

/// A removed record: near-duplicate of an earlier one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NearDup {
    /// Ordinal of the survivor: the earliest record of the merged cluster (kept).
    pub survivor: u64,
    /// Estimated Jaccard similarity between this record and the survivor (from the
    /// sketches; may be below the threshold when the link goes through another record).
    pub similarity: f64,
    /// Ordinal of the earliest earlier record this one matched (≥ threshold).
    pub matched: u64,
    /// Estimated Jaccard similarity to `matched` (≥ threshold).
    pub matched_similarity: f64,
}

/// Fingerprint bits per slot: the band hash's low 16 bits. A fingerprint hit is confirmed
/// against the full hash in the store, so a collision costs a read (about one lookup in
/// 4,000 at the highest load), never a wrong bucket.
const FP_BITS: u32 = 16;

/// The shape shared by all band tables: slots per table, and bits per record id. A slot is
/// `FP_BITS + id_bits` bits, packed: 35 bits at 150 k records, 39 at 1.5 M, at most 48.
/// A slot whose id is all ones is free.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    slots: usize,
    id_bits: u32,
}

impl Geometry {
    /// Ids up to twice `max(slots, records)` fit, so the id width forces a rebuild at most
    /// when the records have doubled since the last one.
    fn new(slots: usize, records: usize) -> Geometry {
        let most = 2 * slots.max(records + 1) as u64;
        let id_bits = (u64::BITS - most.leading_zeros()).clamp(10, 32);
        Geometry { slots, id_bits }
    }

    fn width(self) -> usize {
        (FP_BITS + self.id_bits) as usize
    }

    /// The id that marks a free slot; every record id is below it.
    fn free_id(self) -> u32 {
        (u64::MAX >> (64 - self.id_bits)) as u32
    }

    /// A table of free slots (all bits set), with one spare word so that a slot never
    /// reads past the end.
    fn table(self) -> Vec<u64> {
        vec![u64::MAX; (self.slots * self.width()).div_ceil(64) + 1]
    }

    #[inline(always)]
    fn get(self, words: &[u64], i: usize) -> (u16, u32) {
        let w = self.width();
        let (k, off) = (i * w / 64, i * w % 64);
        let mut v = words[k] >> off;
        if off + w > 64 {
            v |= words[k + 1] << (64 - off);
        }
        let v = v & (u64::MAX >> (64 - w));
        (v as u16, (v >> FP_BITS) as u32)
    }

    #[inline(always)]
    fn set(self, words: &mut [u64], i: usize, fp: u16, id: u32) {
        let w = self.width();
        let (k, off) = (i * w / 64, i * w % 64);
        let mask = u64::MAX >> (64 - w);
        let v = u64::from(fp) | u64::from(id) << FP_BITS;
        words[k] = words[k] & !(mask << off) | v << off;
        if off + w > 64 {
            let hi = 64 - off;
            words[k + 1] = words[k + 1] & !(mask >> hi) | v >> hi;
        }
    }

    /// Where the probe for `key` starts, as a word index (for prefetching).
    fn home_word(self, key: u64) -> usize {
        home(key, self.slots) * self.width() / 64
    }
}

/// Smallest table, in slots.
const MIN_SLOTS: usize = 1024;

/// Tables are rebuilt `GROW_NUM / GROW_DEN` times larger once one would pass a load of
/// `LOAD_NUM / LOAD_DEN`, so that the load stays between 0.6 and 0.9. Linear probing at
/// 0.9 averages about 50 slots per miss, at under 6 bytes a slot four or five cache lines
/// read in order; at the average load of 0.75, 9 slots. Growing by less would save memory
/// but cost rebuilds: at 1.2× a run of a million short records spent a fifth of its time
/// rebuilding.
const LOAD_NUM: usize = 9;
const LOAD_DEN: usize = 10;
const GROW_NUM: usize = 3;
const GROW_DEN: usize = 2;

/// Records the store keeps in memory before they go to the file.
const TAIL_BYTES: usize = 256 << 10;

/// Bytes read at a time when the tables are rebuilt from the file.
const SCAN_BYTES: usize = 256 << 10;

#[inline(always)]
fn home(key: u64, slots: usize) -> usize {
    ((u128::from(key) * slots as u128) >> 64) as usize
}

/// Asks the CPU to start loading `words[i]`, so that the lookups of all bands of a record
/// overlap their cache misses.
#[inline(always)]
fn prefetch(words: &[u64], i: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        let p = words.as_ptr().wrapping_add(i).cast::<i8>();
        // SAFETY: a prefetch is a hint; it never faults and has no memory effects.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p) };
    }
    let _ = (words, i);
}

/// What the index needs of a record only when one of its bands is hit: the caller's
/// ordinal, which bands the record was the first in, its band hashes and its sketch. One
/// fixed-size entry per record, numbered by the index's dense ids:
/// `[ordinal: u64][first-in mask: ⌈bands/8⌉ bytes][bands × u64][sketch: 64 bytes]`,
/// little-endian.
///
/// A spilling store appends the entries to an unlinked temporary file and keeps only the
/// newest ones (at most `TAIL_BYTES`) in memory; the page cache serves the rare reads. An
/// in-memory store keeps everything in `tail`.
struct Store {
    entry: usize,
    bands: usize,
    file: Option<std::fs::File>,
    /// For errors: the directory that holds the (nameless) spill file.
    dir: std::path::PathBuf,
    /// Entries in the file; the tail holds the ones after them.
    on_disk: u64,
    tail: Vec<u8>,
}

impl Store {
    fn entry_bytes(bands: usize) -> usize {
        8 + bands.div_ceil(8) + 8 * bands + SKETCH_BYTES
    }

    fn in_memory(bands: usize) -> Store {
        Store {
            entry: Store::entry_bytes(bands),
            bands,
            file: None,
            dir: std::path::PathBuf::new(),
            on_disk: 0,
            tail: Vec::new(),
        }
    }

    fn spilling(bands: usize, dir: &std::path::Path) -> Result<Store> {
        let file = tempfile::tempfile_in(dir).map_err(|e| Store::error(dir, e))?;
        Ok(Store {
            file: Some(file),
            dir: dir.to_path_buf(),
            tail: Vec::with_capacity(TAIL_BYTES + Store::entry_bytes(bands)),
            ..Store::in_memory(bands)
        })
    }

    fn error(dir: &std::path::Path, e: std::io::Error) -> Error {
        let cause = std::io::Error::new(e.kind(), format!("near-duplicate index spill file: {e}"));
        Error::io(dir, cause)
    }

    fn push(&mut self, ordinal: u64, mask: &[u8], bands: &[u64], sketch: &Sketch) -> Result<()> {
        self.tail.extend_from_slice(&ordinal.to_le_bytes());
        self.tail.extend_from_slice(&mask[..self.bands.div_ceil(8)]);
        for b in bands {
            self.tail.extend_from_slice(&b.to_le_bytes());
        }
        self.tail.extend_from_slice(&sketch.to_bytes());
        if self.tail.len() >= TAIL_BYTES {
            if let Some(file) = self.file.as_mut() {
                use std::io::{Seek, SeekFrom, Write};
                let at = self.on_disk * self.entry as u64;
                file.seek(SeekFrom::Start(at))
                    .and_then(|_| file.write_all(&self.tail))
                    .map_err(|e| Store::error(&self.dir, e))?;
                self.on_disk += (self.tail.len() / self.entry) as u64;
                self.tail.clear();
            }
        }
        Ok(())
    }

    /// Copies entry `id` into `out` (`entry` bytes).
    fn read(&mut self, id: u32, out: &mut [u8]) -> Result<()> {
        let id = u64::from(id);
        if id >= self.on_disk {
            let at = (id - self.on_disk) as usize * self.entry;
            out.copy_from_slice(&self.tail[at..at + self.entry]);
            return Ok(());
        }
        let file = self.file.as_mut().expect("entries on disk have a file");
        use std::io::{Read, Seek, SeekFrom};
        file.seek(SeekFrom::Start(id * self.entry as u64))
            .and_then(|_| file.read_exact(out))
            .map_err(|e| Store::error(&self.dir, e))
    }

    /// Calls `f(first id, entries)` over all entries in id order, a run of whole entries at
    /// a time.
    fn scan(&mut self, mut f: impl FnMut(u32, &[u8])) -> Result<()> {
        let mut id = 0u32;
        if let Some(file) = self.file.as_mut() {
            use std::io::{Read, Seek, SeekFrom};
            let per_read = (SCAN_BYTES / self.entry).max(1);
            let mut buf = vec![0u8; per_read * self.entry];
            file.seek(SeekFrom::Start(0))
                .map_err(|e| Store::error(&self.dir, e))?;
            let mut left = self.on_disk;
            while left > 0 {
                let n = (left as usize).min(per_read);
                let chunk = &mut buf[..n * self.entry];
                file.read_exact(chunk)
                    .map_err(|e| Store::error(&self.dir, e))?;
                f(id, chunk);
                id += n as u32;
                left -= n as u64;
            }
        }
        // In runs, as from the file, so that a rebuild's gathered keys stay small.
        let per_run = (SCAN_BYTES / self.entry).max(1) * self.entry;
        for run in self.tail.chunks(per_run) {
            f(id, run);
            id += (run.len() / self.entry) as u32;
        }
        Ok(())
    }

    fn ordinal(e: &[u8]) -> u64 {
        u64::from_le_bytes(e[..8].try_into().expect("8 bytes"))
    }

    /// Whether the entry's record was the first with its hash in `band`.
    fn first_in(e: &[u8], band: usize) -> bool {
        e[8 + band / 8] >> (band % 8) & 1 == 1
    }

    /// The entry's hash in `band`, of `bands`.
    fn band(e: &[u8], bands: usize, band: usize) -> u64 {
        let at = 8 + bands.div_ceil(8) + 8 * band;
        u64::from_le_bytes(e[at..at + 8].try_into().expect("8 bytes"))
    }

    fn sketch(&self, e: &[u8]) -> Sketch {
        let at = self.entry - SKETCH_BYTES;
        Sketch::from_bytes(e[at..].try_into().expect("sketch bytes"))
    }
}

/// The entries of the records read during one observation: candidates, then the survivor.
#[derive(Default)]
struct Reads {
    ids: Vec<u32>,
    bytes: Vec<u8>,
}

impl Reads {
    fn clear(&mut self) {
        self.ids.clear();
        self.bytes.clear();
    }

    /// Entry `id`, read once per observation.
    fn get<'a>(&'a mut self, store: &mut Store, id: u32) -> Result<&'a [u8]> {
        let n = store.entry;
        let k = match self.ids.iter().position(|&x| x == id) {
            Some(k) => k,
            None => {
                let k = self.ids.len();
                self.bytes.resize((k + 1) * n, 0);
                store.read(id, &mut self.bytes[k * n..])?;
                self.ids.push(id);
                k
            }
        };
        Ok(&self.bytes[k * n..(k + 1) * n])
    }

    /// Is entry `id`'s hash in `band` equal to `h`? An entry read only to say no is not
    /// kept, so a long run of fingerprint collisions costs one read each, not a growing
    /// list to search.
    fn band_is(&mut self, store: &mut Store, id: u32, band: usize, h: u64) -> Result<bool> {
        let known = self.ids.contains(&id);
        let same = Store::band(self.get(store, id)?, store.bands, band) == h;
        if !same && !known {
            self.ids.pop();
            self.bytes.truncate(self.ids.len() * store.entry);
        }
        Ok(same)
    }
}

/// The streaming LSH index with union-find clusters. Feed it in input order.
pub struct LshIndex {
    threshold: f64,
    geometry: Geometry,
    /// One open-addressing table per band (linear probing, home slot by multiply-shift,
    /// slots packed as [`Geometry`] says): band hash → dense id of the first record with it.
    tables: Vec<Vec<u64>>,
    /// Entries per table.
    lens: Vec<usize>,
    store: Store,
    parent: Vec<u32>,
    has_dup: Vec<u64>,
    clusters: u64,
    removed: u64,
    reads: Reads,
    last_ordinal: Option<u64>,
}

impl std::fmt::Debug for LshIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LshIndex")
            .field("records", &self.parent.len())
            .field("clusters", &self.clusters)
            .field("removed", &self.removed)
            .field("spilling", &self.store.file.is_some())
            .finish()
    }
}

impl LshIndex {
    /// An empty index for `params` (validate them first, e.g. through [`MinHasher::new`])
    /// that keeps everything in memory: the 154 bytes per record (at 10 bands) that
    /// [`LshIndex::spilling`] writes to its file, and no file.
    pub fn new(params: &MinHashParams) -> LshIndex {
        LshIndex::with_capacity(params, 0)
    }

    /// An in-memory index ([`LshIndex::new`]) whose tables are sized for `records` records,
    /// so that up to that many they are never rebuilt. The index still grows past the hint.
    pub fn with_capacity(params: &MinHashParams, records: usize) -> LshIndex {
        let slots = (records * LOAD_DEN / LOAD_NUM + 1).max(MIN_SLOTS);
        let geometry = Geometry::new(slots, records);
        let mut store = Store::in_memory(params.bands);
        store.tail.reserve(records * store.entry);
        LshIndex {
            threshold: params.threshold,
            geometry,
            tables: (0..params.bands).map(|_| geometry.table()).collect(),
            lens: vec![0; params.bands],
            store,
            parent: Vec::with_capacity(records),
            has_dup: Vec::with_capacity(records.div_ceil(64)),
            clusters: 0,
            removed: 0,
            reads: Reads::default(),
            last_ordinal: None,
        }
    }

    /// An empty index that keeps only its band tables and union-find parents in memory
    /// (60 to 80 bytes per record at the default 10 bands) and spills the rest of each
    /// record (ordinal, band hashes, sketch: 154 bytes) to a temporary file in `dir`.
    /// The file has no name (it is unlinked at once), so it goes away with the process,
    /// even after a crash.
    pub fn spilling(params: &MinHashParams, dir: &std::path::Path) -> Result<LshIndex> {
        Ok(LshIndex {
            store: Store::spilling(params.bands, dir)?,
            ..LshIndex::new(params)
        })
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let gp = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = gp;
            x = gp;
        }
        x
    }

    fn dup_flag(&self, r: u32) -> bool {
        self.has_dup[r as usize / 64] >> (r % 64) & 1 == 1
    }

    /// Rebuilds every table to `geometry` from the store. The old tables are freed first,
    /// so growing never holds two sets of tables.
    fn rebuild(&mut self, geometry: Geometry) -> Result<()> {
        for t in &mut self.tables {
            *t = Vec::new();
        }
        let bands = self.store.bands;
        let mut tables: Vec<Vec<u64>> = (0..bands).map(|_| geometry.table()).collect();
        let (slots, free) = (geometry.slots, geometry.free_id());
        let entry = self.store.entry;
        // Per run of entries, each table's new keys are gathered first and then inserted a
        // table at a time, so that its slots stay in the cache while they go in.
        let mut keys: Vec<Vec<(u64, u32)>> = vec![Vec::new(); bands];
        self.store.scan(|first, run| {
            for (j, e) in run.chunks_exact(entry).enumerate() {
                for (b, k) in keys.iter_mut().enumerate() {
                    if Store::first_in(e, b) {
                        k.push((Store::band(e, bands, b), first + j as u32));
                    }
                }
            }
            for (table, k) in tables.iter_mut().zip(&mut keys) {
                for (j, &(h, id)) in k.iter().enumerate() {
                    if let Some(&(later, _)) = k.get(j + 16) {
                        prefetch(table, geometry.home_word(later));
                    }
                    let mut i = home(h, slots);
                    while geometry.get(table, i).1 != free {
                        i += 1;
                        if i == slots {
                            i = 0;
                        }
                    }
                    geometry.set(table, i, h as u16, id);
                }
                k.clear();
            }
        })?;
        self.tables = tables;
        self.geometry = geometry;
        Ok(())
    }

    /// Observes the next record in input order. `ordinal` is the caller's identity for it
    /// and must increase strictly from call to call. Returns `Some` when the record is a
    /// near-duplicate of an earlier one and must be removed (see the module docs for the
    /// exact rule). Empty signatures return `None` and are not indexed. Fails only when a
    /// spilling index cannot write or read its file.
    pub fn observe(&mut self, ordinal: u64, sig: &Signature) -> Result<Option<NearDup>> {
        if sig.is_empty() {
            return Ok(None);
        }
        self.observe_parts(ordinal, &sig.bands, sig.sketch())
    }

    /// [`LshIndex::observe`] from the parts of a signature the index keeps: its band hashes
    /// (empty for an empty signature, which is never a near-duplicate) and its sketch. Lets
    /// workers hand over 144 bytes per record instead of a whole signature.
    pub fn observe_parts(
        &mut self,
        ordinal: u64,
        bands: &[u64],
        sketch: Sketch,
    ) -> Result<Option<NearDup>> {
        if bands.is_empty() {
            return Ok(None);
        }
        assert_eq!(bands.len(), self.store.bands, "signature from other params");
        debug_assert!(
            self.last_ordinal.is_none_or(|l| l < ordinal),
            "ordinals must increase"
        );
        self.last_ordinal = Some(ordinal);
        let id = u32::try_from(self.parent.len())
            .ok()
            .filter(|&i| i != u32::MAX)
            .expect("fewer than 2^32 - 1 records per index");
        let fullest = self.lens.iter().copied().max().unwrap_or(0);
        let slots = self.geometry.slots;
        if (fullest + 1) * LOAD_DEN > slots * LOAD_NUM {
            let bigger = (slots * GROW_NUM / GROW_DEN).max(MIN_SLOTS);
            self.rebuild(Geometry::new(bigger, id as usize))?;
        } else if id >= self.geometry.free_id() {
            self.rebuild(Geometry::new(slots, id as usize))?;
        }
        for (table, &h) in self.tables.iter().zip(bands) {
            prefetch(table, self.geometry.home_word(h));
        }
        // Candidates: first record per shared band (kept or removed).
        self.reads.clear();
        let mut cands = [0u32; BINS];
        let mut nc = 0;
        let mut mask = [0u8; BINS / 8];
        let g = self.geometry;
        let free = g.free_id();
        for (b, &h) in bands.iter().enumerate() {
            let table = &mut self.tables[b];
            let fp = h as u16;
            let mut i = home(h, g.slots);
            loop {
                let (f, c) = g.get(table, i);
                if c == free {
                    g.set(table, i, fp, id);
                    self.lens[b] += 1;
                    mask[b / 8] |= 1 << (b % 8);
                    break;
                }
                if f == fp && self.reads.band_is(&mut self.store, c, b, h)? {
                    if !cands[..nc].contains(&c) {
                        cands[nc] = c;
                        nc += 1;
                    }
                    break;
                }
                i += 1;
                if i == g.slots {
                    i = 0;
                }
            }
        }
        self.store.push(ordinal, &mask, bands, &sketch)?;
        if self.parent.len() == self.parent.capacity() {
            // By a quarter, not double: this vector is a twentieth of the index.
            self.parent.reserve_exact(self.parent.len() / 4 + 1024);
        }
        self.parent.push(id);
        if self.has_dup.len() * 64 <= id as usize {
            self.has_dup.push(0);
        }
        if nc == 0 {
            return Ok(None);
        }
        let cands = &mut cands[..nc];
        cands.sort_unstable();
        // Verify each candidate: the first record of each shared bucket, nothing else.
        // Removal then depends only on the record and its buckets' first records, which is
        // exactly what the partitioned candidate stage computes with MIN(doc_id) per
        // bucket (see scale-out docs); clusters (for the report) merge via union-find.
        let mut matched: Option<(u32, f64)> = None;
        let mut linked = [0u32; BINS];
        let mut nl = 0;
        for &c in cands.iter() {
            let e = self.reads.get(&mut self.store, c)?;
            let s = sketch.jaccard(&self.store.sketch(e));
            if s >= self.threshold {
                if matched.is_none_or(|(m, _)| c < m) {
                    matched = Some((c, s));
                }
                linked[nl] = c;
                nl += 1;
            }
        }
        let Some((m, ms)) = matched else {
            return Ok(None);
        };
        // Merge: count clusters that already had a removed record.
        let mut roots = [0u32; BINS];
        let mut nr = 0;
        for &x in &linked[..nl] {
            let r = self.find(x);
            if !roots[..nr].contains(&r) {
                roots[nr] = r;
                nr += 1;
            }
        }
        let before = roots[..nr].iter().filter(|&&r| self.dup_flag(r)).count() as u64;
        let root = *roots[..nr].iter().min().expect("a match has a root");
        for &r in &roots[..nr] {
            self.parent[r as usize] = root;
        }
        self.parent[id as usize] = root;
        self.has_dup[root as usize / 64] |= 1 << (root % 64);
        self.clusters = self.clusters + 1 - before;
        self.removed += 1;
        let matched = Store::ordinal(self.reads.get(&mut self.store, m)?);
        let e = self.reads.get(&mut self.store, root)?;
        Ok(Some(NearDup {
            survivor: Store::ordinal(e),
            similarity: sketch.jaccard(&self.store.sketch(e)),
            matched,
            matched_similarity: ms,
        }))
    }

    /// Clusters with at least one removed record.
    pub fn clusters(&self) -> u64 {
        self.clusters
    }

    /// Records removed so far.
    pub fn removed(&self) -> u64 {
        self.removed
    }

    /// Records indexed so far (non-empty signatures).
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// True before the first non-empty record.
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// Heap bytes held by the index (allocated capacity, not just used). A spilling
    /// index's file is not counted: see [`LshIndex::spilled_bytes`].
    pub fn memory_bytes(&self) -> usize {
        self.tables.iter().map(Vec::capacity).sum::<usize>() * 8
            + self.parent.capacity() * 4
            + self.has_dup.capacity() * 8
            + self.store.tail.capacity()
            + self.reads.bytes.capacity()
            + self.reads.ids.capacity() * 4
    }

    /// Bytes a spilling index has written to its file (0 in memory).
    pub fn spilled_bytes(&self) -> u64 {
        self.store.on_disk * self.store.entry as u64
    }
}

#[cfg(test)]
mod tests;
