//! End to end: signing and server certificates with the AWS SDK for Rust, on fixtures made
//! by Python's `cryptography` (`oxiam-core/tests/fixtures/x509/`) — validity, chains in
//! order, private keys that must be the certificate's, AWS's errors and quotas (under
//! parallel uploads), the credential report's certificate columns, GetAccountSummary, a
//! move authorized where the certificate goes, and no private key anywhere it could be
//! read back.

use crate::common;

use aws_sdk_iam::types::{StatusType, SummaryKeyType, Tag};
use common::{ACCOUNT, TestServer, code, message};

on_both_backends!(
    signing_certificates_belong_to_a_user_or_the_root,
    server_certificates_are_checked_and_kept_without_their_key,
    server_certificates_hold_the_account_quota_under_parallel_uploads,
    moving_a_server_certificate_needs_permission_where_it_goes,
);

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../oxiam-core/tests/fixtures/x509/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The validity `cryptography` wrote for a fixture: (not before, not after).
fn validity(name: &str) -> (i64, i64) {
    let all: serde_json::Value = serde_json::from_str(&fixture("validity.json")).unwrap();
    (all[name][0].as_i64().unwrap(), all[name][1].as_i64().unwrap())
}

async fn report_row(s: &TestServer, name: &str) -> Vec<String> {
    let root = s.root_iam();
    root.generate_credential_report().send().await.unwrap();
    let report = root.get_credential_report().send().await.unwrap();
    let text = String::from_utf8(report.content().unwrap().as_ref().to_vec()).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{name},")))
        .unwrap_or_else(|| panic!("{name} in {text}"));
    line.split(',').map(str::to_owned).collect()
}

async fn summary(s: &TestServer, key: SummaryKeyType) -> i32 {
    let summary = s.root_iam().get_account_summary().send().await.unwrap();
    summary.summary_map().unwrap()[&key]
}

async fn signing_certificates_belong_to_a_user_or_the_root(s: &TestServer) {
    let root = s.root_iam();
    root.create_user().user_name("signer").send().await.unwrap();
    root.create_user().user_name("second").send().await.unwrap();

    let body = fixture("valid.pem");
    let uploaded = root
        .upload_signing_certificate()
        .user_name("signer")
        .certificate_body(&body)
        .send()
        .await
        .unwrap();
    let first = uploaded.certificate().unwrap();
    assert_eq!(first.certificate_body(), body);
    assert_eq!(first.status(), &StatusType::Active);
    assert_eq!(first.certificate_id().len(), 32);
    let first_id = first.certificate_id().to_owned();

    // One certificate is held once in an account.
    let e = root
        .upload_signing_certificate()
        .user_name("second")
        .certificate_body(&body)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "DuplicateCertificate");
    let expired = fixture("expired.pem");
    let e = root
        .upload_signing_certificate()
        .user_name("second")
        .certificate_body(&expired)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "MalformedCertificate");
    assert_eq!(message(&e), format!("Certificate {expired} is malformed."));
    let e = root
        .upload_signing_certificate()
        .user_name("second")
        .certificate_body("hello")
        .send()
        .await
        .unwrap_err();
    assert_eq!(message(&e), "Certificate hello is malformed.");

    // Two per user.
    root.upload_signing_certificate()
        .user_name("signer")
        .certificate_body(fixture("root.pem"))
        .send()
        .await
        .unwrap();
    let e = root
        .upload_signing_certificate()
        .user_name("signer")
        .certificate_body(fixture("leaf.pem"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(message(&e), "Cannot exceed quota for CertificatesPerUser: 2");

    root.update_signing_certificate()
        .user_name("signer")
        .certificate_id(&first_id)
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();
    let listed = root
        .list_signing_certificates()
        .user_name("signer")
        .send()
        .await
        .unwrap();
    let statuses: Vec<_> = listed.certificates().iter().map(|c| c.status().clone()).collect();
    assert_eq!(statuses.len(), 2);
    assert!(statuses.contains(&StatusType::Inactive) && statuses.contains(&StatusType::Active));

    // The root's own, named by no user.
    assert_eq!(summary(s, SummaryKeyType::AccountSigningCertificatesPresent).await, 0);
    let own = root
        .upload_signing_certificate()
        .certificate_body(fixture("leaf.pem"))
        .send()
        .await
        .unwrap();
    assert_eq!(own.certificate().unwrap().user_name(), ACCOUNT);
    assert_eq!(summary(s, SummaryKeyType::AccountSigningCertificatesPresent).await, 1);
    let mine = root.list_signing_certificates().send().await.unwrap();
    assert_eq!(mine.certificates().len(), 1);

    // One report (a report is kept for hours). The user's cert_1_active … cert_2_last_rotated:
    // one Inactive, one Active, both with their date; the root's certificate.
    let row = report_row(s, "signer").await;
    let columns = &row[row.len() - 4..];
    assert_eq!(
        [columns[0].as_str(), columns[2].as_str()]
            .iter()
            .filter(|c| **c == "true")
            .count(),
        1
    );
    assert!(columns[1] != "N/A" && columns[3] != "N/A", "{columns:?}");

    let row = report_row(s, "<root_account>").await;
    assert_eq!(row[row.len() - 4], "true");

    // A user with certificates is deleted only after them.
    let e = root.delete_user().user_name("signer").send().await.unwrap_err();
    assert_eq!(message(&e), "Cannot delete entity, must delete certificates first.");
    for c in listed.certificates() {
        root.delete_signing_certificate()
            .user_name("signer")
            .certificate_id(c.certificate_id())
            .send()
            .await
            .unwrap();
    }
    let e = root
        .delete_signing_certificate()
        .user_name("signer")
        .certificate_id(&first_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        message(&e),
        format!("The Certificate with id {first_id} cannot be found.")
    );
    root.delete_user().user_name("signer").send().await.unwrap();
}

async fn server_certificates_are_checked_and_kept_without_their_key(s: &TestServer) {
    let root = s.root_iam();
    let (body, key) = (fixture("valid.pem"), fixture("valid.pkcs1.key"));
    let uploaded = root
        .upload_server_certificate()
        .server_certificate_name("site")
        .path("/cloudfront/")
        .certificate_body(&body)
        .private_key(&key)
        .send()
        .await
        .unwrap();
    let metadata = uploaded.server_certificate_metadata().unwrap();
    assert_eq!(
        metadata.arn(),
        format!("arn:aws:iam::{ACCOUNT}:server-certificate/cloudfront/site")
    );
    assert!(metadata.server_certificate_id().starts_with("ASCA"));
    assert_eq!(metadata.expiration().unwrap().secs(), validity("valid").1);
    assert!(uploaded.tags().is_empty());

    let got = root
        .get_server_certificate()
        .server_certificate_name("site")
        .send()
        .await
        .unwrap();
    let got = got.server_certificate().unwrap();
    assert_eq!(got.certificate_body(), body.trim());
    assert!(got.certificate_chain().is_none());

    // A leaf with its chain, in order; the chain reversed names the link that fails.
    let chain = format!("{}{}", fixture("intermediate.pem"), fixture("root.pem"));
    let tag = Tag::builder().key("team").value("web").build().unwrap();
    root.upload_server_certificate()
        .server_certificate_name("leaf")
        .certificate_body(fixture("leaf.pem"))
        .private_key(fixture("leaf.sec1.key"))
        .certificate_chain(&chain)
        .tags(tag.clone())
        .send()
        .await
        .unwrap();
    let leaf = root
        .get_server_certificate()
        .server_certificate_name("leaf")
        .send()
        .await
        .unwrap();
    assert_eq!(
        leaf.server_certificate().unwrap().certificate_chain(),
        Some(chain.trim())
    );
    assert_eq!(leaf.server_certificate().unwrap().tags(), [tag]);
    let refused = |name: &'static str, body: String, key: String, chain: Option<String>| {
        root.upload_server_certificate()
            .server_certificate_name(name)
            .certificate_body(body)
            .private_key(key)
            .set_certificate_chain(chain)
            .send()
    };
    let reversed = format!("{}{}", fixture("root.pem"), fixture("intermediate.pem"));
    let e = refused("x", fixture("leaf.pem"), fixture("leaf.pkcs8.key"), Some(reversed))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "MalformedCertificate");
    assert!(
        message(&e).ends_with("The index within the chain of the invalid certificate is: -1"),
        "{}",
        message(&e)
    );
    let e = refused(
        "x",
        fixture("leaf.pem"),
        fixture("leaf.sec1.key"),
        Some(fixture("intermediate.pem") + "junk"),
    )
    .await
    .unwrap_err();
    assert_eq!(code(&e), "MalformedCertificate");
    let e = refused("x", body.clone(), fixture("other.pkcs1.key"), None)
        .await
        .unwrap_err();
    assert_eq!(code(&e), "KeyPairMismatch");
    let e = refused("x", body.clone(), fixture("valid.encrypted.key"), None)
        .await
        .unwrap_err();
    assert_eq!(code(&e), "MalformedCertificate");
    for (certificate, key) in [("expired.pem", "valid.pkcs8.key"), ("future.pem", "valid.pkcs8.key")] {
        let e = refused("x", fixture(certificate), fixture(key), None)
            .await
            .unwrap_err();
        assert_eq!(code(&e), "MalformedCertificate", "{certificate}");
    }
    let e = refused("x", "not pem".into(), key.clone(), None).await.unwrap_err();
    assert_eq!(
        message(&e),
        "Unable to parse certificate. Please ensure the certificate is in PEM format."
    );
    let e = refused("site", body.clone(), key.clone(), None).await.unwrap_err();
    assert_eq!(code(&e), "EntityAlreadyExists");
    assert_eq!(message(&e), "The Server Certificate with name site already exists.");

    // Listing by path, renaming, moving, tags.
    let under = root
        .list_server_certificates()
        .path_prefix("/cloudfront/")
        .send()
        .await
        .unwrap();
    let names: Vec<_> = under
        .server_certificate_metadata_list()
        .iter()
        .map(|m| m.server_certificate_name())
        .collect();
    assert_eq!(names, ["site"]);
    assert_eq!(summary(s, SummaryKeyType::ServerCertificates).await, 2);
    root.update_server_certificate()
        .server_certificate_name("site")
        .new_server_certificate_name("renamed")
        .new_path("/moved/")
        .send()
        .await
        .unwrap();
    let e = root
        .get_server_certificate()
        .server_certificate_name("site")
        .send()
        .await
        .unwrap_err();
    assert_eq!(message(&e), "The Server Certificate with name site cannot be found.");
    root.tag_server_certificate()
        .server_certificate_name("renamed")
        .tags(Tag::builder().key("b").value("2").build().unwrap())
        .tags(Tag::builder().key("a").value("1").build().unwrap())
        .send()
        .await
        .unwrap();
    root.untag_server_certificate()
        .server_certificate_name("renamed")
        .tag_keys("b")
        .send()
        .await
        .unwrap();
    let tags = root
        .list_server_certificate_tags()
        .server_certificate_name("renamed")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = tags.tags().iter().map(Tag::key).collect();
    assert_eq!(keys, ["a"]);
    let moved = root
        .get_server_certificate()
        .server_certificate_name("renamed")
        .send()
        .await
        .unwrap();
    let moved = moved
        .server_certificate()
        .unwrap()
        .server_certificate_metadata()
        .unwrap();
    assert_eq!(moved.path(), "/moved/");

    for name in ["renamed", "leaf"] {
        root.delete_server_certificate()
            .server_certificate_name(name)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(summary(s, SummaryKeyType::ServerCertificates).await, 0);

    // No private key was kept or written as itself: each key's first line of base64.
    let audit = std::fs::read_to_string(s.audit_path()).unwrap();
    assert!(audit.contains("UploadServerCertificate"));
    for key in ["valid.pkcs1.key", "leaf.sec1.key"] {
        let text = fixture(key);
        let secret = text.lines().nth(1).unwrap();
        assert!(!audit.contains(secret), "{key} is in the audit trail");
        if s.pg_database().is_none() {
            let dir = s.audit_path().parent().unwrap().to_owned();
            for file in ["oxiam.db", "oxiam.db-wal"] {
                if let Ok(bytes) = std::fs::read(dir.join(file)) {
                    let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
                    assert!(!found, "{key} is in {file}");
                }
            }
        }
    }
}

/// Twenty-four uploads at once: twenty are taken (the quota is counted under the
/// account's row lock, not checked then written).
async fn server_certificates_hold_the_account_quota_under_parallel_uploads(s: &TestServer) {
    let root = s.root_iam();
    let (body, key) = (fixture("valid.pem"), fixture("valid.pkcs8.key"));
    let uploads: Vec<_> = (0..24)
        .map(|n| {
            root.upload_server_certificate()
                .server_certificate_name(format!("c{n}"))
                .certificate_body(&body)
                .private_key(&key)
                .send()
        })
        .collect();
    let results = futures_util::future::join_all(uploads).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 20);
    for refused in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(
            message(refused),
            "Cannot exceed quota for ServerCertificatesPerAccount: 20"
        );
    }
}

/// A user allowed to update certificates under `/team/` cannot move one elsewhere, nor
/// rename one into a name it may not use there.
async fn moving_a_server_certificate_needs_permission_where_it_goes(s: &TestServer) {
    let root = s.root_iam();
    root.upload_server_certificate()
        .server_certificate_name("ours")
        .path("/team/")
        .certificate_body(fixture("valid.pem"))
        .private_key(fixture("valid.pkcs1.key"))
        .send()
        .await
        .unwrap();
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:UpdateServerCertificate","Resource":"arn:aws:iam::{ACCOUNT}:server-certificate/team/*"}}]}}"#
    );
    let (key, secret) = s.user_with_inline_policy("mover", Some(&policy)).await;
    let mover = s.iam_as(&key, &secret, "us-east-1");
    let e = mover
        .update_server_certificate()
        .server_certificate_name("ours")
        .new_path("/elsewhere/")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    mover
        .update_server_certificate()
        .server_certificate_name("ours")
        .new_server_certificate_name("still-ours")
        .send()
        .await
        .unwrap();
    let got = root
        .get_server_certificate()
        .server_certificate_name("still-ours")
        .send()
        .await
        .unwrap();
    let metadata = got.server_certificate().unwrap().server_certificate_metadata().unwrap();
    assert_eq!(metadata.path(), "/team/");
}
