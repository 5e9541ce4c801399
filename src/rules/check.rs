//! `scrubline patterns check` and `patterns list`: compile every rule, run its examples and
//! negative examples, and report per rule.
//!
//! Each rule is compiled and run *alone*, so an example proves that this rule finds it
//! (not that some other rule does) and a negative example proves that this rule stays
//! quiet. The whole set is then compiled together once, which catches size limits of the
//! combined one-pass regex. The report never contains a matched value, only the example's
//! index, so it is safe to print in CI logs even if an example were real data.

use std::collections::BTreeSet;
use std::fmt;

use crate::detect::Detector;
use crate::rules::{Rule, RuleSet};

/// One problem with one rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The pattern, validator, context or keywords do not compile.
    Compile(String),
    /// The rule has no `examples`.
    NoExamples,
    /// The rule has no `negative_examples`.
    NoNegativeExamples,
    /// `examples[i]` was not found by this rule.
    ExampleMissed(usize),
    /// `examples[i]` marks its value (`[[…]]`), and this rule found something else there.
    ExampleSpan(usize),
    /// `negative_examples[i]` was found by this rule.
    NegativeMatched(usize),
    /// Another rule already uses this id.
    DuplicateId,
    /// With its `keyword_at`, the rule finds something else in example `i` (counting
    /// `examples`, then `negative_examples`) than the window scan does: the promise about
    /// where matches lie does not hold.
    KeywordAtBroken(usize),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Compile(e) => write!(f, "does not compile: {e}"),
            Problem::NoExamples => f.write_str("has no examples"),
            Problem::NoNegativeExamples => f.write_str("has no negative_examples"),
            Problem::ExampleMissed(i) => write!(f, "examples[{i}] is not found"),
            Problem::ExampleSpan(i) => write!(
                f,
                "examples[{i}] is found, but not as exactly the value it marks with [[…]]"
            ),
            Problem::NegativeMatched(i) => write!(f, "negative_examples[{i}] is found"),
            Problem::DuplicateId => f.write_str("duplicate rule id"),
            Problem::KeywordAtBroken(i) => write!(
                f,
                "example {i} (examples, then negative_examples) is found differently with \
                 keyword_at than without: the match does not lie where keyword_at says"
            ),
        }
    }
}

/// The outcome for one rule.
#[derive(Clone, Debug)]
pub struct RuleCheck {
    /// Rule id.
    pub id: String,
    /// Entity type.
    pub entity: String,
    /// Examples that were run (and passed or not).
    pub examples: usize,
    /// Negative examples run.
    pub negative_examples: usize,
    /// Everything wrong with the rule; empty when it passes.
    pub problems: Vec<Problem>,
}

/// The outcome of [`check`] over a whole ruleset.
#[derive(Clone, Debug)]
pub struct CheckReport {
    /// Per rule, in load order.
    pub rules: Vec<RuleCheck>,
    /// Error compiling all rules together (the one-pass regex), if any.
    pub ruleset_error: Option<String>,
}

impl CheckReport {
    /// True when every rule passed and the set compiles together; `patterns check` exits
    /// non-zero otherwise.
    pub fn ok(&self) -> bool {
        self.ruleset_error.is_none() && self.rules.iter().all(|r| r.problems.is_empty())
    }

    /// Number of rules with at least one problem.
    pub fn failed(&self) -> usize {
        self.rules.iter().filter(|r| !r.problems.is_empty()).count()
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.rules {
            let status = if r.problems.is_empty() {
                "ok  "
            } else {
                "FAIL"
            };
            writeln!(
                f,
                "{status} {:<40} {:<22} {} examples, {} negative",
                r.id, r.entity, r.examples, r.negative_examples
            )?;
            for p in &r.problems {
                writeln!(f, "     - {p}")?;
            }
        }
        if let Some(e) = &self.ruleset_error {
            writeln!(f, "FAIL ruleset: {e}")?;
        }
        let n = self.rules.len();
        writeln!(
            f,
            "{} rules, {} passed, {} failed{}",
            n,
            n - self.failed(),
            self.failed(),
            if self.ruleset_error.is_some() {
                "; the ruleset does not compile as a whole"
            } else {
                ""
            }
        )
    }
}

/// Checks every rule of `set`: it compiles (pattern, validator name, context), it has at
/// least one example and one negative example, each example is found by the rule alone,
/// each negative example finds nothing by the rule alone, and ids are unique.
pub fn check(set: &RuleSet) -> CheckReport {
    let mut seen = BTreeSet::new();
    let mut rules = Vec::with_capacity(set.rules().len());
    for rule in set.rules() {
        let mut problems = Vec::new();
        if !seen.insert(rule.id.clone()) {
            problems.push(Problem::DuplicateId);
        }
        check_rule(rule, &mut problems);
        rules.push(RuleCheck {
            id: rule.id.clone(),
            entity: rule.entity.clone(),
            examples: rule.examples.len(),
            negative_examples: rule.negative_examples.len(),
            problems,
        });
    }
    let ruleset_error = Detector::new(set).err().map(|e| e.to_string());
    CheckReport {
        rules,
        ruleset_error,
    }
}

fn check_rule(rule: &Rule, problems: &mut Vec<Problem>) {
    if rule.examples.is_empty() {
        problems.push(Problem::NoExamples);
    }
    if rule.negative_examples.is_empty() {
        problems.push(Problem::NoNegativeExamples);
    }
    let alone = RuleSet::from_rules(vec![rule.clone()]);
    let detector = match Detector::new(&alone) {
        Ok(d) => d,
        Err(e) => {
            problems.push(Problem::Compile(e.to_string()));
            return;
        }
    };
    for (i, ex) in rule.examples.iter().enumerate() {
        let (text, marked) = unmark(ex);
        let found = detector.find_all(&text);
        if found.is_empty() {
            problems.push(Problem::ExampleMissed(i));
        } else if let Some(span) = marked {
            if !found.iter().any(|f| (f.start, f.end) == span) {
                problems.push(Problem::ExampleSpan(i));
            }
        }
    }
    for (i, ex) in rule.negative_examples.iter().enumerate() {
        if !detector.find_all(ex).is_empty() {
            problems.push(Problem::NegativeMatched(i));
        }
    }
    if rule.keyword_at.is_some() {
        let mut plain = rule.clone();
        plain.keyword_at = None;
        if let Ok(windowed) = Detector::new(&RuleSet::from_rules(vec![plain])) {
            let all = rule.examples.iter().chain(&rule.negative_examples);
            for (i, ex) in all.enumerate() {
                if detector.find_all(ex) != windowed.find_all(ex) {
                    problems.push(Problem::KeywordAtBroken(i));
                }
            }
        }
    }
}

/// An example without its value marks, and the byte span of the value it marks, if any:
/// `"mapped [[::ffff:192.0.2.128]] here"` says that exactly `::ffff:192.0.2.128` must be
/// found, not a part of it, nor more.
pub fn unmark(example: &str) -> (String, Option<(usize, usize)>) {
    let Some(a) = example.find("[[") else {
        return (example.to_string(), None);
    };
    let Some(len) = example[a + 2..].find("]]") else {
        return (example.to_string(), None);
    };
    let value = &example[a + 2..a + 2 + len];
    let text = format!("{}{value}{}", &example[..a], &example[a + 2 + len + 2..]);
    (text, Some((a, a + value.len())))
}

/// One line per rule for `scrubline patterns list`: id, entity type, description.
pub fn list(set: &RuleSet) -> String {
    let mut out = String::new();
    for r in set.rules() {
        out.push_str(&format!(
            "{:<40} {:<22} {}\n",
            r.id, r.entity, r.description
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marked_example_must_be_found_whole() {
        assert_eq!(
            unmark("ip [[::1]] here"),
            ("ip ::1 here".to_string(), Some((3, 6)))
        );
        assert_eq!(unmark("no marks"), ("no marks".to_string(), None));
        let rule = |example: &str| -> Rule {
            toml::from_str(&format!(
                r#"
                id = "t.num.1"
                entity = "X"
                pattern = '[0-9]+(?:\.[0-9]+)?'
                examples = ["{example}"]
                negative_examples = ["none"]
                "#
            ))
            .unwrap()
        };
        let problems = |example: &str| {
            check(&RuleSet::from_rules(vec![rule(example)])).rules[0]
                .problems
                .clone()
        };
        assert!(problems("n [[12.5]] x").is_empty());
        assert_eq!(problems("n [[12.5.7]] x"), [Problem::ExampleSpan(0)]);
        assert_eq!(problems("n [[12]].5 x"), [Problem::ExampleSpan(0)]);
    }

    #[test]
    fn a_false_keyword_at_fails_the_check() {
        // The name comes before the keyword, so "start" is a false promise.
        let rule: Rule = toml::from_str(
            r#"
            id = "t.sir.1"
            entity = "PERSON"
            pattern = '(?P<value>[A-Z][a-z]+) Sir'
            keywords = ["sir"]
            keyword_at = "start"
            examples = ["thanks, Smith Sir"]
            negative_examples = ["nothing here"]
            "#,
        )
        .unwrap();
        let report = check(&RuleSet::from_rules(vec![rule.clone()]));
        assert!(report.rules[0]
            .problems
            .iter()
            .any(|p| matches!(p, Problem::KeywordAtBroken(0))));
        let fixed = Rule {
            keyword_at: None,
            ..rule
        };
        assert!(check(&RuleSet::from_rules(vec![fixed])).ok());
    }

    #[test]
    fn builtin_rules_pass_their_own_examples() {
        let report = check(&RuleSet::builtin().unwrap());
        assert!(report.ok(), "\n{report}");
    }

    #[test]
    fn every_required_entity_type_has_a_rule() {
        let set = RuleSet::builtin().unwrap();
        let have = set.entities();
        for t in [
            "EMAIL",
            "PHONE",
            "CN_RESIDENT_ID",
            "CN_PASSPORT",
            "PASSPORT",
            "CN_USCC",
            "CN_BANK_CARD",
            "CREDIT_CARD",
            "IBAN",
            "US_SSN",
            "IPV4",
            "IPV6",
            "MAC",
            "URL_WITH_CREDENTIALS",
            "AWS_ACCESS_KEY",
            "AWS_SECRET_KEY",
            "GITHUB_TOKEN",
            "SLACK_TOKEN",
            "GOOGLE_API_KEY",
            "STRIPE_KEY",
            "OPENAI_KEY",
            "PRIVATE_KEY",
            "JWT",
            "GENERIC_SECRET",
            "PERSON",
            "ADDRESS",
            "DATE_OF_BIRTH",
        ] {
            assert!(have.contains(&t), "no rule for {t}");
        }
    }

    #[test]
    fn a_failing_rule_is_reported_without_its_text() {
        let set = RuleSet::from_sources([(
            "t.toml".to_string(),
            "[[rule]]\nid = \"t.x.1\"\nentity = \"X\"\npattern = 'secret[0-9]+'\n\
             examples = [\"nothing here\"]\nnegative_examples = [\"secret42\"]\n"
                .to_string(),
        )])
        .unwrap();
        let report = check(&set);
        assert!(!report.ok());
        let text = report.to_string();
        assert!(text.contains("examples[0] is not found"), "{text}");
        assert!(!text.contains("secret42"), "{text}");
    }
}
