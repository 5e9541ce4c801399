//! Wrappers that keep sensitive values out of `Debug` and `Display`.
//!
//! A matched value or a key that reaches a log line, an error or a panic message is a leak.
//! Wrapping them means the compiler, not reviewer vigilance, keeps them out: the only way to
//! the inner value is the explicit [`Sensitive::expose`].
//!
//! ```
//! use scrubline::secret::Sensitive;
//! let v = Sensitive::new(String::from("alice@example.com"));
//! assert_eq!(format!("{v:?}"), "Sensitive(<redacted, 17 bytes>)");
//! assert_eq!(format!("{v}"), "<redacted>");
//! assert_eq!(v.expose(), "alice@example.com");
//! ```

use std::fmt;

/// A value that must never be printed.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Sensitive(value)
    }

    /// The raw value. Every call site is a place where a leak could start: keep them few.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the raw value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: AsRef<[u8]>> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sensitive(<redacted, {} bytes>)", self.0.as_ref().len())
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}
