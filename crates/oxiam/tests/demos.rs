//! Every demo, against an embedded oxiam, checked through the API: what each demo observed,
//! and what it left behind (nothing, or exactly what was there before).

use oxiam::demo::{self, Clients, Embedded, Scenario};

const REGION: &str = "us-east-1";

struct Setup {
    server: Embedded,
    root: Clients,
}

async fn setup() -> Setup {
    let server = Embedded::start().await.expect("the embedded oxiam starts");
    let root = Clients::new(&server.sdk_config(REGION));
    Setup { server, root }
}

impl Setup {
    /// Clients for a new IAM user allowed only `actions` (on every resource).
    async fn restricted(&self, name: &str, actions: &[&str]) -> Clients {
        let iam = &self.root.iam;
        demo::users::create_user(iam, name).await.unwrap();
        let document = demo::allow(actions, &["*"]).to_string();
        demo::users::put_inline_policy(iam, name, "only-these", &document)
            .await
            .unwrap();
        let key = demo::keys::create_key(iam, name).await.unwrap();
        self.root.with_key(&key)
    }

    async fn user_names(&self) -> Vec<String> {
        demo::users::list_users(&self.root.iam)
            .await
            .unwrap()
            .iter()
            .map(|u| u.user_name().to_owned())
            .collect()
    }

    async fn role_names(&self) -> Vec<String> {
        let roles = self.root.iam.list_roles().send().await.unwrap();
        roles.roles().iter().map(|r| r.role_name().to_owned()).collect()
    }

    async fn local_policy_names(&self) -> Vec<String> {
        demo::policies::list_policies(&self.root.iam, aws_sdk_iam::types::PolicyScopeType::Local)
            .await
            .unwrap()
            .iter()
            .filter_map(|p| p.policy_name().map(str::to_owned))
            .collect()
    }

    async fn stop(self) {
        let dir = self.server.data_dir().to_owned();
        self.server.stop().await.unwrap();
        assert!(!dir.exists(), "the embedded server's data directory is removed");
    }
}

fn code_of<T: std::fmt::Debug>(result: demo::Result<T>) -> String {
    result.expect_err("the call fails").code.unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_with_different_permissions() {
    let s = setup().await;
    let outcome = demo::permissions::run(&s.root).await.expect("the demo succeeds");

    // The renames kept the ids; each user did what it may and was denied the rest.
    assert_eq!(outcome.user_ids.len(), 2);
    assert_eq!(outcome.renamed_to, ["demo-iam-creator", "demo-iam-getter"]);
    assert_eq!(outcome.bytes_read, b"Hello from demo-iam-creator!");
    let denied: Vec<(&str, &str, &str)> = outcome
        .denials
        .iter()
        .map(|d| (d.who.as_str(), d.action.as_str(), d.code.as_str()))
        .collect();
    assert_eq!(
        denied,
        [
            ("demo-iam-creator", "s3:GetObject", "AccessDenied"),
            ("demo-iam-getter", "s3:DeleteObject", "AccessDenied"),
        ]
    );
    for denial in &outcome.denials {
        assert_eq!(
            denial.resource,
            format!("arn:aws:s3:::{}/demo-object.txt", outcome.bucket)
        );
    }

    // Nothing is left: no users, no policies, no bucket; the users' keys no longer work.
    assert!(s.user_names().await.is_empty());
    assert!(s.local_policy_names().await.is_empty());
    for arn in &outcome.policy_arns {
        assert_eq!(
            code_of(demo::policies::get_policy(&s.root.iam, arn).await),
            "NoSuchEntity"
        );
    }
    let buckets = demo::buckets::list_buckets(&s.root.s3).await.unwrap();
    assert!(!buckets.contains(&outcome.bucket), "{buckets:?}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_cleans_up_after_a_failed_step() {
    let s = setup().await;
    // Someone already has the reader's second name: the rename fails with IAM's error.
    demo::users::create_user(&s.root.iam, "demo-iam-getter").await.unwrap();
    let err = demo::permissions::run(&s.root).await.expect_err("the demo fails");
    assert!(err.is("EntityAlreadyExists"), "{err}");
    assert_eq!(err.doing, "UpdateUser demo-iam-reader -> demo-iam-getter");
    // What the demo made (both its users, under whatever names they had, and the bucket)
    // is gone; the user it did not make is still there.
    assert_eq!(s.user_names().await, ["demo-iam-getter"]);
    assert!(demo::buckets::list_buckets(&s.root.s3).await.unwrap().is_empty());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys() {
    let s = setup().await;
    let outcome = demo::keys::run(&s.root).await.expect("the demo succeeds");

    assert_eq!(outcome.user_name, demo::keys::DEMO_USER);
    // One key at the start, two after creating one, still two once it is inactive, one again.
    assert_eq!(outcome.key_counts, [1, 2, 2, 1]);
    assert_eq!(outcome.new_key_status_after_update.as_deref(), Some("Inactive"));
    let new_key = outcome.new_key_id.clone().expect("a key was created");
    assert_ne!(new_key, outcome.existing_key_id);
    let last_use = outcome.last_use.expect("the last use was read");
    assert_eq!(last_use.user_name.as_deref(), Some(demo::keys::DEMO_USER));
    assert_eq!(last_use.service_name, "iam");
    assert_eq!(last_use.region, REGION);
    assert!(last_use.date.is_some(), "the existing key signed the demo's calls");

    // The user and both keys are gone: the keys are unknown, and no longer sign anything.
    assert!(s.user_names().await.is_empty());
    assert_eq!(
        code_of(demo::users::get_user(&s.root.iam, Some(demo::keys::DEMO_USER)).await),
        "NoSuchEntity"
    );
    for key in [&new_key, &outcome.existing_key_id] {
        assert_eq!(code_of(demo::keys::last_used(&s.root.iam, key).await), "NoSuchEntity");
    }
    let old = s.root.with_credentials(aws_credential_types::Credentials::new(
        &outcome.existing_key_id,
        "whatever",
        None,
        None,
        "test",
    ));
    assert_eq!(code_of(demo::whoami(&old).await), "InvalidClientTokenId");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_never_deletes_what_it_did_not_create() {
    let s = setup().await;
    // A user of that name already exists: the demo fails at its first step, with IAM's error,
    // and leaves the existing user alone.
    demo::users::create_user(&s.root.iam, demo::keys::DEMO_USER)
        .await
        .unwrap();
    let key = demo::keys::create_key(&s.root.iam, demo::keys::DEMO_USER)
        .await
        .unwrap();
    let err = demo::keys::run(&s.root).await.expect_err("the demo fails");
    assert!(err.is("EntityAlreadyExists"), "{err}");
    assert!(err.doing.contains("CreateUser"), "{err}");
    assert_eq!(s.user_names().await, [demo::keys::DEMO_USER]);
    let keys = demo::keys::list_keys(&s.root.iam, demo::keys::DEMO_USER).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].access_key_id(), Some(key.access_key_id()));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies() {
    let s = setup().await;
    let outcome = demo::policies::run(&s.root).await.expect("the demo succeeds");

    assert!(
        outcome
            .local_policy_names
            .contains(&demo::policies::DEMO_POLICY.to_owned())
    );
    assert_eq!(outcome.new_version_id, "v2");
    assert_eq!(outcome.statement_before[0]["Action"], "s3:PutObject");
    assert_eq!(outcome.statement_after[0]["Action"], "s3:ListObjects");
    assert_eq!(
        outcome.statement_after[0]["Resource"],
        "arn:aws:s3:::made-up-bucket-name"
    );
    assert_eq!(outcome.versions_after_rollback, [("v1".to_owned(), true)]);

    // The policy is gone.
    assert_eq!(
        code_of(demo::policies::get_policy(&s.root.iam, &outcome.policy_arn).await),
        "NoSuchEntity"
    );
    assert!(s.local_policy_names().await.is_empty());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_cleans_up_after_a_denied_step() {
    let s = setup().await;
    // Allowed everything the demo does but CreatePolicyVersion.
    let limited = s
        .restricted(
            "policy-clerk",
            &[
                "iam:CreatePolicy",
                "iam:GetPolicy",
                "iam:GetPolicyVersion",
                "iam:ListPolicies",
                "iam:ListPolicyVersions",
                "iam:DeletePolicyVersion",
                "iam:DeletePolicy",
            ],
        )
        .await;
    let err = demo::policies::run(&limited).await.expect_err("the demo fails");
    assert!(err.is("AccessDenied"), "{err}");
    assert!(err.doing.starts_with("CreatePolicyVersion"), "{err}");
    assert!(err.message.contains("iam:CreatePolicyVersion"), "{err}");
    // The policy it had created is deleted all the same.
    assert!(s.local_policy_names().await.is_empty());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles() {
    let s = setup().await;
    let outcome = demo::roles::run(&s.root).await.expect("the demo succeeds");

    assert!(outcome.role_arn.ends_with(":role/demo-iam-role"));
    let statement = &outcome.trust_policy["Statement"][0];
    assert_eq!(statement["Action"], "sts:AssumeRole");
    assert_eq!(
        statement["Principal"]["Service"],
        serde_json::json!(["lambda.amazonaws.com", "batchoperations.s3.amazonaws.com"])
    );
    assert_eq!(outcome.attached_policy_arns, [demo::roles::S3_READ_ONLY]);

    // The role is gone, and the AWS managed policy is attached nowhere.
    assert_eq!(
        code_of(demo::roles::get_role(&s.root.iam, demo::roles::DEMO_ROLE).await),
        "NoSuchEntity"
    );
    assert!(s.role_names().await.is_empty());
    let managed = demo::policies::get_policy(&s.root.iam, demo::roles::S3_READ_ONLY)
        .await
        .unwrap();
    assert_eq!(managed.attachment_count(), Some(0));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_cleans_up_after_a_denied_step() {
    let s = setup().await;
    let limited = s
        .restricted(
            "role-clerk",
            &[
                "iam:CreateRole",
                "iam:GetRole",
                "iam:DeleteRole",
                "iam:ListAttachedRolePolicies",
                "iam:ListRolePolicies",
                "iam:DetachRolePolicy",
            ],
        )
        .await;
    let err = demo::roles::run(&limited).await.expect_err("the demo fails");
    assert!(err.is("AccessDenied"), "{err}");
    assert!(err.doing.starts_with("AttachRolePolicy"), "{err}");
    assert!(s.role_names().await.is_empty());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_without_an_alias() {
    let s = setup().await;
    let outcome = demo::account::run(&s.root).await.expect("the demo succeeds");

    assert_eq!(outcome.alias_before, None);
    assert_eq!(outcome.aliases_after_second_create.len(), 1);
    assert!(outcome.aliases_after_second_create[0].ends_with("-2"));
    assert_eq!(outcome.alias_after, None);
    assert!(demo::account::list_aliases(&s.root.iam).await.unwrap().is_empty());

    assert_eq!(outcome.report_states.last().map(String::as_str), Some("COMPLETE"));
    assert_eq!(outcome.report_columns[0], ["user", "arn", "user_creation_time"]);
    assert_eq!(outcome.report_columns[1][0], "<root_account>");
    assert_eq!(outcome.report_columns[1][1], "arn:aws:iam::123456789012:root");

    assert_eq!(outcome.summary.get("AccessKeysPerUserQuota"), Some(&2));
    assert_eq!(outcome.summary.get("Users"), Some(&0));
    assert_eq!(
        outcome.summary,
        demo::account::account_summary(&s.root.iam).await.unwrap()
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_leaves_the_alias_as_it_found_it() {
    let s = setup().await;
    let iam = &s.root.iam;
    demo::account::create_alias(iam, "my-original-alias").await.unwrap();
    // Something for the report and the details to show.
    demo::users::create_user(iam, "alice").await.unwrap();
    demo::users::attach_policy(iam, "alice", "arn:aws:iam::aws:policy/ReadOnlyAccess")
        .await
        .unwrap();
    iam.create_group().group_name("auditors").send().await.unwrap();
    let trust = demo::roles::service_trust_policy(&["lambda.amazonaws.com"]).to_string();
    demo::roles::create_role(iam, "worker", &trust).await.unwrap();
    let document = demo::allow(&["s3:GetObject"], &["*"]).to_string();
    demo::policies::create_policy(iam, "reader", "reads", &document)
        .await
        .unwrap();

    let outcome = demo::account::run(&s.root).await.expect("the demo succeeds");
    assert_eq!(outcome.alias_before.as_deref(), Some("my-original-alias"));
    assert_eq!(outcome.alias_after.as_deref(), Some("my-original-alias"));
    assert_eq!(demo::account::list_aliases(iam).await.unwrap(), ["my-original-alias"]);

    let users: Vec<&str> = outcome.report_columns.iter().map(|c| c[0].as_str()).collect();
    assert_eq!(users, ["user", "<root_account>", "alice"]);
    assert_eq!(outcome.summary.get("Users"), Some(&1));
    assert_eq!(outcome.summary.get("Groups"), Some(&1));
    assert_eq!(outcome.summary.get("Roles"), Some(&1));
    assert_eq!(outcome.summary.get("Policies"), Some(&1));
    let [users, groups, roles, policies] = &outcome.detail_names;
    assert_eq!(users, &["alice"]);
    assert_eq!(groups, &["auditors"]);
    assert_eq!(roles, &["worker"]);
    assert!(policies.contains(&"reader".to_owned()), "{policies:?}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assume_role() {
    let s = setup().await;
    let outcome = demo::assume_role::run(&s.root).await.expect("the demo succeeds");

    assert_eq!(outcome.denied.code, "AccessDenied");
    assert_eq!(outcome.denied.action, "s3:ListAllMyBuckets");
    assert!(outcome.temporary_access_key_id.starts_with("ASIA"));
    let role_name = outcome.role_arn.rsplit('/').next().unwrap();
    assert!(
        outcome
            .assumed_role_arn
            .contains(&format!(":assumed-role/{role_name}/")),
        "{}",
        outcome.assumed_role_arn
    );
    assert_eq!(outcome.caller_with_temporary_credentials, outcome.assumed_role_arn);

    // Torn down: no user, no role, no policy.
    assert!(s.user_names().await.is_empty());
    assert!(s.role_names().await.is_empty());
    assert!(s.local_policy_names().await.is_empty());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization() {
    let s = setup().await;
    let outcome = demo::organization::run(&s.root).await.expect("the demo succeeds");

    assert_eq!(outcome.denied.code, "AccessDenied");
    assert_eq!(outcome.denied.action, "s3:DeleteBucket");
    assert!(
        outcome.denied.message.ends_with(&format!(
            "with an explicit deny in a service control policy: {}",
            outcome.scp_arn
        )),
        "{}",
        outcome.denied.message
    );
    assert!(
        outcome.member_admin_arn.starts_with(&format!(
            "arn:aws:sts::{}:assumed-role/OrganizationAccountAccessRole/",
            outcome.member_account_id
        )),
        "{}",
        outcome.member_admin_arn
    );
    assert!(outcome.organization_id.starts_with("o-"));

    // Torn down: no organization, no user; the account is in none and can make another.
    let err = s.root.organizations.describe_organization().send().await.unwrap_err();
    assert_eq!(
        err.as_service_error()
            .and_then(|e| aws_sdk_organizations::error::ProvideErrorMetadata::code(e)),
        Some("AWSOrganizationsNotInUseException")
    );
    assert!(s.user_names().await.is_empty());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mfa() {
    let s = setup().await;
    let outcome = demo::mfa::run(&s.root).await.expect("the demo succeeds");

    assert_eq!(outcome.denied.code, "AccessDenied");
    assert_eq!(outcome.denied.action, "sts:AssumeRole");
    assert!(
        outcome.serial_number.contains(":mfa/demo-mfa-"),
        "{}",
        outcome.serial_number
    );
    assert!(outcome.qr_code_png_bytes > 100);
    let role_name = outcome.role_arn.rsplit('/').next().unwrap();
    assert!(
        outcome
            .assumed_role_arn
            .ends_with(&format!(":assumed-role/{role_name}/demo-with-mfa")),
        "{}",
        outcome.assumed_role_arn
    );
    // Torn down: no user, no role, no device.
    assert!(s.user_names().await.is_empty());
    assert!(s.role_names().await.is_empty());
    let devices = s.root.iam.list_virtual_mfa_devices().send().await.unwrap();
    assert!(devices.virtual_mfa_devices().is_empty());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_in_order_on_one_server() {
    let s = setup().await;
    let failures = demo::run_scenarios(&s.root, &Scenario::ALL).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert!(s.user_names().await.is_empty());
    assert!(s.role_names().await.is_empty());
    assert!(s.local_policy_names().await.is_empty());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_in_a_region_other_than_us_east_1() {
    // The bucket is created with a LocationConstraint (S3 refuses one only in us-east-1).
    let server = Embedded::start().await.unwrap();
    let admin = Clients::new(&server.sdk_config("eu-west-3"));
    assert_eq!(admin.region(), "eu-west-3");
    let outcome = demo::permissions::run(&admin).await.expect("the demo succeeds");
    assert_eq!(outcome.denials.len(), 2);
    assert!(demo::buckets::list_buckets(&admin.s3).await.unwrap().is_empty());
    assert!(demo::users::list_users(&admin.iam).await.unwrap().is_empty());
    server.stop().await.unwrap();
}
