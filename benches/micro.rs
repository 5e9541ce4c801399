//! Micro-benchmarks of the pipeline's per-record stages, each over about 1 MB of mixed
//! English/Chinese text with sparse PII (about one value per 2 KB), cut into ~2 KB
//! documents like the records of `benches/gen_corpus.py`.
//!
//! ```sh
//! cargo bench --bench micro            # all, well under a minute
//! cargo bench --bench micro -- detect  # only names containing "detect"
//! ```
//!
//! Every benchmark reports bytes/s over the text it consumes (divan `BytesCount`); the
//! text is synthetic and deterministic (a fixed-seed generator), so runs compare.

use std::hint::black_box;

use divan::counter::{BytesCount, ItemsCount};
use divan::Bencher;

use scrubline::dedup::Fingerprinter;
use scrubline::detect::{Detector, Finding};
use scrubline::json;
use scrubline::minhash::{MinHashParams, MinHasher, Signature};
use scrubline::normalize::dedup_normalize_into;
use scrubline::pseudonym::{Key, Pseudonymizer, Style};
use scrubline::rules::RuleSet;
use scrubline::scrub::{Detections, Scrubber};
use scrubline::select::Selection;

fn main() {
    divan::main();
}

/// Bytes of text per benchmark input.
const TOTAL: usize = 1 << 20;

/// A small deterministic generator (SplitMix64), so the benchmark needs no `rand`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    fn pick<'a, T: ?Sized>(&mut self, xs: &[&'a T]) -> &'a T {
        xs[self.below(xs.len())]
    }
}

const EN_WORDS: &[&str] = &[
    "the", "of", "and", "to", "in", "is", "was", "for", "on", "that", "with", "as", "by", "at",
    "from", "his", "her", "they", "this", "be", "are", "which", "or", "had", "not", "but", "river",
    "mountain", "market", "system", "data", "model", "report", "city", "water", "energy",
    "history", "policy", "research", "school", "family", "music", "season", "network", "project",
    "design", "company", "service", "quality", "process", "support", "customer", "order",
    "product", "account", "value", "result", "change", "world",
];
const ZH_CHARS: &str = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严";
const FIRST: &[&str] = &[
    "james", "mary", "wei", "fang", "anna", "lukas", "camille", "li",
];
const LAST: &[&str] = &[
    "smith", "wang", "zhang", "dubois", "johnson", "chen", "garcia",
];
const CARDS: &[&str] = &[
    "4111 1111 1111 1111",
    "5555-5555-5555-4444",
    "378282246310005",
    "6011111111111117",
];

fn pii(r: &mut Rng, zh: bool) -> String {
    match r.below(6) {
        0 => format!(
            "{}.{}{}@example{}.com",
            r.pick(FIRST),
            r.pick(LAST),
            r.range(1, 999),
            r.range(1, 50)
        ),
        1 if zh => format!(
            "1{}{}{}",
            r.range(3, 9),
            r.range(0, 9),
            r.range(10_000_000, 99_999_999)
        ),
        1 => format!("+1 {} 555 {}", r.range(200, 999), r.range(1000, 9999)),
        2 => r.pick(CARDS).to_string(),
        3 => format!(
            "{}.{}.{}.{}",
            r.range(11, 223),
            r.range(0, 255),
            r.range(0, 255),
            r.range(1, 254)
        ),
        4 => format!(
            "order {}",
            r.range(1_000_000_000_000_000, 9_999_999_999_999_999)
        ),
        _ => format!("v{}.{}.{}", r.range(1, 9), r.range(0, 20), r.range(0, 99)),
    }
}

fn sentence(r: &mut Rng, zh: bool, out: &mut String) {
    let zh_chars: Vec<char> = ZH_CHARS.chars().collect();
    if zh {
        for _ in 0..r.range(12, 30) {
            out.push(zh_chars[r.below(zh_chars.len())]);
        }
    } else {
        for i in 0..r.range(8, 20) {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(r.pick(EN_WORDS));
        }
    }
    if r.below(100) < 8 {
        out.push(' ');
        out.push_str(&pii(r, zh));
    }
    out.push_str(if zh { "。" } else { ". " });
}

/// About [`TOTAL`] bytes of documents, half English, half Chinese, 500 B–4 KB each.
fn documents() -> Vec<String> {
    let mut r = Rng(7);
    let mut docs = Vec::new();
    let mut total = 0;
    while total < TOTAL {
        let zh = r.below(2) == 0;
        let target = r.range(500, 3600);
        let mut d = String::new();
        while d.len() < target {
            sentence(&mut r, zh, &mut d);
        }
        total += d.len();
        docs.push(d);
    }
    docs
}

fn bytes(docs: &[String]) -> usize {
    docs.iter().map(String::len).sum()
}

fn key() -> Key {
    Key::from_material(&[42u8; 32]).expect("a 32-byte key")
}

fn detector() -> Detector {
    Detector::new(&RuleSet::builtin().expect("built-in rules")).expect("rules compile")
}

/// `Detector::find` over `docs`, all rules; bytes/s over their text.
fn bench_find(bencher: Bencher, docs: Vec<String>) {
    let det = detector();
    let mut scratch = det.scratch();
    let mut out: Vec<Finding> = Vec::new();
    bencher
        .counter(BytesCount::new(bytes(&docs)))
        .bench_local(|| {
            let mut n = 0;
            for d in &docs {
                out.clear();
                det.find(black_box(d), &mut scratch, &mut out);
                n += out.len();
            }
            n
        });
}

/// The detector's one multi-pattern pass plus validation (`Detector::find`), all rules.
#[divan::bench]
fn detect_find(bencher: Bencher) {
    bench_find(bencher, documents());
}

/// CSV-like rows dense in PII (name, e-mail, phone, city on every line), like the `csv`
/// records of the benchmark corpus (10 % of its records): the detector's slow case.
fn dense_documents() -> Vec<String> {
    let mut r = Rng(13);
    let mut docs = Vec::new();
    let mut total = 0;
    while total < TOTAL {
        let mut d = String::from("name,email,phone,city");
        for _ in 0..r.range(3, 18) {
            let mail = pii(&mut Rng(r.next()), false);
            d.push_str(&format!(
                "\n{} {},{},1{}{}{},{}",
                r.pick(FIRST),
                r.pick(LAST),
                if mail.contains('@') {
                    mail
                } else {
                    format!("{}@example.com", r.pick(FIRST))
                },
                r.range(3, 9),
                r.range(0, 9),
                r.range(10_000_000, 99_999_999),
                r.pick(EN_WORDS)
            ));
        }
        total += d.len();
        docs.push(d);
    }
    docs
}

/// `Detector::find` over PII-dense CSV rows.
#[divan::bench]
fn detect_find_dense(bencher: Bencher) {
    bench_find(bencher, dense_documents());
}

/// Detection plus replacement (`Scrubber::scrub`): what the pipeline does per string.
#[divan::bench]
fn scrub_text(bencher: Bencher) {
    let docs = documents();
    let scrubber = Scrubber::new(detector(), Pseudonymizer::new(&key(), Style::Tag));
    let mut scratch = scrubber.scratch();
    let mut counts = Detections::default();
    bencher
        .counter(BytesCount::new(bytes(&docs)))
        .bench_local(|| {
            let mut n = 0;
            for d in &docs {
                if let Some(s) = scrubber.scrub(black_box(d), &mut scratch, &mut counts) {
                    n += s.len();
                }
            }
            n
        });
}

/// `Pseudonymizer::write_token` (HMAC-SHA256 + hex) over typical normalized values.
#[divan::bench]
fn pseudonym_write_token(bencher: Bencher) {
    let mut r = Rng(11);
    let values: Vec<(&str, String)> = (0..1000)
        .map(|i| match i % 3 {
            0 => ("EMAIL", pii(&mut Rng(i), false).to_lowercase()),
            1 => (
                "PHONE",
                format!("+86{}", r.range(13_000_000_000, 19_999_999_999)),
            ),
            _ => ("CARD", "4111111111111111".to_string()),
        })
        .collect();
    let p = Pseudonymizer::new(&key(), Style::Tag);
    let mut out = String::with_capacity(64);
    bencher
        .counter(BytesCount::new(
            values.iter().map(|(_, v)| v.len()).sum::<usize>(),
        ))
        .counter(ItemsCount::new(values.len()))
        .bench_local(|| {
            let mut n = 0;
            for (entity, v) in &values {
                out.clear();
                p.write_token(entity, black_box(v), v, &mut out);
                n += out.len();
            }
            n
        });
}

/// Exact dedup: `dedup_normalize_into` (NFKC, lowercase, whitespace) + keyed XXH3-128.
#[divan::bench]
fn dedup_normalize_fingerprint(bencher: Bencher) {
    let docs = documents();
    let fp = Fingerprinter::new(&key());
    let mut norm = String::new();
    bencher
        .counter(BytesCount::new(bytes(&docs)))
        .bench_local(|| {
            let mut acc = 0u128;
            for d in &docs {
                norm.clear();
                dedup_normalize_into(black_box(d), &mut norm);
                acc ^= fp.fingerprint(&norm);
            }
            acc
        });
}

/// `dedup_normalize_into` alone, to split the exact-dedup cost.
#[divan::bench]
fn dedup_normalize_only(bencher: Bencher) {
    let docs = documents();
    let mut norm = String::new();
    bencher
        .counter(BytesCount::new(bytes(&docs)))
        .bench_local(|| {
            let mut n = 0;
            for d in &docs {
                norm.clear();
                dedup_normalize_into(black_box(d), &mut norm);
                n += norm.len();
            }
            n
        });
}

/// Near-dup: `MinHasher::signature` over normalized text (shingling, bins, band hashes).
#[divan::bench]
fn minhash_signature(bencher: Bencher) {
    let docs: Vec<String> = documents()
        .iter()
        .map(|d| {
            let mut s = String::new();
            dedup_normalize_into(d, &mut s);
            s
        })
        .collect();
    let k = key();
    let h = MinHasher::new(MinHashParams::default(), k.derive(b"scrubline/minhash/v1"))
        .expect("default params");
    let mut sig = Signature::new();
    bencher
        .counter(BytesCount::new(bytes(&docs)))
        .bench_local(|| {
            let mut n = 0;
            for d in &docs {
                h.signature(black_box(d), &mut sig);
                n += sig.shingle_count();
            }
            n
        });
}

/// JSONL records (web, chat) built from the documents, as the reader hands them over.
fn lines() -> Vec<String> {
    documents()
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            if i % 4 == 3 {
                let (a, b) = d.split_at(d.char_indices().nth(d.chars().count() / 2).unwrap().0);
                serde_json::json!({"id": i, "messages": [
                    {"role": "user", "content": a}, {"role": "assistant", "content": b}
                ], "lang": "mixed"})
                .to_string()
            } else {
                serde_json::json!({"id": i, "text": d, "source": "web", "score": 0.5}).to_string()
            }
        })
        .collect()
}

/// `json::validate`: UTF-8 check + serde_json syntax validation of a whole line.
#[divan::bench]
fn json_validate(bencher: Bencher) {
    let lines = lines();
    bencher
        .counter(BytesCount::new(bytes(&lines)))
        .bench_local(|| {
            let mut n = 0;
            for l in &lines {
                n += json::validate(black_box(l.as_bytes())).map_or(0, str::len);
            }
            n
        });
}

/// `json::walk` over every string value (selection: all strings).
#[divan::bench]
fn json_walk(bencher: Bencher) {
    let lines = lines();
    let sel = Selection::all();
    let mut path = Vec::new();
    bencher
        .counter(BytesCount::new(bytes(&lines)))
        .bench_local(|| {
            let mut n = 0;
            for l in &lines {
                json::walk(black_box(l), &sel, &mut path, &mut |v| n += v.value.len())
                    .expect("valid");
            }
            n
        });
}

/// validate + walk + `json::splice` re-encoding every string value (the worst case: a
/// record with no detection is copied as is).
#[divan::bench]
fn json_validate_walk_splice(bencher: Bencher) {
    let lines = lines();
    let sel = Selection::all();
    let mut path = Vec::new();
    let mut edits = Vec::new();
    let mut out = Vec::new();
    bencher
        .counter(BytesCount::new(bytes(&lines)))
        .bench_local(|| {
            out.clear();
            for l in &lines {
                let text = json::validate(black_box(l.as_bytes())).expect("valid");
                edits.clear();
                json::walk(text, &sel, &mut path, &mut |v| {
                    edits.push((v.span, v.value.into_owned()))
                })
                .expect("valid");
                json::splice(text, &edits, &mut out);
                out.push(b'\n');
            }
            out.len()
        });
}
