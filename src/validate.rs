//! Validators: checks on a candidate match that a regular expression cannot express
//! (checksums, ranges, lengths). A rule names its validator in its `validator` field.
//!
//! A validator sees only the candidate value and answers yes or no; it never logs.

/// A validator: is this candidate really the entity?
pub type Validator = fn(&str) -> bool;

/// Looks up a validator by the name a rule file uses.
pub fn lookup(name: &str) -> Option<Validator> {
    Some(match name {
        "luhn" => luhn_str,
        "card" => card,
        "email" => email,
        "ipv4" => ipv4,
        "ipv4_any" => ipv4_any,
        "address" => address,
        "address_cn_strict" => address_cn_strict,
        "phone_e164" => phone_e164,
        "phone_national" => phone_national,
        "cn_resident_id" => cn_resident_id,
        "cn_resident_id_15" => cn_resident_id_15,
        "cn_uscc" => cn_uscc,
        "cn_bank_card" => cn_bank_card,
        "cn_mobile" => cn_mobile,
        "iban" => iban,
        "us_ssn" => us_ssn,
        "ipv6" => ipv6,
        "mac" => mac,
        "jwt" => jwt,
        "pem" => pem,
        "url_credentials" => url_credentials,
        "secret_entropy" => secret_entropy,
        "password_value" => password_value,
        "token_body" => token_body,
        "person_name" => person_name,
        "date" => date,
        "wechat_id" => wechat_id,
        "qq" => qq,
        "qq_bare" => qq_bare,
        "azure_key" => azure_key,
        _ => return None,
    })
}

/// Every validator name, for `patterns list` and error messages.
pub const NAMES: &[&str] = &[
    "address",
    "address_cn_strict",
    "azure_key",
    "card",
    "cn_bank_card",
    "cn_mobile",
    "cn_resident_id",
    "cn_resident_id_15",
    "cn_uscc",
    "date",
    "email",
    "iban",
    "ipv4",
    "ipv4_any",
    "ipv6",
    "jwt",
    "luhn",
    "mac",
    "pem",
    "person_name",
    "phone_e164",
    "phone_national",
    "password_value",
    "qq",
    "qq_bare",
    "secret_entropy",
    "token_body",
    "url_credentials",
    "us_ssn",
    "wechat_id",
];

/// Iterates over the ASCII digits of `s` as values 0..=9.
fn digits(s: &str) -> impl Iterator<Item = u8> + '_ {
    s.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0')
}

/// Calls `f` with the ASCII digits of `s` as values 0..=9. Validators run on every
/// candidate, so the digits go to a stack buffer; only a value with more digits than any
/// number these rules look for takes the heap.
fn with_digits<R>(s: &str, f: impl FnOnce(&[u8]) -> R) -> R {
    let mut buf = [0u8; 40];
    let mut n = 0;
    for d in digits(s) {
        if n == buf.len() {
            return f(&digits(s).collect::<Vec<u8>>());
        }
        buf[n] = d;
        n += 1;
    }
    f(&buf[..n])
}

/// The Luhn (mod 10) check over the digits of `s`, ignoring separators.
pub fn luhn(digits_msd_first: &[u8]) -> bool {
    if digits_msd_first.is_empty() {
        return false;
    }
    let mut sum = 0u32;
    for (i, &d) in digits_msd_first.iter().rev().enumerate() {
        let mut v = u32::from(d);
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

fn luhn_str(s: &str) -> bool {
    with_digits(s, luhn)
}

/// Eight or more consecutive ascending or descending digits (`12345678`): a test or
/// filler value, not an account.
fn sequential(d: &[u8]) -> bool {
    let mut up = 1;
    let mut down = 1;
    for w in d.windows(2) {
        up = if w[1] == (w[0] + 1) % 10 { up + 1 } else { 1 };
        down = if (w[1] + 1) % 10 == w[0] { down + 1 } else { 1 };
        if up >= 8 || down >= 8 {
            return true;
        }
    }
    false
}

/// A payment card: 13 to 19 digits, Luhn-valid, not all one digit, and, when written in
/// groups, grouped consistently (one kind of separator).
fn card(s: &str) -> bool {
    with_digits(s, |d| {
        (13..=19).contains(&d.len())
            && !d.iter().all(|&x| x == d[0])
            && !sequential(d)
            && one_separator_kind(s)
            && luhn(d)
    })
}

/// An 18-digit string that reads as a CN resident ID (province, real birth date) even if
/// its check character is wrong: a mistyped or fake ID, not a card or a company code.
fn id_shaped(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && CN_PROVINCES.contains(&(num(&b[0..2]) as u8))
        && (1900..=2099).contains(&num(&b[6..10]))
        && real_date(num(&b[6..10]), num(&b[10..12]), num(&b[12..14]))
}

/// A UnionPay (China) bank card: `62` prefix, 16 to 19 digits, Luhn-valid, and not an
/// 18-digit number shaped like a resident ID (Gansu IDs start with 62 too).
fn cn_bank_card(s: &str) -> bool {
    if id_shaped(s) {
        return false;
    }
    with_digits(s, |d| {
        (16..=19).contains(&d.len()) && d[0] == 6 && d[1] == 2 && one_separator_kind(s) && luhn(d)
    })
}

/// `4111 1111-1111 1111` mixes separators: more often two numbers than one card.
fn one_separator_kind(s: &str) -> bool {
    let has_space = s.contains(' ');
    let has_dash = s.contains('-');
    !(has_space && has_dash)
}

/// An e-mail address with a plausible domain: a dot in the domain, a letter-only TLD, and
/// no empty labels.
fn email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    if local.is_empty() || local.len() > 64 || domain.len() > 253 || local.contains("..") {
        return false;
    }
    let mut labels = domain.split('.');
    let tld = domain.rsplit('.').next().unwrap_or("");
    domain.contains('.')
        && labels.all(|l| !l.is_empty() && l.len() <= 63)
        && tld.len() >= 2
        && tld.bytes().all(|b| b.is_ascii_alphabetic())
}

/// A dotted-quad IPv4 address. Versions such as `1.0.0.0` pass the pattern too; the
/// all-zero address and octets with leading zeros are refused because they are far more
/// often version strings than hosts.
fn ipv4(s: &str) -> bool {
    let mut n = 0;
    for part in s.split('.') {
        n += 1;
        if part.is_empty() || part.len() > 3 || (part.len() > 1 && part.starts_with('0')) {
            return false;
        }
        match part.parse::<u16>() {
            Ok(v) if v <= 255 => {}
            _ => return false,
        }
    }
    n == 4 && s != "0.0.0.0" && !version_like(s)
}

/// `1.2.3.4`, `7.4.9.4`: four single digits that are not all equal are far more often a
/// version than a host (`8.8.8.8` and `1.1.1.1` are hosts). The `ipv4_any` validator,
/// used next to words such as "IP" or "host", accepts them.
fn version_like(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 7 && !(b[0] == b[2] && b[2] == b[4] && b[4] == b[6])
}

/// Any dotted quad, for rules that require IP context words.
fn ipv4_any(s: &str) -> bool {
    let ok = s.split('.').all(|p| {
        !p.is_empty()
            && p.len() <= 3
            && !(p.len() > 1 && p.starts_with('0'))
            && p.parse::<u16>().is_ok_and(|v| v <= 255)
    });
    ok && s.split('.').count() == 4 && s != "0.0.0.0"
}

/// A postal address after a label: has a digit or a CJK character, and is not a URL,
/// an e-mail address or a single ASCII word (`地址 amqp://…`, `address: n/a`).
fn address(s: &str) -> bool {
    let t = s.trim();
    let cjk = t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    let digit = t.bytes().any(|b| b.is_ascii_digit());
    let words = t.split_whitespace().count();
    (cjk || digit)
        && !t.contains("://")
        && !t.contains('@')
        && t.bytes().filter(|&b| b == b':').count() < 2
        && ((cjk && t.chars().count() >= 4) || words >= 2)
        && !["无", "不详", "暂无", "未知", "同上"]
            .iter()
            .any(|w| t.starts_with(w))
}

/// An E.164 number: 8 to 15 digits in all, country code included; with the `00` prefix
/// at least 9 digits after it, so `00664011` (a reference number) is not a phone.
fn phone_e164(s: &str) -> bool {
    let n = digits(s).count();
    let t = s.trim_start();
    if t.starts_with("00") {
        (11..=17).contains(&n)
    } else {
        (8..=15).contains(&n)
    }
}

/// A national phone number (trunk `0` or NANP): 9 to 12 digits, not all one digit.
fn phone_national(s: &str) -> bool {
    with_digits(s, |d| {
        (9..=12).contains(&d.len()) && !d[1..].iter().all(|&x| x == d[1])
    })
}

/// First two digits of the mainland, Hong Kong, Macau and Taiwan region codes of a CN
/// resident ID (GB/T 2260 provinces).
const CN_PROVINCES: &[u8] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83, 91,
];

fn is_leap(y: u32) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

/// Is `y-m-d` a real calendar date?
pub fn real_date(y: u32, m: u32, d: u32) -> bool {
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

fn num(b: &[u8]) -> u32 {
    b.iter().fold(0, |a, &c| a * 10 + u32::from(c - b'0'))
}

/// The ISO 7064 MOD 11-2 check character of the first 17 digits of a CN resident ID.
pub fn cn_id_check_char(first17: &[u8]) -> u8 {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .iter()
        .zip(W)
        .map(|(&c, w)| u32::from(c - b'0') * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize]
}

/// An 18-character CN resident ID: province prefix, real birth date (1900 to 2099), and the
/// ISO 7064 MOD 11-2 check character (`X` allowed, either case).
fn cn_resident_id(s: &str) -> bool {
    // Grouped forms (`110105 19491231 002X`) are checked without their separators.
    let mut buf = [0u8; 18];
    let mut n = 0;
    for &c in s.as_bytes().iter().filter(|&&c| c != b' ' && c != b'-') {
        if n == buf.len() {
            return false;
        }
        buf[n] = c;
        n += 1;
    }
    let b = &buf[..n];
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let last = b[17].to_ascii_uppercase();
    if !(last.is_ascii_digit() || last == b'X') {
        return false;
    }
    let (y, m, d) = (num(&b[6..10]), num(&b[10..12]), num(&b[12..14]));
    CN_PROVINCES.contains(&(num(&b[0..2]) as u8))
        && (1900..=2099).contains(&y)
        && real_date(y, m, d)
        && cn_id_check_char(&b[..17]) == last
}

/// The 15-digit legacy CN resident ID (before 1999): province prefix and a real 19yy date.
/// It has no check digit, so its rule requires context words.
fn cn_resident_id_15(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 15
        && b.iter().all(u8::is_ascii_digit)
        && CN_PROVINCES.contains(&(num(&b[0..2]) as u8))
        && real_date(1900 + num(&b[6..8]), num(&b[8..10]), num(&b[10..12]))
}

/// The 31 characters of a unified social credit code (no I, O, S, V, Z).
const USCC_CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// The check character of the first 17 characters of a USCC (GB 32100-2015), if they are
/// all in the alphabet.
pub fn cn_uscc_check_char(first17: &[u8]) -> Option<u8> {
    const W: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let mut sum = 0;
    for (&c, w) in first17.iter().zip(W) {
        sum += USCC_CHARS.iter().position(|&x| x == c)? * w;
    }
    Some(USCC_CHARS[(31 - sum % 31) % 31])
}

/// A unified social credit code: 18 characters, registration-authority and region digits
/// plausible, mod-31 check character. At least one letter or the region prefix is checked
/// so that an 18-digit number with a lucky check digit needs a plausible shape too.
fn cn_uscc(s: &str) -> bool {
    let Ok(mut b) = <[u8; 18]>::try_from(s.as_bytes()) else {
        return false;
    };
    b.make_ascii_uppercase();
    // Registration authority: 1-9, A, N, Y; region code: 6 digits with a province prefix.
    let auth_ok = matches!(b[0], b'1'..=b'9' | b'A' | b'N' | b'Y');
    let region_ok =
        b[2..8].iter().all(u8::is_ascii_digit) && CN_PROVINCES.contains(&(num(&b[2..4]) as u8));
    auth_ok
        && region_ok
        && !id_shaped(s)
        && !with_digits(s, sequential)
        && cn_uscc_check_char(&b[..17]) == Some(b[17])
}

/// IBAN lengths per country (SWIFT IBAN registry).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

/// The expected IBAN length of a country, if it uses IBANs.
pub fn iban_length(country: &str) -> Option<usize> {
    IBAN_LENGTHS
        .iter()
        .find(|(c, _)| *c == country)
        .map(|&(_, n)| n)
}

/// ISO 13616 mod-97 remainder of an IBAN-shaped string (country and check digits moved to
/// the end, letters as 10..35).
pub fn iban_mod97(compact: &[u8]) -> Option<u32> {
    let mut r = 0u32;
    for &c in compact[4..].iter().chain(&compact[..4]) {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return None,
        };
        r = if v >= 10 {
            (r * 100 + v) % 97
        } else {
            (r * 10 + v) % 97
        };
    }
    Some(r)
}

/// An IBAN, spaced or not: the country's length and mod-97 = 1.
fn iban(s: &str) -> bool {
    // No country's IBAN is longer than 34 characters: a longer value fails the length
    // check below anyway, so it need not fit the stack buffer.
    let mut buf = [0u8; 35];
    let mut n = 0;
    for c in s.bytes().filter(|&c| c != b' ' && c != b'-') {
        if n == buf.len() {
            return false;
        }
        buf[n] = c.to_ascii_uppercase();
        n += 1;
    }
    let compact = &buf[..n];
    if compact.len() < 15 {
        return false;
    }
    let Ok(country) = std::str::from_utf8(&compact[..2]) else {
        return false;
    };
    iban_length(country) == Some(compact.len()) && iban_mod97(compact) == Some(1)
}

/// A US SSN: no 000, 666 or 9xx area, no 00 group, no 0000 serial, and not the famous
/// advertising number.
fn us_ssn(s: &str) -> bool {
    with_digits(s, us_ssn_digits)
}

fn us_ssn_digits(d: &[u8]) -> bool {
    if d.len() != 9 {
        return false;
    }
    let area = u32::from(d[0]) * 100 + u32::from(d[1]) * 10 + u32::from(d[2]);
    let group = u32::from(d[3]) * 10 + u32::from(d[4]);
    let serial = d[5..].iter().fold(0u32, |a, &x| a * 10 + u32::from(x));
    area != 0
        && area != 666
        && area < 900
        && group != 0
        && serial != 0
        && !(area == 78 && group == 5 && serial == 1120)
        && !d.iter().all(|&x| x == d[0])
}

/// An IPv6 address in any standard form (full, `::`-compressed, IPv4-suffixed). Needs at
/// least two groups or a `::`, and at least one digit, so that `dead:beef` prose and
/// C++ `a::b` paths are rare hits.
fn ipv6(s: &str) -> bool {
    let Ok(addr) = s.parse::<std::net::Ipv6Addr>() else {
        return false;
    };
    let groups = s.split(':').filter(|g| !g.is_empty()).count();
    !addr.is_unspecified() && s.bytes().any(|b| b.is_ascii_digit()) && (groups >= 2 || s == "::1")
}

/// A MAC address: six hex pairs with one kind of separator, not all zero or all `ff`
/// (placeholders) .
fn mac(s: &str) -> bool {
    let sep = if s.contains(':') { ':' } else { '-' };
    s.split(sep).count() == 6
        && s.split(sep)
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
        && !s.split(sep).all(|p| p == "00")
        && !s.split(sep).all(|p| p.eq_ignore_ascii_case("ff"))
}

/// Decodes unpadded or padded base64url (or standard base64) text.
pub fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// A JWT: three dot-separated base64url parts whose first decodes to a JSON object with an
/// `alg` or `typ` member.
fn jwt(s: &str) -> bool {
    let mut parts = s.split('.');
    let (Some(h), Some(p), Some(_sig)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    if p.len() < 4 {
        return false;
    }
    let Some(header) = base64url_decode(h) else {
        return false;
    };
    match serde_json::from_slice::<serde_json::Value>(&header) {
        Ok(serde_json::Value::Object(m)) => m.contains_key("alg") || m.contains_key("typ"),
        _ => false,
    }
}

/// A PEM private key block: the BEGIN and END lines name the same kind of key and a body
/// is present.
fn pem(s: &str) -> bool {
    fn kind<'a>(line: &'a str, tag: &str) -> Option<&'a str> {
        let i = line.find(tag)? + tag.len();
        let rest = &line[i..];
        let j = rest.find("-----")?;
        Some(&rest[..j])
    }
    let Some(begin) = kind(s, "-----BEGIN ") else {
        return false;
    };
    let body_ok = s.len() > begin.len() + 40;
    match s.rfind("-----END ") {
        Some(at) => kind(&s[at..], "-----END ").is_some_and(|end| end == begin) && body_ok,
        // A block cut off before its END line still holds key material.
        None => body_ok,
    }
}

/// The `user:password` part of a URL: a non-empty password that is not a placeholder
/// template such as `${PASS}`.
fn url_credentials(s: &str) -> bool {
    let Some((_user, pass)) = s.split_once(':') else {
        return false;
    };
    !pass.is_empty() && !pass.starts_with("${") && !pass.starts_with("{{")
}

/// Shannon entropy in bits per character.
pub fn shannon_entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut n = 0u32;
    for b in s.bytes() {
        counts[b as usize] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = f64::from(n);
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Values that sit where a secret would but are not one: placeholders, references to
/// variables, and booleans.
fn is_placeholder(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    const WORDS: &[&str] = &[
        "password",
        "passwort",
        "changeme",
        "change_me",
        "secret",
        "your_password",
        "yourpassword",
        "your-api-key",
        "your_api_key",
        "placeholder",
        "example",
        "redacted",
        "none",
        "null",
        "true",
        "false",
        "undefined",
        "required",
        "optional",
        "string",
        "xxxxxxxx",
        "********",
        "<password>",
        "todo",
        "dummy",
        "notasecret",
    ];
    WORDS.iter().any(|w| l == *w)
        || l.starts_with("${")
        || l.starts_with("{{")
        || l.starts_with("%(")
        || l.starts_with('<')
        || l.starts_with("process.env")
        || l.starts_with("os.environ")
        || l.starts_with("env.")
        || l.starts_with("getenv")
        || l.contains("your")
        || l.bytes().all(|b| b == b'*' || b == b'x' || b == b'.')
}

/// A generic secret value (`password=…`, `api_key: …`): at least 8 characters, not a
/// placeholder or a code identifier, mixing character classes, and Shannon entropy of at
/// least 2.5 bits per character.
fn secret_entropy(s: &str) -> bool {
    let n = s.chars().count();
    if !(6..=256).contains(&n) || is_placeholder(s) {
        return false;
    }
    let lower = s.bytes().any(|b| b.is_ascii_lowercase());
    let upper = s.bytes().any(|b| b.is_ascii_uppercase());
    let digit = s.bytes().any(|b| b.is_ascii_digit());
    let other = s.bytes().any(|b| !b.is_ascii_alphanumeric());
    let classes = [lower, upper, digit, other].iter().filter(|&&x| x).count();
    // `self.password`, `get_token()`, `user_name`: identifiers, not secrets.
    let identifier = s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.' || b == b'(' || b == b')')
        || s.ends_with("()");
    classes >= 2 && !identifier && shannon_entropy(s) >= 2.5
}

/// A value assigned to a password / secret / token label. Like [`secret_entropy`], but
/// it also accepts what people really use as passwords after an explicit label: digit
/// PINs of 6 to 12 digits (`密码：123456`) and long lowercase passphrases. Dates, times and
/// versions (`2024-03-05`, `1.2.3`) are refused.
fn password_value(s: &str) -> bool {
    let n = s.chars().count();
    if !(6..=256).contains(&n) || is_placeholder(s) {
        return false;
    }
    let b = s.as_bytes();
    if b.iter().all(u8::is_ascii_digit) {
        // `20240305` is a date, not a PIN.
        let date = n >= 8 && (s.starts_with("19") || s.starts_with("20"));
        return n <= 12 && !b.iter().all(|&x| x == b[0]) && !date;
    }
    let date_like = b.iter().any(u8::is_ascii_digit)
        && b.iter()
            .all(|c| c.is_ascii_digit() || b":-./TZ+ ".contains(c));
    if date_like {
        return false;
    }
    if b.iter().all(u8::is_ascii_lowercase) {
        return n >= 10 && shannon_entropy(s) >= 3.2;
    }
    secret_entropy(s)
}

/// The random body of a vendor token (after its fixed prefix): not a run of one character
/// or an obvious `xxxx`/`0000` placeholder, and some entropy.
fn token_body(s: &str) -> bool {
    let body = s.rsplit(['_', '-']).max_by_key(|p| p.len()).unwrap_or(s);
    let l = s.to_ascii_lowercase();
    !l.contains("xxxxxxxx") && !l.contains("00000000") && shannon_entropy(body) >= 3.0
}

/// Common capitalized words that follow "I'm" or a label but are not names (English,
/// German, French), and CJK characters that do not occur in names.
#[rustfmt::skip]
const NOT_NAMES: &[&str] = &[
    "a",
    "an",
    "the",
    "not",
    "sorry",
    "happy",
    "glad",
    "here",
    "just",
    "very",
    "so",
    "also",
    "going",
    "looking",
    "writing",
    "trying",
    "interested",
    "available",
    "back",
    "sure",
    "fine",
    "good",
    "great",
    "ok",
    "okay",
    "new",
    "from",
    "with",
    "and",
    "or",
    "in",
    "on",
    "at",
    "for",
    "to",
    "of",
    "is",
    "are",
    "was",
    "customer",
    "service",
    "support",
    "team",
    "manager",
    "admin",
    "user",
    "unknown",
    "n/a",
    "none",
    "null",
    "name",
    "required",
    "thanks",
    "thank",
    "regards",
    "best",
    "hi",
    "hello",
    "dear",
    "please",
    "sir",
    "madam",
    "all",
    "everyone",
    "department",
    "company",
    "inc",
    "ltd",
    "gmbh",
    "sa",
    "date",
    "address",
    "phone",
    "email",
    "your",
    "my",
    "our",
    "this",
    "that",
    "it",
    "we",
    "they",
    "he",
    "she",
    "you",
    "i",
    "ich",
    "bin",
    "nicht",
    "der",
    "die",
    "das",
    "und",
    "je",
    "suis",
    "le",
    "la",
    "les",
    "et",
    "un",
    "une",
    "de",
    "vous",
    "moi",
    "mon",
    "ma",
    "à",
    "en",
    "sehr",
    "gerne",
    "froh",
    "désolé",
    "désolée",
    "excited",
    "afraid",
    "still",
    "currently",
    "now",
    "today",
    "tomorrow",
    "monday",
    "first",
    "last",
    "full",
    "test",
    "sample",
    "kunde",
    "client",
    "cliente",
    "created", "updated", "subject", "sent", "from", "to", "cc", "re", "fw", "ticket",
    "order", "billing", "shipping", "cardholder", "destinataire", "nom", "prénom",
    "vorname", "mein", "meine", "meinen", "mon", "mes", "our", "world", "there", "guys", "folks", "friend", "friends", "team", "everybody",
    "colleagues", "kollegen", "zusammen", "tous", "à tous", "or", "und", "et", "sir", "madam",
];

const NOT_NAME_HAN: &str =
    "的了是在我你他她们这那什么吗呢吧啊和与及或不也都很就会要能说话号码电地址先生女士姐客户您请问好老师经理总";

/// A person's name found after a label: one to four words none of which is a common
/// non-name word, or two to four Han characters with none of the function characters.
fn person_name(s: &str) -> bool {
    let t = s.trim();
    if t.is_empty() {
        return false;
    }
    if t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) {
        // `张先生`, `李老师`: a surname and an honorific name a person too.
        const HONORIFICS: &[&str] = &[
            "先生", "女士", "小姐", "老师", "经理", "总监", "医生", "律师", "师傅",
        ];
        if let Some(sur) = HONORIFICS.iter().find_map(|h| t.strip_suffix(h)) {
            let n = sur.chars().count();
            return (1..=3).contains(&n) && !sur.chars().any(|c| NOT_NAME_HAN.contains(c));
        }
        let n = t
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '·')
            .count();
        return (2..=5).contains(&n)
            && !t.chars().any(|c| NOT_NAME_HAN.contains(c))
            && !t.contains("谢谢");
    }
    // Lowercased on the stack when ASCII (for ASCII, `to_lowercase` is exactly this).
    let mut buf = [0u8; 64];
    let owned;
    let lower: &str = if t.is_ascii() && t.len() <= buf.len() {
        let b = &mut buf[..t.len()];
        b.copy_from_slice(t.as_bytes());
        b.make_ascii_lowercase();
        std::str::from_utf8(b).expect("ASCII stays UTF-8")
    } else {
        owned = t.to_lowercase();
        &owned
    };
    if NOT_NAMES.contains(&lower) {
        return false;
    }
    let mut words = lower.split_whitespace();
    words
        .next()
        .is_some_and(|first| !NOT_NAMES.contains(&first.trim_end_matches([',', '.'])))
        && words.count() < 5
        && t.chars().next().is_some_and(char::is_uppercase)
}

/// A Chinese postal address without a label ("改成浙江省杭州市…90号"): it must read like
/// one, with an administrative or street word and a number.
fn address_cn_strict(s: &str) -> bool {
    address(s)
        && s.bytes().any(|b| b.is_ascii_digit())
        && ["省", "市", "区", "县", "路", "街", "道", "镇", "村"]
            .iter()
            .filter(|w| s.contains(*w))
            .count()
            >= 2
}

/// A date: some digits and at most 40 characters (dates of birth follow their label in
/// many formats; this only refuses values that cannot be one).
fn date(s: &str) -> bool {
    let d = digits(s).count();
    (1..=8).contains(&d) && s.chars().count() <= 40
}

/// A WeChat id as WeChat allows one: 6 to 20 characters, a letter first, then letters,
/// digits, `_` and `-`; or WeChat's generated `wxid_` and up to 24 letters and digits, at
/// least one a digit (`wxid_mapping` is a variable). A mini-program's app id (`wx` and 16
/// hex digits) is not a person's.
fn wechat_id(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() >= 5 && b[..5].eq_ignore_ascii_case(b"wxid_") {
        let rest = &b[5..];
        return (6..=24).contains(&rest.len())
            && rest.iter().all(u8::is_ascii_alphanumeric)
            && rest.iter().any(u8::is_ascii_digit);
    }
    let app_id = b.len() == 18
        && b[..2].eq_ignore_ascii_case(b"wx")
        && b[2..].iter().all(u8::is_ascii_hexdigit);
    (6..=20).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
        && !app_id
}

/// A QQ number: 5 to 11 digits, the first not a zero. A mobile number used as the QQ
/// number (`QQ：139 1234 5678`) is one too.
fn qq(s: &str) -> bool {
    with_digits(s, qq_digits)
}

fn qq_digits(d: &[u8]) -> bool {
    (5..=11).contains(&d.len()) && d[0] != 0
}

/// A QQ number after a bare "QQ" and a blank: [`qq`], and not a round count (`50000`) or a
/// date (`20240115`), which is what such a number in prose often is.
fn qq_bare(s: &str) -> bool {
    with_digits(s, |d| {
        let date = d.len() == 8
            && matches!(d[..2], [1, 9] | [2, 0])
            && real_date(
                num_digits(&d[..4]),
                num_digits(&d[4..6]),
                num_digits(&d[6..8]),
            );
        qq_digits(d) && !d.ends_with(&[0, 0, 0]) && !date
    })
}

/// The value of the digits `d` (0..=9 each).
fn num_digits(d: &[u8]) -> u32 {
    d.iter().fold(0, |n, &x| n * 10 + u32::from(x))
}

/// An Azure storage account key (64 bytes, 88 base64 characters) or a shared access key
/// (32 bytes, 44), random enough to be one: placeholders (`YourAccountKeyGoesHere…==`,
/// `abc…xyz0123…`) and the storage emulator's published key are not secrets.
fn azure_key(s: &str) -> bool {
    const EMULATOR: &str =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    let shape = (s.len() == 88 && s.ends_with("==") && !s[..86].contains('='))
        || (s.len() == 44 && s.ends_with('=') && !s[..43].contains('='));
    let lower = s.to_ascii_lowercase();
    let placeholder = [
        "your",
        "replace",
        "placeholder",
        "example",
        "goeshere",
        "abcdefgh",
    ]
    .iter()
    .any(|w| lower.contains(w));
    shape && s != EMULATOR && !placeholder && token_body(s)
}

/// A Chinese mobile number: 11 digits starting 1[3-9], after an optional 86 or 0086
/// country code. A validator of its own, so that overlap resolution (validated first)
/// does not hand a `+86 139…` number to a weaker national rule.
fn cn_mobile(s: &str) -> bool {
    with_digits(s, |d| {
        let national = match d.len() {
            11 => d,
            13 if d.starts_with(&[8, 6]) => &d[2..],
            15 if d.starts_with(&[0, 0, 8, 6]) => &d[4..],
            _ => return false,
        };
        national[0] == 1 && (3..=9).contains(&national[1])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cn_resident_id_grouped_or_not() {
        for good in [
            "11010519491231002X",
            "110105 19491231 002x",
            "110105-19491231-002X",
            "110105 1949 1231 002X",
        ] {
            assert!(cn_resident_id(good), "{good}");
        }
        for bad in [
            "110105 19491231 0021",
            "110105194912310021",
            "11010519491231002X0",
            "110105 19491231 002X 1",
        ] {
            assert!(!cn_resident_id(bad), "{bad}");
        }
    }

    #[test]
    fn digits_spill_to_the_heap_intact() {
        for n in [0u8, 1, 39, 40, 41, 100] {
            let mut s: String = (0..n)
                .map(|i| char::from(b'0' + (i % 10) * 7 % 10))
                .collect();
            s.push_str(" x-");
            let want: Vec<u8> = digits(&s).collect();
            assert_eq!(with_digits(&s, <[u8]>::to_vec), want, "{n} digits");
        }
        // A value longer than any of these numbers is still refused, not cut short.
        let long = "4111111111111111".repeat(3);
        assert!(!card(&long) && !phone_national(&long) && !us_ssn(&long));
        assert!(!iban(&format!("DE89370400440532013000{}", "0".repeat(20))));
    }

    #[test]
    fn luhn_vectors() {
        for good in [
            "4111111111111111",
            "5555555555554444",
            "378282246310005",
            "79927398713",
        ] {
            assert!(luhn_str(good), "{good}");
        }
        for bad in ["4111111111111112", "79927398710", ""] {
            assert!(!luhn_str(bad), "{bad}");
        }
    }

    #[test]
    fn card_refuses_repeated_digits_and_bad_lengths() {
        assert!(card("4111 1111 1111 1111"));
        assert!(!card("0000000000000000"));
        assert!(!card("411111111111")); // 12 digits
    }

    #[test]
    fn email_checks_domain() {
        assert!(email("a@b.co"));
        assert!(!email("a@localhost"));
        assert!(!email("a@b.c0m"));
        assert!(!email("a..b@c.com"));
    }

    #[test]
    fn ipv4_refuses_leading_zeros() {
        assert!(ipv4("192.168.0.1"));
        assert!(!ipv4("192.168.00.1"));
        assert!(!ipv4("256.1.1.1"));
        assert!(!ipv4("0.0.0.0"));
    }

    #[test]
    fn password_values() {
        for good in [
            "123456",
            "Xk9#mQ2vL7pR",
            "correcthorsebatterystaple",
            "Tr0ub4dor&3",
            "88776655",
        ] {
            assert!(password_value(good), "{good}");
        }
        for bad in [
            "changeme",
            "2024-03-05",
            "1.2.3.4",
            "${DB_PASSWORD}",
            "self.password",
            "required",
            "111111",
        ] {
            assert!(!password_value(bad), "{bad}");
        }
    }

    #[test]
    fn wechat_id_lengths() {
        assert!(wechat_id("lucy_2") && wechat_id("a-b_c1234567890123x9"));
        assert!(
            !wechat_id("lucy2") && !wechat_id("1lucy2020") && !wechat_id("a-b_c1234567890123x90")
        );
        assert!(!wechat_id("lucy.2020"));
        assert!(wechat_id("wxid_k2j4h5g6f7d8") && wechat_id("WXID_abc123"));
        assert!(!wechat_id("wxid_mapping") && !wechat_id("wxid_ab1"));
        // A mini-program's app id.
        assert!(!wechat_id("wx8f3a2b1c4d5e6f70") && wechat_id("wx8f3a2b1c4d5e6f7g"));
    }

    #[test]
    fn qq_numbers_not_counts_or_dates() {
        for good in [
            "10001",
            "123456789",
            "2876543210",
            "139 1234 5678",
            "13912345678",
        ] {
            assert!(qq(good) && qq_bare(good), "{good}");
        }
        // After a label and a separator a number is a QQ number; after a bare "QQ" a
        // round count or a date is not.
        for labeled in ["50000", "123456000", "19900512", "20240115"] {
            assert!(qq(labeled) && !qq_bare(labeled), "{labeled}");
        }
        for bad in ["1234", "012345", "123456789012"] {
            assert!(!qq(bad) && !qq_bare(bad), "{bad}");
        }
    }

    #[test]
    fn azure_keys_not_placeholders() {
        let key88 = "c2LufYNuydk9sgEWl2agE4aE+Yhc3a+LcBfS83Cedu3QlYJJJbgIQrBc5O/x2A7CzMp1GAawTCEe6OQxLdU+ZO==";
        assert!(azure_key(key88) && azure_key("naW+mOIxEUPMuq8G+tUx5Ldnsyd36dBxT3wGa06qx7H="));
        for bad in [
            &key88[..80],
            &key88[2..],
            "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
            "YourAccountKeyGoesHereReplaceWithRealValue1=",
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ=",
        ] {
            assert!(!azure_key(bad), "{bad}");
        }
    }

    #[test]
    fn cn_mobile_forms() {
        for good in [
            "13912345678",
            "+86 139-1234-5678",
            "008613912345678",
            "+8613912345678",
        ] {
            assert!(cn_mobile(good), "{good}");
        }
        for bad in ["12912345678", "1391234567", "+1 139 1234 5678"] {
            assert!(!cn_mobile(bad), "{bad}");
        }
    }

    #[test]
    fn every_name_resolves() {
        for n in NAMES {
            assert!(lookup(n).is_some(), "{n}");
        }
    }
}
