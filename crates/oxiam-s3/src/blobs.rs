//! The bytes of objects and parts: one file each, named by a random id (its *blob*), in
//! `DIR/blobs/XY/ID` (`XY` the id's first two digits, so no directory grows past a few
//! thousand entries per million objects). A blob is written under `DIR/tmp/INSTANCE/`
//! (each server its own, as replicas may share `DIR`), synced, then
//! renamed into place and its directory synced: once [`Blobs::write`] returns, the file is
//! whole and durable, and until then no row names it. A blob is never changed after that,
//! so a copy is a hard link, and a reader holding the file open keeps reading the bytes it
//! opened even if an overwrite removes the name meanwhile.
//!
//! Names are ids, never keys: any key of up to 1,024 bytes is stored alike, and nothing a
//! client sends becomes part of a path.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt as _};
use tokio::io::{AsyncRead, AsyncSeekExt as _, AsyncWriteExt as _, ReadBuf};

/// The blob directory.
#[derive(Debug)]
pub struct Blobs {
    blobs: PathBuf,
    tmp: PathBuf,
    /// `DIR/lock`, locked while this server is the directory's only user (see
    /// [`Blobs::owned`]); `None` when others may write into it.
    owner_lock: Option<std::fs::File>,
    /// Until this server's sweep is over, the blobs it has made: never garbage, whatever
    /// their file times say (a clock that steps back).
    made_while_sweeping: std::sync::Mutex<Option<std::collections::HashSet<String>>>,
}

/// What [`Blobs::write`] stored.
#[derive(Debug)]
pub struct Written {
    /// The new blob.
    pub blob: String,
    /// Its size in bytes.
    pub size: u64,
}

/// A fresh blob id: 128 random bits, as 32 hex digits.
fn new_id() -> io::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| io::Error::other(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `blob` is an id this module made: a name from the database is never trusted to
/// be one, since it becomes part of a path.
fn well_formed(blob: &str) -> bool {
    blob.len() == 32 && blob.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

fn not_a_blob(blob: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{blob:?} is not a blob id"))
}

/// How long a server's temporary directory may go unwritten before another server takes
/// it for abandoned.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// Whether nothing under `path` (a file, or a directory and its files) was modified for
/// `quiet`.
fn abandoned(path: &Path, quiet: std::time::Duration) -> bool {
    let recent = |meta: &std::fs::Metadata| {
        meta.modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_none_or(|age| age < quiet)
    };
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if recent(&meta) {
        return false;
    }
    if !meta.is_dir() {
        return true;
    }
    std::fs::read_dir(path).is_ok_and(|entries| entries.flatten().all(|e| e.metadata().is_ok_and(|m| !recent(&m))))
}

/// Syncs a directory, so that a rename into it survives a crash.
async fn sync_dir(dir: &Path) -> io::Result<()> {
    tokio::fs::File::open(dir).await?.sync_all().await
}

impl Blobs {
    /// The blob directory under `dir`, created if missing. What an earlier server left
    /// half written in `tmp/` is removed: all of it when this server is the directory's
    /// only user (`exclusive`: SQLite, whose database one server holds), else the
    /// temporary directories of servers that have written nothing for an hour (replicas
    /// share the directory; a live upload writes at least every body timeout).
    pub fn open(dir: &Path, exclusive: bool) -> io::Result<Self> {
        let blobs = dir.join("blobs");
        let all_tmp = dir.join("tmp");
        std::fs::create_dir_all(&blobs)?;
        std::fs::create_dir_all(&all_tmp)?;
        // A server on SQLite owns its database, but not necessarily the S3 directory: two
        // of them pointed at one `--s3-dir` would each take the other's files for garbage.
        // Only the holder of the directory's lock treats it as its own.
        let owner_lock = if exclusive {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(dir.join("lock"))?;
            match file.try_lock() {
                Ok(()) => Some(file),
                Err(std::fs::TryLockError::WouldBlock) => {
                    tracing::warn!(dir = %dir.display(), "another server uses this S3 directory: it is shared, not swept");
                    None
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(e),
            }
        } else {
            None
        };
        let exclusive = owner_lock.is_some();
        for entry in std::fs::read_dir(&all_tmp)? {
            let entry = entry?;
            if exclusive || abandoned(&entry.path(), STALE_AFTER) {
                let removed = if entry.file_type()?.is_dir() {
                    std::fs::remove_dir_all(entry.path())
                } else {
                    std::fs::remove_file(entry.path())
                };
                match removed {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
        }
        let tmp = all_tmp.join(new_id()?);
        std::fs::create_dir(&tmp)?;
        let made_while_sweeping = std::sync::Mutex::new(exclusive.then(std::collections::HashSet::new));
        Ok(Self {
            blobs,
            tmp,
            owner_lock,
            made_while_sweeping,
        })
    }

    /// Notes a blob this server made, while its sweep may still be running.
    fn made(&self, blob: &str) {
        if let Ok(mut made) = self.made_while_sweeping.lock()
            && let Some(made) = made.as_mut()
        {
            made.insert(blob.to_owned());
        }
    }

    /// Whether this server made `blob` since its sweep began.
    fn made_here(&self, blob: &str) -> bool {
        self.made_while_sweeping
            .lock()
            .map_or(true, |made| made.as_ref().is_some_and(|m| m.contains(blob)))
    }

    /// Whether this server is the directory's only user (it holds its lock): then what no
    /// row names may be swept.
    pub fn owned(&self) -> bool {
        self.owner_lock.is_some()
    }

    fn path(&self, blob: &str) -> io::Result<PathBuf> {
        if !well_formed(blob) {
            return Err(not_a_blob(blob));
        }
        Ok(self.blobs.join(&blob[..2]).join(blob))
    }

    /// Moves a finished temporary file into place as a new blob, durably.
    async fn publish(&self, temp: &Path, blob: &str) -> io::Result<()> {
        let path = self.path(blob)?;
        // Before the rename: from then on a sweep may see the file.
        self.made(blob);
        let dir = path.parent().unwrap_or(&self.blobs);
        match tokio::fs::create_dir(dir).await {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
            Ok(()) => sync_dir(&self.blobs).await?,
            Err(_) => {}
        }
        tokio::fs::rename(temp, &path).await?;
        sync_dir(dir).await
    }

    /// Writes `body` to a new blob, handing each piece to `inspect` first (hashes). A
    /// body that fails part way leaves nothing behind.
    pub async fn write<S, E>(&self, body: S, mut inspect: impl FnMut(&[u8])) -> Result<Written, WriteError<E>>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
    {
        self.new_blob(|mut file| async move {
            let mut size = 0u64;
            let mut body = body;
            while let Some(piece) = body.next().await {
                let piece = piece.map_err(WriteError::Body)?;
                inspect(&piece);
                file.write_all(&piece).await?;
                size += piece.len() as u64;
            }
            Ok((file, size))
        })
        .await
    }

    /// A new blob: a temporary file filled by `fill` (which gives it back with the number
    /// of bytes written), synced, then published. A failure anywhere leaves nothing.
    async fn new_blob<E, F, Filled>(&self, fill: F) -> Result<Written, E>
    where
        E: From<io::Error>,
        F: FnOnce(tokio::fs::File) -> Filled,
        Filled: std::future::Future<Output = Result<(tokio::fs::File, u64), E>>,
    {
        let blob = new_id()?;
        let temp = self.tmp.join(&blob);
        let result = async {
            let file = tokio::fs::File::create(&temp).await?;
            let (file, size) = fill(file).await?;
            file.sync_all().await?;
            drop(file);
            self.publish(&temp, &blob).await?;
            Ok(size)
        }
        .await;
        match result {
            Ok(size) => Ok(Written { blob, size }),
            Err(e) => {
                let _ = tokio::fs::remove_file(&temp).await;
                Err(e)
            }
        }
    }

    /// A new blob holding the same bytes as `blob` (a hard link: blobs never change).
    pub async fn copy(&self, blob: &str) -> io::Result<String> {
        let source = self.path(blob)?;
        let copy = new_id()?;
        let temp = self.tmp.join(&copy);
        if tokio::fs::hard_link(&source, &temp).await.is_err() {
            tokio::fs::copy(&source, &temp).await?;
            tokio::fs::File::open(&temp).await?.sync_all().await?;
        }
        if let Err(e) = self.publish(&temp, &copy).await {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(e);
        }
        Ok(copy)
    }

    /// A new blob holding `ranges` of blobs one after another (a multipart upload's parts,
    /// or a byte range of one blob: `(blob, start, length)`).
    pub async fn concat(&self, ranges: &[(String, u64, u64)]) -> io::Result<Written> {
        self.new_blob(|mut out| async move {
            let mut size = 0u64;
            for (part, start, length) in ranges {
                let mut file = tokio::fs::File::open(self.path(part)?).await?;
                file.seek(io::SeekFrom::Start(*start)).await?;
                let mut limited = tokio::io::AsyncReadExt::take(file, *length);
                size += tokio::io::copy(&mut limited, &mut out).await?;
            }
            Ok((out, size))
        })
        .await
    }

    /// The bytes `start..start + length` of `blob`, streamed.
    pub async fn read(&self, blob: &str, start: u64, length: u64) -> io::Result<BlobReader> {
        let path = self.path(blob)?;
        if length <= PIECE as u64 {
            // Each file operation is a trip to tokio's blocking threads: a read of one piece
            // is made in one (open, seek, read) rather than in two or three.
            let bytes = tokio::task::spawn_blocking(move || read_piece(&path, start, length))
                .await
                .map_err(io::Error::other)??;
            return Ok(BlobReader(Reading::Whole((!bytes.is_empty()).then_some(bytes))));
        }
        let mut file = tokio::fs::File::open(path).await?;
        if start > 0 {
            file.seek(io::SeekFrom::Start(start)).await?;
        }
        Ok(BlobReader(Reading::Streamed {
            file,
            remaining: length,
        }))
    }

    /// Removes blobs no row names any more. A failure is logged, not returned: the write
    /// that freed them is committed, and a leftover file is invisible garbage.
    pub async fn remove(&self, freed: &[String]) {
        for blob in freed {
            let removed = match self.path(blob) {
                Ok(path) => tokio::fs::remove_file(path).await,
                Err(e) => Err(e),
            };
            match removed {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    tracing::warn!(error = %e, blob, "removing a freed S3 blob failed");
                }
                _ => {}
            }
        }
    }

    /// Removes the blobs no row names (`named` holds the names rows had when asked) whose
    /// files were last changed before `before` (the server's start): what a crash left
    /// between a blob's rename and its row's commit, or between a commit and the removal
    /// of the blobs it freed. A blob this server writes, renames or links is changed after
    /// its start (a hard link changes the file's ctime), so none of its writes in flight
    /// is taken for garbage. Returns how many were removed.
    pub async fn sweep(
        &self,
        named: &std::collections::HashSet<String>,
        before: std::time::SystemTime,
    ) -> io::Result<usize> {
        let before = before
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let swept = self.sweep_files(named, before).await;
        // Over: what this server makes from now on needs no noting.
        if let Ok(mut made) = self.made_while_sweeping.lock() {
            *made = None;
        }
        swept
    }

    async fn sweep_files(&self, named: &std::collections::HashSet<String>, before: i64) -> io::Result<usize> {
        use std::os::unix::fs::MetadataExt as _;
        let mut removed = 0;
        let mut dirs = tokio::fs::read_dir(&self.blobs).await?;
        while let Some(dir) = dirs.next_entry().await? {
            if !dir.file_type().await?.is_dir() {
                continue;
            }
            let mut files = tokio::fs::read_dir(dir.path()).await?;
            while let Some(file) = files.next_entry().await? {
                let Some(name) = file.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                if !well_formed(&name) || named.contains(&name) || self.made_here(&name) {
                    continue;
                }
                let changed = match file.metadata().await {
                    Ok(meta) => meta.ctime(),
                    Err(_) => continue,
                };
                // Whole seconds: a file changed in the second the server started is kept.
                if changed < before {
                    match tokio::fs::remove_file(file.path()).await {
                        Ok(()) => removed += 1,
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(removed)
    }

    /// Removes every blob (test mode's reset, after the rows are gone).
    pub async fn clear(&self) -> io::Result<()> {
        let mut entries = tokio::fs::read_dir(&self.blobs).await?;
        while let Some(entry) = entries.next_entry().await? {
            match tokio::fs::remove_dir_all(entry.path()).await {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }
}

/// A body that could not be written: the client's stream failed, or the disk did.
#[derive(Debug)]
pub enum WriteError<E> {
    /// The request's body failed (the client left, a chunk signature was wrong, …).
    Body(E),
    /// Writing the file failed.
    Io(io::Error),
}

impl<E> From<io::Error> for WriteError<E> {
    fn from(e: io::Error) -> Self {
        WriteError::Io(e)
    }
}

/// A blob's bytes as a stream of pieces, ending after the length asked for.
#[derive(Debug)]
pub struct BlobReader(Reading);

#[derive(Debug)]
enum Reading {
    /// A read of at most one piece, made at once: its bytes until they are taken.
    Whole(Option<Bytes>),
    /// A longer one, read a piece at a time.
    Streamed { file: tokio::fs::File, remaining: u64 },
}

/// The size of the pieces a blob is read in.
const PIECE: usize = 64 * 1024;

/// The file is shorter than its row says: never pass it off as whole.
fn ended_early() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "an S3 blob ended before its recorded size",
    )
}

/// `length` (at most a piece) bytes of the file at `path` from `start`, on a blocking thread.
fn read_piece(path: &Path, start: u64, length: u64) -> io::Result<Bytes> {
    use std::io::{Read as _, Seek as _};
    let mut file = std::fs::File::open(path)?;
    if start > 0 {
        file.seek(io::SeekFrom::Start(start))?;
    }
    let mut buffer = vec![0; usize::try_from(length).map_err(io::Error::other)?];
    file.read_exact(&mut buffer).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => ended_early(),
        _ => e,
    })?;
    Ok(Bytes::from(buffer))
}

impl Stream for BlobReader {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let (file, remaining) = match &mut self.0 {
            Reading::Whole(bytes) => return Poll::Ready(bytes.take().map(Ok)),
            Reading::Streamed { file, remaining } => (file, remaining),
        };
        if *remaining == 0 {
            return Poll::Ready(None);
        }
        let want = usize::try_from(*remaining).unwrap_or(PIECE).min(PIECE);
        let mut buffer = BytesMut::zeroed(want);
        let mut read = ReadBuf::new(&mut buffer);
        match Pin::new(file).poll_read(cx, &mut read) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) => {
                let n = read.filled().len();
                if n == 0 {
                    *remaining = 0;
                    return Poll::Ready(Some(Err(ended_early())));
                }
                *remaining -= n as u64;
                buffer.truncate(n);
                Poll::Ready(Some(Ok(buffer.freeze())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(pieces: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, io::Error>> + Unpin {
        futures_util::stream::iter(pieces.iter().map(|p| Ok(Bytes::from_static(p))).collect::<Vec<_>>())
    }

    async fn read_all(blobs: &Blobs, blob: &str, start: u64, length: u64) -> Vec<u8> {
        let mut reader = blobs.read(blob, start, length).await.unwrap();
        let mut out = Vec::new();
        while let Some(piece) = reader.next().await {
            out.extend_from_slice(&piece.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn blobs_are_written_read_copied_joined_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::open(dir.path(), true).unwrap();
        let mut seen = 0;
        let one = blobs
            .write(body(&[b"hello ", b"world"]), |p| seen += p.len())
            .await
            .unwrap();
        assert_eq!((one.size, seen), (11, 11));
        assert_eq!(read_all(&blobs, &one.blob, 0, 11).await, b"hello world");
        assert_eq!(read_all(&blobs, &one.blob, 6, 5).await, b"world");
        let copy = blobs.copy(&one.blob).await.unwrap();
        blobs.remove(std::slice::from_ref(&one.blob)).await;
        assert_eq!(read_all(&blobs, &copy, 0, 11).await, b"hello world");
        let joined = blobs
            .concat(&[(copy.clone(), 6, 5), (copy.clone(), 0, 5)])
            .await
            .unwrap();
        assert_eq!(read_all(&blobs, &joined.blob, 0, joined.size).await, b"worldhello");
        // Nothing is left in tmp/ by finished writes.
        assert_eq!(std::fs::read_dir(&blobs.tmp).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn a_failed_body_leaves_nothing_and_a_short_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::open(dir.path(), true).unwrap();
        let failing = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"part")),
            Err(io::Error::other("the client left")),
        ]);
        assert!(matches!(blobs.write(failing, |_| {}).await, Err(WriteError::Body(_))));
        assert_eq!(std::fs::read_dir(&blobs.tmp).unwrap().count(), 0);
        assert_eq!(std::fs::read_dir(dir.path().join("blobs")).unwrap().count(), 0);

        // Shorter than asked: a read of one piece fails before any byte is served; a
        // longer one serves what there is, then fails.
        let short = blobs.write(body(&[b"abc"]), |_| {}).await.unwrap();
        let err = blobs.read(&short.blob, 0, 10).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let mut reader = blobs.read(&short.blob, 0, PIECE as u64 + 1).await.unwrap();
        assert_eq!(reader.next().await.unwrap().unwrap(), Bytes::from_static(b"abc"));
        assert_eq!(
            reader.next().await.unwrap().unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
        assert!(reader.next().await.is_none());
    }

    #[tokio::test]
    async fn reads_of_one_piece_and_of_many_return_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::open(dir.path(), true).unwrap();
        let data: Vec<u8> = (0..3 * PIECE + 17).map(|i| (i % 251) as u8).collect();
        let written = blobs
            .write(
                futures_util::stream::iter(vec![Ok::<_, io::Error>(Bytes::from(data.clone()))]),
                |_| {},
            )
            .await
            .unwrap();
        let size = data.len() as u64;
        for (start, length) in [
            (0, size),
            (0, PIECE as u64),
            (1, PIECE as u64),
            (1, PIECE as u64 + 1),
            (size - 5, 5),
            (7, 0),
        ] {
            let (from, to) = (start as usize, (start + length) as usize);
            assert_eq!(
                read_all(&blobs, &written.blob, start, length).await,
                &data[from..to],
                "{start}+{length}"
            );
        }
        let missing = blobs.read("00000000000000000000000000000000", 0, 1).await;
        assert_eq!(missing.unwrap_err().kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn a_directory_is_owned_by_one_server_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let first = Blobs::open(dir.path(), true).unwrap();
        std::fs::write(first.tmp.join("half"), b"x").unwrap();
        let second = Blobs::open(dir.path(), true).unwrap();
        assert!(first.owned() && !second.owned());
        // The second server did not take the first's files for leftovers.
        assert!(first.tmp.join("half").exists());
        drop(first);
        assert!(Blobs::open(dir.path(), true).unwrap().owned());
    }

    #[test]
    fn leftovers_of_other_servers_go_only_when_abandoned_or_ours_alone() {
        let dir = tempfile::tempdir().unwrap();
        let first = Blobs::open(dir.path(), false).unwrap();
        std::fs::write(first.tmp.join("half"), b"x").unwrap();
        // A replica starting beside a live one leaves its files alone...
        let second = Blobs::open(dir.path(), false).unwrap();
        assert!(first.tmp.join("half").exists());
        assert!(abandoned(&first.tmp, std::time::Duration::ZERO));
        assert!(!abandoned(&first.tmp, STALE_AFTER));
        // ...and the only server of a directory clears what is there.
        drop((first, second));
        let only = Blobs::open(dir.path(), true).unwrap();
        let left: Vec<_> = std::fs::read_dir(dir.path().join("tmp"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(left, std::slice::from_ref(&only.tmp));
    }

    #[tokio::test]
    async fn a_sweep_removes_only_unnamed_blobs_changed_before_its_time() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::open(dir.path(), true).unwrap();
        let named = blobs.write(body(&[b"kept"]), |_| {}).await.unwrap().blob;
        let orphan = blobs.write(body(&[b"lost"]), |_| {}).await.unwrap().blob;
        let names = std::collections::HashSet::from([named.clone()]);
        // What this server made is never garbage, whatever the clock says.
        let later = || std::time::SystemTime::now() + std::time::Duration::from_secs(2);
        assert_eq!(blobs.sweep(&names, later()).await.unwrap(), 0);
        // The next server (after a crash): files changed after its start are kept...
        drop(blobs);
        let blobs = Blobs::open(dir.path(), true).unwrap();
        let started = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        assert_eq!(blobs.sweep(&names, started).await.unwrap(), 0);
        // ...and what no row names from before it is removed.
        assert_eq!(blobs.sweep(&names, later()).await.unwrap(), 1);
        assert!(blobs.read(&orphan, 0, 4).await.is_err());
        assert_eq!(read_all(&blobs, &named, 0, 4).await, b"kept");
    }

    #[tokio::test]
    async fn names_from_elsewhere_never_become_paths() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::open(dir.path(), true).unwrap();
        for bad in ["../../etc/passwd", "", "ABCDEF0123456789ABCDEF0123456789", "zz"] {
            assert!(blobs.read(bad, 0, 1).await.is_err(), "{bad:?}");
            assert!(blobs.copy(bad).await.is_err(), "{bad:?}");
        }
    }
}
