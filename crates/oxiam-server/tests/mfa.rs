//! End to end: virtual MFA devices with real TOTP codes, made here by an implementation of
//! RFC 6238 independent of the server's (HMAC-SHA1 from aws-lc-rs), and MFA in STS and in
//! authorization: an MFA-protected role, `aws:MultiFactorAuthPresent` and
//! `aws:MultiFactorAuthAge` deciding policies, wrong, replayed and missing codes refused.

use crate::common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{ACCOUNT, TestServer, code, message};

/// RFC 6238 with SHA-1, 6 digits, 30 s steps: the code of `step` for `seed`.
fn totp(seed: &[u8], step: i64) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, seed);
    let tag = aws_lc_rs::hmac::sign(&key, &step.to_be_bytes());
    let digest = tag.as_ref();
    let offset = (digest[digest.len() - 1] & 0x0f) as usize;
    let value = u32::from_be_bytes(digest[offset..offset + 4].try_into().unwrap()) & 0x7fff_ffff;
    format!("{:06}", value % 1_000_000)
}

/// RFC 4648 Base32, as the seed is handed out.
fn from_base32(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u64, 0);
    for c in text.bytes() {
        let value = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
            .iter()
            .position(|&a| a == c)
            .expect("a Base32 character") as u64;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

fn current_step() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64 / 30
}

fn sts_code<E: aws_sdk_sts::error::ProvideErrorMetadata, R>(e: &aws_sdk_sts::error::SdkError<E, R>) -> String {
    e.as_service_error().and_then(|e| e.code()).unwrap_or("").to_owned()
}

fn sts_message<E: aws_sdk_sts::error::ProvideErrorMetadata, R>(e: &aws_sdk_sts::error::SdkError<E, R>) -> String {
    e.as_service_error().and_then(|e| e.message()).unwrap_or("").to_owned()
}

on_both_backends!(
    the_test_totp_is_rfc_6238,
    a_device_is_enabled_with_two_consecutive_codes_and_guards_a_role,
    devices_are_listed_counted_and_removed_in_order,
    guessing_codes_blocks_the_device,
    a_user_has_at_most_8_devices,
);

/// AWS's quota of MFA devices per user: the ninth is refused, and stays unassigned.
async fn a_user_has_at_most_8_devices(s: &TestServer) {
    let root = s.root_iam();
    root.create_user().user_name("gadgets").send().await.unwrap();
    let now = current_step();
    for i in 0..9 {
        let (serial, seed) = new_device(s, &format!("gadget-{i}")).await;
        let enabled = root
            .enable_mfa_device()
            .user_name("gadgets")
            .serial_number(&serial)
            .authentication_code1(totp(&seed, now - 1))
            .authentication_code2(totp(&seed, now))
            .send()
            .await;
        if i < 8 {
            enabled.unwrap();
        } else {
            assert_eq!(code(&enabled.unwrap_err()), "LimitExceeded");
        }
    }
    let listed = root.list_mfa_devices().user_name("gadgets").send().await.unwrap();
    assert_eq!(listed.mfa_devices().len(), 8);
}

async fn the_test_totp_is_rfc_6238(_: &TestServer) {
    // RFC 6238 appendix B (SHA-1): the last six digits of its eight.
    assert_eq!(totp(b"12345678901234567890", 59 / 30), "287082");
    assert_eq!(totp(b"12345678901234567890", 1_111_111_109 / 30), "081804");
}

/// Creates a device named `name` and returns its serial number and seed.
async fn new_device(s: &TestServer, name: &str) -> (String, Vec<u8>) {
    let created = s
        .root_iam()
        .create_virtual_mfa_device()
        .virtual_mfa_device_name(name)
        .send()
        .await
        .unwrap()
        .virtual_mfa_device
        .unwrap();
    let png = created.qr_code_png().unwrap().as_ref();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "QRCodePNG is a PNG");
    let seed = std::str::from_utf8(created.base32_string_seed().unwrap().as_ref()).unwrap();
    assert_eq!(seed.len(), 64, "{seed}");
    (created.serial_number.clone(), from_base32(seed))
}

async fn a_device_is_enabled_with_two_consecutive_codes_and_guards_a_role(s: &TestServer) {
    let root = s.root_iam();
    // May list users only with MFA behind the request, and no more than an hour after it;
    // may get users only without a fresh MFA (a Deny that sees the age only if it is sent).
    let lists_with_mfa = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"iam:ListUsers","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}},
        {"Effect":"Deny","Action":"iam:ListUsers","Resource":"*","Condition":{"NumericGreaterThan":{"aws:MultiFactorAuthAge":"3600"}}},
        {"Effect":"Allow","Action":["sts:AssumeRole","iam:GetUser","sts:GetAccessKeyInfo"],"Resource":"*"},
        {"Effect":"Deny","Action":"iam:GetUser","Resource":"*","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":"600"}}}]}"#;
    let (key, secret) = s.user_with_inline_policy("alice", Some(lists_with_mfa)).await;
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole","Condition":{{"Bool":{{"aws:MultiFactorAuthPresent":"true"}}}}}}]}}"#
    );
    root.create_role()
        .role_name("guarded")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    // The role may list roles, with MFA behind its session.
    root.put_role_policy()
        .role_name("guarded")
        .policy_name("with-mfa")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}"#)
        .send()
        .await
        .unwrap();
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/guarded");
    let (serial, seed) = new_device(s, "alice-phone").await;
    assert_eq!(serial, format!("arn:aws:iam::{ACCOUNT}:mfa/alice-phone"));

    let now = current_step();
    let enable = |first: String, second: String| {
        root.enable_mfa_device()
            .user_name("alice")
            .serial_number(&serial)
            .authentication_code1(first)
            .authentication_code2(second)
            .send()
    };
    // Not consecutive, reversed, or the same code twice.
    for (first, second) in [
        (totp(&seed, now - 2), totp(&seed, now)),
        (totp(&seed, now - 1), totp(&seed, now - 2)),
        (totp(&seed, now - 1), totp(&seed, now - 1)),
    ] {
        let refused = enable(first, second).await.unwrap_err();
        assert_eq!(code(&refused), "InvalidAuthenticationCode", "{refused:?}");
        assert_eq!(message(&refused), "Authentication code for device is not valid.");
    }
    enable(totp(&seed, now - 2), totp(&seed, now - 1)).await.unwrap();
    let again = enable(totp(&seed, now - 2), totp(&seed, now - 1)).await.unwrap_err();
    assert_eq!(code(&again), "EntityAlreadyExists");

    let alice_sts = s.sts_as(&key, &secret, "us-east-1");
    let alice_iam = s.iam_as(&key, &secret, "us-east-1");
    // Her long-term key carries no MFA: neither the role nor the listing.
    let denied = alice_iam.list_users().send().await.unwrap_err();
    assert_eq!(code(&denied), "AccessDenied");
    let assume = |token: Option<String>| {
        alice_sts
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name("with-mfa")
            .set_serial_number(token.as_ref().map(|_| serial.clone()))
            .set_token_code(token)
            .send()
    };
    let without = assume(None).await.unwrap_err();
    assert_eq!(sts_code(&without), "AccessDenied");
    // A wrong code, a code of a step out of the window, a code of a step spent already
    // (the enabling codes): refused.
    for wrong in [
        format!("{:06}", (totp(&seed, now).parse::<u32>().unwrap() + 1) % 1_000_000),
        totp(&seed, now + 5),
        totp(&seed, now - 1),
    ] {
        let refused = assume(Some(wrong)).await.unwrap_err();
        assert_eq!(sts_code(&refused), "AccessDenied", "{refused:?}");
        assert_eq!(
            sts_message(&refused),
            "MultiFactorAuthentication failed with invalid MFA one time pass code."
        );
    }
    let good = totp(&seed, now);
    let session = assume(Some(good.clone())).await.unwrap();
    let role_iam = s.iam_as_session(session.credentials().unwrap());
    // The session carries MFA: the role's policy that wants it allows; what no policy
    // allows stays refused.
    role_iam.list_roles().send().await.unwrap();
    let err = role_iam.list_users().send().await.unwrap_err();
    assert!(
        message(&err).contains("no identity-based policy allows"),
        "{}",
        message(&err)
    );
    // The same code again: replayed, refused.
    let replayed = assume(Some(good)).await.unwrap_err();
    assert_eq!(sts_code(&replayed), "AccessDenied");

    // GetSessionToken with the next code: credentials that carry MFA may call IAM, and the
    // policy that wants MFA lets them list users.
    let with_mfa = alice_sts
        .get_session_token()
        .serial_number(&serial)
        .token_code(totp(&seed, now + 1))
        .send()
        .await
        .unwrap();
    let mfa_iam = s.iam_as_session(with_mfa.credentials().unwrap());
    let users = mfa_iam.list_users().send().await.unwrap();
    assert!(users.users().iter().any(|u| u.user_name() == "alice"));
    // aws:MultiFactorAuthAge is there, and a few seconds: the Deny on a fresh MFA applies;
    // the long-term key has no age at all, and the Deny does not.
    let fresh = mfa_iam.get_user().send().await.unwrap_err();
    assert!(message(&fresh).contains("explicit deny"), "{}", message(&fresh));
    alice_iam.get_user().send().await.unwrap();
    // The MFA session assumes the guarded role with no code of its own: role chaining
    // keeps the MFA behind it.
    let c = with_mfa.credentials().unwrap();
    let chained = s
        .sts_as_session(c.access_key_id(), c.secret_access_key(), c.session_token())
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("chained")
        .send()
        .await
        .unwrap();
    assert!(chained.assumed_role_user().unwrap().arn().ends_with("/guarded/chained"));
    s.iam_as_session(chained.credentials().unwrap())
        .list_roles()
        .send()
        .await
        .unwrap();
    // With MFA or not, GetSessionToken's credentials call no STS operation but AssumeRole
    // and GetCallerIdentity.
    let c = with_mfa.credentials().unwrap();
    let mfa_sts = s.sts_as_session(c.access_key_id(), c.secret_access_key(), c.session_token());
    let refused = mfa_sts
        .get_access_key_info()
        .access_key_id(&key)
        .send()
        .await
        .unwrap_err();
    assert_eq!(sts_code(&refused), "AccessDenied");
    alice_sts
        .get_access_key_info()
        .access_key_id(&key)
        .send()
        .await
        .unwrap();
    // Without MFA, GetSessionToken's credentials may not call IAM at all.
    let plain = alice_sts.get_session_token().send().await.unwrap();
    let denied = s
        .iam_as_session(plain.credentials().unwrap())
        .list_users()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&denied), "AccessDenied");
    // A serial number that is not hers, or no code: refused.
    let (other, other_seed) = new_device(s, "unassigned").await;
    let refused = alice_sts
        .get_session_token()
        .serial_number(&other)
        .token_code(totp(&other_seed, now))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        sts_message(&refused),
        "MultiFactorAuthentication failed, unable to validate MFA code."
    );
    let refused = alice_sts
        .get_session_token()
        .serial_number(&serial)
        .send()
        .await
        .unwrap_err();
    assert_eq!(sts_code(&refused), "AccessDenied");

    // The seed was shown once: it is nowhere in the audit trail, nor in SQLite's file.
    let seed_base32 = {
        let mut s = String::new();
        let (mut buffer, mut bits) = (0u64, 0);
        for &b in &seed {
            buffer = (buffer << 8) | u64::from(b);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                s.push(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[((buffer >> bits) & 31) as usize] as char);
            }
        }
        s
    };
    let audit = std::fs::read_to_string(s.audit_path()).unwrap();
    assert!(audit.contains("CreateVirtualMFADevice"));
    // Nor are the codes, which a refused request leaves unspent for a minute.
    assert!(audit.contains(r#""authenticationCode1":"HIDDEN_DUE_TO_SECURITY_REASONS""#));
    assert!(audit.contains(r#""tokenCode":"HIDDEN_DUE_TO_SECURITY_REASONS""#));
    assert!(!audit.contains(&seed_base32), "the seed is in the audit trail");
    if s.pg_database().is_none() {
        let dir = s.audit_path().parent().unwrap().to_owned();
        for file in ["oxiam.db", "oxiam.db-wal"] {
            if let Ok(bytes) = std::fs::read(dir.join(file)) {
                let found = bytes.windows(seed_base32.len()).any(|w| w == seed_base32.as_bytes());
                assert!(!found, "the seed is in {file} unsealed");
            }
        }
    }
}

async fn devices_are_listed_counted_and_removed_in_order(s: &TestServer) {
    let root = s.root_iam();
    root.create_user().user_name("bob").send().await.unwrap();
    let (serial, seed) = new_device(s, "bob-phone").await;
    let (spare, _) = new_device(s, "spare").await;
    let duplicate = root
        .create_virtual_mfa_device()
        .virtual_mfa_device_name("spare")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&duplicate), "EntityAlreadyExists");
    // A serial number over 256 characters would name a device no operation can take.
    let too_long = root
        .create_virtual_mfa_device()
        .virtual_mfa_device_name("d".repeat(200))
        .path(format!("/{}/", "p".repeat(40)))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&too_long), "ValidationError", "{too_long:?}");
    let now = current_step();
    root.enable_mfa_device()
        .user_name("bob")
        .serial_number(&serial)
        .authentication_code1(totp(&seed, now - 1))
        .authentication_code2(totp(&seed, now))
        .send()
        .await
        .unwrap();
    let listed = root.list_mfa_devices().user_name("bob").send().await.unwrap();
    let serials: Vec<_> = listed.mfa_devices().iter().map(|d| d.serial_number()).collect();
    assert_eq!(serials, [serial.as_str()]);
    // Bob lists his own devices without naming himself, under the policy AWS gives users to
    // manage their own MFA (on user/${aws:username}).
    let own = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:ListMFADevices","Resource":"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"}}]}}"#
    );
    root.put_user_policy()
        .user_name("bob")
        .policy_name("own-mfa")
        .policy_document(own)
        .send()
        .await
        .unwrap();
    let bob_key = root.create_access_key().user_name("bob").send().await.unwrap();
    let bob_key = bob_key.access_key().unwrap();
    let mine = s
        .iam_as(bob_key.access_key_id(), bob_key.secret_access_key(), "us-east-1")
        .list_mfa_devices()
        .send()
        .await
        .unwrap();
    assert_eq!(mine.mfa_devices()[0].serial_number(), serial);
    root.delete_access_key()
        .user_name("bob")
        .access_key_id(bob_key.access_key_id())
        .send()
        .await
        .unwrap();
    root.delete_user_policy()
        .user_name("bob")
        .policy_name("own-mfa")
        .send()
        .await
        .unwrap();
    let assigned = root
        .list_virtual_mfa_devices()
        .assignment_status(aws_sdk_iam::types::AssignmentStatusType::Assigned)
        .send()
        .await
        .unwrap();
    let device = &assigned.virtual_mfa_devices()[0];
    assert_eq!(device.user().map(|u| u.user_name()), Some("bob"));
    assert!(
        device.base32_string_seed().is_none(),
        "the seed is shown only at creation"
    );
    let unassigned = root
        .list_virtual_mfa_devices()
        .assignment_status(aws_sdk_iam::types::AssignmentStatusType::Unassigned)
        .send()
        .await
        .unwrap();
    let serials: Vec<_> = unassigned
        .virtual_mfa_devices()
        .iter()
        .map(|d| d.serial_number())
        .collect();
    assert_eq!(serials, [spare.as_str()]);
    let got = root
        .get_mfa_device()
        .serial_number(&serial)
        .user_name("bob")
        .send()
        .await
        .unwrap();
    assert_eq!(got.user_name(), Some("bob"));
    let summary = root.get_account_summary().send().await.unwrap();
    let map = summary.summary_map().unwrap();
    assert_eq!(map.get(&aws_sdk_iam::types::SummaryKeyType::MfaDevices), Some(&2));
    assert_eq!(map.get(&aws_sdk_iam::types::SummaryKeyType::MfaDevicesInUse), Some(&1));

    // In use: neither the user nor the device can be deleted.
    let err = root.delete_user().user_name("bob").send().await.unwrap_err();
    assert_eq!(
        (code(&err), message(&err)),
        (
            "DeleteConflict".to_owned(),
            "Cannot delete entity, must delete MFA device first.".to_owned()
        )
    );
    let err = root
        .delete_virtual_mfa_device()
        .serial_number(&serial)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DeleteConflict");
    // Tags, and a Deny on the device's tag that must see them.
    root.tag_mfa_device()
        .serial_number(&serial)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("team")
                .value("red")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let tags = root.list_mfa_device_tags().serial_number(&serial).send().await.unwrap();
    assert_eq!(tags.tags()[0].key(), "team");
    let (key, secret) = s
        .user_with_inline_policy(
            "tagger",
            Some(
                r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":"iam:ListMFADeviceTags","Resource":"*"},
                {"Effect":"Deny","Action":"iam:ListMFADeviceTags","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"red"}}}]}"#,
            ),
        )
        .await;
    let tagger = s.iam_as(&key, &secret, "us-east-1");
    let denied = tagger
        .list_mfa_device_tags()
        .serial_number(&serial)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&denied), "AccessDenied");
    tagger
        .list_mfa_device_tags()
        .serial_number(&spare)
        .send()
        .await
        .unwrap();

    // A device whose clock runs 5 minutes ahead: found again by two of its codes, and its
    // later codes taken at its own time; a code of the server's time is not.
    let key = root.create_access_key().user_name("bob").send().await.unwrap();
    let key = key.access_key().unwrap();
    let ahead = current_step() + 10;
    let resync = |first: String, second: String| {
        root.resync_mfa_device()
            .user_name("bob")
            .serial_number(&serial)
            .authentication_code1(first)
            .authentication_code2(second)
            .send()
    };
    let refused = resync(totp(&seed, ahead), totp(&seed, ahead + 2)).await.unwrap_err();
    assert_eq!(code(&refused), "InvalidAuthenticationCode");
    resync(totp(&seed, ahead), totp(&seed, ahead + 1)).await.unwrap();
    let bob = s.sts_as(key.access_key_id(), key.secret_access_key(), "us-east-1");
    let at_server_time = bob
        .get_session_token()
        .serial_number(&serial)
        .token_code(totp(&seed, current_step()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(sts_code(&at_server_time), "AccessDenied");
    bob.get_session_token()
        .serial_number(&serial)
        .token_code(totp(&seed, ahead + 2))
        .send()
        .await
        .unwrap();
    root.delete_access_key()
        .user_name("bob")
        .access_key_id(key.access_key_id())
        .send()
        .await
        .unwrap();

    root.deactivate_mfa_device()
        .user_name("bob")
        .serial_number(&serial)
        .send()
        .await
        .unwrap();
    let listed = root.list_mfa_devices().user_name("bob").send().await.unwrap();
    assert!(listed.mfa_devices().is_empty());
    root.delete_virtual_mfa_device()
        .serial_number(&serial)
        .send()
        .await
        .unwrap();
    root.delete_user().user_name("bob").send().await.unwrap();
    let gone = root
        .delete_virtual_mfa_device()
        .serial_number(&serial)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        message(&gone),
        format!("VirtualMFADevice with serial number {serial} doesn't exist.")
    );
}

/// Each code STS is given counts, before it is looked at: after five without a good one the
/// device takes none, the right one included, so a 6-digit code cannot be guessed by
/// sending enough requests, even in parallel. A good code starts the count again.
async fn guessing_codes_blocks_the_device(s: &TestServer) {
    let (key, secret) = s.user_with_inline_policy("carol", None).await;
    let (serial, seed) = new_device(s, "carol-phone").await;
    let now = current_step();
    s.root_iam()
        .enable_mfa_device()
        .user_name("carol")
        .serial_number(&serial)
        .authentication_code1(totp(&seed, now - 2))
        .authentication_code2(totp(&seed, now - 1))
        .send()
        .await
        .unwrap();
    let sts = s.sts_as(&key, &secret, "us-east-1");
    let try_code = |code: String| sts.get_session_token().serial_number(&serial).token_code(code).send();
    let wrong = |step: i64| {
        format!(
            "{:06}",
            (totp(&seed, step).parse::<u32>().unwrap() + 500_000) % 1_000_000
        )
    };
    for _ in 0..4 {
        assert_eq!(sts_code(&try_code(wrong(now)).await.unwrap_err()), "AccessDenied");
    }
    try_code(totp(&seed, now)).await.unwrap();
    // The count started again: five guesses sent at once, then the right code is refused.
    let guesses: Vec<_> = (0..5).map(|_| try_code(wrong(now + 1))).collect();
    for guess in futures_util::future::join_all(guesses).await {
        assert_eq!(sts_code(&guess.unwrap_err()), "AccessDenied");
    }
    let blocked = try_code(totp(&seed, now + 1)).await.unwrap_err();
    assert_eq!(
        sts_message(&blocked),
        "MultiFactorAuthentication failed with invalid MFA one time pass code."
    );
}
