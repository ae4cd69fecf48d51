//! The S3 operations, over the database's bucket and object rows (oxiam-store's `s3.rs`)
//! and the blob files holding the bytes ([`Blobs`]). This file is the `S3` trait: bucket
//! operations here, objects in `objects.rs`, listings in `listing.rs`, multipart uploads
//! in `multipart.rs`.

use s3s::dto::*;
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use oxiam_store::{BucketDeletion, BucketRow, StoreError, Subject, Versioning};

use crate::attributes;
use crate::blobs::Blobs;
use crate::errors;
use crate::gate::{Caller, Gate};

/// What S3 reports for an object stored without a Content-Type.
pub(crate) const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// The most bytes a bucket policy may hold, as in S3 (20 KB).
const MAX_POLICY_BYTES: usize = 20 * 1024;

/// The most keys one DeleteObjects may name, as in S3.
pub(crate) const MAX_DELETE_KEYS: usize = 1000;

/// oxiam's S3 service.
pub struct Store {
    pub(crate) blobs: std::sync::Arc<Blobs>,
    pub(crate) gate: Gate,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("blobs", &self.blobs)
            .finish_non_exhaustive()
    }
}

/// The caller `Gate::check` authorized; its absence means the request never went through
/// the check, so nothing is allowed.
pub(crate) fn caller<T>(req: &S3Request<T>) -> S3Result<Caller> {
    req.extensions
        .get::<Caller>()
        .cloned()
        .ok_or_else(errors::access_denied)
}

/// S3's canonical user id for an account: 64 hex digits, stable.
pub fn canonical_user_id(account_id: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("oxiam-canonical-user:{account_id}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The region a new bucket goes to, judged as S3 judges CreateBucket: `request_region` is
/// the region the request was signed for.
pub fn bucket_region(constraint: Option<&str>, request_region: &str) -> S3Result<String> {
    let constraint = constraint.filter(|c| !c.is_empty());
    let Some(constraint) = constraint else {
        if request_region == "us-east-1" {
            return Ok("us-east-1".to_owned());
        }
        return Err(errors::with_message(
            S3ErrorCode::IllegalLocationConstraintException,
            "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.",
        ));
    };
    let region = if constraint == "EU" { "eu-west-1" } else { constraint };
    let well_formed = region.split('-').count() >= 3
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if constraint == "us-east-1" || !well_formed {
        return Err(errors::with_message(
            S3ErrorCode::InvalidLocationConstraint,
            "The specified location-constraint is not valid",
        ));
    }
    if request_region != "us-east-1" && request_region != region {
        return Err(errors::with_message(
            S3ErrorCode::IllegalLocationConstraintException,
            format!(
                "The {constraint} location constraint is incompatible for the region specific endpoint this request was sent to."
            ),
        ));
    }
    Ok(region.to_owned())
}

/// S3's minimal check of a bucket policy; the policy engine judges the rest.
pub fn validate_policy(document: &str) -> S3Result<()> {
    let malformed = |m: &'static str| errors::with_message(S3ErrorCode::MalformedPolicy, m);
    if document.len() > MAX_POLICY_BYTES {
        return Err(malformed("Policies must not exceed 20480 bytes"));
    }
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(document) else {
        return Err(malformed("Policies must be valid JSON and the first byte must be '{'"));
    };
    match map.get("Version") {
        None => {}
        Some(serde_json::Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => {}
        Some(_) => return Err(malformed("The policy must contain a valid version string")),
    }
    match map.get("Statement") {
        Some(serde_json::Value::Array(list)) if !list.is_empty() && list.iter().all(serde_json::Value::is_object) => {
            Ok(())
        }
        Some(serde_json::Value::Object(_)) => Ok(()),
        Some(_) => Err(malformed("Policy has invalid statements")),
        None => Err(malformed("Missing required field Statement")),
    }
}

/// A bucket's policy is managed only from the owner's account: S3 answers other accounts
/// 405 whatever the policy grants them.
fn owner_only(meta: &BucketRow, caller: &Caller) -> S3Result<()> {
    if meta.owner_account == caller.principal.account_id {
        return Ok(());
    }
    Err(errors::with_message(
        S3ErrorCode::MethodNotAllowed,
        "The specified method is not allowed against this resource.",
    ))
}

pub(crate) fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

pub(crate) fn timestamp_ms(ms: i64) -> Timestamp {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    Timestamp::from(at)
}

/// A random id of `bytes` bytes, URL-safe (version ids, upload ids).
pub(crate) fn random_id(bytes: usize) -> S3Result<String> {
    use base64::Engine as _;
    let mut raw = vec![0u8; bytes];
    getrandom::fill(&mut raw).map_err(|e| errors::internal("no randomness for an id", &e))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

/// A store error as S3 words it: what is missing or clashing in S3's terms, anything else
/// the server's fault.
pub(crate) fn store_error(e: StoreError) -> S3Error {
    match &e {
        StoreError::NotFound {
            subject: Subject::S3Bucket,
            ..
        } => errors::no_such_bucket(),
        StoreError::NotFound {
            subject: Subject::S3Upload,
            ..
        } => errors::no_such_upload(),
        StoreError::NotFound {
            subject: Subject::S3Object,
            ..
        } => errors::no_such_key(),
        StoreError::Conflict {
            subject: Subject::S3Object,
            ..
        } => errors::precondition_failed(),
        _ => errors::internal("the S3 metadata store failed", &e),
    }
}

/// Whether a failed write certainly stored nothing, so that the blob it would have named
/// may be removed: the store refused it (missing, clashing), or its batch's commit failed
/// (SQLite: nothing of the batch is stored). Any other database failure may have come after
/// the commit was made durable (a PostgreSQL connection lost during COMMIT): the blob is
/// then left in place, unnamed garbage if the write was lost, never a row without its file.
pub(crate) fn stored_nothing(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::NotFound { .. } | StoreError::Conflict { .. } | StoreError::Commit(_)
    )
}

/// Removes `blob` after a failed write, if the write certainly stored nothing.
pub(crate) async fn discard(blobs: &Blobs, blob: &str, e: &StoreError) {
    if stored_nothing(e) {
        blobs.remove(&[blob.to_owned()]).await;
    } else {
        tracing::warn!(blob, error = %e, "an S3 write failed after its blob was written; the blob is kept");
    }
}

/// The owner as S3 lists it.
pub(crate) fn owner(account: &str) -> Owner {
    Owner {
        display_name: None,
        id: Some(canonical_user_id(account)),
    }
}

impl Store {
    pub(crate) fn db(&self) -> &oxiam_store::Store {
        self.gate.oxiam.store()
    }

    /// The bucket's row, or NoSuchBucket.
    pub(crate) async fn existing(&self, bucket: &str) -> S3Result<BucketRow> {
        self.db()
            .s3_bucket(bucket)
            .await
            .map_err(store_error)?
            .ok_or_else(errors::no_such_bucket)
    }

    /// The bucket's policy or tags changed by `set` (given the owner's account, which the
    /// update matches too), for its owner only.
    async fn owners_change<F>(&self, req_caller: &Caller, bucket: &str, set: impl FnOnce(String) -> F) -> S3Result<()>
    where
        F: std::future::Future<Output = Result<(), StoreError>>,
    {
        let meta = self.existing(bucket).await?;
        owner_only(&meta, req_caller)?;
        set(meta.owner_account).await.map_err(store_error)
    }
}

#[async_trait::async_trait]
impl S3 for Store {
    async fn create_bucket(&self, req: S3Request<CreateBucketInput>) -> S3Result<S3Response<CreateBucketOutput>> {
        let caller = caller(&req)?;
        let input = req.input;
        let constraint = input
            .create_bucket_configuration
            .as_ref()
            .and_then(|c| c.location_constraint.as_ref())
            .map(BucketLocationConstraint::as_str);
        let region = bucket_region(constraint, &caller.facts.region)?;
        let name = input.bucket;
        let output = CreateBucketOutput {
            location: Some(format!("/{name}")),
        };
        let row = BucketRow {
            name: name.clone(),
            owner_account: caller.principal.account_id.clone(),
            region,
            created_ms: unix_ms(),
            policy: None,
            versioning: Versioning::Unversioned,
            tags: None,
        };
        let Some(existing) = self.db().s3_create_bucket(&row).await.map_err(store_error)? else {
            return Ok(S3Response::new(output));
        };
        if existing.owner_account != caller.principal.account_id {
            return Err(errors::with_message(
                S3ErrorCode::BucketAlreadyExists,
                "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
            ));
        }
        // S3 keeps answering 200 to its owner in us-east-1, for legacy compatibility.
        if existing.region == "us-east-1" && row.region == "us-east-1" {
            return Ok(S3Response::new(output));
        }
        Err(errors::with_message(
            S3ErrorCode::BucketAlreadyOwnedByYou,
            "Your previous request to create the named bucket succeeded and you already own it.",
        ))
    }

    async fn delete_bucket(&self, req: S3Request<DeleteBucketInput>) -> S3Result<S3Response<DeleteBucketOutput>> {
        match self
            .db()
            .s3_delete_bucket(&req.input.bucket)
            .await
            .map_err(store_error)?
        {
            BucketDeletion::Deleted(freed) => {
                self.blobs.remove(&freed).await;
                Ok(S3Response::new(DeleteBucketOutput {}))
            }
            BucketDeletion::NotEmpty => Err(errors::with_message(
                S3ErrorCode::BucketNotEmpty,
                "The bucket you tried to delete is not empty",
            )),
        }
    }

    async fn head_bucket(&self, req: S3Request<HeadBucketInput>) -> S3Result<S3Response<HeadBucketOutput>> {
        let meta = self.existing(&req.input.bucket).await?;
        Ok(S3Response::new(HeadBucketOutput {
            bucket_region: Some(meta.region),
            ..Default::default()
        }))
    }

    async fn list_buckets(&self, req: S3Request<ListBucketsInput>) -> S3Result<S3Response<ListBucketsOutput>> {
        let caller = caller(&req)?;
        let input = req.input;
        let account = &caller.principal.account_id;
        let mut mine: Vec<BucketRow> = self
            .db()
            .s3_buckets_of(account)
            .await
            .map_err(store_error)?
            .into_iter()
            .filter(|b| input.prefix.as_deref().is_none_or(|p| b.name.starts_with(p)))
            .filter(|b| input.bucket_region.as_deref().is_none_or(|r| b.region == r))
            .filter(|b| input.continuation_token.as_deref().is_none_or(|t| b.name.as_str() > t))
            .collect();
        let max = input
            .max_buckets
            .and_then(|m| usize::try_from(m).ok())
            .filter(|m| *m > 0);
        let mut continuation_token = None;
        if let Some(max) = max
            && mine.len() > max
        {
            mine.truncate(max);
            continuation_token = mine.last().map(|b| b.name.clone());
        }
        let buckets = mine
            .into_iter()
            .map(|b| Bucket {
                bucket_region: Some(b.region),
                creation_date: Some(timestamp_ms(b.created_ms)),
                name: Some(b.name),
            })
            .collect();
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(buckets),
            continuation_token,
            owner: Some(owner(account)),
            prefix: input.prefix,
        }))
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        let meta = self.existing(&req.input.bucket).await?;
        let location_constraint = (meta.region != "us-east-1").then(|| BucketLocationConstraint::from(meta.region));
        Ok(S3Response::new(GetBucketLocationOutput { location_constraint }))
    }

    async fn put_bucket_policy(
        &self,
        req: S3Request<PutBucketPolicyInput>,
    ) -> S3Result<S3Response<PutBucketPolicyOutput>> {
        let caller = caller(&req)?;
        let input = req.input;
        validate_policy(&input.policy)?;
        let (db, bucket, policy) = (self.db(), &input.bucket, &input.policy);
        let set = |owner: String| async move { db.s3_set_bucket_policy(bucket, &owner, Some(policy)).await };
        self.owners_change(&caller, bucket, set).await?;
        Ok(S3Response::new(PutBucketPolicyOutput {}))
    }

    async fn get_bucket_policy(
        &self,
        req: S3Request<GetBucketPolicyInput>,
    ) -> S3Result<S3Response<GetBucketPolicyOutput>> {
        let caller = caller(&req)?;
        let meta = self.existing(&req.input.bucket).await?;
        owner_only(&meta, &caller)?;
        let Some(policy) = meta.policy else {
            return Err(errors::with_message(
                S3ErrorCode::NoSuchBucketPolicy,
                "The bucket policy does not exist",
            ));
        };
        Ok(S3Response::new(GetBucketPolicyOutput { policy: Some(policy) }))
    }

    async fn delete_bucket_policy(
        &self,
        req: S3Request<DeleteBucketPolicyInput>,
    ) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
        let caller = caller(&req)?;
        let (db, bucket) = (self.db(), &req.input.bucket);
        let set = |owner: String| async move { db.s3_set_bucket_policy(bucket, &owner, None).await };
        self.owners_change(&caller, bucket, set).await?;
        Ok(S3Response::new(DeleteBucketPolicyOutput {}))
    }

    /// Enabled or Suspended; a bucket once versioned never goes back to unversioned, as
    /// in S3. MFA delete is not kept: asking for it is refused.
    async fn put_bucket_versioning(
        &self,
        req: S3Request<PutBucketVersioningInput>,
    ) -> S3Result<S3Response<PutBucketVersioningOutput>> {
        let input = req.input;
        let config = input.versioning_configuration;
        let versioning = match config.status.as_ref().map(BucketVersioningStatus::as_str) {
            Some(BucketVersioningStatus::ENABLED) => Versioning::Enabled,
            Some(BucketVersioningStatus::SUSPENDED) => Versioning::Suspended,
            _ => return Err(errors::malformed_xml()),
        };
        if config
            .mfa_delete
            .as_ref()
            .is_some_and(|m| m.as_str() == MFADelete::ENABLED)
        {
            return Err(errors::with_message(
                S3ErrorCode::NotImplemented,
                "oxiam does not keep MFA delete on buckets.",
            ));
        }
        let meta = self.existing(&input.bucket).await?;
        self.db()
            .s3_set_bucket_versioning(&input.bucket, &meta.owner_account, versioning)
            .await
            .map_err(store_error)?;
        Ok(S3Response::new(PutBucketVersioningOutput {}))
    }

    /// A bucket never versioned answers an empty configuration (no `Status`), as S3 does.
    async fn get_bucket_versioning(
        &self,
        req: S3Request<GetBucketVersioningInput>,
    ) -> S3Result<S3Response<GetBucketVersioningOutput>> {
        let meta = self.existing(&req.input.bucket).await?;
        let status = match meta.versioning {
            Versioning::Unversioned => None,
            other => Some(BucketVersioningStatus::from(other.as_str().to_owned())),
        };
        Ok(S3Response::new(GetBucketVersioningOutput {
            status,
            mfa_delete: None,
        }))
    }

    async fn put_bucket_tagging(
        &self,
        req: S3Request<PutBucketTaggingInput>,
    ) -> S3Result<S3Response<PutBucketTaggingOutput>> {
        let caller = caller(&req)?;
        let input = req.input;
        let tags = attributes::from_tag_set(input.tagging.tag_set, attributes::MAX_BUCKET_TAGS)?;
        let row = attributes::tags_to_row(&tags);
        let (db, bucket, row) = (self.db(), &input.bucket, &row);
        let set = |owner: String| async move { db.s3_set_bucket_tags(bucket, &owner, Some(row)).await };
        self.owners_change(&caller, bucket, set).await?;
        // Answered 204 by the endpoint (s3s writes this operation's 200 whatever it is told).
        Ok(S3Response::new(PutBucketTaggingOutput {}))
    }

    async fn get_bucket_tagging(
        &self,
        req: S3Request<GetBucketTaggingInput>,
    ) -> S3Result<S3Response<GetBucketTaggingOutput>> {
        let caller = caller(&req)?;
        let meta = self.existing(&req.input.bucket).await?;
        owner_only(&meta, &caller)?;
        let Some(tags) = meta.tags else {
            return Err(errors::with_message(
                S3ErrorCode::NoSuchTagSet,
                "The TagSet does not exist",
            ));
        };
        Ok(S3Response::new(GetBucketTaggingOutput {
            tag_set: attributes::to_tag_set(attributes::tags_from_row(&tags)),
        }))
    }

    async fn delete_bucket_tagging(
        &self,
        req: S3Request<DeleteBucketTaggingInput>,
    ) -> S3Result<S3Response<DeleteBucketTaggingOutput>> {
        let caller = caller(&req)?;
        let (db, bucket) = (self.db(), &req.input.bucket);
        let set = |owner: String| async move { db.s3_set_bucket_tags(bucket, &owner, None).await };
        self.owners_change(&caller, bucket, set).await?;
        Ok(S3Response::new(DeleteBucketTaggingOutput {}))
    }

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        self.put(req).await
    }

    async fn post_object(&self, req: S3Request<PostObjectInput>) -> S3Result<S3Response<PostObjectOutput>> {
        self.post(req).await
    }

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        self.get(req).await
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        self.head(req).await
    }

    async fn delete_object(&self, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.delete(req).await
    }

    async fn delete_objects(&self, req: S3Request<DeleteObjectsInput>) -> S3Result<S3Response<DeleteObjectsOutput>> {
        self.delete_many(req).await
    }

    async fn copy_object(&self, req: S3Request<CopyObjectInput>) -> S3Result<S3Response<CopyObjectOutput>> {
        self.copy(req).await
    }

    async fn put_object_tagging(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> S3Result<S3Response<PutObjectTaggingOutput>> {
        self.put_tags(req).await
    }

    async fn get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        self.get_tags(req).await
    }

    async fn delete_object_tagging(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        self.delete_tags(req).await
    }

    async fn list_objects(&self, req: S3Request<ListObjectsInput>) -> S3Result<S3Response<ListObjectsOutput>> {
        self.list_v1(req).await
    }

    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.list_v2(req).await
    }

    async fn list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        self.list_versions(req).await
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.start_upload(req).await
    }

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        self.put_part(req).await
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        self.copy_part(req).await
    }

    async fn list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        self.parts(req).await
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        self.uploads(req).await
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        self.complete(req).await
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        self.abort(req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_constraints_as_s3_judges_them() {
        assert_eq!(bucket_region(None, "us-east-1").unwrap(), "us-east-1");
        assert_eq!(bucket_region(Some(""), "us-east-1").unwrap(), "us-east-1");
        assert_eq!(bucket_region(Some("eu-west-1"), "eu-west-1").unwrap(), "eu-west-1");
        assert_eq!(bucket_region(Some("eu-west-1"), "us-east-1").unwrap(), "eu-west-1");
        assert_eq!(bucket_region(Some("EU"), "us-east-1").unwrap(), "eu-west-1");
        let code = |r: S3Result<String>| r.unwrap_err().code().as_str().to_owned();
        assert_eq!(
            code(bucket_region(None, "eu-west-1")),
            "IllegalLocationConstraintException"
        );
        assert_eq!(
            code(bucket_region(Some("eu-west-2"), "eu-west-1")),
            "IllegalLocationConstraintException"
        );
        assert_eq!(
            code(bucket_region(Some("us-east-1"), "us-east-1")),
            "InvalidLocationConstraint"
        );
        assert_eq!(
            code(bucket_region(Some("Mars"), "us-east-1")),
            "InvalidLocationConstraint"
        );
    }

    #[test]
    fn policies_need_json_and_statements() {
        let ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        assert!(validate_policy(ok).is_ok());
        let message = |d: &str| validate_policy(d).unwrap_err().message().unwrap().to_owned();
        assert_eq!(
            message("not json"),
            "Policies must be valid JSON and the first byte must be '{'"
        );
        assert_eq!(
            message("[1]"),
            "Policies must be valid JSON and the first byte must be '{'"
        );
        assert_eq!(
            message(r#"{"Version":"2012-10-17"}"#),
            "Missing required field Statement"
        );
        assert_eq!(
            message(r#"{"Version":"1999","Statement":[{}]}"#),
            "The policy must contain a valid version string"
        );
        assert_eq!(validate_policy("x").unwrap_err().code().as_str(), "MalformedPolicy");
        let big = format!(r#"{{"Statement":[{{"Sid":"{}"}}]}}"#, "a".repeat(MAX_POLICY_BYTES));
        assert!(validate_policy(&big).is_err());
    }

    #[test]
    fn canonical_ids_are_64_hex_digits() {
        let id = canonical_user_id("123456789012");
        assert_eq!(id.len(), 64);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(id, canonical_user_id("123456789013"));
    }
}
