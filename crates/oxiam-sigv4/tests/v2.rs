//! SigV2 against the S3 guide's worked examples ("Signing and authenticating REST
//! requests", bucket `johnsmith`, key AKIAIOSFODNN7EXAMPLE): each request's string to sign
//! and signature, then the refusals (a wrong or altered signature, a stale date, an
//! expired URL) that make a SigV2 request unreplayable.

use oxiam_sigv4::SignedRequest;
use oxiam_sigv4::v2::{V2Form, V2Refusal, parse_v2, sign, string_to_sign};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

struct Example {
    method: &'static str,
    path: &'static str,
    query: &'static str,
    headers: &'static [(&'static str, &'static str)],
    string_to_sign: &'static str,
    signature: &'static str,
}

/// The guide's examples, path-style (oxiam serves path-style requests: the bucket is the
/// path's first segment, so the path is the signed resource as sent).
const EXAMPLES: &[Example] = &[
    Example {
        method: "GET",
        path: "/johnsmith/photos/puppy.jpg",
        query: "",
        headers: &[("Date", "Tue, 27 Mar 2007 19:36:42 +0000")],
        string_to_sign: "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg",
        signature: "bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
    },
    Example {
        method: "PUT",
        path: "/johnsmith/photos/puppy.jpg",
        query: "",
        headers: &[
            ("Content-Type", "image/jpeg"),
            ("Content-Length", "94328"),
            ("Date", "Tue, 27 Mar 2007 21:15:45 +0000"),
        ],
        string_to_sign: "PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/johnsmith/photos/puppy.jpg",
        signature: "MyyxeRY7whkBe+bq8fHCL/2kKUg=",
    },
    Example {
        method: "GET",
        path: "/johnsmith/",
        query: "prefix=photos&max-keys=50&marker=puppy",
        headers: &[
            ("User-Agent", "Mozilla/5.0"),
            ("Date", "Tue, 27 Mar 2007 19:42:41 +0000"),
        ],
        string_to_sign: "GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/johnsmith/",
        signature: "htDYFYduRNen8P9ZfE/s9SuKy0U=",
    },
    Example {
        method: "GET",
        path: "/johnsmith/",
        query: "acl",
        headers: &[("Date", "Tue, 27 Mar 2007 19:44:46 +0000")],
        string_to_sign: "GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/johnsmith/?acl",
        signature: "c2WLPFtWHVgbEmeEG93a4cG37dM=",
    },
    // With x-amz-date, as clients sign it (the Date slot empty, x-amz-date among the amz
    // headers; the guide's own signature for this request uses another form).
    Example {
        method: "DELETE",
        path: "/johnsmith/photos/puppy.jpg",
        query: "",
        headers: &[
            ("User-Agent", "dotnet"),
            ("Date", "Tue, 27 Mar 2007 21:20:27 +0000"),
            ("x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"),
        ],
        string_to_sign: "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/johnsmith/photos/puppy.jpg",
        signature: "R4dJ53KECjStyBO5iTBJZ4XVOaI=",
    },
    Example {
        method: "PUT",
        path: "/static.johnsmith.net/db-backup.dat.gz",
        query: "",
        headers: &[
            ("Date", "Tue, 27 Mar 2007 21:06:08 +0000"),
            ("x-amz-acl", "public-read"),
            ("content-type", "application/x-download"),
            ("Content-MD5", "4gJE4saaMU4BqNR0kLY+lw=="),
            ("X-Amz-Meta-ReviewedBy", "joe@johnsmith.net"),
            ("X-Amz-Meta-ReviewedBy", "jane@johnsmith.net"),
            ("X-Amz-Meta-FileChecksum", "0x02661779"),
            ("X-Amz-Meta-ChecksumAlgorithm", "crc32"),
            ("Content-Disposition", "attachment; filename=database.dat"),
            ("Content-Encoding", "gzip"),
            ("Content-Length", "5913339"),
        ],
        string_to_sign: "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\nx-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\nx-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n/static.johnsmith.net/db-backup.dat.gz",
        signature: "ilyl83RwaSoYIEdixDQcA4OnAnc=",
    },
    Example {
        method: "GET",
        path: "/",
        query: "",
        headers: &[("Date", "Wed, 28 Mar 2007 01:29:59 +0000")],
        string_to_sign: "GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/",
        signature: "qGdzdERIC03wnaRNKh6OqZehG9s=",
    },
    // The path exactly as sent: not decoded, hex case kept.
    Example {
        method: "GET",
        path: "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
        query: "",
        headers: &[("Date", "Wed, 28 Mar 2007 01:49:49 +0000")],
        string_to_sign: "GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
        signature: "DNEZGsoieTZ92F3bUfSPQcbGmlM=",
    },
    Example {
        method: "GET",
        path: "/johnsmith/photos/puppy.jpg",
        query: "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620",
        headers: &[],
        string_to_sign: "GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg",
        signature: "NpgCjnDzrM+WFzoENXmpNDUsSn8=",
    },
];

fn with_request<T>(e: &Example, extra: Option<(&str, &str)>, f: impl FnOnce(&SignedRequest<'_>) -> T) -> T {
    let authorization = format!("AWS AKIAIOSFODNN7EXAMPLE:{}", e.signature);
    let mut headers: Vec<(&str, &[u8])> = e.headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
    if !e.query.contains("Signature=") {
        headers.push(("Authorization", authorization.as_bytes()));
    }
    if let Some((n, v)) = extra {
        headers.push((n, v.as_bytes()));
    }
    f(&SignedRequest {
        method: e.method,
        raw_path: e.path,
        raw_query: e.query,
        headers: &headers,
        body: b"",
    })
}

#[test]
fn the_guides_examples_sign_and_verify() {
    for e in EXAMPLES {
        with_request(e, None, |req| {
            let claim = parse_v2(req).expect("a SigV2 request").expect("well formed");
            assert_eq!(claim.access_key_id, "AKIAIOSFODNN7EXAMPLE");
            assert_eq!(
                string_to_sign(req, claim.form),
                e.string_to_sign,
                "{} {}",
                e.method,
                e.path
            );
            assert_eq!(sign(SECRET, e.string_to_sign), e.signature);
            assert!(claim.verify(req, SECRET), "{} {}", e.method, e.path);
            assert!(!claim.verify(req, "another secret"));
        });
    }
}

#[test]
fn anything_signed_changed_breaks_the_signature() {
    let put = &EXAMPLES[5];
    // An added amz header (an ACL, a tag, metadata) is signed: it cannot be slipped in.
    with_request(put, Some(("x-amz-tagging", "admin=true")), |req| {
        let claim = parse_v2(req).unwrap().unwrap();
        assert!(!claim.verify(req, SECRET));
    });
    // A sub-resource turns a GET of the object into a GET of its ACL: signed.
    let get = &EXAMPLES[0];
    let acl = Example { query: "acl", ..*get };
    with_request(&acl, None, |req| {
        assert!(!parse_v2(req).unwrap().unwrap().verify(req, SECRET));
    });
    // Parameters that are not sub-resources are not signed, as S3 specifies.
    let listed = Example {
        query: "prefix=other",
        ..*get
    };
    with_request(&listed, None, |req| {
        assert!(parse_v2(req).unwrap().unwrap().verify(req, SECRET));
    });
}

#[test]
fn a_stale_or_missing_date_and_an_expired_url_are_refused() {
    let get = &EXAMPLES[0];
    // Tue, 27 Mar 2007 19:36:42 GMT.
    let signed_at = 1_175_024_202;
    with_request(get, None, |req| {
        let claim = parse_v2(req).unwrap().unwrap();
        assert_eq!(claim.form, V2Form::Header);
        assert_eq!(claim.check_time(req, signed_at), Ok(()));
        assert_eq!(claim.check_time(req, signed_at + 15 * 60), Ok(()));
        assert_eq!(claim.check_time(req, signed_at - 15 * 60), Ok(()));
        assert_eq!(
            claim.check_time(req, signed_at + 15 * 60 + 1),
            Err(V2Refusal::Skewed("Tue, 27 Mar 2007 19:36:42 +0000".to_owned()))
        );
        assert!(claim.check_time(req, signed_at - 15 * 60 - 1).is_err());
    });
    let undated = Example { headers: &[], ..*get };
    with_request(&undated, None, |req| {
        let claim = parse_v2(req).unwrap().unwrap();
        assert_eq!(claim.check_time(req, signed_at), Err(V2Refusal::MissingDate));
    });
    let presigned = &EXAMPLES[8];
    with_request(presigned, None, |req| {
        let claim = parse_v2(req).unwrap().unwrap();
        assert_eq!(claim.form, V2Form::Presigned { expires: 1_175_139_620 });
        assert_eq!(claim.check_time(req, 1_175_139_620), Ok(()));
        assert_eq!(
            claim.check_time(req, 1_175_139_621),
            Err(V2Refusal::Expired(1_175_139_620))
        );
    });
}

#[test]
fn what_is_not_sigv2_is_not_claimed_and_malformed_is_refused() {
    let request = |headers: &[(&str, &[u8])], query: &str| -> Option<Result<(), V2Refusal>> {
        parse_v2(&SignedRequest {
            method: "GET",
            raw_path: "/",
            raw_query: query,
            headers,
            body: b"",
        })
        .map(|r| r.map(|_| ()))
    };
    let v4 =
        b"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00";
    assert_eq!(request(&[("Authorization", v4)], ""), None);
    assert_eq!(request(&[], "X-Amz-Signature=00&X-Amz-Credential=x"), None);
    assert_eq!(request(&[], ""), None);
    assert!(matches!(
        request(&[("Authorization", b"AWS AKIAIOSFODNN7EXAMPLE")], ""),
        Some(Err(V2Refusal::Malformed(_)))
    ));
    assert!(matches!(
        request(&[], "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=x&Expires=soon"),
        Some(Err(V2Refusal::Malformed(_)))
    ));
}
