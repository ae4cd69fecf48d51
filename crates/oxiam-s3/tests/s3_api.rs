//! The S3 endpoint driven by aws-sdk-s3 (and raw HTTP where the SDK cannot go).

mod common;

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier};
use common::{ACCOUNT, Harness, code, message, status};
use oxiam_protocol::iam;

async fn body(out: aws_sdk_s3::operation::get_object::GetObjectOutput) -> Vec<u8> {
    out.body.collect().await.unwrap().into_bytes().to_vec()
}

fn delete_of(keys: &[&str]) -> Delete {
    Delete::builder()
        .set_objects(Some(
            keys.iter()
                .map(|k| ObjectIdentifier::builder().key(*k).build().unwrap())
                .collect(),
        ))
        .build()
        .unwrap()
}

#[tokio::test]
async fn root_manages_buckets_and_objects_in_us_east_1() {
    let h = Harness::start().await;
    let s3 = h.root();
    let bucket = "demo-iam-bucket-1";

    let created = s3.create_bucket().bucket(bucket).send().await.unwrap();
    assert_eq!(created.location(), Some("/demo-iam-bucket-1"));
    // Re-creating one's own bucket in us-east-1 answers 200, as S3 does.
    s3.create_bucket().bucket(bucket).send().await.unwrap();

    let listed = s3.list_buckets().send().await.unwrap();
    let names: Vec<_> = listed.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, [bucket]);
    assert!(listed.buckets()[0].creation_date().is_some());
    assert_eq!(listed.buckets()[0].bucket_region(), Some("us-east-1"));
    assert_eq!(listed.owner().and_then(|o| o.id()).map(str::len), Some(64));

    let head = s3.head_bucket().bucket(bucket).send().await.unwrap();
    assert_eq!(head.bucket_region(), Some("us-east-1"));
    // us-east-1 is an empty <LocationConstraint/>, as S3 answers (the SDK reads "").
    let location = s3.get_bucket_location().bucket(bucket).send().await.unwrap();
    assert_eq!(location.location_constraint().map_or("", |c| c.as_str()), "");

    let put = s3
        .put_object()
        .bucket(bucket)
        .key("dir/hello.txt")
        .content_type("text/plain")
        .body(ByteStream::from_static(b"hello, oxiam"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        put.e_tag(),
        Some(format!("\"{:032x}\"", md5_of(b"hello, oxiam")).as_str())
    );
    s3.put_object()
        .bucket(bucket)
        .key("top.txt")
        .body(ByteStream::from_static(b"top"))
        .send()
        .await
        .unwrap();

    let got = s3
        .get_object()
        .bucket(bucket)
        .key("dir/hello.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(body(got).await, b"hello, oxiam");
    let ranged = s3
        .get_object()
        .bucket(bucket)
        .key("dir/hello.txt")
        .range("bytes=7-11")
        .send()
        .await
        .unwrap();
    assert_eq!(body(ranged).await, b"oxiam");
    let head = s3
        .head_object()
        .bucket(bucket)
        .key("dir/hello.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(12));

    let missing = s3.get_object().bucket(bucket).key("nope").send().await.unwrap_err();
    assert_eq!(code(&missing), "NoSuchKey");
    assert_eq!(status(&missing), 404);
    let no_bucket = s3
        .get_object()
        .bucket("no-such-bucket-x")
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&no_bucket), "NoSuchBucket");
    let no_bucket = s3
        .put_object()
        .bucket("no-such-bucket-x")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&no_bucket), "NoSuchBucket");

    let v2 = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
    let keys: Vec<_> = v2.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["dir/hello.txt", "top.txt"]);
    assert_eq!(v2.key_count(), Some(2));
    let v2 = s3.list_objects_v2().bucket(bucket).delimiter("/").send().await.unwrap();
    let prefixes: Vec<_> = v2.common_prefixes().iter().filter_map(|p| p.prefix()).collect();
    assert_eq!(prefixes, ["dir/"]);
    assert_eq!(
        v2.contents().iter().filter_map(|o| o.key()).collect::<Vec<_>>(),
        ["top.txt"]
    );
    let v1 = s3.list_objects().bucket(bucket).prefix("dir/").send().await.unwrap();
    assert_eq!(
        v1.contents().iter().filter_map(|o| o.key()).collect::<Vec<_>>(),
        ["dir/hello.txt"]
    );
    assert_eq!(v1.contents()[0].size(), Some(12));
    let page = s3.list_objects().bucket(bucket).max_keys(1).send().await.unwrap();
    assert_eq!(page.is_truncated(), Some(true));
    let rest = s3
        .list_objects()
        .bucket(bucket)
        .marker("dir/hello.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(rest.marker(), Some("dir/hello.txt"));
    assert_eq!(
        rest.contents().iter().filter_map(|o| o.key()).collect::<Vec<_>>(),
        ["top.txt"]
    );

    let copied = s3
        .copy_object()
        .bucket(bucket)
        .key("copy/of-hello.txt")
        .copy_source(format!("{bucket}/dir/hello.txt"))
        .send()
        .await
        .unwrap();
    assert!(copied.copy_object_result().and_then(|r| r.e_tag()).is_some());
    let got = s3
        .get_object()
        .bucket(bucket)
        .key("copy/of-hello.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(body(got).await, b"hello, oxiam");

    s3.delete_object().bucket(bucket).key("top.txt").send().await.unwrap();
    let gone = s3.head_object().bucket(bucket).key("top.txt").send().await.unwrap_err();
    assert_eq!(status(&gone), 404);

    let not_empty = s3.delete_bucket().bucket(bucket).send().await.unwrap_err();
    assert_eq!(code(&not_empty), "BucketNotEmpty");
    assert_eq!(status(&not_empty), 409);

    let deleted = s3
        .delete_objects()
        .bucket(bucket)
        .delete(delete_of(&["dir/hello.txt", "copy/of-hello.txt", "never-existed"]))
        .send()
        .await
        .unwrap();
    let mut keys: Vec<_> = deleted.deleted().iter().filter_map(|d| d.key()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["copy/of-hello.txt", "dir/hello.txt", "never-existed"]);
    assert!(deleted.errors().is_empty());
    // Quiet mode reports only errors.
    s3.put_object()
        .bucket(bucket)
        .key("quiet.txt")
        .body(ByteStream::from_static(b"q"))
        .send()
        .await
        .unwrap();
    let quiet = s3
        .delete_objects()
        .bucket(bucket)
        .delete(
            Delete::builder()
                .objects(ObjectIdentifier::builder().key("quiet.txt").build().unwrap())
                .quiet(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert!(quiet.deleted().is_empty() && quiet.errors().is_empty());
    assert!(
        s3.list_objects_v2()
            .bucket(bucket)
            .send()
            .await
            .unwrap()
            .contents()
            .is_empty()
    );

    s3.delete_bucket().bucket(bucket).send().await.unwrap();
    let gone = s3.head_bucket().bucket(bucket).send().await.unwrap_err();
    assert_eq!(status(&gone), 404);
    let gone = s3.delete_bucket().bucket(bucket).send().await.unwrap_err();
    assert_eq!(code(&gone), "NoSuchBucket");
    assert!(s3.list_buckets().send().await.unwrap().buckets().is_empty());
}

fn md5_of(data: &[u8]) -> u128 {
    // A tiny MD5 so the test does not need a crate for it (RFC 1321).
    let s: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14,
        20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6,
        10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4294967296.0) as u32)
        .collect();
    let (mut a0, mut b0, mut c0, mut d0) = (0x67452301u32, 0xefcdab89u32, 0x98badcfeu32, 0x10325476u32);
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_le_bytes());
    for chunk in msg.chunks(64) {
        let m: Vec<u32> = chunk
            .chunks(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(s[i]));
        }
        a0 = a0.wrapping_add(a);
        b0 = b0.wrapping_add(b);
        c0 = c0.wrapping_add(c);
        d0 = d0.wrapping_add(d);
    }
    let mut out = [0u8; 16];
    for (i, w) in [a0, b0, c0, d0].iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    u128::from_be_bytes(out)
}

#[tokio::test]
async fn buckets_honour_location_constraints() {
    let h = Harness::start().await;
    let eu = h.client(&h.root_key.0, &h.root_key.1, None, "eu-west-1");
    let bucket = "demo-iam-bucket-eu";

    let err = eu.create_bucket().bucket(bucket).send().await.unwrap_err();
    assert_eq!(code(&err), "IllegalLocationConstraintException");

    let config = CreateBucketConfiguration::builder()
        .location_constraint(BucketLocationConstraint::EuWest1)
        .build();
    eu.create_bucket()
        .bucket(bucket)
        .create_bucket_configuration(config.clone())
        .send()
        .await
        .unwrap();
    let location = eu.get_bucket_location().bucket(bucket).send().await.unwrap();
    assert_eq!(location.location_constraint(), Some(&BucketLocationConstraint::EuWest1));
    let head = eu.head_bucket().bucket(bucket).send().await.unwrap();
    assert_eq!(head.bucket_region(), Some("eu-west-1"));
    let listed = eu.list_buckets().send().await.unwrap();
    assert_eq!(listed.buckets()[0].bucket_region(), Some("eu-west-1"));

    let again = eu
        .create_bucket()
        .bucket(bucket)
        .create_bucket_configuration(config)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&again), "BucketAlreadyOwnedByYou");
    assert_eq!(status(&again), 409);

    // From us-east-1 any region may be named; us-east-1 itself may not.
    let us = h.root();
    let config = CreateBucketConfiguration::builder()
        .location_constraint(BucketLocationConstraint::ApSoutheast2)
        .build();
    us.create_bucket()
        .bucket("demo-iam-bucket-ap")
        .create_bucket_configuration(config)
        .send()
        .await
        .unwrap();
    let location = us
        .get_bucket_location()
        .bucket("demo-iam-bucket-ap")
        .send()
        .await
        .unwrap();
    assert_eq!(
        location.location_constraint(),
        Some(&BucketLocationConstraint::ApSoutheast2)
    );
    let config = CreateBucketConfiguration::builder()
        .location_constraint(BucketLocationConstraint::from("us-east-1"))
        .build();
    let err = us
        .create_bucket()
        .bucket("demo-iam-bucket-us")
        .create_bucket_configuration(config)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidLocationConstraint");

    // Objects work the same in a regional bucket, signed for that region.
    eu.put_object()
        .bucket(bucket)
        .key("k")
        .body(ByteStream::from_static(b"eu"))
        .send()
        .await
        .unwrap();
    let got = eu.get_object().bucket(bucket).key("k").send().await.unwrap();
    assert_eq!(body(got).await, b"eu");
}

#[tokio::test]
async fn bucket_policies_are_kept_and_checked() {
    let h = Harness::start().await;
    let s3 = h.root();
    let bucket = "policy-bucket";
    s3.create_bucket().bucket(bucket).send().await.unwrap();

    let none = s3.get_bucket_policy().bucket(bucket).send().await.unwrap_err();
    assert_eq!(code(&none), "NoSuchBucketPolicy");
    assert_eq!(status(&none), 404);

    let bad = s3
        .put_bucket_policy()
        .bucket(bucket)
        .policy("not json")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&bad), "MalformedPolicy");
    assert_eq!(
        message(&bad),
        "Policies must be valid JSON and the first byte must be '{'"
    );
    let bad = s3
        .put_bucket_policy()
        .bucket(bucket)
        .policy(r#"{"Version":"2012-10-17"}"#)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&bad), "MalformedPolicy");

    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
    );
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(&policy)
        .send()
        .await
        .unwrap();
    let got = s3.get_bucket_policy().bucket(bucket).send().await.unwrap();
    assert_eq!(got.policy(), Some(policy.as_str()));

    // Requests still go through while the bucket has a policy.
    s3.put_object()
        .bucket(bucket)
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    s3.get_object().bucket(bucket).key("k").send().await.unwrap();

    s3.delete_bucket_policy().bucket(bucket).send().await.unwrap();
    let none = s3.get_bucket_policy().bucket(bucket).send().await.unwrap_err();
    assert_eq!(code(&none), "NoSuchBucketPolicy");
    // Deleting an absent policy succeeds, as in S3.
    s3.delete_bucket_policy().bucket(bucket).send().await.unwrap();

    let no_bucket = s3
        .put_bucket_policy()
        .bucket("no-such-bucket-y")
        .policy(&policy)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&no_bucket), "NoSuchBucket");
}

#[tokio::test]
async fn presigned_urls_work_and_are_checked() {
    let h = Harness::start().await;
    let s3 = h.root();
    s3.create_bucket().bucket("presign-bucket").send().await.unwrap();
    s3.put_object()
        .bucket("presign-bucket")
        .key("docs/report.txt")
        .body(ByteStream::from_static(b"presigned bytes"))
        .send()
        .await
        .unwrap();

    let presigned = s3
        .get_object()
        .bucket("presign-bucket")
        .key("docs/report.txt")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    let uri: http::Uri = presigned.uri().parse().unwrap();
    let path = uri.path_and_query().unwrap().as_str().to_owned();
    assert!(path.contains("X-Amz-Signature="));
    let (status, head, body) = h.raw("GET", &path, &[]).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(head.to_ascii_lowercase().contains("x-amz-request-id: "), "{head}");
    assert_eq!(body, b"presigned bytes");

    // Another key under the same signature: the signature no longer matches.
    let tampered = path.replace("docs/report.txt", "docs/other.txt");
    let (status, _, body) = h.raw("GET", &tampered, &[]).await;
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&body).contains("<Code>SignatureDoesNotMatch</Code>"));

    // A presigned URL carrying a session token is refused.
    let with_token = h.client(
        &h.root_key.0,
        &h.root_key.1,
        Some("FQoGZXIvYXdzEXAMPLETOKEN"),
        "us-east-1",
    );
    let presigned = with_token
        .get_object()
        .bucket("presign-bucket")
        .key("docs/report.txt")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    let uri: http::Uri = presigned.uri().parse().unwrap();
    let path = uri.path_and_query().unwrap().as_str();
    assert!(path.contains("X-Amz-Security-Token="));
    let (status, _, body) = h.raw("GET", path, &[]).await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("<Code>InvalidToken</Code>"));

    // An unsigned request is anonymous, and oxiam serves no anonymous requests.
    let (status, _, body) = h.raw("GET", "/presign-bucket/docs/report.txt", &[]).await;
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&body).contains("<Code>AccessDenied</Code>"));
}

#[tokio::test]
async fn bad_credentials_are_rejected() {
    let h = Harness::start().await;
    h.root().create_bucket().bucket("auth-bucket").send().await.unwrap();

    let unknown = h.client(
        "AKIAUNKNOWNKEY000000",
        "secretsecretsecretsecretsecretsecret0000",
        None,
        "us-east-1",
    );
    let err = unknown.list_buckets().send().await.unwrap_err();
    assert_eq!(code(&err), "InvalidAccessKeyId");
    assert_eq!(status(&err), 403);
    assert_eq!(
        message(&err),
        "The AWS Access Key Id you provided does not exist in our records."
    );

    let wrong = h.client(
        &h.root_key.0,
        "wrong-secret-wrong-secret-wrong-secret00",
        None,
        "us-east-1",
    );
    let err = wrong.list_objects_v2().bucket("auth-bucket").send().await.unwrap_err();
    assert_eq!(code(&err), "SignatureDoesNotMatch");
    assert_eq!(status(&err), 403);

    let token = h.client(
        &h.root_key.0,
        &h.root_key.1,
        Some("FQoGZXIvYXdzEXAMPLETOKEN"),
        "us-east-1",
    );
    let err = token.list_buckets().send().await.unwrap_err();
    assert_eq!(code(&err), "InvalidToken");
    assert_eq!(message(&err), "The provided token is malformed or otherwise invalid.");
    let err = token
        .get_object()
        .bucket("auth-bucket")
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidToken");

    // An inactive key no longer signs.
    let (key, secret) = h.user_with_key("parked").await;
    let root = h.root_principal().await;
    h.oxiam
        .execute_iam(
            &root,
            iam::Request::UpdateAccessKey(iam::UpdateAccessKeyRequest {
                user_name: Some("parked".into()),
                access_key_id: key.clone(),
                status: iam::StatusType::Inactive,
            }),
            common::now(),
        )
        .await
        .unwrap();
    let err = h
        .client(&key, &secret, None, "us-east-1")
        .list_buckets()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidAccessKeyId");
}

#[tokio::test]
async fn iam_users_without_policies_are_denied() {
    let h = Harness::start().await;
    let root = h.root();
    let bucket = "demo-iam-bucket-users";
    root.create_bucket().bucket(bucket).send().await.unwrap();
    root.put_object()
        .bucket(bucket)
        .key("secret.txt")
        .body(ByteStream::from_static(b"s"))
        .send()
        .await
        .unwrap();

    let (key, secret) = h.user_with_key("demo-iam-getter").await;
    let user = h.client(&key, &secret, None, "us-east-1");

    let err = user
        .get_object()
        .bucket(bucket)
        .key("secret.txt")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    assert_eq!(status(&err), 403);
    // Same account as the bucket's owner: S3 explains the denial.
    assert_eq!(
        message(&err),
        format!(
            "User: arn:aws:iam::123456789012:user/demo-iam-getter is not authorized to perform: s3:GetObject on \
             resource: \"arn:aws:s3:::{bucket}/secret.txt\" because no identity-based policy allows the s3:GetObject action"
        )
    );
    let err = user.list_buckets().send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    assert_eq!(
        message(&err),
        "User: arn:aws:iam::123456789012:user/demo-iam-getter is not authorized to perform: s3:ListAllMyBuckets \
         because no identity-based policy allows the s3:ListAllMyBuckets action",
        "ListAllMyBuckets names no resource"
    );
    let err = user
        .put_object()
        .bucket(bucket)
        .key("x")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    let err = user.list_objects_v2().bucket(bucket).send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    let err = user.create_bucket().bucket("user-bucket").send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    let err = user.delete_bucket().bucket(bucket).send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    let err = user
        .copy_object()
        .bucket(bucket)
        .key("stolen.txt")
        .copy_source(format!("{bucket}/secret.txt"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    let err = user.get_bucket_policy().bucket(bucket).send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    // A denied HEAD has no body: 403 only.
    let err = user
        .head_object()
        .bucket(bucket)
        .key("secret.txt")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&err), 403);

    // DeleteObjects from a user who may delete nothing in the bucket is refused before its
    // list of keys is read (S3 would read it, and answer AccessDenied per key).
    let err = user
        .delete_objects()
        .bucket(bucket)
        .delete(delete_of(&["secret.txt", "other.txt"]))
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&err), code(&err).as_str()), (403, "AccessDenied"));
    let still = root.get_object().bucket(bucket).key("secret.txt").send().await.unwrap();
    assert_eq!(body(still).await, b"s");

    // The user's key use is recorded for S3, with the region it signed for.
    let principal = h.root_principal().await;
    let response = h
        .oxiam
        .execute_iam(
            &principal,
            iam::Request::GetAccessKeyLastUsed(iam::GetAccessKeyLastUsedRequest {
                access_key_id: key.clone(),
            }),
            common::now(),
        )
        .await
        .unwrap();
    let iam::Response::GetAccessKeyLastUsed(last) = response else {
        panic!("{response:?}")
    };
    let last = last.access_key_last_used.unwrap();
    assert_eq!(last.service_name, "s3");
    assert_eq!(last.region, "us-east-1");
    assert!(last.last_used_date.is_some());
}

#[tokio::test]
async fn buckets_belong_to_their_account() {
    let dir = tempfile::tempdir().unwrap();
    let a = Harness::start_with(
        dir.path(),
        &dir.path().join("s3"),
        "111111111111",
        "AKIAACCOUNTA00000000",
        "secret-of-account-a-secret-of-account-a0",
    )
    .await;
    let (_, sb) = a.second_account("222222222222").await;
    let sa = a.root();

    sa.create_bucket().bucket("shared-name").send().await.unwrap();
    sa.put_object()
        .bucket("shared-name")
        .key("k")
        .body(ByteStream::from_static(b"a"))
        .send()
        .await
        .unwrap();

    let err = sb.create_bucket().bucket("shared-name").send().await.unwrap_err();
    assert_eq!(code(&err), "BucketAlreadyExists");
    assert_eq!(status(&err), 409);
    assert!(sb.list_buckets().send().await.unwrap().buckets().is_empty());
    assert_eq!(sa.list_buckets().send().await.unwrap().buckets().len(), 1);

    // Another account's bucket without a bucket policy grants nothing, even to a root.
    let err = sb.get_object().bucket("shared-name").key("k").send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    let err = sb.list_objects_v2().bucket("shared-name").send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    let err = sb.delete_bucket().bucket("shared-name").send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    let err = sb
        .put_bucket_policy()
        .bucket("shared-name")
        .policy(r#"{"Statement":[]}"#)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    // Another account's bucket, with no bucket policy: nothing there may be deleted, and
    // DeleteObjects is refused before its keys are read, in the bare words S3 gives others.
    let err = sb
        .delete_objects()
        .bucket("shared-name")
        .delete(delete_of(&["k"]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (code(&err).as_str(), message(&err).as_str()),
        ("AccessDenied", "Access Denied")
    );
    let err = sa
        .head_bucket()
        .bucket("shared-name")
        .expected_bucket_owner("222222222222")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&err), 403);
    sa.head_bucket()
        .bucket("shared-name")
        .expected_bucket_owner("111111111111")
        .send()
        .await
        .unwrap();

    // A bucket policy may grant another account access, but never the management of the
    // policy itself: S3 answers 405.
    let grant_b = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"s3:GetBucketPolicy","Resource":"arn:aws:s3:::shared-name"}]}"#;
    sa.put_bucket_policy()
        .bucket("shared-name")
        .policy(grant_b)
        .send()
        .await
        .unwrap();
    let err = sb.get_bucket_policy().bucket("shared-name").send().await.unwrap_err();
    assert_eq!(status(&err), 405);
    assert_eq!(code(&err), "MethodNotAllowed");

    // Once the owner deletes it, the name is free for anyone, with none of the old objects.
    sa.delete_objects()
        .bucket("shared-name")
        .delete(delete_of(&["k"]))
        .send()
        .await
        .unwrap();
    sa.delete_bucket().bucket("shared-name").send().await.unwrap();
    sb.create_bucket().bucket("shared-name").send().await.unwrap();
    assert!(
        sb.list_objects_v2()
            .bucket("shared-name")
            .send()
            .await
            .unwrap()
            .contents()
            .is_empty()
    );
}

/// Keys shaped like paths are keys like any other: stored under their own names in
/// their own bucket (a blob is named by id), listed back exactly, and never another
/// bucket's object or a file outside the store. Keys of up to 1,024 bytes are taken, as
/// in S3; a longer one is KeyTooLongError.
#[tokio::test]
async fn keys_are_names_never_paths() {
    let h = Harness::start().await;
    let s3 = h.root();
    s3.create_bucket().bucket("escape-a").send().await.unwrap();
    s3.create_bucket().bucket("escape-b").send().await.unwrap();
    let long_ascii = "k".repeat(1024);
    let long_utf8 = "é".repeat(512);
    let keys = [
        "x/../../escape-b/owned",
        "a//b",
        "./a",
        "dir",
        "dir/",
        "dir/file",
        long_ascii.as_str(),
        long_utf8.as_str(),
    ];
    for key in keys {
        s3.put_object()
            .bucket("escape-a")
            .key(key)
            .body(ByteStream::from(key.as_bytes().to_vec()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{key}: {e:?}"));
    }
    for key in keys {
        let got = s3.get_object().bucket("escape-a").key(key).send().await.unwrap();
        assert_eq!(body(got).await, key.as_bytes(), "{key}");
    }
    let listed = s3.list_objects_v2().bucket("escape-a").send().await.unwrap();
    let mut expected: Vec<&str> = keys.to_vec();
    expected.sort_unstable();
    let names: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(names, expected);
    assert!(
        listed
            .contents()
            .iter()
            .all(|o| o.e_tag().is_some() && o.storage_class().is_some())
    );
    assert!(
        s3.list_objects_v2()
            .bucket("escape-b")
            .send()
            .await
            .unwrap()
            .contents()
            .is_empty()
    );
    let err = s3
        .put_object()
        .bucket("escape-a")
        .key("k".repeat(1025))
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!((code(&err).as_str(), status(&err)), ("KeyTooLongError", 400));
    s3.copy_object()
        .bucket("escape-b")
        .key("copied")
        .copy_source("escape-a/x/../../escape-b/owned")
        .send()
        .await
        .unwrap();
    let got = s3.get_object().bucket("escape-b").key("copied").send().await.unwrap();
    assert_eq!(body(got).await, b"x/../../escape-b/owned");
}

#[tokio::test]
async fn multipart_uploads_complete() {
    let h = Harness::start().await;
    let s3 = h.root();
    s3.create_bucket().bucket("multipart-bucket").send().await.unwrap();
    let upload = s3
        .create_multipart_upload()
        .bucket("multipart-bucket")
        .key("big")
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap();
    let part = s3
        .upload_part()
        .bucket("multipart-bucket")
        .key("big")
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from_static(b"only part"))
        .send()
        .await
        .unwrap();
    let completed = aws_sdk_s3::types::CompletedMultipartUpload::builder()
        .parts(
            aws_sdk_s3::types::CompletedPart::builder()
                .part_number(1)
                .e_tag(part.e_tag().unwrap())
                .build(),
        )
        .build();
    s3.complete_multipart_upload()
        .bucket("multipart-bucket")
        .key("big")
        .upload_id(id)
        .multipart_upload(completed)
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket("multipart-bucket")
        .key("big")
        .send()
        .await
        .unwrap();
    assert_eq!(body(got).await, b"only part");
}

#[tokio::test]
async fn listings_url_encode_keys_on_request() {
    let h = Harness::start().await;
    let s3 = h.root();
    s3.create_bucket().bucket("encoding-bucket").send().await.unwrap();
    s3.put_object()
        .bucket("encoding-bucket")
        .key("a dir/b+c&d.txt")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let plain = s3.list_objects_v2().bucket("encoding-bucket").send().await.unwrap();
    assert_eq!(plain.contents()[0].key(), Some("a dir/b+c&d.txt"));
    assert_eq!(
        plain.contents()[0].storage_class().map(|c| c.as_str()),
        Some("STANDARD")
    );
    // With encoding-type=url keys come back percent-encoded as S3 encodes them: a space
    // %20, a `+` %2B, a `/` as it is.
    let encoded = s3
        .list_objects_v2()
        .bucket("encoding-bucket")
        .encoding_type(aws_sdk_s3::types::EncodingType::Url)
        .send()
        .await
        .unwrap();
    assert_eq!(encoded.contents()[0].key(), Some("a%20dir/b%2Bc%26d.txt"));
    let encoded = s3
        .list_objects()
        .bucket("encoding-bucket")
        .delimiter("/")
        .encoding_type(aws_sdk_s3::types::EncodingType::Url)
        .send()
        .await
        .unwrap();
    assert_eq!(encoded.common_prefixes()[0].prefix(), Some("a%20dir/"));
}
