//! Library errors.
//!
//! Every variant names *where* (path, line or row, rule id) and *why*, never *what*: no
//! variant carries a raw record, a matched value or key material, so an error can be
//! printed, logged or written to a manifest without leaking anything.

use std::path::PathBuf;

/// Result alias for the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error from the scrubline library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O failure on a named file or folder. The message ends with the cause; the
    /// cause is not also chained as a `source`, or `{:#}` would print it twice.
    #[error("{}: {cause}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        cause: std::io::Error,
    },
    /// A rule file could not be read or parsed, or a rule is invalid.
    #[error("rule {rule}: {reason}")]
    Rule {
        /// The rule id, or the file when the id is not known yet.
        rule: String,
        /// What is wrong.
        reason: String,
    },
    /// The key is missing, too short or malformed.
    #[error("key: {0}")]
    Key(String),
    /// A configuration value is invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// A field selector does not parse.
    #[error("selector `{selector}`: {reason}")]
    Selector {
        /// The selector as the user wrote it (a path expression, never data).
        selector: String,
        /// What is wrong.
        reason: String,
    },
    /// Reading or writing Parquet/Arrow data failed.
    #[error("{}: {reason}", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The output folder is not in a state this run may write to.
    #[error("{}: {reason}", path.display())]
    Output {
        /// The folder or file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A manifest could not be read or does not match.
    #[error("{}: {reason}", path.display())]
    Manifest {
        /// The manifest path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            cause: source,
        }
    }

    /// A rule error.
    pub fn rule(rule: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Rule {
            rule: rule.into(),
            reason: reason.into(),
        }
    }
}

/// A TOML error as line, column and message, without the source excerpt that toml's
/// `Display` prints and without any quoted or backticked text: a rule file's examples, or
/// a key pasted into a config file, must not reach a log through an error.
///
/// serde and toml put every value they repeat between `"` (escaped inside) or backticks,
/// and what follows the last one is the schema's side (`expected a sequence`). So the
/// message is kept up to its first quote or backtick and after its last one, and
/// everything between is one `…`: a value holding a quote or backtick cannot reopen it.
/// The one exception is the list of names an unknown field or variant could have been
/// ([`schema_names`]).
pub(crate) fn toml_reason(e: &toml::de::Error, text: &str) -> String {
    let raw = e.message().trim();
    let msg = match (raw.find(['"', '`']), raw.rfind(['"', '`'])) {
        (Some(first), Some(last)) => match schema_names(raw, first) {
            Some(names) => format!("{}…, expected {names}", &raw[..first]),
            None => format!("{}…{}", &raw[..first], &raw[last + 1..]),
        },
        _ => raw.to_string(),
    };
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {msg}")
        }
        None => msg,
    }
}

/// The names serde lists after an unknown field or variant (`unknown variant `…`,
/// expected one of `tag`, `redact``): the schema's own words, worth showing. They follow
/// the *last* ", expected ", which the repeated value (before it) cannot supply, and must
/// read as a list of quoted snake_case names; anything else gets no list.
fn schema_names(raw: &str, first_quote: usize) -> Option<&str> {
    if !raw.starts_with("unknown field") && !raw.starts_with("unknown variant") {
        return None;
    }
    let at = raw[first_quote..].rfind(", expected ")? + first_quote;
    let names = &raw[at + ", expected ".len()..];
    let names_only = names.split(['`', ',', ' ']).all(|w| {
        matches!(w, "" | "one" | "of" | "or")
            || w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    });
    (names_only && names.contains('`')).then_some(names)
}
