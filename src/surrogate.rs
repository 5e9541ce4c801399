//! `--style surrogate`: a realistic, deterministic stand-in for a detected value, so that
//! fine-tuning text stays natural.
//!
//! The stand-in is drawn from a small PRNG seeded with the value's keyed HMAC (the same
//! digest the tag style prints), so one value always gets one surrogate under one key, and
//! nobody without the key can link a surrogate to its value. What each type becomes:
//!
//! * `EMAIL`: a plausible address at a reserved domain (`example.com`, `.org`, `.net`).
//! * `PHONE`: the same format (separators, `+`, country code and first digits) with other
//!   digits.
//! * `CN_RESIDENT_ID`, `CN_BANK_CARD`, `CREDIT_CARD`, `IBAN`, `CN_USCC`, `US_SSN`:
//!   checksum-valid fakes in the same layout (the card keeps its brand digits).
//! * `IPV4`, `IPV6`: documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
//!   2001:db8::/32); `MAC`: a random locally administered address in the same notation.
//! * Secrets: the known prefix (`AKIA`, `ghp_`, `sk-proj-`, PEM armour, a JWT header) and
//!   the length are kept; every other letter or digit is replaced by a random one of the
//!   same class: Han characters by Han characters the value does not contain, other
//!   non-ASCII letters by ASCII letters of the same case, non-ASCII digits by ASCII digits.
//!   Combining accents are dropped.
//! * `PERSON`, `ADDRESS`, `DATE_OF_BIRTH`: an invented name (Han or Latin, as the value
//!   was), an invented address, a date in the same format.
//!
//! Apart from the structure named above (separators, brand digits, country code, token
//! prefix, JWT header, PEM armour), a surrogate keeps nothing of the value: a value too
//! short or too odd for its type's layout gets a same-shape fake rather than being copied,
//! and a fake that would come out identical to the value is redrawn.
//!
//! Surrogates look real on purpose, so a second scrubbing pass finds them again; use the
//! tag style when idempotence matters.

use crate::validate::{cn_id_check_char, cn_uscc_check_char, iban_mod97, luhn};

/// A splitmix64 stream seeded from an HMAC digest.
struct Rng(u64);

impl Rng {
    fn new(digest: &[u8; 32]) -> Rng {
        let mut s = 0u64;
        for (i, b) in digest.iter().enumerate() {
            s ^= u64::from(*b) << ((i % 8) * 8);
            s = s.rotate_left(5);
        }
        Rng(s)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn digit(&mut self) -> char {
        char::from(b'0' + self.below(10) as u8)
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

/// Appends the surrogate of `original` (a value of type `entity`) to `out`. `digest` is
/// the keyed HMAC of the entity and normalized value. Unknown types get `<TYPE>`.
pub fn write_surrogate(entity: &str, original: &str, digest: &[u8; 32], out: &mut String) {
    let draw = |r: &mut Rng| -> Option<String> {
        Some(match entity {
            "EMAIL" => email(r),
            "PHONE" => phone(r, original),
            "CN_RESIDENT_ID" => cn_resident_id(r, original),
            "CREDIT_CARD" | "CN_BANK_CARD" => card(r, original),
            "IBAN" => iban(r, original),
            "CN_USCC" => uscc(r, original),
            "US_SSN" => ssn(r, original),
            // The letter says which passport or permit, not whose: it stays.
            "CN_PASSPORT" | "CN_TRAVEL_PERMIT" => same_shape(r, original, 1),
            "PASSPORT" => same_shape(r, original, 0),
            "QQ" => qq(r, original),
            // `wxid_` is WeChat's own prefix, not the user's: it stays.
            "WECHAT_ID" => {
                let keep = if original.starts_with("wxid_") { 5 } else { 0 };
                same_shape(r, original, keep)
            }
            "IPV4" => ipv4(r),
            "IPV6" => ipv6(r),
            "MAC" => mac(r, original),
            "URL_WITH_CREDENTIALS" => url_credentials(r, original),
            "JWT" => jwt(r, original),
            "PRIVATE_KEY" => pem(r, original),
            "AWS_ACCESS_KEY" | "AWS_SECRET_KEY" | "AZURE_KEY" | "GITHUB_TOKEN" | "SLACK_TOKEN"
            | "GOOGLE_API_KEY" | "STRIPE_KEY" | "OPENAI_KEY" => {
                let keep = secret_prefix_len(original);
                same_shape(r, original, keep)
            }
            // A password's symbols are as secret as its letters: none survives.
            "GENERIC_SECRET" => {
                let keep = secret_prefix_len(original);
                secret_shape(r, original, keep)
            }
            "PERSON" => person(r, original),
            "ADDRESS" => address(r, original),
            "DATE_OF_BIRTH" => date(r, original),
            _ => return None,
        })
    };
    // Every type's fake is checked here, once, against the value: one that came out
    // identical is drawn again from the same stream (deterministic); a value whose type
    // leaves no freedom is redacted rather than copied.
    let mut r = Rng::new(digest);
    for _ in 0..16 {
        match draw(&mut r) {
            Some(s) if s != original => {
                out.push_str(&s);
                return;
            }
            Some(_) => continue,
            None => break,
        }
    }
    out.push('<');
    out.push_str(entity);
    out.push('>');
}

const SYLLABLES: &[&str] = &[
    "ka", "li", "mo", "ren", "sa", "tor", "vel", "an", "bri", "co", "den", "el", "fa", "gin", "ho",
    "jun", "lu", "mi", "na", "pe", "qi", "ro", "su", "ta", "wen", "xi", "ya", "zo",
];

fn email(r: &mut Rng) -> String {
    let mut local = String::new();
    for _ in 0..2 + r.below(2) {
        let w: &&str = r.pick(SYLLABLES);
        local.push_str(w);
    }
    if r.below(2) == 0 {
        local.push(r.digit());
        local.push(r.digit());
    }
    let domain = r.pick(&["example.com", "example.org", "example.net"]);
    format!("{local}@{domain}")
}

/// Replaces every ASCII digit after the first `keep` digits with a random digit, at
/// least one of them different. A value with no digit past the kept ones gets a
/// same-shape fake instead.
fn redigit(r: &mut Rng, s: &str, keep: usize) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let digits: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i].is_ascii_digit())
        .collect();
    if digits.len() <= keep {
        return same_shape(r, s, 0);
    }
    redraw_at(r, &mut chars, &digits[keep..]);
    chars.into_iter().collect()
}

fn phone(r: &mut Rng, original: &str) -> String {
    let t = original.trim_start();
    // Keep the country code (or trunk prefix) and the first digit of the subscriber
    // number, so that the stand-in is still a plausible number of the same country; for
    // a Chinese mobile (`+86 1[3-9]…`, also written `0086`, or `86-` bare) the first two.
    // (`keep` counts digits.)
    let cn = ["+86", "86-", "86 "].iter().any(|p| t.starts_with(p));
    let keep = if t.starts_with("0086") {
        6
    } else if cn {
        4
    } else if t.starts_with('+') {
        3
    } else if t.starts_with("00") {
        5
    } else {
        2
    };
    redigit(r, original, keep)
}

const CN_REGIONS: &[&str] = &[
    "110105", "310115", "440305", "330106", "510107", "320106", "420102", "610113",
];

fn cn_resident_id(r: &mut Rng, original: &str) -> String {
    let y = 1950 + r.below(56) as u32;
    let m = 1 + r.below(12) as u32;
    let d = 1 + r.below(28) as u32;
    let region = r.pick(CN_REGIONS);
    let seq: String = (0..3).map(|_| r.digit()).collect();
    if original.len() == 15 {
        return format!("{region}{:02}{m:02}{d:02}{seq}", y % 100);
    }
    let first17 = format!("{region}{y:04}{m:02}{d:02}{seq}");
    let check = char::from(cn_id_check_char(first17.as_bytes()));
    format!("{first17}{check}")
}

/// Regenerates the digits of `original` in place (separators kept), keeping the first
/// `keep` digits (the brand), and fixes the last digit so that the Luhn check passes. At
/// least one digit between the brand and the check digit changes, so the fake is never
/// the card itself; a value without such a digit gets a same-shape fake.
fn card(r: &mut Rng, original: &str) -> String {
    let keep = if original.starts_with("62") { 2 } else { 1 };
    let mut s: Vec<char> = original.chars().collect();
    let positions: Vec<usize> = (0..s.len()).filter(|&i| s[i].is_ascii_digit()).collect();
    if positions.len() < keep + 2 {
        return same_shape(r, original, 0);
    }
    let last = positions[positions.len() - 1];
    redraw_at(r, &mut s, &positions[keep..positions.len() - 1]);
    for c in b'0'..=b'9' {
        s[last] = char::from(c);
        let ds: Vec<u8> = positions.iter().map(|&i| s[i] as u8 - b'0').collect();
        if luhn(&ds) && !ds.iter().all(|&x| x == ds[0]) {
            break;
        }
    }
    s.into_iter().collect()
}

fn iban(r: &mut Rng, original: &str) -> String {
    // Letters and digits of the BBAN are regenerated by class (at least one changes, so
    // the check digits do too); the country stays. A value not laid out as an IBAN (too
    // short, no letters in front, not ASCII) has no country to keep: same-shape fake.
    let mut chars: Vec<char> = original.chars().collect();
    let idx: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i].is_ascii_alphanumeric())
        .collect();
    if idx.len() < 5
        || !original.is_ascii()
        || !chars[idx[0]].is_ascii_alphabetic()
        || !chars[idx[1]].is_ascii_alphabetic()
    {
        return same_shape(r, original, 0);
    }
    redraw_at(r, &mut chars, &idx[4..]);
    let mut compact: Vec<u8> = idx
        .iter()
        .map(|&i| chars[i].to_ascii_uppercase() as u8)
        .collect();
    compact[2] = b'0';
    compact[3] = b'0';
    let check = 98 - iban_mod97(&compact).unwrap_or(0);
    chars[idx[2]] = char::from(b'0' + (check / 10) as u8);
    chars[idx[3]] = char::from(b'0' + (check % 10) as u8);
    chars.into_iter().collect()
}

fn uscc(r: &mut Rng, original: &str) -> String {
    const CH: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let region = r.pick(CN_REGIONS);
    let mut s = format!("91{region}");
    for _ in 0..9 {
        s.push(char::from(CH[r.below(CH.len() as u64) as usize]));
    }
    let check = cn_uscc_check_char(s.as_bytes()).map_or('0', char::from);
    s.push(check);
    if original.bytes().any(|b| b.is_ascii_lowercase()) {
        s = s.to_ascii_lowercase();
    }
    s
}

/// As many digits as the QQ number, the first not a zero (QQ numbers start at 10000).
fn qq(r: &mut Rng, original: &str) -> String {
    let n = original.chars().filter(char::is_ascii_digit).count().max(5);
    let mut s = String::with_capacity(n);
    s.push(char::from(b'1' + r.below(9) as u8));
    (1..n).for_each(|_| s.push(r.digit()));
    s
}

fn ssn(r: &mut Rng, original: &str) -> String {
    let area = loop {
        let a = 1 + r.below(899);
        if a != 666 {
            break a;
        }
    };
    let group = 1 + r.below(99);
    let serial = 1 + r.below(9999);
    let digits = format!("{area:03}{group:02}{serial:04}");
    let mut it = digits.chars();
    original
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                it.next().unwrap_or('0')
            } else {
                c
            }
        })
        .collect()
}

fn ipv4(r: &mut Rng) -> String {
    let net = r.pick(&["192.0.2", "198.51.100", "203.0.113"]);
    format!("{net}.{}", 1 + r.below(254))
}

fn ipv6(r: &mut Rng) -> String {
    format!(
        "2001:db8:{:x}::{:x}:{:x}",
        r.below(0x10000),
        r.below(0x10000),
        1 + r.below(0xffff)
    )
}

fn mac(r: &mut Rng, original: &str) -> String {
    let sep = if original.contains('-') { '-' } else { ':' };
    let upper = original.bytes().any(|b| b.is_ascii_uppercase());
    let mut bytes = [0u8; 6];
    for b in &mut bytes {
        *b = r.below(256) as u8;
    }
    // Locally administered, unicast: never a real vendor's address.
    bytes[0] = (bytes[0] | 0x02) & 0xfe;
    let parts: Vec<String> = bytes
        .iter()
        .map(|b| {
            if upper {
                format!("{b:02X}")
            } else {
                format!("{b:02x}")
            }
        })
        .collect();
    parts.join(&sep.to_string())
}

fn url_credentials(r: &mut Rng, original: &str) -> String {
    let (user, pass) = original.split_once(':').unwrap_or(("", original));
    let user = if user.is_empty() {
        String::new()
    } else {
        format!("user{}{}", r.digit(), r.digit())
    };
    format!("{user}:{}", secret_shape(r, pass, 0))
}

fn jwt(r: &mut Rng, original: &str) -> String {
    // The header (`{"alg":…,"typ":"JWT"}`) is not secret and keeps the token looking
    // like a JWT; payload and signature are replaced.
    match original.split_once('.') {
        Some((header, rest)) => format!("{header}.{}", same_shape(r, rest, 0)),
        None => same_shape(r, original, 3),
    }
}

fn pem(r: &mut Rng, original: &str) -> String {
    // Keep the BEGIN/END armour lines and line structure; replace the key material.
    let body_start = original
        .find("KEY-----")
        .map_or(0, |i| i + "KEY-----".len());
    let body_end = original.rfind("-----END").unwrap_or(original.len());
    if body_end <= body_start {
        return same_shape(r, original, 0);
    }
    let body = &original[body_start..body_end];
    let avoid = han_of(body.chars());
    // `\n` written as two characters in JSON/code stays as it is.
    let mut out = String::with_capacity(original.len());
    out.push_str(&original[..body_start]);
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.push(c);
            if let Some(n) = chars.next() {
                out.push(n);
            }
            continue;
        }
        if let Some(d) = reclass(r, c, &avoid) {
            out.push(d);
        }
    }
    out.push_str(&original[body_end..]);
    out
}

/// Length of the fixed prefix of a vendor token, kept as is.
fn secret_prefix_len(s: &str) -> usize {
    const PREFIXES: &[&str] = &[
        "github_pat_",
        "sk-ant-api03-",
        "sk-svcacct-",
        "sk-admin-",
        "sk-proj-",
        "sk_live_",
        "sk_test_",
        "rk_live_",
        "rk_test_",
        "pk_live_",
        "pk_test_",
        "whsec_",
        "xoxb-",
        "xoxp-",
        "xoxa-",
        "xoxr-",
        "xoxs-",
        "xoxe-",
        "xapp-",
        "ghp_",
        "gho_",
        "ghu_",
        "ghs_",
        "ghr_",
        "AKIA",
        "ASIA",
        "AIza",
        "sk-",
    ];
    PREFIXES
        .iter()
        .find(|p| s.starts_with(*p))
        .map_or(0, |p| p.len())
}

/// What a character of a value becomes in a fake.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// An ASCII digit (also for any other Unicode digit or number).
    Digit,
    /// An ASCII lowercase letter (also for caseless letters: kana, Hangul, Arabic…).
    Lower,
    /// An ASCII uppercase letter.
    Upper,
    /// A Han character from U+4E00..=U+9FA5.
    Han,
    /// Dropped: a combining accent would tell which letter was accented.
    Mark,
    /// Kept: punctuation, separators, whitespace.
    Other,
}

/// Whether a fake replaces `c` by another character of its class.
fn redrawn(c: char) -> bool {
    matches!(
        class(c),
        Class::Digit | Class::Lower | Class::Upper | Class::Han
    )
}

fn class(c: char) -> Class {
    if c.is_ascii_digit() {
        Class::Digit
    } else if c.is_ascii_lowercase() {
        Class::Lower
    } else if c.is_ascii_uppercase() {
        Class::Upper
    } else if c.is_ascii() {
        Class::Other
    } else if is_han(c) {
        Class::Han
    } else if is_combining_mark(c) {
        Class::Mark
    } else if c.is_numeric() {
        Class::Digit
    } else if c.is_alphabetic() {
        if c.is_uppercase() {
            Class::Upper
        } else {
            Class::Lower
        }
    } else {
        Class::Other
    }
}

/// The combining diacritical blocks: the accent of a decomposed `é` (`e` + U+0301).
fn is_combining_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036f}'
        | '\u{1ab0}'..='\u{1aff}'
        | '\u{1dc0}'..='\u{1dff}'
        | '\u{20d0}'..='\u{20ff}'
        | '\u{fe20}'..='\u{fe2f}')
}

/// Replaces punctuation in a value that has nothing else to replace; none of these
/// breaks a URL's user info, a quoted string or a shell word.
const SYMBOLS: &[u8] = b"!*+-=_~";

/// The Han characters among `chars`: a fake draws none of them, anywhere.
fn han_of(chars: impl IntoIterator<Item = char>) -> Vec<char> {
    let mut v: Vec<char> = chars.into_iter().filter(|&c| is_han(c)).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// A random character of `c`'s class (`None` for a dropped mark, `c` itself for kept
/// punctuation); a Han character is never one of `avoid`.
fn reclass(r: &mut Rng, c: char, avoid: &[char]) -> Option<char> {
    Some(match class(c) {
        Class::Digit => r.digit(),
        Class::Lower => char::from(b'a' + r.below(26) as u8),
        Class::Upper => char::from(b'A' + r.below(26) as u8),
        Class::Han => loop {
            let h = 0x4e00 + r.below(0x9fa5 - 0x4e00 + 1) as u32;
            let h = char::from_u32(h).expect("U+4E00..=U+9FA5 are chars");
            if !avoid.contains(&h) {
                break h;
            }
        },
        Class::Mark => return None,
        Class::Other => c,
    })
}

/// Reclasses the characters of `chars` at `positions` (letters and digits), redrawing
/// the last one if none has changed so far, so the result is never the original.
fn redraw_at(r: &mut Rng, chars: &mut [char], positions: &[usize]) {
    let avoid = han_of(chars.iter().copied());
    let mut changed = false;
    for (n, &i) in positions.iter().enumerate() {
        let c = chars[i];
        let mut d = reclass(r, c, &avoid).unwrap_or(c);
        while d == c && !changed && n + 1 == positions.len() && redrawn(c) {
            d = reclass(r, c, &avoid).unwrap_or(c);
        }
        changed |= d != c;
        chars[i] = d;
    }
}

/// Keeps the first `keep` characters (when ASCII: a vendor prefix, a passport letter),
/// then replaces each letter or digit by a random one of the same class; punctuation and
/// separators stay, combining accents go. At least one character changes: the last
/// letter or digit is redrawn if it would complete an identical copy, and a value with
/// no letter or digit past the prefix gets its punctuation replaced instead.
fn same_shape(r: &mut Rng, s: &str, keep: usize) -> String {
    shape(r, s, keep, false)
}

/// [`same_shape`] that also replaces every ASCII symbol past the prefix (a password's
/// `@`, `$`, `!` are part of it); whitespace stays.
fn secret_shape(r: &mut Rng, s: &str, keep: usize) -> String {
    shape(r, s, keep, true)
}

fn shape(r: &mut Rng, s: &str, keep: usize, all_symbols: bool) -> String {
    let chars: Vec<char> = s.chars().collect();
    let kept = chars.iter().take(keep).take_while(|c| c.is_ascii()).count();
    let avoid = han_of(s.chars());
    let mut out: String = chars[..kept].iter().collect();
    let rest = &chars[kept..];
    let symbols = all_symbols || !rest.iter().any(|&c| redrawn(c));
    let is_symbol = |c: char| symbols && class(c) == Class::Other && !c.is_whitespace();
    let last = rest.iter().rposition(|&c| redrawn(c) || is_symbol(c));
    let mut changed = false;
    for (i, &c) in rest.iter().enumerate() {
        let draw = |r: &mut Rng| {
            if is_symbol(c) {
                Some(char::from(*r.pick(SYMBOLS)))
            } else {
                reclass(r, c, &avoid)
            }
        };
        let Some(mut d) = draw(r) else {
            changed = true;
            continue;
        };
        while d == c && !changed && Some(i) == last {
            d = draw(r).unwrap_or(c);
        }
        changed |= d != c;
        out.push(d);
    }
    out
}

const SURNAMES_HAN: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
const GIVEN_HAN: &[&str] = &[
    "子", "文", "雨", "晨", "思", "佳", "明", "浩", "宁", "欣", "安", "悦",
];
const FIRST_LATIN: &[&str] = &[
    "Alex", "Morgan", "Robin", "Sam", "Jordan", "Taylor", "Casey", "Jamie", "Noa", "Lou",
];
const LAST_LATIN: &[&str] = &[
    "Ashford", "Brenner", "Calloway", "Durand", "Eckert", "Fairley", "Garnier", "Holm",
];

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

fn person(r: &mut Rng, original: &str) -> String {
    if original.chars().any(is_han) {
        // Same length, so the sentence keeps its rhythm; an honorific (先生) stays.
        let n = original.chars().filter(|&c| is_han(c)).count();
        for h in ["先生", "女士", "小姐", "老师", "经理"] {
            if original.ends_with(h) {
                return format!("{}{h}", r.pick(SURNAMES_HAN));
            }
        }
        let mut s = r.pick(SURNAMES_HAN).to_string();
        for _ in 1..n.clamp(2, 3) {
            let g: &&str = r.pick(GIVEN_HAN);
            s.push_str(g);
        }
        return s;
    }
    let words = original.split_whitespace().count();
    if words <= 1 {
        r.pick(FIRST_LATIN).to_string()
    } else {
        format!("{} {}", r.pick(FIRST_LATIN), r.pick(LAST_LATIN))
    }
}

fn address(r: &mut Rng, original: &str) -> String {
    if original.chars().any(is_han) {
        let city = r.pick(&["示例市", "样本市", "测试市"]);
        let road = r.pick(&["和平路", "光明街", "长安道", "新华路"]);
        return format!("{city}{road}{}号", 1 + r.below(200));
    }
    let street = r.pick(&[
        "Example Street",
        "Sample Road",
        "Placeholder Avenue",
        "Test Lane",
    ]);
    format!(
        "{} {street}, {} Springfield",
        1 + r.below(200),
        10000 + r.below(89999)
    )
}

fn date(r: &mut Rng, original: &str) -> String {
    // Each run of digits is replaced by a number of the same width: a 4-digit run by a
    // year, shorter runs by 1..=12 (valid both as a day and as a month).
    let mut out = String::with_capacity(original.len());
    let chars: Vec<char> = original.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let mut j = i;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            let w = j - i;
            if w == 4 {
                out.push_str(&(1950 + r.below(56)).to_string());
            } else {
                let v = 1 + r.below(12);
                if w == 2 {
                    out.push_str(&format!("{v:02}"));
                } else {
                    out.push_str(&v.to_string());
                }
            }
            i = j;
        } else if chars[i].is_alphabetic() {
            // A month name would tell the real month: it becomes another month of the
            // same language, written the same way (capitalized, abbreviated).
            let mut j = i;
            while j < chars.len() && chars[j].is_alphabetic() {
                j += 1;
            }
            let word: String = chars[i..j].iter().collect();
            out.push_str(&other_month(r, &word).unwrap_or(word));
            i = j;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Month names in the languages the date-of-birth rule reads.
const MONTHS: [[&str; 12]; 3] = [
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ],
    [
        "januar",
        "februar",
        "märz",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "dezember",
    ],
    [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
];

/// A random month in the language of `word` when `word` is a month name or its
/// abbreviation (three letters or more), in the same case and length style; else `None`.
fn other_month(r: &mut Rng, word: &str) -> Option<String> {
    let lower = word.to_lowercase();
    let n = lower.chars().count();
    if n < 3 {
        return None;
    }
    let names = MONTHS
        .iter()
        .find(|l| l.iter().any(|m| m.starts_with(lower.as_str())))?;
    let full = names.iter().any(|m| *m == lower);
    let pick = names[r.below(12) as usize];
    let mut name: String = if full {
        pick.to_string()
    } else {
        pick.chars().take(3).collect()
    };
    if word.chars().next().is_some_and(char::is_uppercase) {
        let mut cs = name.chars();
        name = cs
            .next()
            .map(|c| c.to_uppercase().chain(cs).collect())
            .unwrap_or_default();
    }
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Detector;
    use crate::rules::RuleSet;

    fn sur(entity: &str, v: &str, seed: u8) -> String {
        let mut s = String::new();
        write_surrogate(entity, v, &[seed; 32], &mut s);
        s
    }

    fn found_as(d: &Detector, text: &str) -> Vec<String> {
        d.find_all(text)
            .iter()
            .map(|f| d.rule(f.rule).entity.clone())
            .collect()
    }

    /// A password's symbols are part of it: a surrogate keeps its length, not its `@`s.
    #[test]
    fn secret_symbols_do_not_survive() {
        for seed in 0..20u8 {
            let pass = |s: &str| s.split_once(':').map_or(s.to_string(), |p| p.1.to_string());
            for (entity, v) in [
                ("GENERIC_SECRET", "P@$$-_-w0rd!!".to_string()),
                ("URL_WITH_CREDENTIALS", "root:p@ss:w0rd-2024/x".to_string()),
            ] {
                let fake = sur(entity, &v, seed);
                // The password: all of a generic secret, what follows `user:` in a URL.
                let (v, fake) = match entity {
                    "GENERIC_SECRET" => (v, fake),
                    _ => (pass(&v), pass(&fake)),
                };
                assert_eq!(fake.chars().count(), v.chars().count(), "{fake}");
                let same_symbols = v
                    .chars()
                    .zip(fake.chars())
                    .filter(|(a, b)| a == b && !a.is_ascii_alphanumeric())
                    .count();
                assert!(same_symbols <= 3, "{v} -> {fake}");
            }
        }
    }

    #[test]
    fn deterministic_per_digest() {
        assert_eq!(sur("EMAIL", "a@b.com", 1), sur("EMAIL", "a@b.com", 1));
        assert_ne!(sur("EMAIL", "a@b.com", 1), sur("EMAIL", "a@b.com", 2));
    }

    /// Messaging handles: a QQ surrogate is a QQ number, a WeChat id keeps its shape and
    /// WeChat's own `wxid_`, and both are found again after their label.
    #[test]
    fn messaging_surrogates_keep_their_shape() {
        let d = Detector::new(&RuleSet::builtin().unwrap()).unwrap();
        for seed in 0..20u8 {
            let qq = sur("QQ", "123456789", seed);
            assert!(
                qq.len() == 9 && !qq.starts_with('0') && qq != "123456789",
                "{qq}"
            );
            assert_eq!(found_as(&d, &format!("QQ：{qq}")), ["QQ"], "{qq}");
            let wx = sur("WECHAT_ID", "zhang_san88", seed);
            assert_eq!(wx.len(), 11, "{wx}");
            assert_eq!(&wx[5..6], "_", "{wx}");
            assert_eq!(found_as(&d, &format!("微信：{wx}")), ["WECHAT_ID"], "{wx}");
            let gen = sur("WECHAT_ID", "wxid_k2j4h5g6f7d8", seed);
            assert!(
                gen.starts_with("wxid_") && gen != "wxid_k2j4h5g6f7d8",
                "{gen}"
            );
            // A mobile after a bare country code stays a mobile: `86-1…`, `0086 1…`.
            for v in ["86-13912345678", "86 139 1234 5678", "0086 13912345678"] {
                let fake = sur("PHONE", v, seed);
                let head = &v[..v.find('1').unwrap() + 2];
                assert!(fake.starts_with(head) && fake != v, "{v} -> {fake}");
                assert_eq!(
                    found_as(&d, &format!("电话 {fake} 。")),
                    ["PHONE"],
                    "{fake}"
                );
            }
        }
    }

    #[test]
    fn checksummed_surrogates_are_valid_and_detected() {
        let d = Detector::new(&RuleSet::builtin().unwrap()).unwrap();
        for seed in 0..20u8 {
            let id = sur("CN_RESIDENT_ID", "11010519491231002X", seed);
            assert_eq!(
                found_as(&d, &format!("身份证 {id} 。")),
                ["CN_RESIDENT_ID"],
                "{id}"
            );
            let card = sur("CREDIT_CARD", "4111 1111 1111 1111", seed);
            assert!(card.starts_with('4') && card.len() == 19, "{card}");
            assert_eq!(
                found_as(&d, &format!("card {card} ok")),
                ["CREDIT_CARD"],
                "{card}"
            );
            let up = sur("CN_BANK_CARD", "6222021234567890128", seed);
            assert_eq!(
                found_as(&d, &format!("卡号 {up} ")),
                ["CN_BANK_CARD"],
                "{up}"
            );
            let iban = sur("IBAN", "DE89 3704 0044 0532 0130 00", seed);
            assert_eq!(found_as(&d, &format!("IBAN {iban} ")), ["IBAN"], "{iban}");
            let u = sur("CN_USCC", "91350100M000100Y43", seed);
            assert_eq!(found_as(&d, &format!("代码 {u} ")), ["CN_USCC"], "{u}");
            let s = sur("US_SSN", "123-45-6789", seed);
            assert_eq!(found_as(&d, &format!("SSN {s} ")), ["US_SSN"], "{s}");
        }
    }

    #[test]
    fn formats_and_reserved_ranges() {
        let e = sur("EMAIL", "alice@example.com", 3);
        assert!(
            e.ends_with("@example.com")
                || e.ends_with("@example.org")
                || e.ends_with("@example.net")
        );
        let p = sur("PHONE", "+86 139-1234-5678", 3);
        assert!(
            p.starts_with("+86 1") && p.len() == "+86 139-1234-5678".len(),
            "{p}"
        );
        assert!(
            sur("IPV4", "10.1.2.3", 3).starts_with("19")
                || sur("IPV4", "10.1.2.3", 3).starts_with("20")
        );
        assert!(sur("IPV6", "fe80::1", 3).starts_with("2001:db8:"));
        let gh = sur(
            "GITHUB_TOKEN",
            "ghp_R7d2Kq9XwL4mT8vN3bY6cJ1hF5gP0sZaQeWu",
            3,
        );
        assert!(gh.starts_with("ghp_") && gh.len() == 40, "{gh}");
        let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----";
        let k = sur("PRIVATE_KEY", key, 3);
        assert!(
            k.starts_with("-----BEGIN RSA PRIVATE KEY-----\n")
                && k.ends_with("-----END RSA PRIVATE KEY-----")
        );
        assert_ne!(k, key);
        assert_eq!(sur("PERSON", "张伟", 3).chars().count(), 2);
        assert_eq!(sur("DATE_OF_BIRTH", "1990-05-12", 3).len(), 10);
        // A month name is drawn anew, in its language and style, not kept.
        let months: std::collections::BTreeSet<String> = (0..64u8)
            .map(|seed| sur("DATE_OF_BIRTH", "July 4, 1976", seed))
            .map(|d| d.split(' ').next().unwrap().to_string())
            .collect();
        assert!(months.len() > 6, "{months:?}");
        assert!(months
            .iter()
            .all(|m| MONTHS[0].contains(&m.to_lowercase().as_str())));
        let fr = sur("DATE_OF_BIRTH", "3 mars 1992", 1);
        assert!(MONTHS[2].contains(&fr.split(' ').nth(1).unwrap()), "{fr}");
        let abbr = sur("DATE_OF_BIRTH", "12 Sep 1980", 2);
        assert_eq!(abbr.split(' ').nth(1).unwrap().chars().count(), 3, "{abbr}");
        assert_eq!(sur("UNKNOWN_TYPE", "x", 3), "<UNKNOWN_TYPE>");
    }

    #[test]
    fn cjk_secret_keeps_none_of_its_han_characters() {
        let v = "我爱北京天安门2024";
        let han: Vec<char> = v.chars().filter(|&c| is_han(c)).collect();
        for seed in 0..=255u8 {
            let s = sur("GENERIC_SECRET", v, seed);
            assert_eq!(s, sur("GENERIC_SECRET", v, seed), "deterministic");
            assert_eq!(s.chars().count(), v.chars().count(), "{s}");
            for (a, b) in v.chars().zip(s.chars()) {
                assert_eq!(
                    is_han(a),
                    is_han(b),
                    "{s}: Han stays Han, nothing else becomes Han"
                );
                assert!(!han.contains(&b), "{s} contains {b} of {v}");
                assert!(
                    ('\u{4e00}'..='\u{9fa5}').contains(&b) || b.is_ascii_digit(),
                    "{s}"
                );
            }
        }
        // Han characters in a URL password and in a PEM body go the same way.
        let u = sur("URL_WITH_CREDENTIALS", "admin:密码天安门", 9);
        assert!(
            u.starts_with("user") && !u.contains(['密', '码', '天', '安', '门']),
            "{u}"
        );
        let key = "-----BEGIN PRIVATE KEY-----\n密钥abc\n-----END PRIVATE KEY-----";
        let k = sur("PRIVATE_KEY", key, 9);
        assert!(!k.contains(['密', '钥']), "{k}");
    }

    #[test]
    fn accented_values_keep_no_non_ascii_letter() {
        // Precomposed and decomposed accents, a caseless script, fullwidth forms.
        for v in [
            "Mötdepässe_Çava2024é",
            "Cafe\u{301}Passwort!9",
            "パスワードÅngström",
            "ＡＢｃ１２Straße",
        ] {
            for seed in 0..=63u8 {
                let s = sur("GENERIC_SECRET", v, seed);
                assert!(s.is_ascii(), "{v} -> {s}");
                let letters = |x: &str| x.chars().filter(|c| c.is_alphabetic()).count();
                assert_eq!(letters(&s), letters(v), "{v} -> {s}");
                // Case follows the original letter: Ç → an ASCII capital.
                for (a, b) in v.chars().filter(|c| *c != '\u{301}').zip(s.chars()) {
                    assert_eq!(a.is_uppercase(), b.is_uppercase(), "{v} -> {s}");
                }
            }
        }
        let u = sur("URL_WITH_CREDENTIALS", "jörg:pässwörd", 4);
        assert!(u.is_ascii() && u.len() == "user00:pxsswxrd".len(), "{u}");
        // A kept prefix is kept only when it is ASCII structure.
        let p = sur("CN_PASSPORT", "É1234567", 4);
        assert!(p.is_ascii() && p.chars().count() == 8, "{p}");
        assert!(sur("CN_PASSPORT", "E12345678", 4).starts_with('E'));
        let t = sur("CN_TRAVEL_PERMIT", "H1234567800", 4);
        assert!(
            t.starts_with('H') && t.len() == 11 && t != "H1234567800",
            "{t}"
        );
        // Other passports keep their shape (letters where letters were), not the letters.
        for v in ["C01X00T47", "12AB34567", "533380006"] {
            let p = sur("PASSPORT", v, 4);
            assert_ne!(p, v);
            for (a, b) in v.chars().zip(p.chars()) {
                assert_eq!(a.is_ascii_digit(), b.is_ascii_digit(), "{v} -> {p}");
            }
        }
    }

    /// Types whose fakes have little freedom (a date of two one-digit runs is one of 144)
    /// are redrawn by `write_surrogate` itself, whatever the digest.
    #[test]
    fn no_digest_gives_back_the_value() {
        for (entity, v) in [
            ("DATE_OF_BIRTH", "3/4"),
            ("DATE_OF_BIRTH", "12.1"),
            ("MAC", "a"),
        ] {
            for a in 0..=255u8 {
                for b in 0..8u8 {
                    let mut digest = [a; 32];
                    digest[0] = b;
                    let mut s = String::new();
                    write_surrogate(entity, v, &digest, &mut s);
                    assert_ne!(s, v, "{entity} {a} {b}");
                }
            }
        }
    }

    #[test]
    fn degenerate_values_never_come_back_unchanged() {
        let cases = [
            ("IBAN", "DE8"),
            ("IBAN", "DE89"),
            ("IBAN", "D"),
            ("IBAN", "12345678"),
            ("IBAN", "DE89 3"),
            ("IBAN", "DE89 3704 0044 0532 0130 00"),
            ("PHONE", "abc-def"),
            ("PHONE", "+86"),
            ("PHONE", "+86 1"),
            ("PHONE", "555"),
            ("CREDIT_CARD", "abcd-efgh"),
            ("CREDIT_CARD", "4"),
            ("CREDIT_CARD", "42"),
            ("CREDIT_CARD", "411"),
            ("CN_BANK_CARD", "62"),
            ("CN_BANK_CARD", "620"),
            ("CN_PASSPORT", "E1"),
            ("CN_TRAVEL_PERMIT", "C1"),
            ("PASSPORT", "A1"),
            ("GENERIC_SECRET", "!@#$%^&*"),
            ("GENERIC_SECRET", "7"),
            ("GENERIC_SECRET", "天"),
        ];
        for (e, v) in cases {
            for seed in 0..=255u8 {
                let s = sur(e, v, seed);
                assert_ne!(s, v, "{e} {v} seed {seed}");
                assert_eq!(s, sur(e, v, seed), "{e} {v}: deterministic");
                assert_eq!(s.chars().count(), v.chars().count(), "{e} {v} -> {s}");
            }
        }
        // A degenerate IBAN is not assumed to start with a country code.
        assert!((0..=255u8).any(|seed| !sur("IBAN", "DE8", seed).starts_with("DE")));
        // Separators of a shape-only fake stay.
        assert_eq!(sur("PHONE", "abc-def", 1).as_bytes()[3], b'-');
    }
}

#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use crate::detect::Detector;
    use crate::pseudonym::{Key, Pseudonymizer, Style};
    use crate::rules::RuleSet;
    use crate::scrub::{Detections, Scrubber};
    use crate::validate::{cn_id_check_char, luhn};

    /// Compiled once: building the detector dominates a case otherwise.
    fn scrubber() -> &'static Scrubber {
        static S: std::sync::OnceLock<Scrubber> = std::sync::OnceLock::new();
        S.get_or_init(|| {
            let d = Detector::new(&RuleSet::builtin().unwrap()).unwrap();
            let k = Key::from_material(&[42u8; 32]).unwrap();
            Scrubber::new(d, Pseudonymizer::new(&k, Style::Tag))
        })
    }

    fn visa(body: &[u8]) -> String {
        let mut d = vec![4u8];
        d.extend(body.iter().map(|x| x % 10));
        for c in 0..10 {
            d.push(c);
            if luhn(&d) {
                break;
            }
            d.pop();
        }
        d.iter().map(|x| char::from(b'0' + x)).collect()
    }

    fn cn_id(region: usize, y: u32, m: u32, d: u32, seq: u32) -> String {
        let regions = ["110105", "310115", "440305", "510107", "620102"];
        let s17 = format!(
            "{}{y:04}{m:02}{d:02}{seq:03}",
            regions[region % regions.len()]
        );
        let c = char::from(cn_id_check_char(s17.as_bytes()));
        format!("{s17}{c}")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Generated checksum-valid values are found in varied surroundings, and the
        /// scrubbed text matches no rule any more.
        #[test]
        fn valid_ids_and_cards_are_found_and_scrubbed(
            body in proptest::collection::vec(0u8..10, 14),
            region in 0usize..5, y in 1950u32..2006, m in 1u32..13, d in 1u32..29, seq in 0u32..1000,
            pre in prop::sample::select(vec!["card ", "卡号：", "paid with ", "号码", "(", "\n"]),
            post in prop::sample::select(vec![" ok", "，谢谢", ".", ")", "\n", ""]),
        ) {
            let s = scrubber();
            let card = visa(&body);
            let id = cn_id(region, y, m, d, seq);
            let text = format!("{pre}{card}{post} 身份证{id}{post}");
            let mut sc = s.scratch();
            let found: Vec<String> = s
                .findings(&text, &mut sc)
                .iter()
                .map(|f| s.detector().rule(f.rule).entity.clone())
                .collect();
            prop_assert!(found.contains(&"CREDIT_CARD".to_string()), "{text} {found:?}");
            prop_assert!(found.contains(&"CN_RESIDENT_ID".to_string()), "{text} {found:?}");
            let mut counts = Detections::default();
            let out = s.scrub(&text, &mut sc, &mut counts).unwrap();
            prop_assert!(s.detector().find_all(&out).is_empty(), "{out}");
        }
    }
}
