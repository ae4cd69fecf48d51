//! Scenario 6: a user with no permissions of its own assumes a role that has them, and
//! acts with the role's temporary credentials.

use aws_credential_types::Credentials;
use aws_sdk_iam::primitives::DateTime;

use super::{Clients, Denial, Error, Result, Tidy, aws, buckets, expect_denied, keys, policies, roles, step, users};

/// STS AssumeRole: temporary credentials for the role.
pub async fn assume_role(
    sts: &aws_sdk_sts::Client,
    role_arn: &str,
    session_name: &str,
) -> Result<aws_sdk_sts::operation::assume_role::AssumeRoleOutput> {
    sts.assume_role()
        .role_arn(role_arn)
        .role_session_name(session_name)
        .send()
        .await
        .map_err(aws(format!("AssumeRole {role_arn}")))
}

/// A trust policy letting one principal (an ARN) assume the role.
pub fn principal_trust_policy(principal_arn: &str) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "AWS": principal_arn },
            "Action": "sts:AssumeRole",
        }],
    })
}

/// What the demo saw.
#[derive(Debug, Clone, PartialEq)]
pub struct AssumeRoleOutcome {
    /// The user it created (and deleted).
    pub user_name: String,
    /// The user's ARN.
    pub user_arn: String,
    /// The role it created (and deleted).
    pub role_arn: String,
    /// The managed policy it attached to the role (and deleted).
    pub policy_arn: String,
    /// The user's own ListBuckets, denied.
    pub denied: Denial,
    /// The temporary access key id (`ASIA…`).
    pub temporary_access_key_id: String,
    /// When the temporary credentials expire.
    pub expiration: DateTime,
    /// The assumed-role session's ARN.
    pub assumed_role_arn: String,
    /// The caller's ARN with the temporary credentials, per GetCallerIdentity.
    pub caller_with_temporary_credentials: String,
    /// The buckets ListBuckets listed with the temporary credentials.
    pub buckets: Vec<String>,
}

#[derive(Debug, Default)]
struct Made {
    user: Option<String>,
    role: Option<String>,
    policy: Option<String>,
}

/// Scenario 6, as `admin`: a user whose only permission is to assume a role that may list
/// buckets; the user is denied ListBuckets, assumes the role, and lists them.
pub async fn run(admin: &Clients) -> Result<AssumeRoleOutcome> {
    let mut made = Made::default();
    let outcome = scenario(admin, &mut made).await;
    let iam = &admin.iam;
    let mut tidy = Tidy::default();
    step("Tearing down");
    if let Some(role) = &made.role {
        // ListAttachedRolePolicies, detach each (and delete the demo's own), DeleteRole.
        match roles::delete_role_and_dependents(iam, role).await {
            Ok(detached) => {
                for arn in detached {
                    println!("   Detached {arn} from {role}.");
                }
                println!("   Deleted the role {role}.");
            }
            Err(e) => {
                tidy.check::<()>(Err(e));
            }
        }
    }
    if let Some(policy) = &made.policy
        && tidy.check(policies::delete_policy(iam, policy).await)
    {
        println!("   Deleted the policy {policy}.");
    }
    if let Some(user) = &made.user {
        // ListUserPolicies + DeleteUserPolicy, ListAccessKeys + DeleteAccessKey, DeleteUser.
        if tidy.check(users::delete_user_and_dependents(iam, user).await) {
            println!("   Deleted the user {user}, its inline policy and its access key.");
        }
    }
    tidy.settle(outcome)
}

async fn scenario(admin: &Clients, made: &mut Made) -> Result<AssumeRoleOutcome> {
    let iam = &admin.iam;
    let suffix = super::unique_suffix();
    let user_name = format!("demo-user-{suffix}");
    let role_name = format!("demo-role-{suffix}");
    let policy_name = format!("demo-list-buckets-{suffix}");

    step("Creating a user with an access key and no permissions (CreateUser, CreateAccessKey)");
    let user = users::create_user(iam, &user_name).await?;
    made.user = Some(user_name.clone());
    println!("   Created {} ({}).", user_name, user.arn());
    let key = keys::create_key(iam, &user_name).await?;
    println!("   Created its access key {}.", key.access_key_id());

    step("Creating a role that the user may assume (CreateRole)");
    let trust = principal_trust_policy(user.arn());
    let role = roles::create_role(iam, &role_name, &trust.to_string()).await?;
    made.role = Some(role_name.clone());
    println!("   Created {} with the trust policy:", role.arn());
    super::indented(&super::pretty(&trust["Statement"]));

    step("Letting the role list buckets (CreatePolicy, AttachRolePolicy)");
    let document = super::allow(&["s3:ListAllMyBuckets"], &["arn:aws:s3:::*"]);
    let policy = policies::create_policy(
        iam,
        &policy_name,
        "Allows listing the account's buckets.",
        &document.to_string(),
    )
    .await?;
    let policy_arn = policy.arn().unwrap_or_default().to_owned();
    made.policy = Some(policy_arn.clone());
    roles::attach_policy(iam, &role_name, &policy_arn).await?;
    println!("   Attached {policy_arn} (allow s3:ListAllMyBuckets) to {role_name}.");

    step("Letting the user assume the role, and nothing else (PutUserPolicy)");
    let inline = super::allow(&["sts:AssumeRole"], &[role.arn()]);
    users::put_inline_policy(iam, &user_name, "demo-assume-role", &inline.to_string()).await?;
    println!(
        "   Gave {user_name} the inline policy demo-assume-role: allow sts:AssumeRole on {}.",
        role.arn()
    );

    let as_user = admin.with_key(&key);
    step(&format!("{user_name} lists buckets with its own key (ListBuckets)"));
    let attempt = super::retry(admin, super::NEW_KEY_NOT_YET, || buckets::list_buckets(&as_user.s3)).await;
    let because = format!("{user_name}'s only policy allows sts:AssumeRole on {role_name}, and nothing else");
    let denied = expect_denied(&user_name, "s3:ListAllMyBuckets", "arn:aws:s3:::*", &because, attempt)?;

    step(&format!("{user_name} assumes {role_name} (STS AssumeRole)"));
    let session = "demo-assume-role-session";
    let assumed = super::retry(admin, super::NEW_GRANT_NOT_YET, || {
        assume_role(&as_user.sts, role.arn(), session)
    })
    .await?;
    let credentials = assumed
        .credentials()
        .ok_or_else(|| Error::new(format!("AssumeRole {}", role.arn()), "the answer holds no credentials"))?;
    let assumed_role_arn = assumed
        .assumed_role_user()
        .map(|u| u.arn().to_owned())
        .unwrap_or_default();
    println!("   Assumed {assumed_role_arn}, with temporary credentials:");
    println!("     AccessKeyId:  {}", credentials.access_key_id());
    let token = credentials.session_token();
    println!(
        "     SessionToken: {}... ({} characters; the secret access key is not shown)",
        token.chars().take(16).collect::<String>(),
        token.len()
    );
    println!("     Expiration:   {}", credentials.expiration());
    let temporary = admin.with_credentials(Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        Some(credentials.session_token().to_owned()),
        std::time::SystemTime::try_from(*credentials.expiration()).ok(),
        "oxiam-demo-assume-role",
    ));

    step("With the temporary credentials: who am I (GetCallerIdentity), and ListBuckets");
    let caller = super::retry(admin, super::NEW_KEY_NOT_YET, || super::whoami(&temporary)).await?;
    println!("   The caller is {caller}.");
    // Temporary credentials work at once; on AWS, the role's new policy may take a moment.
    let listed = super::retry(admin, &["AccessDenied"], || buckets::list_buckets(&temporary.s3)).await?;
    println!(
        "   ListBuckets is allowed, as the role's policy says: {} bucket(s).",
        listed.len()
    );
    for bucket in &listed {
        println!("     {bucket}");
    }

    Ok(AssumeRoleOutcome {
        user_name,
        user_arn: user.arn().to_owned(),
        role_arn: role.arn().to_owned(),
        policy_arn,
        denied,
        temporary_access_key_id: credentials.access_key_id().to_owned(),
        expiration: *credentials.expiration(),
        assumed_role_arn,
        caller_with_temporary_credentials: caller,
        buckets: listed,
    })
}
