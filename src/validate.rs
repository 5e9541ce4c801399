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
        "phone_e164" => phone_e164,
        _ => return None,
    })
}

/// Every validator name, for `patterns list` and error messages.
pub const NAMES: &[&str] = &["card", "email", "ipv4", "luhn", "phone_e164"];

/// Iterates over the ASCII digits of `s` as values 0..=9.
fn digits(s: &str) -> impl Iterator<Item = u8> + '_ {
    s.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0')
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
    let d: Vec<u8> = digits(s).collect();
    luhn(&d)
}

/// A payment card: 13 to 19 digits, Luhn-valid, not all one digit.
fn card(s: &str) -> bool {
    let d: Vec<u8> = digits(s).collect();
    (13..=19).contains(&d.len()) && !d.iter().all(|&x| x == d[0]) && luhn(&d)
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
        && labels.all(|l| !l.is_empty())
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
    n == 4 && s != "0.0.0.0"
}

/// An E.164 number: 8 to 15 digits in all, country code included.
fn phone_e164(s: &str) -> bool {
    let n = digits(s).count();
    (8..=15).contains(&n)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn every_name_resolves() {
        for n in NAMES {
            assert!(lookup(n).is_some(), "{n}");
        }
    }
}
