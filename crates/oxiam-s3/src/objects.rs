//! Object operations: PutObject (and the browser form's PostObject), GetObject and
//! HeadObject, DeleteObject(s), CopyObject and object tagging, over the object rows and
//! their blobs.
//!
//! A write streams the body into a new blob (hashed on the way), checks it against the
//! digests the request claims, and only then commits the row that names it; a request
//! that fails anywhere removes its blob, so it leaves no object and no listing entry. The
//! blobs a commit replaced are removed after it.

use s3s::crypto::Checksum as _;
use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use oxiam_store::{ObjectRow, Versioning};

use crate::attributes::{self, Attributes};
use crate::blobs::WriteError;
use crate::errors;
use crate::gate::Caller;
use crate::store::{
    DEFAULT_CONTENT_TYPE, MAX_DELETE_KEYS, Store, caller, discard, random_id, store_error, timestamp_ms, unix_ms,
};

/// The longest object key S3 takes, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;

/// What a PutObject or UploadPart input (which share these members) claims of its body.
macro_rules! claims_of {
    ($input:expr, $trailers:expr) => {
        Claims {
            checksum: Checksum {
                checksum_crc32: $input.checksum_crc32,
                checksum_crc32c: $input.checksum_crc32c,
                checksum_sha1: $input.checksum_sha1,
                checksum_sha256: $input.checksum_sha256,
                checksum_crc64nvme: $input.checksum_crc64nvme,
                ..Checksum::default()
            },
            algorithm: $input.checksum_algorithm.as_ref(),
            content_md5: $input.content_md5.as_deref(),
            trailers: $trailers,
        }
    };
}
pub(crate) use claims_of;

/// An output (PutObject, UploadPart, GetObject, HeadObject: they share these members) with
/// `checksum`'s values.
macro_rules! with_checksum {
    ($output:expr, $checksum:expr) => {{
        let mut output = $output;
        let checksum: Checksum = $checksum;
        output.checksum_crc32 = checksum.checksum_crc32;
        output.checksum_crc32c = checksum.checksum_crc32c;
        output.checksum_sha1 = checksum.checksum_sha1;
        output.checksum_sha256 = checksum.checksum_sha256;
        output.checksum_crc64nvme = checksum.checksum_crc64nvme;
        output
    }};
}
pub(crate) use with_checksum;

/// A body written to a new blob.
pub(crate) struct Stored {
    pub blob: String,
    pub size: i64,
    pub md5: [u8; 16],
    pub checksum: Checksum,
}

/// What a request claims of its body.
#[derive(Default)]
pub(crate) struct Claims<'a> {
    pub checksum: Checksum,
    pub algorithm: Option<&'a ChecksumAlgorithm>,
    pub content_md5: Option<&'a str>,
    pub trailers: Option<s3s::TrailingHeaders>,
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new version id: 32 URL-safe characters, as S3's are.
pub(crate) fn new_version_id() -> S3Result<String> {
    random_id(24)
}

/// The ETag S3 writes for a row (quoted by s3s).
pub(crate) fn etag(row: &ObjectRow) -> ETag {
    ETag::Strong(row.etag.clone())
}

/// Whether the bucket's objects carry version ids in answers (`null` included).
fn reports_versions(row: &ObjectRow, versioning: Versioning) -> Option<String> {
    (versioning != Versioning::Unversioned || row.version_id != "null").then(|| row.version_id.clone())
}

impl Store {
    /// Writes `body` to a new blob and checks it against `claims`; on any failure the
    /// blob is gone again.
    pub(crate) async fn write_body(&self, body: Option<StreamingBlob>, claims: Claims<'_>) -> S3Result<Stored> {
        let mut hasher = s3s::checksum::ChecksumHasher::default();
        let claimed = &claims.checksum;
        let wants = |value: &Option<String>, name: &str| {
            value.is_some() || claims.algorithm.is_some_and(|a| a.as_str().eq_ignore_ascii_case(name))
        };
        if wants(&claimed.checksum_crc32, ChecksumAlgorithm::CRC32) {
            hasher.crc32 = Some(Default::default());
        }
        if wants(&claimed.checksum_crc32c, ChecksumAlgorithm::CRC32C) {
            hasher.crc32c = Some(Default::default());
        }
        if wants(&claimed.checksum_sha1, ChecksumAlgorithm::SHA1) {
            hasher.sha1 = Some(Default::default());
        }
        if wants(&claimed.checksum_sha256, ChecksumAlgorithm::SHA256) {
            hasher.sha256 = Some(Default::default());
        }
        if wants(&claimed.checksum_crc64nvme, ChecksumAlgorithm::CRC64NVME) {
            hasher.crc64nvme = Some(Default::default());
        }
        let mut md5 = s3s::crypto::Md5::new();
        let body = body.unwrap_or_else(|| StreamingBlob::from(s3s::Body::empty()));
        let written = self
            .blobs
            .write(body, |piece| {
                md5.update(piece);
                hasher.update(piece);
            })
            .await
            .map_err(|e| match e {
                WriteError::Body(e) => errors::body_failed(&*e),
                WriteError::Io(e) => errors::internal("writing an S3 object failed", &e),
            })?;
        let stored = Stored {
            blob: written.blob,
            size: i64::try_from(written.size).unwrap_or(i64::MAX),
            md5: md5.finalize(),
            checksum: hasher.finalize(),
        };
        if let Err(e) = check_claims(&stored, claims) {
            self.blobs.remove(std::slice::from_ref(&stored.blob)).await;
            return Err(e);
        }
        Ok(stored)
    }

    /// Commits `row` as the key's new version, removing its blob if that fails and the
    /// blobs it replaced if it succeeds. Returns the version id to report.
    pub(crate) async fn commit(&self, row: &ObjectRow, if_none_match: bool) -> S3Result<Option<String>> {
        match self.db().s3_put_object(row, if_none_match).await {
            Ok(written) => {
                self.blobs.remove(&written.freed).await;
                Ok(written.version_id)
            }
            Err(e) => {
                if let Some(blob) = &row.blob {
                    discard(&self.blobs, blob, &e).await;
                }
                Err(store_error(e))
            }
        }
    }

    pub(crate) async fn put(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        let caller = caller(&req)?;
        let input = req.input;
        self.existing(&input.bucket).await?;
        check_storage_class(input.storage_class.as_ref())?;
        let tags = attributes::from_header(input.tagging.as_deref())?;
        let if_none_match = self
            .write_condition(
                &input.bucket,
                &input.key,
                input.if_match.as_ref(),
                input.if_none_match.as_ref(),
            )
            .await?;
        let claims = claims_of!(input, req.trailing_headers);
        let stored = self.write_body(input.body, claims).await?;
        let mut attributes = attributes::written_attributes!(input);
        attributes.set_checksums(&stored.checksum);
        let row = ObjectRow {
            bucket: input.bucket,
            key: input.key,
            version_id: new_version_id()?,
            is_latest: true,
            delete_marker: false,
            size: stored.size,
            etag: hex(&stored.md5),
            modified_ms: unix_ms(),
            owner_account: caller.principal.account_id.clone(),
            blob: Some(stored.blob),
            attributes: attributes.to_row(),
            tags: attributes::tags_to_row(&tags),
            seq: 0,
        };
        let version_id = self.commit(&row, if_none_match).await?;
        let output = PutObjectOutput {
            e_tag: Some(etag(&row)),
            version_id,
            ..PutObjectOutput::default()
        };
        Ok(S3Response::new(with_checksum!(output, stored.checksum)))
    }

    /// A browser form's upload: authorized here for its key (the form names it), then
    /// written as PutObject writes.
    pub(crate) async fn post(&self, req: S3Request<PostObjectInput>) -> S3Result<S3Response<PostObjectOutput>> {
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
        crate::actions::check_key(&req.input.key)?;
        let input = req.input;
        let put = PutObjectInput {
            body: input.body,
            bucket: input.bucket,
            key: input.key,
            cache_control: input.cache_control,
            content_disposition: input.content_disposition,
            content_encoding: input.content_encoding,
            content_language: input.content_language,
            content_type: input.content_type,
            content_md5: input.content_md5,
            checksum_algorithm: input.checksum_algorithm,
            checksum_crc32: input.checksum_crc32,
            checksum_crc32c: input.checksum_crc32c,
            checksum_sha1: input.checksum_sha1,
            checksum_sha256: input.checksum_sha256,
            checksum_crc64nvme: input.checksum_crc64nvme,
            expires: input.expires,
            metadata: input.metadata,
            storage_class: input.storage_class,
            tagging: input.tagging,
            website_redirect_location: input.website_redirect_location,
            ..PutObjectInput::default()
        };
        let put = S3Request {
            input: put,
            method: req.method,
            uri: req.uri,
            headers: req.headers,
            extensions: req.extensions,
            credentials: req.credentials,
            region: req.region,
            service: req.service,
            trailing_headers: req.trailing_headers,
        };
        let out = self.put(put).await?.output;
        Ok(S3Response::new(PostObjectOutput {
            e_tag: out.e_tag,
            version_id: out.version_id,
            ..PostObjectOutput::default()
        }))
    }

    /// If-Match and If-None-Match of a write, as S3 judges them: If-Match against the
    /// current object here; If-None-Match `*` in the commit itself (returned true), so
    /// that of two racing creators exactly one wins.
    async fn write_condition(
        &self,
        bucket: &str,
        key: &str,
        if_match: Option<&ETagCondition>,
        if_none_match: Option<&ETagCondition>,
    ) -> S3Result<bool> {
        if let Some(condition) = if_match {
            let current = self
                .db()
                .s3_object(bucket, key, None)
                .await
                .map_err(store_error)?
                .filter(|r| !r.delete_marker);
            let Some(current) = current else {
                return Err(errors::no_such_key());
            };
            if let ETagCondition::ETag(expected) = condition
                && !etag(&current).strong_cmp(expected)
            {
                return Err(errors::precondition_failed());
            }
        }
        match if_none_match {
            None => Ok(false),
            Some(ETagCondition::Any) => Ok(true),
            Some(ETagCondition::ETag(_)) => Err(errors::with_message(
                S3ErrorCode::NotImplemented,
                "A header you provided implies functionality that is not implemented",
            )),
        }
    }

    /// The version a read asks for, or the error S3 answers: NoSuchKey (NoSuchVersion
    /// for a version id), and for a delete marker NoSuchKey with `x-amz-delete-marker`,
    /// or MethodNotAllowed when asked for by its version id.
    async fn readable(&self, bucket: &str, key: &str, version_id: Option<&str>) -> S3Result<ObjectRow> {
        let found = self
            .db()
            .s3_object(bucket, key, version_id)
            .await
            .map_err(store_error)?;
        servable(found, version_id)
    }

    pub(crate) async fn get(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        let mut authorized = req.extensions.get::<Caller>().and_then(|c| c.object.clone());
        let input = req.input;
        let bucket = self.existing(&input.bucket).await?;
        check_part_number(input.part_number)?;
        // An overwrite may remove the blob between the row's read and the file's open:
        // then the row is read again (the new version is what the reader gets).
        let mut attempts = 0;
        let pinned = authorized.is_some();
        let (row, range, reader) = loop {
            let row = match authorized.take() {
                Some(found) => servable(found, input.version_id.as_deref())?,
                None => {
                    self.readable(&input.bucket, &input.key, input.version_id.as_deref())
                        .await?
                }
            };
            read_conditions(
                &row,
                input.if_match.as_ref(),
                input.if_none_match.as_ref(),
                input.if_modified_since.as_ref(),
                input.if_unmodified_since.as_ref(),
            )?;
            let size = u64::try_from(row.size).unwrap_or(0);
            let range = match &input.range {
                Some(range) => Some(range.check(size)?),
                None => None,
            };
            let (start, length) = range.as_ref().map_or((0, size), |r| (r.start, r.end - r.start));
            match self
                .blobs
                .read(row.blob.as_deref().unwrap_or_default(), start, length)
                .await
            {
                Ok(reader) => break (row, range, reader),
                // The version authorized was overwritten or deleted in between: another
                // would be decided with its tags, so the client is asked to come again
                // (S3's SlowDown, which SDKs retry).
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && pinned => return Err(errors::slow_down()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && attempts == 0 => attempts += 1,
                Err(e) => return Err(errors::internal("opening an S3 object failed", &e)),
            }
        };
        let attributes = Attributes::from_row(&row.attributes);
        let whole = range.is_none();
        let (content_length, content_range) = match &range {
            Some(r) => (
                r.end - r.start,
                Some(format!("bytes {}-{}/{}", r.start, r.end.saturating_sub(1), row.size)),
            ),
            None => (u64::try_from(row.size).unwrap_or(0), None),
        };
        let checksum = if whole && wants_checksums(input.checksum_mode.as_ref()) {
            attributes.checksum()
        } else {
            Checksum::default()
        };
        let tags = attributes::tags_from_row(&row.tags);
        let output = GetObjectOutput {
            body: Some(StreamingBlob::wrap(reader)),
            accept_ranges: Some("bytes".to_owned()),
            content_length: Some(i64::try_from(content_length).unwrap_or(i64::MAX)),
            content_range,
            e_tag: Some(etag(&row)),
            last_modified: Some(timestamp_ms(row.modified_ms)),
            metadata: attributes.user_metadata(),
            cache_control: input.response_cache_control.or(attributes.cache_control.clone()),
            content_disposition: input
                .response_content_disposition
                .or(attributes.content_disposition.clone()),
            content_encoding: input.response_content_encoding.or(attributes.content_encoding.clone()),
            content_language: input.response_content_language.or(attributes.content_language.clone()),
            content_type: Some(
                input
                    .response_content_type
                    .or(attributes.content_type.clone())
                    .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned()),
            ),
            expires: input.response_expires.or_else(|| attributes.expires()),
            website_redirect_location: attributes.website_redirect_location.clone(),
            version_id: reports_versions(&row, bucket.versioning),
            tag_count: (!tags.is_empty()).then(|| i32::try_from(tags.len()).unwrap_or(i32::MAX)),
            ..GetObjectOutput::default()
        };
        // s3s answers 206 for a Content-Range.
        Ok(S3Response::new(with_checksum!(output, checksum)))
    }

    pub(crate) async fn head(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        let authorized = req.extensions.get::<Caller>().and_then(|c| c.object.clone());
        let input = req.input;
        let bucket = self.existing(&input.bucket).await?;
        check_part_number(input.part_number)?;
        let row = match authorized {
            Some(found) => servable(found, input.version_id.as_deref())?,
            None => {
                self.readable(&input.bucket, &input.key, input.version_id.as_deref())
                    .await?
            }
        };
        read_conditions(
            &row,
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        )?;
        let attributes = Attributes::from_row(&row.attributes);
        let size = u64::try_from(row.size).unwrap_or(0);
        let range = match &input.range {
            Some(range) => Some(range.check(size)?),
            None => None,
        };
        let checksum = if wants_checksums(input.checksum_mode.as_ref()) {
            attributes.checksum()
        } else {
            Checksum::default()
        };
        let output = HeadObjectOutput {
            accept_ranges: Some("bytes".to_owned()),
            content_length: Some(
                range
                    .as_ref()
                    .map_or(row.size, |r| i64::try_from(r.end - r.start).unwrap_or(0)),
            ),
            content_range: range
                .as_ref()
                .map(|r| format!("bytes {}-{}/{}", r.start, r.end.saturating_sub(1), row.size)),
            e_tag: Some(etag(&row)),
            last_modified: Some(timestamp_ms(row.modified_ms)),
            metadata: attributes.user_metadata(),
            cache_control: attributes.cache_control.clone(),
            content_disposition: attributes.content_disposition.clone(),
            content_encoding: attributes.content_encoding.clone(),
            content_language: attributes.content_language.clone(),
            content_type: Some(
                attributes
                    .content_type
                    .clone()
                    .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned()),
            ),
            expires: attributes.expires(),
            website_redirect_location: attributes.website_redirect_location.clone(),
            version_id: reports_versions(&row, bucket.versioning),
            parts_count: attributes.parts_count.filter(|_| input.part_number.is_some()),
            ..HeadObjectOutput::default()
        };
        Ok(S3Response::new(with_checksum!(output, checksum)))
    }

    /// Deletes one key (or one version of it) as S3 does; what is not there is deleted
    /// all the same.
    async fn delete_one(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        account: &str,
    ) -> S3Result<oxiam_store::S3Write> {
        let marker = ObjectRow {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            version_id: new_version_id()?,
            is_latest: true,
            delete_marker: true,
            size: 0,
            etag: String::new(),
            modified_ms: unix_ms(),
            owner_account: account.to_owned(),
            blob: None,
            attributes: "{}".to_owned(),
            tags: "[]".to_owned(),
            seq: 0,
        };
        let written = self
            .db()
            .s3_delete_object(bucket, key, version_id, &marker)
            .await
            .map_err(store_error)?;
        self.blobs.remove(&written.freed).await;
        Ok(written)
    }

    pub(crate) async fn delete(&self, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        let caller = caller(&req)?;
        let input = req.input;
        self.existing(&input.bucket).await?;
        let written = self
            .delete_one(
                &input.bucket,
                &input.key,
                input.version_id.as_deref(),
                &caller.principal.account_id,
            )
            .await?;
        Ok(S3Response::new(DeleteObjectOutput {
            delete_marker: written.delete_marker.then_some(true),
            version_id: written.version_id,
            ..DeleteObjectOutput::default()
        }))
    }

    /// Each key is authorized on its own: a denied key is reported as an AccessDenied
    /// `<Error>` in the result, as S3 does, and the others are deleted.
    pub(crate) async fn delete_many(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let caller = caller(&req)?;
        let Some((action, versioned)) = caller.per_key else {
            return Err(errors::access_denied());
        };
        let input = req.input;
        let bucket = input.bucket;
        self.existing(&bucket).await?;
        if input.delete.objects.len() > MAX_DELETE_KEYS {
            return Err(errors::malformed_xml());
        }
        let quiet = input.delete.quiet.unwrap_or(false);
        let mut deleted = Vec::new();
        let mut refused = Vec::new();
        for object in input.delete.objects {
            let action = match (&object.version_id, versioned) {
                (Some(_), Some(v)) => v,
                _ => action,
            };
            let allowed = self
                .gate
                .authorize_key(
                    &caller,
                    (action, &bucket, &object.key),
                    object.version_id.as_deref(),
                    None,
                )
                .await;
            let done = match allowed {
                Ok(()) => {
                    self.delete_one(
                        &bucket,
                        &object.key,
                        object.version_id.as_deref(),
                        &caller.principal.account_id,
                    )
                    .await
                }
                Err(e) => Err(e),
            };
            match done {
                Ok(written) => deleted.push(deleted_entry(object.key, object.version_id, &written)),
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
        Ok(S3Response::new(DeleteObjectsOutput {
            deleted: (!quiet).then_some(deleted),
            errors: (!refused.is_empty()).then_some(refused),
            ..DeleteObjectsOutput::default()
        }))
    }

    pub(crate) async fn copy(&self, req: S3Request<CopyObjectInput>) -> S3Result<S3Response<CopyObjectOutput>> {
        let caller = caller(&req)?;
        let input = req.input;
        let (source, source_versioning) = self.copy_source(&input.copy_source, caller.source.clone()).await?;
        copy_conditions(
            &source,
            input.copy_source_if_match.as_ref(),
            input.copy_source_if_none_match.as_ref(),
            input.copy_source_if_modified_since.as_ref(),
            input.copy_source_if_unmodified_since.as_ref(),
        )?;
        self.existing(&input.bucket).await?;
        check_storage_class(input.storage_class.as_ref())?;
        let replace_metadata = input
            .metadata_directive
            .as_ref()
            .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
        let replace_tags = input
            .tagging_directive
            .as_ref()
            .is_some_and(|d| d.as_str() == TaggingDirective::REPLACE);
        if source.bucket == input.bucket
            && source.key == input.key
            && !replace_metadata
            && input.storage_class.is_none()
            && input.website_redirect_location.is_none()
        {
            return Err(errors::with_message(
                S3ErrorCode::InvalidRequest,
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
            ));
        }
        let source_attributes = Attributes::from_row(&source.attributes);
        let attributes = if replace_metadata {
            // The bytes are the source's: so are their checksums and parts.
            Attributes {
                checksums: source_attributes.checksums,
                parts_count: source_attributes.parts_count,
                ..attributes::written_attributes!(input)
            }
        } else {
            source_attributes
        };
        let tags = if replace_tags {
            attributes::from_header(input.tagging.as_deref())?
        } else {
            attributes::tags_from_row(&source.tags)
        };
        let blob = match self.blobs.copy(source.blob.as_deref().unwrap_or_default()).await {
            Ok(blob) => blob,
            // The version authorized was overwritten or deleted in between: come again.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(errors::slow_down()),
            Err(e) => return Err(errors::internal("copying an S3 object failed", &e)),
        };
        let row = ObjectRow {
            bucket: input.bucket,
            key: input.key,
            version_id: new_version_id()?,
            is_latest: true,
            delete_marker: false,
            size: source.size,
            etag: source.etag.clone(),
            modified_ms: unix_ms(),
            owner_account: caller.principal.account_id.clone(),
            blob: Some(blob),
            attributes: attributes.to_row(),
            tags: attributes::tags_to_row(&tags),
            seq: 0,
        };
        let version_id = self.commit(&row, false).await?;
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                e_tag: Some(etag(&row)),
                last_modified: Some(timestamp_ms(row.modified_ms)),
                ..CopyObjectResult::default()
            }),
            copy_source_version_id: reports_versions(&source, source_versioning),
            version_id,
            ..CopyObjectOutput::default()
        }))
    }

    /// The object a copy reads, and its bucket's versioning: a delete marker cannot be
    /// copied (named by its version id, S3 says so; else the key is not there).
    /// `authorized` is the version the gate read for the source's `s3:ExistingObjectTag`:
    /// the one copied, so that its tags are the ones decided with.
    pub(crate) async fn copy_source(
        &self,
        source: &CopySource,
        authorized: Option<Option<ObjectRow>>,
    ) -> S3Result<(ObjectRow, Versioning)> {
        let CopySource::Bucket {
            bucket,
            key,
            version_id,
        } = source
        else {
            return Err(errors::with_message(
                S3ErrorCode::NotImplemented,
                "oxiam copies from buckets only, not access points.",
            ));
        };
        let meta = self.existing(bucket).await?;
        let found = match authorized {
            Some(found) => found,
            None => self
                .db()
                .s3_object(bucket, key, version_id.as_deref())
                .await
                .map_err(store_error)?,
        };
        match found {
            None if version_id.is_some() => Err(errors::no_such_version()),
            None => Err(errors::no_such_key()),
            Some(row) if row.delete_marker && version_id.is_some() => Err(errors::with_message(
                S3ErrorCode::InvalidRequest,
                "The source of a copy request may not specifically refer to a delete marker by version id.",
            )),
            Some(row) if row.delete_marker => Err(errors::no_such_key()),
            Some(row) => Ok((row, meta.versioning)),
        }
    }

    pub(crate) async fn put_tags(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> S3Result<S3Response<PutObjectTaggingOutput>> {
        let caller = caller(&req)?;
        let input = req.input;
        let bucket = self.existing(&input.bucket).await?;
        let tags = attributes::from_tag_set(input.tagging.tag_set, attributes::MAX_OBJECT_TAGS)?;
        let authorized = self
            .gate
            .authorize_body_tags(&caller, (&input.bucket, &input.key), input.version_id.as_deref(), &tags)
            .await?;
        // The version whose tags were decided with is the one tagged, even if another has
        // become current since.
        let version_id = match authorized {
            Some(row) if !row.delete_marker => Some(row.version_id),
            _ => input.version_id,
        };
        let version = self
            .set_tags(&input.bucket, &input.key, version_id.as_deref(), &tags)
            .await?;
        Ok(S3Response::new(PutObjectTaggingOutput {
            version_id: (bucket.versioning != Versioning::Unversioned).then_some(version),
        }))
    }

    pub(crate) async fn get_tags(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        let input = req.input;
        let bucket = self.existing(&input.bucket).await?;
        let row = self
            .readable(&input.bucket, &input.key, input.version_id.as_deref())
            .await?;
        Ok(S3Response::new(GetObjectTaggingOutput {
            version_id: reports_versions(&row, bucket.versioning),
            tag_set: attributes::to_tag_set(attributes::tags_from_row(&row.tags)),
        }))
    }

    pub(crate) async fn delete_tags(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        let input = req.input;
        let bucket = self.existing(&input.bucket).await?;
        let version = self
            .set_tags(&input.bucket, &input.key, input.version_id.as_deref(), &Vec::new())
            .await?;
        Ok(S3Response::new(DeleteObjectTaggingOutput {
            version_id: (bucket.versioning != Versioning::Unversioned).then_some(version),
        }))
    }

    async fn set_tags(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        tags: &attributes::Tags,
    ) -> S3Result<String> {
        // The version's own error first (a delete marker, an unknown version).
        self.readable(bucket, key, version_id).await?;
        self.db()
            .s3_set_object_tags(bucket, key, version_id, &attributes::tags_to_row(tags))
            .await
            .map_err(store_error)
    }
}

/// The version a read found, or the error S3 answers: NoSuchKey (NoSuchVersion for a
/// version id), and for a delete marker NoSuchKey with `x-amz-delete-marker`, or
/// MethodNotAllowed when asked for by its version id.
fn servable(found: Option<ObjectRow>, version_id: Option<&str>) -> S3Result<ObjectRow> {
    match found {
        None if version_id.is_some() => Err(errors::no_such_version()),
        None => Err(errors::no_such_key()),
        Some(row) if row.delete_marker => Err(errors::delete_marker(&row, version_id.is_some())),
        Some(row) => Ok(row),
    }
}

/// A DeleteObjects result entry for one key, as S3 writes it.
fn deleted_entry(key: String, asked_version: Option<String>, written: &oxiam_store::S3Write) -> DeletedObject {
    match asked_version {
        // A version deleted for good; if it was a delete marker, S3 says so.
        Some(version) => DeletedObject {
            key: Some(key),
            version_id: Some(version.clone()),
            delete_marker: written.delete_marker.then_some(true),
            delete_marker_version_id: written.delete_marker.then_some(version),
        },
        // A delete marker made.
        None if written.delete_marker => DeletedObject {
            key: Some(key),
            delete_marker: Some(true),
            delete_marker_version_id: written.version_id.clone(),
            version_id: None,
        },
        None => DeletedObject {
            key: Some(key),
            ..DeletedObject::default()
        },
    }
}

/// S3 keeps objects in STANDARD here; a class it does not know is refused.
fn check_storage_class(class: Option<&StorageClass>) -> S3Result<()> {
    const KNOWN: &[&str] = &[
        "STANDARD",
        "REDUCED_REDUNDANCY",
        "STANDARD_IA",
        "ONEZONE_IA",
        "INTELLIGENT_TIERING",
        "GLACIER",
        "DEEP_ARCHIVE",
        "OUTPOSTS",
        "GLACIER_IR",
        "SNOW",
        "EXPRESS_ONEZONE",
    ];
    match class {
        Some(c) if !KNOWN.contains(&c.as_str()) => Err(errors::with_message(
            S3ErrorCode::InvalidStorageClass,
            "The storage class you specified is not valid",
        )),
        _ => Ok(()),
    }
}

/// GetObject and HeadObject by part number: every object here is one part (an object
/// completed from parts is kept whole), so only part 1 can be asked for.
fn check_part_number(part_number: Option<i32>) -> S3Result<()> {
    match part_number {
        Some(n) if n != 1 => {
            let mut e = errors::with_message(
                S3ErrorCode::Custom("InvalidPartNumber".into()),
                "The requested partnumber is not satisfiable",
            );
            e.set_status_code(http::StatusCode::RANGE_NOT_SATISFIABLE);
            Err(e)
        }
        _ => Ok(()),
    }
}

fn wants_checksums(mode: Option<&ChecksumMode>) -> bool {
    mode.is_some_and(|m| m.as_str() == ChecksumMode::ENABLED)
}

/// The conditional headers of a read, in the order RFC 9110 (and S3) weighs them:
/// If-Match, else If-Unmodified-Since (412); If-None-Match, else If-Modified-Since (304).
fn read_conditions(
    row: &ObjectRow,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> S3Result<()> {
    let current = etag(row);
    // HTTP dates have whole seconds.
    let modified = timestamp_ms(row.modified_ms - row.modified_ms.rem_euclid(1000));
    let matches = |c: &ETagCondition| match c {
        ETagCondition::Any => true,
        ETagCondition::ETag(e) => current.strong_cmp(e),
    };
    match if_match {
        Some(c) if !matches(c) => return Err(errors::precondition_failed()),
        None if if_unmodified_since.is_some_and(|t| modified > *t) => return Err(errors::precondition_failed()),
        _ => {}
    }
    match if_none_match {
        Some(c) if matches(c) => Err(errors::not_modified(row)),
        None if if_modified_since.is_some_and(|t| modified <= *t) => Err(errors::not_modified(row)),
        _ => Ok(()),
    }
}

/// CopyObject's and UploadPartCopy's conditions on the source: all fail with 412.
pub(crate) fn copy_conditions(
    source: &ObjectRow,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> S3Result<()> {
    read_conditions(source, if_match, if_none_match, if_modified_since, if_unmodified_since).map_err(|e| {
        if *e.code() == S3ErrorCode::NotModified {
            errors::precondition_failed()
        } else {
            e
        }
    })
}

/// The digests a body was claimed to have, compared with what was written: Content-MD5
/// (BadDigest, InvalidDigest when it is not base64 of 16 bytes) and each `x-amz-checksum-*`
/// sent as a header or a trailer (BadDigest).
fn check_claims(stored: &Stored, claims: Claims<'_>) -> S3Result<()> {
    use base64::Engine as _;
    if let Some(md5) = claims.content_md5 {
        let decoded = base64::engine::general_purpose::STANDARD.decode(md5.trim());
        match decoded {
            Ok(bytes) if bytes.len() == 16 => {
                if bytes != stored.md5 {
                    return Err(errors::with_message(
                        S3ErrorCode::BadDigest,
                        "The Content-MD5 you specified did not match what we received.",
                    ));
                }
            }
            _ => {
                return Err(errors::with_message(
                    S3ErrorCode::InvalidDigest,
                    "The Content-MD5 you specified was invalid.",
                ));
            }
        }
    }
    let mut claimed = claims.checksum;
    if let Some(trailers) = claims.trailers.and_then(|t| t.take()) {
        let read = |name: &str| trailers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        claimed.checksum_crc32 = claimed.checksum_crc32.or_else(|| read("x-amz-checksum-crc32"));
        claimed.checksum_crc32c = claimed.checksum_crc32c.or_else(|| read("x-amz-checksum-crc32c"));
        claimed.checksum_sha1 = claimed.checksum_sha1.or_else(|| read("x-amz-checksum-sha1"));
        claimed.checksum_sha256 = claimed.checksum_sha256.or_else(|| read("x-amz-checksum-sha256"));
        claimed.checksum_crc64nvme = claimed.checksum_crc64nvme.or_else(|| read("x-amz-checksum-crc64nvme"));
    }
    let computed = &stored.checksum;
    let pairs = [
        ("CRC32", &claimed.checksum_crc32, &computed.checksum_crc32),
        ("CRC32C", &claimed.checksum_crc32c, &computed.checksum_crc32c),
        ("SHA1", &claimed.checksum_sha1, &computed.checksum_sha1),
        ("SHA256", &claimed.checksum_sha256, &computed.checksum_sha256),
        ("CRC64NVME", &claimed.checksum_crc64nvme, &computed.checksum_crc64nvme),
    ];
    for (name, claim, actual) in pairs {
        if let Some(claim) = claim
            && Some(claim) != actual.as_ref()
        {
            return Err(errors::with_message(
                S3ErrorCode::BadDigest,
                format!("The {name} you specified did not match the calculated checksum."),
            ));
        }
    }
    Ok(())
}

/// An object key S3 would take: 1 to 1,024 bytes. (NUL, which no XML answer could carry
/// and PostgreSQL text cannot hold, is refused too.)
pub fn check_key_length(key: &str) -> Result<(), S3Error> {
    if key.is_empty() {
        let mut e = errors::with_message(
            S3ErrorCode::UserKeyMustBeSpecified,
            "The bucket POST must contain the specified field name. If it is specified, please check the order of the fields.",
        );
        e.set_status_code(http::StatusCode::BAD_REQUEST);
        return Err(e);
    }
    if key.contains('\0') {
        let mut e = errors::with_message(
            S3ErrorCode::InvalidArgument,
            "Object keys may not contain the NUL character.",
        );
        e.set_status_code(http::StatusCode::BAD_REQUEST);
        return Err(e);
    }
    if key.len() > MAX_KEY_BYTES {
        let mut e = errors::with_message(S3ErrorCode::KeyTooLongError, "Your key is too long");
        e.set_status_code(http::StatusCode::BAD_REQUEST);
        return Err(e);
    }
    Ok(())
}
