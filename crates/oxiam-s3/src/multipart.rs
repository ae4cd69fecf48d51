//! Multipart uploads: an upload is a row, each part a row naming its blob; completing one
//! joins the parts' blobs into the object's, then, in one transaction, ends the upload and
//! writes the object. Any principal the policies allow may go on with an upload, as in S3.

use s3s::crypto::Checksum as _;
use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};

use oxiam_store::{ObjectRow, PartRow, UploadRow};

use crate::attributes::{self, Attributes};
use crate::errors;
use crate::gate::Caller;
use crate::objects::{Claims, claims_of, copy_conditions, etag, hex, new_version_id, with_checksum};
use crate::store::{Store, caller, discard, owner, random_id, store_error, timestamp_ms, unix_ms};

/// Part numbers S3 takes.
const PART_NUMBERS: std::ops::RangeInclusive<i32> = 1..=10_000;

/// The smallest a part may be, but for the last: 5 MiB.
const MIN_PART_BYTES: i64 = 5 << 20;

/// The most parts and uploads a listing page holds.
const MAX_PAGE: i32 = 1000;

fn check_part_number(n: i32) -> S3Result<()> {
    if PART_NUMBERS.contains(&n) {
        return Ok(());
    }
    let mut e = errors::with_message(
        S3ErrorCode::InvalidArgument,
        "Part number must be an integer between 1 and 10000, inclusive",
    );
    e.set_status_code(http::StatusCode::BAD_REQUEST);
    Err(e)
}

/// The initiator as S3 lists it: the principal's ARN, its account's canonical id.
fn initiator(upload: &UploadRow) -> Initiator {
    Initiator {
        display_name: Some(upload.initiator.clone()),
        id: Some(upload.initiator.clone()),
    }
}

/// `bytes=FIRST-LAST` of UploadPartCopy, checked against the source's size.
fn copy_range(range: Option<&str>, size: i64) -> S3Result<(u64, u64)> {
    let size = u64::try_from(size).unwrap_or(0);
    let Some(range) = range else {
        return Ok((0, size));
    };
    let invalid = || {
        let mut e = errors::with_message(
            S3ErrorCode::InvalidArgument,
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
        );
        e.set_status_code(http::StatusCode::BAD_REQUEST);
        e
    };
    let (first, last) = range
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .ok_or_else(invalid)?;
    let first: u64 = first.parse().map_err(|_| invalid())?;
    let last: u64 = last.parse().map_err(|_| invalid())?;
    if first > last {
        return Err(invalid());
    }
    if last >= size {
        let mut e = errors::with_message(S3ErrorCode::InvalidRange, "The requested range is not satisfiable");
        e.set_status_code(http::StatusCode::RANGE_NOT_SATISFIABLE);
        return Err(e);
    }
    Ok((first, last - first + 1))
}

impl Store {
    /// The upload, which must be in progress for this bucket and key.
    async fn upload(&self, upload_id: &str, bucket: &str, key: &str) -> S3Result<UploadRow> {
        self.db()
            .s3_upload(upload_id)
            .await
            .map_err(store_error)?
            .filter(|u| u.bucket == bucket && u.key == key)
            .ok_or_else(errors::no_such_upload)
    }

    pub(crate) async fn start_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let caller = caller(&req)?;
        let input = req.input;
        self.existing(&input.bucket).await?;
        let tags = attributes::from_header(input.tagging.as_deref())?;
        let attributes = attributes::written_attributes!(input);
        let now = unix_ms();
        // Ids sort as the uploads were started (ListMultipartUploads' order within a key).
        let upload_id = format!("{now:013x}{}", random_id(24)?);
        let upload = UploadRow {
            upload_id: upload_id.clone(),
            bucket: input.bucket.clone(),
            key: input.key.clone(),
            initiated_ms: now,
            owner_account: caller.principal.account_id.clone(),
            initiator: caller.principal.arn(),
            attributes: attributes.to_row(),
            tags: attributes::tags_to_row(&tags),
        };
        self.db().s3_create_upload(&upload).await.map_err(store_error)?;
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(upload_id),
            ..CreateMultipartUploadOutput::default()
        }))
    }

    pub(crate) async fn put_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        let input = req.input;
        check_part_number(input.part_number)?;
        self.existing(&input.bucket).await?;
        self.upload(&input.upload_id, &input.bucket, &input.key).await?;
        let claims = claims_of!(input, req.trailing_headers);
        let stored = self.write_body(input.body, claims).await?;
        let part = PartRow {
            upload_id: input.upload_id,
            part_number: i64::from(input.part_number),
            size: stored.size,
            etag: hex(&stored.md5),
            modified_ms: unix_ms(),
            blob: stored.blob,
        };
        self.record_part(&part).await?;
        let output = UploadPartOutput {
            e_tag: Some(ETag::Strong(part.etag)),
            ..UploadPartOutput::default()
        };
        Ok(S3Response::new(with_checksum!(output, stored.checksum)))
    }

    /// Commits a part's row; its blob goes if the upload ended meanwhile, and the blob of
    /// a part it replaces goes after.
    async fn record_part(&self, part: &PartRow) -> S3Result<()> {
        match self.db().s3_put_part(part).await {
            Ok(replaced) => {
                self.blobs.remove(replaced.as_slice()).await;
                Ok(())
            }
            Err(e) => {
                discard(&self.blobs, &part.blob, &e).await;
                Err(store_error(e))
            }
        }
    }

    pub(crate) async fn copy_part(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        let authorized = req.extensions.get::<Caller>().and_then(|c| c.source.clone());
        let input = req.input;
        check_part_number(input.part_number)?;
        let (source, source_versioning) = self.copy_source(&input.copy_source, authorized).await?;
        copy_conditions(
            &source,
            input.copy_source_if_match.as_ref(),
            input.copy_source_if_none_match.as_ref(),
            input.copy_source_if_modified_since.as_ref(),
            input.copy_source_if_unmodified_since.as_ref(),
        )?;
        self.existing(&input.bucket).await?;
        self.upload(&input.upload_id, &input.bucket, &input.key).await?;
        let (start, length) = copy_range(input.copy_source_range.as_deref(), source.size)?;
        let reader = match self
            .blobs
            .read(source.blob.as_deref().unwrap_or_default(), start, length)
            .await
        {
            Ok(reader) => reader,
            // Overwritten or deleted since it was read.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(errors::slow_down()),
            Err(e) => return Err(errors::internal("reading an S3 object to copy failed", &e)),
        };
        let mut md5 = s3s::crypto::Md5::new();
        let written = self
            .blobs
            .write(reader, |piece| md5.update(piece))
            .await
            .map_err(|e| match e {
                crate::blobs::WriteError::Body(e) | crate::blobs::WriteError::Io(e) => {
                    errors::internal("copying an S3 object into a part failed", &e)
                }
            })?;
        let part = PartRow {
            upload_id: input.upload_id,
            part_number: i64::from(input.part_number),
            size: i64::try_from(written.size).unwrap_or(i64::MAX),
            etag: hex(&md5.finalize()),
            modified_ms: unix_ms(),
            blob: written.blob,
        };
        self.record_part(&part).await?;
        Ok(S3Response::new(UploadPartCopyOutput {
            copy_part_result: Some(CopyPartResult {
                e_tag: Some(ETag::Strong(part.etag)),
                last_modified: Some(timestamp_ms(part.modified_ms)),
                ..CopyPartResult::default()
            }),
            copy_source_version_id: (source_versioning != oxiam_store::Versioning::Unversioned)
                .then(|| source.version_id.clone()),
            ..UploadPartCopyOutput::default()
        }))
    }

    pub(crate) async fn parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        let input = req.input;
        self.existing(&input.bucket).await?;
        let upload = self.upload(&input.upload_id, &input.bucket, &input.key).await?;
        let max = input.max_parts.unwrap_or(MAX_PAGE).clamp(0, MAX_PAGE);
        let after = input.part_number_marker.unwrap_or(0);
        let mut parts: Vec<PartRow> = self
            .db()
            .s3_parts(&upload.upload_id)
            .await
            .map_err(store_error)?
            .into_iter()
            .filter(|p| p.part_number > i64::from(after))
            .collect();
        let page = usize::try_from(max).unwrap_or(0);
        let truncated = parts.len() > page;
        parts.truncate(page);
        let next = truncated
            .then(|| parts.last().map(|p| i32::try_from(p.part_number).unwrap_or(0)))
            .flatten();
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(upload.bucket.clone()),
            key: Some(upload.key.clone()),
            upload_id: Some(upload.upload_id.clone()),
            initiator: Some(initiator(&upload)),
            owner: Some(owner(&upload.owner_account)),
            storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
            max_parts: Some(max),
            part_number_marker: input.part_number_marker,
            next_part_number_marker: next,
            is_truncated: Some(truncated),
            parts: Some(
                parts
                    .into_iter()
                    .map(|p| Part {
                        e_tag: Some(ETag::Strong(p.etag)),
                        last_modified: Some(timestamp_ms(p.modified_ms)),
                        part_number: i32::try_from(p.part_number).ok(),
                        size: Some(p.size),
                        ..Part::default()
                    })
                    .collect(),
            ),
            ..ListPartsOutput::default()
        }))
    }

    /// Checks the parts named (each uploaded, with its ETag; ascending; all but the last
    /// at least 5 MiB), as S3 does before it assembles anything, then joins them.
    pub(crate) async fn complete(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let caller = caller(&req)?;
        let input = req.input;
        self.existing(&input.bucket).await?;
        let upload = self.upload(&input.upload_id, &input.bucket, &input.key).await?;
        let named: Vec<CompletedPart> = input.multipart_upload.and_then(|m| m.parts).unwrap_or_default();
        if named.is_empty() {
            return Err(errors::malformed_xml());
        }
        let uploaded: std::collections::HashMap<i64, PartRow> = self
            .db()
            .s3_parts(&upload.upload_id)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|p| (p.part_number, p))
            .collect();
        let mut chosen = Vec::with_capacity(named.len());
        for part in &named {
            let found = part
                .part_number
                .and_then(|n| uploaded.get(&i64::from(n)))
                .filter(|u| part.e_tag.as_ref().is_none_or(|e| e.value() == u.etag));
            let Some(found) = found else {
                return Err(errors::with_message(
                    S3ErrorCode::InvalidPart,
                    "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
                ));
            };
            chosen.push(found);
        }
        if chosen.windows(2).any(|w| w[0].part_number >= w[1].part_number) {
            return Err(errors::with_message(
                S3ErrorCode::InvalidPartOrder,
                "The list of parts was not in ascending order. Parts must be ordered by part number.",
            ));
        }
        if chosen[..chosen.len() - 1].iter().any(|p| p.size < MIN_PART_BYTES) {
            return Err(errors::with_message(
                S3ErrorCode::EntityTooSmall,
                "Your proposed upload is smaller than the minimum allowed size",
            ));
        }
        let mut md5s = s3s::crypto::Md5::new();
        for part in &chosen {
            let bytes: Vec<u8> = (0..part.etag.len() / 2)
                .filter_map(|i| u8::from_str_radix(part.etag.get(2 * i..2 * i + 2)?, 16).ok())
                .collect();
            md5s.update(&bytes);
        }
        let ranges: Vec<(String, u64, u64)> = chosen
            .iter()
            .map(|p| (p.blob.clone(), 0, u64::try_from(p.size).unwrap_or(0)))
            .collect();
        // A part gone meanwhile was replaced, or the upload ended (aborted, completed by
        // another request): the parts named are no longer the upload's.
        let joined = self.blobs.concat(&ranges).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                errors::no_such_upload()
            } else {
                errors::internal("joining the parts of an S3 upload failed", &e)
            }
        })?;
        let mut attributes = Attributes::from_row(&upload.attributes);
        attributes.parts_count = i32::try_from(chosen.len()).ok();
        let row = ObjectRow {
            bucket: upload.bucket.clone(),
            key: upload.key.clone(),
            version_id: new_version_id()?,
            is_latest: true,
            delete_marker: false,
            size: i64::try_from(joined.size).unwrap_or(i64::MAX),
            etag: format!("{}-{}", hex(&md5s.finalize()), chosen.len()),
            modified_ms: unix_ms(),
            owner_account: caller.principal.account_id.clone(),
            blob: Some(joined.blob.clone()),
            attributes: attributes.to_row(),
            tags: upload.tags.clone(),
            seq: 0,
        };
        let written = match self.db().s3_complete_upload(&upload.upload_id, &row).await {
            Ok(written) => written,
            Err(e) => {
                discard(&self.blobs, &joined.blob, &e).await;
                return Err(store_error(e));
            }
        };
        self.blobs.remove(&written.freed).await;
        Ok(S3Response::new(CompleteMultipartUploadOutput {
            bucket: Some(row.bucket.clone()),
            key: Some(row.key.clone()),
            e_tag: Some(etag(&row)),
            location: Some(format!("/{}/{}", row.bucket, row.key)),
            version_id: written.version_id,
            ..CompleteMultipartUploadOutput::default()
        }))
    }

    pub(crate) async fn abort(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let input = req.input;
        self.existing(&input.bucket).await?;
        self.upload(&input.upload_id, &input.bucket, &input.key).await?;
        let freed = self.db().s3_abort_upload(&input.upload_id).await.map_err(store_error)?;
        self.blobs.remove(&freed).await;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }

    pub(crate) async fn uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let input = req.input;
        self.existing(&input.bucket).await?;
        let max = input.max_uploads.unwrap_or(MAX_PAGE).clamp(0, MAX_PAGE);
        let prefix = input.prefix.clone().unwrap_or_default();
        let delimiter = input.delimiter.clone().filter(|d| !d.is_empty());
        let start = crate::listing::After {
            key: input.key_marker.clone().unwrap_or_default(),
            within: input.upload_id_marker.clone().filter(|_| input.key_marker.is_some()),
        };
        let db = self.db().clone();
        let bucket = input.bucket.clone();
        let from = prefix.clone();
        let page = crate::listing::page(
            &prefix,
            delimiter.as_deref(),
            usize::try_from(max).unwrap_or(0),
            start,
            move |after: crate::listing::After<String>, limit| {
                let (db, bucket, from) = (db.clone(), bucket.clone(), from.clone());
                Box::pin(async move {
                    db.s3_uploads(&bucket, &from, (&after.key, after.within.as_deref()), limit)
                        .await
                        .map_err(store_error)
                })
            },
            |u: &UploadRow| u.key.as_str(),
            |u: &UploadRow| u.upload_id.clone(),
        )
        .await?;
        let (next_key_marker, next_upload_id_marker) = if page.truncated {
            match (page.ended_on_prefix, page.entries.last()) {
                (false, Some(last)) => (Some(last.key.clone()), Some(last.upload_id.clone())),
                _ => (page.prefixes.last().cloned(), None),
            }
        } else {
            (None, None)
        };
        let url = crate::listing::wants_url_encoding(input.encoding_type.as_ref());
        let encode = |s: String| if url { crate::listing::url_encoded(&s) } else { s };
        Ok(S3Response::new(ListMultipartUploadsOutput {
            bucket: Some(input.bucket),
            uploads: Some(
                page.entries
                    .iter()
                    .map(|u| MultipartUpload {
                        key: Some(encode(u.key.clone())),
                        upload_id: Some(u.upload_id.clone()),
                        initiated: Some(timestamp_ms(u.initiated_ms)),
                        initiator: Some(initiator(u)),
                        owner: Some(owner(&u.owner_account)),
                        storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
                        ..MultipartUpload::default()
                    })
                    .collect(),
            ),
            common_prefixes: Some(
                page.prefixes
                    .into_iter()
                    .map(|p| CommonPrefix {
                        prefix: Some(encode(p)),
                    })
                    .collect(),
            ),
            is_truncated: Some(page.truncated),
            next_key_marker: next_key_marker.map(encode),
            next_upload_id_marker,
            key_marker: input.key_marker.map(encode),
            upload_id_marker: input.upload_id_marker,
            max_uploads: Some(max),
            prefix: input.prefix.map(encode),
            delimiter: input.delimiter.map(encode),
            encoding_type: input.encoding_type,
            ..ListMultipartUploadsOutput::default()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_ranges_as_s3_reads_them() {
        assert_eq!(copy_range(None, 10).unwrap(), (0, 10));
        assert_eq!(copy_range(Some("bytes=2-4"), 10).unwrap(), (2, 3));
        assert_eq!(copy_range(Some("bytes=0-9"), 10).unwrap(), (0, 10));
        let code = |r: S3Result<(u64, u64)>| r.unwrap_err().code().as_str().to_owned();
        assert_eq!(code(copy_range(Some("bytes=0-10"), 10)), "InvalidRange");
        assert_eq!(code(copy_range(Some("bytes=5-2"), 10)), "InvalidArgument");
        assert_eq!(code(copy_range(Some("2-4"), 10)), "InvalidArgument");
        assert_eq!(code(copy_range(Some("bytes=-4"), 10)), "InvalidArgument");
    }

    #[test]
    fn part_numbers_run_from_one_to_ten_thousand() {
        assert!(check_part_number(1).is_ok());
        assert!(check_part_number(10_000).is_ok());
        assert!(check_part_number(0).is_err());
        assert!(check_part_number(10_001).is_err());
    }
}
