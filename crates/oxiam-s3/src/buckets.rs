//! Who owns each bucket, where it lives and its policy: one small JSON file per bucket,
//! `ROOT/buckets/<bucket>.json`, beside the object store in `ROOT/objects/`.
//!
//! Files are written whole to a temporary file and then renamed into place (or, for a
//! new bucket, hard-linked, which fails if another creator got there first), so a reader
//! never sees half a file. Changes are serialized by one lock per process.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, MutexGuard};

/// What oxiam knows of a bucket besides its objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketMeta {
    /// The bucket's name.
    pub name: String,
    /// The account that created it and owns it.
    pub owner_account: String,
    /// The region the bucket lives in (`us-east-1` when created without a LocationConstraint).
    pub region: String,
    /// When it was created, in Unix milliseconds.
    pub created_ms: i64,
    /// Its bucket policy, as the owner put it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

/// The bucket metadata files.
#[derive(Debug)]
pub struct Buckets {
    dir: PathBuf,
    lock: Mutex<()>,
    counter: AtomicU64,
}

/// Whether `name` can name a file here: s3s checks bucket names before any operation, but
/// this module never trusts that.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
}

impl Buckets {
    /// The metadata under `dir`, created if missing.
    pub fn open(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self {
            dir: dir.to_owned(),
            lock: Mutex::new(()),
            counter: AtomicU64::new(0),
        })
    }

    /// The directory the metadata lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> Option<PathBuf> {
        safe_name(name).then(|| self.dir.join(format!("{name}.json")))
    }

    /// Serializes changes to buckets (create, delete, policy) within this process.
    pub async fn lock(&self) -> MutexGuard<'_, ()> {
        self.lock.lock().await
    }

    /// The bucket's metadata; `None` if there is no such bucket.
    pub async fn get(&self, name: &str) -> io::Result<Option<BucketMeta>> {
        let Some(path) = self.path(name) else { return Ok(None) };
        match tokio::fs::read(&path).await {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every bucket, sorted by name.
    pub async fn list(&self) -> io::Result<Vec<BucketMeta>> {
        let mut out = Vec::new();
        let mut entries = tokio::fs::read_dir(&self.dir).await?;
        while let Some(entry) = entries.next_entry().await? {
            let file_name = entry.file_name();
            let Some(name) = file_name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            if let Some(meta) = self.get(name).await? {
                out.push(meta);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn write_temp(&self, meta: &BucketMeta) -> io::Result<PathBuf> {
        use tokio::io::AsyncWriteExt as _;
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let tmp = self.dir.join(format!(".tmp-{}-{n}", std::process::id()));
        let bytes = serde_json::to_vec_pretty(meta).map_err(io::Error::other)?;
        let mut file = tokio::fs::File::create(&tmp).await?;
        let written = async {
            file.write_all(&bytes).await?;
            file.sync_all().await
        }
        .await;
        if let Err(e) = written {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e);
        }
        Ok(tmp)
    }

    /// Records a new bucket; `false` if one of that name exists already.
    pub async fn create(&self, meta: &BucketMeta) -> io::Result<bool> {
        let path = self
            .path(&meta.name)
            .ok_or_else(|| io::Error::other("unsafe bucket name"))?;
        let tmp = self.write_temp(meta).await?;
        let linked = tokio::fs::hard_link(&tmp, &path).await;
        let _ = tokio::fs::remove_file(&tmp).await;
        match linked {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Replaces an existing bucket's metadata.
    pub async fn replace(&self, meta: &BucketMeta) -> io::Result<()> {
        let path = self
            .path(&meta.name)
            .ok_or_else(|| io::Error::other("unsafe bucket name"))?;
        let tmp = self.write_temp(meta).await?;
        let renamed = tokio::fs::rename(&tmp, &path).await;
        if renamed.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        renamed
    }

    /// Forgets a bucket.
    pub async fn remove(&self, name: &str) -> io::Result<()> {
        let Some(path) = self.path(name) else { return Ok(()) };
        match tokio::fs::remove_file(path).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(name: &str, owner: &str) -> BucketMeta {
        BucketMeta {
            name: name.into(),
            owner_account: owner.into(),
            region: "us-east-1".into(),
            created_ms: 1,
            policy: None,
        }
    }

    #[tokio::test]
    async fn create_get_replace_list_remove() {
        let dir = tempfile::tempdir().unwrap();
        let buckets = Buckets::open(dir.path()).unwrap();
        assert_eq!(buckets.get("b1").await.unwrap(), None);
        assert!(buckets.create(&meta("b1", "111111111111")).await.unwrap());
        assert!(!buckets.create(&meta("b1", "222222222222")).await.unwrap());
        assert_eq!(buckets.get("b1").await.unwrap().unwrap().owner_account, "111111111111");
        let mut m = meta("b1", "111111111111");
        m.policy = Some("{}".into());
        buckets.replace(&m).await.unwrap();
        assert_eq!(buckets.get("b1").await.unwrap(), Some(m));
        assert!(buckets.create(&meta("a0", "111111111111")).await.unwrap());
        let names: Vec<_> = buckets.list().await.unwrap().into_iter().map(|m| m.name).collect();
        assert_eq!(names, ["a0", "b1"]);
        buckets.remove("b1").await.unwrap();
        buckets.remove("b1").await.unwrap();
        assert_eq!(buckets.get("b1").await.unwrap(), None);
        // No temporary file is left behind.
        let leftovers = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with(".tmp"))
            .count();
        assert_eq!(leftovers, 0);
    }

    #[tokio::test]
    async fn unsafe_names_name_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let buckets = Buckets::open(dir.path()).unwrap();
        assert_eq!(buckets.get("../x").await.unwrap(), None);
        assert_eq!(buckets.get(".tmp-1").await.unwrap(), None);
        assert!(buckets.create(&meta("../x", "1")).await.is_err());
    }
}
