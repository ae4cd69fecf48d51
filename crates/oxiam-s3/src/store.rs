//! The S3 operations: objects are kept by `s3s_fs::FileSystem` under `ROOT/objects`;
//! buckets (owner, region, policy) by [`Buckets`]. Every operation on a bucket first makes
//! sure the bucket exists in oxiam's metadata, since the file store would create missing
//! directories on a write.

use std::io;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use s3s::dto::*;
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result};
use s3s_fs::FileSystem;

use crate::buckets::{BucketMeta, Buckets};
use crate::errors::{self, with_aws_message};
use crate::gate::{Caller, Gate};
use crate::keys;
use std::sync::Arc;

/// What S3 reports for an object stored without a Content-Type.
const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// The most bytes a bucket policy may hold, as in S3 (20 KB).
const MAX_POLICY_BYTES: usize = 20 * 1024;

/// The most keys one DeleteObjects may name, as in S3.
const MAX_DELETE_KEYS: usize = 1000;

/// oxiam's S3 service.
pub struct Store {
    pub(crate) fs: FileSystem,
    pub(crate) objects: PathBuf,
    pub(crate) buckets: Arc<Buckets>,
    pub(crate) gate: Gate,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("objects", &self.objects)
            .finish_non_exhaustive()
    }
}

fn io_error(what: &str) -> impl FnOnce(io::Error) -> S3Error + '_ {
    move |e| errors::internal(what, &e)
}

/// The caller `Gate::check` authorized; its absence means the request never went through
/// the check, so nothing is allowed.
fn caller<T>(req: &S3Request<T>) -> S3Result<Caller> {
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
fn owner_only(meta: &BucketMeta, caller: &Caller) -> S3Result<()> {
    if meta.owner_account == caller.principal.account_id {
        return Ok(());
    }
    Err(errors::with_message(
        S3ErrorCode::MethodNotAllowed,
        "The specified method is not allowed against this resource.",
    ))
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn timestamp_ms(ms: i64) -> Timestamp {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    Timestamp::from(at)
}

/// Whether any object (a file) remains under `dir`.
fn holds_objects(dir: &Path) -> io::Result<bool> {
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                stack.push(entry.path());
            } else {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// URL-encodes a listing value as S3 does for `encoding-type=url` (clients decode it with
/// `unquote_plus`).
fn url_encode(value: &mut Option<String>) {
    if let Some(v) = value {
        *v = form_urlencoded::byte_serialize(v.as_bytes()).collect();
    }
}

fn encode_listing(contents: &mut Option<Vec<Object>>, prefixes: &mut Option<Vec<CommonPrefix>>) {
    for object in contents.iter_mut().flatten() {
        url_encode(&mut object.key);
    }
    for prefix in prefixes.iter_mut().flatten() {
        url_encode(&mut prefix.prefix);
    }
}

fn standard_storage(contents: &mut Option<Vec<Object>>) {
    for object in contents.iter_mut().flatten() {
        object
            .storage_class
            .get_or_insert_with(|| ObjectStorageClass::from_static(ObjectStorageClass::STANDARD));
    }
}

fn wants_url_encoding(encoding: Option<&EncodingType>) -> bool {
    encoding.is_some_and(|e| e.as_str() == EncodingType::URL)
}

/// What a listing asked, kept to ask the object store about each object it lists.
struct Asked {
    bucket: String,
    uri: http::Uri,
    credentials: Option<s3s::auth::Credentials>,
    region: Option<s3s::region::Region>,
    service: Option<String>,
}

impl Asked {
    fn of<T>(req: &S3Request<T>, bucket: &str) -> Self {
        Self {
            bucket: bucket.to_owned(),
            uri: req.uri.clone(),
            credentials: req.credentials.clone(),
            region: req.region.clone(),
            service: req.service.clone(),
        }
    }
}

impl Store {
    /// Gives each listed object the ETag the object store keeps beside it (its listings
    /// leave it out; sync tools compare it). An object gone since it was listed keeps none.
    async fn with_etags(&self, asked: &Asked, contents: &mut Option<Vec<Object>>) {
        for object in contents.iter_mut().flatten() {
            let Some(key) = object.key.clone().filter(|_| object.e_tag.is_none()) else {
                continue;
            };
            let head = S3Request {
                input: HeadObjectInput {
                    bucket: asked.bucket.clone(),
                    key,
                    ..HeadObjectInput::default()
                },
                method: http::Method::HEAD,
                uri: asked.uri.clone(),
                headers: http::HeaderMap::new(),
                extensions: http::Extensions::new(),
                credentials: asked.credentials.clone(),
                region: asked.region.clone(),
                service: asked.service.clone(),
                trailing_headers: None,
            };
            if let Ok(found) = self.fs.head_object(head).await {
                object.e_tag = found.output.e_tag;
            }
        }
    }

    /// Whether the object store can keep `key` in `bucket` now ([`keys`]).
    fn check_writable(&self, bucket: &str, key: &str, multipart: bool) -> S3Result<()> {
        keys::check_storable(bucket, key, multipart)?;
        keys::check_fits_the_tree(&self.objects.join(bucket), key)
    }

    /// NoSuchKey for a key that names a folder of the store, not an object.
    fn no_folder(&self, bucket: &str, key: &str) -> S3Result<()> {
        if keys::is_a_folder(&self.objects.join(bucket), key) {
            return Err(errors::with_message(
                S3ErrorCode::NoSuchKey,
                "The specified key does not exist.",
            ));
        }
        Ok(())
    }

    /// The bucket's metadata, or NoSuchBucket.
    async fn existing(&self, bucket: &str) -> S3Result<BucketMeta> {
        self.buckets
            .get(bucket)
            .await
            .map_err(io_error("reading bucket metadata failed"))?
            .ok_or_else(errors::no_such_bucket)
    }

    /// Removes the file store's side files (object metadata) of every object of `bucket`.
    /// The parts a CompleteMultipartUpload names exist and come in ascending order, as S3
    /// checks before it assembles anything. The object store (s3s-fs) forgets the upload
    /// before it reads the parts and fails a missing one with a 500, so a mistyped part
    /// would otherwise lose the whole upload.
    async fn check_parts(&self, req: &S3Request<CompleteMultipartUploadInput>) -> S3Result<()> {
        let input = &req.input;
        let listing = S3Request {
            input: ListPartsInput {
                bucket: input.bucket.clone(),
                key: input.key.clone(),
                upload_id: input.upload_id.clone(),
                ..ListPartsInput::default()
            },
            method: req.method.clone(),
            uri: req.uri.clone(),
            headers: http::HeaderMap::new(),
            extensions: http::Extensions::new(),
            credentials: req.credentials.clone(),
            region: req.region.clone(),
            service: req.service.clone(),
            trailing_headers: None,
        };
        let uploaded: Vec<i32> = self
            .fs
            .list_parts(listing)
            .await
            .map_err(with_aws_message)?
            .output
            .parts
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p.part_number)
            .collect();
        let named: Vec<Option<i32>> = input
            .multipart_upload
            .iter()
            .flat_map(|m| m.parts.iter().flatten())
            .map(|p| p.part_number)
            .collect();
        if named.iter().any(|n| n.is_none_or(|n| !uploaded.contains(&n))) {
            return Err(errors::with_message(
                S3ErrorCode::InvalidPart,
                "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
            ));
        }
        if named.windows(2).any(|w| w[0] >= w[1]) {
            return Err(errors::with_message(
                S3ErrorCode::InvalidPartOrder,
                "The list of parts was not in ascending order. Parts must be ordered by part number.",
            ));
        }
        Ok(())
    }

    async fn purge_side_files(&self, bucket: &str) -> io::Result<()> {
        let prefix = format!(
            ".bucket-{}.object-",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bucket)
        );
        let mut entries = tokio::fs::read_dir(&self.objects).await?;
        while let Some(entry) = entries.next_entry().await? {
            if entry.file_name().to_str().is_some_and(|n| n.starts_with(&prefix)) {
                match tokio::fs::remove_file(entry.path()).await {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Removes a bucket's objects directory and side files (a deleted bucket's leftovers).
    async fn purge_objects(&self, bucket: &str) -> io::Result<()> {
        match tokio::fs::remove_dir_all(self.objects.join(bucket)).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        self.purge_side_files(bucket).await
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

        let _changing = self.buckets.lock().await;
        if let Some(existing) = self
            .buckets
            .get(&name)
            .await
            .map_err(io_error("reading bucket metadata failed"))?
        {
            if existing.owner_account != caller.principal.account_id {
                return Err(errors::with_message(
                    S3ErrorCode::BucketAlreadyExists,
                    "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
                ));
            }
            // S3 keeps answering 200 to its owner in us-east-1, for legacy compatibility.
            if existing.region == "us-east-1" && region == "us-east-1" {
                return Ok(S3Response::new(output));
            }
            return Err(errors::with_message(
                S3ErrorCode::BucketAlreadyOwnedByYou,
                "Your previous request to create the named bucket succeeded and you already own it.",
            ));
        }
        // Objects left by a deleted bucket of this name (a write racing its deletion) must
        // never be inherited by the new owner.
        self.purge_objects(&name)
            .await
            .map_err(io_error("clearing a bucket directory failed"))?;
        tokio::fs::create_dir(self.objects.join(&name))
            .await
            .map_err(io_error("creating a bucket directory failed"))?;
        let meta = BucketMeta {
            name: name.clone(),
            owner_account: caller.principal.account_id.clone(),
            region,
            created_ms: unix_ms(),
            policy: None,
        };
        if !self
            .buckets
            .create(&meta)
            .await
            .map_err(io_error("writing bucket metadata failed"))?
        {
            // Another process sharing the directory created it first.
            return Err(errors::with_message(
                S3ErrorCode::BucketAlreadyExists,
                "The requested bucket name is not available.",
            ));
        }
        Ok(S3Response::new(output))
    }

    async fn delete_bucket(&self, req: S3Request<DeleteBucketInput>) -> S3Result<S3Response<DeleteBucketOutput>> {
        let name = req.input.bucket;
        let _changing = self.buckets.lock().await;
        self.existing(&name).await?;
        let dir = self.objects.join(&name);
        let busy = tokio::task::spawn_blocking(move || holds_objects(&dir))
            .await
            .map_err(|e| errors::internal("listing a bucket failed", &e))?
            .map_err(io_error("listing a bucket failed"))?;
        if busy {
            return Err(errors::with_message(
                S3ErrorCode::BucketNotEmpty,
                "The bucket you tried to delete is not empty",
            ));
        }
        self.buckets
            .remove(&name)
            .await
            .map_err(io_error("removing bucket metadata failed"))?;
        self.purge_objects(&name)
            .await
            .map_err(io_error("removing a bucket directory failed"))?;
        Ok(S3Response::new(DeleteBucketOutput {}))
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
        let mut mine: Vec<BucketMeta> = self
            .buckets
            .list()
            .await
            .map_err(io_error("listing buckets failed"))?
            .into_iter()
            .filter(|b| &b.owner_account == account)
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
            owner: Some(Owner {
                display_name: None,
                id: Some(canonical_user_id(account)),
            }),
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
        let _changing = self.buckets.lock().await;
        let mut meta = self.existing(&input.bucket).await?;
        owner_only(&meta, &caller)?;
        meta.policy = Some(input.policy);
        self.buckets
            .replace(&meta)
            .await
            .map_err(io_error("writing bucket metadata failed"))?;
        Ok(S3Response::new(PutBucketPolicyOutput {}))
    }

    /// A bucket's versioning state: oxiam keeps one version of each object, so every bucket
    /// is one whose versioning was never enabled, which S3 answers with an empty
    /// configuration (no `Status`).
    async fn get_bucket_versioning(
        &self,
        req: S3Request<GetBucketVersioningInput>,
    ) -> S3Result<S3Response<GetBucketVersioningOutput>> {
        self.existing(&req.input.bucket).await?;
        Ok(S3Response::new(GetBucketVersioningOutput::default()))
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
        let _changing = self.buckets.lock().await;
        let mut meta = self.existing(&req.input.bucket).await?;
        owner_only(&meta, &caller)?;
        if meta.policy.take().is_some() {
            self.buckets
                .replace(&meta)
                .await
                .map_err(io_error("writing bucket metadata failed"))?;
        }
        Ok(S3Response::new(DeleteBucketPolicyOutput {}))
    }

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        self.existing(&req.input.bucket).await?;
        self.check_writable(&req.input.bucket, &req.input.key, false)?;
        self.fs.put_object(req).await.map_err(with_aws_message)
    }

    async fn post_object(&self, req: S3Request<PostObjectInput>) -> S3Result<S3Response<PostObjectOutput>> {
        let caller = caller(&req)?;
        let Some((action, _)) = caller.per_key else {
            return Err(errors::access_denied());
        };
        // A form signed with SigV2 names no region (its SigV4 form does): refused, as
        // SigV2 is everywhere (s3s bounds no age for it and compares in variable time).
        if req.region.is_none() {
            return Err(errors::sigv2_refused());
        }
        let form = crate::actions::post_form_headers(&req.input);
        crate::actions::check_tagging_value(form.get("x-amz-tagging").and_then(|v| v.to_str().ok()))?;
        self.gate
            .authorize_key(&caller, (action, &req.input.bucket, &req.input.key), None, Some(&form))
            .await?;
        self.existing(&req.input.bucket).await?;
        self.check_writable(&req.input.bucket, &req.input.key, false)?;
        self.fs.post_object(req).await.map_err(with_aws_message)
    }

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        self.existing(&req.input.bucket).await?;
        self.no_folder(&req.input.bucket, &req.input.key)?;
        let mut out = self.fs.get_object(req).await.map_err(with_aws_message)?;
        out.output
            .content_type
            .get_or_insert_with(|| DEFAULT_CONTENT_TYPE.to_owned());
        Ok(out)
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        self.existing(&req.input.bucket).await?;
        self.no_folder(&req.input.bucket, &req.input.key)?;
        let mut out = self.fs.head_object(req).await.map_err(with_aws_message)?;
        out.output
            .content_type
            .get_or_insert_with(|| DEFAULT_CONTENT_TYPE.to_owned());
        Ok(out)
    }

    async fn delete_object(&self, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.existing(&req.input.bucket).await?;
        // No object is there: deleting it succeeds, as deleting a missing key does.
        if keys::is_a_folder(&self.objects.join(&req.input.bucket), &req.input.key) {
            return Ok(S3Response::new(DeleteObjectOutput::default()));
        }
        self.fs.delete_object(req).await.map_err(with_aws_message)
    }

    /// Each key is authorized on its own: a denied key is reported as an AccessDenied
    /// `<Error>` in the result, as S3 does, and the others are deleted.
    async fn delete_objects(
        &self,
        mut req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let caller = caller(&req)?;
        let Some((action, versioned)) = caller.per_key else {
            return Err(errors::access_denied());
        };
        let bucket = req.input.bucket.clone();
        self.existing(&bucket).await?;
        let requested = std::mem::take(&mut req.input.delete.objects);
        if requested.len() > MAX_DELETE_KEYS {
            return Err(errors::with_message(
                S3ErrorCode::MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema",
            ));
        }
        let quiet = req.input.delete.quiet.unwrap_or(false);
        let mut allowed = Vec::with_capacity(requested.len());
        let mut refused = Vec::new();
        for object in requested {
            let action = match (&object.version_id, versioned) {
                (Some(_), Some(v)) => v,
                _ => action,
            };
            match self
                .gate
                .authorize_key(
                    &caller,
                    (action, &bucket, &object.key),
                    object.version_id.as_deref(),
                    None,
                )
                .await
            {
                Ok(()) => allowed.push(object),
                Err(e) => refused.push(Error {
                    code: Some(e.code().as_str().to_owned()),
                    key: Some(object.key),
                    // Per-key errors keep S3's terse wording, explanations or not.
                    message: Some(if *e.code() == S3ErrorCode::AccessDenied {
                        "Access Denied".to_owned()
                    } else {
                        e.message().unwrap_or_default().to_owned()
                    }),
                    version_id: object.version_id,
                }),
            }
        }
        // A folder of the store is no object: reported deleted, as a missing key is.
        let bucket_dir = self.objects.join(&bucket);
        let (folders, allowed): (Vec<_>, Vec<_>) = allowed
            .into_iter()
            .partition(|o| keys::is_a_folder(&bucket_dir, &o.key));
        let mut response = if allowed.is_empty() {
            S3Response::new(DeleteObjectsOutput::default())
        } else {
            req.input.delete.objects = allowed;
            self.fs.delete_objects(req).await.map_err(with_aws_message)?
        };
        if !folders.is_empty() {
            let deleted = response.output.deleted.get_or_insert_with(Vec::new);
            deleted.extend(folders.into_iter().map(|o| DeletedObject {
                key: Some(o.key),
                version_id: o.version_id,
                ..DeletedObject::default()
            }));
        }
        let output = &mut response.output;
        if quiet {
            output.deleted = None;
        }
        if !refused.is_empty() {
            output.errors.get_or_insert_with(Vec::new).extend(refused);
        }
        Ok(response)
    }

    async fn copy_object(&self, req: S3Request<CopyObjectInput>) -> S3Result<S3Response<CopyObjectOutput>> {
        if let CopySource::Bucket { bucket, key, .. } = &req.input.copy_source {
            self.existing(bucket).await?;
            self.no_folder(bucket, key)?;
        }
        self.existing(&req.input.bucket).await?;
        self.check_writable(&req.input.bucket, &req.input.key, false)?;
        self.fs.copy_object(req).await.map_err(with_aws_message)
    }

    async fn list_objects(&self, mut req: S3Request<ListObjectsInput>) -> S3Result<S3Response<ListObjectsOutput>> {
        self.existing(&req.input.bucket).await?;
        no_empty_delimiter(&mut req.input.delimiter);
        let asked_max = at_most_a_page(&mut req.input.max_keys)?;
        let asked = Asked::of(&req, &req.input.bucket);
        let marker = req.input.marker.clone();
        let url = wants_url_encoding(req.input.encoding_type.as_ref());
        let mut response = self.fs.list_objects(req).await.map_err(with_aws_message)?;
        let out = &mut response.output;
        out.max_keys = Some(asked_max);
        self.with_etags(&asked, &mut out.contents).await;
        out.marker = marker;
        // S3 gives NextMarker only with a delimiter; without one clients resume after the
        // last key.
        if out.delimiter.is_none() {
            out.next_marker = None;
        }
        standard_storage(&mut out.contents);
        if url {
            encode_listing(&mut out.contents, &mut out.common_prefixes);
            url_encode(&mut out.prefix);
            url_encode(&mut out.delimiter);
            url_encode(&mut out.marker);
            url_encode(&mut out.next_marker);
        }
        Ok(response)
    }

    async fn list_objects_v2(
        &self,
        mut req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.existing(&req.input.bucket).await?;
        no_empty_delimiter(&mut req.input.delimiter);
        let asked_max = at_most_a_page(&mut req.input.max_keys)?;
        let asked = Asked::of(&req, &req.input.bucket);
        let url = wants_url_encoding(req.input.encoding_type.as_ref());
        let mut response = self.fs.list_objects_v2(req).await.map_err(with_aws_message)?;
        let out = &mut response.output;
        out.max_keys = Some(asked_max);
        self.with_etags(&asked, &mut out.contents).await;
        standard_storage(&mut out.contents);
        if url {
            encode_listing(&mut out.contents, &mut out.common_prefixes);
            url_encode(&mut out.prefix);
            url_encode(&mut out.delimiter);
            url_encode(&mut out.start_after);
        }
        Ok(response)
    }

    /// A bucket oxiam keeps is never versioned (GetBucketVersioning says so): each object
    /// is its only version, `null`, the latest, and there are no delete markers. So the
    /// listing is ListObjects' (prefix, delimiter, paging, URL encoding alike), with the
    /// key marker as its marker: after the `null` version of a key come the keys after it.
    async fn list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        let asked = req.input;
        if asked.version_id_marker.is_some() && asked.key_marker.is_none() {
            return Err(errors::with_message(
                S3ErrorCode::InvalidArgument,
                "A version-id marker cannot be specified without a key marker.",
            ));
        }
        // Listed unencoded, so that the next page's marker is the greatest key as stored
        // (URL encoding does not keep the order), then encoded here if asked.
        let url = wants_url_encoding(asked.encoding_type.as_ref());
        let listing = S3Request {
            input: ListObjectsInput {
                bucket: asked.bucket.clone(),
                delimiter: asked.delimiter.clone(),
                marker: asked.key_marker.clone(),
                max_keys: asked.max_keys,
                prefix: asked.prefix.clone(),
                ..ListObjectsInput::default()
            },
            method: req.method,
            uri: req.uri,
            headers: req.headers,
            extensions: http::Extensions::new(),
            credentials: req.credentials,
            region: req.region,
            service: req.service,
            trailing_headers: None,
        };
        let mut listed = self.list_objects(listing).await?.output;
        let truncated = listed.is_truncated.unwrap_or(false);
        // Where the next page starts: the last key or common prefix of this one.
        let last_key = listed
            .contents
            .iter()
            .flatten()
            .filter_map(|o| o.key.clone())
            .next_back();
        let last_prefix = listed
            .common_prefixes
            .iter()
            .flatten()
            .filter_map(|p| p.prefix.clone())
            .next_back();
        let mut next_key_marker = truncated
            .then(|| last_key.into_iter().chain(last_prefix).max())
            .flatten();
        let mut key_marker = asked.key_marker;
        if url {
            encode_listing(&mut listed.contents, &mut listed.common_prefixes);
            for text in [
                &mut listed.prefix,
                &mut listed.delimiter,
                &mut key_marker,
                &mut next_key_marker,
            ] {
                url_encode(text);
            }
        }
        let versions = listed.contents.map(|objects| {
            objects
                .into_iter()
                .map(|o| ObjectVersion {
                    e_tag: o.e_tag,
                    is_latest: Some(true),
                    key: o.key,
                    last_modified: o.last_modified,
                    owner: o.owner,
                    size: o.size,
                    storage_class: Some(ObjectVersionStorageClass::from_static(
                        ObjectVersionStorageClass::STANDARD,
                    )),
                    version_id: Some("null".to_owned()),
                    ..ObjectVersion::default()
                })
                .collect()
        });
        Ok(S3Response::new(ListObjectVersionsOutput {
            common_prefixes: listed.common_prefixes,
            delimiter: listed.delimiter,
            encoding_type: asked.encoding_type,
            is_truncated: Some(truncated),
            key_marker,
            max_keys: listed.max_keys,
            name: Some(asked.bucket),
            next_version_id_marker: next_key_marker.as_ref().map(|_| "null".to_owned()),
            next_key_marker,
            prefix: listed.prefix,
            version_id_marker: asked.version_id_marker,
            versions,
            ..ListObjectVersionsOutput::default()
        }))
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.existing(&req.input.bucket).await?;
        self.check_writable(&req.input.bucket, &req.input.key, true)?;
        self.fs.create_multipart_upload(req).await.map_err(with_aws_message)
    }

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        self.existing(&req.input.bucket).await?;
        self.fs.upload_part(req).await.map_err(with_aws_message)
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        if let CopySource::Bucket { bucket, key, .. } = &req.input.copy_source {
            self.existing(bucket).await?;
            self.no_folder(bucket, key)?;
        }
        self.existing(&req.input.bucket).await?;
        self.fs.upload_part_copy(req).await.map_err(with_aws_message)
    }

    async fn list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        self.existing(&req.input.bucket).await?;
        self.fs.list_parts(req).await.map_err(with_aws_message)
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        self.existing(&req.input.bucket).await?;
        self.check_writable(&req.input.bucket, &req.input.key, true)?;
        self.check_parts(&req).await?;
        self.fs.complete_multipart_upload(req).await.map_err(with_aws_message)
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        self.existing(&req.input.bucket).await?;
        self.fs.abort_multipart_upload(req).await.map_err(with_aws_message)
    }
}

/// The most keys one listing page holds, whatever MaxKeys asks.
const MAX_KEYS_PER_PAGE: i32 = 1000;

/// S3's reading of a listing's MaxKeys: a negative one is refused; the page holds at most
/// [`MAX_KEYS_PER_PAGE`] keys (the store is asked for no more), and the answer's MaxKeys
/// says what was asked (1,000 when nothing was), as S3's does.
fn at_most_a_page(max_keys: &mut Option<i32>) -> S3Result<i32> {
    let asked = max_keys.unwrap_or(MAX_KEYS_PER_PAGE);
    if asked < 0 {
        let mut e = errors::with_message(
            S3ErrorCode::InvalidArgument,
            "Argument maxKeys must be an integer between 0 and 2147483647",
        );
        e.set_status_code(http::StatusCode::BAD_REQUEST);
        return Err(e);
    }
    *max_keys = Some(asked.min(MAX_KEYS_PER_PAGE));
    Ok(asked)
}

/// An empty `delimiter=` is no delimiter, as S3 reads it (rclone and s3fs send one with
/// every listing); the object store would split every key at its first character.
fn no_empty_delimiter(delimiter: &mut Option<String>) {
    if delimiter.as_deref() == Some("") {
        *delimiter = None;
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

    #[test]
    fn object_detection_ignores_empty_directories() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b/c")).unwrap();
        assert!(!holds_objects(dir.path()).unwrap());
        std::fs::write(dir.path().join("a/b/k"), b"x").unwrap();
        assert!(holds_objects(dir.path()).unwrap());
        assert!(!holds_objects(&dir.path().join("missing")).unwrap());
    }
}
