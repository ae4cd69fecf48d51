//! Managed policies and their versions: create, list, version, read, roll back, delete (the
//! seed's `policy_wrapper`), and scenario 3, "manage policies, and roll a policy version back".

use aws_sdk_iam::Client;
use aws_sdk_iam::types::{Policy, PolicyScopeType, PolicyVersion};

use super::{Clients, Error, Result, Tidy, aws, decode_document, indented, pretty, step};

/// A managed policy keeps at most this many versions.
pub const MAX_VERSIONS: usize = 5;

/// CreatePolicy.
pub async fn create_policy(iam: &Client, name: &str, description: &str, document: &str) -> Result<Policy> {
    let out = iam
        .create_policy()
        .policy_name(name)
        .description(description)
        .policy_document(document)
        .send()
        .await
        .map_err(aws(format!("CreatePolicy {name}")))?;
    out.policy
        .ok_or_else(|| Error::new(format!("CreatePolicy {name}"), "the answer holds no policy"))
}

/// GetPolicy.
pub async fn get_policy(iam: &Client, arn: &str) -> Result<Policy> {
    let out = iam
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(aws(format!("GetPolicy {arn}")))?;
    out.policy
        .ok_or_else(|| Error::new(format!("GetPolicy {arn}"), "the answer holds no policy"))
}

/// ListPolicies in a scope (`Local`: the account's own; `AWS`: AWS managed), every page.
pub async fn list_policies(iam: &Client, scope: PolicyScopeType) -> Result<Vec<Policy>> {
    iam.list_policies()
        .scope(scope.clone())
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(aws(format!("ListPolicies Scope={scope}")))
}

/// CreatePolicyVersion (with `set_as_default`, the new version takes effect at once).
pub async fn create_version(iam: &Client, arn: &str, document: &str, set_as_default: bool) -> Result<PolicyVersion> {
    let out = iam
        .create_policy_version()
        .policy_arn(arn)
        .policy_document(document)
        .set_as_default(set_as_default)
        .send()
        .await
        .map_err(aws(format!("CreatePolicyVersion of {arn}")))?;
    out.policy_version
        .ok_or_else(|| Error::new(format!("CreatePolicyVersion of {arn}"), "the answer holds no version"))
}

/// GetPolicyVersion.
pub async fn get_version(iam: &Client, arn: &str, version_id: &str) -> Result<PolicyVersion> {
    let out = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version_id)
        .send()
        .await
        .map_err(aws(format!("GetPolicyVersion {version_id} of {arn}")))?;
    out.policy_version.ok_or_else(|| {
        Error::new(
            format!("GetPolicyVersion {version_id} of {arn}"),
            "the answer holds no version",
        )
    })
}

/// ListPolicyVersions, every page.
pub async fn list_versions(iam: &Client, arn: &str) -> Result<Vec<PolicyVersion>> {
    iam.list_policy_versions()
        .policy_arn(arn)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(aws(format!("ListPolicyVersions of {arn}")))
}

/// SetDefaultPolicyVersion.
pub async fn set_default_version(iam: &Client, arn: &str, version_id: &str) -> Result<()> {
    iam.set_default_policy_version()
        .policy_arn(arn)
        .version_id(version_id)
        .send()
        .await
        .map_err(aws(format!("SetDefaultPolicyVersion {version_id} of {arn}")))?;
    Ok(())
}

/// DeletePolicyVersion (never the default one).
pub async fn delete_version(iam: &Client, arn: &str, version_id: &str) -> Result<()> {
    iam.delete_policy_version()
        .policy_arn(arn)
        .version_id(version_id)
        .send()
        .await
        .map_err(aws(format!("DeletePolicyVersion {version_id} of {arn}")))?;
    Ok(())
}

/// DeletePolicy (it must be detached everywhere and have only its default version left).
pub async fn delete_policy(iam: &Client, arn: &str) -> Result<()> {
    iam.delete_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(aws(format!("DeletePolicy {arn}")))?;
    Ok(())
}

/// Deletes a policy's non-default versions, then the policy.
pub async fn delete_policy_and_versions(iam: &Client, arn: &str) -> Result<()> {
    for version in list_versions(iam, arn).await? {
        if !version.is_default_version()
            && let Some(id) = version.version_id()
        {
            delete_version(iam, arn, id).await?;
        }
    }
    delete_policy(iam, arn).await
}

/// The default version's document: GetPolicy, then GetPolicyVersion of its DefaultVersionId
/// (the document comes back URL-encoded, and is decoded here).
pub async fn default_document(iam: &Client, arn: &str) -> Result<serde_json::Value> {
    let policy = get_policy(iam, arn).await?;
    let version_id = policy
        .default_version_id()
        .ok_or_else(|| Error::new(format!("GetPolicy {arn}"), "the policy has no DefaultVersionId"))?;
    let version = get_version(iam, arn, version_id).await?;
    let document = version.document().ok_or_else(|| {
        Error::new(
            format!("GetPolicyVersion {version_id} of {arn}"),
            "the version holds no document",
        )
    })?;
    decode_document(document)
}

/// The version number in a version id (`v3` → 3), to order versions created the same second.
fn version_number(version: &PolicyVersion) -> u64 {
    version
        .version_id()
        .and_then(|id| id.trim_start_matches('v').parse().ok())
        .unwrap_or(0)
}

/// Rolls a policy back as the seed does: orders the versions by CreateDate, makes the one
/// before the default the new default, and deletes the old default. Returns the old and the
/// new default version ids, or `None` when there is no earlier version.
pub async fn rollback(iam: &Client, arn: &str) -> Result<Option<(String, String)>> {
    let mut versions = list_versions(iam, arn).await?;
    versions.sort_by_key(|v| (v.create_date().map(|d| (d.secs(), d.subsec_nanos())), version_number(v)));
    let Some(default) = versions.iter().position(|v| v.is_default_version()) else {
        return Err(Error::new(
            format!("ListPolicyVersions of {arn}"),
            "no version is the default",
        ));
    };
    if default == 0 {
        return Ok(None);
    }
    let old = versions[default].version_id().unwrap_or_default().to_owned();
    let new = versions[default - 1].version_id().unwrap_or_default().to_owned();
    set_default_version(iam, arn, &new).await?;
    delete_version(iam, arn, &old).await?;
    Ok(Some((old, new)))
}

/// What the policies demo saw.
#[derive(Debug, Clone, PartialEq)]
pub struct PoliciesOutcome {
    /// The policy it created (and deleted).
    pub policy_arn: String,
    /// The account's own policies, as ListPolicies Scope=Local listed them.
    pub local_policy_names: Vec<String>,
    /// The version CreatePolicyVersion made.
    pub new_version_id: String,
    /// The default statement before the rollback (the PutObject one).
    pub statement_before: serde_json::Value,
    /// The versions left after the rollback, and which one is the default.
    pub versions_after_rollback: Vec<(String, bool)>,
    /// The default statement after the rollback (the ListObjects one again).
    pub statement_after: serde_json::Value,
}

/// The demo policy's name.
pub const DEMO_POLICY: &str = "aws-iam-demo-policy";

fn statement(document: &serde_json::Value) -> serde_json::Value {
    document.get("Statement").cloned().unwrap_or(serde_json::Value::Null)
}

/// Scenario 3: create a policy, list the account's policies, add a version as the default,
/// read the default statement, roll back to the version before, read it again, delete.
pub async fn run(admin: &Clients) -> Result<PoliciesOutcome> {
    let mut created = None;
    let outcome = scenario(&admin.iam, &mut created).await;
    let mut tidy = Tidy::default();
    if let Some(arn) = created {
        step(&format!("Cleaning up: deleting {arn} and its versions"));
        tidy.check(delete_policy_and_versions(&admin.iam, &arn).await);
    }
    tidy.settle(outcome)
}

async fn scenario(iam: &Client, created: &mut Option<String>) -> Result<PoliciesOutcome> {
    step(&format!("Creating the policy {DEMO_POLICY} (CreatePolicy)"));
    let document = super::allow(&["s3:ListObjects"], &["arn:aws:s3:::made-up-bucket-name"]);
    let policy = create_policy(
        iam,
        DEMO_POLICY,
        "A demonstration policy that grants ListObjects on a made-up bucket.",
        &document.to_string(),
    )
    .await?;
    let arn = policy.arn().unwrap_or_default().to_owned();
    *created = Some(arn.clone());
    println!(
        "   Created {} (id {}), default version {}:",
        arn,
        policy.policy_id().unwrap_or("?"),
        policy.default_version_id().unwrap_or("?")
    );
    indented(&pretty(&document["Statement"]));

    step("The account's own policies (ListPolicies Scope=Local)");
    let local = list_policies(iam, PolicyScopeType::Local).await?;
    for p in &local {
        println!(
            "   {}: {} (attached {} times)",
            p.policy_name().unwrap_or("?"),
            p.arn().unwrap_or("?"),
            p.attachment_count().unwrap_or(0)
        );
    }

    step("Creating a new version allowing PutObject, as the default (CreatePolicyVersion SetAsDefault=true)");
    let new_document = super::allow(&["s3:PutObject"], &["arn:aws:s3:::made-up-bucket-name"]);
    let version = create_version(iam, &arn, &new_document.to_string(), true).await?;
    let new_version_id = version.version_id().unwrap_or_default().to_owned();
    println!("   Created version {new_version_id}, now the default (a policy keeps at most {MAX_VERSIONS} versions).");

    step("The default statement (GetPolicy, then GetPolicyVersion of DefaultVersionId)");
    let statement_before = statement(&default_document(iam, &arn).await?);
    indented(&pretty(&statement_before));

    step(
        "Rolling back to the version before the default (ListPolicyVersions, SetDefaultPolicyVersion, DeletePolicyVersion)",
    );
    for v in list_versions(iam, &arn).await? {
        println!(
            "   {} created {}{}",
            v.version_id().unwrap_or("?"),
            v.create_date().map_or_else(|| "?".to_owned(), |d| d.to_string()),
            if v.is_default_version() { " (default)" } else { "" }
        );
    }
    match rollback(iam, &arn).await? {
        Some((old, new)) => println!("   {new} is the default again; deleted {old}."),
        None => println!("   The default is already the oldest version: nothing to roll back to."),
    }
    let versions_after_rollback: Vec<(String, bool)> = list_versions(iam, &arn)
        .await?
        .iter()
        .map(|v| (v.version_id().unwrap_or_default().to_owned(), v.is_default_version()))
        .collect();

    step("The default statement after the rollback");
    let statement_after = statement(&default_document(iam, &arn).await?);
    indented(&pretty(&statement_after));

    step(&format!("Deleting {DEMO_POLICY} (DeletePolicy)"));
    delete_policy(iam, &arn).await?;
    *created = None;
    println!("   Deleted {arn}.");

    Ok(PoliciesOutcome {
        policy_arn: arn,
        local_policy_names: local
            .iter()
            .filter_map(|p| p.policy_name().map(str::to_owned))
            .collect(),
        new_version_id,
        statement_before,
        versions_after_rollback,
        statement_after,
    })
}
