//! Keyed pseudonyms: HMAC-SHA256 over the entity type and the normalized value.
//!
//! The same value gets the same pseudonym in every shard, run and worker that uses the same
//! key, and nobody without the key can map a pseudonym back to its value or test a guess.
//!
//! Token grammar (`--style tag`, the default):
//!
//! ```text
//! token  = "<" TYPE "_" HEX16 ">"      e.g. <EMAIL_5f2c9a1e7b3d4c60>
//! TYPE   = [A-Z][A-Z0-9_]*             the rule's entity type
//! HEX16  = 16 lowercase hex digits     the first 8 bytes of
//!          HMAC-SHA256(key, TYPE || 0x1F || normalized value)
//! ```
//!
//! `--style redact` writes `<TYPE>` alone. `--style surrogate` writes a realistic stand-in
//! derived from the same HMAC (see [`crate::surrogate`]).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};
use crate::secret::Sensitive;

type HmacSha256 = Hmac<Sha256>;

/// Minimum key length in bytes.
pub const MIN_KEY_BYTES: usize = 32;

const FINGERPRINT_LABEL: &[u8] = b"scrubline/key-fingerprint/v1";

/// The secret key. `Debug` and `Display` never show it; nothing serializes it.
#[derive(Clone)]
pub struct Key {
    bytes: Sensitive<Vec<u8>>,
    ephemeral: bool,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("bytes", &"<redacted>")
            .field("ephemeral", &self.ephemeral)
            .finish()
    }
}

impl Key {
    /// Reads key material as written in a key file or `SCRUBLINE_KEY`. One trailing line
    /// break is ignored. An even-length all-hex string of at least 64 digits (surrounding
    /// whitespace allowed) is decoded as hex; anything else is taken as raw bytes, as is.
    /// At least 32 bytes either way.
    pub fn from_material(material: &[u8]) -> Result<Key> {
        let body = material
            .strip_suffix(b"\n")
            .map_or(material, |m| m.strip_suffix(b"\r").unwrap_or(m));
        let trimmed = body.trim_ascii();
        let is_hex = trimmed.len() >= 2 * MIN_KEY_BYTES
            && trimmed.len().is_multiple_of(2)
            && trimmed.iter().all(u8::is_ascii_hexdigit);
        // Hex wrapped over lines (`xxd -p` wraps at 60 columns) would be taken as raw bytes,
        // a different key from the one meant: refused instead of guessed.
        let wrapped_hex = !is_hex
            && trimmed.iter().any(u8::is_ascii_whitespace)
            && trimmed
                .iter()
                .all(|b| b.is_ascii_hexdigit() || b.is_ascii_whitespace())
            && trimmed.iter().filter(|b| b.is_ascii_hexdigit()).count() >= 2 * MIN_KEY_BYTES;
        if wrapped_hex {
            return Err(Error::Key(
                "hex digits split by spaces or line breaks: write them on one line (xxd -p -c 256)"
                    .into(),
            ));
        }
        let bytes = if is_hex {
            hex::decode(trimmed).map_err(|_| Error::Key("malformed hex".into()))?
        } else {
            body.to_vec()
        };
        if bytes.len() < MIN_KEY_BYTES {
            return Err(Error::Key(format!(
                "too short: {} bytes, at least {MIN_KEY_BYTES} needed (64 hex digits or 32 raw bytes)",
                bytes.len()
            )));
        }
        Ok(Key {
            bytes: Sensitive::new(bytes),
            ephemeral: false,
        })
    }

    /// A random 32-byte key for one run. Its pseudonyms match no other run.
    pub fn random() -> Result<Key> {
        let mut bytes = vec![0u8; MIN_KEY_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| Error::Key(format!("no randomness: {e}")))?;
        Ok(Key {
            bytes: Sensitive::new(bytes),
            ephemeral: true,
        })
    }

    /// True for a key made by [`Key::random`].
    pub fn is_ephemeral(&self) -> bool {
        self.ephemeral
    }

    /// A public identifier of the key: `hmac-sha256:` and the first 16 bytes, in hex, of
    /// HMAC(key, a fixed label); `ephemeral` for a random key. Two runs with the same
    /// fingerprint used the same key; the fingerprint reveals nothing else.
    pub fn fingerprint(&self) -> String {
        if self.ephemeral {
            return "ephemeral".to_string();
        }
        format!(
            "hmac-sha256:{}",
            hex::encode(&self.derive(FINGERPRINT_LABEL)[..16])
        )
    }

    /// A 32-byte subkey for one purpose (`label`), so that pseudonyms, dedup fingerprints
    /// and the key fingerprint never share a MAC input space.
    pub fn derive(&self, label: &[u8]) -> [u8; 32] {
        let mut mac = self.mac();
        mac.update(label);
        mac.finalize().into_bytes().into()
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(self.bytes.expose()).expect("HMAC takes keys of any length")
    }
}

/// What replaces a detected value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[derive(clap::ValueEnum)]
pub enum Style {
    /// `<TYPE_hex16>`: a keyed pseudonym.
    #[default]
    Tag,
    /// `<TYPE>`: the type alone.
    Redact,
    /// A realistic, deterministic stand-in of the same shape (an address at example.com,
    /// a checksum-valid ID, a documentation-range IP), derived from the keyed HMAC.
    Surrogate,
}

/// Makes tokens. Keyed once; each token clones the keyed MAC state, so the key block is not
/// hashed again per value.
#[derive(Clone)]
pub struct Pseudonymizer {
    mac: HmacSha256,
    style: Style,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pseudonymizer")
            .field("style", &self.style)
            .finish()
    }
}

impl Pseudonymizer {
    /// A pseudonymizer for `key` writing tokens in `style`.
    pub fn new(key: &Key, style: Style) -> Pseudonymizer {
        Pseudonymizer {
            mac: key.mac(),
            style,
        }
    }

    /// The style.
    pub fn style(&self) -> Style {
        self.style
    }

    /// HMAC-SHA256(key, entity || 0x1F || normalized).
    pub fn digest(&self, entity: &str, normalized: &str) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(entity.as_bytes());
        mac.update(&[0x1f]);
        mac.update(normalized.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Appends the replacement for a value of type `entity` to `out`. `normalized` is the
    /// canonical form that keys the pseudonym; `original` is the value as written, which
    /// the surrogate style needs to keep its format.
    pub fn write_token(&self, entity: &str, normalized: &str, original: &str, out: &mut String) {
        if self.style == Style::Surrogate {
            let d = self.digest(entity, normalized);
            crate::surrogate::write_surrogate(entity, original, &d, out);
            return;
        }
        out.push('<');
        out.push_str(entity);
        if self.style == Style::Tag {
            out.push('_');
            let d = self.digest(entity, normalized);
            let mut buf = [0u8; 16];
            hex::encode_to_slice(&d[..8], &mut buf).expect("16 hex digits for 8 bytes");
            out.push_str(std::str::from_utf8(&buf).expect("hex is ascii"));
        }
        out.push('>');
    }
}

/// Finds the byte ranges of tokens (`<TYPE>` or `<TYPE_hex16>`) in `text`, so that a
/// rescan of scrubbed text can ignore them. `is_type` says which names are entity types:
/// only those make a token, so that `<BR>`, `<B>` or a value written in angle brackets
/// (`<AKIAIOSFODNN7EXAMPLE>`) is text like any other and is scanned. A span that passes
/// holds a type name and 16 hex digits, nothing that came from the input.
pub fn token_spans(text: &str, is_type: impl Fn(&str) -> bool, out: &mut Vec<(usize, usize)>) {
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'<', &b[i..]) {
        let s = i + off;
        let len = b[s + 1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        let end = s + 1 + len;
        if b.get(end) == Some(&b'>') && token_type(&text[s + 1..end]).is_some_and(&is_type) {
            out.push((s, end + 1));
            i = end + 1;
        } else {
            i = s + 1;
        }
    }
}

/// The `TYPE` of `TYPE` or `TYPE_hex16`, the inside of a token, if it has that shape.
fn token_type(inner: &str) -> Option<&str> {
    let ty = match inner.rsplit_once('_') {
        Some((ty, h))
            if h.len() == 16 && h.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) =>
        {
            ty
        }
        _ => inner,
    };
    let shaped = ty.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && ty
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_');
    shaped.then_some(ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> Key {
        Key::from_material(&[b; 32]).unwrap()
    }

    #[test]
    fn same_value_same_token_other_key_other_token() {
        let p = Pseudonymizer::new(&key(1), Style::Tag);
        let q = Pseudonymizer::new(&key(2), Style::Tag);
        let mut a = String::new();
        let mut b = String::new();
        let mut c = String::new();
        p.write_token("EMAIL", "a@b.com", "a@b.com", &mut a);
        p.write_token("EMAIL", "a@b.com", "a@b.com", &mut b);
        q.write_token("EMAIL", "a@b.com", "a@b.com", &mut c);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), "<EMAIL_".len() + 16 + 1);
        assert_eq!(token_type(&a[1..a.len() - 1]), Some("EMAIL"));
    }

    #[test]
    fn entity_is_part_of_the_mac_input() {
        let p = Pseudonymizer::new(&key(1), Style::Tag);
        assert_ne!(p.digest("EMAIL", "x"), p.digest("PHONE", "x"));
    }

    #[test]
    fn redact_style_writes_type_only() {
        let p = Pseudonymizer::new(&key(1), Style::Redact);
        let mut s = String::new();
        p.write_token("PHONE", "+861", "+861", &mut s);
        assert_eq!(s, "<PHONE>");
    }

    #[test]
    fn surrogate_style_keys_on_the_normalized_value() {
        let p = Pseudonymizer::new(&key(1), Style::Surrogate);
        let mut a = String::new();
        let mut b = String::new();
        p.write_token("EMAIL", "alice@example.com", "Alice@Example.com", &mut a);
        p.write_token("EMAIL", "alice@example.com", "alice@example.com", &mut b);
        assert_eq!(a, b, "one value, one surrogate");
        assert!(a.contains("@example."), "{a}");
    }

    #[test]
    fn key_material_hex_or_raw() {
        let hex64 = "ab".repeat(32);
        let k = Key::from_material(hex64.as_bytes()).unwrap();
        assert_eq!(k.bytes.expose().len(), 32);
        let raw = Key::from_material(b"a passphrase that is long enough!!").unwrap();
        assert_eq!(raw.bytes.expose().len(), 34);
        assert!(Key::from_material(b"short").is_err());
        // `xxd -p` output wraps: refused, not read as raw bytes (another key).
        let wrapped = format!("{}\n{}\n", &hex64[..60], &hex64[60..]);
        let err = Key::from_material(wrapped.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("one line") && !err.contains(&hex64[..8]),
            "{err}"
        );
    }

    #[test]
    fn key_never_prints() {
        let k = Key::from_material("cd".repeat(32).as_bytes()).unwrap();
        let dbg = format!("{k:?}");
        assert!(!dbg.contains("cd"), "{dbg}");
        assert!(k.fingerprint().starts_with("hmac-sha256:"));
        assert_eq!(Key::random().unwrap().fingerprint(), "ephemeral");
    }

    #[test]
    fn finds_token_spans() {
        let types = |t: &str| ["EMAIL", "PHONE", "A_1"].contains(&t);
        let mut v = Vec::new();
        token_spans(
            "x <EMAIL_5f2c9a1e7b3d4c60> y <PHONE> <no> <A_1>",
            types,
            &mut v,
        );
        assert_eq!(v, vec![(2, 26), (29, 36), (42, 47)]);
        // Angle brackets around anything but an entity type are text.
        v.clear();
        token_spans(
            "<BR><B>x</B> <AKIAIOSFODNN7EXAMPLE> <IBAN_x>",
            types,
            &mut v,
        );
        assert_eq!(v, vec![]);
    }
}
