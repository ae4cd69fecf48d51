//! IAM users: create, read, rename, list, give policies, delete (the seed's `user_wrapper`).

use aws_sdk_iam::Client;
use aws_sdk_iam::types::{AttachedPolicy, User};

use super::{Result, aws};

/// CreateUser.
pub async fn create_user(iam: &Client, name: &str) -> Result<User> {
    let out = iam
        .create_user()
        .user_name(name)
        .send()
        .await
        .map_err(aws(format!("CreateUser {name}")))?;
    out.user
        .ok_or_else(|| super::Error::new(format!("CreateUser {name}"), "the answer holds no user"))
}

/// GetUser: the named user, or with `None` the caller itself (boto3's `CurrentUser`).
pub async fn get_user(iam: &Client, name: Option<&str>) -> Result<User> {
    let doing = format!("GetUser {}", name.unwrap_or("(the caller)"));
    let out = iam
        .get_user()
        .set_user_name(name.map(str::to_owned))
        .send()
        .await
        .map_err(aws(doing.clone()))?;
    out.user
        .ok_or_else(|| super::Error::new(doing, "the answer holds no user"))
}

/// UpdateUser with a new name (the user keeps its id, keys and policies).
pub async fn rename_user(iam: &Client, name: &str, new_name: &str) -> Result<()> {
    iam.update_user()
        .user_name(name)
        .new_user_name(new_name)
        .send()
        .await
        .map_err(aws(format!("UpdateUser {name} -> {new_name}")))?;
    Ok(())
}

/// ListUsers, every page.
pub async fn list_users(iam: &Client) -> Result<Vec<User>> {
    iam.list_users()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(aws("ListUsers"))
}

/// The user whose id is `user_id`, found by listing (ids survive renames).
pub async fn find_user_by_id(iam: &Client, user_id: &str) -> Result<Option<User>> {
    Ok(list_users(iam).await?.into_iter().find(|u| u.user_id() == user_id))
}

/// AttachUserPolicy.
pub async fn attach_policy(iam: &Client, name: &str, policy_arn: &str) -> Result<()> {
    iam.attach_user_policy()
        .user_name(name)
        .policy_arn(policy_arn)
        .send()
        .await
        .map_err(aws(format!("AttachUserPolicy {policy_arn} to {name}")))?;
    Ok(())
}

/// DetachUserPolicy.
pub async fn detach_policy(iam: &Client, name: &str, policy_arn: &str) -> Result<()> {
    iam.detach_user_policy()
        .user_name(name)
        .policy_arn(policy_arn)
        .send()
        .await
        .map_err(aws(format!("DetachUserPolicy {policy_arn} from {name}")))?;
    Ok(())
}

/// ListAttachedUserPolicies, every page.
pub async fn list_attached_policies(iam: &Client, name: &str) -> Result<Vec<AttachedPolicy>> {
    iam.list_attached_user_policies()
        .user_name(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(aws(format!("ListAttachedUserPolicies {name}")))
}

/// PutUserPolicy: an inline policy, embedded in the user.
pub async fn put_inline_policy(iam: &Client, name: &str, policy_name: &str, document: &str) -> Result<()> {
    iam.put_user_policy()
        .user_name(name)
        .policy_name(policy_name)
        .policy_document(document)
        .send()
        .await
        .map_err(aws(format!("PutUserPolicy {policy_name} in {name}")))?;
    Ok(())
}

/// ListUserPolicies: the names of the user's inline policies, every page.
pub async fn list_inline_policies(iam: &Client, name: &str) -> Result<Vec<String>> {
    iam.list_user_policies()
        .user_name(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(aws(format!("ListUserPolicies {name}")))
}

/// DeleteUserPolicy.
pub async fn delete_inline_policy(iam: &Client, name: &str, policy_name: &str) -> Result<()> {
    iam.delete_user_policy()
        .user_name(name)
        .policy_name(policy_name)
        .send()
        .await
        .map_err(aws(format!("DeleteUserPolicy {policy_name} in {name}")))?;
    Ok(())
}

/// DeleteUser (its keys and policies must be gone first).
pub async fn delete_user(iam: &Client, name: &str) -> Result<()> {
    iam.delete_user()
        .user_name(name)
        .send()
        .await
        .map_err(aws(format!("DeleteUser {name}")))?;
    Ok(())
}

/// Deletes a user and everything that would stop DeleteUser: its access keys, its attached
/// policies (detached, not deleted) and its inline policies.
pub async fn delete_user_and_dependents(iam: &Client, name: &str) -> Result<()> {
    for key in super::keys::list_keys(iam, name).await? {
        if let Some(id) = key.access_key_id() {
            super::keys::delete_key(iam, name, id).await?;
        }
    }
    for policy in list_attached_policies(iam, name).await? {
        if let Some(arn) = policy.policy_arn() {
            detach_policy(iam, name, arn).await?;
        }
    }
    for policy_name in list_inline_policies(iam, name).await? {
        delete_inline_policy(iam, name, &policy_name).await?;
    }
    delete_user(iam, name).await
}
