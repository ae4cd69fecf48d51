//! End to end: login profiles and the account password policy with the AWS SDK for Rust —
//! AWS's default policy and a custom one enforced on every password set, reuse prevention
//! against the hashes of earlier passwords, ChangePassword as the user allowed only by
//! AllowUsersToChangePassword (and refused by an explicit Deny), the credential report's
//! password columns, and no password anywhere it could be read back.

use crate::common;

use common::{ACCOUNT, TestServer, code, message};

on_both_backends!(
    passwords_follow_the_account_policy,
    change_password_is_decided_on_the_callers_own_tags,
    change_password_resists_guessing_and_races,
);

/// ChangePassword counts wrong old passwords, before looking at them: after five (sent at
/// once) the right one is refused too. Changes racing with the same old password: one
/// wins, none overwrites it unseen. A permissions boundary is not bypassed by the
/// account's AllowUsersToChangePassword.
async fn change_password_resists_guessing_and_races(s: &TestServer) {
    let root = s.root_iam();
    root.update_account_password_policy()
        .minimum_password_length(8)
        .allow_users_to_change_password(true)
        .send()
        .await
        .unwrap();
    let mut clients = Vec::new();
    for name in ["guessed", "raced"] {
        let (key, secret) = s.user_with_inline_policy(name, None).await;
        root.create_login_profile()
            .user_name(name)
            .password("Correct-Horse-1")
            .send()
            .await
            .unwrap();
        clients.push(s.iam_as(&key, &secret, "us-east-1"));
    }
    let (guessed, raced) = (&clients[0], &clients[1]);
    let guesses: Vec<_> = (0..5)
        .map(|i| {
            guessed
                .change_password()
                .old_password(format!("Wrong-Guess-{i}"))
                .new_password("Another-Horse-2")
                .send()
        })
        .collect();
    for guess in futures_util::future::join_all(guesses).await {
        assert_eq!(code(&guess.unwrap_err()), "AccessDenied");
    }
    let blocked = guessed
        .change_password()
        .old_password("Correct-Horse-1")
        .new_password("Another-Horse-2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&blocked), "AccessDenied", "the right old password, while blocked");

    let changes: Vec<_> = (0..4)
        .map(|i| {
            raced
                .change_password()
                .old_password("Correct-Horse-1")
                .new_password(format!("Racing-Horse-{i}"))
                .send()
        })
        .collect();
    let won = futures_util::future::join_all(changes)
        .await
        .into_iter()
        .filter(Result::is_ok)
        .count();
    assert_eq!(won, 1, "one change wins the race");

    // A boundary that allows nothing of the kind.
    let boundary = root
        .create_policy()
        .policy_name("only-s3")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    root.put_user_permissions_boundary()
        .user_name("raced")
        .permissions_boundary(boundary.arn().unwrap())
        .send()
        .await
        .unwrap();
    let bounded = raced.get_account_password_policy().send().await.unwrap_err();
    assert_eq!(code(&bounded), "AccessDenied");
}

/// ChangePassword acts on the caller's own user: a Deny on that user's tags (either key)
/// refuses it to the tagged user only.
async fn change_password_is_decided_on_the_callers_own_tags(s: &TestServer) {
    let root = s.root_iam();
    for key in ["aws:ResourceTag/team", "iam:ResourceTag/team"] {
        let policy = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*"}},{{"Effect":"Deny","Action":"iam:ChangePassword","Resource":"*","Condition":{{"StringEquals":{{"{key}":"red"}}}}}}]}}"#
        );
        for (team, denied) in [("red", true), ("blue", false)] {
            let name = format!("pw-{team}-{}", key.split(':').next().unwrap());
            let (id, secret) = s.user_with_inline_policy(&name, Some(&policy)).await;
            root.tag_user()
                .user_name(&name)
                .tags(
                    aws_sdk_iam::types::Tag::builder()
                        .key("team")
                        .value(team)
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap();
            let answer = s
                .iam_as(&id, &secret, "us-east-1")
                .change_password()
                .old_password("Correct-Horse-1")
                .new_password("Another-Horse-2")
                .send()
                .await
                .unwrap_err();
            // Allowed, the user has no login profile: NoSuchEntity.
            let expected = if denied { "AccessDenied" } else { "NoSuchEntity" };
            assert_eq!(code(&answer), expected, "{name} {key}");
        }
    }
}

async fn passwords_follow_the_account_policy(s: &TestServer) {
    let root = s.root_iam();
    let (key, secret) = s.user_with_inline_policy("dana", None).await;
    let dana = s.iam_as(&key, &secret, "us-east-1");

    // No policy set: GetAccountPasswordPolicy says so, and AWS's default policy applies.
    let none = root.get_account_password_policy().send().await.unwrap_err();
    assert_eq!(
        (code(&none), message(&none)),
        (
            "NoSuchEntity".to_owned(),
            format!("The Password Policy with domain name {ACCOUNT} cannot be found.")
        )
    );
    let create = |password: &'static str| root.create_login_profile().user_name("dana").password(password).send();
    for (password, expected) in [
        ("Sh0rt!", "Password should have a minimum length of 8"),
        (
            "abcdefgh1",
            "Password should meet 1 more of the following requirements: Password should have at least one uppercase letter, Password should have at least one symbol",
        ),
    ] {
        let refused = create(password).await.unwrap_err();
        assert_eq!(
            (code(&refused), message(&refused)),
            ("PasswordPolicyViolation".to_owned(), expected.to_owned())
        );
    }
    let made = create("Correct-Horse-1").await.unwrap().login_profile.unwrap();
    assert_eq!(made.user_name(), "dana");
    assert!(!made.password_reset_required());
    let again = create("Correct-Horse-1").await.unwrap_err();
    assert_eq!(message(&again), "Login Profile for user dana already exists.");
    root.get_login_profile().user_name("dana").send().await.unwrap();

    // A custom policy: 12 characters, upper case, a number, a symbol, the last 2
    // passwords remembered, 90 days, users may change their own.
    root.update_account_password_policy()
        .minimum_password_length(12)
        .require_uppercase_characters(true)
        .require_numbers(true)
        .require_symbols(true)
        .password_reuse_prevention(2)
        .max_password_age(90)
        .allow_users_to_change_password(true)
        .send()
        .await
        .unwrap();
    let policy = root
        .get_account_password_policy()
        .send()
        .await
        .unwrap()
        .password_policy
        .unwrap();
    assert_eq!(policy.minimum_password_length(), Some(12));
    assert!(policy.expire_passwords());
    assert_eq!(policy.password_reuse_prevention(), Some(2));
    assert_eq!(policy.hard_expiry(), None, "not set, so not shown");
    let update = |password: &'static str| {
        root.update_login_profile()
            .user_name("dana")
            .password(password)
            .password_reset_required(true)
            .send()
    };
    let refused = update("lowercase only!1x").await.unwrap_err();
    assert_eq!(message(&refused), "Password should have at least one uppercase letter");
    // The current password is one of the last two.
    let reused = update("Correct-Horse-1").await.unwrap_err();
    assert_eq!(code(&reused), "PasswordPolicyViolation");
    update("Another-Horse-2").await.unwrap();
    let profile = root.get_login_profile().user_name("dana").send().await.unwrap();
    assert!(profile.login_profile.unwrap().password_reset_required());

    // Dana has no policy of her own: AllowUsersToChangePassword lets her change hers.
    dana.get_account_password_policy().send().await.unwrap();
    let wrong_old = dana
        .change_password()
        .old_password("Not-Her-Password-9")
        .new_password("Third-Horse-333")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&wrong_old), "AccessDenied");
    dana.change_password()
        .old_password("Another-Horse-2")
        .new_password("Third-Horse-333")
        .send()
        .await
        .unwrap();
    let profile = root.get_login_profile().user_name("dana").send().await.unwrap();
    assert!(
        !profile.login_profile.unwrap().password_reset_required(),
        "a new password clears the reset"
    );
    let back = dana
        .change_password()
        .old_password("Third-Horse-333")
        .new_password("Another-Horse-2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&back), "PasswordPolicyViolation", "one of the last two");
    // The root has no password of its own to change this way.
    let root_change = root
        .change_password()
        .old_password("Third-Horse-333")
        .new_password("Fourth-Horse-4444")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&root_change), "InvalidUserType");
    // An explicit Deny wins over the account's grant.
    root.put_user_policy()
        .user_name("dana")
        .policy_name("no-change")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:ChangePassword","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let denied = dana
        .change_password()
        .old_password("Third-Horse-333")
        .new_password("Fourth-Horse-4444")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&denied), "AccessDenied");
    root.delete_user_policy()
        .user_name("dana")
        .policy_name("no-change")
        .send()
        .await
        .unwrap();
    // Without AllowUsersToChangePassword she may not (no policy of hers allows it).
    root.update_account_password_policy()
        .minimum_password_length(12)
        .send()
        .await
        .unwrap();
    let not_allowed = dana
        .change_password()
        .old_password("Third-Horse-333")
        .new_password("Fourth-Horse-4444")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&not_allowed), "AccessDenied");

    // The credential report's password columns.
    root.update_account_password_policy()
        .minimum_password_length(12)
        .max_password_age(30)
        .send()
        .await
        .unwrap();
    root.generate_credential_report().send().await.unwrap();
    let report = root.get_credential_report().send().await.unwrap();
    let csv = String::from_utf8(report.content().unwrap().as_ref().to_vec()).unwrap();
    let row: Vec<&str> = csv
        .lines()
        .find(|l| l.starts_with("dana,"))
        .unwrap()
        .split(',')
        .collect();
    assert_eq!(&row[3..5], ["true", "no_information"]);
    assert_ne!(row[5], "N/A", "password_last_changed");
    assert_ne!(row[6], "N/A", "password_next_rotation");

    // A user with a password is deleted only after it.
    root.delete_access_key()
        .user_name("dana")
        .access_key_id(&key)
        .send()
        .await
        .unwrap();
    let conflict = root.delete_user().user_name("dana").send().await.unwrap_err();
    assert_eq!(
        message(&conflict),
        "Cannot delete entity, must delete login profile first."
    );
    root.delete_login_profile().user_name("dana").send().await.unwrap();
    let gone = root.delete_login_profile().user_name("dana").send().await.unwrap_err();
    assert_eq!(message(&gone), "Login Profile for User dana cannot be found.");
    root.delete_user().user_name("dana").send().await.unwrap();
    root.delete_account_password_policy().send().await.unwrap();
    let gone = root.delete_account_password_policy().send().await.unwrap_err();
    assert_eq!(
        message(&gone),
        "The account policy with name PasswordPolicy cannot be found."
    );

    // No password was kept or written as itself.
    let audit = std::fs::read_to_string(s.audit_path()).unwrap();
    assert!(audit.contains("CreateLoginProfile"));
    for password in ["Correct-Horse-1", "Another-Horse-2", "Third-Horse-333"] {
        assert!(!audit.contains(password), "{password} is in the audit trail");
        if s.pg_database().is_none() {
            let dir = s.audit_path().parent().unwrap().to_owned();
            for file in ["oxiam.db", "oxiam.db-wal"] {
                if let Ok(bytes) = std::fs::read(dir.join(file)) {
                    let found = bytes.windows(password.len()).any(|w| w == password.as_bytes());
                    assert!(!found, "{password} is in {file}");
                }
            }
        }
    }
}
