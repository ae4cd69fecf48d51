//! Access keys: create, list, last use, deactivate, delete (the seed's `access_key_wrapper`),
//! and scenario 2, "manage access keys".

use aws_sdk_iam::Client;
use aws_sdk_iam::primitives::DateTime;
use aws_sdk_iam::types::{AccessKey, AccessKeyLastUsed, AccessKeyMetadata, StatusType};

use super::{Clients, Error, Result, Tidy, aws, step, users};

/// An account's IAM user may hold at most this many access keys.
pub const MAX_KEYS_PER_USER: usize = 2;

/// CreateAccessKey: the secret is in the answer, and never again.
pub async fn create_key(iam: &Client, user_name: &str) -> Result<AccessKey> {
    let out = iam
        .create_access_key()
        .user_name(user_name)
        .send()
        .await
        .map_err(aws(format!("CreateAccessKey for {user_name}")))?;
    out.access_key
        .ok_or_else(|| Error::new(format!("CreateAccessKey for {user_name}"), "the answer holds no key"))
}

/// ListAccessKeys, every page.
pub async fn list_keys(iam: &Client, user_name: &str) -> Result<Vec<AccessKeyMetadata>> {
    iam.list_access_keys()
        .user_name(user_name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(aws(format!("ListAccessKeys for {user_name}")))
}

/// GetAccessKeyLastUsed: the key's owner, and where and when it last signed a request.
pub async fn last_used(iam: &Client, key_id: &str) -> Result<(Option<String>, Option<AccessKeyLastUsed>)> {
    let out = iam
        .get_access_key_last_used()
        .access_key_id(key_id)
        .send()
        .await
        .map_err(aws(format!("GetAccessKeyLastUsed {key_id}")))?;
    Ok((out.user_name, out.access_key_last_used))
}

/// UpdateAccessKey: `Active` or `Inactive`.
pub async fn update_key(iam: &Client, user_name: &str, key_id: &str, status: StatusType) -> Result<()> {
    iam.update_access_key()
        .user_name(user_name)
        .access_key_id(key_id)
        .status(status.clone())
        .send()
        .await
        .map_err(aws(format!("UpdateAccessKey {key_id} to {status}")))?;
    Ok(())
}

/// DeleteAccessKey.
pub async fn delete_key(iam: &Client, user_name: &str, key_id: &str) -> Result<()> {
    iam.delete_access_key()
        .user_name(user_name)
        .access_key_id(key_id)
        .send()
        .await
        .map_err(aws(format!("DeleteAccessKey {key_id}")))?;
    Ok(())
}

/// Where and when a key was last used.
#[derive(Debug, Clone, PartialEq)]
pub struct LastUse {
    /// The key's owner.
    pub user_name: Option<String>,
    /// The service it last signed a request to (`iam`), or `N/A`.
    pub service_name: String,
    /// That request's region, or `N/A`.
    pub region: String,
    /// When.
    pub date: Option<DateTime>,
}

/// What the keys demo saw.
#[derive(Debug, Clone, PartialEq)]
pub struct KeysOutcome {
    /// The IAM user the demo acted as.
    pub user_name: String,
    /// The key the user started with (and signed every request with).
    pub existing_key_id: String,
    /// The key the demo created, deactivated and deleted (`None` if the user had no room).
    pub new_key_id: Option<String>,
    /// The number of keys at each listing: at the start, after creating, after
    /// deactivating, after deleting.
    pub key_counts: Vec<usize>,
    /// The new key's status after deactivating it.
    pub new_key_status_after_update: Option<String>,
    /// GetAccessKeyLastUsed for the existing key.
    pub last_use: Option<LastUse>,
}

/// The demo user's name.
pub const DEMO_USER: &str = "demo-iam-key-user";
/// Its inline policy, letting it manage its own keys.
pub const DEMO_USER_POLICY: &str = "demo-iam-manage-own-keys";

fn print_keys(keys: &[AccessKeyMetadata]) {
    if keys.is_empty() {
        println!("   (no keys)");
    }
    for key in keys {
        println!(
            "   {}: {}",
            key.access_key_id().unwrap_or("?"),
            key.status().map_or("?", |s| s.as_str())
        );
    }
}

/// Scenario 2. The admin makes an IAM user with one access key and permission to manage
/// its own keys; as that user (boto3's `CurrentUser`), the demo lists its keys, creates a
/// second one, reads the first one's last use, deactivates and deletes the second. The
/// admin then deletes the user.
pub async fn run(admin: &Clients) -> Result<KeysOutcome> {
    let mut created_user = None;
    let outcome = scenario(admin, &mut created_user).await;
    let mut tidy = Tidy::default();
    if let Some(name) = created_user {
        step(&format!("Cleaning up: deleting {name}, its keys and its policy"));
        tidy.check(users::delete_user_and_dependents(&admin.iam, &name).await);
        println!("   Deleted user {name}.");
    }
    tidy.settle(outcome)
}

async fn scenario(admin: &Clients, created_user: &mut Option<String>) -> Result<KeysOutcome> {
    step("The admin creates an IAM user with one access key, allowed to manage its own keys");
    let user = users::create_user(&admin.iam, DEMO_USER).await?;
    *created_user = Some(user.user_name().to_owned());
    println!(
        "   Created user {} (id {}, {}).",
        user.user_name(),
        user.user_id(),
        user.arn()
    );
    let document = super::allow(
        &[
            "iam:GetUser",
            "iam:ListAccessKeys",
            "iam:CreateAccessKey",
            "iam:UpdateAccessKey",
            "iam:DeleteAccessKey",
            "iam:GetAccessKeyLastUsed",
        ],
        &[user.arn()],
    );
    users::put_inline_policy(&admin.iam, user.user_name(), DEMO_USER_POLICY, &document.to_string()).await?;
    println!("   Gave it the inline policy {DEMO_USER_POLICY}:");
    super::indented(&super::pretty(&document["Statement"]));
    let first = create_key(&admin.iam, user.user_name()).await?;
    println!("   Created its access key {}.", first.access_key_id());
    let me = admin.with_key(&first);

    step("As that user: who am I? (GetUser with no user name)");
    let current = super::retry(admin, super::NEW_KEY_NOT_YET, || users::get_user(&me.iam, None)).await?;
    let name = current.user_name().to_owned();
    println!(
        "   The current user is {name} (id {}, {}).",
        current.user_id(),
        current.arn()
    );

    let mut outcome = KeysOutcome {
        user_name: name.clone(),
        existing_key_id: first.access_key_id().to_owned(),
        new_key_id: None,
        key_counts: Vec::new(),
        new_key_status_after_update: None,
        last_use: None,
    };

    step(&format!("{name}'s access keys (ListAccessKeys)"));
    let keys = list_keys(&me.iam, &name).await?;
    print_keys(&keys);
    outcome.key_counts.push(keys.len());
    if keys.len() >= MAX_KEYS_PER_USER {
        println!("   {name} already has {MAX_KEYS_PER_USER} keys, the most a user may have; stopping here.");
        return Ok(outcome);
    }

    step("Creating a new access key (CreateAccessKey)");
    let key = create_key(&me.iam, &name).await?;
    let key_id = key.access_key_id().to_owned();
    outcome.new_key_id = Some(key_id.clone());
    println!("   Created key {key_id} with secret {}", key.secret_access_key());
    println!("   (the secret is shown once: IAM never returns it again)");
    let keys = list_keys(&me.iam, &name).await?;
    println!("   {name}'s keys now:");
    print_keys(&keys);
    outcome.key_counts.push(keys.len());

    step(&format!(
        "When was {} last used? (GetAccessKeyLastUsed)",
        outcome.existing_key_id
    ));
    let (owner, last) = last_used(&me.iam, &outcome.existing_key_id).await?;
    let last_use = LastUse {
        user_name: owner,
        service_name: last.as_ref().map_or("N/A", |l| l.service_name()).to_owned(),
        region: last.as_ref().map_or("N/A", |l| l.region()).to_owned(),
        date: last.as_ref().and_then(|l| l.last_used_date()).copied(),
    };
    println!("   UserName:     {}", last_use.user_name.as_deref().unwrap_or("?"));
    println!("   ServiceName:  {}", last_use.service_name);
    println!("   Region:       {}", last_use.region);
    println!(
        "   LastUsedDate: {}",
        last_use.date.map_or_else(|| "never".to_owned(), |d| d.to_string())
    );
    outcome.last_use = Some(last_use);

    step(&format!("Deactivating {key_id} (UpdateAccessKey Status=Inactive)"));
    update_key(&me.iam, &name, &key_id, StatusType::Inactive).await?;
    let keys = list_keys(&me.iam, &name).await?;
    print_keys(&keys);
    outcome.key_counts.push(keys.len());
    outcome.new_key_status_after_update = keys
        .iter()
        .find(|k| k.access_key_id() == Some(key_id.as_str()))
        .and_then(|k| k.status())
        .map(|s| s.as_str().to_owned());

    step(&format!("Deleting {key_id} (DeleteAccessKey)"));
    delete_key(&me.iam, &name, &key_id).await?;
    let keys = list_keys(&me.iam, &name).await?;
    print_keys(&keys);
    outcome.key_counts.push(keys.len());
    Ok(outcome)
}
