//! SigV4 signing for the load generator, from oxiam-sigv4's pure parts.
//!
//! Every request is signed afresh with the current time, as an SDK signs it. The derived
//! signing key is kept per (day, region, service), as the Java and Go SDKs keep it, so a
//! request costs two SHA-256s and one HMAC. aws-sigv4's `sign` derives the key again for
//! every request and canonicalizes through its general path: that was a third of the load
//! generator's CPU, taken from the server it shares two cores with (docs/benchmarks.md).
//! The tests check what this signs against aws-sigv4, for every kind of request the bench
//! sends, across days, regions and services with one signer.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use oxiam_sigv4::{
    CanonicalOptions, PathEncoding, SignedRequest, canonical_request, format_amz_date, hex_lower, sha256_hex,
    signature, signing_key, string_to_sign,
};

/// An access key and the signing key last derived from it.
pub struct Signer {
    access_key_id: String,
    secret_access_key: String,
    derived: Mutex<Option<Derived>>,
}

/// `kSigning` for one (day, region, service).
struct Derived {
    day: String,
    region: String,
    service: String,
    key: [u8; 32],
}

/// A request to sign: the headers it is sent with (names in lower case) are all signed.
pub struct Unsigned<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub headers: &'a [(&'static str, &'a str)],
    pub body: &'a [u8],
}

/// A clone starts with no kept key: each client signs with a clone of its own, so that no
/// two clients share (and wait on) one lock.
impl Clone for Signer {
    fn clone(&self) -> Signer {
        Signer::new(&self.access_key_id, &self.secret_access_key)
    }
}

impl Signer {
    pub fn new(access_key_id: &str, secret_access_key: &str) -> Signer {
        Signer {
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret_access_key.to_owned(),
            derived: Mutex::new(None),
        }
    }

    /// The headers that sign `request` at `now`: `x-amz-date`, `x-amz-content-sha256` (S3
    /// only, as the SDKs send it) and `authorization`.
    pub fn sign(
        &self,
        request: &Unsigned<'_>,
        region: &str,
        service: &str,
        now: SystemTime,
    ) -> Vec<(&'static str, String)> {
        let seconds = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        let amz_date = format_amz_date(seconds);
        let payload_hash = sha256_hex(request.body);
        let s3 = service == "s3";
        let mut headers: Vec<(&str, &[u8])> = request
            .headers
            .iter()
            .map(|(name, value)| (*name, value.as_bytes()))
            .collect();
        headers.push(("x-amz-date", amz_date.as_bytes()));
        if s3 {
            headers.push(("x-amz-content-sha256", payload_hash.as_bytes()));
        }
        headers.sort_unstable_by_key(|(name, _)| *name);
        let names: Vec<&str> = headers.iter().map(|(name, _)| *name).collect();
        let options = CanonicalOptions {
            path: if s3 {
                PathEncoding::Single
            } else {
                PathEncoding::Double { normalize: true }
            },
            presigned: false,
            omit_security_token: false,
        };
        let signed = SignedRequest {
            method: request.method,
            raw_path: request.path,
            raw_query: "",
            headers: &headers,
            body: request.body,
        };
        let canonical = canonical_request(&signed, &names, &payload_hash, options);
        let day = &amz_date[..8];
        let scope = format!("{day}/{region}/{service}/aws4_request");
        let to_sign = string_to_sign(&amz_date, &scope, &canonical);
        let key = self.signing_key(day, region, service);
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={}, Signature={}",
            self.access_key_id,
            names.join(";"),
            hex_lower(&signature(&key, &to_sign))
        );
        let mut out = Vec::with_capacity(3);
        if s3 {
            out.push(("x-amz-content-sha256", payload_hash.clone()));
        }
        out.push(("x-amz-date", amz_date.clone()));
        out.push(("authorization", authorization));
        out
    }

    fn signing_key(&self, day: &str, region: &str, service: &str) -> [u8; 32] {
        let mut derived = self.derived.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match &*derived {
            Some(kept) if kept.day == day && kept.region == region && kept.service == service => kept.key,
            _ => {
                let key = signing_key(&self.secret_access_key, day, region, service);
                *derived = Some(Derived {
                    day: day.to_owned(),
                    region: region.to_owned(),
                    service: service.to_owned(),
                    key,
                });
                key
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use aws_credential_types::Credentials;
    use aws_sigv4::http_request::{
        PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
        UriPathNormalizationMode, sign,
    };
    use aws_sigv4::sign::v4;
    use aws_smithy_runtime_api::client::identity::Identity;
    use proptest::prelude::*;

    use super::{Signer, Unsigned};

    const ID: &str = "AKIAIOSFODNN7EXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

    /// The headers aws-sigv4 adds to sign the same request, in the order `sign` returns them.
    fn reference(
        request: &Unsigned<'_>,
        region: &str,
        service: &str,
        now: std::time::SystemTime,
    ) -> Vec<(String, String)> {
        let identity: Identity = Credentials::new(ID, SECRET, None, None, "test").into();
        let mut settings = SigningSettings::default();
        if service == "s3" {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
            settings.percent_encoding_mode = PercentEncodingMode::Single;
            settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        }
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(service)
            .time(now)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let host = request.headers.iter().find(|(n, _)| *n == "host").unwrap().1;
        let uri = format!("http://{host}{}", request.path);
        let signable = SignableRequest::new(
            request.method,
            &uri,
            request.headers.iter().copied(),
            SignableBody::Bytes(request.body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let mut headers: Vec<(String, String)> = instructions
            .headers()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned()))
            .collect();
        headers.sort();
        headers
    }

    fn ours(
        signer: &Signer,
        request: &Unsigned<'_>,
        region: &str,
        service: &str,
        now: std::time::SystemTime,
    ) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = signer
            .sign(request, region, service, now)
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v))
            .collect();
        headers.sort();
        headers
    }

    fn at(seconds: u64) -> std::time::SystemTime {
        std::time::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn one_signer_across_days_regions_and_services_signs_as_aws_sigv4() {
        let signer = Signer::new(ID, SECRET);
        let query = Unsigned {
            method: "POST",
            path: "/",
            headers: &[("host", "127.0.0.1:7345"), ("content-type", FORM)],
            body: b"Action=GetUser&Version=2010-05-08&UserName=bench-c1",
        };
        let object = Unsigned {
            method: "GET",
            path: "/oxiam-bench/object.txt",
            headers: &[("host", "127.0.0.1:7345")],
            body: b"",
        };
        // 2026-12-06T23:59:59Z, then the next day: the kept key must not outlive its day,
        // its region or its service.
        let late = 1_796_601_599;
        let steps = [
            (&query, "us-east-1", "iam", late),
            (&query, "us-east-1", "iam", late + 2),
            (&query, "us-east-1", "sts", late + 2),
            (&query, "eu-west-1", "sts", late + 2),
            (&object, "eu-west-1", "s3", late + 2),
            (&object, "eu-west-1", "s3", late + 86_400),
            (&query, "eu-west-1", "iam", late + 86_400),
        ];
        for (request, region, service, seconds) in steps {
            assert_eq!(
                ours(&signer, request, region, service, at(seconds)),
                reference(request, region, service, at(seconds)),
                "{service} in {region} at {seconds}"
            );
        }
    }

    proptest! {
        #[test]
        fn query_requests_sign_as_aws_sigv4(
            seconds in 0u64..4_102_444_800,
            action in "[A-Za-z]{1,20}",
            value in "\\PC{0,40}",
            region in "[a-z]{2}-[a-z]{4,9}-[1-9]",
            sts in any::<bool>(),
            // The bench posts to `/`; other paths check the double encoding and normalization.
            path in "/|(/[A-Za-z0-9._~%+=@:-]{0,6}){1,4}",
        ) {
            let body = form_urlencoded::Serializer::new(String::new())
                .append_pair("Action", &action)
                .append_pair("Version", "2010-05-08")
                .append_pair("UserName", &value)
                .finish();
            let request = Unsigned {
                method: "POST",
                path: &path,
                headers: &[("host", "localhost:9000"), ("content-type", FORM)],
                body: body.as_bytes(),
            };
            let service = if sts { "sts" } else { "iam" };
            let signer = Signer::new(ID, SECRET);
            prop_assert_eq!(
                ours(&signer, &request, &region, service, at(seconds)),
                reference(&request, &region, service, at(seconds))
            );
        }

        #[test]
        fn s3_requests_sign_as_aws_sigv4(
            seconds in 0u64..4_102_444_800,
            bucket in "[a-z0-9][a-z0-9.-]{2,20}",
            // Characters the encodings treat differently (`%`, `+`, `=`, `@`, `:`), and `.`,
            // `..` and empty segments, which only normalization would touch.
            key in "([A-Za-z0-9._~/%+=@:-]{1,30})?",
            body in proptest::collection::vec(any::<u8>(), 0..300),
            put in any::<bool>(),
        ) {
            let path = if key.is_empty() { format!("/{bucket}") } else { format!("/{bucket}/{key}") };
            let request = Unsigned {
                method: if put { "PUT" } else { "GET" },
                path: &path,
                headers: &[("host", "127.0.0.1:7345")],
                body: &body,
            };
            let signer = Signer::new(ID, SECRET);
            prop_assert_eq!(
                ours(&signer, &request, "us-east-1", "s3", at(seconds)),
                reference(&request, "us-east-1", "s3", at(seconds))
            );
        }
    }
}
