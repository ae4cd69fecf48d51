//! End to end with the AWS SDK for Rust: managed policies and versions, roles, groups,
//! attachments, inline policies and the account, as scenarios 2–5 use them, on SQLite and
//! on PostgreSQL.

use crate::common;

use aws_sdk_iam::primitives::Blob;
use aws_sdk_iam::types::{EntityType, PolicyScopeType, ReportStateType, SummaryKeyType};
use common::{ACCOUNT, TestServer, code, message};

const S3_LIST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListObjects","Resource":"arn:aws:s3:::made-up-bucket-name"}]}"#;
const S3_PUT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::made-up-bucket-name/*"}]}"#;
const TRUST_SERVICES: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com","batchoperations.s3.amazonaws.com"]},"Action":"sts:AssumeRole"}]}"#;

fn decoded(document: &str) -> String {
    // Documents come back percent-encoded in the XML; the Rust SDK hands them over as sent.
    percent_decode(document)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

on_both_backends!(
    policy_versions_roll_back_as_scenario_three_does,
    policy_names_versions_and_deletion_rules,
    roles_take_aws_managed_policies_as_scenario_four_does,
    attachments_respect_the_quota_under_parallel_requests,
    inline_policies_and_groups,
    account_alias_summary_report_and_details,
    authorization_details_page_across_sections,
    the_token_version_is_the_accounts_preference,
);

/// SetSecurityTokenServicePreferences sets what GetAccountSummary reports as the global
/// endpoint's token version (1 by default).
async fn the_token_version_is_the_accounts_preference(s: &TestServer) {
    use aws_sdk_iam::types::GlobalEndpointTokenVersion;
    let iam = s.root_iam();
    let version = || async {
        let summary = iam.get_account_summary().send().await.unwrap();
        summary.summary_map().unwrap()[&SummaryKeyType::GlobalEndpointTokenVersion]
    };
    assert_eq!(version().await, 1);
    iam.set_security_token_service_preferences()
        .global_endpoint_token_version(GlobalEndpointTokenVersion::V2Token)
        .send()
        .await
        .unwrap();
    assert_eq!(version().await, 2);
    iam.set_security_token_service_preferences()
        .global_endpoint_token_version(GlobalEndpointTokenVersion::V1Token)
        .send()
        .await
        .unwrap();
    assert_eq!(version().await, 1);
}

async fn policy_versions_roll_back_as_scenario_three_does(s: &TestServer) {
    let iam = s.root_iam();
    let created = iam
        .create_policy()
        .policy_name("aws-iam-demo-policy")
        .description("demo")
        .policy_document(S3_LIST)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    let arn = created.arn().unwrap().to_owned();
    assert_eq!(arn, format!("arn:aws:iam::{ACCOUNT}:policy/aws-iam-demo-policy"));
    assert_eq!(created.default_version_id(), Some("v1"));
    assert_eq!(created.attachment_count(), Some(0));
    assert!(created.policy_id().unwrap().starts_with("ANPA"));

    let local = iam.list_policies().scope(PolicyScopeType::Local).send().await.unwrap();
    assert_eq!(local.policies().len(), 1);
    assert_eq!(local.policies()[0].policy_name(), Some("aws-iam-demo-policy"));

    let v2 = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(S3_PUT)
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    assert_eq!(v2.policy_version().unwrap().version_id(), Some("v2"));
    assert!(v2.policy_version().unwrap().is_default_version());

    let policy = iam.get_policy().policy_arn(&arn).send().await.unwrap().policy.unwrap();
    assert_eq!(policy.default_version_id(), Some("v2"));
    let doc = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v2")
        .send()
        .await
        .unwrap();
    assert_eq!(decoded(doc.policy_version().unwrap().document().unwrap()), S3_PUT);

    // Roll back: the version before the default becomes the default; the old default goes.
    let versions = iam.list_policy_versions().policy_arn(&arn).send().await.unwrap();
    let ids: Vec<_> = versions
        .versions()
        .iter()
        .map(|v| (v.version_id().unwrap(), v.is_default_version()))
        .collect();
    assert_eq!(ids, [("v2", true), ("v1", false)], "newest first");
    iam.set_default_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .unwrap();
    iam.delete_policy_version()
        .policy_arn(&arn)
        .version_id("v2")
        .send()
        .await
        .unwrap();
    let policy = iam.get_policy().policy_arn(&arn).send().await.unwrap().policy.unwrap();
    assert_eq!(policy.default_version_id(), Some("v1"));
    let doc = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .unwrap();
    assert_eq!(decoded(doc.policy_version().unwrap().document().unwrap()), S3_LIST);
    iam.delete_policy().policy_arn(&arn).send().await.unwrap();
    let err = iam.get_policy().policy_arn(&arn).send().await.unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    assert_eq!(message(&err), format!("Policy {arn} was not found."));
}

async fn policy_names_versions_and_deletion_rules(s: &TestServer) {
    let iam = s.root_iam();
    let arn = iam
        .create_policy()
        .policy_name("Quota")
        .policy_document(S3_LIST)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap()
        .arn
        .unwrap();
    let err = iam
        .create_policy()
        .policy_name("quota")
        .policy_document(S3_LIST)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "EntityAlreadyExists");
    for _ in 2..=5 {
        iam.create_policy_version()
            .policy_arn(&arn)
            .policy_document(S3_PUT)
            .send()
            .await
            .unwrap();
    }
    let err = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(S3_PUT)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "LimitExceeded");
    assert_eq!(
        message(&err),
        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version."
    );
    let err = iam
        .delete_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (code(&err), message(&err)),
        (
            "DeleteConflict".into(),
            "Cannot delete the default version of a policy.".into()
        )
    );
    let err = iam.delete_policy().policy_arn(&arn).send().await.unwrap_err();
    assert_eq!(code(&err), "DeleteConflict");
    for v in ["v2", "v3", "v4", "v5"] {
        iam.delete_policy_version()
            .policy_arn(&arn)
            .version_id(v)
            .send()
            .await
            .unwrap();
    }
    // Version numbers are never reused.
    let v = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(S3_PUT)
        .send()
        .await
        .unwrap();
    assert_eq!(v.policy_version().unwrap().version_id(), Some("v6"));
    iam.delete_policy_version()
        .policy_arn(&arn)
        .version_id("v6")
        .send()
        .await
        .unwrap();

    iam.create_user().user_name("holder").send().await.unwrap();
    iam.attach_user_policy()
        .user_name("holder")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let err = iam.delete_policy().policy_arn(&arn).send().await.unwrap_err();
    assert_eq!(
        (code(&err), message(&err)),
        (
            "DeleteConflict".into(),
            "Cannot delete a policy attached to entities.".into()
        )
    );
    let err = iam.delete_user().user_name("holder").send().await.unwrap_err();
    assert_eq!(message(&err), "Cannot delete entity, must detach all policies first.");
    let entities = iam.list_entities_for_policy().policy_arn(&arn).send().await.unwrap();
    assert_eq!(entities.policy_users().len(), 1);
    assert_eq!(entities.policy_users()[0].user_name(), Some("holder"));
    iam.detach_user_policy()
        .user_name("holder")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    iam.delete_policy().policy_arn(&arn).send().await.unwrap();

    let bad = iam
        .create_policy()
        .policy_name("bad")
        .policy_document(r#"{"Version":"2012-10-17"}"#)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&bad), "MalformedPolicyDocument");

    let aws = "arn:aws:iam::aws:policy/AdministratorAccess";
    let err = iam.delete_policy().policy_arn(aws).send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDenied", "AWS managed policies cannot be changed");
}

async fn roles_take_aws_managed_policies_as_scenario_four_does(s: &TestServer) {
    let iam = s.root_iam();
    let role = iam
        .create_role()
        .role_name("demo-iam-role")
        .assume_role_policy_document(TRUST_SERVICES)
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert!(role.role_id.starts_with("AROA"));
    assert_eq!(role.arn, format!("arn:aws:iam::{ACCOUNT}:role/demo-iam-role"));
    assert_eq!(decoded(role.assume_role_policy_document().unwrap()), TRUST_SERVICES);
    // CreateRole answers without the session duration, as AWS does; GetRole has it.
    assert_eq!(role.max_session_duration(), None);
    let got = iam.get_role().role_name("demo-iam-role").send().await.unwrap();
    assert_eq!(got.role().unwrap().max_session_duration(), Some(3600));

    let read_only = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
    let aws = iam
        .get_policy()
        .policy_arn(read_only)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    assert_eq!(aws.policy_name(), Some("AmazonS3ReadOnlyAccess"));
    assert_eq!(aws.path(), Some("/"));
    iam.attach_role_policy()
        .role_name("demo-iam-role")
        .policy_arn(read_only)
        .send()
        .await
        .unwrap();
    let attached = iam
        .list_attached_role_policies()
        .role_name("demo-iam-role")
        .send()
        .await
        .unwrap();
    assert_eq!(attached.attached_policies().len(), 1);
    assert_eq!(
        attached.attached_policies()[0].policy_name(),
        Some("AmazonS3ReadOnlyAccess")
    );
    let aws = iam
        .get_policy()
        .policy_arn(read_only)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    assert_eq!(aws.attachment_count(), Some(1));
    let attached_only = iam
        .list_policies()
        .scope(PolicyScopeType::Aws)
        .only_attached(true)
        .send()
        .await
        .unwrap();
    assert_eq!(attached_only.policies().len(), 1);
    let aws_all = iam
        .list_policies()
        .scope(PolicyScopeType::Aws)
        .max_items(1000)
        .send()
        .await
        .unwrap();
    assert_eq!(aws_all.policies().len(), 1000);
    assert!(aws_all.is_truncated());

    let err = iam.delete_role().role_name("demo-iam-role").send().await.unwrap_err();
    assert_eq!(message(&err), "Cannot delete entity, must detach all policies first.");
    iam.detach_role_policy()
        .role_name("demo-iam-role")
        .policy_arn(read_only)
        .send()
        .await
        .unwrap();
    let err = iam
        .detach_role_policy()
        .role_name("demo-iam-role")
        .policy_arn(read_only)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    iam.delete_role().role_name("demo-iam-role").send().await.unwrap();
    let err = iam.get_role().role_name("demo-iam-role").send().await.unwrap_err();
    assert_eq!(message(&err), "The role with name demo-iam-role cannot be found.");

    let err = iam
        .create_role()
        .role_name("r")
        .assume_role_policy_document(S3_LIST)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&err),
        "MalformedPolicyDocument",
        "a trust policy needs a principal"
    );
    let err = iam
        .attach_role_policy()
        .role_name("nope")
        .policy_arn(read_only)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
}

async fn attachments_respect_the_quota_under_parallel_requests(s: &TestServer) {
    let iam = s.root_iam();
    iam.create_user().user_name("many").send().await.unwrap();
    let attempts: Vec<_> = (0..14)
        .map(|i| {
            let iam = iam.clone();
            tokio::spawn(async move {
                let arn = iam
                    .create_policy()
                    .policy_name(format!("p{i}"))
                    .policy_document(S3_LIST)
                    .send()
                    .await
                    .unwrap()
                    .policy
                    .unwrap()
                    .arn
                    .unwrap();
                iam.attach_user_policy().user_name("many").policy_arn(arn).send().await
            })
        })
        .collect();
    let mut attached = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => attached += 1,
            Err(e) => {
                assert_eq!(code(&e), "LimitExceeded");
                assert_eq!(message(&e), "Cannot exceed quota for PoliciesPerUser: 10");
            }
        }
    }
    assert_eq!(attached, 10);
    let listed = iam
        .list_attached_user_policies()
        .user_name("many")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.attached_policies().len(), 10);
    // At the quota, attaching a policy attached already changes nothing and is no error;
    // one more is refused.
    let attached_arn = listed.attached_policies()[0].policy_arn().unwrap();
    iam.attach_user_policy()
        .user_name("many")
        .policy_arn(attached_arn)
        .send()
        .await
        .unwrap();
    let err = iam
        .attach_user_policy()
        .user_name("many")
        .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "LimitExceeded");
}

async fn inline_policies_and_groups(s: &TestServer) {
    let iam = s.root_iam();
    iam.create_user().user_name("member").send().await.unwrap();
    iam.put_user_policy()
        .user_name("member")
        .policy_name("inline")
        .policy_document(S3_LIST)
        .send()
        .await
        .unwrap();
    let got = iam
        .get_user_policy()
        .user_name("member")
        .policy_name("INLINE")
        .send()
        .await
        .unwrap();
    assert_eq!((got.user_name(), got.policy_name()), ("member", "inline"));
    assert_eq!(decoded(got.policy_document()), S3_LIST);
    assert_eq!(
        iam.list_user_policies()
            .user_name("member")
            .send()
            .await
            .unwrap()
            .policy_names(),
        ["inline"]
    );
    let big = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{}"}}]}}"#,
        "x".repeat(2000)
    );
    let err = iam
        .put_user_policy()
        .user_name("member")
        .policy_name("big")
        .policy_document(big)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (code(&err), message(&err)),
        (
            "LimitExceeded".into(),
            "Maximum policy size of 2048 bytes exceeded for user member".into()
        )
    );
    let err = iam.delete_user().user_name("member").send().await.unwrap_err();
    assert_eq!(message(&err), "Cannot delete entity, must delete policies first.");
    iam.delete_user_policy()
        .user_name("member")
        .policy_name("inline")
        .send()
        .await
        .unwrap();
    let err = iam
        .get_user_policy()
        .user_name("member")
        .policy_name("inline")
        .send()
        .await
        .unwrap_err();
    assert_eq!(message(&err), "The user policy with name inline cannot be found.");

    let group = iam
        .create_group()
        .group_name("Readers")
        .send()
        .await
        .unwrap()
        .group
        .unwrap();
    assert!(group.group_id.starts_with("AGPA"));
    assert_eq!(group.arn, format!("arn:aws:iam::{ACCOUNT}:group/Readers"));
    iam.add_user_to_group()
        .group_name("readers")
        .user_name("member")
        .send()
        .await
        .unwrap();
    let got = iam.get_group().group_name("Readers").send().await.unwrap();
    assert_eq!(
        got.users().iter().map(|u| u.user_name.as_str()).collect::<Vec<_>>(),
        ["member"]
    );
    let for_user = iam.list_groups_for_user().user_name("member").send().await.unwrap();
    assert_eq!(for_user.groups()[0].group_name, "Readers");
    let err = iam.delete_group().group_name("Readers").send().await.unwrap_err();
    assert_eq!(
        message(&err),
        "Cannot delete entity, must remove users from group first."
    );
    iam.remove_user_from_group()
        .group_name("Readers")
        .user_name("member")
        .send()
        .await
        .unwrap();
    iam.delete_group().group_name("Readers").send().await.unwrap();
    iam.delete_user().user_name("member").send().await.unwrap();
}

async fn account_alias_summary_report_and_details(s: &TestServer) {
    let iam = s.root_iam();
    assert!(
        iam.list_account_aliases()
            .send()
            .await
            .unwrap()
            .account_aliases()
            .is_empty()
    );
    iam.create_account_alias()
        .account_alias("first-alias")
        .send()
        .await
        .unwrap();
    iam.create_account_alias()
        .account_alias("second-alias")
        .send()
        .await
        .unwrap();
    assert_eq!(
        iam.list_account_aliases().send().await.unwrap().account_aliases(),
        ["second-alias"]
    );
    let err = iam
        .delete_account_alias()
        .account_alias("first-alias")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    iam.delete_account_alias()
        .account_alias("second-alias")
        .send()
        .await
        .unwrap();
    let err = iam
        .create_account_alias()
        .account_alias("Bad--Alias")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationError");

    iam.create_user().user_name("reported").send().await.unwrap();
    let key = iam
        .create_access_key()
        .user_name("reported")
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    s.sts_as(&key.access_key_id, &key.secret_access_key, "eu-west-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap();

    let err = iam.get_credential_report().send().await.unwrap_err();
    assert_eq!(code(&err), "ReportNotPresent");
    let first = iam.generate_credential_report().send().await.unwrap();
    assert_eq!(first.state(), Some(&ReportStateType::Started));
    let second = iam.generate_credential_report().send().await.unwrap();
    assert_eq!(second.state(), Some(&ReportStateType::Complete));
    let report = iam.get_credential_report().send().await.unwrap();
    let csv = String::from_utf8(report.content().map(Blob::as_ref).unwrap().to_vec()).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0].len(), 22);
    assert_eq!(rows[0][..3], ["user", "arn", "user_creation_time"]);
    assert_eq!(
        rows[1][..2],
        ["<root_account>", &format!("arn:aws:iam::{ACCOUNT}:root")[..]]
    );
    assert_eq!(rows[1][3], "not_supported");
    let user = &rows[2];
    assert_eq!(user[0], "reported");
    assert_eq!((user[3], user[4], user[8]), ("false", "N/A", "true"));
    assert_eq!((user[11], user[12]), ("eu-west-1", "sts"));
    assert!(user[10].ends_with("+00:00"), "{}", user[10]);
    assert_eq!((user[13], user[14]), ("false", "N/A"));

    iam.create_role()
        .role_name("summarized")
        .assume_role_policy_document(TRUST_SERVICES)
        .send()
        .await
        .unwrap();
    let summary = iam.get_account_summary().send().await.unwrap();
    let map = summary.summary_map().unwrap();
    assert_eq!(map.len(), 34);
    assert_eq!(map.get(&SummaryKeyType::Users), Some(&1));
    assert_eq!(map.get(&SummaryKeyType::Roles), Some(&1));
    assert_eq!(map.get(&SummaryKeyType::AccessKeysPerUserQuota), Some(&2));
    assert_eq!(map.get(&SummaryKeyType::AccountAccessKeysPresent), Some(&1));

    let details = iam.get_account_authorization_details().send().await.unwrap();
    assert_eq!(details.user_detail_list().len(), 1);
    assert_eq!(details.role_detail_list().len(), 1);
    assert_eq!(
        decoded(details.role_detail_list()[0].assume_role_policy_document().unwrap()),
        TRUST_SERVICES
    );
    let roles_only = iam
        .get_account_authorization_details()
        .filter(EntityType::Role)
        .send()
        .await
        .unwrap();
    assert!(roles_only.user_detail_list().is_empty());
    assert_eq!(roles_only.role_detail_list().len(), 1);
}

/// Names of one GetAccountAuthorizationDetails answer, in listing order.
fn detail_names(
    page: &aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput,
) -> Vec<String> {
    let users = page
        .user_detail_list()
        .iter()
        .map(|u| format!("user:{}", u.user_name().unwrap()));
    let groups = page
        .group_detail_list()
        .iter()
        .map(|g| format!("group:{}", g.group_name().unwrap()));
    let roles = page
        .role_detail_list()
        .iter()
        .map(|r| format!("role:{}", r.role_name().unwrap()));
    let policies = page
        .policies()
        .iter()
        .map(|p| format!("policy:{}", p.policy_name().unwrap()));
    users.chain(groups).chain(roles).chain(policies).collect()
}

async fn authorization_details_page_across_sections(s: &TestServer) {
    let iam = s.root_iam();
    for name in ["carol", "Alice", "bob"] {
        iam.create_user().user_name(name).send().await.unwrap();
    }
    iam.create_group().group_name("admins").send().await.unwrap();
    iam.add_user_to_group()
        .group_name("admins")
        .user_name("bob")
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("runner")
        .assume_role_policy_document(TRUST_SERVICES)
        .send()
        .await
        .unwrap();
    let local = iam
        .create_policy()
        .policy_name("put-only")
        .policy_document(S3_PUT)
        .send()
        .await
        .unwrap();
    let local_arn = local.policy().unwrap().arn().unwrap().to_owned();
    iam.attach_user_policy()
        .user_name("Alice")
        .policy_arn(&local_arn)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("runner")
        .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
        .send()
        .await
        .unwrap();

    // Boundaries show in the details, as AWS's UserDetail and RoleDetail carry them.
    iam.put_user_permissions_boundary()
        .user_name("carol")
        .permissions_boundary(&local_arn)
        .send()
        .await
        .unwrap();
    iam.put_role_permissions_boundary()
        .role_name("runner")
        .permissions_boundary("arn:aws:iam::aws:policy/ReadOnlyAccess")
        .send()
        .await
        .unwrap();

    let everything = iam.get_account_authorization_details().send().await.unwrap();
    assert!(!everything.is_truncated());
    let boundary_arn = |b: Option<&aws_sdk_iam::types::AttachedPermissionsBoundary>| {
        b.and_then(|b| b.permissions_boundary_arn()).map(str::to_owned)
    };
    assert_eq!(
        boundary_arn(everything.user_detail_list()[0].permissions_boundary()),
        None
    );
    assert_eq!(
        boundary_arn(everything.user_detail_list()[2].permissions_boundary()),
        Some(local_arn.clone())
    );
    assert_eq!(
        boundary_arn(everything.role_detail_list()[0].permissions_boundary()).as_deref(),
        Some("arn:aws:iam::aws:policy/ReadOnlyAccess")
    );
    let expected = [
        "user:Alice",
        "user:bob",
        "user:carol",
        "group:admins",
        "role:runner",
        "policy:put-only",
        "policy:ReadOnlyAccess",
    ];
    assert_eq!(detail_names(&everything), expected);
    let alice = &everything.user_detail_list()[0];
    assert_eq!(
        alice.attached_managed_policies()[0].policy_arn(),
        Some(local_arn.as_str())
    );
    assert_eq!(everything.user_detail_list()[1].group_list(), ["admins"]);
    assert_eq!(everything.policies()[0].attachment_count(), Some(1));

    // Two at a time, the pages add up to the whole listing, each marker resuming in the
    // section where the last page stopped.
    for (filter, want) in [
        (None, expected.to_vec()),
        (
            Some(vec![EntityType::User, EntityType::AwsManagedPolicy]),
            vec![expected[0], expected[1], expected[2], expected[6]],
        ),
    ] {
        let mut seen = Vec::new();
        let mut marker: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = iam
                .get_account_authorization_details()
                .set_filter(filter.clone())
                .max_items(2)
                .set_marker(marker.clone())
                .send()
                .await
                .unwrap();
            pages += 1;
            let names = detail_names(&page);
            assert!(names.len() <= 2, "{names:?}");
            seen.extend(names);
            if !page.is_truncated() {
                assert_eq!(page.marker(), None);
                break;
            }
            marker = Some(page.marker().unwrap().to_owned());
        }
        assert_eq!(seen, want);
        assert_eq!(pages, want.len().div_ceil(2));
    }

    let err = iam
        .get_account_authorization_details()
        .marker("not-a-marker!")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidInput");
}
