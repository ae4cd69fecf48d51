//! End to end: every request is decided by the policy engine. Users with different
//! policies get exactly the allowed and denied answers AWS gives, including group
//! policies, explicit denies, permissions boundaries, policy variables and conditions on
//! aws:SourceIp and principal tags, and a change takes effect on the very next request.

use crate::common;

use aws_sdk_iam::types::Tag;
use common::{ACCOUNT, TestServer, code, message};

fn allow(action: &str, resource: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}]}}"#
    )
}

fn deny(action: &str, resource: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"{action}","Resource":"{resource}"}}]}}"#
    )
}

/// A user with a key; returns an IAM client signing as that user.
async fn user(s: &TestServer, name: &str, tags: &[(&str, &str)]) -> aws_sdk_iam::Client {
    let iam = s.root_iam();
    let mut create = iam.create_user().user_name(name);
    for (k, v) in tags {
        create = create.tags(Tag::builder().key(*k).value(*v).build().unwrap());
    }
    create.send().await.unwrap();
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    s.iam_as(&key.access_key_id, &key.secret_access_key, "us-east-1")
}

async fn managed(s: &TestServer, name: &str, document: &str) -> String {
    s.root_iam()
        .create_policy()
        .policy_name(name)
        .policy_document(document)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap()
        .arn
        .unwrap()
}

fn denied_because(err_message: &str, user: &str, action: &str, resource: &str, why: &str) {
    assert_eq!(
        err_message,
        format!(
            "User: arn:aws:iam::{ACCOUNT}:user/{user} is not authorized to perform: {action} on resource: {resource} {why}"
        )
    );
}

on_both_backends!(
    resources_carry_the_entitys_path,
    attached_and_group_policies_allow_and_explicit_denies_win,
    permissions_boundaries_cap_what_policies_grant,
    conditions_and_variables_decide_per_request,
    a_change_to_a_roles_or_groups_policies_reaches_cached_sessions_at_once,
);

async fn resources_carry_the_entitys_path(s: &TestServer) {
    let root = s.root_iam();
    root.create_user()
        .user_name("inside")
        .path("/team/")
        .send()
        .await
        .unwrap();
    root.create_user()
        .user_name("outside")
        .path("/other/")
        .send()
        .await
        .unwrap();
    let viewer = user(s, "viewer", &[]).await;
    let arn = managed(
        s,
        "TeamReader",
        &allow("iam:GetUser", &format!("arn:aws:iam::{ACCOUNT}:user/team/*")),
    )
    .await;
    root.attach_user_policy()
        .user_name("viewer")
        .policy_arn(arn)
        .send()
        .await
        .unwrap();
    viewer.get_user().user_name("inside").send().await.unwrap();
    let err = viewer.get_user().user_name("outside").send().await.unwrap_err();
    denied_because(
        &message(&err),
        "viewer",
        "iam:GetUser",
        "user outside",
        "because no identity-based policy allows the iam:GetUser action",
    );
}

async fn attached_and_group_policies_allow_and_explicit_denies_win(s: &TestServer) {
    let root = s.root_iam();
    let alice = user(s, "alice", &[]).await;
    let err = alice.list_users().send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDenied");

    let list_users = managed(s, "ListUsers", &allow("iam:ListUsers", "*")).await;
    root.attach_user_policy()
        .user_name("alice")
        .policy_arn(&list_users)
        .send()
        .await
        .unwrap();
    assert_eq!(
        alice.list_users().send().await.unwrap().users().len(),
        1,
        "allowed on the very next request"
    );

    let err = alice.create_user().user_name("mallory").send().await.unwrap_err();
    denied_because(
        &message(&err),
        "alice",
        "iam:CreateUser",
        &format!("arn:aws:iam::{ACCOUNT}:user/mallory"),
        "because no identity-based policy allows the iam:CreateUser action",
    );

    // A group's policies are the user's too.
    root.create_group().group_name("readers").send().await.unwrap();
    root.put_group_policy()
        .group_name("readers")
        .policy_name("roles")
        .policy_document(allow("iam:ListRoles", "*"))
        .send()
        .await
        .unwrap();
    assert_eq!(code(&alice.list_roles().send().await.unwrap_err()), "AccessDenied");
    root.add_user_to_group()
        .group_name("readers")
        .user_name("alice")
        .send()
        .await
        .unwrap();
    alice.list_roles().send().await.unwrap();
    root.remove_user_from_group()
        .group_name("readers")
        .user_name("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(
        code(&alice.list_roles().send().await.unwrap_err()),
        "AccessDenied",
        "removal applies at once"
    );

    // An explicit deny wins over the allow.
    root.put_user_policy()
        .user_name("alice")
        .policy_name("no-list")
        .policy_document(deny("iam:List*", "*"))
        .send()
        .await
        .unwrap();
    let err = alice.list_users().send().await.unwrap_err();
    denied_because(
        &message(&err),
        "alice",
        "iam:ListUsers",
        &format!("arn:aws:iam::{ACCOUNT}:user/"),
        "with an explicit deny in an identity-based policy",
    );
    root.delete_user_policy()
        .user_name("alice")
        .policy_name("no-list")
        .send()
        .await
        .unwrap();
    alice.list_users().send().await.unwrap();

    // A new default version changes the decision; rolling back restores it.
    root.create_policy_version()
        .policy_arn(&list_users)
        .policy_document(allow("iam:ListRoles", "*"))
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    assert_eq!(code(&alice.list_users().send().await.unwrap_err()), "AccessDenied");
    root.set_default_policy_version()
        .policy_arn(&list_users)
        .version_id("v1")
        .send()
        .await
        .unwrap();
    alice.list_users().send().await.unwrap();
}

async fn permissions_boundaries_cap_what_policies_grant(s: &TestServer) {
    let root = s.root_iam();
    let bob = user(s, "bob", &[]).await;
    root.attach_user_policy()
        .user_name("bob")
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .unwrap();
    bob.create_group().group_name("made-by-bob").send().await.unwrap();

    let read_only = managed(s, "IamReadOnly", &allow("iam:Get*", "*")).await;
    root.put_user_permissions_boundary()
        .user_name("bob")
        .permissions_boundary(&read_only)
        .send()
        .await
        .unwrap();
    let got = root.get_user().user_name("bob").send().await.unwrap().user.unwrap();
    assert_eq!(
        got.permissions_boundary().and_then(|b| b.permissions_boundary_arn()),
        Some(read_only.as_str())
    );

    bob.get_user().send().await.unwrap();
    let err = bob.create_group().group_name("again").send().await.unwrap_err();
    denied_because(
        &message(&err),
        "bob",
        "iam:CreateGroup",
        &format!("arn:aws:iam::{ACCOUNT}:group/again"),
        "because no permissions boundary allows the iam:CreateGroup action",
    );
    let err = root.delete_policy().policy_arn(&read_only).send().await.unwrap_err();
    assert_eq!(
        code(&err),
        "DeleteConflict",
        "a policy in use as a boundary cannot be deleted"
    );

    root.delete_user_permissions_boundary()
        .user_name("bob")
        .send()
        .await
        .unwrap();
    bob.create_group().group_name("again").send().await.unwrap();
    let err = root
        .delete_user_permissions_boundary()
        .user_name("bob")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
}

async fn conditions_and_variables_decide_per_request(s: &TestServer) {
    let root = s.root_iam();
    let carol = user(s, "carol", &[("team", "blue")]).await;
    let dave = user(s, "dave", &[("team", "red")]).await;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Sid":"Self","Effect":"Allow","Action":["iam:GetUser","iam:ListAccessKeys"],"Resource":"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"}},
            {{"Sid":"Blue","Effect":"Allow","Action":"iam:ListGroups","Resource":"*","Condition":{{"StringEquals":{{"aws:PrincipalTag/team":"blue"}}}}}},
            {{"Sid":"Loopback","Effect":"Allow","Action":"iam:ListRoles","Resource":"*","Condition":{{"IpAddress":{{"aws:SourceIp":"127.0.0.0/8"}}}}}},
            {{"Sid":"Elsewhere","Effect":"Allow","Action":"iam:ListPolicies","Resource":"*","Condition":{{"IpAddress":{{"aws:SourceIp":"10.0.0.0/8"}}}}}}
        ]}}"#
    );
    let arn = managed(s, "Conditional", &policy).await;
    for name in ["carol", "dave"] {
        root.attach_user_policy()
            .user_name(name)
            .policy_arn(&arn)
            .send()
            .await
            .unwrap();
    }

    carol.get_user().send().await.unwrap();
    carol.list_access_keys().send().await.unwrap();
    let err = carol.get_user().user_name("dave").send().await.unwrap_err();
    denied_because(
        &message(&err),
        "carol",
        "iam:GetUser",
        "user dave",
        "because no identity-based policy allows the iam:GetUser action",
    );

    carol.list_groups().send().await.unwrap();
    assert_eq!(
        code(&dave.list_groups().send().await.unwrap_err()),
        "AccessDenied",
        "dave's team is red"
    );
    // Re-tagging takes effect on the next request.
    root.tag_user()
        .user_name("dave")
        .tags(Tag::builder().key("Team").value("blue").build().unwrap())
        .send()
        .await
        .unwrap();
    let tags = root.list_user_tags().user_name("dave").send().await.unwrap();
    assert_eq!(
        tags.tags().iter().map(|t| (t.key(), t.value())).collect::<Vec<_>>(),
        [("Team", "blue")]
    );
    dave.list_groups().send().await.unwrap();
    root.untag_user()
        .user_name("dave")
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    assert!(
        root.list_user_tags()
            .user_name("dave")
            .send()
            .await
            .unwrap()
            .tags()
            .is_empty()
    );
    assert_eq!(code(&dave.list_groups().send().await.unwrap_err()), "AccessDenied");

    carol.list_roles().send().await.unwrap();
    assert_eq!(
        code(&carol.list_policies().send().await.unwrap_err()),
        "AccessDenied",
        "the caller is on loopback"
    );
}

/// A change to one role's own policies (attached, inline, boundary, tags) moves that role's
/// policy epoch, not its account's (migration 0031): each must still reach a session whose
/// compiled policies are cached. Every step asks once before the change, so what the change
/// must invalidate is the cached set; a change to a group's policies (the account's epoch)
/// reaches its members the same way.
async fn a_change_to_a_roles_or_groups_policies_reaches_cached_sessions_at_once(s: &TestServer) {
    let root = s.root_iam();
    let (key, secret) = s
        .user_with_inline_policy("assumer", Some(&allow("sts:AssumeRole", "*")))
        .await;
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:user/assumer"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    root.create_role()
        .role_name("worker")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let creds = s
        .sts_as(&key, &secret, "us-east-1")
        .assume_role()
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/worker"))
        .role_session_name("worker-session")
        .send()
        .await
        .unwrap()
        .credentials
        .unwrap();
    let worker = s.iam_as_session(&creds);
    assert_eq!(code(&worker.list_users().send().await.unwrap_err()), "AccessDenied");

    // Attached, then overridden by an inline Deny, which is deleted again.
    let list_users = managed(s, "WorkerListUsers", &allow("iam:ListUsers", "*")).await;
    root.attach_role_policy()
        .role_name("worker")
        .policy_arn(&list_users)
        .send()
        .await
        .unwrap();
    worker.list_users().send().await.unwrap();
    root.put_role_policy()
        .role_name("worker")
        .policy_name("no-list")
        .policy_document(deny("iam:ListUsers", "*"))
        .send()
        .await
        .unwrap();
    assert_eq!(code(&worker.list_users().send().await.unwrap_err()), "AccessDenied");
    root.delete_role_policy()
        .role_name("worker")
        .policy_name("no-list")
        .send()
        .await
        .unwrap();
    worker.list_users().send().await.unwrap();

    // A boundary that allows only reads, then removed.
    let gets = managed(s, "WorkerGetsOnly", &allow("iam:Get*", "*")).await;
    root.put_role_permissions_boundary()
        .role_name("worker")
        .permissions_boundary(&gets)
        .send()
        .await
        .unwrap();
    assert_eq!(code(&worker.list_users().send().await.unwrap_err()), "AccessDenied");
    root.delete_role_permissions_boundary()
        .role_name("worker")
        .send()
        .await
        .unwrap();
    worker.list_users().send().await.unwrap();

    // The role's tags, read by aws:PrincipalTag.
    let blue = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListGroups","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue"}}}]}"#;
    root.put_role_policy()
        .role_name("worker")
        .policy_name("blue")
        .policy_document(blue)
        .send()
        .await
        .unwrap();
    assert_eq!(code(&worker.list_groups().send().await.unwrap_err()), "AccessDenied");
    root.tag_role()
        .role_name("worker")
        .tags(Tag::builder().key("team").value("blue").build().unwrap())
        .send()
        .await
        .unwrap();
    worker.list_groups().send().await.unwrap();
    root.untag_role()
        .role_name("worker")
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    assert_eq!(code(&worker.list_groups().send().await.unwrap_err()), "AccessDenied");

    // Detached: refused again.
    root.detach_role_policy()
        .role_name("worker")
        .policy_arn(&list_users)
        .send()
        .await
        .unwrap();
    assert_eq!(code(&worker.list_users().send().await.unwrap_err()), "AccessDenied");

    // A group's policies, changed while its member's set is cached.
    let member = user(s, "member", &[]).await;
    root.create_group().group_name("crew").send().await.unwrap();
    root.add_user_to_group()
        .group_name("crew")
        .user_name("member")
        .send()
        .await
        .unwrap();
    assert_eq!(code(&member.list_roles().send().await.unwrap_err()), "AccessDenied");
    let list_roles = managed(s, "CrewListRoles", &allow("iam:ListRoles", "*")).await;
    root.attach_group_policy()
        .group_name("crew")
        .policy_arn(&list_roles)
        .send()
        .await
        .unwrap();
    member.list_roles().send().await.unwrap();
    root.detach_group_policy()
        .group_name("crew")
        .policy_arn(&list_roles)
        .send()
        .await
        .unwrap();
    assert_eq!(code(&member.list_roles().send().await.unwrap_err()), "AccessDenied");
    // A user's detachment too (attachment is the first test's).
    root.attach_user_policy()
        .user_name("member")
        .policy_arn(&list_roles)
        .send()
        .await
        .unwrap();
    member.list_roles().send().await.unwrap();
    root.detach_user_policy()
        .user_name("member")
        .policy_arn(&list_roles)
        .send()
        .await
        .unwrap();
    assert_eq!(code(&member.list_roles().send().await.unwrap_err()), "AccessDenied");
}

mod simulator {
    use super::*;
    use aws_sdk_iam::types::{ContextEntry, ContextKeyTypeEnum, PolicyEvaluationDecisionType as D};

    on_both_backends!(the_simulator_decides_with_the_same_engine);

    async fn the_simulator_decides_with_the_same_engine(s: &TestServer) {
        let iam = s.root_iam();
        let policy = r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
            {"Sid":"NoSecrets","Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/secret/*"}]}"#;
        let ip = ContextEntry::builder()
            .context_key_name("aws:SourceIp")
            .context_key_values("10.1.2.3")
            .context_key_type(ContextKeyTypeEnum::Ip)
            .build();
        let out = iam
            .simulate_custom_policy()
            .policy_input_list(policy)
            .action_names("s3:GetObject")
            .action_names("s3:PutObject")
            .resource_arns("arn:aws:s3:::bucket/public/a")
            .resource_arns("arn:aws:s3:::bucket/secret/b")
            .context_entries(ip)
            .send()
            .await
            .unwrap();
        let decisions: Vec<_> = out
            .evaluation_results()
            .iter()
            .map(|r| {
                (
                    r.eval_action_name(),
                    r.eval_resource_name().unwrap(),
                    r.eval_decision().clone(),
                )
            })
            .collect();
        assert_eq!(
            decisions,
            [
                ("s3:GetObject", "arn:aws:s3:::bucket/public/a", D::Allowed),
                ("s3:GetObject", "arn:aws:s3:::bucket/secret/b", D::ExplicitDeny),
                ("s3:PutObject", "arn:aws:s3:::bucket/public/a", D::ImplicitDeny),
                ("s3:PutObject", "arn:aws:s3:::bucket/secret/b", D::ImplicitDeny),
            ]
        );
        assert_eq!(
            out.evaluation_results()[0].matched_statements()[0].source_policy_id(),
            Some("PolicyInputList.1")
        );
        let without_ip = iam
            .simulate_custom_policy()
            .policy_input_list(policy)
            .action_names("s3:GetObject")
            .send()
            .await
            .unwrap();
        assert_eq!(without_ip.evaluation_results()[0].eval_decision(), &D::ImplicitDeny);
        assert_eq!(
            without_ip.evaluation_results()[0].missing_context_values(),
            ["aws:SourceIp"]
        );
        let keys = iam
            .get_context_keys_for_custom_policy()
            .policy_input_list(policy)
            .send()
            .await
            .unwrap();
        assert_eq!(keys.context_key_names(), ["aws:SourceIp"]);

        // A principal's stored policies, as they would decide its requests.
        iam.create_user().user_name("simulated").send().await.unwrap();
        let arn = managed(s, "SimRead", &allow("iam:GetUser", "*")).await;
        iam.attach_user_policy()
            .user_name("simulated")
            .policy_arn(&arn)
            .send()
            .await
            .unwrap();
        let user_arn = format!("arn:aws:iam::{ACCOUNT}:user/simulated");
        let out = iam
            .simulate_principal_policy()
            .policy_source_arn(&user_arn)
            .action_names("iam:GetUser")
            .action_names("iam:DeleteUser")
            .send()
            .await
            .unwrap();
        let results = out.evaluation_results();
        assert_eq!(results[0].eval_decision(), &D::Allowed);
        // Named as AWS names a managed policy: by its name.
        assert_eq!(results[0].matched_statements()[0].source_policy_id(), Some("SimRead"));
        assert_eq!(results[1].eval_decision(), &D::ImplicitDeny);
        let err = iam
            .simulate_principal_policy()
            .policy_source_arn(format!("arn:aws:iam::{ACCOUNT}:user/nobody"))
            .action_names("iam:GetUser")
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "NoSuchEntity");
    }
}
