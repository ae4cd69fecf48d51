//! Which IAM action, on which resource and with which condition keys, each S3 operation
//! needs: the table authorization reads. Pure: no I/O.
//!
//! Every operation s3s 0.14 routes is in [`rule`]; an operation missing from it still
//! gets the generic `s3:<OperationName>` on the request's own resource (see [`plan`]),
//! so nothing is ever let through unchecked.

use http::HeaderMap;
use oxiam_core::authz::Access;
use s3s::S3Error;
use s3s::dto::CopySource;
use s3s::path::S3Path;

use crate::errors;

/// What the action is performed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    /// Every bucket: `arn:aws:s3:::*` (ListBuckets). AWS's own examples grant
    /// s3:ListAllMyBuckets on `arn:aws:s3:::*`, and a policy with `*` matches it too.
    All,
    /// `arn:aws:s3:::BUCKET`.
    Bucket,
    /// `arn:aws:s3:::BUCKET/KEY`.
    Object,
}

/// How an operation is authorized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// `action` on the request's own resource; `versioned` instead when the request names
    /// a `versionId`.
    One {
        /// The IAM action.
        action: &'static str,
        /// The action for a specific object version, if the operation has one.
        versioned: Option<&'static str>,
        /// What the action is performed on.
        on: On,
    },
    /// `s3:GetObject` (or `s3:GetObjectVersion`) on the `x-amz-copy-source` object, and
    /// `s3:PutObject` on the destination object.
    Copy,
    /// `action` (or `versioned`) on every object the request body names: the operation
    /// itself authorizes each one once the body is read (DeleteObjects, PostObject), or on
    /// the object with what its body says (PutObjectTagging).
    PerKey {
        /// The IAM action.
        action: &'static str,
        /// The action for a specific object version.
        versioned: Option<&'static str>,
    },
}

const fn one(action: &'static str, on: On) -> Rule {
    Rule::One {
        action,
        versioned: None,
        on,
    }
}

const fn versioned(action: &'static str, version_action: &'static str) -> Rule {
    Rule::One {
        action,
        versioned: Some(version_action),
        on: On::Object,
    }
}

/// The rule of every S3 operation s3s 0.14 defines; `None` for a name it does not know.
pub fn rule(op: &str) -> Option<Rule> {
    use On::{All, Bucket, Object};
    Some(match op {
        // Buckets.
        "ListBuckets" => one("s3:ListAllMyBuckets", All),
        "ListDirectoryBuckets" => one("s3express:ListAllMyDirectoryBuckets", All),
        "CreateSession" => one("s3express:CreateSession", Bucket),
        "CreateBucket" => one("s3:CreateBucket", Bucket),
        "DeleteBucket" => one("s3:DeleteBucket", Bucket),
        "HeadBucket" => one("s3:ListBucket", Bucket),
        "GetBucketLocation" => one("s3:GetBucketLocation", Bucket),
        "ListObjects" | "ListObjectsV2" => one("s3:ListBucket", Bucket),
        "ListObjectVersions" => one("s3:ListBucketVersions", Bucket),
        "ListMultipartUploads" => one("s3:ListBucketMultipartUploads", Bucket),
        "GetBucketPolicy" => one("s3:GetBucketPolicy", Bucket),
        "PutBucketPolicy" => one("s3:PutBucketPolicy", Bucket),
        "DeleteBucketPolicy" => one("s3:DeleteBucketPolicy", Bucket),
        "GetBucketPolicyStatus" => one("s3:GetBucketPolicyStatus", Bucket),
        "GetBucketAcl" => one("s3:GetBucketAcl", Bucket),
        "PutBucketAcl" => one("s3:PutBucketAcl", Bucket),
        "GetBucketCors" => one("s3:GetBucketCORS", Bucket),
        "PutBucketCors" | "DeleteBucketCors" => one("s3:PutBucketCORS", Bucket),
        "GetBucketEncryption" => one("s3:GetEncryptionConfiguration", Bucket),
        "PutBucketEncryption" | "DeleteBucketEncryption" => one("s3:PutEncryptionConfiguration", Bucket),
        "GetBucketLifecycleConfiguration" => one("s3:GetLifecycleConfiguration", Bucket),
        "PutBucketLifecycleConfiguration" | "DeleteBucketLifecycle" => one("s3:PutLifecycleConfiguration", Bucket),
        "GetBucketReplication" => one("s3:GetReplicationConfiguration", Bucket),
        "PutBucketReplication" | "DeleteBucketReplication" => one("s3:PutReplicationConfiguration", Bucket),
        "GetBucketTagging" => one("s3:GetBucketTagging", Bucket),
        "PutBucketTagging" | "DeleteBucketTagging" => one("s3:PutBucketTagging", Bucket),
        "GetBucketWebsite" => one("s3:GetBucketWebsite", Bucket),
        "PutBucketWebsite" => one("s3:PutBucketWebsite", Bucket),
        "DeleteBucketWebsite" => one("s3:DeleteBucketWebsite", Bucket),
        "GetBucketOwnershipControls" => one("s3:GetBucketOwnershipControls", Bucket),
        "PutBucketOwnershipControls" | "DeleteBucketOwnershipControls" => one("s3:PutBucketOwnershipControls", Bucket),
        "GetBucketAnalyticsConfiguration" | "ListBucketAnalyticsConfigurations" => {
            one("s3:GetAnalyticsConfiguration", Bucket)
        }
        "PutBucketAnalyticsConfiguration" | "DeleteBucketAnalyticsConfiguration" => {
            one("s3:PutAnalyticsConfiguration", Bucket)
        }
        "GetBucketIntelligentTieringConfiguration" | "ListBucketIntelligentTieringConfigurations" => {
            one("s3:GetIntelligentTieringConfiguration", Bucket)
        }
        "PutBucketIntelligentTieringConfiguration" | "DeleteBucketIntelligentTieringConfiguration" => {
            one("s3:PutIntelligentTieringConfiguration", Bucket)
        }
        "GetBucketInventoryConfiguration" | "ListBucketInventoryConfigurations" => {
            one("s3:GetInventoryConfiguration", Bucket)
        }
        "PutBucketInventoryConfiguration" | "DeleteBucketInventoryConfiguration" => {
            one("s3:PutInventoryConfiguration", Bucket)
        }
        "GetBucketMetricsConfiguration" | "ListBucketMetricsConfigurations" => {
            one("s3:GetMetricsConfiguration", Bucket)
        }
        "PutBucketMetricsConfiguration" | "DeleteBucketMetricsConfiguration" => {
            one("s3:PutMetricsConfiguration", Bucket)
        }
        "CreateBucketMetadataTableConfiguration" => one("s3:CreateBucketMetadataTableConfiguration", Bucket),
        "GetBucketMetadataTableConfiguration" => one("s3:GetBucketMetadataTableConfiguration", Bucket),
        "DeleteBucketMetadataTableConfiguration" => one("s3:DeleteBucketMetadataTableConfiguration", Bucket),
        "GetBucketAccelerateConfiguration" => one("s3:GetAccelerateConfiguration", Bucket),
        "PutBucketAccelerateConfiguration" => one("s3:PutAccelerateConfiguration", Bucket),
        "GetBucketLogging" => one("s3:GetBucketLogging", Bucket),
        "PutBucketLogging" => one("s3:PutBucketLogging", Bucket),
        "GetBucketNotificationConfiguration" => one("s3:GetBucketNotification", Bucket),
        "PutBucketNotificationConfiguration" => one("s3:PutBucketNotification", Bucket),
        "GetBucketRequestPayment" => one("s3:GetBucketRequestPayment", Bucket),
        "PutBucketRequestPayment" => one("s3:PutBucketRequestPayment", Bucket),
        "GetBucketVersioning" => one("s3:GetBucketVersioning", Bucket),
        "PutBucketVersioning" => one("s3:PutBucketVersioning", Bucket),
        "GetObjectLockConfiguration" => one("s3:GetBucketObjectLockConfiguration", Bucket),
        "PutObjectLockConfiguration" => one("s3:PutBucketObjectLockConfiguration", Bucket),
        "GetPublicAccessBlock" => one("s3:GetBucketPublicAccessBlock", Bucket),
        "PutPublicAccessBlock" | "DeletePublicAccessBlock" => one("s3:PutBucketPublicAccessBlock", Bucket),
        // Objects.
        "GetObject" | "HeadObject" => versioned("s3:GetObject", "s3:GetObjectVersion"),
        "PutObject" | "CreateMultipartUpload" | "UploadPart" | "CompleteMultipartUpload" => one("s3:PutObject", Object),
        "PostObject" => Rule::PerKey {
            action: "s3:PutObject",
            versioned: None,
        },
        "CopyObject" | "UploadPartCopy" => Rule::Copy,
        "DeleteObject" => versioned("s3:DeleteObject", "s3:DeleteObjectVersion"),
        "DeleteObjects" => Rule::PerKey {
            action: "s3:DeleteObject",
            versioned: Some("s3:DeleteObjectVersion"),
        },
        "AbortMultipartUpload" => one("s3:AbortMultipartUpload", Object),
        "ListParts" => one("s3:ListMultipartUploadParts", Object),
        "GetObjectAcl" => versioned("s3:GetObjectAcl", "s3:GetObjectVersionAcl"),
        "PutObjectAcl" => versioned("s3:PutObjectAcl", "s3:PutObjectVersionAcl"),
        "GetObjectTagging" => versioned("s3:GetObjectTagging", "s3:GetObjectVersionTagging"),
        // Its condition keys are in its body: decided there (Gate::authorize_body_tags).
        "PutObjectTagging" => Rule::PerKey {
            action: "s3:PutObjectTagging",
            versioned: Some("s3:PutObjectVersionTagging"),
        },
        "DeleteObjectTagging" => versioned("s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"),
        "GetObjectAttributes" => versioned("s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"),
        "GetObjectLegalHold" => one("s3:GetObjectLegalHold", Object),
        "PutObjectLegalHold" => one("s3:PutObjectLegalHold", Object),
        "GetObjectRetention" => one("s3:GetObjectRetention", Object),
        "PutObjectRetention" => one("s3:PutObjectRetention", Object),
        "GetObjectTorrent" => versioned("s3:GetObjectTorrent", "s3:GetObjectVersionTorrent"),
        "RestoreObject" => one("s3:RestoreObject", Object),
        "SelectObjectContent" => one("s3:GetObject", Object),
        "WriteGetObjectResponse" => one("s3-object-lambda:WriteGetObjectResponse", All),
        _ => return None,
    })
}

/// What an operation the table does not know acts on: the request's own resource.
fn generic_target(path: &S3Path) -> On {
    match path {
        S3Path::Root => On::All,
        S3Path::Bucket { .. } => On::Bucket,
        S3Path::Object { .. } => On::Object,
    }
}

/// `arn:aws:s3:::BUCKET`.
pub fn bucket_arn(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

/// `arn:aws:s3:::BUCKET/KEY`.
pub fn object_arn(bucket: &str, key: &str) -> String {
    format!("arn:aws:s3:::{bucket}/{key}")
}

/// One authorization question: an access, and the bucket whose policy and owner apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The bucket whose owner and policy apply (`None` for `*`, and for CreateBucket).
    pub bucket: Option<String>,
    /// The action, resource and condition keys.
    pub access: Access,
}

/// What one request must be allowed to do before s3s reads its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Checked in order; the first denial answers.
    pub checks: Vec<Check>,
    /// For [`Rule::PerKey`]: the operation checks each key it reads.
    pub per_key: Option<(&'static str, Option<&'static str>)>,
}

/// The request facts authorization needs, taken from the HTTP request.
pub struct RequestView<'a> {
    /// The operation's name as s3s resolved it.
    pub op: &'a str,
    /// The bucket and key from the path.
    pub path: &'a S3Path,
    /// The raw query string.
    pub query: Option<&'a str>,
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// Unix seconds now, by the server's clock (`s3:signatureAge`).
    pub now: i64,
    /// Signed with SigV2 (verified before s3s saw it; `--allow-sigv2`).
    pub sigv2: bool,
}

impl RequestView<'_> {
    fn query_values(&self, name: &str) -> Vec<String> {
        let Some(query) = self.query else { return Vec::new() };
        form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .collect()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn version_id(&self) -> Option<String> {
        self.query_values("versionId").into_iter().next()
    }

    fn presigned(&self) -> bool {
        !self
            .query_values(if self.sigv2 { "Signature" } else { "X-Amz-Signature" })
            .is_empty()
    }
}

/// The keys of an action the catalogue does not know (`s3:<OperationName>` of an operation
/// missing from [`rule`], `s3express:…`): those every S3 request carries.
const EVERY_REQUEST_KEYS: &[&str] = &[
    "s3:authType",
    "s3:signatureAge",
    "s3:signatureversion",
    "s3:x-amz-content-sha256",
];

/// The condition keys one `action` of the request carries. For every key AWS's Service
/// Authorization Reference lists for the action, the value the request gives it, bound
/// once per kind of key (how it was signed, a query parameter, a header, the tags it
/// sets); a key the action does not list is never carried, as in S3. Keys no request can
/// carry here are listed in docs/differences.md.
pub fn condition_keys(view: &RequestView<'_>, action: &str, version: Option<&str>) -> Vec<(String, Vec<String>)> {
    let listed = oxiam_catalogue::action_named(action).map_or(EVERY_REQUEST_KEYS, |a| a.all_condition_keys());
    let mut keys = Vec::new();
    for &pattern in listed {
        bind(view, pattern, version, &mut keys);
    }
    keys
}

/// Adds the values the request gives the catalogue key `pattern`, if it gives any.
fn bind(view: &RequestView<'_>, pattern: &str, version: Option<&str>, keys: &mut Vec<(String, Vec<String>)>) {
    let Some(name) = pattern.strip_prefix("s3:") else {
        // Global keys are the core's (aws:RequestTag on CreateBucket needs its body, which
        // is not read before authorization).
        return;
    };
    let one = |value: &str| vec![value.to_owned()];
    // `pattern` comes from the catalogue, in the reference's spelling: matched as written
    // (the table test in tests/s3_condition_keys.rs proves every key is bound).
    let values = match name {
        // How the request was signed (SigV2 only where `--allow-sigv2` lets it in).
        "authType" => Some(one(match (view.op, view.presigned()) {
            ("PostObject", _) => "POST",
            (_, true) => "REST-QUERY-STRING",
            (_, false) => "REST-HEADER",
        })),
        "signatureversion" => Some(one(if view.sigv2 { "AWS" } else { "AWS4-HMAC-SHA256" })),
        // Only presigned requests carry their signature's age (the S3 API reference, "Amazon
        // S3 Signature Version 4 Authentication Specific Policy Keys"), from the signed
        // query's X-Amz-Date, never from a header the holder of the URL could add.
        "signatureAge" if view.presigned() => {
            signed_at(view).map(|at| vec![(view.now.saturating_sub(at).max(0) * 1000).to_string()])
        }
        // A presigned URL's payload is never signed, whatever header comes with it.
        "x-amz-content-sha256" if view.presigned() => Some(one("UNSIGNED-PAYLOAD")),
        "x-amz-content-sha256" => view.header("x-amz-content-sha256").map(one),
        // Whether the operation creates an object, rather than starts or adds to one (the
        // S3 User Guide's conditional-write policies exempt the multipart steps with it).
        "ObjectCreationOperation" => match view.op {
            "PutObject" | "CopyObject" | "CompleteMultipartUpload" | "PostObject" => Some(one("true")),
            "CreateMultipartUpload" | "UploadPart" | "UploadPartCopy" => Some(one("false")),
            _ => None,
        },
        // Query parameters of the listings, and the version the request names.
        "prefix" | "delimiter" | "max-keys" => Some(view.query_values(name)).filter(|v| !v.is_empty()),
        "versionid" => version.map(one),
        // The tags a write sets, from `x-amz-tagging` (`k1=v1&k2=v2`).
        "RequestObjectTagKeys" => view.header("x-amz-tagging").map(|t| {
            form_urlencoded::parse(t.as_bytes())
                .map(|(k, _)| k.into_owned())
                .collect()
        }),
        _ if oxiam_catalogue::key_matches("s3:RequestObjectTag/<key>", pattern) => {
            if let Some(tagging) = view.header("x-amz-tagging") {
                for (k, v) in form_urlencoded::parse(tagging.as_bytes()) {
                    keys.push((format!("s3:RequestObjectTag/{k}"), vec![v.into_owned()]));
                }
            }
            None
        }
        // The copy source as `bucket/key[?versionId=…]`, however the client wrote it (with
        // or without the leading '/', percent-encoded or not), so that a pattern over it
        // cannot be stepped around by spelling.
        // (A value the parser refuses is kept as sent: a copy refuses it before this, and
        // any other operation ignores it, but a policy still sees it.)
        "x-amz-copy-source" => view
            .header("x-amz-copy-source")
            .map(|raw| one(&copy_source(raw).unwrap_or_else(|| raw.to_owned()))),
        // Headers, each under its own name: `s3:x-amz-acl`, `s3:if-match`, …; the object
        // lock keys drop the header's `x-amz-`.
        lower if lower.starts_with("x-amz-") || lower == "if-match" || lower == "if-none-match" => {
            view.header(lower).map(one)
        }
        lower @ ("object-lock-mode" | "object-lock-retain-until-date" | "object-lock-legal-hold") => {
            view.header(&format!("x-amz-{lower}")).map(one)
        }
        _ => None,
    };
    if let Some(values) = values {
        keys.push((pattern.to_owned(), values));
    }
}

/// Unix seconds of a presigned request's signature: `X-Amz-Date` in its query.
fn signed_at(view: &RequestView<'_>) -> Option<i64> {
    let value = view.query_values("X-Amz-Date").into_iter().next()?;
    oxiam_sigv4::parse_amz_date(&value)
}

/// The copy source as the object store reads it, `bucket/key[?versionId=…]`: parsed by
/// the same parser, so that no spelling of the header (a leading `/`, `%2F`, escapes)
/// names one object to the store and another to a policy.
fn copy_source(header: &str) -> Option<String> {
    match CopySource::parse(header).ok()? {
        CopySource::Bucket {
            bucket,
            key,
            version_id: Some(version),
        } => Some(format!("{bucket}/{key}?versionId={version}")),
        CopySource::Bucket { bucket, key, .. } => Some(format!("{bucket}/{key}")),
        CopySource::AccessPoint { .. } | CopySource::Outpost { .. } => None,
    }
}

/// The fields of a browser form upload (PostObject) that S3 exposes as condition keys, as
/// the headers they stand for in a PUT: the object store reads them from the form, so the
/// policy must too (the request's own headers say nothing of the upload).
pub fn post_form_headers(input: &s3s::dto::PostObjectInput) -> HeaderMap {
    let mut fields: Vec<(&str, String)> = Vec::new();
    let mut field = |name: &'static str, value: Option<String>| {
        if let Some(value) = value {
            fields.push((name, value));
        }
    };
    field("x-amz-acl", input.acl.as_ref().map(|v| v.as_str().to_owned()));
    field("x-amz-grant-full-control", input.grant_full_control.clone());
    field("x-amz-grant-read", input.grant_read.clone());
    field("x-amz-grant-read-acp", input.grant_read_acp.clone());
    field("x-amz-grant-write-acp", input.grant_write_acp.clone());
    field(
        "x-amz-server-side-encryption",
        input.server_side_encryption.as_ref().map(|v| v.as_str().to_owned()),
    );
    field(
        "x-amz-server-side-encryption-aws-kms-key-id",
        input.ssekms_key_id.clone(),
    );
    field(
        "x-amz-server-side-encryption-customer-algorithm",
        input.sse_customer_algorithm.clone(),
    );
    field(
        "x-amz-storage-class",
        input.storage_class.as_ref().map(|v| v.as_str().to_owned()),
    );
    field(
        "x-amz-website-redirect-location",
        input.website_redirect_location.clone(),
    );
    field("x-amz-tagging", input.tagging.clone());
    field(
        "x-amz-object-lock-mode",
        input.object_lock_mode.as_ref().map(|v| v.as_str().to_owned()),
    );
    field(
        "x-amz-object-lock-legal-hold",
        input
            .object_lock_legal_hold_status
            .as_ref()
            .map(|v| v.as_str().to_owned()),
    );
    let etag = |c: &s3s::dto::ETagCondition| c.to_http_header().ok().and_then(|v| v.to_str().ok().map(str::to_owned));
    field("if-match", input.if_match.as_ref().and_then(etag));
    field("if-none-match", input.if_none_match.as_ref().and_then(etag));
    let mut headers = HeaderMap::new();
    for (name, value) in fields {
        if let Ok(value) = http::HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    headers
}

/// Refuses `x-amz-tagging` that names a key twice, regardless of case.
fn check_tagging(view: &RequestView<'_>) -> Result<(), S3Error> {
    check_tagging_value(view.header("x-amz-tagging"))
}

/// Refuses tags (`k1=v1&k2=v2`) that name a key twice, regardless of case.
pub fn check_tagging_value(tagging: Option<&str>) -> Result<(), S3Error> {
    let Some(tagging) = tagging else {
        return Ok(());
    };
    let mut seen: Vec<String> = Vec::new();
    for (key, _) in form_urlencoded::parse(tagging.as_bytes()) {
        let key = key.to_lowercase();
        if seen.contains(&key) {
            return Err(errors::duplicate_tag_keys_in_header());
        }
        seen.push(key);
    }
    Ok(())
}

fn resource(on: On, path: &S3Path) -> (Option<String>, String) {
    match (on, path) {
        (On::All, _) | (_, S3Path::Root) => (None, "arn:aws:s3:::*".to_owned()),
        (On::Object, S3Path::Object { bucket, key }) => (Some(bucket.to_string()), object_arn(bucket, key)),
        (_, S3Path::Bucket { bucket } | S3Path::Object { bucket, .. }) => {
            (Some(bucket.to_string()), bucket_arn(bucket))
        }
    }
}

/// The checks one request needs. Fails on an object key oxiam cannot store safely and on
/// a malformed copy source.
pub fn plan(view: &RequestView<'_>) -> Result<Plan, S3Error> {
    if let S3Path::Object { key, .. } = view.path {
        check_key(key)?;
    }
    check_tagging(view)?;
    let Some(rule) = rule(view.op) else {
        // Deny by default: an operation missing from the table still needs
        // `s3:<OperationName>` on its own resource.
        let (bucket, arn) = resource(generic_target(view.path), view.path);
        let mut access = Access::new(format!("s3:{}", view.op), arn);
        access.keys = condition_keys(view, &access.action, view.version_id().as_deref());
        return Ok(Plan {
            checks: vec![Check { bucket, access }],
            per_key: None,
        });
    };
    match rule {
        Rule::One { action, versioned, on } => {
            let version = view.version_id();
            let action = match (&version, versioned) {
                (Some(_), Some(versioned)) => versioned,
                _ => action,
            };
            let (mut bucket, arn) = resource(on, view.path);
            if view.op == "CreateBucket" {
                // The bucket does not exist for the caller yet: an existing bucket's owner
                // and policy do not govern the request (it gets BucketAlreadyExists).
                bucket = None;
            }
            let mut access = Access::new(action, arn);
            access.keys = condition_keys(view, action, version.as_deref());
            Ok(Plan {
                checks: vec![Check { bucket, access }],
                per_key: None,
            })
        }
        Rule::PerKey { action, versioned } => Ok(Plan {
            checks: Vec::new(),
            per_key: Some((action, versioned)),
        }),
        Rule::Copy => {
            let header = view.header("x-amz-copy-source").ok_or_else(|| {
                errors::with_message(
                    s3s::S3ErrorCode::InvalidArgument,
                    "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                )
            })?;
            let source = CopySource::parse(header).map_err(|_| {
                errors::with_message(
                    s3s::S3ErrorCode::InvalidArgument,
                    "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                )
            })?;
            let CopySource::Bucket {
                bucket: src_bucket,
                key: src_key,
                version_id,
            } = source
            else {
                return Err(errors::with_message(
                    s3s::S3ErrorCode::NotImplemented,
                    "Copying from an access point or an outpost is not supported",
                ));
            };
            check_key(&src_key)?;
            let get_action = if version_id.is_some() {
                "s3:GetObjectVersion"
            } else {
                "s3:GetObject"
            };
            let mut get = Access::new(get_action, object_arn(&src_bucket, &src_key));
            get.keys = condition_keys(view, get_action, version_id.as_deref());
            let (bucket, arn) = resource(On::Object, view.path);
            let mut put = Access::new("s3:PutObject", arn);
            put.keys = condition_keys(view, "s3:PutObject", None);
            Ok(Plan {
                checks: vec![
                    Check {
                        bucket: Some(src_bucket.to_string()),
                        access: get,
                    },
                    Check { bucket, access: put },
                ],
                per_key: None,
            })
        }
    }
}

/// Object keys S3 would not take: longer than 1,024 bytes (KeyTooLongError). Any other
/// key is stored as it is (blobs are named by id, never by key), `../x` and `a//b` included.
pub fn check_key(key: &str) -> Result<(), S3Error> {
    crate::objects::check_key_length(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation s3s 0.14.1 routes (`fn name` in its `ops/generated.rs`).
    pub const S3S_OPERATIONS: &[&str] = &[
        "AbortMultipartUpload",
        "CompleteMultipartUpload",
        "CopyObject",
        "CreateBucket",
        "CreateBucketMetadataTableConfiguration",
        "CreateMultipartUpload",
        "CreateSession",
        "DeleteBucket",
        "DeleteBucketAnalyticsConfiguration",
        "DeleteBucketCors",
        "DeleteBucketEncryption",
        "DeleteBucketIntelligentTieringConfiguration",
        "DeleteBucketInventoryConfiguration",
        "DeleteBucketLifecycle",
        "DeleteBucketMetadataTableConfiguration",
        "DeleteBucketMetricsConfiguration",
        "DeleteBucketOwnershipControls",
        "DeleteBucketPolicy",
        "DeleteBucketReplication",
        "DeleteBucketTagging",
        "DeleteBucketWebsite",
        "DeleteObject",
        "DeleteObjectTagging",
        "DeleteObjects",
        "DeletePublicAccessBlock",
        "GetBucketAccelerateConfiguration",
        "GetBucketAcl",
        "GetBucketAnalyticsConfiguration",
        "GetBucketCors",
        "GetBucketEncryption",
        "GetBucketIntelligentTieringConfiguration",
        "GetBucketInventoryConfiguration",
        "GetBucketLifecycleConfiguration",
        "GetBucketLocation",
        "GetBucketLogging",
        "GetBucketMetadataTableConfiguration",
        "GetBucketMetricsConfiguration",
        "GetBucketNotificationConfiguration",
        "GetBucketOwnershipControls",
        "GetBucketPolicy",
        "GetBucketPolicyStatus",
        "GetBucketReplication",
        "GetBucketRequestPayment",
        "GetBucketTagging",
        "GetBucketVersioning",
        "GetBucketWebsite",
        "GetObject",
        "GetObjectAcl",
        "GetObjectAttributes",
        "GetObjectLegalHold",
        "GetObjectLockConfiguration",
        "GetObjectRetention",
        "GetObjectTagging",
        "GetObjectTorrent",
        "GetPublicAccessBlock",
        "HeadBucket",
        "HeadObject",
        "ListBucketAnalyticsConfigurations",
        "ListBucketIntelligentTieringConfigurations",
        "ListBucketInventoryConfigurations",
        "ListBucketMetricsConfigurations",
        "ListBuckets",
        "ListDirectoryBuckets",
        "ListMultipartUploads",
        "ListObjectVersions",
        "ListObjects",
        "ListObjectsV2",
        "ListParts",
        "PostObject",
        "PutBucketAccelerateConfiguration",
        "PutBucketAcl",
        "PutBucketAnalyticsConfiguration",
        "PutBucketCors",
        "PutBucketEncryption",
        "PutBucketIntelligentTieringConfiguration",
        "PutBucketInventoryConfiguration",
        "PutBucketLifecycleConfiguration",
        "PutBucketLogging",
        "PutBucketMetricsConfiguration",
        "PutBucketNotificationConfiguration",
        "PutBucketOwnershipControls",
        "PutBucketPolicy",
        "PutBucketReplication",
        "PutBucketRequestPayment",
        "PutBucketTagging",
        "PutBucketVersioning",
        "PutBucketWebsite",
        "PutObject",
        "PutObjectAcl",
        "PutObjectLegalHold",
        "PutObjectLockConfiguration",
        "PutObjectRetention",
        "PutObjectTagging",
        "PutPublicAccessBlock",
        "RestoreObject",
        "SelectObjectContent",
        "UploadPart",
        "UploadPartCopy",
        "WriteGetObjectResponse",
    ];

    #[test]
    fn every_s3s_operation_has_a_rule() {
        assert_eq!(S3S_OPERATIONS.len(), 99);
        let missing: Vec<_> = S3S_OPERATIONS.iter().filter(|op| rule(op).is_none()).collect();
        assert!(missing.is_empty(), "operations without an IAM action: {missing:?}");
        for op in S3S_OPERATIONS {
            match rule(op).unwrap() {
                Rule::One { action, versioned, .. } => {
                    assert!(action.contains(':') && !action.ends_with(':'), "{op}: {action}");
                    if let Some(v) = versioned {
                        assert!(v.starts_with("s3:"), "{op}: {v}");
                    }
                }
                Rule::Copy | Rule::PerKey { .. } => {}
            }
        }
    }

    /// If the s3s 0.14.1 source is in the local cargo registry, its operation list is the
    /// one above (the pin in Cargo.toml keeps them equal; this catches a silent bump).
    #[test]
    fn operation_list_matches_the_s3s_source_when_available() {
        let home = std::env::var("CARGO_HOME")
            .map(std::path::PathBuf::from)
            .or_else(|_| std::env::var("HOME").map(|h| std::path::Path::new(&h).join(".cargo")));
        let Ok(home) = home else { return };
        let Ok(registries) = std::fs::read_dir(home.join("registry/src")) else {
            return;
        };
        for registry in registries.flatten() {
            let file = registry.path().join("s3s-0.14.1/src/ops/generated.rs");
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let mut names: Vec<String> = Vec::new();
            let mut lines = text.lines();
            while let Some(line) = lines.next() {
                if line.trim() == "fn name(&self) -> &'static str {"
                    && let Some(next) = lines.next()
                {
                    names.push(next.trim().trim_matches('"').to_owned());
                }
            }
            let mut expected: Vec<String> = S3S_OPERATIONS.iter().map(|s| (*s).to_owned()).collect();
            names.sort();
            expected.sort();
            assert_eq!(names, expected, "s3s's operations changed: update the table");
            return;
        }
    }

    #[test]
    fn unknown_operations_get_the_generic_action() {
        let p = plan_of("FrobnicateBucket", &S3Path::bucket("b"), None, &[]);
        assert_eq!(p.checks[0].access.action, "s3:FrobnicateBucket");
        assert_eq!(p.checks[0].access.resource, "arn:aws:s3:::b");
        let p = plan_of("FrobnicateObject", &S3Path::object("b", "k"), None, &[]);
        assert_eq!(p.checks[0].access.resource, "arn:aws:s3:::b/k");
        let p = plan_of("Frobnicate", &S3Path::Root, None, &[]);
        assert_eq!(p.checks[0].access.resource, "arn:aws:s3:::*");
    }

    /// 2015-08-30T12:36:00Z, the time the tests' requests are checked at.
    const NOW: i64 = 1_440_938_160;

    fn plan_of(op: &str, path: &S3Path, query: Option<&str>, headers: &[(&str, &str)]) -> Plan {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        plan(&RequestView {
            op,
            path,
            query,
            headers: &map,
            now: NOW,
            sigv2: false,
        })
        .unwrap()
    }

    fn key<'a>(access: &'a Access, name: &str) -> Option<&'a [String]> {
        access.keys.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_slice())
    }

    #[test]
    fn listings_carry_prefix_delimiter_and_max_keys() {
        let p = plan_of(
            "ListObjectsV2",
            &S3Path::bucket("b"),
            Some("list-type=2&prefix=a%2F&delimiter=%2F&max-keys=10"),
            &[("authorization", "AWS4-HMAC-SHA256 Credential=x")],
        );
        let access = &p.checks[0].access;
        assert_eq!(access.action, "s3:ListBucket");
        assert_eq!(access.resource, "arn:aws:s3:::b");
        assert_eq!(p.checks[0].bucket.as_deref(), Some("b"));
        assert_eq!(key(access, "s3:prefix"), Some(&["a/".to_owned()][..]));
        assert_eq!(key(access, "s3:delimiter"), Some(&["/".to_owned()][..]));
        assert_eq!(key(access, "s3:max-keys"), Some(&["10".to_owned()][..]));
        assert_eq!(
            key(access, "s3:signatureversion"),
            Some(&["AWS4-HMAC-SHA256".to_owned()][..])
        );
        assert_eq!(key(access, "s3:authType"), Some(&["REST-HEADER".to_owned()][..]));
    }

    #[test]
    fn objects_and_versions() {
        let p = plan_of("GetObject", &S3Path::object("b", "a/k"), None, &[]);
        assert_eq!(p.checks[0].access.action, "s3:GetObject");
        assert_eq!(p.checks[0].access.resource, "arn:aws:s3:::b/a/k");
        let p = plan_of("HeadObject", &S3Path::object("b", "k"), Some("versionId=v1"), &[]);
        assert_eq!(p.checks[0].access.action, "s3:GetObjectVersion");
        assert_eq!(key(&p.checks[0].access, "s3:versionid"), Some(&["v1".to_owned()][..]));
        let p = plan_of(
            "PutObject",
            &S3Path::object("b", "k"),
            None,
            &[("x-amz-acl", "private")],
        );
        assert_eq!(p.checks[0].access.action, "s3:PutObject");
        assert_eq!(
            key(&p.checks[0].access, "s3:x-amz-acl"),
            Some(&["private".to_owned()][..])
        );
        let p = plan_of("ListBuckets", &S3Path::Root, None, &[]);
        assert_eq!(p.checks[0].access.action, "s3:ListAllMyBuckets");
        assert_eq!(p.checks[0].access.resource, "arn:aws:s3:::*");
        assert_eq!(p.checks[0].bucket, None);
        let p = plan_of("CreateBucket", &S3Path::bucket("b"), None, &[]);
        assert_eq!(p.checks[0].access.action, "s3:CreateBucket");
        assert_eq!(p.checks[0].access.resource, "arn:aws:s3:::b");
        assert_eq!(p.checks[0].bucket, None);
        let p = plan_of("DeleteObjects", &S3Path::bucket("b"), Some("delete"), &[]);
        assert!(p.checks.is_empty());
        assert_eq!(p.per_key, Some(("s3:DeleteObject", Some("s3:DeleteObjectVersion"))));
    }

    #[test]
    fn every_request_says_how_it_was_signed() {
        let signed_ten_minutes_ago = [
            ("authorization", "AWS4-HMAC-SHA256 Credential=x"),
            ("x-amz-date", "20150830T122600Z"),
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
        ];
        let p = plan_of("GetObject", &S3Path::object("b", "k"), None, &signed_ten_minutes_ago);
        let access = &p.checks[0].access;
        assert_eq!(key(access, "s3:authType"), Some(&["REST-HEADER".to_owned()][..]));
        assert_eq!(key(access, "s3:signatureAge"), None, "only presigned requests carry it");
        assert_eq!(
            key(access, "s3:x-amz-content-sha256"),
            Some(&["UNSIGNED-PAYLOAD".to_owned()][..])
        );
        // A presigned URL's age and payload come from the URL, whatever headers its
        // holder adds (the gate refuses unsigned x-amz-* headers before this too).
        let presigned = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20150830T123559Z&X-Amz-Signature=00";
        let added = [("x-amz-date", "20150830T123600Z"), ("x-amz-content-sha256", "abc")];
        let p = plan_of("GetObject", &S3Path::object("b", "k"), Some(presigned), &added);
        let access = &p.checks[0].access;
        assert_eq!(key(access, "s3:authType"), Some(&["REST-QUERY-STRING".to_owned()][..]));
        assert_eq!(key(access, "s3:signatureAge"), Some(&["1000".to_owned()][..]));
        assert_eq!(
            key(access, "s3:x-amz-content-sha256"),
            Some(&["UNSIGNED-PAYLOAD".to_owned()][..])
        );
        // An action the catalogue does not know still says how it was signed.
        let p = plan_of("Frobnicate", &S3Path::bucket("b"), Some(presigned), &[]);
        assert_eq!(
            key(&p.checks[0].access, "s3:signatureAge"),
            Some(&["1000".to_owned()][..])
        );
    }

    #[test]
    fn the_copy_source_is_read_as_the_store_reads_it() {
        for (header, expected) in [
            ("/bkt/secret/x", "bkt/secret/x"),
            ("bkt/secret/x", "bkt/secret/x"),
            ("%2Fbkt/secret/x", "bkt/secret/x"),
            ("bkt/secre%74/x", "bkt/secret/x"),
            ("bkt/k?versionId=3", "bkt/k?versionId=3"),
        ] {
            let p = plan_of(
                "CopyObject",
                &S3Path::object("d", "k"),
                None,
                &[("x-amz-copy-source", header)],
            );
            assert_eq!(
                key(&p.checks[1].access, "s3:x-amz-copy-source"),
                Some(&[expected.to_owned()][..]),
                "{header}"
            );
        }
    }

    #[test]
    fn object_creation_is_told_from_the_steps_of_an_upload() {
        for (op, path, expected) in [
            ("PutObject", S3Path::object("b", "k"), Some("true")),
            ("CompleteMultipartUpload", S3Path::object("b", "k"), Some("true")),
            ("CreateMultipartUpload", S3Path::object("b", "k"), Some("false")),
            ("UploadPart", S3Path::object("b", "k"), Some("false")),
        ] {
            let p = plan_of(op, &path, None, &[]);
            let value = key(&p.checks[0].access, "s3:ObjectCreationOperation").map(|v| v[0].as_str());
            assert_eq!(value, expected, "{op}");
        }
    }

    #[test]
    fn tags_that_repeat_a_key_are_refused() {
        let mut map = HeaderMap::new();
        map.insert("x-amz-tagging", "team=blue&Team=red".parse().unwrap());
        let view = RequestView {
            op: "PutObject",
            path: &S3Path::object("b", "k"),
            query: None,
            headers: &map,
            now: NOW,
            sigv2: false,
        };
        assert_eq!(*plan(&view).unwrap_err().code(), s3s::S3ErrorCode::InvalidArgument);
    }

    #[test]
    fn a_key_the_action_does_not_list_is_not_carried() {
        let p = plan_of(
            "GetObject",
            &S3Path::object("b", "k"),
            Some("prefix=a"),
            &[("x-amz-acl", "public-read"), ("x-amz-tagging", "a=b")],
        );
        let access = &p.checks[0].access;
        assert_eq!(key(access, "s3:prefix"), None);
        assert_eq!(key(access, "s3:x-amz-acl"), None);
        assert_eq!(key(access, "s3:RequestObjectTag/a"), None);
        let p = plan_of(
            "ListObjects",
            &S3Path::bucket("b"),
            None,
            &[("x-amz-acl", "public-read")],
        );
        assert_eq!(key(&p.checks[0].access, "s3:x-amz-acl"), None);
        assert_eq!(key(&p.checks[0].access, "s3:prefix"), None, "no prefix= sent");
    }

    #[test]
    fn writes_carry_their_tags_headers_and_lock_settings() {
        let p = plan_of(
            "PutObject",
            &S3Path::object("b", "k"),
            None,
            &[
                ("x-amz-tagging", "team=red&env=prod%20eu"),
                ("x-amz-object-lock-mode", "GOVERNANCE"),
                ("x-amz-server-side-encryption", "AES256"),
                ("if-none-match", "*"),
            ],
        );
        let access = &p.checks[0].access;
        assert_eq!(key(access, "s3:RequestObjectTag/team"), Some(&["red".to_owned()][..]));
        assert_eq!(
            key(access, "s3:RequestObjectTag/env"),
            Some(&["prod eu".to_owned()][..])
        );
        assert_eq!(
            key(access, "s3:RequestObjectTagKeys"),
            Some(&["team".to_owned(), "env".to_owned()][..])
        );
        assert_eq!(key(access, "s3:object-lock-mode"), Some(&["GOVERNANCE".to_owned()][..]));
        assert_eq!(
            key(access, "s3:x-amz-server-side-encryption"),
            Some(&["AES256".to_owned()][..])
        );
        assert_eq!(key(access, "s3:if-none-match"), Some(&["*".to_owned()][..]));
    }

    #[test]
    fn copy_needs_get_on_the_source_and_put_on_the_destination() {
        let p = plan_of(
            "CopyObject",
            &S3Path::object("dst", "to/k"),
            None,
            &[("x-amz-copy-source", "/src/from%20here/k?versionId=3")],
        );
        assert_eq!(p.checks.len(), 2);
        assert_eq!(p.checks[0].access.action, "s3:GetObjectVersion");
        assert_eq!(p.checks[0].access.resource, "arn:aws:s3:::src/from here/k");
        assert_eq!(p.checks[0].bucket.as_deref(), Some("src"));
        assert_eq!(p.checks[1].access.action, "s3:PutObject");
        assert_eq!(p.checks[1].access.resource, "arn:aws:s3:::dst/to/k");
        assert_eq!(p.checks[1].bucket.as_deref(), Some("dst"));
    }

    #[test]
    fn keys_are_any_text_of_at_most_1024_bytes() {
        // Blobs are named by id, so no key names another object or a file.
        for good in [
            "a",
            "/a",
            "a//b",
            "a/../b",
            "..",
            "./a",
            "a/",
            "dir/sub/",
            "é".repeat(512).as_str(),
        ] {
            assert!(check_key(good).is_ok(), "{good:?}");
        }
        let too_long = "é".repeat(512) + "x";
        assert_eq!(check_key(&too_long).unwrap_err().code().as_str(), "KeyTooLongError");
        let mut map = HeaderMap::new();
        let long_source = format!("src/{}", "k".repeat(1025));
        map.insert("x-amz-copy-source", long_source.parse().unwrap());
        let view = RequestView {
            op: "CopyObject",
            path: &S3Path::object("b", "k"),
            query: None,
            headers: &map,
            now: NOW,
            sigv2: false,
        };
        assert!(plan(&view).is_err());
    }
}
