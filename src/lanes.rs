//! The one-pass regex search, walked several parts at a time.
//!
//! Every string is scanned by one regex of all the rules that need no keyword. No literal
//! prefilter serves it (the rules start with classes such as "not a letter or digit"), so
//! the search is a lazy DFA walked a byte at a time, and a byte-at-a-time DFA is bound by
//! the latency of one dependent table load per byte: on the bench corpus it runs at 1.4 to
//! 1.7 ns per byte whether it holds 1 rule or 30. [`crate::keywords`] met the same bound
//! and walks four parts of a text in lockstep; this module does the same for the regex,
//! and gives exactly the match that `meta::Regex::search` gives.
//!
//! A search is the DFA's run from its start: the end of the leftmost-first match is where
//! the run leaves its last match state, and a reverse DFA then finds its start. The run
//! is cut into four parts (of up to [`PART`] bytes) that are walked at once, each after
//! the first from a fresh start state. A part's walk is not the run itself: the run enters
//! the part with matches in progress that the fresh walk never started. So at each cut,
//! the run's state (known from the part before) and the fresh walk's are stepped side by
//! side until they are the same state; from there on the DFA is deterministic, and the
//! part's walk *is* the run. In text, matches in progress end within a word, so the two
//! meet within a few bytes; where they do not meet within the part, the run is simply
//! walked through it. Once the run enters a match state, or near the end of the range,
//! the search goes on a byte at a time as the DFA's own search does.
//!
//! Lazy DFA state ids are only comparable within one cache, and a cache may be cleared
//! when it fills, which makes the ids held so far meaningless. So all walks share one
//! cache, and if it is cleared during a search, the search gives up and the caller runs
//! the plain one ([`GaveUp`]); a warm cache is cleared rarely.

use regex_automata::hybrid::dfa::{Cache as DfaCache, DFA};
use regex_automata::hybrid::regex::{Cache, Regex};
use regex_automata::hybrid::LazyStateID;
use regex_automata::util::pool::Pool;
use regex_automata::{Anchored, HalfMatch, Input, Match};

/// Parts walked at once (four, as in [`crate::keywords`]).
const LANES: usize = 4;

/// Longest part, in bytes (measured on the bench corpus: 64 to 128 are alike; shorter
/// parts spend more on starting and joining walks).
pub const PART: usize = 96;

/// Shortest part: a range shorter than four of these is searched byte by byte.
const MIN_PART: usize = 16;

/// Shortest range worth the lanes: a caller searches shorter ones the plain way.
pub const MIN_RANGE: usize = LANES * MIN_PART;

type CacheFn =
    Box<dyn Fn() -> Cache + Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe>;

/// The one-pass regex as a forward and a reverse lazy DFA, with a cache per thread. Each
/// cache may grow to the capacity given for each of the two DFAs, beside the plain
/// regex's own caches (which still serve short ranges and the fallback).
pub struct Lanes {
    re: std::sync::Arc<Regex>,
    caches: Pool<Cache, CacheFn>,
}

impl std::fmt::Debug for Lanes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lanes")
            .field("patterns", &self.re.pattern_len())
            .finish()
    }
}

/// The lane search could not answer (the DFA's cache was cleared during it, or the DFA
/// gave up); the caller runs the plain search.
#[derive(Debug)]
pub struct GaveUp;

impl Lanes {
    /// Compiles `patterns` (in this order: pattern ids are indices) as
    /// `meta::Regex::new_many` would, with leftmost-first semantics. `None` when a lazy DFA
    /// cannot run them (a Unicode word boundary, which the rules refuse anyway).
    pub fn new(patterns: &[&str], nfa_size_limit: usize, cache_capacity: usize) -> Option<Lanes> {
        let re = Regex::builder()
            .thompson(
                regex_automata::nfa::thompson::Config::new().nfa_size_limit(Some(nfa_size_limit)),
            )
            .dfa(DFA::config().cache_capacity(cache_capacity))
            .build_many(patterns)
            .ok()?;
        let re = std::sync::Arc::new(re);
        let make = std::sync::Arc::clone(&re);
        let create: CacheFn = Box::new(move || make.create_cache());
        Some(Lanes {
            re,
            caches: Pool::new(create),
        })
    }

    /// The leftmost-first match in `text[at..end]` (the whole of `text` is the haystack,
    /// for look-around): what `meta::Regex::search` gives for
    /// `Input::new(text).range(at..end)`.
    pub fn search(&self, text: &str, at: usize, end: usize) -> Result<Option<Match>, GaveUp> {
        let hay = text.as_bytes();
        let mut cache = self.caches.get();
        let (fc, rc) = cache.as_parts_mut();
        let Some(half) = self.forward(fc, hay, at, end)? else {
            return Ok(None);
        };
        if half.offset() == at || !text.is_char_boundary(half.offset()) {
            // An empty match at the start, or a match ending inside a character (only an
            // empty one can): the plain search's UTF-8 handling decides what they mean.
            return Err(GaveUp);
        }
        let rev = Input::new(hay)
            .range(at..half.offset())
            .anchored(Anchored::Yes)
            .earliest(false);
        let start = self
            .re
            .reverse()
            .try_search_rev(rc, &rev)
            .map_err(|_| GaveUp)?
            .ok_or(GaveUp)?;
        Ok(Some(Match::new(
            half.pattern(),
            start.offset()..half.offset(),
        )))
    }

    /// The forward half of [`Lanes::search`]: the end and pattern of the leftmost-first
    /// match, as the lazy DFA's own forward search reports them.
    fn forward(
        &self,
        fc: &mut DfaCache,
        hay: &[u8],
        at: usize,
        end: usize,
    ) -> Result<Option<HalfMatch>, GaveUp> {
        let dfa = self.re.forward();
        let clears = fc.clear_count();
        let start = |fc: &mut DfaCache, from: usize| {
            let sid = dfa
                .start_state_forward(fc, &Input::new(hay).range(from..end))
                .map_err(|_| GaveUp)?;
            // Untagged without a prefilter or specialized start states; the walks rely
            // on it.
            if fc.clear_count() != clears || sid.is_tagged() {
                return Err(GaveUp);
            }
            Ok(sid)
        };
        let step = |fc: &mut DfaCache, sid: LazyStateID, byte: u8| {
            let next = dfa.next_state(fc, sid, byte).map_err(|_| GaveUp)?;
            if fc.clear_count() != clears {
                return Err(GaveUp);
            }
            Ok(next)
        };
        // The run's state before the byte at `pos`.
        let mut sid = start(fc, at)?;
        let mut pos = at;
        // Where the run first enters a tagged state (a match): the position of the byte
        // whose transition entered it, and the state.
        let mut first: Option<(usize, LazyStateID)> = None;
        'blocks: while end - pos >= MIN_RANGE {
            let part = PART.min((end - pos) / LANES);
            let b: [usize; LANES] = std::array::from_fn(|j| pos + j * part);
            let mut starts = [sid; LANES];
            for j in 1..LANES {
                starts[j] = start(fc, b[j])?;
            }
            // Each walk's first tagged state: (index in its part, state).
            let mut event: [Option<(usize, LazyStateID)>; LANES] = [None; LANES];
            let mut s = starts;
            let mut i = 0;
            while i < part {
                let (k, current, next) = walk(dfa, fc, hay, b[0], part, i, s);
                (i, s) = (k, current);
                if i == part {
                    break;
                }
                // A walk reached a tagged state on byte `i` of its part.
                let mut next = next;
                for j in 0..LANES {
                    if next[j].is_unknown() {
                        next[j] = step(fc, s[j], hay[b[j] + i])?;
                    }
                    if next[j].is_tagged() {
                        event[j].get_or_insert((i, next[j]));
                        // Its later states are not needed.
                        next[j] = starts[j];
                    }
                }
                if event[0].is_some() {
                    break;
                }
                s = next;
                i += 1;
            }
            // The first walk is the run.
            if let Some((i, state)) = event[0] {
                first = Some((b[0] + i, state));
                break 'blocks;
            }
            let ends = s;
            let mut run = ends[0];
            for j in 1..LANES {
                // Step the run from the cut, and walk j beside it until they meet. From
                // there walk j is the run: its first tagged state, if it comes after the
                // meeting, is the run's, and without one its end is the run's. If walk j
                // was parked before they met, the run goes on alone through the part.
                let (mut t, mut u) = (run, Some(starts[j]));
                let mut i = 0;
                while i < part {
                    if u == Some(t) {
                        match event[j] {
                            Some((k, state)) if k >= i => {
                                first = Some((b[j] + k, state));
                                break 'blocks;
                            }
                            Some(_) => u = None,
                            None => {
                                t = ends[j];
                                break;
                            }
                        }
                    }
                    let byte = hay[b[j] + i];
                    t = step(fc, t, byte)?;
                    if t.is_tagged() {
                        first = Some((b[j] + i, t));
                        break 'blocks;
                    }
                    if let Some(w) = u {
                        u = Some(step(fc, w, byte)?);
                    }
                    i += 1;
                }
                run = t;
            }
            sid = run;
            pos += LANES * part;
        }
        // The DFA's own search from here on.
        let mut found = None;
        match first {
            Some((p, state)) => (pos, sid) = (p, state),
            None if pos < end => sid = step(fc, sid, hay[pos])?,
            None => return eoi(dfa, fc, hay, end, sid, found, clears),
        }
        loop {
            if sid.is_tagged() {
                if sid.is_match() {
                    // Matches are reported one byte late: this one ends before `pos`.
                    found = Some(HalfMatch::new(dfa.match_pattern(fc, sid, 0), pos));
                } else if sid.is_dead() {
                    return Ok(found);
                } else {
                    return Err(GaveUp);
                }
            }
            pos += 1;
            if pos >= end {
                return eoi(dfa, fc, hay, end, sid, found, clears);
            }
            sid = step(fc, sid, hay[pos])?;
        }
    }
}

/// Steps the four walks (parts of `part` bytes from `base`, one after the other) in
/// lockstep from byte `i` of each, until one reaches a tagged state or the parts end.
/// Returns the index of the byte reached, the states before it, and the states after it
/// (at the end of the parts: the index `part`, and the last states twice).
#[inline(never)]
fn walk(
    dfa: &DFA,
    fc: &DfaCache,
    hay: &[u8],
    base: usize,
    part: usize,
    mut i: usize,
    s: [LazyStateID; LANES],
) -> (usize, [LazyStateID; LANES], [LazyStateID; LANES]) {
    let hay = &hay[base..base + LANES * part];
    let [mut s0, mut s1, mut s2, mut s3] = s;
    while i < part {
        // Bounds-checked, so that a wrong id would panic rather than read astray: each
        // state is untagged (`walk` stops at a tagged one, and the caller parks a walk on
        // its untagged start state) and comes from this cache, which the caller checks
        // for a clear after every transition that could clear it.
        let (n0, n1, n2, n3) = (
            dfa.next_state_untagged(fc, s0, hay[i]),
            dfa.next_state_untagged(fc, s1, hay[i + part]),
            dfa.next_state_untagged(fc, s2, hay[i + 2 * part]),
            dfa.next_state_untagged(fc, s3, hay[i + 3 * part]),
        );
        if (n0.is_tagged() | n1.is_tagged()) | (n2.is_tagged() | n3.is_tagged()) {
            return (i, [s0, s1, s2, s3], [n0, n1, n2, n3]);
        }
        (s0, s1, s2, s3) = (n0, n1, n2, n3);
        i += 1;
    }
    (i, [s0, s1, s2, s3], [s0, s1, s2, s3])
}

/// The DFA's last transition, on the byte after the range (look-ahead) or on the end of
/// the text, as its own search makes it.
fn eoi(
    dfa: &DFA,
    fc: &mut DfaCache,
    hay: &[u8],
    end: usize,
    sid: LazyStateID,
    found: Option<HalfMatch>,
    clears: usize,
) -> Result<Option<HalfMatch>, GaveUp> {
    let next = match hay.get(end) {
        Some(&b) => dfa.next_state(fc, sid, b),
        None => dfa.next_eoi_state(fc, sid),
    }
    .map_err(|_| GaveUp)?;
    if fc.clear_count() != clears || next.is_quit() {
        return Err(GaveUp);
    }
    if next.is_match() {
        return Ok(Some(HalfMatch::new(dfa.match_pattern(fc, next, 0), end)));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use regex_automata::meta;

    fn both(patterns: &[&str], capacity: usize) -> (meta::Regex, Lanes) {
        let meta = meta::Regex::new_many(patterns).unwrap();
        let lanes = Lanes::new(patterns, 64 << 20, capacity).unwrap();
        (meta, lanes)
    }

    /// Every search of a scan over `text` (resuming after each match, or one character
    /// on), for a few range ends, through both. Returns how many searches the lanes
    /// answered.
    fn agree(meta: &meta::Regex, lanes: &Lanes, text: &str) -> Result<usize, String> {
        let mut answered = 0;
        for resume_at_end in [false, true] {
            for end in [text.len(), text.len() * 2 / 3, text.len().saturating_sub(1)] {
                let end = (0..=end).rev().find(|&e| text.is_char_boundary(e)).unwrap();
                let mut at = 0;
                while at <= end {
                    let want = meta.search(&Input::new(text).range(at..end));
                    if let Ok(got) = lanes.search(text, at, end) {
                        answered += 1;
                        if got != want {
                            return Err(format!("at {at}..{end}: {got:?}, want {want:?}"));
                        }
                    }
                    let Some(m) = want else { break };
                    at = if resume_at_end {
                        m.end().max(m.start() + 1)
                    } else {
                        m.start() + 1
                    };
                    while at < text.len() && !text.is_char_boundary(at) {
                        at += 1;
                    }
                }
            }
        }
        Ok(answered)
    }

    fn builtin_patterns() -> Vec<String> {
        let set = crate::rules::RuleSet::builtin().unwrap();
        set.rules()
            .iter()
            .filter(|r| r.keywords.is_empty() && r.scope != crate::rules::Scope::CsvColumn)
            .map(|r| r.pattern.clone())
            .collect()
    }

    const VALUES: [&str; 12] = [
        "alice.smith@example.com",
        "13912345678",
        "+86 139 1234 5678",
        "4111 1111 1111 1111",
        "110101199003074578",
        "192.168.10.20",
        "2001:db8::8a2e:370:7334",
        "DE89 3704 0044 0532 0130 00",
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_R7d2Kq9XwL4mT8vN3bY6cJ1hF5gP0sZaQeWu",
        "(415) 555-2671",
        "averyveryverylongwordwithoutanybreaksthatgoesonandonandonandonandon",
    ];

    #[test]
    fn long_texts_agree_with_the_plain_search() {
        let owned = builtin_patterns();
        let patterns: Vec<&str> = owned.iter().map(String::as_str).collect();
        let (meta, lanes) = both(&patterns, 8 << 20);
        let filler = "The quick brown fox jumps over the lazy dog; 今天天气很好，我们去公园。 ";
        for reps in [1, 3, 10, 40] {
            let mut text = String::new();
            for (i, v) in VALUES.iter().cycle().take(reps * VALUES.len()).enumerate() {
                let cut = (0..=filler.len() * (i % 3 + 1) / 3)
                    .rev()
                    .find(|&c| filler.is_char_boundary(c))
                    .unwrap_or(0);
                text.push_str(&filler[..cut]);
                text.push_str(v);
                text.push(if i % 2 == 0 { ' ' } else { ',' });
            }
            // The lanes must answer, not just agree by giving up.
            assert!(agree(&meta, &lanes, &text).unwrap() > 0, "{reps}");
        }
    }

    /// Each value at every offset of fillers a little shorter and longer than the lanes
    /// need (`MIN_RANGE`) and than a block of four full parts.
    #[test]
    fn values_slid_across_the_cuts_agree() {
        let owned = builtin_patterns();
        let patterns: Vec<&str> = owned.iter().map(String::as_str).collect();
        let (meta, lanes) = both(&patterns, 8 << 20);
        let mut answered = 0;
        for len in [
            MIN_RANGE - 1,
            MIN_RANGE,
            MIN_RANGE + 3,
            4 * PART - 1,
            4 * PART + 2,
        ] {
            for fill in ["a", "0", " ", "é", "的"] {
                for v in VALUES {
                    let mut at = 0;
                    while at + v.len() <= len {
                        let before = fill.repeat(at / fill.len());
                        let after = fill.repeat((len - before.len() - v.len()) / fill.len());
                        let text = format!("{before}{v}{after}");
                        answered += agree(&meta, &lanes, &text).unwrap();
                        at += 7;
                    }
                }
            }
        }
        assert!(answered > 10_000, "{answered}");
    }

    /// Patterns whose matches run on across the cuts, loop back to their start, or look
    /// around, and a cache so small that it is cleared during searches (the lanes then
    /// give up, and must never answer wrongly).
    #[test]
    fn odd_patterns_and_a_tiny_cache_agree() {
        let sets: [&[&str]; 6] = [
            &[r"a*b"],
            &[r"(?:^|[^a-z])x+", r"[0-9]{3,}"],
            &[r"(?-u:\b)foo(?-u:\b)", r"[a-z]+@[a-z]+\.com"],
            &[r"x+$", r"(?m)^y+"],
            &[r"(?s)a.*b"],
            &[r"[a-z]{100}", r"é+"],
        ];
        let texts = [
            format!("{}b{}", "a".repeat(300), " xx foo 123 ".repeat(40)),
            format!("{}{}", "-x".repeat(200), "abcdefghijklmnop@example.com"),
            format!("{}foo{}xxxx", "é".repeat(100), "z".repeat(250)),
            format!(
                "y{}\nyy{}a{}b",
                "x".repeat(90),
                " ".repeat(150),
                "q".repeat(200)
            ),
        ];
        for patterns in sets {
            for capacity in [8 << 20, 0] {
                // The smallest capacity the DFA accepts, when asked for none.
                let lanes = (capacity..)
                    .step_by(1 << 10)
                    .find_map(|c| Lanes::new(patterns, 64 << 20, c))
                    .unwrap();
                let meta = meta::Regex::new_many(patterns).unwrap();
                for text in &texts {
                    agree(&meta, &lanes, text).unwrap();
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn random_texts_agree_with_the_plain_search(parts in proptest::collection::vec(
            prop_oneof![
                Just("alice@example.com"), Just("13912345678"), Just("10.0.0.1"),
                Just("4111111111111111"), Just(" "), Just(","), Just("-"), Just("."),
                Just("@"), Just(":"), Just("的"), Just("word"), Just("AKIA"),
                Just("0"), Just("9"), Just("x"), Just("\n"), Just("ghp_"),
            ],
            0..400,
        )) {
            let owned = builtin_patterns();
            let patterns: Vec<&str> = owned.iter().map(String::as_str).collect();
            static BOTH: std::sync::OnceLock<(meta::Regex, Lanes)> = std::sync::OnceLock::new();
            let (meta, lanes) = BOTH.get_or_init(|| both(&patterns, 8 << 20));
            let text: String = parts.concat();
            prop_assert!(agree(meta, lanes, &text).is_ok());
        }
    }
}
