//! An organization (not in the seed): the account becomes an organization's management
//! account, creates a member account, enters it through the role AWS makes there
//! (`OrganizationAccountAccessRole`), and attaches a service control policy that denies
//! `s3:DeleteBucket` — after which the member account's own administrator is refused, the
//! denial naming the SCP.
//!
//! Against AWS itself this creates a real AWS account, which cannot simply be deleted
//! afterwards: run it against oxiam (the default), or know what you are doing.

use aws_sdk_organizations::Client;
use aws_sdk_organizations::types::{CreateAccountState, PolicyType};

use super::{Clients, Denial, Error, Result, Tidy, assume_role, aws, buckets, expect_denied, keys, step, users};

/// What the demo saw.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationOutcome {
    /// The organization's id (`o-…`).
    pub organization_id: String,
    /// The member account CreateAccount made.
    pub member_account_id: String,
    /// The role session inside it (`…:assumed-role/OrganizationAccountAccessRole/…`).
    pub member_admin_arn: String,
    /// The SCP's ARN.
    pub scp_arn: String,
    /// The member administrator's DeleteBucket, denied by the SCP.
    pub denied: Denial,
}

#[derive(Debug, Default)]
struct Made {
    organization: bool,
    member: Option<String>,
    user: Option<String>,
    scp: Option<String>,
    bucket: Option<(Clients, String)>,
}

/// The SCP the demo attaches: no bucket may be deleted.
pub const DENY_DELETE_BUCKET: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoBucketDeletion","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}"#;

/// CreateOrganization with all features (SCPs enabled): its id.
pub async fn create_organization(orgs: &Client) -> Result<String> {
    let out = orgs
        .create_organization()
        .send()
        .await
        .map_err(aws("CreateOrganization"))?;
    Ok(out.organization().and_then(|o| o.id()).unwrap_or_default().to_owned())
}

/// CreateAccount, then DescribeCreateAccountStatus until it has ended: the new account's id.
pub async fn create_account(orgs: &Client, name: &str, email: &str) -> Result<String> {
    let doing = format!("CreateAccount {name}");
    let asked = orgs
        .create_account()
        .account_name(name)
        .email(email)
        .send()
        .await
        .map_err(aws(doing.clone()))?;
    let request_id = asked
        .create_account_status()
        .and_then(|s| s.id())
        .unwrap_or_default()
        .to_owned();
    // AWS makes the account in the background; oxiam has made it by the first look.
    for _ in 0..60 {
        let status = orgs
            .describe_create_account_status()
            .create_account_request_id(&request_id)
            .send()
            .await
            .map_err(aws(format!("DescribeCreateAccountStatus {request_id}")))?;
        let status = status
            .create_account_status()
            .cloned()
            .ok_or_else(|| Error::new(doing.clone(), "no status in the answer"))?;
        match status.state() {
            Some(CreateAccountState::Succeeded) => return Ok(status.account_id().unwrap_or_default().to_owned()),
            Some(CreateAccountState::InProgress) => tokio::time::sleep(std::time::Duration::from_secs(5)).await,
            _ => {
                return Err(Error::new(doing, format!("failed: {:?}", status.failure_reason())));
            }
        }
    }
    Err(Error::new(doing, "still in progress after five minutes"))
}

/// CreatePolicy of type SERVICE_CONTROL_POLICY: (id, ARN).
pub async fn create_scp(orgs: &Client, name: &str, content: &str) -> Result<(String, String)> {
    let out = orgs
        .create_policy()
        .name(name)
        .description("oxiam demo: no bucket may be deleted")
        .r#type(PolicyType::ServiceControlPolicy)
        .content(content)
        .send()
        .await
        .map_err(aws(format!("CreatePolicy {name}")))?;
    let summary = out
        .policy()
        .and_then(|p| p.policy_summary())
        .cloned()
        .ok_or_else(|| Error::new(format!("CreatePolicy {name}"), "no policy in the answer"))?;
    Ok((
        summary.id().unwrap_or_default().to_owned(),
        summary.arn().unwrap_or_default().to_owned(),
    ))
}

/// The demo, as `admin` (a principal allowed everything in an account in no organization).
pub async fn run(admin: &Clients) -> Result<OrganizationOutcome> {
    let mut made = Made::default();
    let outcome = scenario(admin, &mut made).await;
    let orgs = &admin.organizations;
    let mut tidy = Tidy::default();
    step("Tearing down");
    if let Some((member_admin, bucket)) = &made.bucket
        && tidy.check(buckets::delete_bucket(&member_admin.s3, bucket).await)
    {
        println!("   The member's administrator deleted {bucket} (the SCP was detached first).");
    }
    if let Some(member) = &made.member
        && tidy.check(
            orgs.remove_account_from_organization()
                .account_id(member)
                .send()
                .await
                .map_err(aws(format!("RemoveAccountFromOrganization {member}"))),
        )
    {
        println!("   Removed the account {member} from the organization.");
    }
    if let Some(scp) = &made.scp
        && tidy.check(
            orgs.delete_policy()
                .policy_id(scp)
                .send()
                .await
                .map_err(aws(format!("DeletePolicy {scp}"))),
        )
    {
        println!("   Deleted the SCP {scp}.");
    }
    if made.organization
        && tidy.check(
            orgs.delete_organization()
                .send()
                .await
                .map_err(aws("DeleteOrganization")),
        )
    {
        println!("   Deleted the organization.");
    }
    if let Some(user) = &made.user
        && tidy.check(users::delete_user_and_dependents(&admin.iam, user).await)
    {
        println!("   Deleted the user {user}, its inline policy and its access key.");
    }
    tidy.settle(outcome)
}

async fn scenario(admin: &Clients, made: &mut Made) -> Result<OrganizationOutcome> {
    let orgs = &admin.organizations;
    let suffix = super::unique_suffix();

    step("Creating an organization with all features (CreateOrganization)");
    let organization_id = create_organization(orgs).await?;
    made.organization = true;
    println!("   Created {organization_id}: this account is its management account, SCPs are on.");

    step("Creating a member account (CreateAccount, DescribeCreateAccountStatus)");
    let member = create_account(
        orgs,
        &format!("demo-member-{suffix}"),
        &format!("demo-{suffix}@example.com"),
    )
    .await?;
    made.member = Some(member.clone());
    println!("   Created the account {member}, with its role OrganizationAccountAccessRole.");

    step("Creating an operator allowed to assume that role (CreateUser, PutUserPolicy)");
    let role_arn = format!("arn:aws:iam::{member}:role/OrganizationAccountAccessRole");
    let user_name = format!("demo-org-operator-{suffix}");
    users::create_user(&admin.iam, &user_name).await?;
    made.user = Some(user_name.clone());
    let may_assume = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}],
    });
    users::put_inline_policy(&admin.iam, &user_name, "assume-member-admin", &may_assume.to_string()).await?;
    let key = keys::create_key(&admin.iam, &user_name).await?;
    let operator = admin.with_key(&key);
    println!("   Created {user_name}, allowed sts:AssumeRole on {role_arn} and nothing else.");

    step("Entering the member account (AssumeRole OrganizationAccountAccessRole)");
    let assumed = super::retry(admin, super::NEW_GRANT_NOT_YET, || {
        assume_role::assume_role(&operator.sts, &role_arn, "demo-operator")
    })
    .await?;
    let member_admin_arn = assumed
        .assumed_role_user()
        .map(|u| u.arn().to_owned())
        .unwrap_or_default();
    let credentials = assumed
        .credentials()
        .ok_or_else(|| Error::new("AssumeRole", "no credentials in the answer"))?;
    let member_admin = admin.with_credentials(aws_credential_types::Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        Some(credentials.session_token().to_owned()),
        None,
        "oxiam-demo",
    ));
    println!("   Acting as {member_admin_arn}.");
    let bucket = format!("demo-org-{suffix}");
    buckets::create_bucket(&member_admin.s3, &bucket, member_admin.region()).await?;
    made.bucket = Some((member_admin.clone(), bucket.clone()));
    println!("   The member's administrator created the bucket {bucket}.");

    step("Attaching an SCP that denies s3:DeleteBucket to the member account (CreatePolicy, AttachPolicy)");
    let (scp_id, scp_arn) = create_scp(orgs, &format!("demo-no-bucket-deletion-{suffix}"), DENY_DELETE_BUCKET).await?;
    made.scp = Some(scp_id.clone());
    orgs.attach_policy()
        .policy_id(&scp_id)
        .target_id(&member)
        .send()
        .await
        .map_err(aws(format!("AttachPolicy {scp_id} to {member}")))?;
    println!("   Attached {scp_arn}.");

    step("The member's own administrator deletes the bucket (DeleteBucket)");
    let result = buckets::delete_bucket(&member_admin.s3, &bucket).await;
    let denied = expect_denied(
        &member_admin_arn,
        "s3:DeleteBucket",
        &format!("arn:aws:s3:::{bucket}"),
        "the SCP on its account denies it, whatever the account's own policies allow",
        result,
    )?;
    if !denied.message.contains(&scp_arn) {
        return Err(Error::new(
            "DeleteBucket as the member's administrator",
            format!("the denial does not name the SCP {scp_arn}: {}", denied.message),
        ));
    }
    orgs.detach_policy()
        .policy_id(&scp_id)
        .target_id(&member)
        .send()
        .await
        .map_err(aws(format!("DetachPolicy {scp_id} from {member}")))?;
    Ok(OrganizationOutcome {
        organization_id,
        member_account_id: member,
        member_admin_arn,
        scp_arn,
        denied,
    })
}
