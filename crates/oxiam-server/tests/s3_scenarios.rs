//! End to end: the S3 endpoint on the same port, guarded by IAM. Scenario 1 (a writer that
//! may put but not get, a reader that may get but not delete), scenario 6 (denied before
//! assuming a role, allowed after), bucket policies granting another user and explicit
//! denies, and presigned GETs.

use crate::common;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier};
use common::{ROOT_KEY, ROOT_SECRET, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn s3(s: &TestServer, key: &str, secret: &str, token: Option<&str>, region: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(s.endpoint())
        .force_path_style(true)
        .credentials_provider(Credentials::new(key, secret, token.map(str::to_owned), None, "test"))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

fn s3_code<E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    e: &aws_sdk_s3::error::SdkError<E, R>,
) -> String {
    match e {
        aws_sdk_s3::error::SdkError::ServiceError(se) => se.err().code().unwrap_or("").to_owned(),
        _ => format!("{e:?}"),
    }
}

/// A user with one managed policy attached; returns its key.
async fn user_with(s: &TestServer, name: &str, document: &str) -> (String, String) {
    let iam = s.root_iam();
    iam.create_user().user_name(name).send().await.unwrap();
    let arn = iam
        .create_policy()
        .policy_name(format!("{name}-policy"))
        .description(format!("what {name} may do"))
        .policy_document(document)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap()
        .arn
        .unwrap();
    iam.attach_user_policy()
        .user_name(name)
        .policy_arn(arn)
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    (key.access_key_id, key.secret_access_key)
}

fn allow(action: &str, resource: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}]}}"#
    )
}

on_both_backends!(
    users_with_different_permissions,
    assume_role_to_list_buckets,
    bucket_policies_and_presigned_urls,
    completing_with_a_missing_part_is_invalid,
    object_versions_of_a_bucket_never_versioned,
    tags_decide_with_what_the_object_and_the_body_carry,
    one_current_version_under_parallel_writes,
    write_and_read_guards_hold,
);

fn s3_status<E>(e: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> u16 {
    e.raw_response().map_or(0, |r| r.status().as_u16())
}

/// The guards of a write and a read, each tried: If-None-Match `*` lets exactly one of
/// parallel creators win and nothing overwrite; a Content-MD5 or a checksum that is not the
/// body's stores nothing; a part smaller than 5 MiB may only be the last; If-Match and
/// If-None-Match on reads answer 412 and 304; a range answers 206 with its bytes.
async fn write_and_read_guards_hold(s: &TestServer) {
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
    let root = s3(s, ROOT_KEY, ROOT_SECRET, None, "us-east-1");
    root.create_bucket().bucket("guards").send().await.unwrap();
    let creators = (0..8).map(|n| {
        let root = root.clone();
        async move {
            root.put_object()
                .bucket("guards")
                .key("once")
                .if_none_match("*")
                .body(ByteStream::from(format!("creator {n}").into_bytes()))
                .send()
                .await
        }
    });
    let outcomes = futures_util::future::join_all(creators).await;
    let won: Vec<_> = outcomes.iter().filter(|o| o.is_ok()).collect();
    assert_eq!(won.len(), 1, "{outcomes:?}");
    for lost in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert_eq!((s3_code(lost).as_str(), s3_status(lost)), ("PreconditionFailed", 412));
    }
    let versions = root.list_object_versions().bucket("guards").send().await.unwrap();
    assert_eq!(versions.versions().len(), 1);

    // Digests that are not the body's: refused, and nothing stored.
    let md5_of_other = "XrY7u+Ae7tCTyyK7j1rNww=="; // the MD5 of "hello world"
    let refused = root
        .put_object()
        .bucket("guards")
        .key("digest")
        .content_md5(md5_of_other)
        .body(ByteStream::from_static(b"not hello world"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&refused), "BadDigest");
    let refused = root
        .put_object()
        .bucket("guards")
        .key("digest")
        .checksum_crc32("AAAAAA==")
        .body(ByteStream::from_static(b"some bytes"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&refused), "BadDigest");
    let missing = root
        .head_object()
        .bucket("guards")
        .key("digest")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_status(&missing), 404);

    // A part under 5 MiB may only be the last.
    let upload = root
        .create_multipart_upload()
        .bucket("guards")
        .key("parts")
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap();
    let mut parts = Vec::new();
    for n in 1..=2 {
        let part = root
            .upload_part()
            .bucket("guards")
            .key("parts")
            .upload_id(id)
            .part_number(n)
            .body(ByteStream::from_static(b"small"))
            .send()
            .await
            .unwrap();
        parts.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(part.e_tag().unwrap())
                .build(),
        );
    }
    let small = root
        .complete_multipart_upload()
        .bucket("guards")
        .key("parts")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts.clone()))
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&small), "EntityTooSmall");
    parts.reverse();
    let unordered = root
        .complete_multipart_upload()
        .bucket("guards")
        .key("parts")
        .upload_id(id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&unordered), "InvalidPartOrder");
    assert_eq!(
        s3_status(
            &root
                .head_object()
                .bucket("guards")
                .key("parts")
                .send()
                .await
                .unwrap_err()
        ),
        404
    );

    // Conditional and ranged reads.
    let etag = root
        .head_object()
        .bucket("guards")
        .key("once")
        .send()
        .await
        .unwrap()
        .e_tag()
        .unwrap()
        .to_owned();
    let stale = root
        .get_object()
        .bucket("guards")
        .key("once")
        .if_match("\"0\"")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_status(&stale), 412);
    let unchanged = root
        .get_object()
        .bucket("guards")
        .key("once")
        .if_none_match(&etag)
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_status(&unchanged), 304);
    let ranged = root
        .get_object()
        .bucket("guards")
        .key("once")
        .range("bytes=0-6")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.content_range(), Some("bytes 0-6/9"));
    assert_eq!(&ranged.body.collect().await.unwrap().into_bytes()[..], b"creator");
}

/// PutObjectTagging is decided with the object's tags and the body's, never a header's:
/// a Deny relabelling a secret object holds whatever `x-amz-tagging` says beside the body,
/// and an Allow on the object's own tags lets its holder retag it. GetObject sees the
/// object's tags too.
async fn tags_decide_with_what_the_object_and_the_body_carry(s: &TestServer) {
    use aws_sdk_s3::types::{Tag, Tagging};
    let root = s3(s, ROOT_KEY, ROOT_SECRET, None, "us-east-1");
    root.create_bucket().bucket("labels").send().await.unwrap();
    for (key, class) in [("secret", "secret"), ("public", "public")] {
        root.put_object()
            .bucket("labels")
            .key(key)
            .tagging(format!("class={class}"))
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["s3:PutObjectTagging","s3:GetObject"],"Resource":"arn:aws:s3:::labels/*",
         "Condition":{"StringEquals":{"s3:ExistingObjectTag/class":["secret","public"]}}},
        {"Effect":"Deny","Action":"s3:PutObjectTagging","Resource":"*",
         "Condition":{"StringEquals":{"s3:ExistingObjectTag/class":"secret"},
                      "StringNotEquals":{"s3:RequestObjectTag/class":"secret"}}},
        {"Effect":"Deny","Action":"s3:GetObject","Resource":"*",
         "Condition":{"StringEquals":{"s3:ExistingObjectTag/class":"secret"}}}]}"#;
    let (key, secret) = user_with(s, "labeller", policy).await;
    let user = s3(s, &key, &secret, None, "us-east-1");
    let tagging = |class: &str| {
        Tagging::builder()
            .tag_set(Tag::builder().key("class").value(class).build().unwrap())
            .build()
            .unwrap()
    };
    // Relabelling the secret object is denied, a header claiming "secret" or not.
    let refused = user
        .put_object_tagging()
        .bucket("labels")
        .key("secret")
        .tagging(tagging("public"))
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-amz-tagging", "class=secret");
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&refused), "AccessDenied");
    let refused = user
        .put_object_tagging()
        .bucket("labels")
        .key("secret")
        .tagging(tagging("public"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&refused), "AccessDenied");
    // Keeping its label is allowed (the Allow reads the object's tags), and so is
    // relabelling the public one, a header claiming otherwise or not.
    user.put_object_tagging()
        .bucket("labels")
        .key("secret")
        .tagging(tagging("secret"))
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-amz-tagging", "class=public");
        })
        .send()
        .await
        .unwrap();
    user.put_object_tagging()
        .bucket("labels")
        .key("public")
        .tagging(tagging("secret"))
        .send()
        .await
        .unwrap();
    // The public object is secret now: reading it is denied.
    let read = user
        .get_object()
        .bucket("labels")
        .key("public")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&read), "AccessDenied");
    let tags = root
        .get_object_tagging()
        .bucket("labels")
        .key("public")
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tag_set()[0].value(), "secret");
}

/// Parallel writers to one key of a versioned bucket each make a version, and exactly one
/// is current, on either database (PostgreSQL serializes the writes to a key with a lock,
/// SQLite has one writer).
async fn one_current_version_under_parallel_writes(s: &TestServer) {
    use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
    let root = s3(s, ROOT_KEY, ROOT_SECRET, None, "us-east-1");
    root.create_bucket().bucket("contended").send().await.unwrap();
    root.put_bucket_versioning()
        .bucket("contended")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let writes = (0..16).map(|n| {
        let root = root.clone();
        async move {
            let written = root
                .put_object()
                .bucket("contended")
                .key("k")
                .body(ByteStream::from(format!("write {n}").into_bytes()))
                .send()
                .await
                .unwrap();
            written.version_id().unwrap().to_owned()
        }
    });
    let ids = futures_util::future::join_all(writes).await;
    let versions = root.list_object_versions().bucket("contended").send().await.unwrap();
    let listed: Vec<&str> = versions.versions().iter().map(|v| v.version_id().unwrap()).collect();
    assert_eq!(listed.len(), 16);
    for id in &ids {
        assert!(listed.contains(&id.as_str()), "{id}");
    }
    let latest: Vec<_> = versions
        .versions()
        .iter()
        .filter(|v| v.is_latest() == Some(true))
        .collect();
    assert_eq!(latest.len(), 1);
    // The newest listed is the current one, and it is what a read returns.
    assert_eq!(latest[0].version_id(), versions.versions()[0].version_id());
    let current = root.get_object().bucket("contended").key("k").send().await.unwrap();
    assert_eq!(current.version_id(), latest[0].version_id());
}

/// A new bucket holding a one-byte object under each of `keys`.
async fn bucket_holding(s3: &aws_sdk_s3::Client, bucket: &str, keys: &[&str]) {
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    for key in keys {
        s3.put_object()
            .bucket(bucket)
            .key(*key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
}

/// The keys a ListObjectVersions page lists, in order.
fn version_keys(page: &aws_sdk_s3::operation::list_object_versions::ListObjectVersionsOutput) -> Vec<&str> {
    page.versions().iter().map(|v| v.key().unwrap()).collect()
}

/// ListObjectVersions on a bucket that was never versioned (none oxiam keeps is): each
/// object once, version `null`, the latest; pages by key marker, prefixes by delimiter;
/// authorized as s3:ListBucketVersions, not s3:ListBucket.
async fn object_versions_of_a_bucket_never_versioned(s: &TestServer) {
    let root = s3(s, ROOT_KEY, ROOT_SECRET, None, "us-east-1");
    let bucket = "versions";
    bucket_holding(&root, bucket, &["a", "b/c", "d"]).await;
    let page = root
        .list_object_versions()
        .bucket(bucket)
        .max_keys(2)
        .send()
        .await
        .unwrap();
    let listed: Vec<(&str, &str, bool)> = page
        .versions()
        .iter()
        .map(|v| (v.key().unwrap(), v.version_id().unwrap(), v.is_latest().unwrap()))
        .collect();
    assert_eq!(listed, [("a", "null", true), ("b/c", "null", true)]);
    assert!(page.versions()[0].e_tag().is_some() && page.versions()[0].size() == Some(1));
    assert!(page.delete_markers().is_empty());
    assert_eq!(page.is_truncated(), Some(true));
    assert_eq!(
        (page.next_key_marker(), page.next_version_id_marker()),
        (Some("b/c"), Some("null"))
    );
    let rest = root
        .list_object_versions()
        .bucket(bucket)
        .key_marker("b/c")
        .version_id_marker("null")
        .send()
        .await
        .unwrap();
    let keys = version_keys(&rest);
    assert_eq!(keys, ["d"]);
    assert_eq!(rest.is_truncated(), Some(false));
    let folded = root
        .list_object_versions()
        .bucket(bucket)
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let keys = version_keys(&folded);
    assert_eq!(keys, ["a", "d"]);
    assert_eq!(folded.common_prefixes()[0].prefix(), Some("b/"));

    // URL-encoded keys do not sort as the keys do ("a%3Db" < "a.c" but "a.c" < "a=b"): the
    // next page starts after the greatest key as stored, written encoded.
    let encoded = "encoded";
    bucket_holding(&root, encoded, &["a.c", "a=b", "z"]).await;
    let page = root
        .list_object_versions()
        .bucket(encoded)
        .max_keys(2)
        .encoding_type(aws_sdk_s3::types::EncodingType::Url)
        .send()
        .await
        .unwrap();
    let keys = version_keys(&page);
    assert_eq!(keys, ["a.c", "a%3Db"]);
    assert_eq!(page.next_key_marker(), Some("a%3Db"));
    let rest = root
        .list_object_versions()
        .bucket(encoded)
        .key_marker("a=b")
        .send()
        .await
        .unwrap();
    let keys = version_keys(&rest);
    assert_eq!(keys, ["z"]);

    let err = root
        .list_object_versions()
        .bucket(bucket)
        .version_id_marker("null")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "InvalidArgument");
    let err = root
        .list_object_versions()
        .bucket("no-such-bucket")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "NoSuchBucket");
    // s3:ListBucket is not s3:ListBucketVersions.
    let (key, secret) = user_with(s, "lister", &allow("s3:ListBucket", "arn:aws:s3:::versions")).await;
    let lister = s3(s, &key, &secret, None, "us-east-1");
    lister.list_objects_v2().bucket(bucket).send().await.unwrap();
    let err = lister.list_object_versions().bucket(bucket).send().await.unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
}

async fn users_with_different_permissions(s: &TestServer) {
    let admin = s3(s, ROOT_KEY, ROOT_SECRET, None, "eu-west-1");
    let bucket = "demo-iam-bucket-1";
    admin
        .create_bucket()
        .bucket(bucket)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (wk, ws) = user_with(
        s,
        "demo-iam-creator",
        &allow("s3:PutObject", &format!("arn:aws:s3:::{bucket}/*")),
    )
    .await;
    let (rk, rs) = user_with(
        s,
        "demo-iam-getter",
        &allow("s3:GetObject", &format!("arn:aws:s3:::{bucket}/*")),
    )
    .await;
    let writer = s3(s, &wk, &ws, None, "eu-west-1");
    let reader = s3(s, &rk, &rs, None, "eu-west-1");

    writer
        .put_object()
        .bucket(bucket)
        .key("demo.txt")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .unwrap();
    let err = writer
        .get_object()
        .bucket(bucket)
        .key("demo.txt")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
    let got = reader.get_object().bucket(bucket).key("demo.txt").send().await.unwrap();
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), b"hello");
    let err = reader
        .delete_object()
        .bucket(bucket)
        .key("demo.txt")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");

    // Clean-up as the seed's demo does it.
    let listed = admin.list_objects_v2().bucket(bucket).send().await.unwrap();
    let ids: Vec<_> = listed
        .contents()
        .iter()
        .map(|o| ObjectIdentifier::builder().key(o.key().unwrap()).build().unwrap())
        .collect();
    assert_eq!(ids.len(), 1);
    admin
        .delete_objects()
        .bucket(bucket)
        .delete(Delete::builder().set_objects(Some(ids)).build().unwrap())
        .send()
        .await
        .unwrap();
    admin.delete_bucket().bucket(bucket).send().await.unwrap();
    let last = s
        .root_iam()
        .get_access_key_last_used()
        .access_key_id(&wk)
        .send()
        .await
        .unwrap();
    assert_eq!(last.access_key_last_used().unwrap().service_name(), "s3");
}

async fn assume_role_to_list_buckets(s: &TestServer) {
    let iam = s.root_iam();
    let user = iam
        .create_user()
        .user_name("bucket-lister")
        .send()
        .await
        .unwrap()
        .user
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name("bucket-lister")
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"sts:AssumeRole"}}]}}"#,
        user.arn
    );
    let role = iam
        .create_role()
        .role_name("list-buckets")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    let list_all = iam
        .create_policy()
        .policy_name("list-all-buckets")
        .policy_document(allow("s3:ListAllMyBuckets", "arn:aws:s3:::*"))
        .send()
        .await
        .unwrap()
        .policy
        .unwrap()
        .arn
        .unwrap();
    iam.attach_role_policy()
        .role_name("list-buckets")
        .policy_arn(&list_all)
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name("bucket-lister")
        .policy_name("assume")
        .policy_document(allow("sts:AssumeRole", &role.arn))
        .send()
        .await
        .unwrap();

    let as_user = s3(s, &key.access_key_id, &key.secret_access_key, None, "us-east-1");
    assert_eq!(
        s3_code(&as_user.list_buckets().send().await.unwrap_err()),
        "AccessDenied"
    );

    let sts = s.sts_as(&key.access_key_id, &key.secret_access_key, "us-east-1");
    let creds = sts
        .assume_role()
        .role_arn(&role.arn)
        .role_session_name("AssumeRoleDemoSession")
        .send()
        .await
        .unwrap();
    let c = creds.credentials().unwrap();
    let as_role = s3(
        s,
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token()),
        "us-east-1",
    );
    as_role.list_buckets().send().await.unwrap();

    let forged = s3(s, c.access_key_id(), c.secret_access_key(), Some("forged"), "us-east-1");
    assert_eq!(
        s3_code(&forged.list_buckets().send().await.unwrap_err()),
        "InvalidToken"
    );
}

async fn bucket_policies_and_presigned_urls(s: &TestServer) {
    let admin = s3(s, ROOT_KEY, ROOT_SECRET, None, "us-east-1");
    admin.create_bucket().bucket("shared").send().await.unwrap();
    admin
        .put_object()
        .bucket("shared")
        .key("public/a.txt")
        .body(ByteStream::from_static(b"A"))
        .send()
        .await
        .unwrap();
    admin
        .put_object()
        .bucket("shared")
        .key("secret/b.txt")
        .body(ByteStream::from_static(b"B"))
        .send()
        .await
        .unwrap();
    let iam = s.root_iam();
    let guest = iam.create_user().user_name("guest").send().await.unwrap().user.unwrap();
    let key = iam
        .create_access_key()
        .user_name("guest")
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    let as_guest = s3(s, &key.access_key_id, &key.secret_access_key, None, "us-east-1");
    assert_eq!(
        s3_code(
            &as_guest
                .get_object()
                .bucket("shared")
                .key("public/a.txt")
                .send()
                .await
                .unwrap_err()
        ),
        "AccessDenied"
    );

    // The bucket policy names the user: that alone grants within the account.
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Principal":{{"AWS":"{arn}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}},
            {{"Effect":"Deny","Principal":{{"AWS":"{arn}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/secret/*"}}
        ]}}"#,
        arn = guest.arn
    );
    admin
        .put_bucket_policy()
        .bucket("shared")
        .policy(&policy)
        .send()
        .await
        .unwrap();
    let got = as_guest
        .get_object()
        .bucket("shared")
        .key("public/a.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), b"A");
    assert_eq!(
        s3_code(
            &as_guest
                .get_object()
                .bucket("shared")
                .key("secret/b.txt")
                .send()
                .await
                .unwrap_err()
        ),
        "AccessDenied"
    );

    // A presigned GET, fetched by a plain HTTP client.
    let presigned = admin
        .get_object()
        .bucket("shared")
        .key("public/a.txt")
        .presigned(PresigningConfig::expires_in(std::time::Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    let uri: http::Uri = presigned.uri().parse().unwrap();
    let addr = s.server.as_ref().unwrap().local_addr;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let target = uri.path_and_query().unwrap().as_str();
    stream
        .write_all(format!("GET {target} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await.unwrap();
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.ends_with("\r\n\r\nA"), "{reply}");
}

/// Completing an upload with a part that was never uploaded answers InvalidPart (400), not
/// a server error, and leaves the upload to be completed properly.
async fn completing_with_a_missing_part_is_invalid(s: &TestServer) {
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
    let root = s3(s, ROOT_KEY, ROOT_SECRET, None, "us-east-1");
    root.create_bucket().bucket("parts").send().await.unwrap();
    let upload = root
        .create_multipart_upload()
        .bucket("parts")
        .key("k")
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap();
    let part = root
        .upload_part()
        .bucket("parts")
        .key("k")
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .unwrap();
    let first = CompletedPart::builder()
        .part_number(1)
        .e_tag(part.e_tag().unwrap())
        .build();
    let missing = CompletedPart::builder().part_number(2).e_tag("\"0\"").build();
    let complete = |parts: Vec<CompletedPart>| {
        root.complete_multipart_upload()
            .bucket("parts")
            .key("k")
            .upload_id(id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
    };
    let e = complete(vec![first.clone(), missing]).await.unwrap_err();
    assert_eq!(s3_code(&e), "InvalidPart");
    complete(vec![first]).await.unwrap();
    let got = root.get_object().bucket("parts").key("k").send().await.unwrap();
    assert_eq!(&got.body.collect().await.unwrap().into_bytes()[..], b"hello");
}

/// A body s3s reads whole (DeleteObjects' list, a bucket policy) that is not what its signed
/// `x-amz-content-sha256` says is refused as S3 refuses it (400), never a 500, and nothing
/// it asked for is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_read_body_that_is_not_its_signed_hash_is_refused() {
    use common::raw::{s3_send, s3_signed_parts, send};
    use std::time::SystemTime;

    let server = TestServer::start(common::Backend::Sqlite).await;
    let root = (ROOT_KEY, ROOT_SECRET);
    for target in ["/swapped", "/swapped/keep"] {
        assert_eq!(
            s3_send(&server, root, "PUT", target, &[], "", SystemTime::now())
                .await
                .status,
            200
        );
    }
    let signed = "<Delete><Object><Key>keep</Key></Object></Delete>";
    let sent = "<Delete><Object><Key>nope</Key></Object></Delete>";
    let policy =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}"#;
    let other = policy.replace("Deny", "Ally");
    // (An empty body is never read at all: its hash is checked without it.)
    for (method, target, signed, sent) in [
        ("POST", "/swapped?delete", signed, sent),
        ("PUT", "/swapped?policy", policy, other.as_str()),
        ("PUT", "/swapped?policy", policy, ""),
    ] {
        let (target, headers) = s3_signed_parts(&server, root, (method, target), &[], signed, SystemTime::now());
        let reply = send(&server, method, &target, &headers, sent).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "XAmzContentSHA256Mismatch"),
            "{method} {target}: {}",
            reply.body
        );
    }
    assert_eq!(
        s3_send(&server, root, "GET", "/swapped/keep", &[], "", SystemTime::now())
            .await
            .status,
        200
    );
    let policy = s3_send(&server, root, "GET", "/swapped?policy", &[], "", SystemTime::now()).await;
    assert_eq!(
        (policy.status, policy.code()),
        (404, "NoSuchBucketPolicy"),
        "{}",
        policy.body
    );
    server.stop().await;
}

/// An empty `delimiter=` and an empty `prefix=` are none, as S3 reads them: rclone and
/// s3fs send `?delimiter=&prefix=` with every listing, and must see every key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_delimiter_and_prefix_list_every_key() {
    let server = TestServer::start(common::Backend::Sqlite).await;
    let root = s3(&server, ROOT_KEY, ROOT_SECRET, None, "us-east-1");
    root.create_bucket().bucket("flat").send().await.unwrap();
    for key in ["a/1", "b/2", "c"] {
        root.put_object()
            .bucket("flat")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    let v2 = root
        .list_objects_v2()
        .bucket("flat")
        .delimiter("")
        .prefix("")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = v2.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["a/1", "b/2", "c"]);
    assert!(v2.common_prefixes().is_empty(), "{:?}", v2.common_prefixes());
    let v1 = root
        .list_objects()
        .bucket("flat")
        .delimiter("")
        .prefix("")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = v1.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["a/1", "b/2", "c"]);
    assert!(v1.common_prefixes().is_empty(), "{:?}", v1.common_prefixes());
    // A real delimiter still groups.
    let grouped = root
        .list_objects_v2()
        .bucket("flat")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let prefixes: Vec<_> = grouped.common_prefixes().iter().filter_map(|p| p.prefix()).collect();
    assert_eq!(prefixes, ["a/", "b/"]);
    server.stop().await;
}

/// A client that signs with an empty region (as clients written for S3-compatible stores
/// do; the SDKs refuse to) is heard on every service, as a request for the default region;
/// the signature is still checked, over the scope as sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_signing_region_is_the_default_one() {
    use aws_sigv4::http_request::SignatureLocation;
    use common::raw::{s3_signed_parts_in, send, signed_post_in};
    use std::time::SystemTime;

    let server = TestServer::start(common::Backend::Sqlite).await;
    let host = server.server.as_ref().unwrap().local_addr.to_string();
    let query = |service: &str, body: &str, secret: &str| {
        let (target, headers) = signed_post_in(
            "",
            &host,
            body,
            service,
            (ROOT_KEY, secret),
            SystemTime::now(),
            SignatureLocation::Headers,
        );
        let server = &server;
        let body = body.to_owned();
        async move { send(server, "POST", &target, &headers, &body).await }
    };
    let made = query(
        "iam",
        "Action=CreateUser&UserName=regionless&Version=2010-05-08",
        ROOT_SECRET,
    )
    .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let who = query("sts", "Action=GetCallerIdentity&Version=2011-06-15", ROOT_SECRET).await;
    assert_eq!(who.status, 200, "{}", who.body);
    let forged = query("iam", "Action=ListUsers&Version=2010-05-08", "not-the-secret").await;
    assert_eq!(
        (forged.status, forged.code()),
        (403, "SignatureDoesNotMatch"),
        "{}",
        forged.body
    );
    let s3_request = |method: &'static str, target: &'static str, body: &'static str| {
        let (target, headers) = s3_signed_parts_in(
            "",
            &server,
            (ROOT_KEY, ROOT_SECRET),
            (method, target),
            body,
            SystemTime::now(),
            &[],
        );
        let server = &server;
        async move { send(server, method, &target, &headers, body).await }
    };
    let bucket = s3_request("PUT", "/regionless", "").await;
    assert_eq!(bucket.status, 200, "{}", bucket.body);
    let put = s3_request("PUT", "/regionless/k", "x").await;
    assert_eq!(put.status, 200, "{}", put.body);
    // S3's signatures are verified by s3s: a wrong one is refused there too.
    let (target, headers) = s3_signed_parts_in(
        "",
        &server,
        (ROOT_KEY, "not-the-secret"),
        ("GET", "/regionless/k"),
        "",
        SystemTime::now(),
        &[],
    );
    let forged = send(&server, "GET", &target, &headers, "").await;
    assert_eq!(
        (forged.status, forged.code()),
        (403, "SignatureDoesNotMatch"),
        "{}",
        forged.body
    );
    let root = s3(&server, ROOT_KEY, ROOT_SECRET, None, "us-east-1");
    let location = root.get_bucket_location().bucket("regionless").send().await.unwrap();
    // us-east-1 is written as an empty constraint, as S3 writes it.
    assert_eq!(
        location.location_constraint().map_or("", |c| c.as_str()),
        "",
        "a bucket of the default region"
    );
    server.stop().await;
}

/// Every listed object carries its ETag, the one its upload answered (sync tools compare
/// them), in both listings and with a delimiter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listed_objects_carry_their_etags() {
    let server = TestServer::start(common::Backend::Sqlite).await;
    let root = s3(&server, ROOT_KEY, ROOT_SECRET, None, "us-east-1");
    root.create_bucket().bucket("tagged").send().await.unwrap();
    let mut uploaded = Vec::new();
    for (key, body) in [("a/1", &b"one"[..]), ("b", &b"two"[..])] {
        let put = root
            .put_object()
            .bucket("tagged")
            .key(key)
            .body(ByteStream::from_static(body))
            .send()
            .await
            .unwrap();
        uploaded.push((key.to_owned(), put.e_tag().unwrap().to_owned()));
    }
    let v2 = root.list_objects_v2().bucket("tagged").send().await.unwrap();
    let listed: Vec<(String, String)> = v2
        .contents()
        .iter()
        .map(|o| (o.key().unwrap().to_owned(), o.e_tag().unwrap_or("").to_owned()))
        .collect();
    assert_eq!(listed, uploaded);
    let v1 = root.list_objects().bucket("tagged").prefix("a/").send().await.unwrap();
    assert_eq!(v1.contents()[0].e_tag(), Some(uploaded[0].1.as_str()));
    let grouped = root
        .list_objects_v2()
        .bucket("tagged")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    assert_eq!(grouped.contents()[0].e_tag(), Some(uploaded[1].1.as_str()));
    server.stop().await;
}

/// Resolves every name to the loopback address, as `BUCKET.localhost` resolves on most
/// systems (not in every container), so that the SDK can address buckets by host.
#[derive(Debug, Clone)]
struct Loopback;

impl aws_smithy_runtime_api::client::dns::ResolveDns for Loopback {
    fn resolve_dns<'a>(&'a self, _name: &'a str) -> aws_smithy_runtime_api::client::dns::DnsFuture<'a> {
        aws_smithy_runtime_api::client::dns::DnsFuture::ready(Ok(vec![std::net::Ipv4Addr::LOCALHOST.into()]))
    }
}

/// A client that addresses buckets by host (the SDKs' default), at `http://HOST:PORT`.
fn s3_by_host(s: &TestServer, host: &str, (key, secret): (&str, &str)) -> aws_sdk_s3::Client {
    use aws_smithy_http_client::tls;
    let port = s.server.as_ref().unwrap().local_addr.port();
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
        .build_with_resolver(Loopback);
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("http://{host}:{port}"))
        .force_path_style(false)
        .http_client(http)
        .credentials_provider(Credentials::new(key, secret, None, None, "test"))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// `BUCKET.localhost` and `BUCKET.DOMAIN` for each `--s3-domain` address the bucket, as the
/// SDKs address it by default: every operation answers as it does path-style, and the
/// bucket authorized is the host's, whatever the path looks like. A host that is none of
/// the domains is read path-style, and a request it sends to no bucket that cannot be
/// ListBuckets is refused rather than answered as ListBuckets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buckets_are_addressed_by_host_under_the_s3_domains() {
    let server = TestServer::start_with_s3_domains(common::Backend::Sqlite, &["s3.oxiam.test"]).await;
    for (domain, bucket) in [("localhost", "by-host"), ("s3.oxiam.test", "by-domain")] {
        let root = s3_by_host(&server, domain, (ROOT_KEY, ROOT_SECRET));
        root.create_bucket().bucket(bucket).send().await.unwrap();
        root.head_bucket().bucket(bucket).send().await.unwrap();
        root.put_object()
            .bucket(bucket)
            .key("dir/greeting")
            .body(ByteStream::from_static(b"hello"))
            .send()
            .await
            .unwrap();
        let got = root
            .get_object()
            .bucket(bucket)
            .key("dir/greeting")
            .send()
            .await
            .unwrap();
        assert_eq!(&got.body.collect().await.unwrap().into_bytes()[..], b"hello");
        let listed = root.list_objects_v2().bucket(bucket).send().await.unwrap();
        let keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
        assert_eq!(keys, ["dir/greeting"], "{domain}");
        // With the bucket in the host, the operators' paths are keys like any other.
        root.put_object()
            .bucket(bucket)
            .key("_oxiam/health")
            .body(ByteStream::from_static(b"mine"))
            .send()
            .await
            .unwrap();
        let got = root
            .get_object()
            .bucket(bucket)
            .key("_oxiam/health")
            .send()
            .await
            .unwrap();
        assert_eq!(&got.body.collect().await.unwrap().into_bytes()[..], b"mine");
        root.delete_object()
            .bucket(bucket)
            .key("_oxiam/health")
            .send()
            .await
            .unwrap();
        let missing = root.head_bucket().bucket("no-such-bucket").send().await.unwrap_err();
        assert_eq!(missing.raw_response().map(|r| r.status().as_u16()), Some(404));
        // The same bucket, path-style.
        let by_path = s3(&server, ROOT_KEY, ROOT_SECRET, None, "us-east-1");
        let listed = by_path.list_objects_v2().bucket(bucket).send().await.unwrap();
        assert_eq!(listed.key_count(), Some(1));
    }

    // A user who may read `by-host/dir/*` only. Addressed by host to another bucket with a
    // key that looks like that path, the request is for the other bucket: refused.
    let reader = allow("s3:GetObject", "arn:aws:s3:::by-host/dir/*");
    let reader = user_with(&server, "host-reader", &reader).await;
    let reader = s3_by_host(&server, "localhost", (&reader.0, &reader.1));
    reader
        .get_object()
        .bucket("by-host")
        .key("dir/greeting")
        .send()
        .await
        .unwrap();
    let root = s3_by_host(&server, "localhost", (ROOT_KEY, ROOT_SECRET));
    root.put_object()
        .bucket("by-domain")
        .key("by-host/dir/greeting")
        .body(ByteStream::from_static(b"secret"))
        .send()
        .await
        .unwrap();
    let other = reader
        .get_object()
        .bucket("by-domain")
        .key("by-host/dir/greeting")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&other), "AccessDenied");

    // A host that is none of the domains: path-style only, and no bucket listing answers
    // a request for a bucket's listing.
    let elsewhere = s3_by_host(&server, "oxiam.internal", (ROOT_KEY, ROOT_SECRET));
    let misaddressed = elsewhere.list_objects_v2().bucket("by-host").send().await.unwrap_err();
    assert_eq!(s3_code(&misaddressed), "InvalidRequest", "{misaddressed:?}");
    let head = elsewhere.head_bucket().bucket("by-host").send().await.unwrap_err();
    assert_eq!(head.raw_response().map(|r| r.status().as_u16()), Some(400));
    let buckets = elsewhere.list_buckets().send().await.unwrap();
    assert_eq!(buckets.buckets().len(), 2);
    server.stop().await;
}

/// A key is a name, whatever it looks like: a folder's name, a key under another object, a
/// folder marker and `a//b` are objects side by side, each deleted alone. A NUL in a key is
/// refused (no XML answer could list it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_that_look_like_paths_are_objects_side_by_side() {
    let server = TestServer::start(common::Backend::Sqlite).await;
    let root = s3(&server, ROOT_KEY, ROOT_SECRET, None, "us-east-1");
    root.create_bucket().bucket("test").send().await.unwrap();
    let keys = ["a//b", "dir", "dir/", "dir/file", "dir/file/under"];
    for key in keys {
        root.put_object()
            .bucket("test")
            .key(key)
            .body(ByteStream::from(key.as_bytes().to_vec()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{key}: {e:?}"));
    }
    let listed = root.list_objects_v2().bucket("test").send().await.unwrap();
    let names: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(names, keys);
    let batch = root
        .delete_objects()
        .bucket("test")
        .delete(
            Delete::builder()
                .objects(ObjectIdentifier::builder().key("dir").build().unwrap())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(batch.deleted().len(), 1);
    for key in ["dir/", "dir/file", "dir/file/under"] {
        let got = root.get_object().bucket("test").key(key).send().await.unwrap();
        assert_eq!(&got.body.collect().await.unwrap().into_bytes()[..], key.as_bytes());
    }
    let missing = root.get_object().bucket("test").key("dir").send().await.unwrap_err();
    assert_eq!(s3_code(&missing), "NoSuchKey");
    let nul = root
        .put_object()
        .bucket("test")
        .key("bad\0key")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&nul), "InvalidArgument");
    // Nor in a parameter: a 400 before the database sees it.
    let nul = root
        .get_object()
        .bucket("test")
        .key("dir/")
        .version_id("v\0")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&nul), "InvalidArgument");
    let nul = root
        .list_objects_v2()
        .bucket("test")
        .prefix("a\0")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&nul), "InvalidArgument");
    server.stop().await;
}

/// A listing page holds at most 1,000 keys whatever MaxKeys asks (the answer's MaxKeys says
/// what was asked), and the rest follows from the continuation token or marker; a negative
/// MaxKeys is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_page_holds_at_most_1000_keys() {
    let server = TestServer::start(common::Backend::Sqlite).await;
    let root = s3(&server, ROOT_KEY, ROOT_SECRET, None, "us-east-1");
    root.create_bucket().bucket("many").send().await.unwrap();
    let puts: Vec<_> = (0..1002)
        .map(|i| {
            root.put_object()
                .bucket("many")
                .key(format!("k{i:04}"))
                .body(ByteStream::from_static(b"x"))
                .send()
        })
        .collect();
    for put in futures_util::future::join_all(puts).await {
        put.unwrap();
    }
    let first = root
        .list_objects_v2()
        .bucket("many")
        .max_keys(5000)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (first.contents().len(), first.max_keys(), first.is_truncated()),
        (1000, Some(5000), Some(true))
    );
    let rest = root
        .list_objects_v2()
        .bucket("many")
        .continuation_token(first.next_continuation_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        (rest.contents().len(), rest.max_keys(), rest.is_truncated()),
        (2, Some(1000), Some(false))
    );
    let v1 = root.list_objects().bucket("many").max_keys(1001).send().await.unwrap();
    assert_eq!((v1.contents().len(), v1.is_truncated()), (1000, Some(true)));
    let negative = root
        .list_objects_v2()
        .bucket("many")
        .max_keys(-1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&negative), "InvalidArgument");
    server.stop().await;
}
