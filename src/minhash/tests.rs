use std::collections::HashSet;

use super::*;
use crate::normalize::dedup_normalize;

/// splitmix64: a small deterministic generator for test corpora.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        fmix64(self.0)
    }
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
}

fn hasher_with(params: MinHashParams, key: u8) -> MinHasher {
    MinHasher::new(params, [key; 32]).unwrap()
}

fn hasher() -> MinHasher {
    hasher_with(MinHashParams::default(), 7)
}

fn sig(h: &MinHasher, text: &str) -> Signature {
    let mut s = Signature::new();
    h.signature(&dedup_normalize(text), &mut s);
    s
}

// ---------------------------------------------------------------- text generators

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ten", "dra", "vel", "son", "pri", "gan", "tor", "be", "quo", "lin", "mar",
    "es", "ti", "ru", "fa", "nel", "dor", "shi", "pan", "cre", "ol", "um", "zi", "har", "wen",
    "ost", "bly", "ack", "ph", "ing", "er", "al", "ex", "mo", "sta", "gri", "vo",
];

/// Common Han characters (a few hundred).
const HAN: &str = "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坐集编宝谈府拉黑且随格尽剑讲布杀微怕母调局根曾准团段终乐切级克精哪官示冷域读";

struct Gen {
    rng: Rng,
    en_vocab: Vec<String>,
    zh_vocab: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Lang {
    En,
    Zh,
}

impl Gen {
    fn new(seed: u64) -> Gen {
        let mut rng = Rng(seed);
        let mut seen = HashSet::new();
        let mut en_vocab = Vec::new();
        while en_vocab.len() < 8000 {
            let n = rng.range(1, 4);
            let w: String = (0..n)
                .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
                .collect();
            if seen.insert(w.clone()) {
                en_vocab.push(w);
            }
        }
        let han: Vec<char> = HAN.chars().collect();
        let mut zh_vocab = Vec::new();
        seen.clear();
        while zh_vocab.len() < 6000 {
            let n = [1, 2, 2, 2, 3, 3, 4][rng.below(7)];
            let w: String = (0..n).map(|_| han[rng.below(han.len())]).collect();
            if seen.insert(w.clone()) {
                zh_vocab.push(w);
            }
        }
        Gen {
            rng,
            en_vocab,
            zh_vocab,
        }
    }

    /// A word with a Zipf-like skew, so that common words recur as in real text.
    fn word(&mut self, lang: Lang) -> String {
        let v = match lang {
            Lang::En => &self.en_vocab,
            Lang::Zh => &self.zh_vocab,
        };
        let i = (v.len() as f64 * self.rng.unit().powf(2.5)) as usize;
        v[i.min(v.len() - 1)].clone()
    }

    fn doc_words(&mut self, lang: Lang) -> Vec<String> {
        let len = if self.rng.below(10) == 0 {
            self.rng.range(12, 40)
        } else {
            self.rng.range(60, 400)
        };
        let mut out = Vec::with_capacity(len);
        let mut since = 0;
        for _ in 0..len {
            let mut w = self.word(lang);
            since += 1;
            if since > 6 && self.rng.below(8) == 0 {
                since = 0;
                w.push_str(match (lang, self.rng.below(3)) {
                    (Lang::En, 0) => ",",
                    (Lang::En, _) => ".",
                    (Lang::Zh, 0) => "，",
                    (Lang::Zh, _) => "。",
                });
            }
            out.push(w);
        }
        out
    }

    fn render(lang: Lang, words: &[String]) -> String {
        match lang {
            Lang::En => words.join(" "),
            Lang::Zh => words.concat(),
        }
    }

    /// Random substitutions, deletions and insertions at `edits` positions.
    fn edit(&mut self, lang: Lang, words: &[String], edits: usize) -> Vec<String> {
        let mut w = words.to_vec();
        for _ in 0..edits {
            let i = self.rng.below(w.len().max(1));
            match self.rng.below(3) {
                0 if w.len() > 1 => {
                    w.remove(i);
                }
                1 => {
                    let x = self.word(lang);
                    w.insert(i, x);
                }
                _ => {
                    if let Some(slot) = w.get_mut(i) {
                        *slot = self.word(lang);
                    }
                }
            }
        }
        w
    }

    /// Same text up to whitespace and case.
    fn ws_case_copy(&mut self, lang: Lang, words: &[String]) -> String {
        let mut s = String::new();
        for (i, w) in words.iter().enumerate() {
            if i > 0 || self.rng.below(4) == 0 {
                let sep = match (lang, self.rng.below(6)) {
                    (Lang::Zh, 0..=3) => "",
                    (_, 0) => "  ",
                    (_, 1) => "\n",
                    (_, 2) => " \t ",
                    _ => " ",
                };
                s.push_str(if lang == Lang::En && sep.is_empty() {
                    " "
                } else {
                    sep
                });
            }
            if self.rng.below(3) == 0 {
                s.push_str(&w.to_uppercase());
            } else {
                s.push_str(w);
            }
        }
        s.push_str("\n\n");
        s
    }
}

/// Independent reference: the true shingle set of normalized text.
fn shingle_set(lang: Lang, normalized: &str, n: usize) -> HashSet<String> {
    let toks: Vec<String> = match lang {
        Lang::En => normalized.split_whitespace().map(str::to_string).collect(),
        Lang::Zh => normalized
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(String::from)
            .collect(),
    };
    if toks.len() < n {
        return HashSet::from([toks.join("\u{1}")]);
    }
    toks.windows(n).map(|w| w.join("\u{1}")).collect()
}

fn true_jaccard(lang: Lang, a: &str, b: &str) -> f64 {
    let (a, b) = (
        shingle_set(lang, &dedup_normalize(a), 5),
        shingle_set(lang, &dedup_normalize(b), 5),
    );
    let inter = a.intersection(&b).count();
    inter as f64 / (a.len() + b.len() - inter) as f64
}

/// Jaccard of word 5-gram sets over (segmented) word lists: for Chinese, the "word-shingle
/// Jaccard" an evaluator with a segmenter would compute.
fn word_list_jaccard(a: &[String], b: &[String]) -> f64 {
    let set = |w: &[String]| -> HashSet<String> {
        if w.len() < 5 {
            return HashSet::from([w.join("\u{1}")]);
        }
        w.windows(5).map(|x| x.join("\u{1}")).collect()
    };
    let (a, b) = (set(a), set(b));
    let inter = a.intersection(&b).count();
    inter as f64 / (a.len() + b.len() - inter) as f64
}

/// A near-copy of `words` aimed at Jaccard `target`, its true Jaccard (on the scheme's
/// shingles) and its Jaccard over word 5-grams of the word lists.
fn near_copy_words(g: &mut Gen, lang: Lang, words: &[String], target: f64) -> (String, f64, f64) {
    let base = Gen::render(lang, words);
    let units = match lang {
        Lang::En => words.len() as f64,
        // A word edit touches about 6.5 character 5-grams; a word is ~1.3 of them.
        Lang::Zh => base.chars().count() as f64 / 1.3,
    };
    let edits = ((units * (1.0 - target) / (5.0 * (1.0 + target))).round() as usize).max(1);
    let edited = g.edit(lang, words, edits);
    let copy = Gen::render(lang, &edited);
    let j = true_jaccard(lang, &base, &copy);
    (copy, j, word_list_jaccard(words, &edited))
}

/// [`near_copy_words`] without the word-list Jaccard.
fn near_copy(g: &mut Gen, lang: Lang, words: &[String], target: f64) -> (String, f64) {
    let (copy, j, _) = near_copy_words(g, lang, words, target);
    (copy, j)
}

// ---------------------------------------------------------------- unit tests

#[test]
fn hasher_is_shareable_across_workers() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<MinHasher>();
    send_sync::<Signature>();
    send_sync::<LshIndex>();
}

#[test]
fn identical_text_identical_signature() {
    let h = hasher();
    let a = sig(
        &h,
        "The quick brown fox jumps over the lazy dog again and again.",
    );
    let b = sig(
        &h,
        "the  quick brown\nfox jumps over the lazy dog again and again.",
    );
    assert_eq!(a.bins(), b.bins());
    assert_eq!(a.band_hashes(), b.band_hashes());
    assert_eq!(a.band_hashes().len(), 10);
    assert_eq!(a.shingling(), Shingling::Words);
    assert_eq!(a.shingle_count(), 12 - 5 + 1);
    assert_eq!(a.jaccard(&b), 1.0);
    assert_eq!(a.sketch().jaccard(&b.sketch()), 1.0);
}

#[test]
fn empty_and_short_texts() {
    let h = hasher();
    let e = sig(&h, " \n\t ");
    assert!(e.is_empty() && e.band_hashes().is_empty());
    let mut idx = LshIndex::new(h.params());
    assert_eq!(idx.observe(0, &e).unwrap(), None);
    assert_eq!(idx.observe(1, &e).unwrap(), None);
    assert!(idx.is_empty());
    // Shorter than n: one shingle of the whole text; a one-word change makes it unrelated.
    let a = sig(&h, "hello there world");
    let b = sig(&h, "hello there world");
    let c = sig(&h, "hello there planet");
    assert_eq!(a.shingle_count(), 1);
    assert_eq!(a.jaccard(&b), 1.0);
    assert!(a.jaccard(&c) < 0.05);
    assert!(idx.observe(2, &a).unwrap().is_none());
    assert_eq!(idx.observe(3, &b).unwrap().unwrap().survivor, 2);
    assert!(idx.observe(4, &c).unwrap().is_none());
}

#[test]
fn script_rule() {
    assert_eq!(choose_shingling(""), Shingling::Empty);
    assert_eq!(choose_shingling("hello world"), Shingling::Words);
    assert_eq!(
        choose_shingling("我们使用 python 和 rust 进行开发"),
        Shingling::Chars
    );
    // 8 of 32 non-space characters are CJK: exactly the 1-in-4 boundary.
    assert_eq!(
        choose_shingling("请联系 <EMAIL_5f2c9a1e7b3d4c60> 或者打电话"),
        Shingling::Chars
    );
    assert_eq!(
        choose_shingling("请联系 <EMAIL_5f2c9a1e7b3d4c60> 或 <PHONE_5f2c9a1e7b3d4c60>"),
        Shingling::Words
    );
    assert_eq!(
        choose_shingling("the meeting with 王先生 was moved to tuesday afternoon"),
        Shingling::Words
    );
    assert_eq!(choose_shingling("こんにちは世界"), Shingling::Chars);
    assert_eq!(choose_shingling("안녕하세요 세계"), Shingling::Chars);
    assert_eq!(choose_shingling("grüße aus köln"), Shingling::Words);
    // The byte-level classifier agrees with `is_cjk` on every code point.
    for c in (0..0x40000u32).filter_map(char::from_u32) {
        let s = format!("{c}{c}");
        let want = if c.is_ascii() && is_ascii_ws(c as u8) {
            Shingling::Empty
        } else if is_cjk(c) {
            Shingling::Chars
        } else {
            Shingling::Words
        };
        assert_eq!(choose_shingling(&s), want, "U+{:04X}", c as u32);
    }
}

#[test]
fn keyed_different_key_different_signature() {
    let a = hasher_with(MinHashParams::default(), 1);
    let b = hasher_with(MinHashParams::default(), 2);
    let text = "some text that is long enough to have several shingles in it for sure";
    let (sa, sb) = (sig(&a, text), sig(&b, text));
    assert!(sa.jaccard(&sb) < 0.1);
    assert!(sa
        .band_hashes()
        .iter()
        .zip(sb.band_hashes())
        .all(|(x, y)| x != y));
    assert!(!format!("{a:?}").contains("secret: ["));
}

#[test]
fn params_are_validated() {
    let bad = [
        MinHashParams {
            bands: 40,
            rows: 4,
            ..Default::default()
        },
        MinHashParams {
            ngram_words: 0,
            ..Default::default()
        },
        MinHashParams {
            threshold: 0.0,
            ..Default::default()
        },
        MinHashParams {
            scheme_version: 2,
            ..Default::default()
        },
    ];
    for p in bad {
        assert!(MinHasher::new(p.clone(), [0; 32]).is_err(), "{p:?}");
    }
    let p = MinHashParams::default();
    assert_eq!(p.scheme_id(), "minhash-v1/oph128/xxh3-keyed/w5/c5/b10x4");
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(serde_json::from_str::<MinHashParams>(&json).unwrap(), p);
    assert!((p.candidate_probability(0.8) - 0.9949).abs() < 1e-3);
    assert!((p.candidate_probability(0.5) - 0.4755).abs() < 1e-3);
}

#[test]
fn jaccard_estimate_tracks_true_jaccard() {
    let h = hasher();
    let mut g = Gen::new(11);
    let (mut within, mut within_sketch, mut total) = (0, 0, 0);
    let (mut err_sum, mut err_sketch_sum) = (0.0, 0.0);
    for i in 0..200 {
        let lang = if i % 2 == 0 { Lang::En } else { Lang::Zh };
        let mut words = g.doc_words(lang);
        while words.len() < 100 {
            words = g.doc_words(lang);
        }
        let target = 0.2 + 0.8 * g.rng.unit();
        let (copy, j) = near_copy(&mut g, lang, &words, target);
        let (a, b) = (sig(&h, &Gen::render(lang, &words)), sig(&h, &copy));
        let (est, est_sk) = (a.jaccard(&b), a.sketch().jaccard(&b.sketch()));
        total += 1;
        within += usize::from((est - j).abs() <= 0.1);
        within_sketch += usize::from((est_sk - j).abs() <= 0.1);
        err_sum += (est - j).abs();
        err_sketch_sum += (est_sk - j).abs();
    }
    let (mae, mae_sk) = (err_sum / total as f64, err_sketch_sum / total as f64);
    eprintln!(
        "jaccard: {within}/{total} within ±0.1 (32-bit bins, MAE {mae:.4}); \
         {within_sketch}/{total} (4-bit sketch, MAE {mae_sk:.4})"
    );
    assert!(within * 100 >= total * 97, "{within}/{total}");
    assert!(within_sketch * 100 >= total * 95, "{within_sketch}/{total}");
    assert!(mae < 0.04 && mae_sk < 0.045, "{mae} {mae_sk}");
}

/// Short texts leave most bins empty: densification must keep the estimate usable.
#[test]
fn jaccard_estimate_on_short_texts() {
    let h = hasher();
    let mut g = Gen::new(12);
    let (mut err, mut n, mut worst) = (0.0, 0, 0.0f64);
    for i in 0..300 {
        let lang = if i % 2 == 0 { Lang::En } else { Lang::Zh };
        let len = 15 + i % 45;
        let words: Vec<String> = (0..len).map(|_| g.word(lang)).collect();
        let target = 0.5 + 0.5 * g.rng.unit();
        let (copy, j) = near_copy(&mut g, lang, &words, target);
        let (a, b) = (sig(&h, &Gen::render(lang, &words)), sig(&h, &copy));
        let e = (a.sketch().jaccard(&b.sketch()) - j).abs();
        err += e;
        worst = worst.max(e);
        n += 1;
    }
    eprintln!(
        "short texts (15-60 tokens): sketch MAE {:.4}, worst {worst:.3}",
        err / n as f64
    );
    assert!(err / (n as f64) < 0.06);
}

#[test]
fn chinese_char_shingles() {
    let h = hasher();
    let mut idx = LshIndex::new(h.params());
    let a = "数据清洗是训练大型语言模型之前必须完成的工作，我们需要删除个人信息和重复的文本，\
             保证训练数据的质量和安全。这个工具会检测电话号码、邮箱地址和身份证号码，\
             然后用带密钥的假名替换它们，最后写出分片文件和审计清单。";
    // A few characters changed.
    let b = a.replace("删除", "去掉");
    let c = "今天天气很好，我们一起去公园散步吧。公园里有很多花，红的黄的白的都有，\
             小朋友们在草地上放风筝，老人们在树下下棋聊天，大家都很开心。晚上回家吃饭。";
    let (sa, sb, sc) = (sig(&h, a), sig(&h, &b), sig(&h, c));
    assert_eq!(sa.shingling(), Shingling::Chars);
    let j = true_jaccard(Lang::Zh, a, &b);
    assert!(j > 0.8, "true jaccard {j}");
    assert!(
        (sa.jaccard(&sb) - j).abs() < 0.12,
        "{} vs {j}",
        sa.jaccard(&sb)
    );
    assert!(sa.jaccard(&sc) < 0.1);
    assert!(idx.observe(10, &sa).unwrap().is_none());
    let d = idx.observe(11, &sb).unwrap().expect("near-copy detected");
    assert_eq!(d.survivor, 10);
    assert!(idx.observe(12, &sc).unwrap().is_none());
    assert_eq!((idx.clusters(), idx.removed()), (1, 1));
}

/// Hand-built signatures, to test the index rules exactly.
fn synthetic(h: &MinHasher, bins: [u32; BINS]) -> Signature {
    let mut s = Signature {
        bins,
        bands: Vec::new(),
        shingling: Shingling::Words,
        shingles: 100,
    };
    h.band_hashes_into(&s.bins, &mut s.bands);
    s
}

fn random_bins(rng: &mut Rng) -> [u32; BINS] {
    std::array::from_fn(|_| rng.next() as u32)
}

#[test]
fn union_find_survivor_is_earliest() {
    let params = MinHashParams {
        threshold: 0.4,
        ..Default::default()
    };
    let h = hasher_with(params.clone(), 3);
    let mut rng = Rng(5);
    let (a, b) = (random_bins(&mut rng), random_bins(&mut rng));
    // x takes alternate 4-bin blocks from a and b: similar to both (≈ 0.5), so it bridges.
    let x: [u32; BINS] = std::array::from_fn(|i| if (i / 4) % 2 == 0 { a[i] } else { b[i] });
    let y = random_bins(&mut rng);
    let (sa, sb, sx, sy) = (
        synthetic(&h, a),
        synthetic(&h, b),
        synthetic(&h, x),
        synthetic(&h, y),
    );
    // Only link is to a later record: y (first) stays, and so do a and b.
    let mut idx = LshIndex::new(&params);
    assert!(idx.observe(100, &sy).unwrap().is_none());
    assert!(idx.observe(200, &sb).unwrap().is_none());
    assert!(idx.observe(300, &sa).unwrap().is_none());
    let d = idx.observe(400, &sx).unwrap().expect("x is near both");
    assert_eq!(d.survivor, 200, "earliest root of the merged cluster");
    assert_eq!(d.matched, 200);
    assert!(d.matched_similarity >= 0.4);
    assert_eq!(idx.clusters(), 1);
    // An exact copy of a: its first candidate per band is a, whose root is now b.
    let d = idx.observe(500, &synthetic(&h, a)).unwrap().unwrap();
    assert_eq!((d.survivor, d.matched), (200, 300));
    assert_eq!(d.matched_similarity, 1.0);
    // A copy of y forms a second cluster.
    assert_eq!(idx.observe(600, &sy).unwrap().unwrap().survivor, 100);
    assert_eq!((idx.clusters(), idx.removed()), (2, 3));

    // Two clusters that already had removed records, merged by a bridge: one cluster.
    let mut idx = LshIndex::new(&params);
    idx.observe(1, &sa).unwrap();
    idx.observe(2, &sa).unwrap();
    idx.observe(3, &sb).unwrap();
    idx.observe(4, &sb).unwrap();
    assert_eq!(idx.clusters(), 2);
    assert_eq!(idx.observe(5, &sx).unwrap().unwrap().survivor, 1);
    assert_eq!(idx.clusters(), 1);
    // A later copy of b now reports the merged root.
    assert_eq!(idx.observe(6, &sb).unwrap().unwrap().survivor, 1);
}

#[test]
fn survivor_is_first_in_input_order() {
    let h = hasher();
    let mut g = Gen::new(21);
    let words = g.doc_words(Lang::En);
    let base = Gen::render(Lang::En, &words);
    let copy1 = Gen::render(Lang::En, &g.edit(Lang::En, &words, 2));
    let copy2 = Gen::render(Lang::En, &g.edit(Lang::En, &words, 2));
    // Whichever comes first survives; the others point to it.
    for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0]] {
        let texts = [&base, &copy1, &copy2];
        let mut idx = LshIndex::new(h.params());
        let first = order[0] as u64;
        assert!(idx
            .observe(first, &sig(&h, texts[order[0]]))
            .unwrap()
            .is_none());
        for (k, &o) in order.iter().enumerate().skip(1) {
            let d = idx
                .observe(10 * k as u64 + o as u64, &sig(&h, texts[o]))
                .unwrap();
            assert_eq!(d.map(|d| d.survivor), Some(first), "order {order:?}");
        }
    }
}

#[test]
fn deterministic_for_any_thread_count() {
    use rayon::prelude::*;
    let h = hasher();
    let mut g = Gen::new(31);
    let mut texts = Vec::new();
    for i in 0..300 {
        let lang = if i % 2 == 0 { Lang::En } else { Lang::Zh };
        let w = g.doc_words(lang);
        texts.push(Gen::render(lang, &w));
        if i % 3 == 0 {
            texts.push(Gen::render(lang, &g.edit(lang, &w, 3)));
        }
    }
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let sigs: Vec<Signature> = pool.install(|| {
            texts
                .par_iter()
                .with_min_len(7)
                .map(|t| sig(&h, t))
                .collect()
        });
        let mut idx = LshIndex::new(h.params());
        let out: Vec<Option<NearDup>> = sigs
            .iter()
            .enumerate()
            .map(|(i, s)| idx.observe(i as u64, s).unwrap())
            .collect();
        (out, idx.clusters())
    };
    let (one, c1) = run(1);
    let (two, c2) = run(2);
    assert_eq!(one, two);
    assert_eq!(c1, c2);
    assert!(one.iter().filter(|d| d.is_some()).count() >= 80);
    // And the signature itself does not depend on the worker that computed it.
    let h2 = hasher();
    assert_eq!(sig(&h, &texts[3]).bins(), sig(&h2, &texts[3]).bins());
}

/// Scheme stability: these values must not change without a SCHEME_VERSION bump.
#[test]
fn scheme_v1_is_stable() {
    let h = hasher_with(MinHashParams::default(), 0);
    let s = sig(&h, "one two three four five six seven eight nine ten");
    let z = sig(&h, "一二三四五六七八九十");
    let got = [s.band_hashes()[0], z.band_hashes()[0]];
    assert_eq!(got, GOLDEN_V1, "scheme changed: bump SCHEME_VERSION");
}

const GOLDEN_V1: [u64; 2] = [2866255302150739842, 13113217774514837256];

#[test]
fn memory_per_record_100k() {
    let (bytes, n) = memory_per_record(100_000, Keep::InMemory);
    let per = bytes as f64 / n as f64;
    eprintln!("index memory, in memory: {bytes} B for {n} records = {per:.0} B/record");
    assert!(per < 400.0, "{per}");
    let (bytes, n) = memory_per_record(100_000, Keep::Sized);
    let per = bytes as f64 / n as f64;
    eprintln!("index memory, in memory, sized: {bytes} B for {n} records = {per:.0} B/record");
    assert!(per < 250.0, "{per}");
    let (bytes, n) = memory_per_record(100_000, Keep::Spilling);
    let per = bytes as f64 / n as f64;
    eprintln!("index memory, spilling: {bytes} B for {n} records = {per:.0} B/record");
    assert!(per < 100.0, "{per}");
}

/// `cargo test --release --lib minhash::tests::memory_per_record_1m -- --ignored --nocapture`
#[test]
#[ignore]
fn memory_per_record_1m() {
    for n in [14_448, 144_481, 1_000_000, 1_500_000, 2_000_000] {
        for keep in [Keep::InMemory, Keep::Sized, Keep::Spilling] {
            let (bytes, n) = memory_per_record(n, keep);
            eprintln!(
                "index memory ({keep:?}): {bytes} B for {n} records = {:.0} B/record",
                bytes as f64 / n as f64
            );
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Keep {
    InMemory,
    Sized,
    Spilling,
}

fn memory_per_record(n: usize, keep: Keep) -> (usize, usize) {
    let h = hasher();
    let dir = tempfile::tempdir().unwrap();
    let mut idx = match keep {
        Keep::InMemory => LshIndex::new(h.params()),
        Keep::Sized => LshIndex::with_capacity(h.params(), n),
        Keep::Spilling => LshIndex::spilling(h.params(), dir.path()).unwrap(),
    };
    let mut rng = Rng(99);
    let mut s = synthetic(&h, random_bins(&mut rng));
    for i in 0..n {
        s.bins = random_bins(&mut rng);
        s.bands.clear();
        h.band_hashes_into(&s.bins, &mut s.bands);
        assert!(idx.observe(i as u64, &s).unwrap().is_none());
    }
    (idx.memory_bytes(), idx.len())
}

// ------------------------------------------- the index's packed tables and spill file

#[test]
fn packed_slots_read_back_what_was_written() {
    let mut rng = Rng(5);
    for (id_bits, slots) in
        (10..=32).flat_map(|b| [1, 2, 63, 64, 65, 127, 1000, 1031].map(|s| (b, s)))
    {
        let g = Geometry { slots, id_bits };
        let mut table = g.table();
        let mut want = vec![None; g.slots];
        for k in 0..5000 {
            let i = rng.below(g.slots);
            // The extremes as well: id 0 and the last id, fingerprints 0 and all ones.
            let (id, fp) = match k % 5 {
                0 => (0, 0),
                1 => (g.free_id() - 1, u16::MAX),
                _ => ((rng.next() as u32) % g.free_id(), rng.next() as u16),
            };
            g.set(&mut table, i, fp, id);
            want[i] = Some((fp, id));
        }
        for (i, w) in want.iter().enumerate() {
            assert_eq!(
                g.get(&table, i),
                w.unwrap_or((u16::MAX, g.free_id())),
                "slot {i}"
            );
        }
    }
}

/// The index's rule without its machinery: per band, a map from hash to the first record
/// that had it; a record matches the first records whose sketches are close enough, is
/// removed if there is one, and joins their clusters, whose survivor is the earliest.
#[derive(Default)]
struct Model {
    first: std::collections::HashMap<(usize, u64), usize>,
    seen: Vec<(u64, Sketch)>,
    parent: Vec<usize>,
}

impl Model {
    fn root(&self, mut x: usize) -> usize {
        while self.parent[x] != x {
            x = self.parent[x];
        }
        x
    }

    fn observe(
        &mut self,
        ordinal: u64,
        bands: &[u64],
        sketch: Sketch,
        threshold: f64,
    ) -> Option<NearDup> {
        let id = self.seen.len();
        let mut cands: Vec<usize> = bands
            .iter()
            .enumerate()
            .filter_map(|(b, &h)| match self.first.entry((b, h)) {
                std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(id);
                    None
                }
            })
            .collect();
        cands.sort_unstable();
        cands.dedup();
        self.seen.push((ordinal, sketch));
        self.parent.push(id);
        let linked: Vec<(usize, f64)> = cands
            .into_iter()
            .map(|c| (c, sketch.jaccard(&self.seen[c].1)))
            .filter(|&(_, s)| s >= threshold)
            .collect();
        let &(m, ms) = linked.first()?;
        let roots: Vec<usize> = linked.iter().map(|&(c, _)| self.root(c)).collect();
        let root = *roots.iter().min().expect("a match has a root");
        for r in roots {
            self.parent[r] = root;
        }
        self.parent[id] = root;
        Some(NearDup {
            survivor: self.seen[root].0,
            similarity: sketch.jaccard(&self.seen[root].1),
            matched: self.seen[m].0,
            matched_similarity: ms,
        })
    }
}

/// A sketch of family `family`, with `noise` nibbles redrawn.
fn family_sketch(rng: &mut Rng, family: u64, noise: usize) -> Sketch {
    let mut base = Rng(family * 7919 + 1);
    let mut bytes: [u8; Sketch::BYTES] = std::array::from_fn(|_| base.next() as u8);
    for _ in 0..noise {
        let k = rng.below(Sketch::BYTES * 2);
        let shift = 4 * (k % 2);
        bytes[k / 2] = bytes[k / 2] & !(0xF << shift) | ((rng.next() as u8) & 0xF) << shift;
    }
    Sketch::from_bytes(&bytes)
}

/// Records whose band hashes repeat and collide on purpose: half of them come from pools
/// whose members share their low 16 bits (the fingerprint) and their top 20 bits (the home
/// slot), so lookups walk runs of fingerprint hits that only the spilled hashes tell apart.
fn colliding_records(seed: u64, n: usize, bands: usize) -> Vec<(u64, Vec<u64>, Sketch)> {
    let mut rng = Rng(seed);
    let bases: Vec<u64> = (0..4).map(|_| rng.next()).collect();
    (0..n)
        .map(|i| {
            let hashes = (0..bands)
                .map(|_| {
                    if rng.below(50) == 0 {
                        [0, 1, u64::MAX][rng.below(3)]
                    } else if rng.below(2) == 0 {
                        bases[rng.below(bases.len())] ^ (rng.below(48) as u64) << 20
                    } else {
                        rng.next()
                    }
                })
                .collect();
            let (family, noise) = (rng.below(12) as u64, rng.below(48));
            let sketch = family_sketch(&mut rng, family, noise);
            (3 * i as u64 + 1, hashes, sketch)
        })
        .collect()
}

#[test]
fn spilling_and_in_memory_indexes_follow_the_rule() {
    let params = MinHashParams::default();
    let dir = tempfile::tempdir().unwrap();
    let mut spill = LshIndex::spilling(&params, dir.path()).unwrap();
    let mut memory = LshIndex::new(&params);
    let mut model = Model::default();
    // Enough records to flush the spill tail to the file many times, rebuild the tables
    // several times and widen the ids.
    let records = colliding_records(11, 12_000, params.bands);
    let mut removed = 0;
    for (ordinal, bands, sketch) in &records {
        let a = spill.observe_parts(*ordinal, bands, *sketch).unwrap();
        let b = memory.observe_parts(*ordinal, bands, *sketch).unwrap();
        assert_eq!(a, b, "record {ordinal}");
        let want = model.observe(*ordinal, bands, *sketch, params.threshold);
        assert_eq!(a, want, "record {ordinal}");
        removed += usize::from(a.is_some());
    }
    assert!(spill.spilled_bytes() > 1 << 20, "{}", spill.spilled_bytes());
    assert!(spill.geometry.slots > 5_000, "{:?}", spill.geometry);
    assert!(removed > 500 && removed < 11_000, "{removed}");
    assert_eq!(spill.clusters(), memory.clusters());
    assert!(spill.memory_bytes() < memory.memory_bytes() / 2);
}

#[test]
fn ids_outgrow_their_width_without_new_band_hashes() {
    // Copies add no band hash, so no table fills up: the id width alone forces the rebuild.
    let params = MinHashParams::default();
    let dir = tempfile::tempdir().unwrap();
    let mut idx = LshIndex::spilling(&params, dir.path()).unwrap();
    let start = idx.geometry.free_id();
    let mut rng = Rng(3);
    let bands: Vec<u64> = (0..params.bands).map(|_| rng.next()).collect();
    let sketch = family_sketch(&mut rng, 1, 0);
    assert!(idx.observe_parts(10, &bands, sketch).unwrap().is_none());
    for i in 1..=u64::from(start) + 10 {
        let d = idx
            .observe_parts(10 + i, &bands, sketch)
            .unwrap()
            .expect("a copy");
        assert_eq!((d.survivor, d.matched), (10, 10));
    }
    assert!(idx.geometry.free_id() > start);
    assert_eq!(idx.clusters(), 1);
}

#[test]
fn a_spill_directory_that_cannot_hold_the_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let err = LshIndex::spilling(&MinHashParams::default(), &missing).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("missing") && text.contains("near-duplicate index spill file"),
        "{text}"
    );
}

// ---------------------------------------------------------------- evaluation

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Unique,
    /// True Jaccard on the scheme's shingles, and on word 5-grams of the word lists.
    Near(f64, f64),
    Exact,
    WsCase,
}

struct Rec {
    lang: Lang,
    group: usize,
    kind: Kind,
    text: String,
}

fn eval_corpus(seed: u64, bases_per_lang: usize) -> Vec<Rec> {
    let mut g = Gen::new(seed);
    let mut groups: Vec<Vec<Rec>> = Vec::new();
    for lang in [Lang::En, Lang::Zh] {
        for _ in 0..bases_per_lang {
            let group = groups.len();
            let words = g.doc_words(lang);
            let base = Gen::render(lang, &words);
            let mut members = vec![Rec {
                lang,
                group,
                kind: Kind::Unique,
                text: base.clone(),
            }];
            let mut near = 0;
            if g.rng.below(2) == 0 {
                near = 1 + usize::from(g.rng.below(6) == 0);
            }
            for _ in 0..near {
                let target = 0.7 + 0.25 * g.rng.unit();
                let (text, j, wj) = near_copy_words(&mut g, lang, &words, target);
                members.push(Rec {
                    lang,
                    group,
                    kind: Kind::Near(j, wj),
                    text,
                });
            }
            if g.rng.below(10) == 0 {
                members.push(Rec {
                    lang,
                    group,
                    kind: Kind::Exact,
                    text: base.clone(),
                });
            }
            if g.rng.below(10) == 0 {
                let text = g.ws_case_copy(lang, &words);
                members.push(Rec {
                    lang,
                    group,
                    kind: Kind::WsCase,
                    text,
                });
            }
            groups.push(members);
        }
    }
    // Interleave the groups at random; within a group the base comes first.
    let mut slots: Vec<usize> = groups
        .iter()
        .enumerate()
        .flat_map(|(gi, m)| std::iter::repeat_n(gi, m.len()))
        .collect();
    for i in (1..slots.len()).rev() {
        let j = g.rng.below(i + 1);
        slots.swap(i, j);
    }
    let mut iters: Vec<_> = groups.into_iter().map(Vec::into_iter).collect();
    slots
        .into_iter()
        .map(|gi| iters[gi].next().expect("one slot per member"))
        .collect()
}

#[derive(Default, Clone, Copy)]
struct Tally {
    n: usize,
    removed: usize,
    right_survivor: usize,
}

impl Tally {
    fn rate(&self) -> f64 {
        self.removed as f64 / self.n.max(1) as f64
    }
}

#[test]
fn evaluation_on_labeled_corpus() {
    let corpus = eval_corpus(2026, 3000);
    let h = hasher();
    let mut bytes = 0;
    let sigs: Vec<Signature> = corpus
        .iter()
        .map(|r| {
            bytes += r.text.len();
            let s = sig(&h, &r.text);
            let want = if r.lang == Lang::En {
                Shingling::Words
            } else {
                Shingling::Chars
            };
            assert_eq!(s.shingling(), want);
            s
        })
        .collect();
    let mut first_of_group = vec![usize::MAX; corpus.len()];
    for (i, r) in corpus.iter().enumerate() {
        if first_of_group[r.group] == usize::MAX {
            first_of_group[r.group] = i;
        }
    }
    eprintln!(
        "corpus: {} records, {:.1} MB",
        corpus.len(),
        bytes as f64 / 1e6
    );
    let mut results = Vec::new();
    for threshold in [0.75, 0.8] {
        let params = MinHashParams {
            threshold,
            ..Default::default()
        };
        let mut idx = LshIndex::new(&params);
        // rows: unique, near ≥0.8, near 0.7–0.8, exact, ws/case, near word-J ≥ 0.8
        let mut t = [[Tally::default(); 6]; 2];
        for (i, (r, s)) in corpus.iter().zip(&sigs).enumerate() {
            let d = idx.observe(i as u64, s).unwrap();
            let row = match r.kind {
                Kind::Unique => 0,
                Kind::Near(j, _) if j >= 0.8 => 1,
                Kind::Near(..) => 2,
                Kind::Exact => 3,
                Kind::WsCase => 4,
            };
            let mut rows = vec![row];
            if matches!(r.kind, Kind::Near(_, wj) if wj >= 0.8) {
                rows.push(5);
            }
            for row in rows {
                let cell = &mut t[r.lang as usize][row];
                cell.n += 1;
                if let Some(d) = d {
                    cell.removed += 1;
                    cell.right_survivor +=
                        usize::from(d.survivor == first_of_group[r.group] as u64);
                }
            }
        }
        eprintln!(
            "threshold {threshold}: {} removed, {} clusters, index {:.0} B/record",
            idx.removed(),
            idx.clusters(),
            idx.memory_bytes() as f64 / idx.len() as f64
        );
        eprintln!(
            "  {:<4} {:<16} {:>6} {:>8} {:>8} {:>10}",
            "lang", "kind", "n", "removed", "rate", "survivor ok"
        );
        for (li, lang) in ["en", "zh"].iter().enumerate() {
            for (ri, kind) in [
                "unique",
                "near J>=0.8",
                "near 0.7-0.8",
                "exact",
                "ws/case",
                "near wordJ>=0.8",
            ]
            .iter()
            .enumerate()
            {
                let c = t[li][ri];
                eprintln!(
                    "  {lang:<4} {kind:<16} {:>6} {:>8} {:>8.4} {:>10}",
                    c.n,
                    c.removed,
                    c.rate(),
                    c.right_survivor
                );
            }
        }
        results.push((threshold, t));
    }
    let (_, t) = results[0];
    for lang in &t {
        assert!(lang[0].n >= 2900);
        assert!(lang[1].n >= 500, "enough near-copies at J ≥ 0.8");
        assert!(lang[0].rate() <= 0.002, "unique removed {}", lang[0].rate());
        assert!(lang[1].rate() >= 0.90, "recall {}", lang[1].rate());
        assert!(lang[5].rate() >= 0.90, "recall {}", lang[5].rate());
        assert_eq!(lang[3].removed, lang[3].n, "exact copies");
        assert_eq!(lang[4].removed, lang[4].n, "whitespace/case copies");
        assert!(lang[1].right_survivor * 100 >= lang[1].removed * 99);
    }
}

// ---------------------------------------------------------------- speed

/// `cargo test --release --lib minhash::tests::signature_speed -- --ignored --nocapture`
/// (`SPEED_MB` and `SPEED_DOC_BYTES` change the amount of text and the record size).
#[test]
#[ignore]
fn signature_speed() {
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let (mb, doc_bytes) = (env("SPEED_MB", 50), env("SPEED_DOC_BYTES", 3500));
    let h = hasher();
    let mut g = Gen::new(77);
    for lang in [Lang::En, Lang::Zh] {
        let mut docs = Vec::new();
        let mut total = 0;
        while total < mb * 1_000_000 {
            let mut w = g.doc_words(lang);
            while Gen::render(lang, &w).len() < doc_bytes {
                w.extend(g.doc_words(lang));
            }
            let t = dedup_normalize(&Gen::render(lang, &w));
            total += t.len();
            docs.push(t);
        }
        let mut s = Signature::new();
        let mut best = f64::MAX;
        for _ in 0..3 {
            let start = std::time::Instant::now();
            let mut acc = 0u64;
            for d in &docs {
                h.signature(d, &mut s);
                acc = acc.wrapping_add(s.band_hashes()[0]);
            }
            std::hint::black_box(acc);
            best = best.min(start.elapsed().as_secs_f64());
        }
        eprintln!(
            "{lang:?}: {} docs, {:.1} MB, avg {} B/doc: signature() {:.0} MB/s (best of 3)",
            docs.len(),
            total as f64 / 1e6,
            total / docs.len(),
            total as f64 / 1e6 / best
        );
    }
}
