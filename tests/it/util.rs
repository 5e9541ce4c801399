//! Helpers: a temp folder per test, corpus writers, shard readers.

use std::io::Read;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub const KEY_A: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
pub const KEY_B: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

pub struct Dir {
    pub tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    }

    pub fn key(&self, name: &str, hex: &str) -> PathBuf {
        self.write(name, hex)
    }
}

pub fn scrubline() -> Command {
    let mut c = Command::cargo_bin("scrubline").unwrap();
    c.env_remove("SCRUBLINE_KEY")
        .env_remove("SCRUBLINE_KEY_FILE")
        .env_remove("SCRUBLINE_THREADS")
        .env_remove("SCRUBLINE_CONFIG")
        .env_remove("SCRUBLINE_PATTERNS");
    c
}

/// `scrubline run -q` from `d.path(input)` to `d.path(out)` with key A in `a.key`, then
/// `extra`; the caller checks the outcome (`.success()`, `.code(3)`, ...).
pub fn run_ok(d: &Dir, input: &str, out: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    scrubline()
        .args(["run", "-q", "--input"])
        .arg(d.path(input))
        .arg("--output")
        .arg(d.path(out))
        .arg("--key-file")
        .arg(d.key("a.key", KEY_A))
        .args(extra)
        .assert()
}

/// The `part-*` files of an output folder, sorted by name.
pub fn shard_paths(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("part-")
        })
        .collect();
    paths.sort();
    paths
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// Every shard's decompressed text, in order, by file name.
pub fn shards(dir: &Path) -> Vec<(String, Vec<u8>)> {
    shard_paths(dir)
        .into_iter()
        .map(|p| {
            let n = file_name(&p);
            let raw = std::fs::read(&p).unwrap();
            let mut out = Vec::new();
            if n.ends_with(".zst") {
                zstd::stream::read::Decoder::new(&raw[..])
                    .unwrap()
                    .read_to_end(&mut out)
                    .unwrap();
            } else if n.ends_with(".gz") {
                flate2::read::MultiGzDecoder::new(&raw[..])
                    .read_to_end(&mut out)
                    .unwrap();
            } else {
                out = raw;
            }
            (n, out)
        })
        .collect()
}

/// All output records, parsed, in order.
pub fn records(dir: &Path) -> Vec<serde_json::Value> {
    shards(dir)
        .iter()
        .flat_map(|(_, b)| {
            String::from_utf8(b.clone())
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Raw bytes of every shard file, by name (for byte-identity checks).
pub fn shard_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    shard_paths(dir)
        .into_iter()
        .map(|p| (file_name(&p), std::fs::read(&p).unwrap()))
        .collect()
}

pub fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

/// Every `<TYPE_hex>` token in `text`.
pub fn tokens(text: &str) -> Vec<String> {
    let re = regex::Regex::new(r"<[A-Z][A-Z0-9_]*_[0-9a-f]{16}>").unwrap();
    re.find_iter(text).map(|m| m.as_str().to_string()).collect()
}

/// A synthetic bilingual corpus with known sensitive values; returns (jsonl, raw values).
pub fn synthetic_corpus(n: usize) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut raw = Vec::new();
    let cards = [
        "4111 1111 1111 1111",
        "5555-5555-5555-4444",
        "378282246310005",
        "6011111111111117",
    ];
    for i in 0..n {
        let email = format!("user{i}.name@example{}.com", i % 7);
        let mobile = format!("13{}{:08}", 5 + i % 5, 10_000_000 + i * 7919 % 89_999_999);
        let card = cards[i % cards.len()];
        raw.push(email.clone());
        raw.push(mobile.clone());
        raw.push(card.to_string());
        let rec = match i % 5 {
            0 => {
                serde_json::json!({"id": i, "text": format!("Hello, write to {email} or call {mobile}. Card {card} on file."), "lang": "en", "n": 1.5})
            }
            1 => {
                serde_json::json!({"id": i, "text": format!("您好，我的邮箱是{email}，手机{mobile}，谢谢。"), "lang": "zh"})
            }
            2 => {
                serde_json::json!({"messages": [{"role": "user", "content": format!("my mail is {email}")}, {"role": "assistant", "content": format!("Got it, I'll call {mobile}.")}], "id": i})
            }
            3 => {
                serde_json::json!({"id": i, "text": format!("name,email,phone\nRow{i},{email},{mobile}"), "kind": "csv", "meta": {"author": email}})
            }
            _ => {
                serde_json::json!({"id": i, "text": format!("fn main() {{ // owner {email}\n  charge(\"{card}\"); }}"), "kind": "code"})
            }
        };
        out.push_str(&serde_json::to_string(&rec).unwrap());
        out.push('\n');
    }
    (out, raw)
}
