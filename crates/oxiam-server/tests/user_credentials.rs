//! End to end: SSH public keys and service-specific credentials with the AWS SDK for Rust —
//! fingerprints and encodings as OpenSSH makes them (fixtures from `ssh-keygen`), the
//! per-user quotas under parallel requests, AWS's errors, DeleteUser waiting for both, the
//! `AllUsers` listing authorized on every user, and no password or API key anywhere it
//! could be read back after its creation.

use crate::common;

use aws_sdk_iam::types::{EncodingType, StatusType};
use base64::Engine as _;
use common::{ACCOUNT, TestServer, code, message};

on_both_backends!(
    ssh_public_keys_as_codecommit_takes_them,
    ssh_public_keys_hold_their_quota_under_parallel_uploads,
    service_specific_credentials_for_each_kind_of_service,
    service_specific_credentials_hold_their_quota_under_parallel_requests,
    listing_every_users_credentials_needs_permission_on_every_user,
    another_users_credential_is_no_credential,
);

fn fixture(name: &str) -> String {
    let path = format!("{}/../oxiam-core/tests/fixtures/ssh/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fingerprint_of(name: &str) -> String {
    let listed = fixture("fingerprints.txt");
    let line = listed.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap();
    line.split(' ').nth(1).unwrap().to_owned()
}

/// A distinct, well-formed `ssh-ed25519` key for each `n`.
fn ed25519_key(n: u8) -> String {
    let mut blob = Vec::new();
    for part in [&b"ssh-ed25519"[..], &[n; 32]] {
        blob.extend_from_slice(&u32::try_from(part.len()).unwrap().to_be_bytes());
        blob.extend_from_slice(part);
    }
    format!(
        "ssh-ed25519 {} key-{n}",
        base64::engine::general_purpose::STANDARD.encode(blob)
    )
}

async fn ssh_public_keys_as_codecommit_takes_them(s: &TestServer) {
    let root = s.root_iam();
    root.create_user().user_name("coder").send().await.unwrap();
    root.create_user().user_name("other").send().await.unwrap();

    let body = fixture("rsa2048.pub");
    let uploaded = root
        .upload_ssh_public_key()
        .user_name("coder")
        .ssh_public_key_body(&body)
        .send()
        .await
        .unwrap();
    let key = uploaded.ssh_public_key().unwrap();
    assert_eq!(key.fingerprint(), fingerprint_of("rsa2048"));
    assert_eq!(key.ssh_public_key_body(), body, "the body as uploaded");
    assert_eq!(key.status(), &StatusType::Active);
    assert!(key.ssh_public_key_id().starts_with("APKA") && key.ssh_public_key_id().len() == 20);
    let id = key.ssh_public_key_id().to_owned();

    // Either encoding, whatever the key came in.
    let get = |encoding: EncodingType| {
        root.get_ssh_public_key()
            .user_name("coder")
            .ssh_public_key_id(&id)
            .encoding(encoding)
            .send()
    };
    let ssh = get(EncodingType::Ssh).await.unwrap();
    assert_eq!(ssh.ssh_public_key().unwrap().ssh_public_key_body(), body);
    let pem = get(EncodingType::Pem).await.unwrap();
    let pem = pem.ssh_public_key().unwrap();
    assert_eq!(pem.ssh_public_key_body().trim(), fixture("rsa2048.pkcs8.pem").trim());
    assert_eq!(pem.fingerprint(), fingerprint_of("rsa2048"));

    // The same key again, in another encoding, is a duplicate; another user may hold it.
    let again = root
        .upload_ssh_public_key()
        .user_name("coder")
        .ssh_public_key_body(fixture("rsa2048.pkcs1.pem"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&again), "DuplicateSSHPublicKey");
    let theirs = root
        .upload_ssh_public_key()
        .user_name("other")
        .ssh_public_key_body(fixture("rsa2048.pkcs8.pem"))
        .send()
        .await
        .unwrap();
    let theirs = theirs.ssh_public_key().unwrap();
    assert_eq!(theirs.fingerprint(), fingerprint_of("rsa2048"));
    let as_line = root
        .get_ssh_public_key()
        .user_name("other")
        .ssh_public_key_id(theirs.ssh_public_key_id())
        .encoding(EncodingType::Ssh)
        .send()
        .await
        .unwrap();
    let expected_line: Vec<&str> = body.split_whitespace().take(2).collect();
    assert_eq!(
        as_line.ssh_public_key().unwrap().ssh_public_key_body(),
        expected_line.join(" ")
    );

    // What is not a key IAM takes.
    for (bad, expected) in [
        (fixture("rsa1024.pub"), "InvalidPublicKey"),
        (fixture("ecdsa.pub"), "InvalidPublicKey"),
        ("not a key".to_owned(), "UnrecognizedPublicKeyEncoding"),
    ] {
        let e = root
            .upload_ssh_public_key()
            .user_name("coder")
            .ssh_public_key_body(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), expected);
    }
    let ed25519 = root
        .upload_ssh_public_key()
        .user_name("coder")
        .ssh_public_key_body(fixture("ed25519.pub"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ed25519.ssh_public_key().unwrap().fingerprint(),
        fingerprint_of("ed25519")
    );

    // Status, listing. Expired is a status read, never set.
    let e = root
        .update_ssh_public_key()
        .user_name("coder")
        .ssh_public_key_id(&id)
        .status(StatusType::Expired)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidInput");
    root.update_ssh_public_key()
        .user_name("coder")
        .ssh_public_key_id(&id)
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();
    let listed = root
        .list_ssh_public_keys()
        .user_name("coder")
        .max_items(1)
        .send()
        .await
        .unwrap();
    assert!(listed.is_truncated());
    let rest = root
        .list_ssh_public_keys()
        .user_name("coder")
        .marker(listed.marker().unwrap())
        .send()
        .await
        .unwrap();
    let all: Vec<_> = listed.ssh_public_keys().iter().chain(rest.ssh_public_keys()).collect();
    assert_eq!(all.len(), 2);
    let mine = all.iter().find(|k| k.ssh_public_key_id() == id).unwrap();
    assert_eq!(mine.status(), &StatusType::Inactive);

    // A user's key is not reachable through another user's name.
    let e = root
        .delete_ssh_public_key()
        .user_name("other")
        .ssh_public_key_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(message(&e), format!("The Public Key with id {id} cannot be found."));

    // A user with keys is deleted only after them (Terraform's force_destroy order).
    let e = root.delete_user().user_name("coder").send().await.unwrap_err();
    assert_eq!(code(&e), "DeleteConflict");
    assert_eq!(
        message(&e),
        "Cannot delete entity, must remove referenced objects first."
    );
    for key in root
        .list_ssh_public_keys()
        .user_name("coder")
        .send()
        .await
        .unwrap()
        .ssh_public_keys()
    {
        root.delete_ssh_public_key()
            .user_name("coder")
            .ssh_public_key_id(key.ssh_public_key_id())
            .send()
            .await
            .unwrap();
    }
    root.delete_user().user_name("coder").send().await.unwrap();
    let e = root.list_ssh_public_keys().user_name("coder").send().await.unwrap_err();
    assert_eq!(message(&e), "The user with name coder cannot be found.");

    // A user lists its own keys without naming itself.
    root.create_user().user_name("self").send().await.unwrap();
    let (key, secret) = {
        let k = root.create_access_key().user_name("self").send().await.unwrap();
        let k = k.access_key().unwrap();
        (k.access_key_id().to_owned(), k.secret_access_key().to_owned())
    };
    root.put_user_policy()
        .user_name("self")
        .policy_name("p")
        .policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:*SSHPublicKey*","Resource":"arn:aws:iam::{ACCOUNT}:user/self"}}]}}"#
        ))
        .send()
        .await
        .unwrap();
    let me = s.iam_as(&key, &secret, "us-east-1");
    me.upload_ssh_public_key()
        .user_name("self")
        .ssh_public_key_body(ed25519_key(7))
        .send()
        .await
        .unwrap();
    let mine = me.list_ssh_public_keys().send().await.unwrap();
    assert_eq!(mine.ssh_public_keys().len(), 1);
    assert_eq!(mine.ssh_public_keys()[0].user_name(), "self");
    let e = me.list_ssh_public_keys().user_name("other").send().await.unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
}

/// Eight uploads of distinct keys at once for one user: five are taken (the quota is
/// counted under the user's row lock, not checked then written).
async fn ssh_public_keys_hold_their_quota_under_parallel_uploads(s: &TestServer) {
    let root = s.root_iam();
    root.create_user().user_name("busy").send().await.unwrap();
    let uploads: Vec<_> = (0..8)
        .map(|n| {
            root.upload_ssh_public_key()
                .user_name("busy")
                .ssh_public_key_body(ed25519_key(n))
                .send()
        })
        .collect();
    let results = futures_util::future::join_all(uploads).await;
    let taken = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(taken, 5);
    for refused in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(code(refused), "LimitExceeded");
    }
    let listed = root.list_ssh_public_keys().user_name("busy").send().await.unwrap();
    assert_eq!(listed.ssh_public_keys().len(), 5);
}

async fn service_specific_credentials_for_each_kind_of_service(s: &TestServer) {
    let root = s.root_iam();
    root.create_user().user_name("dev").send().await.unwrap();

    // A Git password: a generated user name, a password shown once.
    let first = root
        .create_service_specific_credential()
        .user_name("dev")
        .service_name("codecommit.amazonaws.com")
        .send()
        .await
        .unwrap();
    let first = first.service_specific_credential().unwrap();
    assert_eq!(first.service_user_name(), format!("dev-at-{ACCOUNT}"));
    let password = first.service_password().to_owned();
    assert_eq!(password.len(), 44);
    assert!(first.service_credential_secret().is_none() && first.expiration_date().is_none());
    assert!(first.service_specific_credential_id().starts_with("ACCA"));
    assert_eq!(first.status(), &StatusType::Active);
    let second = root
        .create_service_specific_credential()
        .user_name("dev")
        .service_name("codecommit.amazonaws.com")
        .send()
        .await
        .unwrap();
    let second = second.service_specific_credential().unwrap();
    assert_eq!(second.service_user_name(), format!("dev+1-at-{ACCOUNT}"));
    let third = root
        .create_service_specific_credential()
        .user_name("dev")
        .service_name("codecommit.amazonaws.com")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&third), "LimitExceeded");

    // An API key that expires.
    let api_key = root
        .create_service_specific_credential()
        .user_name("dev")
        .service_name("bedrock.amazonaws.com")
        .credential_age_days(30)
        .send()
        .await
        .unwrap();
    let api_key = api_key.service_specific_credential().unwrap();
    assert_eq!(
        api_key.service_credential_alias(),
        Some(format!("dev-at-{ACCOUNT}").as_str())
    );
    let secret = api_key.service_credential_secret().unwrap().to_owned();
    assert!(secret.starts_with("ABSK"), "{secret}");
    // (This SDK's model still calls both required: absent, they read as empty.)
    assert!(api_key.service_user_name().is_empty() && api_key.service_password().is_empty());
    let expires = api_key.expiration_date().unwrap().secs() - api_key.create_date().secs();
    assert_eq!(expires, 30 * 86_400);

    // What is refused.
    let e = root
        .create_service_specific_credential()
        .user_name("dev")
        .service_name("lambda.amazonaws.com")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchEntity");
    assert_eq!(
        message(&e),
        "No such service lambda.amazonaws.com is supported for Service Specific Credentials"
    );
    let e = root
        .create_service_specific_credential()
        .user_name("dev")
        .service_name("cassandra.amazonaws.com")
        .credential_age_days(1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidInput");

    // Listings never show a password or key.
    let listed = root
        .list_service_specific_credentials()
        .user_name("dev")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.service_specific_credentials().len(), 3);
    let git = root
        .list_service_specific_credentials()
        .user_name("dev")
        .service_name("codecommit.amazonaws.com")
        .send()
        .await
        .unwrap();
    // (Oldest first; two made in the same second, by id.)
    let mut ids: Vec<_> = git
        .service_specific_credentials()
        .iter()
        .map(|c| c.service_specific_credential_id())
        .collect();
    ids.sort_unstable();
    let mut expected = [
        first.service_specific_credential_id(),
        second.service_specific_credential_id(),
    ];
    expected.sort_unstable();
    assert_eq!(ids, expected);

    // Reset: a new password, the same credential.
    let reset = root
        .reset_service_specific_credential()
        .user_name("dev")
        .service_specific_credential_id(first.service_specific_credential_id())
        .send()
        .await
        .unwrap();
    let reset = reset.service_specific_credential().unwrap();
    let new_password = reset.service_password().to_owned();
    assert_ne!(new_password, password);
    assert_eq!(reset.create_date(), first.create_date());
    assert_eq!(reset.service_user_name(), first.service_user_name());

    root.update_service_specific_credential()
        .user_name("dev")
        .service_specific_credential_id(second.service_specific_credential_id())
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();
    let listed = root
        .list_service_specific_credentials()
        .user_name("dev")
        .send()
        .await
        .unwrap();
    let inactive = listed
        .service_specific_credentials()
        .iter()
        .find(|c| c.service_specific_credential_id() == second.service_specific_credential_id())
        .unwrap();
    assert_eq!(inactive.status(), &StatusType::Inactive);

    // A user with credentials is deleted only after them.
    let e = root.delete_user().user_name("dev").send().await.unwrap_err();
    assert_eq!(
        message(&e),
        "Cannot delete entity, must remove referenced objects first."
    );
    for c in listed.service_specific_credentials() {
        root.delete_service_specific_credential()
            .user_name("dev")
            .service_specific_credential_id(c.service_specific_credential_id())
            .send()
            .await
            .unwrap();
    }
    let gone = first.service_specific_credential_id();
    let e = root
        .delete_service_specific_credential()
        .user_name("dev")
        .service_specific_credential_id(gone)
        .send()
        .await
        .unwrap_err();
    assert_eq!(message(&e), format!("No such credential {gone} exists"));
    root.delete_user().user_name("dev").send().await.unwrap();

    // No password or key was kept or written as itself.
    let audit = std::fs::read_to_string(s.audit_path()).unwrap();
    assert!(audit.contains("CreateServiceSpecificCredential"));
    for shown in [&password, &new_password, &secret] {
        assert!(!audit.contains(shown.as_str()), "a secret is in the audit trail");
        if s.pg_database().is_none() {
            let dir = s.audit_path().parent().unwrap().to_owned();
            for file in ["oxiam.db", "oxiam.db-wal"] {
                if let Ok(bytes) = std::fs::read(dir.join(file)) {
                    let found = bytes.windows(shown.len()).any(|w| w == shown.as_bytes());
                    assert!(!found, "a secret is in {file}");
                }
            }
        }
    }
}

/// Four credentials for one service at once: two are made, with distinct user names.
async fn service_specific_credentials_hold_their_quota_under_parallel_requests(s: &TestServer) {
    let root = s.root_iam();
    root.create_user().user_name("rush").send().await.unwrap();
    let creations: Vec<_> = (0..4)
        .map(|_| {
            root.create_service_specific_credential()
                .user_name("rush")
                .service_name("cassandra.amazonaws.com")
                .send()
        })
        .collect();
    let results = futures_util::future::join_all(creations).await;
    let mut names: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| {
            let c = r.service_specific_credential().unwrap();
            c.service_user_name().to_owned()
        })
        .collect();
    names.sort();
    assert_eq!(names, [format!("rush+1-at-{ACCOUNT}"), format!("rush-at-{ACCOUNT}")]);
    for refused in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(code(refused), "LimitExceeded");
    }
}

/// A user allowed to list its own credentials cannot list everyone's with `AllUsers`; one
/// allowed on every user can, and sees no secret.
async fn listing_every_users_credentials_needs_permission_on_every_user(s: &TestServer) {
    let root = s.root_iam();
    root.create_user().user_name("victim").send().await.unwrap();
    root.create_service_specific_credential()
        .user_name("victim")
        .service_name("codecommit.amazonaws.com")
        .send()
        .await
        .unwrap();
    let own = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:ListServiceSpecificCredentials","Resource":"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"}}]}}"#
    );
    let (key, secret) = s.user_with_inline_policy("nosy", Some(&own)).await;
    let nosy = s.iam_as(&key, &secret, "us-east-1");
    let mine = nosy.list_service_specific_credentials().send().await.unwrap();
    assert!(mine.service_specific_credentials().is_empty());
    let e = nosy
        .list_service_specific_credentials()
        .all_users(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");

    let every = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:ListServiceSpecificCredentials","Resource":"arn:aws:iam::{ACCOUNT}:user/*"}}]}}"#
    );
    let (key, secret) = s.user_with_inline_policy("auditor", Some(&every)).await;
    let auditor = s.iam_as(&key, &secret, "us-east-1");
    let all = auditor
        .list_service_specific_credentials()
        .all_users(true)
        .service_name("codecommit.amazonaws.com")
        .send()
        .await
        .unwrap();
    let users: Vec<_> = all
        .service_specific_credentials()
        .iter()
        .map(|c| c.user_name())
        .collect();
    assert_eq!(users, ["victim"]);
    let e = auditor
        .list_service_specific_credentials()
        .all_users(true)
        .user_name("victim")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidInput");
}

/// A Deny on `iam:ServiceSpecificCredentialServiceName` reads the service of the named
/// user's own credential only: another user's credential id is answered as a missing one
/// (NoSuchEntity), so a caller learns nothing of it. And login names are the account's:
/// user `dev+1` does not get user `dev`'s second name.
async fn another_users_credential_is_no_credential(s: &TestServer) {
    let root = s.root_iam();
    for user in ["dev", "dev+1"] {
        root.create_user().user_name(user).send().await.unwrap();
    }
    let mut names = Vec::new();
    for user in ["dev", "dev", "dev+1"] {
        let made = root
            .create_service_specific_credential()
            .user_name(user)
            .service_name("codecommit.amazonaws.com")
            .send()
            .await
            .unwrap();
        names.push(
            made.service_specific_credential()
                .unwrap()
                .service_user_name()
                .to_owned(),
        );
    }
    assert_eq!(
        names,
        [
            format!("dev-at-{ACCOUNT}"),
            format!("dev+1-at-{ACCOUNT}"),
            format!("dev+1+1-at-{ACCOUNT}")
        ]
    );
    let victims = root
        .list_service_specific_credentials()
        .user_name("dev")
        .send()
        .await
        .unwrap();
    let victim = victims.service_specific_credentials()[0].service_specific_credential_id();

    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"iam:ResetServiceSpecificCredential","Resource":"*","Condition":{"StringEquals":{"iam:ServiceSpecificCredentialServiceName":"codecommit.amazonaws.com"}}}]}"#;
    let (key, secret) = s.user_with_inline_policy("prober", Some(policy)).await;
    let prober = s.iam_as(&key, &secret, "us-east-1");
    let e = prober
        .reset_service_specific_credential()
        .service_specific_credential_id(victim)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchEntity", "{}", message(&e));
    // Its own codecommit credential is what the Deny is about.
    let own = root
        .create_service_specific_credential()
        .user_name("prober")
        .service_name("codecommit.amazonaws.com")
        .send()
        .await
        .unwrap();
    let own = own
        .service_specific_credential()
        .unwrap()
        .service_specific_credential_id();
    let e = prober
        .reset_service_specific_credential()
        .service_specific_credential_id(own)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
}
