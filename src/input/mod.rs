//! Input: finding the files of a corpus and reading them as bounded lines.
//!
//! Discovery is deterministic: each `--input` path in the order given, directories walked
//! recursively in byte order of the relative path, so a run's file indices, and with them
//! every record's identity `(file index, line)`, are the same on every machine.

mod lines;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

pub use lines::{LineItem, LineReader};

/// What a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One JSON object a line.
    Jsonl,
    /// Apache Parquet.
    Parquet,
}

/// How a JSONL file is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Plain.
    None,
    /// gzip, single or multi-member.
    Gzip,
    /// Zstandard.
    Zstd,
}

/// One input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputFile {
    /// Position in the run's sorted listing; part of every record's identity.
    pub index: u32,
    /// Path to open.
    pub path: PathBuf,
    /// Format.
    pub format: Format,
    /// Compression (JSONL only).
    pub compression: Compression,
    /// Size in bytes at discovery.
    pub size: u64,
}

/// Classifies a file name: `.jsonl`, `.ndjson`, `.json`, each optionally `.gz` or `.zst`;
/// or `.parquet`. `None` for anything else.
pub fn classify(path: &Path) -> Option<(Format, Compression)> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    if name.ends_with(".parquet") {
        return Some((Format::Parquet, Compression::None));
    }
    let (stem, compression) = if let Some(s) = name.strip_suffix(".gz") {
        (s, Compression::Gzip)
    } else if let Some(s) = name.strip_suffix(".zst") {
        (s, Compression::Zstd)
    } else {
        (name.as_str(), Compression::None)
    };
    [".jsonl", ".ndjson", ".json"]
        .iter()
        .any(|ext| stem.ends_with(ext))
        .then_some((Format::Jsonl, compression))
}

/// Lists the input files of `inputs`. A file given by name must have a known extension;
/// inside directories, other files are skipped. Hidden files and folders (`.name`) are
/// skipped inside directories.
pub fn discover(inputs: &[PathBuf]) -> Result<Vec<InputFile>> {
    let mut files = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|e| Error::io(input, e))?;
        if meta.is_dir() {
            let mut rels = Vec::new();
            walk(input, Path::new(""), &mut rels)?;
            rels.sort_by(|a: &PathBuf, b: &PathBuf| {
                a.as_os_str()
                    .as_encoded_bytes()
                    .cmp(b.as_os_str().as_encoded_bytes())
            });
            for rel in rels {
                let path = input.join(&rel);
                if let Some((format, compression)) = classify(&path) {
                    let size = std::fs::metadata(&path)
                        .map_err(|e| Error::io(&path, e))?
                        .len();
                    files.push((path, format, compression, size));
                }
            }
        } else {
            let (format, compression) = classify(input).ok_or_else(|| Error::Config(format!(
                "{}: not a corpus file (expected .jsonl, .ndjson or .json, optionally .gz or .zst, or .parquet)",
                input.display()
            )))?;
            files.push((input.clone(), format, compression, meta.len()));
        }
    }
    // File indices are the high half of every doc id.
    u32::try_from(files.len()).map_err(|_| Error::Config("more than 2^32 input files".into()))?;
    Ok(files
        .into_iter()
        .enumerate()
        .map(|(i, (path, format, compression, size))| InputFile {
            index: i as u32,
            path,
            format,
            compression,
            size,
        })
        .collect())
}

fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let dir = root.join(rel);
    let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(&dir, e))?;
        let name = entry.file_name();
        if name.as_encoded_bytes().first() == Some(&b'.') {
            continue;
        }
        let child = rel.join(&name);
        let ft = std::fs::metadata(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
        if ft.is_dir() {
            walk(root, &child, out)?;
        } else {
            out.push(child);
        }
    }
    Ok(())
}

/// A reader that hashes and counts the raw bytes it passes on.
pub struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

impl<R: Read> Hashing<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// Reads what is left, then returns `(bytes, sha256 hex)` of everything read.
    pub fn finish(self) -> io::Result<(u64, String)> {
        let (bytes, hasher) = self.drain()?;
        Ok((bytes, hex::encode(hasher.finalize())))
    }

    /// Reads what is left, then returns the bytes read and the hasher, for more input to
    /// follow (a shard continued after a crash: what the first run wrote, then new chunks).
    pub fn drain(mut self) -> io::Result<(u64, Sha256)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((self.bytes, self.hasher))
    }
}

type Raw = BufReader<Hashing<File>>;

/// A decompressing reader over a hashed file.
pub enum Decoded {
    /// Plain.
    Plain(Raw),
    /// gzip (multi-member).
    Gzip(Box<BufReader<SmallReads<flate2::bufread::MultiGzDecoder<Raw>>>>),
    /// zstd.
    Zstd(BufReader<SmallReads<zstd::stream::read::Decoder<'static, Raw>>>),
}

/// Bytes of room a decompressor gets per call (see [`SmallReads`]).
const DECODE_ROOM: usize = 4 << 10;

/// Gives a decompressor at most 4 KiB of room per call. When a stream
/// turns out corrupt, the decoders drop what they decoded in the failing call, so a small
/// room keeps the lines lost before the corruption to a few; a 128 KiB room lost up to
/// 128 KiB of good lines.
pub struct SmallReads<R>(R);

impl<R> SmallReads<R> {
    fn into_inner(self) -> R {
        self.0
    }
}

impl<R: Read> Read for SmallReads<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(DECODE_ROOM);
        self.0.read(&mut buf[..n])
    }
}

impl Decoded {
    /// Opens `file` with its decompressor.
    pub fn open(file: &InputFile) -> Result<Decoded> {
        let f = File::open(&file.path).map_err(|e| Error::io(&file.path, e))?;
        let raw = BufReader::with_capacity(1 << 17, Hashing::new(f));
        Ok(match file.compression {
            Compression::None => Decoded::Plain(raw),
            Compression::Gzip => Decoded::Gzip(Box::new(BufReader::with_capacity(
                DECODE_ROOM,
                SmallReads(flate2::bufread::MultiGzDecoder::new(raw)),
            ))),
            Compression::Zstd => Decoded::Zstd(BufReader::with_capacity(
                DECODE_ROOM,
                SmallReads(
                    zstd::stream::read::Decoder::with_buffer(raw)
                        .map_err(|e| Error::io(&file.path, e))?,
                ),
            )),
        })
    }

    /// The buffered decompressed stream.
    pub fn reader(&mut self) -> &mut dyn BufRead {
        match self {
            Decoded::Plain(r) => r,
            Decoded::Gzip(r) => r.as_mut(),
            Decoded::Zstd(r) => r,
        }
    }

    /// Drains the raw file and returns its size and SHA-256 (hex).
    pub fn finish(self) -> io::Result<(u64, String)> {
        let raw = match self {
            Decoded::Plain(r) => r,
            Decoded::Gzip(r) => r.into_inner().into_inner().into_inner(),
            Decoded::Zstd(r) => r.into_inner().into_inner().finish(),
        };
        raw.into_inner().finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_names() {
        let c = |s: &str| classify(Path::new(s));
        assert_eq!(c("a.jsonl"), Some((Format::Jsonl, Compression::None)));
        assert_eq!(c("a.ndjson.gz"), Some((Format::Jsonl, Compression::Gzip)));
        assert_eq!(c("a.JSON.zst"), Some((Format::Jsonl, Compression::Zstd)));
        assert_eq!(c("a.parquet"), Some((Format::Parquet, Compression::None)));
        assert_eq!(c("a.txt"), None);
        assert_eq!(c("a.gz"), None);
    }

    #[test]
    fn discovery_is_sorted_and_recursive() {
        let d = tempfile::tempdir().unwrap();
        for p in [
            "b/2.jsonl",
            "b/10.jsonl",
            "a.jsonl.gz",
            "c.txt",
            ".hidden/x.jsonl",
            "B.jsonl",
        ] {
            let path = d.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        let files = discover(&[d.path().to_path_buf()]).unwrap();
        let rels: Vec<String> = files
            .iter()
            .map(|f| {
                f.path
                    .strip_prefix(d.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(rels, ["B.jsonl", "a.jsonl.gz", "b/10.jsonl", "b/2.jsonl"]);
        assert_eq!(files[3].index, 3);
    }
}
