//! OpenID Connect providers end to end with the AWS SDK for Rust, on both backends: what
//! Terraform's aws_iam_openid_connect_provider does (create, read, add and remove client
//! ids, replace thumbprints, tag, delete), AWS's URL rules and quotas, and authorization by
//! the provider's ARN.

use crate::common;

use aws_sdk_iam::types::{SummaryKeyType, Tag};
use common::{ACCOUNT, TestServer, code, message};

on_both_backends!(
    a_provider_is_created_read_changed_and_deleted,
    urls_thumbprints_and_quotas_are_checked,
    one_url_makes_one_provider_under_parallel_creation,
    a_user_acts_only_on_the_providers_its_policy_names,
);

fn thumbprint(c: char) -> String {
    std::iter::repeat_n(c, 40).collect()
}

fn arn_of(url_without_scheme: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{url_without_scheme}")
}

async fn a_provider_is_created_read_changed_and_deleted(server: &TestServer) {
    let iam = server.root_iam();
    let created = iam
        .create_open_id_connect_provider()
        .url("https://token.actions.githubusercontent.com")
        .client_id_list("sts.amazonaws.com")
        .client_id_list("sts.amazonaws.com")
        .thumbprint_list(thumbprint('a'))
        .tags(Tag::builder().key("team").value("ci").build().unwrap())
        .send()
        .await
        .unwrap();
    let arn = arn_of("token.actions.githubusercontent.com");
    assert_eq!(created.open_id_connect_provider_arn(), Some(arn.as_str()));
    assert_eq!(created.tags().len(), 1);

    let e = iam
        .create_open_id_connect_provider()
        .url("https://token.actions.githubusercontent.com")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "EntityAlreadyExists");
    assert_eq!(
        message(&e),
        "Provider with url https://token.actions.githubusercontent.com already exists."
    );

    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.url(), Some("token.actions.githubusercontent.com"));
    assert_eq!(got.client_id_list(), ["sts.amazonaws.com"]);
    assert_eq!(got.thumbprint_list(), [thumbprint('a')]);
    assert!(got.create_date().is_some());
    assert_eq!(got.tags().len(), 1);

    // Adding a client id it has, or removing one it lacks, changes nothing and succeeds.
    for id in ["app-1", "app-1", "app-2"] {
        iam.add_client_id_to_open_id_connect_provider()
            .open_id_connect_provider_arn(&arn)
            .client_id(id)
            .send()
            .await
            .unwrap();
    }
    for id in ["app-1", "never-added"] {
        iam.remove_client_id_from_open_id_connect_provider()
            .open_id_connect_provider_arn(&arn)
            .client_id(id)
            .send()
            .await
            .unwrap();
    }
    iam.update_open_id_connect_provider_thumbprint()
        .open_id_connect_provider_arn(&arn)
        .thumbprint_list(thumbprint('b'))
        .thumbprint_list(thumbprint('c'))
        .send()
        .await
        .unwrap();
    iam.tag_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .tags(Tag::builder().key("env").value("prod").build().unwrap())
        .send()
        .await
        .unwrap();
    iam.untag_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.client_id_list(), ["sts.amazonaws.com", "app-2"]);
    assert_eq!(got.thumbprint_list(), [thumbprint('b'), thumbprint('c')]);
    let tags = iam
        .list_open_id_connect_provider_tags()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    let pairs: Vec<_> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(pairs, [("env", "prod")]);

    iam.create_open_id_connect_provider()
        .url("https://accounts.example.com/tenant/one")
        .send()
        .await
        .unwrap();
    let listed = iam.list_open_id_connect_providers().send().await.unwrap();
    let arns: Vec<_> = listed
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn())
        .collect();
    assert_eq!(arns, [arn_of("accounts.example.com/tenant/one"), arn.clone()]);
    let summary = iam.get_account_summary().send().await.unwrap();
    assert_eq!(summary.summary_map().unwrap().get(&SummaryKeyType::Providers), Some(&2));

    // Deleting is idempotent, as the API reference says; what is gone answers NoSuchEntity.
    for _ in 0..2 {
        iam.delete_open_id_connect_provider()
            .open_id_connect_provider_arn(&arn)
            .send()
            .await
            .unwrap();
    }
    let e = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchEntity");
    assert_eq!(message(&e), format!("OpenIDConnect Provider not found for arn {arn}"));
    let e = iam
        .add_client_id_to_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchEntity");
}

async fn urls_thumbprints_and_quotas_are_checked(server: &TestServer) {
    let iam = server.root_iam();
    let refused = |url: &'static str| {
        let iam = iam.clone();
        async move {
            iam.create_open_id_connect_provider()
                .url(url)
                .send()
                .await
                .expect_err(url)
        }
    };
    let e = refused("http://idp.example.com").await;
    assert_eq!(code(&e), "InvalidInput");
    assert_eq!(
        message(&e),
        "Invalid Open ID Connect Provider URL. The URL must begin with https://."
    );
    for url in [
        "https://idp.example.com?tenant=1",
        "https://idp.example.com:8443",
        "https://user@idp.example.com",
    ] {
        let e = refused(url).await;
        assert_eq!(
            (code(&e), message(&e)),
            (
                "InvalidInput".to_owned(),
                "Invalid Open ID Connect Provider URL.".to_owned()
            ),
            "{url}"
        );
    }
    // A loopback issuer on a port is accepted (oxiam's exception, for local issuers).
    iam.create_open_id_connect_provider()
        .url("https://127.0.0.1:9443/issuer")
        .send()
        .await
        .unwrap();

    let mut six = iam
        .create_open_id_connect_provider()
        .url("https://many-thumbprints.example.com");
    for c in ['1', '2', '3', '4', '5', '6'] {
        six = six.thumbprint_list(thumbprint(c));
    }
    let e = six.send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidInput");
    let e = iam
        .create_open_id_connect_provider()
        .url("https://short-thumbprint.example.com")
        .thumbprint_list("abc")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationError");

    // 100 client ids per provider.
    let arn = iam
        .create_open_id_connect_provider()
        .url("https://clients.example.com")
        .send()
        .await
        .unwrap()
        .open_id_connect_provider_arn()
        .unwrap()
        .to_owned();
    for i in 0..100 {
        iam.add_client_id_to_open_id_connect_provider()
            .open_id_connect_provider_arn(&arn)
            .client_id(format!("client-{i}"))
            .send()
            .await
            .unwrap();
    }
    let e = iam
        .add_client_id_to_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("one-too-many")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "LimitExceeded");
    // An id it has already is still fine at the quota.
    iam.add_client_id_to_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("client-7")
        .send()
        .await
        .unwrap();

    // 100 providers per account (two exist).
    for i in 0..98 {
        iam.create_open_id_connect_provider()
            .url(format!("https://idp-{i}.example.com"))
            .send()
            .await
            .unwrap();
    }
    let e = iam
        .create_open_id_connect_provider()
        .url("https://idp-over.example.com")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "LimitExceeded");
}

async fn one_url_makes_one_provider_under_parallel_creation(server: &TestServer) {
    let iam = server.root_iam();
    let results = futures_util::future::join_all((0..8).map(|_| {
        let iam = iam.clone();
        async move {
            iam.create_open_id_connect_provider()
                .url("https://race.example.com")
                .send()
                .await
        }
    }))
    .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(code(e), "EntityAlreadyExists");
    }
    let listed = iam.list_open_id_connect_providers().send().await.unwrap();
    assert_eq!(listed.open_id_connect_provider_list().len(), 1);
}

/// A user allowed to manage one provider can't reach another by naming its ARN.
async fn a_user_acts_only_on_the_providers_its_policy_names(server: &TestServer) {
    let iam = server.root_iam();
    for url in ["https://mine.example.com", "https://theirs.example.com"] {
        iam.create_open_id_connect_provider().url(url).send().await.unwrap();
    }
    let mine = arn_of("mine.example.com");
    let theirs = arn_of("theirs.example.com");
    let document = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:*OpenIDConnectProvider*","Resource":"{mine}"}}]}}"#
    );
    let (key, secret) = server.user_with_inline_policy("ci-admin", Some(&document)).await;
    let user = server.iam_as(&key, &secret, "us-east-1");
    user.add_client_id_to_open_id_connect_provider()
        .open_id_connect_provider_arn(&mine)
        .client_id("app")
        .send()
        .await
        .unwrap();
    let e = user
        .add_client_id_to_open_id_connect_provider()
        .open_id_connect_provider_arn(&theirs)
        .client_id("app")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    assert!(message(&e).contains(&theirs), "{}", message(&e));
    let e = user
        .delete_open_id_connect_provider()
        .open_id_connect_provider_arn(&theirs)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    let e = user
        .create_open_id_connect_provider()
        .url("https://new.example.com")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    assert!(message(&e).contains(&arn_of("new.example.com")), "{}", message(&e));
    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&theirs)
        .send()
        .await
        .unwrap();
    assert!(got.client_id_list().is_empty());
}
