//! The identity policies a user or role holds now, read from an IAM endpoint (oxiam's or AWS's)
//! with GetAccountAuthorizationDetails, for `oxiam policy suggest --endpoint-url`: the
//! user's inline and attached policies and its groups', or the role's (a role session's
//! role's). Credentials and region are the usual AWS environment's.

use std::collections::BTreeMap;

use aws_sdk_iam::types::{AttachedPolicy, PolicyDetail};

use percent_encoding::percent_decode_str;

/// Each policy the principal `pattern` names holds now, as (where it comes from, document).
/// `pattern` is `suggest --principal`'s: a user's or role's ARN, or a role session's, with
/// `*` and `?`.
pub fn fetch(endpoint: &str, pattern: &str) -> Result<Vec<(String, String)>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the IAM client: {e}"))?;
    runtime.block_on(fetch_async(endpoint, pattern))
}

async fn fetch_async(endpoint: &str, pattern: &str) -> Result<Vec<(String, String)>, String> {
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".to_owned());
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region))
        .endpoint_url(endpoint)
        .load()
        .await;
    let iam = aws_sdk_iam::Client::new(&config);
    let failed = |e: aws_sdk_iam::error::SdkError<_, _>| {
        let e = aws_sdk_iam::Error::from(e);
        format!("GetAccountAuthorizationDetails at {endpoint}: {e}")
    };
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut roles = Vec::new();
    // A managed policy's ARN → its default version's document (URL-encoded, as sent).
    let mut managed: BTreeMap<String, String> = BTreeMap::new();
    let mut pages = iam.get_account_authorization_details().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(failed)?;
        users.extend(page.user_detail_list.unwrap_or_default());
        groups.extend(page.group_detail_list.unwrap_or_default());
        roles.extend(page.role_detail_list.unwrap_or_default());
        for policy in page.policies.unwrap_or_default() {
            let arn = policy.arn.clone().unwrap_or_default();
            let default = policy
                .policy_version_list()
                .iter()
                .find(|v| v.is_default_version)
                .and_then(|v| v.document.clone());
            if let Some(document) = default {
                managed.insert(arn, document);
            }
        }
    }
    // A role session's policies are its role's.
    let role_of_session = session_role(pattern);
    let matches = |arn: Option<&str>| {
        arn.is_some_and(|arn| {
            oxiam_lint::wildcard::matches(pattern, arn)
                || role_of_session.is_some_and(|(account, name)| {
                    // `arn:aws:iam::A:role/PATH/NAME`, whatever the path.
                    oxiam_lint::wildcard::matches(account, arn.split(':').nth(4).unwrap_or_default())
                        && arn.starts_with("arn:")
                        && arn.contains(":role/")
                        && oxiam_lint::wildcard::matches(name, arn.rsplit('/').next().unwrap_or_default())
                })
        })
    };
    let mut held = Held::default();
    for user in users.iter().filter(|u| matches(u.arn.as_deref())) {
        let name = format!("user {}", user.user_name().unwrap_or_default());
        held.add(&name, user.user_policy_list(), user.attached_managed_policies())?;
        for group in groups
            .iter()
            .filter(|g| user.group_list().iter().any(|n| Some(n.as_str()) == g.group_name()))
        {
            let name = format!("group {}", group.group_name().unwrap_or_default());
            held.add(&name, group.group_policy_list(), group.attached_managed_policies())?;
        }
    }
    for role in roles.iter().filter(|r| matches(r.arn.as_deref())) {
        let name = format!("role {}", role.role_name().unwrap_or_default());
        held.add(&name, role.role_policy_list(), role.attached_managed_policies())?;
    }
    let Held { mut found, attached } = held;
    for (holder, policy) in attached {
        let arn = policy.policy_arn().unwrap_or_default();
        let text = match managed.get(arn) {
            Some(encoded) => decode(encoded)?,
            // Not among the details (AWS leaves out AWS managed policies some filters exclude):
            // asked for on its own.
            None => default_version(&iam, arn).await?,
        };
        found.push((format!("{holder}: {arn}"), text));
    }
    if users.iter().all(|u| !matches(u.arn.as_deref())) && roles.iter().all(|r| !matches(r.arn.as_deref())) {
        return Err(format!("{endpoint} has no user or role {pattern}"));
    }
    Ok(found)
}

/// What the matched users, groups and roles hold: inline documents (decoded) and attached
/// policies, each with its holder (`user app`).
#[derive(Default)]
struct Held {
    found: Vec<(String, String)>,
    attached: Vec<(String, AttachedPolicy)>,
}

impl Held {
    fn add(&mut self, holder: &str, inline: &[PolicyDetail], attached: &[AttachedPolicy]) -> Result<(), String> {
        for p in inline {
            let from = format!("{holder}: inline {}", p.policy_name().unwrap_or_default());
            self.found.push((from, document(p)?));
        }
        self.attached
            .extend(attached.iter().map(|a| (holder.to_owned(), a.clone())));
        Ok(())
    }
}

/// `arn:aws:sts::A:assumed-role/R/S` → the session's role: its account and name (a pattern).
fn session_role(pattern: &str) -> Option<(&str, &str)> {
    let (head, rest) = pattern.split_once(":assumed-role/")?;
    let account = head.rsplit(':').next().filter(|a| !a.is_empty())?;
    Some((account, rest.split('/').next()?))
}

/// A policy detail's document, as IAM sends it (URL-encoded) decoded.
fn document(detail: &PolicyDetail) -> Result<String, String> {
    decode(detail.policy_document().unwrap_or_default())
}

fn decode(text: &str) -> Result<String, String> {
    percent_decode_str(text)
        .decode_utf8()
        .map(|d| d.into_owned())
        .map_err(|e| format!("a policy document that is not UTF-8: {e}"))
}

/// A managed policy's default version's document, by GetPolicy and GetPolicyVersion.
async fn default_version(iam: &aws_sdk_iam::Client, arn: &str) -> Result<String, String> {
    let policy = iam
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| format!("GetPolicy {arn}: {}", aws_sdk_iam::Error::from(e)))?;
    let version = policy
        .policy
        .and_then(|p| p.default_version_id)
        .ok_or_else(|| format!("GetPolicy {arn}: no default version"))?;
    let answer = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(&version)
        .send()
        .await
        .map_err(|e| format!("GetPolicyVersion {arn} {version}: {}", aws_sdk_iam::Error::from(e)))?;
    decode(
        answer
            .policy_version
            .and_then(|v| v.document)
            .as_deref()
            .unwrap_or_default(),
    )
}
