//! Rules as data: the TOML format of `patterns/`, its loader and the ruleset hash.
//!
//! A rule file holds one family (`patterns/pii/email.toml`, `patterns/secrets/aws.toml`),
//! each rule an `[[rule]]` table:
//!
//! ```toml
//! [[rule]]
//! id = "pii.email.1"            # namespaced and versioned: bump the number, don't edit in place
//! entity = "EMAIL"              # the entity type; names the token: <EMAIL_…>
//! description = "E-mail address"
//! pattern = '''(?x) …(?P<value> …)… '''  # `value` group = the sensitive part (else the match);
//!                               # alternatives may use `value2` … `value9`: the first that
//!                               # took part in the match is the value
//! validator = "email"           # optional, resolved in `validate`
//! normalize = "email"           # how the value is canonicalized before hashing
//! priority = 50                 # ties between overlapping candidates (higher wins)
//! context = { words = ["passport", "护照"], window = 48, require = true }
//! keywords = ["passport", "护照"]  # optional prefilter: the rule runs only near these
//! keyword_at = "start"          # optional: where a match lies relative to a keyword hit
//! scope = "text"                # or "csv_column": pattern matches a CSV header cell
//! open_end = false              # value may be cut short before a later finding
//! examples = ["write to alice@example.com"]
//! negative_examples = ["alice at example dot com"]
//! ```
//!
//! The default files are embedded at build time (see [`RuleSet::builtin`]) and can be replaced with
//! `--patterns DIR`. The ruleset's SHA-256 covers every loaded file's name and bytes, so a
//! manifest names the exact rules a run used.

mod builtin;
pub mod check;

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// How a matched value is canonicalized before it is hashed into a pseudonym, so that one
/// value gets one pseudonym however it is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Normalizer {
    /// Keep the value as matched.
    #[default]
    None,
    /// Unicode lowercase.
    Lower,
    /// ASCII uppercase with spaces and dashes removed (IBAN, USCC).
    UpperCompact,
    /// Digits only (cards, IDs); a trailing `X`/`x` check character is kept, uppercased.
    Digits,
    /// E-mail: lowercase the whole address.
    Email,
    /// Phone: digits with the country code, `+` first (`+8613912345678`). National forms
    /// get the rule's `country_code`.
    Phone,
}

/// Where a rule looks for its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Scope {
    /// The pattern is scanned over the text (the one-pass multi-pattern regex).
    #[default]
    Text,
    /// The pattern is matched against each header cell of CSV/TSV text; every non-empty
    /// cell below a matching header cell is a value. Used for `id,name,email` exports,
    /// where nothing labels each value.
    CsvColumn,
}

/// Where a keyword-gated rule's match lies relative to one of its keywords (see
/// [`Rule::keyword_at`]). A promise about the pattern: a wrong value loses matches.
/// `patterns check` and a test compare the fast scan with the window scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum KeywordAt {
    /// Every match starts with one of the keywords, or one character before it (a
    /// boundary such as `(?:^|[^A-Za-z])`): labels like `Customer:`.
    Start,
    /// Every match ends at or before the end of one of the keywords and starts at most 64
    /// bytes before it: `Jane Doe <jane@` ends at its `@`.
    End,
}

/// Context words near a match that a rule needs, or that veto it.
#[derive(Clone, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// Words (any language, matched case-insensitively for ASCII) looked for near the match.
    #[serde(default)]
    pub words: Vec<String>,
    /// How many bytes before the match to look in (and after it, with `after = true`).
    #[serde(default = "default_window")]
    pub window: usize,
    /// Also look after the match.
    #[serde(default)]
    pub after: bool,
    /// When true, a candidate without one of `words` nearby is dropped.
    #[serde(default)]
    pub require: bool,
    /// Words that veto a candidate when found nearby ("order", "invoice", "版本").
    #[serde(default)]
    pub deny: Vec<String>,
    /// Texts that veto a candidate when they come right after it (after blanks), matched
    /// case-insensitively for ASCII: `[":", "："]` refuses a "name" that is itself a label.
    #[serde(default)]
    pub deny_next: Vec<String>,
}

fn default_window() -> usize {
    48
}

/// One detection rule, as written in a rule file. Its `Debug` leaves out the example
/// texts, which may hold real-looking values, as every other `Debug` of the crate does.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Unique, namespaced and versioned id: `pii.email.1`.
    pub id: String,
    /// Entity type, upper snake case: `EMAIL`, `CN_RESIDENT_ID`.
    pub entity: String,
    /// One line for `patterns list`.
    #[serde(default)]
    pub description: String,
    /// The regular expression. A group named `value` marks the sensitive part.
    pub pattern: String,
    /// Name of a validator in [`crate::validate`], run on every candidate.
    #[serde(default)]
    pub validator: Option<String>,
    /// Canonical form for hashing.
    #[serde(default)]
    pub normalize: Normalizer,
    /// Country calling code for national phone formats (`"86"`, `"1"`, `"44"`).
    #[serde(default)]
    pub country_code: Option<String>,
    /// Where the rule looks: the text (default) or CSV/TSV columns (see [`Scope`]).
    #[serde(default)]
    pub scope: Scope,
    /// The value runs to the end of a line or phrase (an address after its label): when
    /// another finding starts inside it, the value is cut short before that finding
    /// instead of one of the two being dropped.
    #[serde(default)]
    pub open_end: bool,
    /// Higher wins when candidates overlap and validation and length do not decide.
    #[serde(default = "default_priority")]
    pub priority: i32,
    /// Context words.
    #[serde(default)]
    pub context: Option<Context>,
    /// Case-insensitive literals of which one must occur in the text for the rule to run at
    /// all; a cheap prefilter for rules that only fire next to a keyword.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Where a match lies relative to a keyword hit, when the pattern guarantees it; lets
    /// the detector try a few positions instead of scanning a window around every hit.
    /// Unset: the match may be anywhere near the keyword (context rules).
    #[serde(default)]
    pub keyword_at: Option<KeywordAt>,
    /// Texts in which the rule must find something (`patterns check`).
    #[serde(default)]
    pub examples: Vec<String>,
    /// Texts in which the rule must find nothing (`patterns check`).
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.id)
            .field("entity", &self.entity)
            .field("pattern", &self.pattern)
            .field("validator", &self.validator)
            .field("keywords", &self.keywords.len())
            .field("examples", &self.examples.len())
            .field("negative_examples", &self.negative_examples.len())
            .finish_non_exhaustive()
    }
}

fn default_priority() -> i32 {
    0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<Rule>,
}

/// A loaded, checked set of rules.
#[derive(Clone, Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    sha256: String,
}

impl RuleSet {
    /// The rules compiled into the binary from `patterns/`.
    pub fn builtin() -> Result<RuleSet> {
        RuleSet::from_sources(
            builtin::FILES
                .iter()
                .map(|(n, s)| (n.to_string(), s.to_string())),
        )
    }

    /// Every `*.toml` file below `dir`, in sorted path order.
    pub fn from_dir(dir: &Path) -> Result<RuleSet> {
        let mut files = Vec::new();
        collect_toml(dir, dir, &mut files)?;
        files.sort();
        let mut sources = Vec::with_capacity(files.len());
        for rel in files {
            let path = dir.join(&rel);
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            sources.push((rel, text));
        }
        if sources.is_empty() {
            return Err(Error::rule(
                dir.display().to_string(),
                "no .toml rule files found",
            ));
        }
        RuleSet::from_sources(sources)
    }

    /// Parses `(file name, TOML text)` pairs.
    pub fn from_sources(sources: impl IntoIterator<Item = (String, String)>) -> Result<RuleSet> {
        let mut hasher = Sha256::new();
        let mut rules = Vec::new();
        for (name, text) in sources {
            hasher.update((name.len() as u64).to_le_bytes());
            hasher.update(name.as_bytes());
            hasher.update((text.len() as u64).to_le_bytes());
            hasher.update(text.as_bytes());
            let file: RuleFile = toml::from_str(&text)
                .map_err(|e| Error::rule(name.clone(), crate::error::toml_reason(&e, &text)))?;
            rules.extend(file.rule);
        }
        let mut seen = BTreeSet::new();
        for rule in &rules {
            check_rule_shape(rule)?;
            if !seen.insert(rule.id.as_str()) {
                return Err(Error::rule(&rule.id, "duplicate rule id"));
            }
        }
        Ok(RuleSet {
            rules,
            sha256: hex::encode(hasher.finalize()),
        })
    }

    /// A set of already-parsed rules (one rule alone, for `patterns check`). The hash
    /// covers the rule ids only.
    pub fn from_rules(rules: Vec<Rule>) -> RuleSet {
        let mut hasher = Sha256::new();
        for r in &rules {
            hasher.update(r.id.as_bytes());
            hasher.update([0]);
        }
        RuleSet {
            rules,
            sha256: hex::encode(hasher.finalize()),
        }
    }

    /// The rules, in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// SHA-256 (hex) of every loaded file's name and bytes.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The distinct entity types, sorted.
    pub fn entities(&self) -> Vec<&str> {
        let set: BTreeSet<&str> = self.rules.iter().map(|r| r.entity.as_str()).collect();
        set.into_iter().collect()
    }
}

fn check_rule_shape(rule: &Rule) -> Result<()> {
    let id_ok = !rule.id.is_empty()
        && rule
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_');
    if !id_ok {
        return Err(Error::rule(
            &rule.id,
            "id must be lowercase ascii, digits, `.` and `_`",
        ));
    }
    let entity_ok = rule
        .entity
        .as_bytes()
        .first()
        .is_some_and(u8::is_ascii_uppercase)
        && rule
            .entity
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if !entity_ok {
        return Err(Error::rule(&rule.id, "entity must be UPPER_SNAKE_CASE"));
    }
    if rule.keywords.iter().any(String::is_empty) {
        // An empty keyword matches everywhere, at offset 0.
        return Err(Error::rule(&rule.id, "keywords must not be empty strings"));
    }
    if rule.keyword_at.is_some() && rule.keywords.is_empty() {
        return Err(Error::rule(&rule.id, "keyword_at needs keywords"));
    }
    if rule.normalize == Normalizer::Phone && rule.country_code.is_none() {
        // Without a country code, national and international forms of one number would
        // get different pseudonyms.
        let intl_only = rule.pattern.contains("\\+") || rule.pattern.contains("00");
        if !intl_only {
            return Err(Error::rule(
                &rule.id,
                "normalize = \"phone\" needs country_code",
            ));
        }
    }
    Ok(())
}

fn collect_toml(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let ft = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if ft.is_dir() {
            collect_toml(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_errors_name_the_place_not_the_text() {
        let text = "[[rule]]\nid = \"x.y.1\"\nentity = \"EMAIL\"\npattern = \"a\"\n\
                    examples = \"alice@example.com\"\n";
        let err = RuleSet::from_sources([("f.toml".to_string(), text.to_string())])
            .unwrap_err()
            .to_string();
        assert!(!err.contains("alice"), "{err}");
        assert!(err.contains("f.toml") && err.contains("line 5"), "{err}");
    }

    /// Values holding a quote, enum variants and unknown quoted keys are elided too.
    #[test]
    fn toml_errors_elide_quoted_backticked_and_escaped_values() {
        for line in [
            r#"examples = "ali\"ce@example.com secret""#,
            r#"keyword_at = "alice@example.com""#,
            r#""alice@example.com" = 1"#,
            r#"priority = 12345678901234567890123"#,
        ] {
            let text =
                format!("[[rule]]\nid = \"x.y.1\"\nentity = \"EMAIL\"\npattern = \"a\"\n{line}\n");
            let err = RuleSet::from_sources([("f.toml".to_string(), text)])
                .unwrap_err()
                .to_string();
            for part in ["alice", "ce@example", "secret", "12345678901234567890123"] {
                assert!(!err.contains(part), "{line}: {err}");
            }
            assert!(
                err.contains("f.toml") && err.contains("line 5"),
                "{line}: {err}"
            );
        }
    }

    #[test]
    fn rule_debug_counts_examples_without_printing_them() {
        let set = RuleSet::builtin().unwrap();
        let email = set.rules().iter().find(|r| r.id == "pii.email.1").unwrap();
        let shown = format!("{email:?} {set:?}");
        assert!(shown.contains("pii.email.1"), "{shown}");
        for text in email.examples.iter().chain(&email.negative_examples) {
            assert!(!shown.contains(text.as_str()), "{text} in {shown}");
        }
    }

    #[test]
    fn empty_keywords_are_refused() {
        let text = "[[rule]]\nid = \"x.y.1\"\nentity = \"EMAIL\"\npattern = \"a\"\n\
                    keywords = [\"\"]\n";
        let err = RuleSet::from_sources([("f.toml".to_string(), text.to_string())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("empty"), "{err}");
    }
}
