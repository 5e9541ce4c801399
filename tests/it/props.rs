//! Property tests of the invariants.

use proptest::prelude::*;
use scrubline::detect::Detector;
use scrubline::pseudonym::{Key, Pseudonymizer, Style};
use scrubline::rules::RuleSet;
use scrubline::scrub::{Detections, Scrubber};

fn scrubber(key: u8) -> Scrubber {
    let d = Detector::new(&RuleSet::builtin().unwrap()).unwrap();
    Scrubber::new(
        d,
        Pseudonymizer::new(&Key::from_material(&[key; 32]).unwrap(), Style::Tag),
    )
}

// Built once per test binary: compiling the rules for each case took nearly all of these
// tests' time (in a debug build, 350 s of one CI run for 256 cases building three each).
static SCRUBBER_1: std::sync::LazyLock<Scrubber> = std::sync::LazyLock::new(|| scrubber(1));
static SCRUBBER_3: std::sync::LazyLock<Scrubber> = std::sync::LazyLock::new(|| scrubber(3));
static SCRUBBER_4: std::sync::LazyLock<Scrubber> = std::sync::LazyLock::new(|| scrubber(4));
/// Two scrubbers compiled apart from the same rules and key: determinism is checked across
/// instances, as across the processes of a run, not within one.
static SCRUBBER_9: std::sync::LazyLock<Scrubber> = std::sync::LazyLock::new(|| scrubber(9));
static SCRUBBER_9_AGAIN: std::sync::LazyLock<Scrubber> = std::sync::LazyLock::new(|| scrubber(9));

fn text_with_pii() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-z]{1,8}",
        " ",
        "[，。：]",
        "[a-z]{1,6}\\.[a-z]{1,6}@example\\.(com|org|net)",
        "1[3-9][0-9]{9}",
        Just("4111 1111 1111 1111".to_string()),
        Just("+86 139-1234-5678".to_string()),
        "(1[0-9]{2}|2[0-4][0-9])\\.[1-9][0-9]?\\.[1-9][0-9]?\\.[1-9][0-9]?",
        "[\u{4e00}-\u{4e20}]{1,4}",
        // Full-width digits and letters, and no-break and ideographic spaces, which
        // detection folds to ASCII.
        "1[3-9][０-９]{9}",
        "[ａ-ｚ]{1,6}＠example．com",
        Just("4111\u{a0}1111\u{3000}1111 1111".to_string()),
        "[\u{a0}\u{3000}]",
        // Invisible characters, which the joined view drops inside values.
        "[\u{200b}\u{ad}\u{2060}]",
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Same input and key, same output; scrubbing it again finds nothing.
    #[test]
    fn deterministic_and_nothing_left(text in text_with_pii()) {
        let s = &*SCRUBBER_9;
        let mut sc = s.scratch();
        let mut c = Detections::default();
        let once = s.scrub(&text, &mut sc, &mut c).unwrap_or_else(|| text.clone());
        let other = &*SCRUBBER_9_AGAIN;
        let again = other.scrub(&text, &mut other.scratch(), &mut c).unwrap_or_else(|| text.clone());
        prop_assert_eq!(&once, &again);
        prop_assert!(s.findings(&once, &mut sc).is_empty(), "scrubbed output still matches a rule");
    }

    /// A value written in full-width forms gets the token of its ASCII form.
    #[test]
    fn full_width_is_pseudonymized_as_ascii(phone in "1[3-9][0-9]{9}", user in "[a-z]{1,8}") {
        let wide = |s: &str| -> String {
            s.chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '@' || c == '.' {
                    char::from_u32(c as u32 + 0xfee0).unwrap()
                } else {
                    c
                })
                .collect()
        };
        let s = &*SCRUBBER_3;
        let mut sc = s.scratch();
        let mut c = Detections::default();
        let ascii = format!("手机{phone}，邮箱 {user}@example.com 。");
        let once = s.scrub(&ascii, &mut sc, &mut c);
        prop_assert!(once.is_some());
        prop_assert_eq!(s.scrub(&wide(&ascii), &mut sc, &mut c), once);
    }

    /// A value cut by invisible characters gets the token of its plain form, and the
    /// characters stay where they were, outside it.
    #[test]
    fn invisible_characters_are_pseudonymized_as_plain(
        phone in "1[3-9][0-9]{9}",
        user in "[a-z]{1,8}",
        cut in proptest::sample::select(vec!["\u{200b}", "\u{ad}", "\u{2060}", "\u{feff}", "\u{200d}"]),
    ) {
        let s = &*SCRUBBER_4;
        let mut sc = s.scratch();
        let mut c = Detections::default();
        let plain = format!("手机{phone}，邮箱 {user}@example.com 。");
        let cut_phone = format!("{}{cut}{}{cut}{}", &phone[..3], &phone[3..7], &phone[7..]);
        let cut_text = format!("手机{cut_phone}，邮箱 {user}{cut}@example.com 。");
        let once = s.scrub(&plain, &mut sc, &mut c).unwrap();
        let joined = s.scrub(&cut_text, &mut sc, &mut c).unwrap();
        prop_assert!(!once.contains(&phone) && !once.contains('@'), "{}", once);
        prop_assert_eq!(joined.replace(cut, ""), once);
    }

    /// Arbitrary bytes through the JSON path never panic.
    #[test]
    fn json_path_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(text) = scrubline::json::validate(&bytes) {
            let mut path = Vec::new();
            let _ = scrubline::json::walk(text, &scrubline::select::Selection::all(), &mut path, &mut |_| {});
        }
    }

    /// Arbitrary text through the detectors never panics.
    #[test]
    fn detector_never_panics(text in "\\PC{0,200}") {
        let s = &*SCRUBBER_1;
        let mut c = Detections::default();
        let _ = s.scrub(&text, &mut s.scratch(), &mut c);
    }
}
