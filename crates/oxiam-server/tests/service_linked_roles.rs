//! End to end: service-linked roles with the AWS SDK for Rust — made from the catalogue
//! (name, path, trust, the service's policy), AWS's errors, a role only AWS may change, its
//! deletion task, and CreateServiceLinkedRole authorized as AWS's own policies grant it (on
//! the role's ARN, with `iam:AWSServiceName`).

use crate::common;

use aws_sdk_iam::types::DeletionTaskStatusType;
use common::{ACCOUNT, TestServer, code, message};

on_both_backends!(
    a_service_linked_role_is_made_from_the_catalogue,
    a_service_linked_role_is_awss_to_change,
    a_service_linked_role_is_deleted_by_a_task,
    creating_one_is_authorized_on_the_roles_arn,
    a_role_merely_under_the_path_is_not_protected,
);

/// A role CreateRole put under `/aws-service-role/` before oxiam refused that path (planted
/// here straight into the database, as an older oxiam would have left it) is an ordinary
/// role: its administrator can still change and delete it, and DeleteServiceLinkedRole does
/// not take it.
async fn a_role_merely_under_the_path_is_not_protected(s: &TestServer) {
    use sqlx::{Connection as _, Executor as _};
    let insert = format!(
        "INSERT INTO roles (role_id, account_id, name, name_key, path, trust_policy, max_session_duration, created_at) \
         VALUES ('AROAPLANTEDEXAMPLE001', '{ACCOUNT}', 'planted', 'planted', '/aws-service-role/{ELB}/', '{{}}', 3600, 0)"
    );
    match s.pg_database() {
        Some(database) => {
            let base = common::postgres_base();
            let url = format!("{}/{database}", &base[..base.rfind('/').unwrap()]);
            let mut db = sqlx::PgConnection::connect(&url).await.unwrap();
            db.execute(sqlx::AssertSqlSafe(insert)).await.unwrap();
        }
        None => {
            let file = s.audit_path().parent().unwrap().join("oxiam.db");
            let mut db = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
                .await
                .unwrap();
            db.execute(sqlx::AssertSqlSafe(insert)).await.unwrap();
        }
    }
    let root = s.root_iam();
    let e = root
        .delete_service_linked_role()
        .role_name("planted")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidInput");
    root.put_role_policy()
        .role_name("planted")
        .policy_name("deny-all")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    root.delete_role_policy()
        .role_name("planted")
        .policy_name("deny-all")
        .send()
        .await
        .unwrap();
    root.delete_role().role_name("planted").send().await.unwrap();
}

const ELB: &str = "elasticloadbalancing.amazonaws.com";

async fn a_service_linked_role_is_made_from_the_catalogue(s: &TestServer) {
    let root = s.root_iam();
    let made = root
        .create_service_linked_role()
        .aws_service_name(ELB)
        .description("for the load balancers")
        .send()
        .await
        .unwrap();
    let role = made.role().unwrap();
    assert_eq!(role.role_name(), "AWSServiceRoleForElasticLoadBalancing");
    assert_eq!(role.path(), format!("/aws-service-role/{ELB}/"));
    assert_eq!(
        role.arn(),
        format!("arn:aws:iam::{ACCOUNT}:role/aws-service-role/{ELB}/AWSServiceRoleForElasticLoadBalancing")
    );
    let trust = urlencoding_decode(role.assume_role_policy_document().unwrap());
    let trust: serde_json::Value = serde_json::from_str(&trust).unwrap();
    assert_eq!(trust["Statement"][0]["Principal"]["Service"], ELB);
    assert_eq!(trust["Statement"][0]["Action"], "sts:AssumeRole");
    let attached = root
        .list_attached_role_policies()
        .role_name(role.role_name())
        .send()
        .await
        .unwrap();
    let arns: Vec<_> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    assert_eq!(
        arns,
        ["arn:aws:iam::aws:policy/aws-service-role/AWSElasticLoadBalancingServiceRolePolicy"]
    );
    let got = root.get_role().role_name(role.role_name()).send().await.unwrap();
    assert_eq!(got.role().unwrap().description(), Some("for the load balancers"));
    assert_eq!(got.role().unwrap().max_session_duration(), Some(3600));

    let again = root
        .create_service_linked_role()
        .aws_service_name(ELB)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&again), "InvalidInput");
    assert_eq!(
        message(&again),
        "Service role name AWSServiceRoleForElasticLoadBalancing has been taken in this account, please try a different suffix."
    );
    let suffixed = root
        .create_service_linked_role()
        .aws_service_name(ELB)
        .custom_suffix("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(message(&suffixed), format!("Custom suffix is not allowed for {ELB}"));
    let scaling = root
        .create_service_linked_role()
        .aws_service_name("autoscaling.amazonaws.com")
        .custom_suffix("fleet")
        .send()
        .await
        .unwrap();
    assert_eq!(
        scaling.role().unwrap().role_name(),
        "AWSServiceRoleForAutoScaling_fleet"
    );
    let unknown = root
        .create_service_linked_role()
        .aws_service_name("nothing.amazonaws.com")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&unknown), "InvalidInput");
}

/// The document as IAM sends it is URL-encoded, and the SDK hands it back so.
fn urlencoding_decode(text: &str) -> String {
    let (bytes, mut out, mut i) = (text.as_bytes(), Vec::new(), 0);
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1..i + 3)) {
            (b'%', Some(hex)) => {
                out.push(u8::from_str_radix(std::str::from_utf8(hex).unwrap(), 16).unwrap());
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

async fn a_service_linked_role_is_awss_to_change(s: &TestServer) {
    let root = s.root_iam();
    let made = root
        .create_service_linked_role()
        .aws_service_name(ELB)
        .send()
        .await
        .unwrap();
    let name = made.role().unwrap().role_name().to_owned();
    let protected =
        format!("Cannot perform the operation on the protected role '{name}' - this role is only modifiable by AWS");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let refusals = [
        root.update_assume_role_policy()
            .role_name(&name)
            .policy_document(trust)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| (code(&e), message(&e)))
            .unwrap_err(),
        root.put_role_policy()
            .role_name(&name)
            .policy_name("p")
            .policy_document(policy)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| (code(&e), message(&e)))
            .unwrap_err(),
        root.attach_role_policy()
            .role_name(&name)
            .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
            .send()
            .await
            .map(|_| ())
            .map_err(|e| (code(&e), message(&e)))
            .unwrap_err(),
        root.detach_role_policy()
            .role_name(&name)
            .policy_arn("arn:aws:iam::aws:policy/aws-service-role/AWSElasticLoadBalancingServiceRolePolicy")
            .send()
            .await
            .map(|_| ())
            .map_err(|e| (code(&e), message(&e)))
            .unwrap_err(),
        root.delete_role()
            .role_name(&name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| (code(&e), message(&e)))
            .unwrap_err(),
        root.update_role()
            .role_name(&name)
            .max_session_duration(7200)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| (code(&e), message(&e)))
            .unwrap_err(),
    ];
    for (code, message) in &refusals {
        assert_eq!(code, "UnmodifiableEntity");
        assert_eq!(*message, protected);
    }
    // Its description is the account's to change.
    root.update_role_description()
        .role_name(&name)
        .description("mine")
        .send()
        .await
        .unwrap();

    // No other role may take the path, nor the service's policy.
    let e = root
        .create_role()
        .role_name("impostor")
        .path(format!("/aws-service-role/{ELB}/"))
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        message(&e),
        "Path prefix '/aws-service-role/' can only be used for AWS Service linked Roles"
    );
    root.create_role()
        .role_name("ordinary")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let e = root
        .attach_role_policy()
        .role_name("ordinary")
        .policy_arn("arn:aws:iam::aws:policy/aws-service-role/AWSElasticLoadBalancingServiceRolePolicy")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "PolicyNotAttachable");
    assert_eq!(message(&e), "Cannot attach a Service Role Policy to a Customer Role.");
}

async fn a_service_linked_role_is_deleted_by_a_task(s: &TestServer) {
    let root = s.root_iam();
    let made = root
        .create_service_linked_role()
        .aws_service_name(ELB)
        .send()
        .await
        .unwrap();
    let name = made.role().unwrap().role_name().to_owned();
    let deleted = root.delete_service_linked_role().role_name(&name).send().await.unwrap();
    let task = deleted.deletion_task_id();
    let prefix = format!("task/aws-service-role/{ELB}/{name}/");
    assert!(task.starts_with(&prefix), "{task}");
    let status = root
        .get_service_linked_role_deletion_status()
        .deletion_task_id(task)
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), &DeletionTaskStatusType::Succeeded);
    let e = root.get_role().role_name(&name).send().await.unwrap_err();
    assert_eq!(code(&e), "NoSuchEntity");
    // It can be made again, and the policy went with the role.
    root.create_service_linked_role()
        .aws_service_name(ELB)
        .send()
        .await
        .unwrap();

    let e = root
        .get_service_linked_role_deletion_status()
        .deletion_task_id(format!("{prefix}00000000-0000-4000-8000-000000000000"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchEntity");
    let e = root
        .get_service_linked_role_deletion_status()
        .deletion_task_id("not-a-task")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidInput");
    root.create_role()
        .role_name("plain")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let e = root
        .delete_service_linked_role()
        .role_name("plain")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidInput");
}

/// AWS's pattern: allow iam:CreateServiceLinkedRole on one service's role ARN, for that
/// service name only. Another service's role is refused.
async fn creating_one_is_authorized_on_the_roles_arn(s: &TestServer) {
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:CreateServiceLinkedRole","Resource":"arn:aws:iam::*:role/aws-service-role/{ELB}/AWSServiceRoleForElasticLoadBalancing","Condition":{{"StringLike":{{"iam:AWSServiceName":"{ELB}"}}}}}}]}}"#
    );
    let (key, secret) = s.user_with_inline_policy("deployer", Some(&policy)).await;
    let deployer = s.iam_as(&key, &secret, "us-east-1");
    let e = deployer
        .create_service_linked_role()
        .aws_service_name("autoscaling.amazonaws.com")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    deployer
        .create_service_linked_role()
        .aws_service_name(ELB)
        .send()
        .await
        .unwrap();
}
