//! One page of a listing (objects, versions, multipart uploads), as S3 pages them: the
//! entries under a prefix in key order, those whose key holds the delimiter after the
//! prefix rolled up into one common prefix each, at most `max` entries and prefixes in all.
//!
//! The listings themselves (ListObjects, ListObjectsV2, ListObjectVersions) are here too;
//! ListMultipartUploads is with the uploads.
//!
//! The rows come from the database in key order, a batch at a time, starting after a
//! position (a key, and within it a version or an upload); a common prefix is skipped
//! whole by starting the next batch after every key it covers.

use futures_util::future::BoxFuture;
use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};

use oxiam_store::ObjectRow;

use crate::errors;
use crate::objects::etag;
use crate::store::{Store, owner, store_error, timestamp_ms};

/// Where a listing resumes: after `key` (and, within it, after the entry `within`; with
/// none, after every entry of the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After<T> {
    pub key: String,
    pub within: Option<T>,
}

impl<T> After<T> {
    /// From the start, or after `key` whole.
    pub fn key(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            within: None,
        }
    }
}

/// A page, in key order within each list.
#[derive(Debug)]
pub struct Page<R> {
    pub entries: Vec<R>,
    pub prefixes: Vec<String>,
    /// Whether more follow.
    pub truncated: bool,
    /// Whether the last thing listed was a common prefix (else an entry).
    pub ended_on_prefix: bool,
}

/// A key after every key that starts with `prefix` and goes on with a character below
/// U+10FFFF: what a common prefix's skip starts after. (A key going on with U+10FFFF
/// itself comes back and is folded into the prefix all the same.)
fn past(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// The most rows asked for in one batch, and after a common prefix was skipped.
const BATCH: usize = 1000;
const SMALL_BATCH: usize = 32;

/// Where to go on after the row `row_key` rolled up into `common`: past every key under
/// it, and at least past the row itself. (The rows come after where the batch started, so
/// this always moves on, even for a key that goes on with U+10FFFF past the skip.)
fn skip_past<T>(common: &str, row_key: &str) -> After<T> {
    let past_common = past(common);
    After::key(if past_common.as_str() > row_key {
        past_common
    } else {
        row_key.to_owned()
    })
}

/// Lists one page. `fetch(after, limit)` returns up to `limit` rows from `prefix` on,
/// after `after`, in order; `key` and `within` read a row's key and position in its key.
pub async fn page<R, T, F>(
    prefix: &str,
    delimiter: Option<&str>,
    max: usize,
    start: After<T>,
    mut fetch: F,
    key: fn(&R) -> &str,
    within: fn(&R) -> T,
) -> S3Result<Page<R>>
where
    F: FnMut(After<T>, i64) -> BoxFuture<'static, S3Result<Vec<R>>>,
    T: Clone,
{
    let mut page = Page {
        entries: Vec::new(),
        prefixes: Vec::new(),
        truncated: false,
        ended_on_prefix: false,
    };
    if max == 0 {
        return Ok(page);
    }
    // A common prefix at or before where the listing starts was listed on an earlier page
    // (a marker may be a common prefix itself): S3 goes on past it.
    let marker = start.key.clone();
    let mut after = start;
    // After a batch that ended inside a common prefix, the next one starts past it (an
    // index seek) and is small: its first rows may well roll up into the next prefix too,
    // and a large batch would be read for one row.
    let mut ended_skipping = false;
    loop {
        let left = (max - page.entries.len() - page.prefixes.len() + 1).min(BATCH);
        let wanted = if ended_skipping { left.min(SMALL_BATCH) } else { left };
        let rows = fetch(after.clone(), i64::try_from(wanted).unwrap_or(1)).await?;
        let exhausted = rows.len() < wanted;
        // The common prefix whose keys the rest of this batch may still hold: passed over
        // here, without another query.
        let mut skipping: Option<String> = None;
        for row in rows {
            let row_key = key(&row);
            if let Some(common) = &skipping {
                if row_key.starts_with(common.as_str()) {
                    after = skip_past(common, row_key);
                    continue;
                }
                skipping = None;
            }
            let Some(rest) = row_key.strip_prefix(prefix) else {
                // Past the prefix: the rows are in key order, so none follow.
                return Ok(page);
            };
            let rolled_up = delimiter
                .filter(|d| !d.is_empty())
                .and_then(|d| rest.find(d).map(|at| &row_key[..prefix.len() + at + d.len()]));
            if let Some(common) = rolled_up {
                // Listed already (on an earlier page, the marker being at or after it, or
                // on this one): skip every key under it.
                let listed = common <= marker.as_str() || page.prefixes.last().is_some_and(|p| p == common);
                if !listed {
                    if page.entries.len() + page.prefixes.len() == max {
                        page.truncated = true;
                        return Ok(page);
                    }
                    page.prefixes.push(common.to_owned());
                    page.ended_on_prefix = true;
                }
                after = skip_past(common, row_key);
                skipping = Some(common.to_owned());
                continue;
            }
            if page.entries.len() + page.prefixes.len() == max {
                page.truncated = true;
                return Ok(page);
            }
            after = After {
                key: row_key.to_owned(),
                within: Some(within(&row)),
            };
            page.entries.push(row);
            page.ended_on_prefix = false;
        }
        // Every row of the batch was looked at: with fewer than asked for, no more follow.
        if exhausted {
            return Ok(page);
        }
        ended_skipping = skipping.is_some();
    }
}

/// The most keys one listing page holds, whatever MaxKeys asks.
const MAX_KEYS_PER_PAGE: i32 = 1000;

/// S3's reading of a listing's MaxKeys: a negative one is refused; the page holds at most
/// [`MAX_KEYS_PER_PAGE`] keys, and the answer's MaxKeys says what was asked (1,000 when
/// nothing was), as S3's does. Returns (asked, page size).
fn max_keys(asked: Option<i32>) -> S3Result<(i32, usize)> {
    let asked = asked.unwrap_or(MAX_KEYS_PER_PAGE);
    if asked < 0 {
        let mut e = errors::with_message(
            S3ErrorCode::InvalidArgument,
            "Argument maxKeys must be an integer between 0 and 2147483647",
        );
        e.set_status_code(http::StatusCode::BAD_REQUEST);
        return Err(e);
    }
    Ok((asked, usize::try_from(asked.min(MAX_KEYS_PER_PAGE)).unwrap_or(0)))
}

pub(crate) fn wants_url_encoding(encoding: Option<&EncodingType>) -> bool {
    encoding.is_some_and(|e| e.as_str() == EncodingType::URL)
}

/// What `encoding-type=url` leaves as it is: RFC 3986's unreserved characters and `/`
/// (S3 writes a space `%20` and a `+` `%2B`).
const LISTING_ENCODED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// A listing value URL-encoded as S3 does for `encoding-type=url`.
pub(crate) fn url_encoded(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, LISTING_ENCODED).to_string()
}

/// An empty `delimiter=` is no delimiter, as S3 reads it (rclone and s3fs send one with
/// every listing).
fn delimiter_of(delimiter: Option<&String>) -> Option<String> {
    delimiter.filter(|d| !d.is_empty()).cloned()
}

/// Where the next page starts after this one: after its last key, or after every key
/// under its last common prefix.
fn resume_after<R>(page: &Page<R>, key: fn(&R) -> &str) -> Option<String> {
    if !page.truncated {
        return None;
    }
    match (page.ended_on_prefix, page.entries.last()) {
        (false, Some(last)) => Some(key(last).to_owned()),
        _ => page.prefixes.last().map(|p| past(p)),
    }
}

/// The last key or common prefix a truncated page listed (ListObjects' NextMarker).
fn last_listed<R>(page: &Page<R>, key: fn(&R) -> &str) -> Option<String> {
    if !page.truncated {
        return None;
    }
    match (page.ended_on_prefix, page.entries.last()) {
        (false, Some(last)) => Some(key(last).to_owned()),
        _ => page.prefixes.last().cloned(),
    }
}

fn continuation_token(after: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(after)
}

fn read_continuation_token(token: &str) -> S3Result<String> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|after| !after.contains('\0'))
        .ok_or_else(|| {
            let mut e = errors::with_message(
                S3ErrorCode::InvalidArgument,
                "The continuation token provided is incorrect",
            );
            e.set_status_code(http::StatusCode::BAD_REQUEST);
            e
        })
}

fn object_key(row: &ObjectRow) -> &str {
    &row.key
}

fn listed_object(row: &ObjectRow, with_owner: bool, url: bool) -> Object {
    Object {
        key: Some(if url { url_encoded(&row.key) } else { row.key.clone() }),
        last_modified: Some(timestamp_ms(row.modified_ms)),
        e_tag: Some(etag(row)),
        size: Some(row.size),
        storage_class: Some(ObjectStorageClass::from_static(ObjectStorageClass::STANDARD)),
        owner: with_owner.then(|| owner(&row.owner_account)),
        ..Object::default()
    }
}

fn common_prefixes(prefixes: Vec<String>, url: bool) -> Vec<CommonPrefix> {
    prefixes
        .into_iter()
        .map(|p| CommonPrefix {
            prefix: Some(if url { url_encoded(&p) } else { p }),
        })
        .collect()
}

impl Store {
    /// A page of the current objects (no delete markers) of `bucket`.
    async fn latest_page(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        max: usize,
        after: &str,
    ) -> S3Result<Page<ObjectRow>> {
        let db = self.db().clone();
        let (bucket, from) = (bucket.to_owned(), prefix.to_owned());
        page(
            prefix,
            delimiter,
            max,
            After::key(after),
            move |after: After<()>, limit| {
                let (db, bucket, from) = (db.clone(), bucket.clone(), from.clone());
                Box::pin(async move {
                    db.s3_list_objects(&bucket, &from, &after.key, limit)
                        .await
                        .map_err(store_error)
                })
            },
            object_key,
            |_| (),
        )
        .await
    }

    pub(crate) async fn list_v1(&self, req: S3Request<ListObjectsInput>) -> S3Result<S3Response<ListObjectsOutput>> {
        let input = req.input;
        self.existing(&input.bucket).await?;
        let (asked, max) = max_keys(input.max_keys)?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let delimiter = delimiter_of(input.delimiter.as_ref());
        let marker = input.marker.clone().unwrap_or_default();
        let page = self
            .latest_page(&input.bucket, &prefix, delimiter.as_deref(), max, &marker)
            .await?;
        let url = wants_url_encoding(input.encoding_type.as_ref());
        let encode = |s: String| if url { url_encoded(&s) } else { s };
        // S3 gives NextMarker only with a delimiter; without one clients resume after the
        // last key.
        let next_marker = delimiter.as_ref().and(last_listed(&page, object_key)).map(encode);
        Ok(S3Response::new(ListObjectsOutput {
            name: Some(input.bucket),
            contents: Some(page.entries.iter().map(|r| listed_object(r, true, url)).collect()),
            common_prefixes: Some(common_prefixes(page.prefixes, url)),
            is_truncated: Some(page.truncated),
            max_keys: Some(asked),
            next_marker,
            marker: input.marker.map(encode),
            prefix: input.prefix.map(encode),
            delimiter: delimiter.map(encode),
            encoding_type: input.encoding_type,
            ..ListObjectsOutput::default()
        }))
    }

    pub(crate) async fn list_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        self.existing(&input.bucket).await?;
        let (asked, max) = max_keys(input.max_keys)?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let delimiter = delimiter_of(input.delimiter.as_ref());
        let after = match &input.continuation_token {
            Some(token) => read_continuation_token(token)?,
            None => input.start_after.clone().unwrap_or_default(),
        };
        let page = self
            .latest_page(&input.bucket, &prefix, delimiter.as_deref(), max, &after)
            .await?;
        let url = wants_url_encoding(input.encoding_type.as_ref());
        let encode = |s: String| if url { url_encoded(&s) } else { s };
        let key_count = page.entries.len() + page.prefixes.len();
        let with_owner = input.fetch_owner.unwrap_or(false);
        Ok(S3Response::new(ListObjectsV2Output {
            name: Some(input.bucket),
            contents: Some(page.entries.iter().map(|r| listed_object(r, with_owner, url)).collect()),
            next_continuation_token: resume_after(&page, object_key).map(|a| continuation_token(&a)),
            common_prefixes: Some(common_prefixes(page.prefixes, url)),
            is_truncated: Some(page.truncated),
            key_count: Some(i32::try_from(key_count).unwrap_or(i32::MAX)),
            max_keys: Some(asked),
            continuation_token: input.continuation_token,
            start_after: input.start_after.map(encode),
            prefix: input.prefix.map(encode),
            delimiter: delimiter.map(encode),
            encoding_type: input.encoding_type,
            ..ListObjectsV2Output::default()
        }))
    }

    /// Every version and delete marker, newest first within a key; paged by key marker
    /// and version id marker as S3 pages them.
    pub(crate) async fn list_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        let input = req.input;
        self.existing(&input.bucket).await?;
        if input.version_id_marker.is_some() && input.key_marker.is_none() {
            return Err(errors::with_message(
                S3ErrorCode::InvalidArgument,
                "A version-id marker cannot be specified without a key marker.",
            ));
        }
        let (asked, max) = max_keys(input.max_keys)?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let delimiter = delimiter_of(input.delimiter.as_ref());
        let key_marker = input.key_marker.clone().unwrap_or_default();
        let within = match (&input.key_marker, &input.version_id_marker) {
            (Some(key), Some(version)) => {
                let marked = self
                    .db()
                    .s3_object(&input.bucket, key, Some(version))
                    .await
                    .map_err(store_error)?;
                let Some(marked) = marked else {
                    let mut e = errors::with_message(S3ErrorCode::InvalidArgument, "Invalid version id specified");
                    e.set_status_code(http::StatusCode::BAD_REQUEST);
                    return Err(e);
                };
                Some(marked.seq)
            }
            _ => None,
        };
        let db = self.db().clone();
        let (bucket, from) = (input.bucket.clone(), prefix.clone());
        let page = page(
            &prefix,
            delimiter.as_deref(),
            max,
            After {
                key: key_marker,
                within,
            },
            move |after: After<i64>, limit| {
                let (db, bucket, from) = (db.clone(), bucket.clone(), from.clone());
                Box::pin(async move {
                    db.s3_list_versions(&bucket, &from, (&after.key, after.within), limit)
                        .await
                        .map_err(store_error)
                })
            },
            object_key,
            |r: &ObjectRow| r.seq,
        )
        .await?;
        let url = wants_url_encoding(input.encoding_type.as_ref());
        let encode = |s: String| if url { url_encoded(&s) } else { s };
        let (next_key_marker, next_version_id_marker) =
            match (page.truncated, page.ended_on_prefix, page.entries.last()) {
                (true, false, Some(last)) => (Some(last.key.clone()), Some(last.version_id.clone())),
                (true, _, _) => (page.prefixes.last().cloned(), None),
                _ => (None, None),
            };
        let mut versions = Vec::new();
        let mut markers = Vec::new();
        for row in &page.entries {
            let key = Some(encode(row.key.clone()));
            if row.delete_marker {
                markers.push(DeleteMarkerEntry {
                    key,
                    version_id: Some(row.version_id.clone()),
                    is_latest: Some(row.is_latest),
                    last_modified: Some(timestamp_ms(row.modified_ms)),
                    owner: Some(owner(&row.owner_account)),
                });
            } else {
                versions.push(ObjectVersion {
                    key,
                    version_id: Some(row.version_id.clone()),
                    is_latest: Some(row.is_latest),
                    last_modified: Some(timestamp_ms(row.modified_ms)),
                    e_tag: Some(etag(row)),
                    size: Some(row.size),
                    storage_class: Some(ObjectVersionStorageClass::from_static(
                        ObjectVersionStorageClass::STANDARD,
                    )),
                    owner: Some(owner(&row.owner_account)),
                    ..ObjectVersion::default()
                });
            }
        }
        Ok(S3Response::new(ListObjectVersionsOutput {
            name: Some(input.bucket),
            versions: Some(versions),
            delete_markers: (!markers.is_empty()).then_some(markers),
            common_prefixes: Some(common_prefixes(page.prefixes, url)),
            is_truncated: Some(page.truncated),
            max_keys: Some(asked),
            next_key_marker: next_key_marker.map(encode),
            next_version_id_marker,
            key_marker: input.key_marker.map(encode),
            version_id_marker: input.version_id_marker,
            prefix: input.prefix.map(encode),
            delimiter: delimiter.map(encode),
            encoding_type: input.encoding_type,
            ..ListObjectVersionsOutput::default()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A listing over `keys` (sorted), as the database would answer it.
    async fn list(keys: &[&str], prefix: &str, delimiter: Option<&str>, max: usize, after: &str) -> Page<String> {
        let mut sorted: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        sorted.sort();
        let from = prefix.to_owned();
        page(
            prefix,
            delimiter,
            max,
            After::key(after),
            move |after: After<()>, limit| {
                let rows: Vec<String> = sorted
                    .iter()
                    .filter(|k| k.as_str() >= from.as_str() && k.as_str() > after.key.as_str())
                    .take(usize::try_from(limit).unwrap())
                    .cloned()
                    .collect();
                Box::pin(async move { Ok(rows) })
            },
            |k: &String| k.as_str(),
            |_| (),
        )
        .await
        .unwrap()
    }

    const KEYS: &[&str] = &["a", "b/1", "b/2", "b/3/x", "c", "d/1", "e"];

    #[tokio::test]
    async fn keys_prefixes_and_pages() {
        let all = list(KEYS, "", None, 1000, "").await;
        assert_eq!(all.entries, KEYS);
        assert!(!all.truncated);

        let rolled = list(KEYS, "", Some("/"), 1000, "").await;
        assert_eq!(rolled.entries, ["a", "c", "e"]);
        assert_eq!(rolled.prefixes, ["b/", "d/"]);

        let under_b = list(KEYS, "b/", Some("/"), 1000, "").await;
        assert_eq!(under_b.entries, ["b/1", "b/2"]);
        assert_eq!(under_b.prefixes, ["b/3/"]);

        let first = list(KEYS, "", Some("/"), 2, "").await;
        assert_eq!(
            (first.entries.as_slice(), first.prefixes.as_slice()),
            (&["a".to_owned()][..], &["b/".to_owned()][..])
        );
        assert!(first.truncated && first.ended_on_prefix);
        let next = list(KEYS, "", Some("/"), 2, &past("b/")).await;
        assert_eq!(next.entries, ["c"]);
        assert_eq!(next.prefixes, ["d/"]);
        assert!(next.truncated);
        // A marker that is a common prefix (ListObjects' NextMarker) is gone past, as is a
        // common prefix before the marker.
        let after_b = list(KEYS, "", Some("/"), 2, "b/").await;
        assert_eq!(
            (after_b.entries.as_slice(), after_b.prefixes.as_slice()),
            (&["c".to_owned()][..], &["d/".to_owned()][..])
        );
        let inside_b = list(KEYS, "", Some("/"), 10, "b/1").await;
        assert_eq!(inside_b.entries, ["c", "e"]);
        assert_eq!(inside_b.prefixes, ["d/"]);

        // A page exactly as long as what is left is not truncated.
        let exact = list(KEYS, "b/", None, 3, "").await;
        assert!(!exact.truncated);
        assert!(list(KEYS, "", None, 0, "").await.entries.is_empty());
        // A multi-character delimiter, and one that is not there.
        assert_eq!(
            list(&["x--1", "x--2", "y"], "", Some("--"), 10, "").await.prefixes,
            ["x--"]
        );
        assert_eq!(list(KEYS, "", Some("#"), 10, "").await.entries.len(), KEYS.len());
    }

    /// A key that goes on with U+10FFFF after a common prefix sorts after the skip: a page
    /// starting at the prefix (a marker or a token) still ends.
    #[tokio::test]
    async fn a_key_past_the_skip_is_still_passed() {
        let odd = "a/\u{10FFFF}x";
        let keys = ["a/1", odd, "b"];
        for start in ["", "a/", past("a/").as_str()] {
            let page = list(&keys, "", Some("/"), 10, start).await;
            assert_eq!(page.entries, ["b"], "{start:?}");
        }
        let first = list(&keys, "", Some("/"), 10, "").await;
        assert_eq!(first.prefixes, ["a/"]);
    }

    /// A common prefix costs at most a query or two however its keys are spelled: keys that
    /// go on with U+10FFFF (past where a skip lands) are passed over in the batch that holds
    /// them, not one query each.
    #[tokio::test]
    async fn a_prefix_costs_few_queries_however_its_keys_are_spelled() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let mut keys: Vec<String> = (0..500).map(|i| format!("a/\u{10FFFF}{i:04}")).collect();
        keys.extend((0..500).map(|i| format!("b/{i:04}")));
        keys.push("c".to_owned());
        keys.sort();
        let queries = Arc::new(AtomicUsize::new(0));
        let counted = queries.clone();
        let listed = page(
            "",
            Some("/"),
            1000,
            After::key(""),
            move |after: After<()>, limit| {
                counted.fetch_add(1, Ordering::Relaxed);
                let rows: Vec<String> = keys
                    .iter()
                    .filter(|k| k.as_str() > after.key.as_str())
                    .take(usize::try_from(limit).unwrap())
                    .cloned()
                    .collect();
                Box::pin(async move { Ok(rows) })
            },
            |k: &String| k.as_str(),
            |_| (),
        )
        .await
        .unwrap();
        assert_eq!(listed.prefixes, ["a/", "b/"]);
        assert_eq!(listed.entries, ["c"]);
        assert!(
            queries.load(Ordering::Relaxed) <= 4,
            "{} queries",
            queries.load(Ordering::Relaxed)
        );
    }

    #[test]
    fn url_encoding_is_s3s_own() {
        assert_eq!(url_encoded("quux ab/thud+1 é~_.-"), "quux%20ab/thud%2B1%20%C3%A9~_.-");
    }

    #[tokio::test]
    async fn a_prefix_spanning_many_batches_is_skipped_whole() {
        let many: Vec<String> = (0..2500)
            .map(|i| format!("big/{i:05}"))
            .chain(["zz".to_owned()])
            .collect();
        let keys: Vec<&str> = many.iter().map(String::as_str).collect();
        let rolled = list(&keys, "", Some("/"), 1000, "").await;
        assert_eq!(rolled.prefixes, ["big/"]);
        assert_eq!(rolled.entries, ["zz"]);
        let flat = list(&keys, "", None, 1000, "").await;
        assert_eq!(flat.entries.len(), 1000);
        assert!(flat.truncated);
    }
}
