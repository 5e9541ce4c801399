//! The scrubber: detection plus pseudonymization of one string. It is the seam every input
//! format uses: JSONL and Parquet both hand it `&str` values and write back what it returns.

use crate::detect::{Detector, Finding, Scratch, Views};
use crate::pseudonym::{token_spans, Pseudonymizer};

/// Detection counts per rule index (summed into per-entity totals for the manifest).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Detections {
    /// `by_rule[i]` = values found by rule `i`.
    pub by_rule: Vec<u64>,
}

impl Detections {
    /// Adds one finding of rule `rule`.
    pub fn add(&mut self, rule: u32) {
        let i = rule as usize;
        if self.by_rule.len() <= i {
            self.by_rule.resize(i + 1, 0);
        }
        self.by_rule[i] += 1;
    }

    /// Adds all counts of `other`.
    pub fn merge(&mut self, other: &Detections) {
        if self.by_rule.len() < other.by_rule.len() {
            self.by_rule.resize(other.by_rule.len(), 0);
        }
        for (a, b) in self.by_rule.iter_mut().zip(&other.by_rule) {
            *a += b;
        }
    }

    /// Total findings.
    pub fn total(&self) -> u64 {
        self.by_rule.iter().sum()
    }
}

/// Something that counts replaced values by rule index.
pub trait Tally {
    /// One value replaced by rule `rule`.
    fn add(&mut self, rule: u32);
}

impl Tally for Detections {
    fn add(&mut self, rule: u32) {
        Detections::add(self, rule);
    }
}

/// A list of rule indices, one per replaced value, in order.
impl Tally for Vec<u32> {
    fn add(&mut self, rule: u32) {
        self.push(rule);
    }
}

/// Detects and replaces sensitive values in strings. `Sync`: share one across threads and
/// give each thread its own [`ScrubScratch`].
#[derive(Debug)]
pub struct Scrubber {
    detector: Detector,
    pseudonymizer: Pseudonymizer,
    /// The entity types of the rules, sorted: the only names that make a token.
    entities: Vec<String>,
}

/// Per-thread buffers for [`Scrubber::scrub`].
pub struct ScrubScratch {
    det: Scratch,
    findings: Vec<Finding>,
    tokens: Vec<(usize, usize)>,
    written: Vec<(usize, usize)>,
    /// A finding's canonical value, reused from finding to finding.
    norm: String,
}

impl Scrubber {
    /// A scrubber from a compiled detector and a keyed pseudonymizer.
    pub fn new(detector: Detector, pseudonymizer: Pseudonymizer) -> Scrubber {
        let mut entities: Vec<String> = (0..detector.len() as u32)
            .map(|i| detector.rule(i).entity.clone())
            .collect();
        entities.sort_unstable();
        entities.dedup();
        Scrubber {
            detector,
            pseudonymizer,
            entities,
        }
    }

    /// The detector.
    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// The pseudonymizer.
    pub fn pseudonymizer(&self) -> &Pseudonymizer {
        &self.pseudonymizer
    }

    /// Fresh per-thread scratch.
    pub fn scratch(&self) -> ScrubScratch {
        ScrubScratch {
            det: self.detector.scratch(),
            findings: Vec::new(),
            tokens: Vec::new(),
            written: Vec::new(),
            norm: String::new(),
        }
    }

    /// Finds the sensitive values of `text`, skipping any inside existing tokens, so that
    /// scrubbing scrubbed text changes nothing.
    pub fn findings<'s>(&self, text: &str, scratch: &'s mut ScrubScratch) -> &'s [Finding] {
        self.findings_from(text, 0, scratch, Views::All)
    }

    /// [`Scrubber::findings`] of a value under a label (its JSON key or Parquet field
    /// name), with spans in the value: those of the value alone, then those that the
    /// label's words bring (see [`Scrubber::scrub_labeled`]).
    pub fn findings_labeled<'s>(
        &self,
        label: Option<&str>,
        value: &str,
        scratch: &'s mut ScrubScratch,
    ) -> &'s [Finding] {
        let prefixes = self.label_prefixes(label);
        if prefixes.is_empty() {
            return self.findings(value, scratch);
        }
        let mut all = self.findings(value, scratch).to_vec();
        for prefix in prefixes {
            let text = format!("{prefix}{value}");
            for f in self.findings_from(&text, prefix.len(), scratch, Views::All) {
                let f = Finding {
                    start: f.start - prefix.len(),
                    end: f.end - prefix.len(),
                    rule: f.rule,
                };
                if !all.contains(&f) {
                    all.push(f);
                }
            }
        }
        scratch.findings = all;
        &scratch.findings
    }

    /// The ways to put `label` in front of a value, `label: `, for each form of it that
    /// holds a rule's keyword: as written (`api_key`), and with `_` and `-` read as spaces
    /// (`id card`, `date of birth`), as keywords and labels are written. A line break in a
    /// label reads as a space too: it would start a new line of text.
    fn label_prefixes(&self, label: Option<&str>) -> Vec<String> {
        let Some(label) = label else {
            return Vec::new();
        };
        // Every string value asks: the common label (`text`, `content`) costs one scan of
        // a few bytes and no allocation. A full-width label (`ｐｈｏｎｅ`) reads as ASCII.
        let label = crate::fold::fold(label);
        let written: std::borrow::Cow<'_, str> = if label.contains(['\n', '\r']) {
            label.replace(['\n', '\r'], " ").into()
        } else {
            label
        };
        let mut out = Vec::new();
        if self.detector.is_label(&written) {
            out.push(format!("{written}: "));
        }
        if written.contains(['_', '-']) {
            let spaced = written.replace(['_', '-'], " ");
            if self.detector.is_label(&spaced) {
                out.push(format!("{spaced}: "));
            }
        }
        out
    }

    /// Findings in `views` that start at or after `from` (the value after a label).
    fn findings_from<'s>(
        &self,
        text: &str,
        from: usize,
        scratch: &'s mut ScrubScratch,
        views: Views,
    ) -> &'s [Finding] {
        scratch.findings.clear();
        self.detector
            .find_views(text, &mut scratch.det, &mut scratch.findings, views);
        if from > 0 {
            scratch.findings.retain(|f| f.start >= from);
        }
        if !scratch.findings.is_empty() && text.as_bytes().contains(&b'<') {
            scratch.tokens.clear();
            let entities = &self.entities;
            let is_type = |t: &str| entities.binary_search_by(|e| e.as_str().cmp(t)).is_ok();
            token_spans(text, is_type, &mut scratch.tokens);
            if !scratch.tokens.is_empty() {
                let tokens = &scratch.tokens;
                scratch
                    .findings
                    .retain(|f| !tokens.iter().any(|&(s, e)| f.start < e && s < f.end));
            }
        }
        &scratch.findings
    }

    /// Returns the scrubbed text, or `None` when nothing was found (the caller keeps the
    /// original bytes). Counts what it replaced in `counts`.
    ///
    /// The result is a fixpoint: scrubbing it again finds nothing. A replacement can
    /// complete a value it used to break (`a@x.com10.1.1.1`: once the IP is a token, the
    /// address before it is whole), so after replacing, the text around each new token is
    /// checked, and only if something appears there is the whole text scanned again.
    pub fn scrub<T: Tally + ?Sized>(
        &self,
        text: &str,
        scratch: &mut ScrubScratch,
        counts: &mut T,
    ) -> Option<String> {
        self.scrub_from(text, 0, scratch, counts)
    }

    /// Scrubs a value that stands under a label: a JSON object key or a Parquet field or
    /// map key (`{"phone": "4155552671"}`, `{"密码": "…"}`). The value is scrubbed alone,
    /// then, when the label holds the keyword of a keyword-gated rule, again as
    /// `label: value`, so that the rules that need a word before a value (bare phone
    /// numbers, SSNs, passwords, addresses after their label) see it; only the value is
    /// changed, and tokens from the first pass are inert in the second.
    pub fn scrub_labeled<T: Tally + ?Sized>(
        &self,
        label: Option<&str>,
        value: &str,
        scratch: &mut ScrubScratch,
        counts: &mut T,
    ) -> Option<String> {
        let prefixes = self.label_prefixes(label);
        if self.pseudonymizer.style() == crate::pseudonym::Style::Surrogate {
            // Surrogates look real: a second pass would replace them again, and a value
            // would get another surrogate under a key than in text. One pass, labeled.
            let Some(prefix) = prefixes.first() else {
                return self.scrub(value, scratch, counts);
            };
            let out =
                self.scrub_from(&format!("{prefix}{value}"), prefix.len(), scratch, counts)?;
            return Some(out[prefix.len()..].to_string());
        }
        self.labeled_traced(value, &prefixes, scratch, counts, None)
    }

    /// [`Scrubber::scrub_labeled`] in the styles other than surrogates, which take one
    /// labeled pass; with `origin`, also where the result's bytes come from in `value`.
    fn labeled_traced<T: Tally + ?Sized>(
        &self,
        value: &str,
        prefixes: &[String],
        scratch: &mut ScrubScratch,
        counts: &mut T,
        origin: Option<&mut Origin>,
    ) -> Option<String> {
        if prefixes.is_empty() {
            return self.scrub_traced(value, 0, scratch, counts, origin);
        }
        if !crate::fold::joins(value) {
            return self.labeled_passes(value, prefixes, scratch, counts, true, true, origin);
        }
        // The value's own pass can find a piece of a cut value in the joined view whose
        // token keeps the labeled pass from taking the whole value (a password with a
        // phone number inside it). As in `scrub_from`, the passes with the joined view
        // stand unless they leave raw a byte that the passes without it replace.
        // Neither reading tries the labels-first order: when only one of them took it,
        // the joined phase that `settle` runs after the plain reading could not extend
        // its tokens, and left bytes raw that the fixed order replaces (review of c0ca2aa:
        // `+1 415 555 26\u{200D}71` under `address`).
        let plain = Reading::new(value, |counts, origin| {
            self.labeled_passes(value, prefixes, scratch, counts, false, false, Some(origin))
        });
        let all = Reading::new(value, |counts, origin| {
            self.labeled_passes(value, prefixes, scratch, counts, true, false, Some(origin))
        });
        self.settle(value, 0, scratch, counts, plain, all, &[], origin)
    }

    /// The passes of [`Scrubber::scrub_labeled`]: the value alone, then behind each of
    /// `prefixes`; with the joined view or without. With `origin`, leaves there where the
    /// result's bytes come from in `value`.
    ///
    /// A token from the value's own pass is inert in the labeled passes, so it can keep a
    /// labeled rule from taking the whole value: under `password`, `pw:13912345678-tail`
    /// would keep `pw:` and `-tail` raw around a phone token. When the result leaves bytes
    /// raw and a labeled pass over the untouched value finds something over one of them,
    /// the passes also run the other way round, labeled first (if `reorder`), and that
    /// reading stands if it replaces strictly more: every byte it leaves raw the first
    /// reading leaves raw too, and not the other way round.
    #[allow(clippy::too_many_arguments)]
    fn labeled_passes<T: Tally + ?Sized>(
        &self,
        value: &str,
        prefixes: &[String],
        scratch: &mut ScrubScratch,
        counts: &mut T,
        join: bool,
        reorder: bool,
        origin: Option<&mut Origin>,
    ) -> Option<String> {
        let own_first = Reading::new(value, |counts, origin| {
            let order = std::iter::once("").chain(prefixes.iter().map(String::as_str));
            self.passes_in_order(value, order, scratch, counts, join, origin)
        });
        let mut kept = own_first;
        if reorder
            && kept.out.is_some()
            && !kept.origin.is_empty()
            && self.label_finds_raw(value, prefixes, &kept.origin, scratch, join)
        {
            let labels_first = Reading::new(value, |counts, origin| {
                let order = prefixes
                    .iter()
                    .map(String::as_str)
                    .chain(std::iter::once(""));
                self.passes_in_order(value, order, scratch, counts, join, origin)
            });
            if raw_within(&labels_first.origin, &kept.origin)
                && !raw_within(&kept.origin, &labels_first.origin)
            {
                kept = labels_first;
            }
        }
        kept.counts.iter().for_each(|&r| counts.add(r));
        if let Some(o) = origin {
            *o = kept.origin;
        }
        kept.out
    }

    /// Does a labeled pass over the untouched `value` find something over a byte that
    /// `origin` (a reading of `value`) leaves raw? Only then can the labels-first reading
    /// replace more, so only then is it worth running. (A token from the own pass hides
    /// no span from this pass; a check for findings that tokens hid would miss the usual
    /// case, where the labeled rule simply stops at the token.)
    fn label_finds_raw(
        &self,
        value: &str,
        prefixes: &[String],
        origin: &Origin,
        scratch: &mut ScrubScratch,
        join: bool,
    ) -> bool {
        let views = if join { Views::All } else { Views::Plain };
        prefixes.iter().any(|prefix| {
            let n = prefix.len();
            let text = format!("{prefix}{value}");
            self.findings_from(&text, n, scratch, views)
                .iter()
                .any(|f| {
                    let (a, b) = (f.start - n, f.end - n);
                    origin.iter().any(|&(s, e, o)| o < b && a < o + (e - s))
                })
        })
    }

    /// Scrubs `value` behind each prefix of `order` in turn (`""`: the value alone), each
    /// pass over the result of the one before; only the value is changed. Leaves in
    /// `origin` (which must start as `value`'s) where the result's bytes come from.
    fn passes_in_order<'p, T: Tally + ?Sized>(
        &self,
        value: &str,
        order: impl Iterator<Item = &'p str>,
        scratch: &mut ScrubScratch,
        counts: &mut T,
        join: bool,
        origin: &mut Origin,
    ) -> Option<String> {
        let mut out: Option<String> = None;
        for prefix in order {
            let cur = out.as_deref().unwrap_or(value);
            // The value's own pass scans it where it is; only a labeled pass needs a copy.
            let text: std::borrow::Cow<'_, str> = if prefix.is_empty() {
                cur.into()
            } else {
                format!("{prefix}{cur}").into()
            };
            let mut o = vec![(0, text.len(), 0)];
            if let Some(new) =
                self.scrub_views(&text, prefix.len(), scratch, counts, join, Some(&mut o))
            {
                // `o` maps the new text into `prefix + out`; `origin` maps `out` into
                // `value`. The prefix has no origin in `value`, and goes.
                let n = prefix.len();
                let shifted: Origin = origin.iter().map(|&(s, e, v)| (s + n, e + n, v)).collect();
                let mut composed = Origin::new();
                for &(s, e, t) in &o {
                    carry(&shifted, t, t + (e - s), s, &mut composed);
                }
                *origin = composed
                    .into_iter()
                    .map(|(s, e, v)| (s - n, e - n, v))
                    .collect();
                out = Some(new[n..].to_string());
            }
        }
        out
    }

    /// [`Scrubber::scrub_from`], or with `join` false the scrub without the joined view.
    fn scrub_views<T: Tally + ?Sized>(
        &self,
        text: &str,
        from: usize,
        scratch: &mut ScrubScratch,
        counts: &mut T,
        join: bool,
        origin: Option<&mut Origin>,
    ) -> Option<String> {
        if join {
            return self.scrub_traced(text, from, scratch, counts, origin);
        }
        self.findings_from(text, from, scratch, Views::Plain);
        self.scrub_found(text, from, scratch, counts, Views::Plain, &[], origin)
    }

    /// [`Scrubber::scrub`] of the part of `text` from `from` on: nothing before it is
    /// replaced.
    ///
    /// A text with invisible characters inside values (see [`crate::fold`]) is scrubbed
    /// with all views competing, which finds values cut by them whole
    /// (`a\u{AD}lice@corp.com`, a JWT whose signature a joiner splits). That result stands
    /// unless it leaves raw a byte that the scrub without the joined view replaces: a
    /// joined reading can take the tail of a value that the other views find only on a
    /// rescan (`+49 30 901820\u{200B}alice@corp.com` after another number). Then two
    /// phases run instead: the scrub without the joined view, then the joined view alone
    /// over what it left, so every token of the first phase stays.
    fn scrub_from<T: Tally + ?Sized>(
        &self,
        text: &str,
        from: usize,
        scratch: &mut ScrubScratch,
        counts: &mut T,
    ) -> Option<String> {
        self.scrub_traced(text, from, scratch, counts, None)
    }

    /// [`Scrubber::scrub_from`]; with `origin` (which must start as `text`'s, one run over
    /// all of it), also where the result's bytes come from.
    fn scrub_traced<T: Tally + ?Sized>(
        &self,
        text: &str,
        from: usize,
        scratch: &mut ScrubScratch,
        counts: &mut T,
        origin: Option<&mut Origin>,
    ) -> Option<String> {
        self.findings_from(text, from, scratch, Views::Plain);
        if !scratch.det.joins() {
            return self.scrub_found(text, from, scratch, counts, Views::Plain, &[], origin);
        }
        let plain = Reading::new(text, |counts, origin| {
            self.scrub_found(text, from, scratch, counts, Views::Plain, &[], Some(origin))
        });
        // Surrogates look real and get no rescans: the spans the first phase wrote are
        // kept out of the joined phase (tokens are inert anyway, see `findings_from`).
        let surrogate = self.pseudonymizer.style() == crate::pseudonym::Style::Surrogate;
        let protect = if surrogate && plain.out.is_some() {
            std::mem::take(&mut scratch.written)
        } else {
            Vec::new()
        };
        self.findings_from(text, from, scratch, Views::All);
        let all = Reading::new(text, |counts, origin| {
            self.scrub_found(text, from, scratch, counts, Views::All, &[], Some(origin))
        });
        self.settle(text, from, scratch, counts, plain, all, &protect, origin)
    }

    /// Of two readings of `text`, without the joined view and with it: the one with it,
    /// unless it leaves raw a byte that the one without it replaces; then the one without,
    /// followed by the joined view alone over what it left (none of it over `protect`).
    /// Adds the counts of the result to `counts`, and leaves its origin in `origin`.
    #[allow(clippy::too_many_arguments)]
    fn settle<T: Tally + ?Sized>(
        &self,
        text: &str,
        from: usize,
        scratch: &mut ScrubScratch,
        counts: &mut T,
        plain: Reading,
        all: Reading,
        protect: &[(usize, usize)],
        origin: Option<&mut Origin>,
    ) -> Option<String> {
        let (kept, joined_phase) = if raw_within(&all.origin, &plain.origin) {
            (all, false)
        } else {
            (plain, true)
        };
        let Reading {
            out,
            counts: found,
            origin: mut kept_origin,
        } = kept;
        found.into_iter().for_each(|r| counts.add(r));
        let mut out = out;
        if joined_phase {
            let rest = out.as_deref().unwrap_or(text);
            self.findings_from(rest, from, scratch, Views::Joined);
            let joined = self.scrub_found(
                rest,
                from,
                scratch,
                counts,
                Views::All,
                protect,
                Some(&mut kept_origin),
            );
            out = joined.or(out);
        }
        if let Some(o) = origin {
            *o = kept_origin;
        }
        out
    }

    /// The scrub without the joined view: what [`Scrubber::scrub`] gives text without
    /// invisible characters inside values (tests compare the two).
    #[cfg(test)]
    fn scrub_plain(&self, text: &str, scratch: &mut ScrubScratch) -> Option<String> {
        self.scrub_views(text, 0, scratch, &mut Vec::new(), false, None)
    }

    /// Replaces the findings in `scratch` (but none that overlaps a span of `protect`) in
    /// `text`, then rescans around the new tokens in `again` views, up to [`MAX_ROUNDS`]
    /// times. Returns the scrubbed text, if anything was replaced. With `origin` (the
    /// origin of `text`'s bytes, see [`Origin`]), leaves there the origin of the result's.
    #[allow(clippy::too_many_arguments)]
    fn scrub_found<T: Tally + ?Sized>(
        &self,
        text: &str,
        from: usize,
        scratch: &mut ScrubScratch,
        counts: &mut T,
        again: Views,
        protect: &[(usize, usize)],
        mut origin: Option<&mut Origin>,
    ) -> Option<String> {
        if !protect.is_empty() {
            scratch
                .findings
                .retain(|f| !protect.iter().any(|&(s, e)| f.start < e && s < f.end));
        }
        if scratch.findings.is_empty() {
            return None;
        }
        let mut out = self.replace(text, scratch, counts, origin.as_deref_mut());
        // Surrogates are meant to look real: rescanning would replace them again.
        let rounds = if self.pseudonymizer.style() == crate::pseudonym::Style::Surrogate {
            0
        } else {
            MAX_ROUNDS
        };
        for _ in 0..rounds {
            if !self.new_near_tokens(&out, scratch, again) {
                break;
            }
            self.findings_from(&out, from, scratch, again);
            if scratch.findings.is_empty() {
                break;
            }
            out = self.replace(&out, scratch, counts, origin.as_deref_mut());
        }
        Some(out)
    }

    fn replace<T: Tally + ?Sized>(
        &self,
        text: &str,
        scratch: &mut ScrubScratch,
        counts: &mut T,
        origin: Option<&mut Origin>,
    ) -> String {
        let mut out = String::with_capacity(text.len() + 16 * scratch.findings.len());
        let mut last = 0;
        let mut carried = Origin::new();
        let mut copy = |out: &mut String, from: usize, to: usize| {
            if let Some(o) = origin.as_deref() {
                carry(o, from, to, out.len(), &mut carried);
            }
            out.push_str(&text[from..to]);
        };
        scratch.written.clear();
        for f in &scratch.findings {
            copy(&mut out, last, f.start);
            let rule = self.detector.rule(f.rule);
            let normalized = self.detector.normalize_into(f, text, &mut scratch.norm);
            let at = out.len();
            // A surrogate keeps the value's format: it must see the ASCII the detector saw,
            // or it would copy full-width digits through as "separators". The other styles
            // do not read it.
            let raw = &text[f.start..f.end];
            let original = if self.pseudonymizer.style() == crate::pseudonym::Style::Surrogate {
                crate::fold::fold_value(raw)
            } else {
                raw.into()
            };
            self.pseudonymizer
                .write_token(&rule.entity, normalized, &original, &mut out);
            scratch.written.push((at, out.len()));
            counts.add(f.rule);
            last = f.end;
        }
        copy(&mut out, last, text.len());
        if let Some(o) = origin {
            *o = carried;
        }
        out
    }

    /// Is there a finding in `views` in the text around the tokens just written?
    fn new_near_tokens(&self, out: &str, scratch: &mut ScrubScratch, views: Views) -> bool {
        let written = std::mem::take(&mut scratch.written);
        let mut found = false;
        let mut i = 0;
        while i < written.len() && !found {
            let lo = floor_char(out, written[i].0.saturating_sub(NEAR));
            let mut hi = written[i].1 + NEAR;
            while i + 1 < written.len() && written[i + 1].0 <= hi {
                i += 1;
                hi = written[i].1 + NEAR;
            }
            let hi = ceil_char(out, hi.min(out.len()));
            found = !self
                .findings_from(&out[lo..hi], 0, scratch, views)
                .is_empty();
            i += 1;
        }
        scratch.written = written;
        found
    }
}

/// One way of scrubbing a text, kept aside until it is chosen: the result, the rules of
/// its replacements in order, and where its bytes come from.
struct Reading {
    out: Option<String>,
    counts: Vec<u32>,
    origin: Origin,
}

impl Reading {
    /// Runs `scrub` over `text` (given the tally and `text`'s own origin to update).
    fn new(
        text: &str,
        scrub: impl FnOnce(&mut Vec<u32>, &mut Origin) -> Option<String>,
    ) -> Reading {
        let mut counts = Vec::new();
        let mut origin = vec![(0, text.len(), 0)];
        let out = scrub(&mut counts, &mut origin);
        Reading {
            out,
            counts,
            origin,
        }
    }
}

/// Where the bytes of a scrubbed text come from: `(start, end, original start)` for each
/// run copied from the original text, in order; the bytes between runs are token text.
type Origin = Vec<(usize, usize, usize)>;

/// Appends to `out` the origin of `text[from..to]`, copied to `at` in the next text, where
/// `origin` is `text`'s.
fn carry(origin: &Origin, from: usize, to: usize, at: usize, out: &mut Origin) {
    let k = origin.partition_point(|&(_, e, _)| e <= from);
    for &(s, e, o) in &origin[k..] {
        if s >= to {
            break;
        }
        let (a, b) = (s.max(from), e.min(to));
        if a < b {
            out.push((at + a - from, at + b - from, o + a - s));
        }
    }
}

/// Is every original byte that `inner` leaves raw also raw in `outer`?
fn raw_within(inner: &Origin, outer: &Origin) -> bool {
    let ranges = |o: &Origin| -> Vec<(usize, usize)> {
        o.iter().map(|&(s, e, at)| (at, at + e - s)).collect()
    };
    let (inner, outer) = (ranges(inner), ranges(outer));
    let mut k = 0;
    inner.iter().all(|&(mut a, b)| {
        while a < b {
            while k < outer.len() && outer[k].1 <= a {
                k += 1;
            }
            match outer.get(k) {
                Some(&(s, e)) if s <= a => a = e.min(b),
                _ => return false,
            }
        }
        true
    })
}

/// How far around a new token a changed context can create a new match.
const NEAR: usize = 96;
/// Rounds of rescanning before giving up on a fixpoint (adversarial text only).
const MAX_ROUNDS: usize = 3;

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pseudonym::{Key, Style};
    use crate::rules::RuleSet;

    fn scrubber() -> Scrubber {
        let d = Detector::new(&RuleSet::builtin().unwrap()).unwrap();
        let k = Key::from_material(&[7u8; 32]).unwrap();
        Scrubber::new(d, Pseudonymizer::new(&k, Style::Tag))
    }

    /// An invisible character inside a value, or right after it, leaves neither the value
    /// nor a piece of it in the output, and changes neither its token nor the text around
    /// it.
    #[test]
    fn invisible_characters_neither_hide_a_value_nor_change_its_token() {
        let s = scrubber();
        let mut sc = s.scratch();
        let mut c = Detections::default();
        let mut scrub = |t: &str| s.scrub(t, &mut sc, &mut c);
        let token = scrub("bob@example.com").unwrap();
        for (text, want) in [
            ("bob\u{200b}@example.com", token.clone()),
            ("b\u{ad}ob@exam\u{2060}ple.com", token.clone()),
            ("bob\u{200b}＠ｅxample.com", token.clone()),
            ("bob@example.com\u{200b}_x", format!("{token}\u{200b}_x")),
            (
                "mail bob@example.com\u{200b}- call",
                format!("mail {token}\u{200b}- call"),
            ),
        ] {
            assert_eq!(scrub(text).as_deref(), Some(want.as_str()), "{text:?}");
        }
        let phone = scrub("手机13912345678").unwrap();
        assert_eq!(
            scrub("手机139\u{200b}1234\u{200b}5678").unwrap(),
            phone,
            "one token for the joined and the plain number"
        );
        // The review's cases: a value that the first phase found only on a rescan, or
        // whose reading an invisible character at its end made, keeps it.
        for (text, want) in [
            (
                "tel 13912345678 +49 30 901820\u{200b}alice@corp.com",
                "+49 30 901820",
            ),
            (
                "abc123@qq.com 138\u{202f}0013\u{2009}8000\u{200b}alice@corp.com",
                "8000",
            ),
            (
                "+1 312 555 0199 （０１０）６５５２１２３４\u{2060}X",
                "６５５２",
            ),
        ] {
            let plain = s.scrub_plain(text, &mut s.scratch());
            let out = scrub(text).unwrap();
            assert_eq!(Some(&out), plain.as_ref(), "{text:?}");
            assert!(!out.contains(want), "{text:?} -> {out:?}");
        }
        // Cut values are found whole; a word glued on by an invisible character goes into
        // the token too (more replaced than needed, nothing left).
        for (text, gone) in [
            ("call a\u{ad}lice@corp.com ok", "lice"),
            ("mail alice@corp.com\u{200b}now ok", "alice"),
            (
                "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.\u{200d}dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok",
                "dozjg",
            ),
        ] {
            let out = scrub(text).unwrap();
            assert!(!out.contains(gone) && out.ends_with(" ok"), "{text:?} -> {out:?}");
        }
        for (text, value) in [
            ("card 4111111111111111\u{200b}X", "4111111111111111"),
            ("card ４111111111111111\u{200b}X", "111111111111111"),
            ("ip 10.1.2.3\u{200b}-prod", "10.1.2.3"),
            ("id 11010519491231002X\u{200b}ab", "11010519491231002X"),
            ("call 13912345678\u{200b}now", "13912345678"),
            ("call 139\u{a0}1234\u{a0}5678\u{200b}now", "5678"),
            ("alice%40corp.com\u{200b}-x", "corp.com"),
            ("电话：（010）6552 1234\u{200b}x", "6552"),
            (
                "iban DE89370400440532013000\u{200b}X",
                "DE89370400440532013000",
            ),
            ("（010）6552 1234\u{200b}alice@corp.com", "6552"),
        ] {
            let out = scrub(text).unwrap_or_else(|| panic!("nothing found in {text:?}"));
            assert!(!out.contains(value), "{text:?} -> {out:?}");
            assert!(out.contains('<'), "{text:?} -> {out:?}");
        }
    }

    /// Under a labeling key a value gets the token it gets in text, in every style, and
    /// only the label's context adds findings: a bare number under `note` stays.
    #[test]
    fn labeled_values_get_the_pseudonym_they_get_in_text() {
        let d = || Detector::new(&RuleSet::builtin().unwrap()).unwrap();
        let k = Key::from_material(&[7u8; 32]).unwrap();
        for style in [Style::Tag, Style::Redact, Style::Surrogate] {
            let s = Scrubber::new(d(), Pseudonymizer::new(&k, style));
            let mut sc = s.scratch();
            let mut c = Detections::default();
            let in_text = s.scrub("alice@example.com", &mut sc, &mut c).unwrap();
            let labeled = s
                .scrub_labeled(Some("email"), "alice@example.com", &mut sc, &mut c)
                .unwrap();
            assert_eq!(labeled, in_text, "{style:?}");
            let phone = s.scrub_labeled(Some("phone_number"), "4155552671", &mut sc, &mut c);
            assert!(
                phone.is_some_and(|p| !p.contains("4155552671")),
                "{style:?}"
            );
            assert!(s
                .scrub_labeled(Some("note"), "4155552671", &mut sc, &mut c)
                .is_none());
            // A full-width key labels as its ASCII twin does.
            let wide = s.scrub_labeled(Some("ｐｈｏｎｅ"), "4155552671", &mut sc, &mut c);
            assert!(wide.is_some_and(|p| !p.contains("4155552671")), "{style:?}");
            assert!(s
                .scrub_labeled(None, "4155552671", &mut sc, &mut c)
                .is_none());
        }
    }

    #[test]
    fn replaces_and_counts() {
        let s = scrubber();
        let mut sc = s.scratch();
        let mut c = Detections::default();
        let out = s
            .scrub(
                "mail Alice@Example.com or alice@example.com",
                &mut sc,
                &mut c,
            )
            .unwrap();
        let toks: Vec<&str> = out.split(' ').filter(|w| w.starts_with('<')).collect();
        assert_eq!(toks.len(), 2);
        assert_eq!(toks[0], toks[1], "case-folded e-mail gets one pseudonym");
        assert_eq!(c.total(), 2);
        assert!(s.scrub("nothing here", &mut sc, &mut c).is_none());
    }

    #[test]
    fn a_replacement_that_completes_a_value_is_scrubbed_too() {
        // Values glued together: replacing one can complete another.
        let s = scrubber();
        let mut sc = s.scratch();
        let mut c = Detections::default();
        for text in [
            "a.a@example.com100.1.1.1a",
            "mail x@example.com192.168.10.20 now",
            "4111111111111111a@example.org",
            "13912345678@example.com",
            "ip 10.0.0.1x@example.net",
        ] {
            let out = s
                .scrub(text, &mut sc, &mut c)
                .unwrap_or_else(|| text.to_string());
            assert!(s.findings(&out, &mut sc).is_empty(), "{text} -> {out}");
        }
    }

    /// Only scrubline's own tokens are skipped: HTML tags and values written in angle
    /// brackets are text, and what they hold or touch is scrubbed.
    #[test]
    fn angle_brackets_do_not_hide_values() {
        let s = scrubber();
        let mut sc = s.scratch();
        let mut c = Detections::default();
        for (text, value) in [
            (
                "aws_access_key_id=<AKIAIOSFODNN7EXAMPLE>",
                "AKIAIOSFODNN7EXAMPLE",
            ),
            ("IBAN <DE89370400440532013000>", "DE89370400440532013000"),
            ("mail <B>alice@example.com</B>", "alice@example.com"),
            ("<EMAIL_x> 13912345678<BR>", "13912345678"),
        ] {
            let out = s.scrub(text, &mut sc, &mut c).unwrap_or_default();
            assert!(!out.contains(value), "{text} -> {out}");
            assert!(s.findings(&out, &mut sc).is_empty(), "{text} -> {out}");
        }
        // A token whose hex reads as a card number stays a token.
        let token = "<EMAIL_4111111111111111>";
        assert!(s.scrub(token, &mut sc, &mut c).is_none());
    }

    /// A value written in full-width forms, or with an encoded `@`, gets the pseudonym of
    /// its plain twin in every style, and a surrogate copies none of its full-width digits
    /// through.
    #[test]
    fn full_width_values_get_the_ascii_pseudonym() {
        let k = Key::from_material(&[7u8; 32]).unwrap();
        for style in [Style::Tag, Style::Redact, Style::Surrogate] {
            let d = Detector::new(&RuleSet::builtin().unwrap()).unwrap();
            let s = Scrubber::new(d, Pseudonymizer::new(&k, style));
            let mut sc = s.scratch();
            let mut c = Detections::default();
            let mut scrub = |t: &str| s.scrub(t, &mut sc, &mut c).unwrap();
            let wide = scrub("电话：１３８００１３８０００，谢谢");
            assert_eq!(wide, scrub("电话：13800138000，谢谢"), "{style:?}");
            assert!(!wide.contains(|c| ('０'..='９').contains(&c)), "{style:?}");
            assert_eq!(
                scrub("ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ"),
                scrub("alice@example.com"),
                "{style:?}"
            );
            assert_eq!(
                scrub("alice%40example.com"),
                scrub("alice@example.com"),
                "{style:?}"
            );
        }
    }

    #[test]
    fn scrubbing_is_idempotent() {
        let s = scrubber();
        let mut sc = s.scratch();
        let mut c = Detections::default();
        let once = s
            .scrub("call +86 139-1234-5678 or a@b.co", &mut sc, &mut c)
            .unwrap();
        assert!(s.scrub(&once, &mut sc, &mut c).is_none(), "{once}");
    }

    static JOIN_SCRUBBER: std::sync::LazyLock<Scrubber> = std::sync::LazyLock::new(scrubber);

    /// Under a label, a piece of a cut value that the value's own pass finds does not keep
    /// the labeled pass from taking the whole value (review: a password with a phone number
    /// in it kept its tail).
    #[test]
    fn a_labeled_cut_value_is_replaced_whole() {
        let s = &*JOIN_SCRUBBER;
        let mut sc = s.scratch();
        let mut c = Detections::default();
        for value in [
            "1391234\u{200b}5678\u{200b}\u{200b}\u{200b}\u{200b}\u{200b}S3cretTail",
            "xoxb-1234567\u{200c}89012-1234567890123-abcdefghij\u{200b}\u{200b}\u{200b}\u{200b}\u{200b}klmnopqrstuvwx",
        ] {
            let out = s
                .scrub_labeled(Some("password"), value, &mut sc, &mut c)
                .unwrap();
            assert!(out.starts_with("<GENERIC_SECRET_") && out.ends_with('>'), "{out:?}");
        }
    }

    /// A value that the value's own pass finds inside a labeled secret or address does not
    /// keep the labeled rule from taking the rest: the whole value is replaced, with the
    /// token the same text gets after its label in free text.
    #[test]
    fn a_value_inside_a_labeled_secret_does_not_shield_its_rest() {
        let s = &*JOIN_SCRUBBER;
        let mut sc = s.scratch();
        let mut c = Detections::default();
        for (label, value, raw) in [
            ("password", "pw:13912345678-MySecretTail", "MySecretTail"),
            ("password", "13912345678-MySecretTail", "MySecretTail"),
            ("pwd", "x-alice@corp.com-MySecretTail", "MySecretTail"),
            ("address", "12 Main St, call 13912345678", "Main"),
        ] {
            let out = s
                .scrub_labeled(Some(label), value, &mut sc, &mut c)
                .unwrap();
            assert!(!out.contains(raw), "{label}: {value:?} -> {out:?}");
            if label == "password" {
                let text = format!("password: {value}");
                let in_text = s.scrub(&text, &mut sc, &mut c).unwrap();
                assert_eq!(format!("password: {out}"), in_text, "{value:?}");
            }
        }
        // With invisible characters inside, the fixed order runs (review of c0ca2aa: the
        // labels-first reading of one view kept the joined phase from the phone's tail).
        for (label, value, raw) in [
            (
                "address",
                "12 Main St, Springfield +1 415 555 26\u{200d}71",
                "71",
            ),
            (
                "地址",
                "北京市朝阳区建国路88号 Dr. Ali\u{ad}ce Smith",
                "Smith",
            ),
        ] {
            let out = s
                .scrub_labeled(Some(label), value, &mut sc, &mut c)
                .unwrap();
            assert!(!out.contains(raw), "{label}: {value:?} -> {out:?}");
        }
        // Where the own pass already takes everything it finds and the labeled rule adds
        // nothing whole, the value's own tokens stay.
        let out = s
            .scrub_labeled(
                Some("password"),
                "alice@corp.com MySecretTail",
                &mut sc,
                &mut c,
            )
            .unwrap();
        assert!(out.starts_with("<EMAIL_"), "{out:?}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]
        /// The joined view only adds: every byte that the scrub without it replaces is
        /// replaced, and the result is one no view finds anything in, wherever the scrub
        /// without the joined view reached its fixpoint.
        #[test]
        fn the_joined_view_leaves_nothing_raw_that_the_others_replace(parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "13912345678", "139\u{a0}1234\u{a0}5678", "１３９１２３４５６７８", "139", "1234",
                "4111111111111111", "11010519491231002X", "DE89370400440532013000", "10.1.2.3",
                "（010）6552 1234", "(312) 555", "-0199", "+49 30 901820", "tel ", "alice", "@",
                "＠", "%40", "corp.com", "alice@corp.com", "\u{200b}", "\u{200b}", "\u{ad}",
                "\u{2060}", "now", "x", "-", ".", " ", "电话：", "手机", "，", "QQ：", "12345678",
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.", "dozjgNryP4J3jVmNHl0w5N",
            ]),
            0..14,
        )) {
            let text = parts.concat();
            let s = &*JOIN_SCRUBBER;
            let mut sc = s.scratch();
            let mut c = Detections::default();
            let whole = vec![(0, text.len(), 0)];
            let mut plain_origin = whole.clone();
            s.findings_from(&text, 0, &mut sc, Views::Plain);
            let plain = s.scrub_found(&text, 0, &mut sc, &mut Vec::new(), Views::Plain, &[], Some(&mut plain_origin));
            let mut origin = whole;
            let out = s
                .scrub_traced(&text, 0, &mut sc, &mut c, Some(&mut origin))
                .unwrap_or_else(|| text.clone());
            proptest::prop_assert!(
                raw_within(&origin, &plain_origin),
                "{:?}: {:?} -> {:?}", text, plain, out
            );
            // Stacks of values can outlast the rescan rounds: then the scrub without the
            // joined view is no fixpoint either (a limit of the rounds, not of this).
            let plain_rest = s
                .findings_from(plain.as_deref().unwrap_or(&text), 0, &mut sc, Views::Plain)
                .len();
            if plain_rest == 0 {
                proptest::prop_assert!(
                    s.findings(&out, &mut sc).is_empty(),
                    "{:?} -> {:?}", text, out
                );
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        /// The same under a label: the passes with the joined view leave raw no byte of
        /// the value that the passes without it replace.
        #[test]
        fn labeled_values_lose_nothing_to_the_joined_view(
            label in proptest::sample::select(vec!["password", "email", "phone_number", "qq", "api_key", "地址"]),
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "13912345678", "1391234", "5678", "alice", "@", "corp.com", "alice@corp.com",
                    "\u{200b}", "\u{200b}", "\u{ad}", "\u{2060}", "S3cret", "xoxb-1234567",
                    "89012-1234567890123-abcdefghij", "+49 30 901820", " ", "-", ".", "x",
                    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.", "dozjgNryP4J3jVmNHl0w5N",
                ]),
                0..10,
            ),
        ) {
            let value = parts.concat();
            let s = &*JOIN_SCRUBBER;
            let mut sc = s.scratch();
            let prefixes = s.label_prefixes(Some(label));
            let whole = vec![(0, value.len(), 0)];
            let mut plain_origin = whole.clone();
            let plain = s.labeled_passes(&value, &prefixes, &mut sc, &mut Vec::new(), false, false, Some(&mut plain_origin));
            let mut origin = whole;
            let out = s.labeled_traced(&value, &prefixes, &mut sc, &mut Vec::new(), Some(&mut origin));
            proptest::prop_assert!(
                raw_within(&origin, &plain_origin),
                "{}: {:?}: {:?} -> {:?}", label, value, plain, out
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        /// Under a label, the passes leave raw no byte of the value that the passes in the
        /// fixed order (the value alone first, then behind its labels) replace.
        #[test]
        fn labeled_passes_lose_nothing_to_the_fixed_order(
            label in proptest::sample::select(vec!["password", "pwd", "address", "phone_number", "ssn", "name", "地址", "密码"]),
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "13912345678", "139", "alice@corp.com", "alice", "@", "corp.com",
                    "078-05-1120", "12 Main St", ", ", "Springfield", "北京市朝阳区", "建国路88号",
                    "S3cret", "pw:", "-", ":", "=", " ", ".", "x", "Tail", "4111111111111111",
                    "10.1.2.3", "Dr. Alice Smith", "\u{200b}",
                ]),
                0..10,
            ),
        ) {
            let value = parts.concat();
            let s = &*JOIN_SCRUBBER;
            let mut sc = s.scratch();
            let prefixes = s.label_prefixes(Some(label));
            for join in [false, true] {
                let mut fixed_origin = vec![(0, value.len(), 0)];
                let order = std::iter::once("").chain(prefixes.iter().map(String::as_str));
                let fixed = s.passes_in_order(&value, order, &mut sc, &mut Vec::new(), join, &mut fixed_origin);
                let mut origin = vec![(0, value.len(), 0)];
                let out = s.labeled_passes(&value, &prefixes, &mut sc, &mut Vec::new(), join, true, Some(&mut origin));
                proptest::prop_assert!(
                    raw_within(&origin, &fixed_origin),
                    "{}: {:?}: {:?} -> {:?}", label, value, fixed, out
                );
            }
        }
    }
}
