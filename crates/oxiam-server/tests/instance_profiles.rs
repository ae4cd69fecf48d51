//! Instance profiles end to end with the AWS SDK for Rust, on both backends: the life cycle
//! Terraform drives (create, add a role, list for the role, remove, delete the role), the
//! rules that hold a profile to one role and a role to its profiles, tags, paging, and the
//! `iam:PassRole` that handing a role to a profile needs.

use crate::common;

use aws_sdk_iam::types::Tag;
use common::{ACCOUNT, TestServer, code, message};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

on_both_backends!(
    a_profile_holds_one_role_and_the_role_waits_for_it,
    profiles_are_listed_paged_and_tagged,
    bad_names_and_missing_profiles_are_refused,
    handing_a_role_to_a_profile_needs_pass_role,
    parallel_additions_leave_one_role,
    the_account_quota_holds_under_parallel_creation,
);

async fn role(server: &TestServer, name: &str) {
    server
        .root_iam()
        .create_role()
        .role_name(name)
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
}

async fn a_profile_holds_one_role_and_the_role_waits_for_it(server: &TestServer) {
    let iam = server.root_iam();
    role(server, "web").await;
    role(server, "batch").await;
    let created = iam
        .create_instance_profile()
        .instance_profile_name("web-profile")
        .path("/apps/")
        .send()
        .await
        .unwrap();
    let profile = created.instance_profile().unwrap();
    assert_eq!(profile.instance_profile_name(), "web-profile");
    assert_eq!(profile.path(), "/apps/");
    assert!(profile.instance_profile_id().starts_with("AIPA"), "{profile:?}");
    assert_eq!(profile.instance_profile_id().len(), 21);
    assert_eq!(
        profile.arn(),
        format!("arn:aws:iam::{ACCOUNT}:instance-profile/apps/web-profile")
    );
    assert!(profile.roles().is_empty());

    let e = iam
        .create_instance_profile()
        .instance_profile_name("WEB-PROFILE")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "EntityAlreadyExists");
    assert_eq!(message(&e), "Instance Profile WEB-PROFILE already exists.");

    iam.add_role_to_instance_profile()
        .instance_profile_name("web-profile")
        .role_name("web")
        .send()
        .await
        .unwrap();
    // One role per profile, the same one included.
    for other in ["batch", "web"] {
        let e = iam
            .add_role_to_instance_profile()
            .instance_profile_name("web-profile")
            .role_name(other)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "LimitExceeded", "{other}");
        assert_eq!(
            message(&e),
            "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"
        );
    }
    let got = iam
        .get_instance_profile()
        .instance_profile_name("Web-Profile")
        .send()
        .await
        .unwrap();
    let roles = got.instance_profile().unwrap().roles();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].role_name(), "web");
    assert_eq!(roles[0].arn(), format!("arn:aws:iam::{ACCOUNT}:role/web"));
    assert_eq!(
        roles[0].assume_role_policy_document().map(percent_decode),
        Some(TRUST.to_owned())
    );

    // The account's summary and authorization details see it.
    let summary = iam.get_account_summary().send().await.unwrap();
    let map = summary.summary_map().unwrap();
    assert_eq!(map.get(&aws_sdk_iam::types::SummaryKeyType::InstanceProfiles), Some(&1));
    let details = iam.get_account_authorization_details().send().await.unwrap();
    let web = details
        .role_detail_list()
        .iter()
        .find(|r| r.role_name() == Some("web"))
        .unwrap();
    let listed: Vec<_> = web
        .instance_profile_list()
        .iter()
        .map(|p| p.instance_profile_name())
        .collect();
    assert_eq!(listed, ["web-profile"]);

    // Neither goes while the other holds on: the role, then the profile.
    let e = iam.delete_role().role_name("web").send().await.unwrap_err();
    assert_eq!(code(&e), "DeleteConflict");
    assert_eq!(
        message(&e),
        "Cannot delete entity, must remove roles from instance profile first."
    );
    let e = iam
        .delete_instance_profile()
        .instance_profile_name("web-profile")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "DeleteConflict");

    // Terraform's path to destroy a role: the role's profiles, each emptied, then the role.
    let listed = iam
        .list_instance_profiles_for_role()
        .role_name("web")
        .send()
        .await
        .unwrap();
    let names: Vec<_> = listed
        .instance_profiles()
        .iter()
        .map(|p| p.instance_profile_name().to_owned())
        .collect();
    assert_eq!(names, ["web-profile"]);
    assert!(!listed.is_truncated());
    for name in &names {
        iam.remove_role_from_instance_profile()
            .instance_profile_name(name)
            .role_name("web")
            .send()
            .await
            .unwrap();
    }
    let e = iam
        .remove_role_from_instance_profile()
        .instance_profile_name("web-profile")
        .role_name("web")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchEntity");
    iam.delete_role().role_name("web").send().await.unwrap();
    iam.delete_instance_profile()
        .instance_profile_name("web-profile")
        .send()
        .await
        .unwrap();
    let e = iam
        .get_instance_profile()
        .instance_profile_name("web-profile")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchEntity");
    assert_eq!(message(&e), "Instance Profile web-profile cannot be found.");
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

async fn profiles_are_listed_paged_and_tagged(server: &TestServer) {
    let iam = server.root_iam();
    for (name, path) in [("c", "/"), ("a", "/team/"), ("b", "/team/"), ("d", "/other/")] {
        iam.create_instance_profile()
            .instance_profile_name(name)
            .path(path)
            .tags(Tag::builder().key("team").value(name).build().unwrap())
            .send()
            .await
            .unwrap();
    }
    let first = iam.list_instance_profiles().max_items(2).send().await.unwrap();
    let names = |r: &[aws_sdk_iam::types::InstanceProfile]| {
        r.iter()
            .map(|p| p.instance_profile_name().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(first.instance_profiles()), ["a", "b"]);
    assert!(first.is_truncated());
    let rest = iam
        .list_instance_profiles()
        .marker(first.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(names(rest.instance_profiles()), ["c", "d"]);
    assert!(!rest.is_truncated());
    let team = iam.list_instance_profiles().path_prefix("/team/").send().await.unwrap();
    assert_eq!(names(team.instance_profiles()), ["a", "b"]);

    iam.tag_instance_profile()
        .instance_profile_name("a")
        .tags(Tag::builder().key("env").value("prod").build().unwrap())
        .send()
        .await
        .unwrap();
    iam.untag_instance_profile()
        .instance_profile_name("a")
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = iam
        .list_instance_profile_tags()
        .instance_profile_name("a")
        .send()
        .await
        .unwrap();
    let pairs: Vec<_> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(pairs, [("env", "prod")]);
    let got = iam
        .get_instance_profile()
        .instance_profile_name("a")
        .send()
        .await
        .unwrap();
    assert_eq!(got.instance_profile().unwrap().tags().len(), 1);
    let e = iam
        .tag_instance_profile()
        .instance_profile_name("nope")
        .tags(Tag::builder().key("k").value("v").build().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchEntity");
}

async fn bad_names_and_missing_profiles_are_refused(server: &TestServer) {
    let iam = server.root_iam();
    let e = iam
        .create_instance_profile()
        .instance_profile_name("has space")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationError");
    let e = iam
        .create_instance_profile()
        .instance_profile_name("p")
        .path("no-slashes")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationError");
    role(server, "r").await;
    let e = iam
        .add_role_to_instance_profile()
        .instance_profile_name("missing")
        .role_name("r")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchEntity");
    assert_eq!(message(&e), "Instance Profile missing cannot be found.");
    iam.create_instance_profile()
        .instance_profile_name("p")
        .send()
        .await
        .unwrap();
    let e = iam
        .add_role_to_instance_profile()
        .instance_profile_name("p")
        .role_name("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchEntity");
    assert_eq!(message(&e), "The role with name missing cannot be found.");
    let e = iam
        .list_instance_profiles_for_role()
        .role_name("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchEntity");
    let e = iam
        .delete_instance_profile()
        .instance_profile_name("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchEntity");
}

/// The attack: a user allowed to fill instance profiles, but not to pass the admin role,
/// must not be able to give an instance that role.
async fn handing_a_role_to_a_profile_needs_pass_role(server: &TestServer) {
    let iam = server.root_iam();
    role(server, "admin").await;
    role(server, "app").await;
    iam.create_instance_profile()
        .instance_profile_name("p")
        .send()
        .await
        .unwrap();
    let document = format!(
        r#"{{"Version":"2012-10-17","Statement":[
        {{"Effect":"Allow","Action":["iam:AddRoleToInstanceProfile","iam:RemoveRoleFromInstanceProfile"],"Resource":"arn:aws:iam::{ACCOUNT}:instance-profile/p"}},
        {{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::{ACCOUNT}:role/app","Condition":{{"StringEquals":{{"iam:PassedToService":"ec2.amazonaws.com"}},"ArnLike":{{"iam:AssociatedResourceArn":"arn:aws:ec2:*:{ACCOUNT}:instance/*"}}}}}}]}}"#
    );
    let (key, secret) = server.user_with_inline_policy("filler", Some(&document)).await;
    let filler = server.iam_as(&key, &secret, "us-east-1");
    let e = filler
        .add_role_to_instance_profile()
        .instance_profile_name("p")
        .role_name("admin")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    assert!(
        message(&e).contains(&format!(
            "is not authorized to perform: iam:PassRole on resource: arn:aws:iam::{ACCOUNT}:role/admin"
        )),
        "{}",
        message(&e)
    );
    let profile = iam
        .get_instance_profile()
        .instance_profile_name("p")
        .send()
        .await
        .unwrap();
    assert!(profile.instance_profile().unwrap().roles().is_empty());
    // The role it may pass, to EC2, goes in.
    filler
        .add_role_to_instance_profile()
        .instance_profile_name("p")
        .role_name("app")
        .send()
        .await
        .unwrap();
    filler
        .remove_role_from_instance_profile()
        .instance_profile_name("p")
        .role_name("app")
        .send()
        .await
        .unwrap();
    // A policy passing the role to another service only does not do.
    let other_service = document.replace("ec2.amazonaws.com", "lambda.amazonaws.com");
    iam.put_user_policy()
        .user_name("filler")
        .policy_name("p")
        .policy_document(other_service)
        .send()
        .await
        .unwrap();
    let e = filler
        .add_role_to_instance_profile()
        .instance_profile_name("p")
        .role_name("app")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
}

async fn parallel_additions_leave_one_role(server: &TestServer) {
    let iam = server.root_iam();
    iam.create_instance_profile()
        .instance_profile_name("p")
        .send()
        .await
        .unwrap();
    for i in 0..8 {
        role(server, &format!("r{i}")).await;
    }
    let results = futures_util::future::join_all((0..8).map(|i| {
        let iam = iam.clone();
        async move {
            iam.add_role_to_instance_profile()
                .instance_profile_name("p")
                .role_name(format!("r{i}"))
                .send()
                .await
        }
    }))
    .await;
    let added = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(added, 1, "{results:?}");
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(code(e), "LimitExceeded");
    }
    let profile = iam
        .get_instance_profile()
        .instance_profile_name("p")
        .send()
        .await
        .unwrap();
    assert_eq!(profile.instance_profile().unwrap().roles().len(), 1);
}

/// 1000 instance profiles per account, counted in the creating transaction: creations in
/// parallel past the quota all fail, and the count stays at the quota.
async fn the_account_quota_holds_under_parallel_creation(server: &TestServer) {
    let iam = server.root_iam();
    let create = |name: String| {
        let iam = iam.clone();
        async move { iam.create_instance_profile().instance_profile_name(name).send().await }
    };
    for batch in 0..10 {
        let results = futures_util::future::join_all((0..100).map(|i| create(format!("p{batch}-{i}")))).await;
        assert!(results.iter().all(Result::is_ok), "{results:?}");
    }
    let over = futures_util::future::join_all((0..8).map(|i| create(format!("over-{i}")))).await;
    for e in over.iter().map(|r| r.as_ref().unwrap_err()) {
        assert_eq!(code(e), "LimitExceeded");
        assert_eq!(message(e), "Cannot exceed quota for InstanceProfilesPerAccount: 1000");
    }
    let summary = iam.get_account_summary().send().await.unwrap();
    assert_eq!(
        summary
            .summary_map()
            .unwrap()
            .get(&aws_sdk_iam::types::SummaryKeyType::InstanceProfiles),
        Some(&1000)
    );
}
