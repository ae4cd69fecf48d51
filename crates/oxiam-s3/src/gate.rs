//! Authentication and authorization of S3 requests, in one place.
//!
//! s3s verifies the signature with the secret [`Gate::get_secret_key`] finds; then, before
//! it reads the body, it calls [`Gate::check`], which rejects session tokens, resolves the
//! caller, records the key's use and authorizes every action the operation needs (see
//! [`crate::actions`]). s3s's per-operation access hooks are left at their defaults and
//! are never relied on. Operations whose resources are in the body (DeleteObjects,
//! PostObject) are authorized key by key by the operation, through [`Gate::authorize`]
//! and the [`Caller`] that `check` leaves in the request's extensions.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use http::HeaderMap;
use oxiam_core::authz::{Access, Outcome, RequestFacts, ResourcePolicy, Verdict};
use oxiam_core::record::RecordSlot;
use oxiam_core::{AuthFailure, Clock, Oxiam, Principal};
use oxiam_sigv4::v2::V2Refusal;
use oxiam_sigv4::{AuthErrorKind, SignedRequest};
use s3s::S3Result;
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};

use crate::actions::{self, Check, RequestView};
use crate::buckets::Buckets;
use crate::errors;
use oxiam_store::ObjectRow;

/// The client's address, put in the request's extensions by [`crate::S3Endpoint::call`].
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

/// Who an authorized request comes from, for the operations that authorize per key.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The authenticated caller.
    pub principal: Principal,
    /// The request's facts.
    pub facts: RequestFacts,
    /// The per-key action of [`actions::Rule::PerKey`] operations.
    pub per_key: Option<(&'static str, Option<&'static str>)>,
    /// The version of the request's object read at authorization, for an action that
    /// carries `s3:ExistingObjectTag` (`Some(None)`: read, and not there): what GetObject
    /// and HeadObject serve, so that the version served is the one whose tags were
    /// decided with.
    pub object: Option<Option<ObjectRow>>,
    /// The same for a copy's source (CopyObject, UploadPartCopy): the version copied.
    pub source: Option<Option<ObjectRow>>,
    /// The request's record in flight, if the server keeps one.
    slot: Option<RecordSlot>,
    /// What each per-key access's condition keys are read from: the operation, the query
    /// and the headers of the request, and when it was checked.
    op: String,
    query: Option<String>,
    headers: HeaderMap,
    now: i64,
}

/// oxiam's S3Auth and S3Access.
#[derive(Debug, Clone)]
pub struct Gate {
    pub(crate) oxiam: Arc<Oxiam>,
    pub(crate) buckets: Arc<Buckets>,
    /// The server's clock (session expiry, `aws:CurrentTime`, SigV2's date).
    pub(crate) clock: Clock,
    /// Whether SigV2 signatures are accepted (`--allow-sigv2`); refused otherwise.
    pub(crate) allow_sigv2: bool,
    /// Which hosts name a bucket (SigV2 signs the bucket of a virtual-hosted request as
    /// if it were in the path).
    pub(crate) hosts: crate::hosts::BucketHosts,
}

tokio::task_local! {
    /// What oxiam's own look at the request's signature ([`Gate::check_signature`]) found,
    /// read by [`S3Auth::get_secret_key`] when s3s asks for a key's secret. s3s compares
    /// SigV2 signatures itself, in variable time and with no date check, so it is given a
    /// secret only for the key of a SigV2 request oxiam has already verified, in constant
    /// time, and for no key of a request oxiam refused. The one exception is a browser
    /// form (PostObject), whose signature is in the body s3s reads: s3s compares a SigV2
    /// form's signature before the store refuses every SigV2 form, and what that compare
    /// could reveal (the HMAC of a base64 policy) is no other request's signature.
    static SIGNATURE: SignatureCheck;
}

/// What oxiam found about a request's signature before s3s sees it.
#[derive(Debug, Clone)]
pub(crate) enum SignatureCheck {
    /// Not SigV2 (SigV4, which s3s verifies, or no signature at all).
    NotSigV2,
    /// SigV2, verified for this access key.
    SigV2(String),
    /// Refused: s3s gets no secret for it.
    Refused(SignatureRefusal),
}

/// Why oxiam refused a request's signature before s3s saw it.
#[derive(Debug, Clone)]
pub(crate) enum SignatureRefusal {
    /// More than one `Authorization` header, or one that is not text: s3s and oxiam could
    /// read different ones.
    AuthorizationMalformed,
    /// An `Authorization` header beside a signature in the query: s3s verifies the query's
    /// and would leave the header unchecked, while oxiam would read the header's scope
    /// and signed headers.
    TwoMechanisms,
    /// SigV2 is off (the default).
    SigV2NotAllowed,
    /// SigV2, malformed, stale or expired.
    SigV2(V2Refusal),
    /// No such active key.
    UnknownKey,
    /// The signature is not the key's for this request.
    Mismatch,
    /// Looking up the key failed (logged where it happened).
    Internal,
    /// The request reached s3s without going through [`Gate::check_signature`].
    Unchecked,
}

impl SignatureRefusal {
    fn to_s3_error(&self, now: i64) -> s3s::S3Error {
        match self {
            SignatureRefusal::AuthorizationMalformed => errors::with_message(
                s3s::S3ErrorCode::InvalidArgument,
                "The Authorization header must be sent once, as text.",
            ),
            SignatureRefusal::TwoMechanisms => errors::with_message(
                s3s::S3ErrorCode::InvalidArgument,
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
            ),
            SignatureRefusal::SigV2NotAllowed => errors::sigv2_refused(),
            SignatureRefusal::SigV2(refusal) => errors::sigv2(refusal, now),
            SignatureRefusal::UnknownKey => errors::invalid_access_key_id(),
            SignatureRefusal::Mismatch => errors::signature_does_not_match(),
            SignatureRefusal::Internal | SignatureRefusal::Unchecked => errors::server_fault(),
        }
    }
}

/// Whether a query carries a signature (SigV4's presigned parameters, or SigV2's), in any
/// case of the names.
fn query_signs(query: &str) -> bool {
    form_urlencoded::parse(query.as_bytes()).any(|(name, _)| {
        ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "Signature"]
            .iter()
            .any(|signing| name.eq_ignore_ascii_case(signing))
    })
}

/// The STS session token a request carries, in a header or in the (presigned) query.
fn session_token(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(v) = headers.get("x-amz-security-token") {
        return Some(String::from_utf8_lossy(v.as_bytes()).into_owned());
    }
    query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k.eq_ignore_ascii_case("X-Amz-Security-Token"))
            .map(|(_, v)| v.into_owned())
    })
}

/// The longest a presigned URL may be valid: seven days, as in S3.
const MAX_PRESIGNED_SECONDS: u64 = 604_800;

/// The actions on a bucket's policy, which the bucket owner's root may always take.
const BUCKET_POLICY_ACTIONS: &[&str] = &["s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"];

/// Operations whose bodies are streamed to the object store rather than read whole.
const STREAMED_BODIES: &[&str] = &["PutObject", "UploadPart", "PostObject", "WriteGetObjectResponse"];

/// s3s reads an operation's XML body whole (up to `XML_MAX_BODY_BYTES`) after this check:
/// a body announced as larger is refused before a byte of it is read, and one of unknown
/// length is refused as S3 refuses it (s3s would fail it with a 500 at the limit).
fn check_xml_body_length(op: &str, method: &http::Method, headers: &HeaderMap) -> S3Result<()> {
    if STREAMED_BODIES.contains(&op) || !matches!(*method, http::Method::POST | http::Method::PUT) {
        return Ok(());
    }
    let length = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match length {
        Some(n) if n > crate::XML_MAX_BODY_BYTES as u64 => Err(errors::body_too_large()),
        Some(_) => Ok(()),
        None if headers.contains_key(http::header::TRANSFER_ENCODING) => Err(errors::missing_content_length()),
        None => Ok(()),
    }
}

/// The `x-amz-*` headers a SigV4 request sends that its signature does not cover
/// (`SignedHeaders` in the Authorization header, `X-Amz-SignedHeaders` in a presigned
/// query). S3 refuses them: whoever holds a signed request could otherwise add one.
fn unsigned_amz_headers(headers: &HeaderMap, query: Option<&str>) -> Vec<String> {
    let from_header = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.starts_with("AWS4-"))
        .and_then(|v| {
            v.split([',', ' '])
                .find_map(|part| part.trim().strip_prefix("SignedHeaders="))
                .map(str::to_owned)
        });
    let signed = from_header.or_else(|| {
        form_urlencoded::parse(query?.as_bytes())
            .find(|(k, _)| k == "X-Amz-SignedHeaders")
            .map(|(_, v)| v.into_owned())
    });
    let Some(signed) = signed else {
        return Vec::new();
    };
    let signed: Vec<String> = signed.split(';').map(str::to_ascii_lowercase).collect();
    let mut unsigned: Vec<String> = headers
        .keys()
        .map(|name| name.as_str().to_owned())
        .filter(|name| name.starts_with("x-amz-") && !signed.contains(name))
        .collect();
    unsigned.dedup();
    unsigned
}

/// `X-Amz-Expires` of a presigned SigV4 URL (a value that is not a number is s3s's to refuse).
fn presigned_expires(query: Option<&str>) -> Option<u64> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "X-Amz-Expires")
        .and_then(|(_, v)| v.parse().ok())
}

#[async_trait::async_trait]
impl S3Auth for Gate {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        // Outside the check's scope nothing is known of the request: no secret (fail closed).
        match SIGNATURE
            .try_with(Clone::clone)
            .unwrap_or(SignatureCheck::Refused(SignatureRefusal::Unchecked))
        {
            SignatureCheck::Refused(refusal) => return Err(refusal.to_s3_error(self.clock.now())),
            SignatureCheck::SigV2(verified) if verified != access_key => {
                return Err(errors::signature_does_not_match());
            }
            SignatureCheck::SigV2(_) | SignatureCheck::NotSigV2 => {}
        }
        match self.oxiam.credentials(access_key).await {
            Ok(Some((secret, _))) => Ok(SecretKey::from(secret)),
            Ok(None) => Err(errors::invalid_access_key_id()),
            Err(e) => Err(errors::internal("looking up an access key failed", &e)),
        }
    }
}

impl Gate {
    /// oxiam's own look at a request's signature, before s3s sees it: one `Authorization`
    /// header at most, as text; SigV2 off unless allowed, and then the date within 15
    /// minutes or the URL unexpired, the key known and active, the signature verified in
    /// constant time.
    pub(crate) async fn check_signature<B>(&self, req: &http::Request<B>) -> SignatureCheck {
        let refused = SignatureCheck::Refused;
        let mut authorizations = req.headers().get_all(http::header::AUTHORIZATION).iter();
        let (first, second) = (authorizations.next(), authorizations.next());
        if second.is_some() || first.is_some_and(|v| v.to_str().is_err()) {
            return refused(SignatureRefusal::AuthorizationMalformed);
        }
        if first.is_some() && query_signs(req.uri().query().unwrap_or("")) {
            return refused(SignatureRefusal::TwoMechanisms);
        }
        let headers: Vec<(&str, &[u8])> = req.headers().iter().map(|(n, v)| (n.as_str(), v.as_bytes())).collect();
        let host = req.headers().get(http::header::HOST).and_then(|v| v.to_str().ok());
        // SigV2's resource is `/BUCKET/KEY` however the bucket is addressed.
        let raw_path = match host.map(|h| self.hosts.addressing(h)) {
            Some(crate::hosts::Addressing::Bucket(bucket)) => Cow::Owned(format!("/{bucket}{}", req.uri().path())),
            _ => Cow::Borrowed(req.uri().path()),
        };
        let signed = SignedRequest {
            method: req.method().as_str(),
            raw_path: &raw_path,
            raw_query: req.uri().query().unwrap_or(""),
            headers: &headers,
            body: b"",
        };
        let claim = match oxiam_sigv4::v2::parse_v2(&signed) {
            None => return SignatureCheck::NotSigV2,
            Some(_) if !self.allow_sigv2 => return refused(SignatureRefusal::SigV2NotAllowed),
            Some(Ok(claim)) => claim,
            Some(Err(refusal)) => return refused(SignatureRefusal::SigV2(refusal)),
        };
        if let Err(refusal) = claim.check_time(&signed, self.clock.now()) {
            return refused(SignatureRefusal::SigV2(refusal));
        }
        let secret = match self.oxiam.credentials(&claim.access_key_id).await {
            Ok(Some((secret, _))) => secret,
            Ok(None) => return refused(SignatureRefusal::UnknownKey),
            Err(e) => {
                tracing::error!(error = %e, "looking up an access key failed");
                return refused(SignatureRefusal::Internal);
            }
        };
        if claim.verify(&signed, &secret) {
            SignatureCheck::SigV2(claim.access_key_id)
        } else {
            refused(SignatureRefusal::Mismatch)
        }
    }

    /// Runs `serve` (s3s answering the request) with the signature check's finding in
    /// reach of [`S3Auth::get_secret_key`].
    pub(crate) async fn with_signature_check<F: std::future::Future>(checked: SignatureCheck, serve: F) -> F::Output {
        SIGNATURE.scope(checked, serve).await
    }

    /// Whether the request being served is signed with SigV2 (verified).
    fn signed_with_sigv2() -> bool {
        matches!(SIGNATURE.try_with(Clone::clone), Ok(SignatureCheck::SigV2(_)))
    }

    /// Allows or denies one access for `caller`, with the policy and owner of the bucket
    /// the resource lives in; the verdict goes into the request's record.
    pub async fn authorize(
        &self,
        principal: &Principal,
        facts: &RequestFacts,
        check: &Check,
        slot: Option<&RecordSlot>,
    ) -> S3Result<()> {
        let (answer, verdict) = self.decide(principal, facts, check).await;
        keep(slot, verdict);
        answer
    }

    /// Whether `principal` may do one of `accesses` (each on a prefix standing for the
    /// objects under it, `Access::resource_is_prefix`) in `bucket`: asked before an
    /// operation whose keys are in its body reads that body, so that a caller who may do
    /// nothing there cannot make the server read it. Each key is then decided on its own.
    /// Only the verdict that answers goes into the record.
    async fn may_act_on_some_object(
        &self,
        principal: &Principal,
        facts: &RequestFacts,
        bucket: &str,
        accesses: Vec<Access>,
        slot: Option<&RecordSlot>,
    ) -> S3Result<()> {
        // The first refusal answers if none allows (in `--enforcement log` mode, it is let
        // through: what is asked is whether one is allowed, not whether one goes through).
        let mut refused = None;
        for access in accesses {
            let check = Check {
                bucket: Some(bucket.to_owned()),
                access,
            };
            let (answer, verdict) = self.decide(principal, facts, &check).await;
            if answer.is_ok() && verdict.as_ref().is_none_or(|v| v.outcome == Outcome::Allowed) {
                keep(slot, verdict);
                return answer;
            }
            refused.get_or_insert((answer, verdict));
        }
        let (answer, verdict) = refused.unwrap_or((Err(errors::access_denied()), None));
        keep(slot, verdict);
        answer
    }

    /// [`Gate::authorize`]'s decision, and the verdict to record.
    async fn decide(
        &self,
        principal: &Principal,
        facts: &RequestFacts,
        check: &Check,
    ) -> (S3Result<()>, Option<Verdict>) {
        let meta = match &check.bucket {
            Some(bucket) => self
                .buckets
                .get(bucket)
                .await
                .map_err(|e| errors::internal("reading bucket metadata failed", &e)),
            None => Ok(None),
        };
        let meta = match meta {
            Ok(meta) => meta,
            Err(e) => return (Err(e), None),
        };
        if let Some(meta) = &meta
            && meta.owner_account != principal.account_id
            && meta.policy.is_none()
        {
            // Another account's bucket with no bucket policy grants nothing to this
            // caller, whatever its own policies say (oxiam has no ACLs).
            let verdict = Verdict::rule(
                &check.access,
                Outcome::ImplicitDeny,
                "another account's bucket, with no bucket policy",
            );
            let denied = oxiam_protocol_access_denied();
            return match self.oxiam.refuse(verdict, denied) {
                // `--enforcement log`: recorded, and let through.
                Ok(verdict) => (Ok(()), Some(verdict)),
                Err(refusal) => (Err(errors::access_denied()), refusal.verdict.map(|v| *v)),
            };
        }
        // The bucket owner's root may always read, replace or delete the bucket policy, even
        // one that denies it (S3 API reference, Get/Put/DeleteBucketPolicy): the way out of a
        // policy that locks everyone out. Its own limits still hold (a root session's task
        // policy, the organization's SCPs).
        let owner_root_on_policy = matches!(principal.kind, oxiam_core::PrincipalKind::Root)
            && meta.as_ref().is_some_and(|m| m.owner_account == principal.account_id)
            && BUCKET_POLICY_ACTIONS.contains(&check.access.action.as_str());
        let resource_policy = meta.as_ref().filter(|_| !owner_root_on_policy).and_then(|m| {
            m.policy.as_deref().map(|document| ResourcePolicy {
                document,
                owner_account: &m.owner_account,
            })
        });
        // S3 names the resource in quotes in its AccessDenied messages.
        let mut access = check.access.clone();
        // The bucket's owner is the resource's account (an S3 ARN names none); with no
        // bucket yet (CreateBucket) or none at all (ListBuckets), the caller's own.
        let resource_account = meta.as_ref().map_or(&principal.account_id, |m| &m.owner_account);
        for key in ["aws:ResourceAccount", "s3:ResourceAccount"] {
            access.keys.push((key.to_owned(), vec![resource_account.clone()]));
        }
        access.shown_as = Some(format!("\"{}\"", access.resource));
        let refusal = match self.oxiam.authorize(principal, &access, facts, resource_policy).await {
            Ok(verdict) => return (Ok(()), Some(verdict)),
            Err(refusal) => refusal,
        };
        let verdict = refusal.verdict.map(|v| *v);
        let answer = match refusal.error {
            e if e.kind.code == "AccessDenied" => {
                tracing::debug!(principal = %principal.arn(), action = %check.access.action, resource = %check.access.resource, "S3 access denied");
                // S3 explains a denial only to callers of the bucket owner's account (S3
                // User Guide, "Troubleshoot access denied (403 Forbidden) errors");
                // others get the bare "Access Denied".
                let same_account = meta.as_ref().is_none_or(|m| m.owner_account == principal.account_id);
                if same_account {
                    // ListAllMyBuckets acts on no resource, and S3's message names none.
                    let message = e.message.replace(" on resource: \"arn:aws:s3:::*\"", "");
                    Err(errors::with_message(s3s::S3ErrorCode::AccessDenied, message))
                } else {
                    Err(errors::access_denied())
                }
            }
            // The core's fault keeps its cause for the log, not in its Display.
            e => Err(errors::internal(
                "authorization failed",
                &format_args!("{e} ({})", e.cause.as_deref().unwrap_or("no cause recorded")),
            )),
        };
        (answer, verdict)
    }

    /// Authorizes `action` on one object (or `version`) of `bucket` for an operation whose
    /// keys are in its body, with the condition keys the request carries for that action
    /// (read from `form` instead of the request's headers for a form upload).
    pub async fn authorize_key(
        &self,
        caller: &Caller,
        (action, bucket, key): (&str, &str, &str),
        version: Option<&str>,
        form: Option<&HeaderMap>,
    ) -> S3Result<()> {
        self.authorize_key_reading(caller, (action, bucket, key), version, form)
            .await
            .map(|_| ())
    }

    /// [`Gate::authorize_key`], and the object version read for `s3:ExistingObjectTag`
    /// (`Some(None)`: read, and not there; `None`: the action does not carry the key).
    async fn authorize_key_reading(
        &self,
        caller: &Caller,
        (action, bucket, key): (&str, &str, &str),
        version: Option<&str>,
        form: Option<&HeaderMap>,
    ) -> S3Result<Option<Option<ObjectRow>>> {
        actions::check_key(key)?;
        let path = s3s::path::S3Path::object(bucket, key);
        let view = RequestView {
            op: &caller.op,
            path: &path,
            query: caller.query.as_deref(),
            headers: form.unwrap_or(&caller.headers),
            now: caller.now,
            sigv2: Self::signed_with_sigv2(),
        };
        let mut access = Access::new(action, actions::object_arn(bucket, key));
        access.keys = actions::condition_keys(&view, action, version);
        let check = Check {
            bucket: Some(bucket.to_owned()),
            access,
        };
        let (tagged, object) = self.object_and_tags(&check).await?;
        self.authorize(
            &caller.principal,
            &caller.facts,
            tagged.as_ref().unwrap_or(&check),
            caller.slot.as_ref(),
        )
        .await?;
        Ok(object)
    }
}

impl Gate {
    /// `check` with the object's tags as `s3:ExistingObjectTag/…`, for an action on an
    /// object that AWS lists the key for (the version the request names, else the
    /// current one); `None` when there are none to add (no such object, no tags).
    /// `check` with the object's tags, and the object version read (a delete marker
    /// included; `Some(None)` when there is none), if the action carries the key.
    async fn object_and_tags(&self, check: &Check) -> S3Result<(Option<Check>, Option<Option<ObjectRow>>)> {
        let Some(bucket) = &check.bucket else {
            return Ok((None, None));
        };
        let Some(key) = check
            .access
            .resource
            .strip_prefix("arn:aws:s3:::")
            .and_then(|r| r.strip_prefix(bucket.as_str()))
            .and_then(|r| r.strip_prefix('/'))
        else {
            return Ok((None, None));
        };
        let lists_the_key = oxiam_catalogue::action_named(&check.access.action)
            .is_some_and(|a| a.all_condition_keys().contains(&"s3:ExistingObjectTag/<key>"));
        if !lists_the_key {
            return Ok((None, None));
        }
        let version = check
            .access
            .keys
            .iter()
            .find(|(k, _)| k == "s3:versionid")
            .and_then(|(_, v)| v.first())
            .map(String::as_str);
        let found = self
            .oxiam
            .store()
            .s3_object(bucket, key, version)
            .await
            .map_err(|e| errors::internal("reading an object's tags failed", &e))?;
        let tags = match &found {
            Some(object) if !object.delete_marker => crate::attributes::tags_from_row(&object.tags),
            _ => Vec::new(),
        };
        if tags.is_empty() {
            return Ok((None, Some(found)));
        }
        let mut tagged = check.clone();
        tagged.access.keys.extend(
            tags.into_iter()
                .map(|(k, v)| (format!("s3:ExistingObjectTag/{k}"), vec![v])),
        );
        Ok((Some(tagged), Some(found)))
    }

    /// Authorizes PutObjectTagging once its body is read (the gate only asked whether the
    /// caller may tag the object at all), with the object's tags as
    /// `s3:ExistingObjectTag/…` and the body's as `s3:RequestObjectTag/…` and
    /// `s3:RequestObjectTagKeys` (S3 reads them there): an `x-amz-tagging` header sent
    /// beside the body is not read, so it can neither dodge nor trip a condition.
    pub async fn authorize_body_tags(
        &self,
        caller: &Caller,
        (bucket, key): (&str, &str),
        version: Option<&str>,
        tags: &[(String, String)],
    ) -> S3Result<Option<ObjectRow>> {
        let action = if version.is_some() {
            "s3:PutObjectVersionTagging"
        } else {
            "s3:PutObjectTagging"
        };
        let encoded: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .finish();
        let mut headers = caller.headers.clone();
        headers.remove("x-amz-tagging");
        if !encoded.is_empty() {
            let value = http::HeaderValue::from_str(&encoded).map_err(|_| errors::access_denied())?;
            headers.insert("x-amz-tagging", value);
        }
        self.authorize_key_reading(caller, (action, bucket, key), version, Some(&headers))
            .await
            .map(Option::flatten)
    }
}

#[async_trait::async_trait]
impl S3Access for Gate {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let slot = cx.extensions_mut().get::<RecordSlot>().cloned();
        if let Some(slot) = &slot {
            let op = cx.s3_op().name().to_owned();
            let parameters = request_parameters(cx.s3_path(), cx.headers());
            slot.update(|r| {
                r.operation = Some(op);
                r.request_parameters = parameters;
            });
        }
        let result = self.check_request(cx, slot.as_ref()).await;
        if let (Err(e), Some(slot)) = (&result, &slot) {
            slot.update(|r| r.error_code = Some(e.code().as_str().to_owned()));
        }
        result
    }
}

impl Gate {
    /// [`S3Access::check`], filling the request's record as it learns who asks what.
    async fn check_request(&self, cx: &mut S3AccessContext<'_>, slot: Option<&RecordSlot>) -> S3Result<()> {
        let source_ip = cx.extensions_mut().get::<ClientIp>().map(|c| c.0);
        let secure_transport = cx
            .extensions_mut()
            .get::<oxiam_core::authz::SecureTransport>()
            .is_some();
        // A signature refused before s3s saw it, which s3s may not even have asked about
        // (it skips an Authorization header that is not text).
        let sigv2 = match SIGNATURE.try_with(Clone::clone) {
            Ok(SignatureCheck::Refused(refusal)) => return Err(refusal.to_s3_error(self.clock.now())),
            Ok(SignatureCheck::SigV2(_)) => true,
            _ => false,
        };
        // Anonymous requests: oxiam has no anonymous principal.
        let Some(credentials) = cx.credentials() else {
            return Err(errors::access_denied());
        };
        let access_key = credentials.access_key.clone();
        let signed_with = credentials.secret_key.expose().to_owned();
        let query = cx.uri().query();
        if sigv2 && !self.allow_sigv2 {
            return Err(errors::sigv2_refused());
        }
        if presigned_expires(query).is_some_and(|seconds| seconds > MAX_PRESIGNED_SECONDS) {
            return Err(errors::presigned_too_long());
        }
        check_xml_body_length(cx.s3_op().name(), cx.method(), cx.headers())?;
        let unsigned = unsigned_amz_headers(cx.headers(), query);
        if !unsigned.is_empty() {
            return Err(errors::headers_not_signed(&unsigned));
        }
        // s3s does not look at session tokens: oxiam checks them here, before anything else
        // is decided (a role session needs its own token; a long-term key must have none).
        let token = session_token(cx.headers(), query);
        let authorization = cx.headers().get(http::header::AUTHORIZATION).map(|v| v.as_bytes());
        let (region, service) = oxiam_sigv4::credential_scope(authorization, query.unwrap_or(""))
            .map_or_else(|| ("us-east-1".to_owned(), "s3".to_owned()), |s| (s.region, s.service));
        // Signed for no region (as some S3-compatible clients sign): the default one.
        let region = if region.is_empty() {
            oxiam_sigv4::DEFAULT_REGION.to_owned()
        } else {
            region
        };
        if service != "s3" {
            return Err(errors::with_message(
                s3s::S3ErrorCode::AuthorizationHeaderMalformed,
                format!(
                    "The authorization header is malformed; incorrect service \"{service}\". This endpoint belongs to \"s3\"."
                ),
            ));
        }
        // The key was found a moment ago by get_secret_key; find its principal, and make
        // sure it is still the key whose secret verified the signature.
        let principal = match self.oxiam.credentials(&access_key).await {
            Ok(Some((secret, principal))) if secret == signed_with => principal,
            Ok(_) => return Err(errors::invalid_access_key_id()),
            Err(e) => return Err(errors::internal("looking up an access key failed", &e)),
        };
        if let Some(slot) = slot {
            let user_agent = header_text(cx.headers(), http::header::USER_AGENT);
            slot.update(|r| {
                r.set_caller(&principal, &access_key);
                r.region = Some(region.clone());
                r.user_agent = user_agent;
            });
        }
        let now = self.clock.now();
        match self.oxiam.check_session_token(&principal, token.as_deref(), now) {
            Ok(()) => {}
            Err(AuthFailure::Rejected(e)) if e.kind == AuthErrorKind::ExpiredToken => {
                return Err(errors::expired_token());
            }
            Err(_) => return Err(errors::invalid_token()),
        }
        self.oxiam.record_use(&principal, now, "s3", &region);

        let facts = RequestFacts {
            now,
            source_ip,
            secure_transport,
            region,
            user_agent: header_text(cx.headers(), http::header::USER_AGENT),
            referer: header_text(cx.headers(), http::header::REFERER),
        };
        let view = RequestView {
            op: cx.s3_op().name(),
            path: cx.s3_path(),
            query,
            headers: cx.headers(),
            now,
            sigv2,
        };
        let plan = actions::plan(&view)?;
        let expected_owner = cx
            .headers()
            .get("x-amz-expected-bucket-owner")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // The version of the request's own object whose tags were decided with, for the
        // operation to serve (GetObject, HeadObject): no second read, and no other version
        // than the one authorized (but for an overwrite racing the read, see objects.rs).
        let (mut authorized_object, mut authorized_source) = (None, None);
        for check in &plan.checks {
            let (tagged, object) = self.object_and_tags(check).await?;
            self.authorize(&principal, &facts, tagged.as_ref().unwrap_or(check), slot)
                .await?;
            if let Some(object) = object {
                // The request's own object, or (CopyObject, UploadPartCopy) its source.
                let own = matches!(
                    cx.s3_path(),
                    s3s::path::S3Path::Object { bucket, key } if check.access.resource == actions::object_arn(bucket, key)
                );
                if own {
                    authorized_object = Some(object);
                } else {
                    authorized_source = Some(object);
                }
            }
        }
        // DeleteObjects names its keys in its body, PutObjectTagging its tags (which its
        // condition keys are read from): before s3s reads the body, the caller must be one
        // who may delete something in the bucket, or tag the object at all. The operation
        // then decides with what the body says.
        let body_decides = match (view.op, cx.s3_path()) {
            ("DeleteObjects", s3s::path::S3Path::Bucket { bucket }) => {
                Some((bucket.as_ref(), format!("arn:aws:s3:::{bucket}/")))
            }
            ("PutObjectTagging", s3s::path::S3Path::Object { bucket, key }) => {
                Some((bucket.as_ref(), actions::object_arn(bucket, key)))
            }
            _ => None,
        };
        if let (Some((action, versioned)), Some((bucket, under))) = (plan.per_key, body_decides) {
            let accesses = std::iter::once(action)
                .chain(versioned)
                .map(|action| Access {
                    keys: actions::condition_keys(&view, action, None),
                    resource_is_prefix: true,
                    ..Access::new(action, under.clone())
                })
                .collect();
            self.may_act_on_some_object(&principal, &facts, bucket, accesses, slot)
                .await?;
        }
        if let (Some(expected), Some(bucket)) = (expected_owner, cx.s3_path().get_bucket_name()) {
            let meta = self
                .buckets
                .get(bucket)
                .await
                .map_err(|e| errors::internal("reading bucket metadata failed", &e))?;
            if meta.is_some_and(|m| m.owner_account != expected) {
                return Err(errors::access_denied());
            }
        }
        // Only an operation that authorizes per key needs the request kept for it.
        let (query, headers) = match plan.per_key {
            Some(_) => (query.map(str::to_owned), cx.headers().clone()),
            None => (None, HeaderMap::new()),
        };
        let op = cx.s3_op().name().to_owned();
        cx.extensions_mut().insert(Caller {
            principal,
            facts,
            per_key: plan.per_key,
            object: authorized_object,
            source: authorized_source,
            slot: slot.cloned(),
            op,
            query,
            headers,
            now,
        });
        Ok(())
    }
}

/// The core's AccessDenied, for a denial the gate decides itself.
fn oxiam_protocol_access_denied() -> oxiam_core::ServiceError {
    oxiam_core::ServiceError::new(oxiam_core::common_errors::ACCESS_DENIED, "Access Denied")
}

/// A header's value as text, if present and valid UTF-8.
fn header_text(headers: &http::HeaderMap, name: http::header::HeaderName) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Puts `verdict` in the request's record.
fn keep(slot: Option<&RecordSlot>, verdict: Option<Verdict>) {
    if let (Some(slot), Some(verdict)) = (slot, verdict) {
        slot.update(|r| r.verdicts.push(verdict));
    }
}

/// An S3 request's parameters as CloudTrail's data events name them (`bucketName`, `Host`,
/// `key`), for the audit trail.
fn request_parameters(path: &s3s::path::S3Path, headers: &HeaderMap) -> Option<String> {
    let mut out = oxiam_protocol::json::JsonWriter::default();
    out.begin_object();
    if let Some(bucket) = path.get_bucket_name() {
        out.key("bucketName");
        out.string(bucket);
    }
    if let Some(host) = headers.get(http::header::HOST).and_then(|v| v.to_str().ok()) {
        out.key("Host");
        out.string(host);
    }
    if let Some(key) = path.get_object_key() {
        out.key("key");
        out.string(key);
    }
    out.end_object();
    let json = out.finish();
    (json != "{}").then_some(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_tokens_are_seen_in_headers_and_query() {
        let mut h = HeaderMap::new();
        assert_eq!(session_token(&h, Some("X-Amz-Date=1")), None);
        assert_eq!(
            session_token(&h, Some("X-Amz-Security-Token=abc")).as_deref(),
            Some("abc")
        );
        assert_eq!(
            session_token(&h, Some("x-amz-security-token=a%2Bb")).as_deref(),
            Some("a+b")
        );
        h.insert("x-amz-security-token", "abc".parse().unwrap());
        assert_eq!(session_token(&h, None).as_deref(), Some("abc"));
    }
}
