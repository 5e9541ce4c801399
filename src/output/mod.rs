//! Output: shards written under a temporary name and renamed only once complete, so a crash
//! never leaves a file that looks finished. Knows bytes and files, nothing of rules.
//!
//! JSONL shards are a concatenation of independently compressed chunks (zstd frames or gzip
//! members), both valid streams for every standard decoder. Chunks are compressed in
//! parallel; their boundaries depend only on the input, so the bytes do not depend on the
//! thread count.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

thread_local! {
    static ZSTD: std::cell::RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> =
        const { std::cell::RefCell::new(None) };
}

/// Output compression of JSONL shards.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum OutCompression {
    /// Zstandard (the default; fast enough not to be the bottleneck).
    #[default]
    Zstd,
    /// gzip: about ten times slower to write than zstd; for consumers that need it.
    Gzip,
    /// Plain text.
    None,
}

impl OutCompression {
    /// File name suffix of a JSONL shard.
    pub fn extension(self) -> &'static str {
        match self {
            OutCompression::Zstd => "jsonl.zst",
            OutCompression::Gzip => "jsonl.gz",
            OutCompression::None => "jsonl",
        }
    }

    /// Compresses one chunk into a self-contained frame or member.
    pub fn compress(self, data: &[u8], zstd_level: i32) -> Vec<u8> {
        match self {
            OutCompression::None => data.to_vec(),
            OutCompression::Zstd => ZSTD.with(|cell| {
                // One compression context per thread, reused: making one per chunk costs a
                // few percent of a run.
                let mut cell = cell.borrow_mut();
                if cell.as_ref().is_none_or(|(level, _)| *level != zstd_level) {
                    let ctx = zstd::bulk::Compressor::new(zstd_level).expect("zstd level in range");
                    *cell = Some((zstd_level, ctx));
                }
                let (_, ctx) = cell.as_mut().expect("set above");
                ctx.compress(data)
                    .expect("zstd compression of a memory buffer")
            }),
            OutCompression::Gzip => {
                let mut enc = flate2::write::GzEncoder::new(
                    Vec::with_capacity(data.len() / 3),
                    flate2::Compression::new(6),
                );
                enc.write_all(data).expect("writing to a Vec");
                enc.finish().expect("writing to a Vec")
            }
        }
    }
}

/// A finished shard, as the manifest lists it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShardInfo {
    /// Path relative to the output folder.
    pub path: String,
    /// Records in it.
    pub records: u64,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// Parquet row groups (Parquet shards only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub row_groups: Option<u64>,
}

/// The temporary name a file is written under before its rename: hidden, and ending in
/// `.tmp`, so no reader mistakes it for a shard.
pub fn temp_path(final_path: &Path) -> PathBuf {
    let name = final_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    final_path.with_file_name(format!(".{name}.tmp"))
}

/// Writes `bytes` to `path` atomically: temporary file, fsync, rename, fsync of the folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    let mut f = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
    f.sync_all().map_err(|e| Error::io(&tmp, e))?;
    drop(f);
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    sync_parent(path)
}

/// Opens `path` for appending after cutting it to `len` bytes: how every file a checkpoint
/// covers is continued. With `len` 0 the file may be absent (it is created); otherwise it
/// must hold at least `len` bytes, or the checkpoint does not describe what is on disk
/// and continuing would pad a shard or a log with zeros.
pub fn reopen_at(path: &Path, len: u64) -> Result<File> {
    use std::io::Seek;
    let mut f = fs::OpenOptions::new()
        .create(len == 0)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => not_as_checkpointed(path, len, None),
            _ => Error::io(path, e),
        })?;
    let have = f.metadata().map_err(|e| Error::io(path, e))?.len();
    if have < len {
        return Err(not_as_checkpointed(path, len, Some(have)));
    }
    f.set_len(len).map_err(|e| Error::io(path, e))?;
    f.seek(std::io::SeekFrom::End(0))
        .map_err(|e| Error::io(path, e))?;
    Ok(f)
}

/// Checks that a shard the checkpoint counts as finished is on disk at its recorded size.
pub fn check_finished(dir: &Path, shard: &ShardInfo) -> Result<()> {
    let path = dir.join(&shard.path);
    match fs::metadata(&path) {
        Ok(m) if m.len() == shard.bytes => Ok(()),
        Ok(m) => Err(not_as_checkpointed(&path, shard.bytes, Some(m.len()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(not_as_checkpointed(&path, shard.bytes, None))
        }
        Err(e) => Err(Error::io(&path, e)),
    }
}

fn not_as_checkpointed(path: &Path, len: u64, have: Option<u64>) -> Error {
    let found = match have {
        None => "it is missing".to_string(),
        Some(n) => format!("it holds {n}"),
    };
    Error::Output {
        path: path.to_path_buf(),
        reason: format!(
            "cannot resume: the checkpoint counts {len} bytes here, but {found}; rerun with \
             --overwrite to start over"
        ),
    }
}

/// Undoes the final rename of a file that a checkpoint still counts as being written: a run
/// killed after renaming it but before its next checkpoint left it under its final name.
pub fn unfinish(final_path: &Path, tmp: &Path) -> Result<()> {
    if !tmp.exists() && final_path.exists() {
        fs::rename(final_path, tmp).map_err(|e| Error::io(tmp, e))?;
    }
    Ok(())
}

/// fsyncs a folder so a rename in it is durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    // A bare file name's parent is "", which cannot be opened: it is the current folder.
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io(dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Syncs the folder holding `path`, so that a rename to `path` survives a crash.
pub fn sync_parent(path: &Path) -> Result<()> {
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// File name of shard `index` with `extension`: `part-00000.jsonl.zst`. `prefix` lets
/// ranks of a partitioned run write side by side (`part-r00003-00000…`).
pub fn shard_name(prefix: &str, index: u32, extension: &str) -> String {
    format!("{prefix}{index:05}.{extension}")
}

struct Open {
    index: u32,
    tmp: PathBuf,
    path: PathBuf,
    file: BufWriter<File>,
    hasher: ShardHasher,
    bytes: u64,
    records: u64,
}

/// Hashes a shard's bytes on a thread of its own while the run goes on, so that the
/// SHA-256 the manifest lists costs the pipeline nothing but a hand-over: hashing 100 MB
/// takes about 70 ms, and a re-read of each finished shard stalled the ordered side for
/// that long. The channel is bounded, so a slow hasher holds back the writer instead of
/// piling up chunks.
struct ShardHasher {
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<(u64, String)>>>,
}

impl ShardHasher {
    /// Starts hashing `tmp`, whose first `prefix` bytes are already on disk (a shard
    /// continued after a crash): those are read back first, then every chunk sent.
    fn start(tmp: &Path, prefix: u64) -> Result<ShardHasher> {
        use sha2::Digest;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let path = tmp.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("scrubline-hash".into())
            .spawn(move || {
                let written = std::io::Read::take(File::open(&path)?, prefix);
                let (mut bytes, mut hasher) = crate::input::Hashing::new(written).drain()?;
                for chunk in rx {
                    hasher.update(&chunk);
                    bytes += chunk.len() as u64;
                }
                Ok((bytes, hex::encode(hasher.finalize())))
            })
            .map_err(|e| Error::io(tmp, e))?;
        Ok(ShardHasher {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Hands a chunk over. False when the thread has stopped (it could not read back a
    /// resumed shard's prefix): [`ShardHasher::finish`] then says why.
    fn send(&self, chunk: Vec<u8>) -> bool {
        self.tx.as_ref().is_some_and(|tx| tx.send(chunk).is_ok())
    }

    /// Waits for every chunk sent to be hashed: `(bytes, sha256 hex)`.
    fn finish(mut self, tmp: &Path) -> Result<(u64, String)> {
        drop(self.tx.take());
        let thread = self.thread.take().expect("joined once");
        let reason = match thread.join() {
            Ok(Ok(hashed)) => return Ok(hashed),
            Ok(Err(e)) => format!("cannot hash the shard for the manifest: {e}"),
            Err(_) => "the thread hashing the shard panicked".into(),
        };
        Err(Error::Output {
            path: tmp.to_path_buf(),
            reason,
        })
    }
}

impl Drop for ShardHasher {
    fn drop(&mut self) {
        // An abandoned shard (a failed run): stop the thread, ignore what it hashed.
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Where the open shard of a [`JsonlShards`] stands: enough to continue it after a crash.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OpenShardState {
    /// Shard index.
    pub index: u32,
    /// Bytes written to its temporary file.
    pub bytes: u64,
    /// Records in it.
    pub records: u64,
}

/// Appends already-compressed chunks to numbered shards, one open at a time.
pub struct JsonlShards {
    dir: PathBuf,
    prefix: String,
    extension: &'static str,
    open: Option<Open>,
    done: Vec<ShardInfo>,
    /// Set when a shard was abandoned on an error: nothing more may be written or
    /// checkpointed, or a later append would start that shard again from nothing.
    failed: bool,
}

impl JsonlShards {
    /// Shards `dir/{prefix}{index:05}.{ext}`.
    pub fn new(dir: &Path, prefix: &str, compression: OutCompression) -> JsonlShards {
        JsonlShards {
            dir: dir.to_path_buf(),
            prefix: prefix.to_string(),
            extension: compression.extension(),
            open: None,
            done: Vec::new(),
            failed: false,
        }
    }

    /// Continues from a checkpoint: `done` shards are complete; the open one's temporary
    /// file is cut back to the checkpointed length and appended to.
    pub fn resume(
        mut self,
        done: Vec<ShardInfo>,
        open: Option<&OpenShardState>,
    ) -> Result<JsonlShards> {
        self.done = done;
        if let Some(st) = open {
            let path = self
                .dir
                .join(shard_name(&self.prefix, st.index, self.extension));
            let tmp = temp_path(&path);
            unfinish(&path, &tmp)?;
            let file = BufWriter::with_capacity(1 << 20, reopen_at(&tmp, st.bytes)?);
            let hasher = ShardHasher::start(&tmp, st.bytes)?;
            self.open = Some(Open {
                index: st.index,
                tmp,
                path,
                file,
                hasher,
                bytes: st.bytes,
                records: st.records,
            });
        }
        Ok(self)
    }

    /// Makes everything written so far durable and says where the open shard stands.
    pub fn checkpoint(&mut self) -> Result<Option<OpenShardState>> {
        self.check_failed()?;
        let Some(o) = self.open.as_mut() else {
            return Ok(None);
        };
        o.file.flush().map_err(|e| Error::io(&o.tmp, e))?;
        o.file
            .get_ref()
            .sync_data()
            .map_err(|e| Error::io(&o.tmp, e))?;
        Ok(Some(OpenShardState {
            index: o.index,
            bytes: o.bytes,
            records: o.records,
        }))
    }

    /// The finished shards so far.
    pub fn done(&self) -> &[ShardInfo] {
        &self.done
    }

    /// Appends a chunk of `records` records to shard `index`, finishing the open shard
    /// first if it has a lower index. The chunk goes on to the shard's hashing thread.
    pub fn append(&mut self, index: u32, chunk: Vec<u8>, records: u64) -> Result<()> {
        self.check_failed()?;
        if self.open.as_ref().is_some_and(|o| o.index != index) {
            self.finish_open()?;
        }
        if self.open.is_none() {
            let path = self
                .dir
                .join(shard_name(&self.prefix, index, self.extension));
            let tmp = temp_path(&path);
            let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
            let hasher = ShardHasher::start(&tmp, 0)?;
            self.open = Some(Open {
                index,
                tmp,
                path,
                file: BufWriter::with_capacity(1 << 20, file),
                hasher,
                bytes: 0,
                records: 0,
            });
        }
        let o = self.open.as_mut().expect("opened above");
        o.file.write_all(&chunk).map_err(|e| Error::io(&o.tmp, e))?;
        o.bytes += chunk.len() as u64;
        o.records += records;
        if !o.hasher.send(chunk) {
            // Stop now rather than write the rest of a shard that cannot be listed.
            self.failed = true;
            let o = self.open.take().expect("open above");
            o.hasher.finish(&o.tmp)?;
            return Err(Error::Output {
                path: o.tmp,
                reason: "the thread hashing the shard stopped".into(),
            });
        }
        Ok(())
    }

    fn finish_open(&mut self) -> Result<()> {
        let Some(o) = self.open.take() else {
            return Ok(());
        };
        let file = o
            .file
            .into_inner()
            .map_err(|e| Error::io(&o.tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&o.tmp, e))?;
        drop(file);
        let (bytes, sha256) = o.hasher.finish(&o.tmp)?;
        if bytes != o.bytes {
            return Err(Error::Output {
                path: o.tmp.clone(),
                reason: format!("hashed {bytes} bytes of the {} written", o.bytes),
            });
        }
        fs::rename(&o.tmp, &o.path).map_err(|e| Error::io(&o.path, e))?;
        sync_dir(&self.dir)?;
        self.done.push(ShardInfo {
            path: o
                .path
                .file_name()
                .expect("shard has a name")
                .to_string_lossy()
                .into_owned(),
            records: o.records,
            bytes,
            sha256,
            row_groups: None,
        });
        Ok(())
    }

    fn check_failed(&self) -> Result<()> {
        if self.failed {
            return Err(Error::Output {
                path: self.dir.clone(),
                reason: "a shard was abandoned on an earlier error".into(),
            });
        }
        Ok(())
    }

    /// Finishes the last shard and returns all of them in order.
    pub fn finish(mut self) -> Result<Vec<ShardInfo>> {
        self.check_failed()?;
        self.finish_open()?;
        Ok(self.done)
    }
}

/// Opens a JSONL shard for reading, decompressed as its name says (`.zst`, `.gz`, plain).
pub fn open_shard(path: &Path) -> Result<Box<dyn std::io::Read>> {
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    let name = path.to_string_lossy();
    Ok(if name.ends_with(".zst") {
        Box::new(zstd::stream::read::Decoder::new(f).map_err(|e| Error::io(path, e))?)
    } else if name.ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(f))
    } else {
        Box::new(f)
    })
}

/// Hashes a file (for `verify`).
pub fn sha256_file(path: &Path) -> Result<(u64, String)> {
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    crate::input::Hashing::new(f)
        .finish()
        .map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_file_name_syncs_the_current_folder() {
        // `Path::new("report.jsonl").parent()` is "", which cannot be opened.
        sync_parent(Path::new("report.jsonl")).unwrap();
        sync_dir(Path::new("")).unwrap();
    }

    #[test]
    fn concatenated_frames_decode_as_one_stream() {
        for c in [
            OutCompression::Zstd,
            OutCompression::Gzip,
            OutCompression::None,
        ] {
            let mut all = c.compress(b"a\nb\n", 3);
            all.extend(c.compress(b"c\n", 3));
            let mut out = Vec::new();
            match c {
                OutCompression::Zstd => {
                    std::io::copy(
                        &mut zstd::stream::read::Decoder::new(&all[..]).unwrap(),
                        &mut out,
                    )
                    .unwrap();
                }
                OutCompression::Gzip => {
                    std::io::copy(&mut flate2::read::MultiGzDecoder::new(&all[..]), &mut out)
                        .unwrap();
                }
                OutCompression::None => out = all,
            }
            assert_eq!(out, b"a\nb\nc\n", "{c:?}");
        }
    }

    /// A shard continued after a crash is hashed whole: the hashing thread reads back what
    /// the first run wrote, then hashes the chunks this one appends.
    #[test]
    fn a_resumed_shard_is_hashed_whole() {
        let d = tempfile::tempdir().unwrap();
        let mut s = JsonlShards::new(d.path(), "part-", OutCompression::None);
        let first = b"one\n".repeat(300_000);
        s.append(0, first.clone(), 300_000).unwrap();
        let state = s.checkpoint().unwrap().unwrap();
        s.append(0, b"lost after the checkpoint\n".to_vec(), 1)
            .unwrap();
        drop(s); // the crash: no finish
        let s = JsonlShards::new(d.path(), "part-", OutCompression::None);
        let mut s = s.resume(Vec::new(), Some(&state)).unwrap();
        s.append(0, b"two\n".to_vec(), 1).unwrap();
        let done = s.finish().unwrap();
        let path = d.path().join("part-00000.jsonl");
        let mut want = first;
        want.extend(b"two\n");
        assert_eq!(fs::read(&path).unwrap(), want);
        assert_eq!(done[0].bytes, want.len() as u64);
        assert_eq!(done[0].records, 300_001);
        assert_eq!(sha256_file(&path).unwrap().1, done[0].sha256);
    }

    /// A hashing thread that stopped (it could not read back a resumed shard's prefix)
    /// fails the next append, naming the file and the reason, not the end of the shard.
    #[test]
    fn a_hasher_that_stopped_fails_the_next_append() {
        let d = tempfile::tempdir().unwrap();
        let mut s = JsonlShards::new(d.path(), "part-", OutCompression::None);
        s.append(0, b"one\n".to_vec(), 1).unwrap();
        let missing = d.path().join("gone");
        s.open.as_mut().unwrap().hasher = ShardHasher::start(&missing, 10).unwrap();
        let err = (0..100)
            .find_map(|_| s.append(0, b"two\n".to_vec(), 1).err())
            .expect("an append fails");
        let msg = err.to_string();
        assert!(
            msg.contains(".part-00000.jsonl.tmp") && msg.contains("cannot hash"),
            "{msg}"
        );
        assert!(s.open.is_none(), "the shard is abandoned, not renamed");
        assert!(!d.path().join("part-00000.jsonl").exists());
        // Nothing after that may start the shard again or report it as fine.
        assert!(s.append(0, b"three\n".to_vec(), 1).is_err());
        assert!(s.checkpoint().is_err());
        assert!(s.finish().is_err());
        assert!(!d.path().join("part-00000.jsonl").exists());
    }

    #[test]
    fn shards_appear_only_when_finished() {
        let d = tempfile::tempdir().unwrap();
        let mut s = JsonlShards::new(d.path(), "part-", OutCompression::None);
        s.append(0, b"x\n".to_vec(), 1).unwrap();
        assert!(!d.path().join("part-00000.jsonl").exists());
        assert!(d.path().join(".part-00000.jsonl.tmp").exists());
        s.append(1, b"y\n".to_vec(), 1).unwrap();
        assert!(d.path().join("part-00000.jsonl").exists());
        let done = s.finish().unwrap();
        assert_eq!(done.len(), 2);
        assert_eq!(done[1].path, "part-00001.jsonl");
        assert_eq!(
            sha256_file(&d.path().join("part-00001.jsonl")).unwrap().1,
            done[1].sha256
        );
    }
}
