//! The S3 endpoint's metadata (migration 0023): buckets, object versions, multipart uploads
//! and their parts. The bytes live in files named by each row's `blob`; every write here
//! returns the files it left unnamed (an overwritten object, a deleted version, an
//! upload's parts), for oxiam-s3 to remove once the write is durable.
//!
//! Each write is one transaction. On PostgreSQL, where several servers write at once, a
//! write to an object takes a transaction-scoped advisory lock on its bucket and key, so
//! the "one latest version per key" rule holds under parallel writes, and a share lock on
//! its bucket's row, which DeleteBucket takes exclusively: a bucket is never deleted while
//! an object is being written into it. SQLite has one writer at a time.

use crate::{Backend, Store, StoreError, Subject};
use sqlx::AssertSqlSafe;

/// A bucket's versioning state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versioning {
    /// Never enabled: one version of each object, `null`.
    Unversioned,
    /// Every write makes a new version.
    Enabled,
    /// Writes make (and replace) the `null` version; older versions stay.
    Suspended,
}

impl Versioning {
    /// As stored (and, but for `Unversioned`, as S3 names it).
    pub fn as_str(self) -> &'static str {
        match self {
            Versioning::Unversioned => "",
            Versioning::Enabled => "Enabled",
            Versioning::Suspended => "Suspended",
        }
    }

    fn parse(stored: &str) -> Self {
        match stored {
            "Enabled" => Versioning::Enabled,
            "Suspended" => Versioning::Suspended,
            _ => Versioning::Unversioned,
        }
    }
}

/// A bucket, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketRow {
    /// Its name (global: one bucket of a name in the whole system).
    pub name: String,
    /// The account that created it and owns it.
    pub owner_account: String,
    /// Its region.
    pub region: String,
    /// When it was created (Unix milliseconds).
    pub created_ms: i64,
    /// Its bucket policy, as the owner put it.
    pub policy: Option<String>,
    /// Its versioning state.
    pub versioning: Versioning,
    /// Its tag set as JSON, if one is set.
    pub tags: Option<String>,
}

/// One version of an object (or a delete marker), as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRow {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The version's id (`null` for the version an unversioned or suspended bucket writes).
    pub version_id: String,
    /// Whether it is the key's current version.
    pub is_latest: bool,
    /// Whether it is a delete marker (no bytes).
    pub delete_marker: bool,
    /// Its size in bytes.
    pub size: i64,
    /// Its ETag, without quotes.
    pub etag: String,
    /// When it was written (Unix milliseconds).
    pub modified_ms: i64,
    /// The account that wrote it.
    pub owner_account: String,
    /// The file holding its bytes (none for a delete marker).
    pub blob: Option<String>,
    /// Its content headers, user metadata and checksums (JSON, oxiam-s3's).
    pub attributes: String,
    /// Its tag set as JSON.
    pub tags: String,
    /// Its place among the key's versions (higher is newer); set by the store.
    pub seq: i64,
}

/// A multipart upload in progress, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRow {
    /// Its id.
    pub upload_id: String,
    /// The bucket.
    pub bucket: String,
    /// The key the object will have.
    pub key: String,
    /// When it was started (Unix milliseconds).
    pub initiated_ms: i64,
    /// The account that started it.
    pub owner_account: String,
    /// The ARN of the principal that started it.
    pub initiator: String,
    /// The object's attributes to be (JSON, oxiam-s3's).
    pub attributes: String,
    /// The object's tag set to be (JSON).
    pub tags: String,
}

/// One uploaded part of a multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRow {
    /// The upload.
    pub upload_id: String,
    /// Its number, 1 to 10,000.
    pub part_number: i64,
    /// Its size in bytes.
    pub size: i64,
    /// Its ETag (the MD5 of its bytes, hex), without quotes.
    pub etag: String,
    /// When it was uploaded (Unix milliseconds).
    pub modified_ms: i64,
    /// The file holding its bytes.
    pub blob: String,
}

/// What a write to an object did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Write {
    /// The version written or removed (`None` for an unversioned bucket's only version).
    pub version_id: Option<String>,
    /// Whether the version written or removed is a delete marker.
    pub delete_marker: bool,
    /// The files no row names any more: to be removed now that the write is committed.
    pub freed: Vec<String>,
}

/// How a DeleteBucket ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketDeletion {
    /// The bucket is gone, and with it its uploads in progress, whose part files are freed.
    Deleted(Vec<String>),
    /// The bucket holds objects (or versions, or delete markers).
    NotEmpty,
}

type BucketTuple = (String, String, String, i64, Option<String>, String, Option<String>);

const BUCKET_COLUMNS: &str = "name, owner_account, region, created_ms, policy, versioning, tags";

fn bucket_row((name, owner_account, region, created_ms, policy, versioning, tags): BucketTuple) -> BucketRow {
    BucketRow {
        name,
        owner_account,
        region,
        created_ms,
        policy,
        versioning: Versioning::parse(&versioning),
        tags,
    }
}

type ObjectTuple = (
    String,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    String,
    i64,
    String,
    Option<String>,
    String,
    String,
);

const OBJECT_COLUMNS: &str = "bucket, object_key, version_id, seq, is_latest, delete_marker, size, etag, \
     modified_ms, owner_account, blob, attributes, tags";

fn object_row(
    (
        bucket,
        key,
        version_id,
        seq,
        is_latest,
        delete_marker,
        size,
        etag,
        modified_ms,
        owner_account,
        blob,
        attributes,
        tags,
    ): ObjectTuple,
) -> ObjectRow {
    ObjectRow {
        bucket,
        key,
        version_id,
        is_latest: is_latest != 0,
        delete_marker: delete_marker != 0,
        size,
        etag,
        modified_ms,
        owner_account,
        blob,
        attributes,
        tags,
        seq,
    }
}

type UploadTuple = (String, String, String, i64, String, String, String, String);

const UPLOAD_COLUMNS: &str = "upload_id, bucket, object_key, initiated_ms, owner_account, initiator, attributes, tags";

fn upload_row(
    (upload_id, bucket, key, initiated_ms, owner_account, initiator, attributes, tags): UploadTuple,
) -> UploadRow {
    UploadRow {
        upload_id,
        bucket,
        key,
        initiated_ms,
        owner_account,
        initiator,
        attributes,
        tags,
    }
}

type PartTuple = (String, i64, i64, String, i64, String);

fn part_row((upload_id, part_number, size, etag, modified_ms, blob): PartTuple) -> PartRow {
    PartRow {
        upload_id,
        part_number,
        size,
        etag,
        modified_ms,
        blob,
    }
}

impl Store {
    /// ` FOR SHARE` or ` FOR UPDATE` on PostgreSQL, where writers on several servers meet
    /// at a row; nothing on SQLite, whose writes are serialized whole.
    fn row_lock(&self, mode: RowLock) -> &'static str {
        match (self.backend, mode) {
            (Backend::Sqlite, _) => "",
            (Backend::Postgres, RowLock::Share) => " FOR SHARE",
            (Backend::Postgres, RowLock::Update) => " FOR UPDATE",
        }
    }
}

/// How a row read inside a write is held until the write ends.
#[derive(Clone, Copy)]
enum RowLock {
    /// Against changes and deletion, alongside other readers (a bucket an object is
    /// written into).
    Share,
    /// Against every other writer (a bucket being deleted).
    Update,
}

/// The bucket as a `NotFound`'s subject.
fn no_bucket(name: &str) -> StoreError {
    StoreError::not_found(Subject::S3Bucket, name)
}

impl Store {
    /// The bucket named `name`.
    pub async fn s3_bucket(&self, name: &str) -> Result<Option<BucketRow>, StoreError> {
        let cached = self.cache_generation();
        if let Some((cache, generation)) = cached
            && let Some(hit) = cache.buckets.get(name, generation)
        {
            return Ok(hit);
        }
        let found: Option<BucketTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {BUCKET_COLUMNS} FROM s3_buckets WHERE name = $1"
        )))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        let found = found.map(bucket_row);
        if let Some((cache, generation)) = cached {
            cache.buckets.put(name.to_owned(), generation, found.clone());
        }
        Ok(found)
    }

    /// The buckets `owner_account` owns, by name.
    pub async fn s3_buckets_of(&self, owner_account: &str) -> Result<Vec<BucketRow>, StoreError> {
        let rows: Vec<BucketTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {BUCKET_COLUMNS} FROM s3_buckets WHERE owner_account = $1 ORDER BY name"
        )))
        .bind(owner_account)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(bucket_row).collect())
    }

    /// Creates `bucket`, unless a bucket of its name exists: then that one is returned and
    /// nothing is written (the database decides, so of parallel creators one wins).
    pub async fn s3_create_bucket(&self, bucket: &BucketRow) -> Result<Option<BucketRow>, StoreError> {
        let mut tx = self.write_tx().await?;
        let inserted = sqlx::query(
            "INSERT INTO s3_buckets (name, owner_account, region, created_ms, policy, versioning, tags) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&bucket.name)
        .bind(&bucket.owner_account)
        .bind(&bucket.region)
        .bind(bucket.created_ms)
        .bind(&bucket.policy)
        .bind(bucket.versioning.as_str())
        .bind(&bucket.tags)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            tx.commit().await?;
            return Ok(None);
        }
        let existing: Option<BucketTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {BUCKET_COLUMNS} FROM s3_buckets WHERE name = $1"
        )))
        .bind(&bucket.name)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        // Deleted between the two statements: the name was taken a moment ago.
        Ok(Some(existing.map_or_else(|| bucket.clone(), bucket_row)))
    }

    /// Deletes the bucket if it holds no object version or delete marker; its multipart
    /// uploads in progress go with it.
    pub async fn s3_delete_bucket(&self, name: &str) -> Result<BucketDeletion, StoreError> {
        let mut tx = self.write_tx().await?;
        let lock = self.row_lock(RowLock::Update);
        let found: Option<(String,)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT name FROM s3_buckets WHERE name = $1{lock}"
        )))
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        if found.is_none() {
            return Err(no_bucket(name));
        }
        let holds: Option<(String,)> = sqlx::query_as("SELECT object_key FROM s3_objects WHERE bucket = $1 LIMIT 1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        if holds.is_some() {
            return Ok(BucketDeletion::NotEmpty);
        }
        // The uploads first: a part being recorded holds its upload's row (FOR SHARE), so
        // this waits for it, and the parts deleted next include it; a part recorded after
        // finds no upload.
        let uploads: Vec<(String,)> = sqlx::query_as("DELETE FROM s3_uploads WHERE bucket = $1 RETURNING upload_id")
            .bind(name)
            .fetch_all(&mut *tx)
            .await?;
        let mut parts = Vec::new();
        for (upload_id,) in uploads {
            let blobs: Vec<(String,)> = sqlx::query_as("DELETE FROM s3_parts WHERE upload_id = $1 RETURNING blob")
                .bind(upload_id)
                .fetch_all(&mut *tx)
                .await?;
            parts.extend(blobs);
        }
        sqlx::query("DELETE FROM s3_buckets WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(BucketDeletion::Deleted(parts.into_iter().map(|(b,)| b).collect()))
    }

    /// Sets (or, with `None`, removes) the policy of the bucket `name` that `owner` owns
    /// (`NotFound` otherwise: one deleted and made again by another account meanwhile is
    /// not the bucket the caller was allowed to change).
    pub async fn s3_set_bucket_policy(&self, name: &str, owner: &str, policy: Option<&str>) -> Result<(), StoreError> {
        self.s3_set_bucket_column(name, owner, "policy", policy).await
    }

    /// Sets the versioning state of the bucket `name` that `owner` owns.
    pub async fn s3_set_bucket_versioning(
        &self,
        name: &str,
        owner: &str,
        versioning: Versioning,
    ) -> Result<(), StoreError> {
        self.s3_set_bucket_column(name, owner, "versioning", Some(versioning.as_str()))
            .await
    }

    /// Sets (or, with `None`, removes) the tag set of the bucket `name` that `owner` owns.
    pub async fn s3_set_bucket_tags(&self, name: &str, owner: &str, tags: Option<&str>) -> Result<(), StoreError> {
        self.s3_set_bucket_column(name, owner, "tags", tags).await
    }

    /// `column` is one of this module's own names, never a caller's text.
    async fn s3_set_bucket_column(
        &self,
        name: &str,
        owner: &str,
        column: &'static str,
        value: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let changed = sqlx::query(AssertSqlSafe(format!(
            "UPDATE s3_buckets SET {column} = $1 WHERE name = $2 AND owner_account = $3"
        )))
        .bind(value)
        .bind(name)
        .bind(owner)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(no_bucket(name));
        }
        tx.commit().await?;
        Ok(())
    }

    /// A version of an object: `version_id`'s, or the key's current one (which may be a
    /// delete marker).
    pub async fn s3_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Option<ObjectRow>, StoreError> {
        let cached = self.cache_generation();
        let cache_key = (bucket.to_owned(), key.to_owned(), version_id.map(str::to_owned));
        if let Some((cache, generation)) = cached
            && let Some(hit) = cache.objects.get(&cache_key, generation)
        {
            return Ok(hit);
        }
        let found: Option<ObjectTuple> =
            match version_id {
                Some(version) => sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT {OBJECT_COLUMNS} FROM s3_objects WHERE bucket = $1 AND object_key = $2 AND version_id = $3"
                )))
                .bind(bucket)
                .bind(key)
                .bind(version)
                .fetch_optional(&self.pool)
                .await?,
                None => sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT {OBJECT_COLUMNS} FROM s3_objects WHERE bucket = $1 AND object_key = $2 AND is_latest = 1"
                )))
                .bind(bucket)
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
            };
        let found = found.map(object_row);
        if let Some((cache, generation)) = cached {
            cache.objects.put(cache_key, generation, found.clone());
        }
        Ok(found)
    }

    /// The current versions that are objects (not delete markers) of keys in `bucket`
    /// after `after` and from `from` on (a listing's prefix), in key order, at most `limit`.
    pub async fn s3_list_objects(
        &self,
        bucket: &str,
        from: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<ObjectRow>, StoreError> {
        let rows: Vec<ObjectTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {OBJECT_COLUMNS} FROM s3_objects WHERE bucket = $1 AND is_latest = 1 AND delete_marker = 0 \
             AND object_key >= $2 AND object_key > $3 ORDER BY object_key LIMIT $4"
        )))
        .bind(bucket)
        .bind(from)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(object_row).collect())
    }

    /// Every version and delete marker of keys in `bucket` from `from` on, in key order and
    /// newest first within a key, starting after `after` (a key, and within it the version
    /// at that `seq`; with no `seq`, after every version of the key), at most `limit`.
    pub async fn s3_list_versions(
        &self,
        bucket: &str,
        from: &str,
        after: (&str, Option<i64>),
        limit: i64,
    ) -> Result<Vec<ObjectRow>, StoreError> {
        let (after_key, after_seq) = after;
        let rows: Vec<ObjectTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {OBJECT_COLUMNS} FROM s3_objects WHERE bucket = $1 AND object_key >= $2 \
             AND (object_key > $3 OR (object_key = $3 AND seq < $4)) \
             ORDER BY object_key, seq DESC LIMIT $5"
        )))
        .bind(bucket)
        .bind(from)
        .bind(after_key)
        .bind(after_seq.unwrap_or(i64::MIN))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(object_row).collect())
    }

    /// Writes a new current version of an object: `object.version_id` is its id if the
    /// bucket's versioning is enabled (else it is the `null` version, replacing any). With
    /// `if_none_match`, only if the key has no current object (`Conflict` otherwise).
    pub async fn s3_put_object(&self, object: &ObjectRow, if_none_match: bool) -> Result<S3Write, StoreError> {
        let mut tx = self.write_tx().await?;
        let written = self.s3_write_version(&mut tx, object, if_none_match).await?;
        tx.commit().await?;
        Ok(written)
    }

    /// [`Store::s3_put_object`]'s work, inside a transaction.
    async fn s3_write_version(
        &self,
        tx: &mut crate::write::WriteTx,
        object: &ObjectRow,
        if_none_match: bool,
    ) -> Result<S3Write, StoreError> {
        let versioning = self.s3_lock_key(tx, &object.bucket, &object.key).await?;
        if if_none_match {
            let current: Option<(i64,)> = sqlx::query_as(
                "SELECT delete_marker FROM s3_objects WHERE bucket = $1 AND object_key = $2 AND is_latest = 1",
            )
            .bind(&object.bucket)
            .bind(&object.key)
            .fetch_optional(&mut **tx)
            .await?;
            if current.is_some_and(|(marker,)| marker == 0) {
                return Err(StoreError::conflict(Subject::S3Object, &object.key));
            }
        }
        let version_id = match versioning {
            Versioning::Enabled => object.version_id.clone(),
            Versioning::Unversioned | Versioning::Suspended => "null".to_owned(),
        };
        // A new null version replaces the old one; a new version id leaves it be (it is
        // an older version now).
        let freed = match version_id.as_str() {
            "null" => self.s3_remove_version(tx, &object.bucket, &object.key, "null").await?,
            _ => None,
        };
        let written = ObjectRow {
            version_id: version_id.clone(),
            ..object.clone()
        };
        self.s3_insert_latest(tx, &written).await?;
        Ok(S3Write {
            version_id: (versioning != Versioning::Unversioned).then_some(version_id),
            delete_marker: object.delete_marker,
            freed: freed.into_iter().collect(),
        })
    }

    /// Deletes an object as DeleteObject does: with `version_id`, that version for good
    /// (the newest remaining becoming current); without, per the bucket's versioning: the
    /// object itself when never versioned, else a delete marker (`marker`, whose version id
    /// is used if versioning is enabled) becomes current. Deleting what is not there
    /// succeeds, as in S3.
    pub async fn s3_delete_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        marker: &ObjectRow,
    ) -> Result<S3Write, StoreError> {
        let mut tx = self.write_tx().await?;
        let versioning = self.s3_lock_key(&mut tx, bucket, key).await?;
        let written = match (version_id, versioning) {
            (Some(version), _) => {
                let removed = self.s3_version_row(&mut tx, bucket, key, version).await?;
                let freed = self.s3_remove_version(&mut tx, bucket, key, version).await?;
                if removed.as_ref().is_some_and(|r| r.is_latest) {
                    self.s3_promote_newest(&mut tx, bucket, key).await?;
                }
                S3Write {
                    version_id: Some(version.to_owned()),
                    delete_marker: removed.is_some_and(|r| r.delete_marker),
                    freed: freed.into_iter().collect(),
                }
            }
            (None, Versioning::Unversioned) => {
                let freed = self.s3_remove_version(&mut tx, bucket, key, "null").await?;
                S3Write {
                    version_id: None,
                    delete_marker: false,
                    freed: freed.into_iter().collect(),
                }
            }
            (None, _) => {
                let marker = ObjectRow {
                    bucket: bucket.to_owned(),
                    key: key.to_owned(),
                    delete_marker: true,
                    blob: None,
                    ..marker.clone()
                };
                self.s3_write_version(&mut tx, &marker, false).await?
            }
        };
        tx.commit().await?;
        Ok(written)
    }

    /// Sets the tag set of an object's version (`version_id`'s, or the current one), which
    /// must be an object, not a delete marker. Returns the version's id.
    pub async fn s3_set_object_tags(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        tags: &str,
    ) -> Result<String, StoreError> {
        let mut tx = self.write_tx().await?;
        let changed: Option<(String,)> = match version_id {
            Some(version) => {
                sqlx::query_as(
                    "UPDATE s3_objects SET tags = $1 WHERE bucket = $2 AND object_key = $3 AND version_id = $4 \
                 AND delete_marker = 0 RETURNING version_id",
                )
                .bind(tags)
                .bind(bucket)
                .bind(key)
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?
            }
            None => {
                sqlx::query_as(
                    "UPDATE s3_objects SET tags = $1 WHERE bucket = $2 AND object_key = $3 AND is_latest = 1 \
                 AND delete_marker = 0 RETURNING version_id",
                )
                .bind(tags)
                .bind(bucket)
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?
            }
        };
        let Some((version,)) = changed else {
            return Err(StoreError::not_found(Subject::S3Object, key));
        };
        tx.commit().await?;
        Ok(version)
    }

    /// Starts a multipart upload.
    pub async fn s3_create_upload(&self, upload: &UploadRow) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        // Held against DeleteBucket until the upload is recorded (PostgreSQL).
        let share = self.row_lock(RowLock::Share);
        let exists: Option<(String,)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT name FROM s3_buckets WHERE name = $1{share}"
        )))
        .bind(&upload.bucket)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_none() {
            return Err(no_bucket(&upload.bucket));
        }
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO s3_uploads ({UPLOAD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )))
        .bind(&upload.upload_id)
        .bind(&upload.bucket)
        .bind(&upload.key)
        .bind(upload.initiated_ms)
        .bind(&upload.owner_account)
        .bind(&upload.initiator)
        .bind(&upload.attributes)
        .bind(&upload.tags)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The upload `upload_id`, if it is in progress.
    pub async fn s3_upload(&self, upload_id: &str) -> Result<Option<UploadRow>, StoreError> {
        let found: Option<UploadTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {UPLOAD_COLUMNS} FROM s3_uploads WHERE upload_id = $1"
        )))
        .bind(upload_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.map(upload_row))
    }

    /// The uploads in progress in `bucket` for keys from `from` on, after (`key`, and
    /// within it the upload id) `after`, in key order and then by id (oxiam-s3's ids
    /// begin with when the upload started).
    pub async fn s3_uploads(
        &self,
        bucket: &str,
        from: &str,
        after: (&str, Option<&str>),
        limit: i64,
    ) -> Result<Vec<UploadRow>, StoreError> {
        let rows: Vec<UploadTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {UPLOAD_COLUMNS} FROM s3_uploads WHERE bucket = $1 AND object_key >= $2 \
             AND (object_key > $3 OR (object_key = $3 AND upload_id > $4)) \
             ORDER BY object_key, upload_id LIMIT $5"
        )))
        .bind(bucket)
        .bind(from)
        .bind(after.0)
        // No upload id: after every upload of the key (no id sorts after U+10FFFF).
        .bind(after.1.unwrap_or("\u{10FFFF}"))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(upload_row).collect())
    }

    /// Records an uploaded part (replacing one of the same number, whose file is returned
    /// freed); `NotFound` if the upload is no longer in progress.
    pub async fn s3_put_part(&self, part: &PartRow) -> Result<Option<String>, StoreError> {
        let mut tx = self.write_tx().await?;
        let lock = self.row_lock(RowLock::Share);
        let upload: Option<(String,)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT upload_id FROM s3_uploads WHERE upload_id = $1{lock}"
        )))
        .bind(&part.upload_id)
        .fetch_optional(&mut *tx)
        .await?;
        if upload.is_none() {
            return Err(StoreError::not_found(Subject::S3Upload, &part.upload_id));
        }
        let replaced: Option<(String,)> =
            sqlx::query_as("DELETE FROM s3_parts WHERE upload_id = $1 AND part_number = $2 RETURNING blob")
                .bind(&part.upload_id)
                .bind(part.part_number)
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query(
            "INSERT INTO s3_parts (upload_id, part_number, size, etag, modified_ms, blob) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&part.upload_id)
        .bind(part.part_number)
        .bind(part.size)
        .bind(&part.etag)
        .bind(part.modified_ms)
        .bind(&part.blob)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(replaced.map(|(b,)| b))
    }

    /// The parts of an upload, by number.
    pub async fn s3_parts(&self, upload_id: &str) -> Result<Vec<PartRow>, StoreError> {
        let rows: Vec<PartTuple> = sqlx::query_as(
            "SELECT upload_id, part_number, size, etag, modified_ms, blob FROM s3_parts \
             WHERE upload_id = $1 ORDER BY part_number",
        )
        .bind(upload_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(part_row).collect())
    }

    /// Abandons an upload: its row and its parts' rows go, their files are returned freed.
    pub async fn s3_abort_upload(&self, upload_id: &str) -> Result<Vec<String>, StoreError> {
        let mut tx = self.write_tx().await?;
        let freed = self.s3_end_upload(&mut tx, upload_id).await?;
        tx.commit().await?;
        Ok(freed)
    }

    /// Completes an upload: `object` (whose file holds the parts put together) becomes the
    /// key's current version as by PutObject, and the upload ends; the parts' files are
    /// freed. `NotFound` if the upload ended meanwhile (and nothing is written).
    pub async fn s3_complete_upload(&self, upload_id: &str, object: &ObjectRow) -> Result<S3Write, StoreError> {
        let mut tx = self.write_tx().await?;
        // The key and the bucket are locked before the upload's row, in the order every
        // other write takes them (DeleteBucket: the bucket, then the uploads), so that the
        // two never wait on each other. Locking them again in the write is a no-op.
        self.s3_lock_key(&mut tx, &object.bucket, &object.key).await?;
        let parts = self.s3_end_upload(&mut tx, upload_id).await?;
        let mut written = self.s3_write_version(&mut tx, object, false).await?;
        tx.commit().await?;
        written.freed.extend(parts);
        Ok(written)
    }

    /// Every blob a row names (object versions and parts): what a sweep of the blob
    /// directory keeps.
    pub async fn s3_blob_names(&self) -> Result<std::collections::HashSet<String>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT blob FROM s3_objects WHERE blob IS NOT NULL UNION ALL SELECT blob FROM s3_parts")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(b,)| b).collect())
    }

    /// Removes every S3 row (test mode's reset); the caller removes the files.
    pub async fn s3_reset(&self) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for table in ["s3_parts", "s3_uploads", "s3_objects", "s3_buckets"] {
            sqlx::query(AssertSqlSafe(format!("DELETE FROM {table}")))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ends an upload inside a transaction, returning its parts' files.
    async fn s3_end_upload(&self, tx: &mut crate::write::WriteTx, upload_id: &str) -> Result<Vec<String>, StoreError> {
        let ended = sqlx::query("DELETE FROM s3_uploads WHERE upload_id = $1")
            .bind(upload_id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        if ended == 0 {
            return Err(StoreError::not_found(Subject::S3Upload, upload_id));
        }
        let parts: Vec<(String,)> = sqlx::query_as("DELETE FROM s3_parts WHERE upload_id = $1 RETURNING blob")
            .bind(upload_id)
            .fetch_all(&mut **tx)
            .await?;
        Ok(parts.into_iter().map(|(b,)| b).collect())
    }

    /// Serializes writes to one key (PostgreSQL; SQLite has one writer) and holds the
    /// bucket against deletion until the transaction ends. Returns the bucket's versioning,
    /// or `NotFound` if the bucket is gone.
    async fn s3_lock_key(
        &self,
        tx: &mut crate::write::WriteTx,
        bucket: &str,
        key: &str,
    ) -> Result<Versioning, StoreError> {
        if self.backend == Backend::Postgres {
            // No bucket name holds a `/`: one text names one key of one bucket.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(format!("{bucket}/{key}"))
                .execute(&mut **tx)
                .await?;
        }
        let share = self.row_lock(RowLock::Share);
        let versioning: Option<(String,)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT versioning FROM s3_buckets WHERE name = $1{share}"
        )))
        .bind(bucket)
        .fetch_optional(&mut **tx)
        .await?;
        versioning
            .map(|(v,)| Versioning::parse(&v))
            .ok_or_else(|| no_bucket(bucket))
    }

    async fn s3_version_row(
        &self,
        tx: &mut crate::write::WriteTx,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<Option<ObjectRow>, StoreError> {
        let found: Option<ObjectTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {OBJECT_COLUMNS} FROM s3_objects WHERE bucket = $1 AND object_key = $2 AND version_id = $3"
        )))
        .bind(bucket)
        .bind(key)
        .bind(version_id)
        .fetch_optional(&mut **tx)
        .await?;
        Ok(found.map(object_row))
    }

    /// Deletes one version's row; returns its file, if it had one.
    async fn s3_remove_version(
        &self,
        tx: &mut crate::write::WriteTx,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let removed: Option<(Option<String>,)> = sqlx::query_as(
            "DELETE FROM s3_objects WHERE bucket = $1 AND object_key = $2 AND version_id = $3 RETURNING blob",
        )
        .bind(bucket)
        .bind(key)
        .bind(version_id)
        .fetch_optional(&mut **tx)
        .await?;
        Ok(removed.and_then(|(blob,)| blob))
    }

    /// Makes the key's newest remaining version current.
    async fn s3_promote_newest(
        &self,
        tx: &mut crate::write::WriteTx,
        bucket: &str,
        key: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE s3_objects SET is_latest = 1 WHERE bucket = $1 AND object_key = $2 AND seq = \
             (SELECT MAX(seq) FROM s3_objects WHERE bucket = $1 AND object_key = $2)",
        )
        .bind(bucket)
        .bind(key)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Inserts `object` as the key's current version, after every other.
    async fn s3_insert_latest(&self, tx: &mut crate::write::WriteTx, object: &ObjectRow) -> Result<(), StoreError> {
        sqlx::query("UPDATE s3_objects SET is_latest = 0 WHERE bucket = $1 AND object_key = $2 AND is_latest = 1")
            .bind(&object.bucket)
            .bind(&object.key)
            .execute(&mut **tx)
            .await?;
        let (newest,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM s3_objects WHERE bucket = $1 AND object_key = $2")
                .bind(&object.bucket)
                .bind(&object.key)
                .fetch_one(&mut **tx)
                .await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO s3_objects ({OBJECT_COLUMNS}) VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8, $9, $10, $11, $12)"
        )))
        .bind(&object.bucket)
        .bind(&object.key)
        .bind(&object.version_id)
        .bind(newest + 1)
        .bind(i64::from(object.delete_marker))
        .bind(object.size)
        .bind(&object.etag)
        .bind(object.modified_ms)
        .bind(&object.owner_account)
        .bind(&object.blob)
        .bind(&object.attributes)
        .bind(&object.tags)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}
