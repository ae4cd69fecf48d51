//! End to end: ListPoliciesGrantingServiceAccess with the AWS SDK for Rust — a user's own
//! inline and managed policies and its groups', each listed under the services its Allow
//! statements reach, and nothing for a Deny.

use crate::common;

use aws_sdk_iam::types::{PolicyOwnerEntityType, PolicyType};
use common::{ACCOUNT, TestServer, code};

on_both_backends!(policies_are_listed_under_the_services_they_allow);

/// A listed policy: name, type, holder's kind and name (inline), ARN (managed).
type Listed = (
    String,
    PolicyType,
    Option<PolicyOwnerEntityType>,
    Option<String>,
    Option<String>,
);

async fn policies_are_listed_under_the_services_they_allow(s: &TestServer) {
    let iam = s.root_iam();
    let allow = |action: &str| {
        format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"*"}}]}}"#)
    };
    iam.create_user().user_name("dev").send().await.unwrap();
    iam.put_user_policy()
        .user_name("dev")
        .policy_name("objects")
        .policy_document(allow("s3:GetObject"))
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name("dev")
        .policy_name("no-queues")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"sqs:*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    iam.create_group().group_name("ops").send().await.unwrap();
    iam.add_user_to_group()
        .group_name("ops")
        .user_name("dev")
        .send()
        .await
        .unwrap();
    iam.put_group_policy()
        .group_name("ops")
        .policy_name("instances")
        .policy_document(allow("ec2:Describe*"))
        .send()
        .await
        .unwrap();
    let reader = iam
        .create_policy()
        .policy_name("iam-reader")
        .policy_document(allow("iam:Get*"))
        .send()
        .await
        .unwrap()
        .policy
        .unwrap()
        .arn
        .unwrap();
    iam.attach_user_policy()
        .user_name("dev")
        .policy_arn(&reader)
        .send()
        .await
        .unwrap();

    let out = iam
        .list_policies_granting_service_access()
        .arn(format!("arn:aws:iam::{ACCOUNT}:user/dev"))
        .service_namespaces("s3")
        .service_namespaces("ec2")
        .service_namespaces("iam")
        .service_namespaces("sqs")
        .send()
        .await
        .unwrap();
    assert!(!out.is_truncated());
    let entries = out.policies_granting_service_access();
    let services: Vec<&str> = entries.iter().map(|e| e.service_namespace().unwrap()).collect();
    assert_eq!(services, ["s3", "ec2", "iam", "sqs"]);
    let named = |i: usize| -> Vec<Listed> {
        entries[i]
            .policies()
            .iter()
            .map(|p| {
                (
                    p.policy_name().to_owned(),
                    p.policy_type().clone(),
                    p.entity_type().cloned(),
                    p.entity_name().map(str::to_owned),
                    p.policy_arn().map(str::to_owned),
                )
            })
            .collect()
    };
    assert_eq!(
        named(0),
        [(
            "objects".to_owned(),
            PolicyType::Inline,
            Some(PolicyOwnerEntityType::User),
            Some("dev".to_owned()),
            None
        )]
    );
    assert_eq!(
        named(1),
        [(
            "instances".to_owned(),
            PolicyType::Inline,
            Some(PolicyOwnerEntityType::Group),
            Some("ops".to_owned()),
            None
        )]
    );
    assert_eq!(
        named(2),
        [(
            "iam-reader".to_owned(),
            PolicyType::Managed,
            None,
            None,
            Some(reader.clone())
        )]
    );
    assert!(named(3).is_empty(), "a Deny grants nothing");

    let err = iam
        .list_policies_granting_service_access()
        .arn(format!("arn:aws:iam::{ACCOUNT}:user/nobody"))
        .service_namespaces("s3")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
}
