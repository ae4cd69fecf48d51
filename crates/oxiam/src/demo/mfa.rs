//! Scenario 7: a user enables a virtual MFA device, then assumes a role whose trust policy
//! requires MFA: refused without a code, allowed with one. The demo plays the authenticator
//! app, computing the codes from the device's seed (RFC 6238) as a phone would.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oxiam_core::totp;

use super::{Clients, Denial, Error, Result, Tidy, aws, expect_denied, keys, roles, step, users};

/// What the demo saw.
#[derive(Debug, Clone, PartialEq)]
pub struct MfaOutcome {
    /// The user it created (and deleted).
    pub user_name: String,
    /// The device's serial number (its ARN).
    pub serial_number: String,
    /// The size of the QR code PNG the device came with.
    pub qr_code_png_bytes: usize,
    /// The role it created (and deleted).
    pub role_arn: String,
    /// AssumeRole without a code, denied.
    pub denied: Denial,
    /// The assumed-role session's ARN, with a code.
    pub assumed_role_arn: String,
}

#[derive(Debug, Default)]
struct Made {
    user: Option<String>,
    role: Option<String>,
    device: Option<String>,
    enabled: bool,
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Scenario 7, as `admin`.
pub async fn run(admin: &Clients) -> Result<MfaOutcome> {
    let mut made = Made::default();
    let outcome = scenario(admin, &mut made).await;
    let iam = &admin.iam;
    let mut tidy = Tidy::default();
    step("Tearing down");
    if let (Some(user), Some(serial)) = (&made.user, &made.device)
        && made.enabled
    {
        let deactivated = iam
            .deactivate_mfa_device()
            .user_name(user)
            .serial_number(serial)
            .send()
            .await
            .map_err(aws(format!("DeactivateMFADevice {serial}")));
        if tidy.check(deactivated) {
            println!("   Deactivated the device for {user}.");
        }
    }
    if let Some(serial) = &made.device {
        let deleted = iam
            .delete_virtual_mfa_device()
            .serial_number(serial)
            .send()
            .await
            .map_err(aws(format!("DeleteVirtualMFADevice {serial}")));
        if tidy.check(deleted) {
            println!("   Deleted the device {serial}.");
        }
    }
    if let Some(role) = &made.role
        && tidy.check(roles::delete_role_and_dependents(iam, role).await)
    {
        println!("   Deleted the role {role}.");
    }
    if let Some(user) = &made.user
        && tidy.check(users::delete_user_and_dependents(iam, user).await)
    {
        println!("   Deleted the user {user}, its inline policy and its access key.");
    }
    tidy.settle(outcome)
}

async fn scenario(admin: &Clients, made: &mut Made) -> Result<MfaOutcome> {
    let iam = &admin.iam;
    let suffix = super::unique_suffix();
    let user_name = format!("demo-mfa-user-{suffix}");
    let role_name = format!("demo-mfa-role-{suffix}");
    let device_name = format!("demo-mfa-{suffix}");

    step("Creating a user with an access key (CreateUser, CreateAccessKey)");
    let user = users::create_user(iam, &user_name).await?;
    made.user = Some(user_name.clone());
    let key = keys::create_key(iam, &user_name).await?;
    println!("   Created {} and its access key {}.", user.arn(), key.access_key_id());

    step("Creating a role that the user may assume only with MFA (CreateRole)");
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "AWS": user.arn() },
            "Action": "sts:AssumeRole",
            "Condition": { "Bool": { "aws:MultiFactorAuthPresent": "true" } },
        }],
    });
    let role = roles::create_role(iam, &role_name, &trust.to_string()).await?;
    made.role = Some(role_name.clone());
    println!("   Created {} with the trust policy:", role.arn());
    super::indented(&super::pretty(&trust["Statement"]));
    let inline = super::allow(&["sts:AssumeRole"], &[role.arn()]);
    users::put_inline_policy(iam, &user_name, "demo-assume-role", &inline.to_string()).await?;

    step("Creating a virtual MFA device (CreateVirtualMFADevice)");
    let device = iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name(&device_name)
        .send()
        .await
        .map_err(aws(format!("CreateVirtualMFADevice {device_name}")))?
        .virtual_mfa_device
        .ok_or_else(|| Error::new("CreateVirtualMFADevice", "the answer holds no device"))?;
    let serial = device.serial_number().to_owned();
    made.device = Some(serial.clone());
    let seed = device
        .base32_string_seed()
        .and_then(|b| std::str::from_utf8(b.as_ref()).ok())
        .and_then(totp::from_base32)
        .ok_or_else(|| Error::new("CreateVirtualMFADevice", "the answer holds no Base32 seed"))?;
    let qr_code_png_bytes = device.qr_code_png().map_or(0, |b| b.as_ref().len());
    println!("   Created {serial}: a {qr_code_png_bytes}-byte QR code to scan, and its seed (not shown).");

    step("Enabling it for the user with two consecutive codes (EnableMFADevice)");
    let now = totp::step_at(unix_now());
    iam.enable_mfa_device()
        .user_name(&user_name)
        .serial_number(&serial)
        .authentication_code1(totp::code(&seed, now - 1))
        .authentication_code2(totp::code(&seed, now))
        .send()
        .await
        .map_err(aws(format!("EnableMFADevice {serial}")))?;
    made.enabled = true;
    println!("   {user_name} now has {serial}.");

    let as_user = admin.with_key(&key);
    step(&format!(
        "{user_name} assumes {role_name} without a code (STS AssumeRole)"
    ));
    let attempt = super::retry(admin, super::NEW_KEY_NOT_YET, || async {
        as_user
            .sts
            .assume_role()
            .role_arn(role.arn())
            .role_session_name("demo-no-mfa")
            .send()
            .await
            .map_err(aws(format!("AssumeRole {}", role.arn())))
    })
    .await;
    let because = "the trust policy requires aws:MultiFactorAuthPresent, and the request carries no MFA";
    let denied = expect_denied(&user_name, "sts:AssumeRole", role.arn(), because, attempt)?;

    step(&format!(
        "{user_name} assumes {role_name} with the device's current code (AssumeRole with SerialNumber, TokenCode)"
    ));
    // The codes of the steps used to enable the device are spent: the next step's code,
    // else (where it is not taken early) the code of the next step once it has come.
    let assume_with = |code: String| {
        let sts = as_user.sts.clone();
        let (role_arn, serial) = (role.arn().to_owned(), serial.clone());
        async move {
            sts.assume_role()
                .role_arn(&role_arn)
                .role_session_name("demo-with-mfa")
                .serial_number(serial)
                .token_code(code)
                .send()
                .await
                .map_err(aws(format!("AssumeRole {role_arn} with MFA")))
        }
    };
    let assumed = match assume_with(totp::code(&seed, now + 1)).await {
        Ok(assumed) => assumed,
        Err(e) if e.is("AccessDenied") => {
            let next = (now + 1) * totp::STEP_SECONDS;
            let wait = u64::try_from(next - unix_now()).unwrap_or(0) + 1;
            println!("   The next code is not taken early here: waiting {wait} s for it.");
            tokio::time::sleep(Duration::from_secs(wait)).await;
            assume_with(totp::code(&seed, totp::step_at(unix_now()))).await?
        }
        Err(e) => return Err(e),
    };
    let assumed_role_arn = assumed
        .assumed_role_user()
        .map(|u| u.arn().to_owned())
        .unwrap_or_default();
    println!("   Assumed {assumed_role_arn}: the session carries aws:MultiFactorAuthPresent = true.");

    Ok(MfaOutcome {
        user_name,
        serial_number: serial,
        qr_code_png_bytes,
        role_arn: role.arn().to_owned(),
        denied,
        assumed_role_arn,
    })
}
