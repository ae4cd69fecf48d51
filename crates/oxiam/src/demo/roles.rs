//! IAM roles: create with a trust policy, read, attach and detach policies, delete (the
//! seed's `role_wrapper`), and scenario 4, "manage roles".

use aws_sdk_iam::Client;
use aws_sdk_iam::types::{AttachedPolicy, Role};

use super::{Clients, Error, Result, Tidy, aws, decode_document, indented, pretty, step};

/// CreateRole with a trust policy (who may assume it).
pub async fn create_role(iam: &Client, name: &str, trust_policy: &str) -> Result<Role> {
    let out = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust_policy)
        .send()
        .await
        .map_err(aws(format!("CreateRole {name}")))?;
    out.role
        .ok_or_else(|| Error::new(format!("CreateRole {name}"), "the answer holds no role"))
}

/// GetRole.
pub async fn get_role(iam: &Client, name: &str) -> Result<Role> {
    let out = iam
        .get_role()
        .role_name(name)
        .send()
        .await
        .map_err(aws(format!("GetRole {name}")))?;
    out.role
        .ok_or_else(|| Error::new(format!("GetRole {name}"), "the answer holds no role"))
}

/// AttachRolePolicy.
pub async fn attach_policy(iam: &Client, name: &str, policy_arn: &str) -> Result<()> {
    iam.attach_role_policy()
        .role_name(name)
        .policy_arn(policy_arn)
        .send()
        .await
        .map_err(aws(format!("AttachRolePolicy {policy_arn} to {name}")))?;
    Ok(())
}

/// DetachRolePolicy.
pub async fn detach_policy(iam: &Client, name: &str, policy_arn: &str) -> Result<()> {
    iam.detach_role_policy()
        .role_name(name)
        .policy_arn(policy_arn)
        .send()
        .await
        .map_err(aws(format!("DetachRolePolicy {policy_arn} from {name}")))?;
    Ok(())
}

/// ListAttachedRolePolicies, every page.
pub async fn list_attached_policies(iam: &Client, name: &str) -> Result<Vec<AttachedPolicy>> {
    iam.list_attached_role_policies()
        .role_name(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(aws(format!("ListAttachedRolePolicies {name}")))
}

/// ListRolePolicies: the names of the role's inline policies, every page.
pub async fn list_inline_policies(iam: &Client, name: &str) -> Result<Vec<String>> {
    iam.list_role_policies()
        .role_name(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(aws(format!("ListRolePolicies {name}")))
}

/// DeleteRolePolicy.
pub async fn delete_inline_policy(iam: &Client, name: &str, policy_name: &str) -> Result<()> {
    iam.delete_role_policy()
        .role_name(name)
        .policy_name(policy_name)
        .send()
        .await
        .map_err(aws(format!("DeleteRolePolicy {policy_name} in {name}")))?;
    Ok(())
}

/// DeleteRole (its policies must be detached first).
pub async fn delete_role(iam: &Client, name: &str) -> Result<()> {
    iam.delete_role()
        .role_name(name)
        .send()
        .await
        .map_err(aws(format!("DeleteRole {name}")))?;
    Ok(())
}

/// Detaches a role's managed policies, deletes its inline ones, then deletes it. Returns
/// the ARNs of the policies it detached.
pub async fn delete_role_and_dependents(iam: &Client, name: &str) -> Result<Vec<String>> {
    let mut detached = Vec::new();
    for policy in list_attached_policies(iam, name).await? {
        if let Some(arn) = policy.policy_arn() {
            detach_policy(iam, name, arn).await?;
            detached.push(arn.to_owned());
        }
    }
    for policy_name in list_inline_policies(iam, name).await? {
        delete_inline_policy(iam, name, &policy_name).await?;
    }
    delete_role(iam, name).await?;
    Ok(detached)
}

/// A trust policy letting the `services` assume the role.
pub fn service_trust_policy(services: &[&str]) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": services },
            "Action": "sts:AssumeRole",
        }],
    })
}

/// What the roles demo saw.
#[derive(Debug, Clone, PartialEq)]
pub struct RolesOutcome {
    /// The role it created (and deleted).
    pub role_arn: String,
    /// The trust policy as GetRole returned it, decoded.
    pub trust_policy: serde_json::Value,
    /// The policies attached to the role while it existed.
    pub attached_policy_arns: Vec<String>,
}

/// The demo role's name.
pub const DEMO_ROLE: &str = "demo-iam-role";
/// The AWS managed policy the demo attaches.
pub const S3_READ_ONLY: &str = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";

/// Scenario 4: create a role that two services may assume, read its trust policy back,
/// attach an AWS managed policy, detach it, delete the role.
pub async fn run(admin: &Clients) -> Result<RolesOutcome> {
    let mut created = None;
    let outcome = scenario(&admin.iam, &mut created).await;
    let mut tidy = Tidy::default();
    if let Some(name) = created {
        step(&format!("Cleaning up: deleting {name} and detaching its policies"));
        tidy.check(delete_role_and_dependents(&admin.iam, &name).await);
    }
    tidy.settle(outcome)
}

async fn scenario(iam: &Client, created: &mut Option<String>) -> Result<RolesOutcome> {
    step(&format!(
        "Creating the role {DEMO_ROLE}, which Lambda and S3 Batch Operations may assume (CreateRole)"
    ));
    let trust = service_trust_policy(&["lambda.amazonaws.com", "batchoperations.s3.amazonaws.com"]);
    let role = create_role(iam, DEMO_ROLE, &trust.to_string()).await?;
    *created = Some(role.role_name().to_owned());
    println!("   Created {} (id {}).", role.arn(), role.role_id());

    step("Its trust policy, read back (GetRole)");
    let role = get_role(iam, DEMO_ROLE).await?;
    let trust_policy = match role.assume_role_policy_document() {
        Some(document) => decode_document(document)?,
        None => {
            return Err(Error::new(
                format!("GetRole {DEMO_ROLE}"),
                "the role has no trust policy",
            ));
        }
    };
    indented(&pretty(&trust_policy));

    step(&format!(
        "Attaching the AWS managed policy {S3_READ_ONLY} (AttachRolePolicy)"
    ));
    attach_policy(iam, DEMO_ROLE, S3_READ_ONLY).await?;
    let attached: Vec<String> = list_attached_policies(iam, DEMO_ROLE)
        .await?
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .collect();
    println!("   {DEMO_ROLE}'s policies now (ListAttachedRolePolicies):");
    for arn in &attached {
        println!("   {arn}");
    }

    step("Detaching it again (DetachRolePolicy), and deleting the role (DeleteRole)");
    detach_policy(iam, DEMO_ROLE, S3_READ_ONLY).await?;
    println!("   Detached {S3_READ_ONLY}.");
    delete_role(iam, DEMO_ROLE).await?;
    *created = None;
    println!("   Deleted {}.", role.arn());

    Ok(RolesOutcome {
        role_arn: role.arn().to_owned(),
        trust_policy,
        attached_policy_arns: attached,
    })
}
