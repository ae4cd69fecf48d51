//! Every condition key a served IAM or STS operation can carry reaches the policy engine.
//!
//! For each served operation and each key AWS's Service Authorization Reference lists for
//! its action, a user whose policy allows everything but denies that action when the key
//! has one value sends the request twice: with that value (refused, naming the explicit
//! deny) and with another (not refused). A key the request cannot carry must be listed in
//! `NOT_CARRIED` with the reason, and docs/differences.md says the same. The privilege
//! escalations that were possible while requests carried no keys are tested by name, with
//! the AWS SDK for Rust, on both backends.

use crate::common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::raw::{Reply, call, call_as};
use common::{ACCOUNT, TestServer, code, message};

const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";

/// Keys AWS lists for an action that no request of a served operation can carry, and why.
/// (`*` as the operation: every operation.)
const NOT_CARRIED: &[(&str, &str, &str)] = &[
    (
        "CreateDelegationRequest",
        "iam:DelegationRequestOwner",
        "a request being filed has no owner yet: only AssociateDelegationRequest gives it one",
    ),
    (
        "*",
        "iam:RoleTemplateARN",
        "set only for roles created from a role template (CreateRoleFromTemplate), which oxiam does not serve",
    ),
    (
        "CreateUser",
        "aws:ResourceTag/${TagKey}",
        "the user does not exist before the request: its tags are aws:RequestTag",
    ),
    (
        "CreateUser",
        "iam:ResourceTag/${TagKey}",
        "the user does not exist before the request: its tags are aws:RequestTag",
    ),
    (
        "CreateRole",
        "aws:ResourceTag/${TagKey}",
        "the role does not exist before the request: its tags are aws:RequestTag",
    ),
    (
        "CreateRole",
        "iam:ResourceTag/${TagKey}",
        "the role does not exist before the request: its tags are aws:RequestTag",
    ),
    (
        "CreatePolicy",
        "aws:ResourceTag/${TagKey}",
        "the policy does not exist before the request: its tags are aws:RequestTag",
    ),
    (
        "CreateOpenIDConnectProvider",
        "aws:ResourceTag/${TagKey}",
        "the provider does not exist before the request: its tags are aws:RequestTag",
    ),
    (
        "CreateInstanceProfile",
        "aws:ResourceTag/${TagKey}",
        "the instance profile does not exist before the request: its tags are aws:RequestTag",
    ),
    (
        "CreateVirtualMFADevice",
        "aws:ResourceTag/${TagKey}",
        "the device does not exist before the request: its tags are aws:RequestTag",
    ),
    (
        "CreateSAMLProvider",
        "aws:ResourceTag/${TagKey}",
        "the provider does not exist before the request: its tags are aws:RequestTag",
    ),
    (
        "CreateServiceLinkedRole",
        "aws:ResourceTag/${TagKey}",
        "the role does not exist before the request",
    ),
    (
        "CreateServiceLinkedRole",
        "iam:ResourceTag/${TagKey}",
        "the role does not exist before the request",
    ),
    (
        "GetServiceLinkedRoleDeletionStatus",
        "aws:ResourceTag/${TagKey}",
        "the role is gone once its deletion task exists (oxiam deletes at once)",
    ),
    (
        "GetServiceLinkedRoleDeletionStatus",
        "iam:ResourceTag/${TagKey}",
        "the role is gone once its deletion task exists (oxiam deletes at once)",
    ),
    (
        "UploadServerCertificate",
        "aws:ResourceTag/${TagKey}",
        "the certificate does not exist before the request: its tags are aws:RequestTag",
    ),
    (
        "EnableMFADevice",
        "iam:RegisterSecurityKey",
        "set only when a FIDO security key is registered; oxiam has virtual (TOTP) MFA devices only",
    ),
    (
        "EnableMFADevice",
        "iam:FIDO-certification",
        "set only when a FIDO security key is registered; oxiam has virtual (TOTP) MFA devices only",
    ),
    (
        "EnableMFADevice",
        "iam:FIDO-FIPS-140-2-certification",
        "set only when a FIDO security key is registered; oxiam has virtual (TOTP) MFA devices only",
    ),
    (
        "EnableMFADevice",
        "iam:FIDO-FIPS-140-3-certification",
        "set only when a FIDO security key is registered; oxiam has virtual (TOTP) MFA devices only",
    ),
    // Keys from web identity and SAML providers: set only by AssumeRoleWithWebIdentity and
    // AssumeRoleWithSAML (each tested on its own, below).
    (
        "AssumeRole",
        "accounts.google.com:aud",
        "web identity federation is not served",
    ),
    (
        "AssumeRole",
        "accounts.google.com:sub",
        "web identity federation is not served",
    ),
    (
        "AssumeRole",
        "cognito-identity.amazonaws.com:amr",
        "web identity federation is not served",
    ),
    (
        "AssumeRole",
        "cognito-identity.amazonaws.com:aud",
        "web identity federation is not served",
    ),
    (
        "AssumeRole",
        "cognito-identity.amazonaws.com:sub",
        "web identity federation is not served",
    ),
    (
        "AssumeRole",
        "graph.facebook.com:app_id",
        "web identity federation is not served",
    ),
    (
        "AssumeRole",
        "graph.facebook.com:id",
        "web identity federation is not served",
    ),
    (
        "AssumeRole",
        "www.amazon.com:app_id",
        "web identity federation is not served",
    ),
    (
        "AssumeRole",
        "www.amazon.com:user_id",
        "web identity federation is not served",
    ),
    (
        "AssumeRole",
        "saml:namequalifier",
        "set by AssumeRoleWithSAML (tested on its own); a SAML session does not carry it on",
    ),
    (
        "AssumeRole",
        "saml:sub",
        "set by AssumeRoleWithSAML (tested on its own); a SAML session does not carry it on",
    ),
    (
        "AssumeRole",
        "saml:sub_type",
        "set by AssumeRoleWithSAML (tested on its own); a SAML session does not carry it on",
    ),
];

/// Served operations whose keys this table cannot test (its rows are signed requests of a
/// user), and where they are tested instead.
const TESTED_ON_THEIR_OWN: &[(&str, &str)] = &[
    (
        "GetDelegationRequest",
        "iam:DelegationRequestOwner is the owner a request has, which only AssociateDelegationRequest \
         sets, from another identity than the one denied; compat/test_delegation_requests.py denies \
         Get, GetHumanReadableSummary, Update, Accept and Reject on the owner's ARN and allows them on \
         a request another identity owns",
    ),
    ("GetHumanReadableSummary", "as GetDelegationRequest"),
    ("AcceptDelegationRequest", "as GetDelegationRequest"),
    ("RejectDelegationRequest", "as GetDelegationRequest"),
    (
        "SendDelegationToken",
        "as GetDelegationRequest: the request must be accepted first, which compat/test_delegation_requests.py \
         does for the send it tests",
    ),
    (
        "AssociateDelegationRequest",
        "a request being associated has no owner yet, so its iam:DelegationRequestOwner is absent",
    ),
    (
        "GetAccountProperties",
        "sets no property, so carries no iam:AccountPropertyNamespaces; its key is tested on \
         PutAccountProperties",
    ),
    (
        "PutAccountProperties",
        "compat/test_account_properties.py decides on iam:AccountPropertyNamespaces (the request's \
         namespaces): refused when the policy names another namespace, allowed when it names the \
         request's; the AWS SDK for Rust in this tree has no account-properties operations",
    ),
    (
        "AssumeRoleWithSAML",
        "unsigned; tests/saml_federation.rs decides with the assertion as saml:aud, saml:sub, \
         saml:sub_type and an eduPerson key, and its PrincipalTag attributes as session tags \
         (sts:TagSession); every saml:* key is set from the assertion as the IAM User Guide's \
         table says (oxiam-core/src/saml.rs)",
    ),
    (
        "AssumeRoot",
        "issued only inside an organization with root sessions enabled; \
         tests/assume_root.rs denies it on sts:TaskPolicyArn and tells the explicit deny from \
         the refusal outside an organization",
    ),
    (
        "AssumeRoleWithWebIdentity",
        "unsigned; tests/web_identity.rs decides with the token's claims as PROVIDER:aud and \
         PROVIDER:sub (and :amr), and with its tags claim as aws:RequestTag (sts:TagSession); \
         provider-specific claims (accounts.google.com:oaud, GitHub's and Buildkite's own) \
         are not carried (docs/differences.md)",
    ),
    (
        "GetWebIdentityToken",
        "needs the account's issuer enabled; tests/outbound_federation.rs denies it on \
         sts:IdentityTokenAudience, sts:DurationSeconds (also when defaulted), \
         sts:SigningAlgorithm, aws:RequestTag and aws:TagKeys, and sts:TagGetWebIdentityToken \
         on aws:RequestTag",
    ),
    (
        "GenerateOrganizationsAccessReport",
        "needs an organization whose management account asks; \
         tests/organizations_access_report.rs denies it on iam:OrganizationsPolicyId",
    ),
    (
        "ChangePassword",
        "acts on the caller's own user, not one the table sets up; tests/login_profiles.rs \
         denies it on the caller's aws:ResourceTag and iam:ResourceTag",
    ),
];

/// One key of one operation: the root sets up what the request acts on (`setup`), then the
/// user sends `request`. In both, `{N}` is a fresh number and `{V}` the value under test;
/// `{K}` is the first access key id a setup response returned, `{C}` the last
/// service-specific credential id.
struct Row {
    service: &'static str,
    operation: &'static str,
    key: String,
    setup: Vec<String>,
    request: String,
    matching: &'static str,
    other: &'static str,
    /// What the root removes after the request (what counts against an account quota).
    cleanup: Vec<String>,
}

fn url(value: &str) -> String {
    common::raw::url_encode(value)
}

fn trust() -> String {
    url(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}}]}}"#
    ))
}

fn doc() -> String {
    url(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#)
}

const USER_TAGGED: &str = "Action=CreateUser&UserName=u{N}&Tags.member.1.Key=team&Tags.member.1.Value={V}";
const USER_BOUNDED: &str = "Action=CreateUser&UserName=u{N}&PermissionsBoundary={V}";

fn role_tagged() -> String {
    format!(
        "Action=CreateRole&RoleName=r{{N}}&AssumeRolePolicyDocument={}&Tags.member.1.Key=team&Tags.member.1.Value={{V}}",
        trust()
    )
}

fn role_bounded() -> String {
    format!(
        "Action=CreateRole&RoleName=r{{N}}&AssumeRolePolicyDocument={}&PermissionsBoundary={{V}}",
        trust()
    )
}

fn policy_tagged() -> String {
    format!(
        "Action=CreatePolicy&PolicyName=p{{N}}&PolicyDocument={}&Tags.member.1.Key=team&Tags.member.1.Value={{V}}",
        doc()
    )
}

/// The request part of operations on one user, role or policy (after `Action=OP&`).
fn user_requests() -> Vec<(&'static str, String)> {
    vec![
        ("AttachUserPolicy", format!("UserName=u{{N}}&PolicyArn={READ_ONLY}")),
        ("CreateAccessKey", "UserName=u{N}".into()),
        ("DeleteAccessKey", "UserName=u{N}&AccessKeyId={K}".into()),
        ("DeleteUser", "UserName=u{N}".into()),
        ("DeleteUserPermissionsBoundary", "UserName=u{N}".into()),
        ("DeleteUserPolicy", "UserName=u{N}&PolicyName=inline".into()),
        // A password AWS's default policy takes; the others find no profile (404).
        ("CreateLoginProfile", "UserName=u{N}&Password=Correct-Horse-1".into()),
        ("GetLoginProfile", "UserName=u{N}".into()),
        ("UpdateLoginProfile", "UserName=u{N}&PasswordResetRequired=true".into()),
        ("DeleteLoginProfile", "UserName=u{N}".into()),
        // The MFA operations act on the user; the device named is none, so that an allowed
        // request answers NoSuchEntity (404), never a 403 of its own.
        ("DeactivateMFADevice", format!("UserName=u{{N}}&{NO_DEVICE}")),
        ("EnableMFADevice", format!("UserName=u{{N}}&{NO_DEVICE}&{TWO_CODES}")),
        ("GetMFADevice", format!("UserName=u{{N}}&{NO_DEVICE}")),
        ("ListMFADevices", "UserName=u{N}".into()),
        ("ResyncMFADevice", format!("UserName=u{{N}}&{NO_DEVICE}&{TWO_CODES}")),
        ("DetachUserPolicy", format!("UserName=u{{N}}&PolicyArn={READ_ONLY}")),
        // SSH keys and service-specific credentials: the key or credential named is none,
        // so that an allowed request answers NoSuchEntity (404).
        (
            "UploadSSHPublicKey",
            format!("UserName=u{{N}}&SSHPublicKeyBody={}", url(SSH_KEY)),
        ),
        ("GetSSHPublicKey", format!("UserName=u{{N}}&{NO_SSH_KEY}&Encoding=SSH")),
        ("ListSSHPublicKeys", "UserName=u{N}".into()),
        (
            "UpdateSSHPublicKey",
            format!("UserName=u{{N}}&{NO_SSH_KEY}&Status=Inactive"),
        ),
        ("DeleteSSHPublicKey", format!("UserName=u{{N}}&{NO_SSH_KEY}")),
        (
            "CreateServiceSpecificCredential",
            "UserName=u{N}&ServiceName=codecommit.amazonaws.com".into(),
        ),
        ("ListServiceSpecificCredentials", "UserName=u{N}".into()),
        (
            "ResetServiceSpecificCredential",
            format!("UserName=u{{N}}&{NO_CREDENTIAL}"),
        ),
        (
            "UpdateServiceSpecificCredential",
            format!("UserName=u{{N}}&{NO_CREDENTIAL}&Status=Inactive"),
        ),
        (
            "DeleteServiceSpecificCredential",
            format!("UserName=u{{N}}&{NO_CREDENTIAL}"),
        ),
        // Signing certificates: one certificate (held once in the account: an allowed upload
        // after the first answers DuplicateCertificate, 409), and an id no certificate has.
        (
            "UploadSigningCertificate",
            format!("UserName=u{{N}}&CertificateBody={}", url(CERTIFICATE)),
        ),
        ("ListSigningCertificates", "UserName=u{N}".into()),
        (
            "UpdateSigningCertificate",
            format!("UserName=u{{N}}&{NO_CERTIFICATE}&Status=Inactive"),
        ),
        ("DeleteSigningCertificate", format!("UserName=u{{N}}&{NO_CERTIFICATE}")),
        ("GetAccessKeyLastUsed", "AccessKeyId={K}".into()),
        (
            "GetContextKeysForPrincipalPolicy",
            format!("PolicySourceArn=arn:aws:iam::{ACCOUNT}:user/u{{N}}"),
        ),
        (
            "GenerateServiceLastAccessedDetails",
            format!("Arn=arn:aws:iam::{ACCOUNT}:user/u{{N}}"),
        ),
        ("GetUser", "UserName=u{N}".into()),
        ("GetUserPolicy", "UserName=u{N}&PolicyName=inline".into()),
        ("ListAccessKeys", "UserName=u{N}".into()),
        ("ListAttachedUserPolicies", "UserName=u{N}".into()),
        ("ListGroupsForUser", "UserName=u{N}".into()),
        (
            "ListPoliciesGrantingServiceAccess",
            format!("Arn=arn:aws:iam::{ACCOUNT}:user/u{{N}}&ServiceNamespaces.member.1=s3"),
        ),
        ("ListUserPolicies", "UserName=u{N}".into()),
        ("ListUserTags", "UserName=u{N}".into()),
        (
            "PutUserPermissionsBoundary",
            format!("UserName=u{{N}}&PermissionsBoundary={READ_ONLY}"),
        ),
        (
            "PutUserPolicy",
            format!("UserName=u{{N}}&PolicyName=inline&PolicyDocument={}", doc()),
        ),
        (
            "SimulatePrincipalPolicy",
            format!("PolicySourceArn=arn:aws:iam::{ACCOUNT}:user/u{{N}}&ActionNames.member.1=s3:ListBucket"),
        ),
        (
            "TagUser",
            "UserName=u{N}&Tags.member.1.Key=x&Tags.member.1.Value=y".into(),
        ),
        ("UntagUser", "UserName=u{N}&TagKeys.member.1=x".into()),
        (
            "UpdateAccessKey",
            "UserName=u{N}&AccessKeyId={K}&Status=Inactive".into(),
        ),
        ("UpdateUser", "UserName=u{N}&NewPath=/moved/".into()),
    ]
}

fn role_requests() -> Vec<(&'static str, String)> {
    vec![
        ("AttachRolePolicy", format!("RoleName=r{{N}}&PolicyArn={READ_ONLY}")),
        ("DeleteRole", "RoleName=r{N}".into()),
        ("DeleteRolePermissionsBoundary", "RoleName=r{N}".into()),
        ("DeleteRolePolicy", "RoleName=r{N}&PolicyName=inline".into()),
        ("DetachRolePolicy", format!("RoleName=r{{N}}&PolicyArn={READ_ONLY}")),
        (
            "GetContextKeysForPrincipalPolicy",
            format!("PolicySourceArn=arn:aws:iam::{ACCOUNT}:role/r{{N}}"),
        ),
        (
            "GenerateServiceLastAccessedDetails",
            format!("Arn=arn:aws:iam::{ACCOUNT}:role/r{{N}}"),
        ),
        ("GetRole", "RoleName=r{N}".into()),
        ("GetRolePolicy", "RoleName=r{N}&PolicyName=inline".into()),
        ("ListAttachedRolePolicies", "RoleName=r{N}".into()),
        (
            "ListPoliciesGrantingServiceAccess",
            format!("Arn=arn:aws:iam::{ACCOUNT}:role/r{{N}}&ServiceNamespaces.member.1=s3"),
        ),
        ("ListRolePolicies", "RoleName=r{N}".into()),
        ("ListRoleTags", "RoleName=r{N}".into()),
        (
            "PutRolePermissionsBoundary",
            format!("RoleName=r{{N}}&PermissionsBoundary={READ_ONLY}"),
        ),
        (
            "PutRolePolicy",
            format!("RoleName=r{{N}}&PolicyName=inline&PolicyDocument={}", doc()),
        ),
        (
            "SimulatePrincipalPolicy",
            format!("PolicySourceArn=arn:aws:iam::{ACCOUNT}:role/r{{N}}&ActionNames.member.1=s3:ListBucket"),
        ),
        (
            "TagRole",
            "RoleName=r{N}&Tags.member.1.Key=x&Tags.member.1.Value=y".into(),
        ),
        ("UntagRole", "RoleName=r{N}&TagKeys.member.1=x".into()),
        (
            "UpdateAssumeRolePolicy",
            format!("RoleName=r{{N}}&PolicyDocument={}", trust()),
        ),
        ("UpdateRole", "RoleName=r{N}&MaxSessionDuration=7200".into()),
        ("UpdateRoleDescription", "RoleName=r{N}&Description=d".into()),
    ]
}

/// Operations on one instance profile (`ip{N}`, holding role `r{N}` where the operation
/// takes it out), whose setup creates the role and puts it in for RemoveRole….
fn instance_profile_requests() -> Vec<(&'static str, bool, String)> {
    vec![
        (
            "AddRoleToInstanceProfile",
            false,
            "InstanceProfileName=ip{N}&RoleName=r{N}".into(),
        ),
        ("DeleteInstanceProfile", false, "InstanceProfileName=ip{N}".into()),
        ("GetInstanceProfile", false, "InstanceProfileName=ip{N}".into()),
        ("ListInstanceProfileTags", false, "InstanceProfileName=ip{N}".into()),
        (
            "RemoveRoleFromInstanceProfile",
            true,
            "InstanceProfileName=ip{N}&RoleName=r{N}".into(),
        ),
        (
            "TagInstanceProfile",
            false,
            "InstanceProfileName=ip{N}&Tags.member.1.Key=x&Tags.member.1.Value=y".into(),
        ),
        (
            "UntagInstanceProfile",
            false,
            "InstanceProfileName=ip{N}&TagKeys.member.1=x".into(),
        ),
    ]
}

/// An SSH public key (`ssh-keygen`'s), and an id no key has.
const SSH_KEY: &str = include_str!("../../oxiam-core/tests/fixtures/ssh/ed25519.pub");
const NO_SSH_KEY: &str = "SSHPublicKeyId=APKANOSUCHKEYEXAMPLE";
/// An identity provider's SAML metadata.
const SAML_METADATA: &str = include_str!("../../oxiam-core/tests/fixtures/saml/idp.xml");

/// Operations on one SAML provider (`sp{N}`), after `Action=OP&`.
fn saml_provider_requests() -> Vec<(&'static str, String)> {
    let on = format!("SAMLProviderArn=arn:aws:iam::{ACCOUNT}:saml-provider/sp{{N}}");
    vec![
        ("GetSAMLProvider", on.clone()),
        (
            "UpdateSAMLProvider",
            format!("{on}&SAMLMetadataDocument={}", url(SAML_METADATA)),
        ),
        ("DeleteSAMLProvider", on.clone()),
        ("ListSAMLProviderTags", on.clone()),
        (
            "TagSAMLProvider",
            format!("{on}&Tags.member.1.Key=x&Tags.member.1.Value=y"),
        ),
        ("UntagSAMLProvider", format!("{on}&TagKeys.member.1=x")),
    ]
}

/// Creates SAML provider `sp{N}` (after `Action=CreateSAMLProvider&`).
fn saml_provider() -> String {
    format!("Name=sp{{N}}&SAMLMetadataDocument={}", url(SAML_METADATA))
}

/// A certificate and its key (Python's `cryptography`'s), and an id no certificate has.
const CERTIFICATE: &str = include_str!("../../oxiam-core/tests/fixtures/x509/valid.pem");
const CERTIFICATE_KEY: &str = include_str!("../../oxiam-core/tests/fixtures/x509/valid.pkcs8.key");
const NO_CERTIFICATE: &str = "CertificateId=NOSUCHCERTIFICATEIDEXAMPLE7777777";

/// Uploads server certificate `sc{N}` (after `Action=UploadServerCertificate&`).
fn server_certificate() -> String {
    format!(
        "ServerCertificateName=sc{{N}}&CertificateBody={}&PrivateKey={}",
        url(CERTIFICATE),
        url(CERTIFICATE_KEY)
    )
}

/// Operations on one server certificate (`sc{N}`), after `Action=OP&`.
fn server_certificate_requests() -> Vec<(&'static str, String)> {
    let on = "ServerCertificateName=sc{N}";
    vec![
        ("GetServerCertificate", on.to_owned()),
        ("DeleteServerCertificate", on.to_owned()),
        (
            "UpdateServerCertificate",
            format!("{on}&NewServerCertificateName=sc{{N}}b"),
        ),
        ("ListServerCertificateTags", on.to_owned()),
        (
            "TagServerCertificate",
            format!("{on}&Tags.member.1.Key=x&Tags.member.1.Value=y"),
        ),
        ("UntagServerCertificate", format!("{on}&TagKeys.member.1=x")),
    ]
}

/// A service-specific credential id no credential has.
const NO_CREDENTIAL: &str = "ServiceSpecificCredentialId=ACCANOSUCHCREDENTIAL7";

/// A serial number no device has.
const NO_DEVICE: &str = "SerialNumber=arn:aws:iam::123456789012:mfa/no-such-device";
/// Two authentication codes, of the right shape.
const TWO_CODES: &str = "AuthenticationCode1=123456&AuthenticationCode2=234567";

/// Operations on one virtual MFA device (`d{N}`), after `Action=OP&`.
fn mfa_device_requests() -> Vec<(&'static str, String)> {
    let on = format!("SerialNumber=arn:aws:iam::{ACCOUNT}:mfa/d{{N}}");
    vec![
        ("DeleteVirtualMFADevice", on.clone()),
        ("ListMFADeviceTags", on.clone()),
        (
            "TagMFADevice",
            format!("{on}&Tags.member.1.Key=x&Tags.member.1.Value=y"),
        ),
        ("UntagMFADevice", format!("{on}&TagKeys.member.1=x")),
    ]
}

/// Operations on one OIDC provider (`https://idp{N}.example.com`), after `Action=OP&`.
fn oidc_provider_requests() -> Vec<(&'static str, String)> {
    let on = format!("OpenIDConnectProviderArn=arn:aws:iam::{ACCOUNT}:oidc-provider/idp{{N}}.example.com");
    vec![
        ("AddClientIDToOpenIDConnectProvider", format!("{on}&ClientID=app")),
        ("DeleteOpenIDConnectProvider", on.clone()),
        ("GetOpenIDConnectProvider", on.clone()),
        ("ListOpenIDConnectProviderTags", on.clone()),
        ("RemoveClientIDFromOpenIDConnectProvider", format!("{on}&ClientID=app")),
        (
            "TagOpenIDConnectProvider",
            format!("{on}&Tags.member.1.Key=x&Tags.member.1.Value=y"),
        ),
        ("UntagOpenIDConnectProvider", format!("{on}&TagKeys.member.1=x")),
        (
            "UpdateOpenIDConnectProviderThumbprint",
            format!("{on}&ThumbprintList.member.1={}", "a".repeat(40)),
        ),
    ]
}

fn policy_requests() -> Vec<(&'static str, String)> {
    let arn = format!("arn:aws:iam::{ACCOUNT}:policy/p{{N}}");
    vec![
        (
            "CreatePolicyVersion",
            format!("PolicyArn={arn}&PolicyDocument={}", doc()),
        ),
        ("DeletePolicy", format!("PolicyArn={arn}")),
        ("DeletePolicyVersion", format!("PolicyArn={arn}&VersionId=v9")),
        ("GenerateServiceLastAccessedDetails", format!("Arn={arn}")),
        ("GetPolicy", format!("PolicyArn={arn}")),
        ("GetPolicyVersion", format!("PolicyArn={arn}&VersionId=v1")),
        ("ListEntitiesForPolicy", format!("PolicyArn={arn}")),
        ("ListPolicyTags", format!("PolicyArn={arn}")),
        ("ListPolicyVersions", format!("PolicyArn={arn}")),
        ("SetDefaultPolicyVersion", format!("PolicyArn={arn}&VersionId=v1")),
        (
            "TagPolicy",
            format!("PolicyArn={arn}&Tags.member.1.Key=x&Tags.member.1.Value=y"),
        ),
        ("UntagPolicy", format!("PolicyArn={arn}&TagKeys.member.1=x")),
    ]
}

fn iam_row(
    operation: &'static str,
    key: &str,
    setup: &[String],
    rest: &str,
    values: (&'static str, &'static str),
) -> Row {
    Row {
        service: "iam",
        operation,
        key: key.to_owned(),
        setup: setup.to_vec(),
        request: format!("Action={operation}&Version=2010-05-08&{rest}"),
        matching: values.0,
        other: values.1,
        cleanup: Vec::new(),
    }
}

/// Server certificate `sc{N}` (or `sc{N}b`, renamed) goes after the request: the table
/// uploads more than the account's quota of 20.
fn removing_server_certificate(row: Row) -> Row {
    Row {
        cleanup: ["sc{N}", "sc{N}b"]
            .map(|name| format!("Action=DeleteServerCertificate&ServerCertificateName={name}"))
            .to_vec(),
        ..row
    }
}

fn rows() -> Vec<Row> {
    let tags = ("red", "blue");
    let boundaries = (ADMIN, READ_ONLY);
    let user_key = "Action=CreateAccessKey&UserName=u{N}".to_owned();
    let mut rows = Vec::new();
    let supports = |service: &str, op: &str, key: &str| {
        let s = oxiam_catalogue::service(service).unwrap();
        s.action(op).unwrap().supports_key(key)
    };

    // The target's tags, and its current permissions boundary.
    for (op, rest) in user_requests() {
        for key in ["aws:ResourceTag/team", "iam:ResourceTag/team"] {
            let setup = [USER_TAGGED.to_owned(), user_key.clone()];
            rows.push(iam_row(op, key, &setup, &rest, tags));
        }
        if supports("iam", op, "iam:PermissionsBoundary") && !rest.contains("PermissionsBoundary=") {
            let setup = [USER_BOUNDED.to_owned(), user_key.clone()];
            rows.push(iam_row(op, "iam:PermissionsBoundary", &setup, &rest, boundaries));
        }
    }
    for (op, rest) in role_requests() {
        for key in ["aws:ResourceTag/team", "iam:ResourceTag/team"] {
            rows.push(iam_row(op, key, &[role_tagged()], &rest, tags));
        }
        if supports("iam", op, "iam:PermissionsBoundary") && !rest.contains("PermissionsBoundary=") {
            rows.push(iam_row(
                op,
                "iam:PermissionsBoundary",
                &[role_bounded()],
                &rest,
                boundaries,
            ));
        }
    }
    for (op, rest) in policy_requests() {
        rows.push(iam_row(op, "aws:ResourceTag/team", &[policy_tagged()], &rest, tags));
    }
    let role = format!("Action=CreateRole&RoleName=r{{N}}&AssumeRolePolicyDocument={}", trust());
    let profile_tagged =
        "Action=CreateInstanceProfile&InstanceProfileName=ip{N}&Tags.member.1.Key=team&Tags.member.1.Value={V}";
    for (op, holding, rest) in instance_profile_requests() {
        let mut setup = vec![profile_tagged.to_owned(), role.clone()];
        if holding {
            setup.push("Action=AddRoleToInstanceProfile&InstanceProfileName=ip{N}&RoleName=r{N}".to_owned());
        }
        rows.push(iam_row(op, "aws:ResourceTag/team", &setup, &rest, tags));
    }
    let provider_tagged = "Action=CreateOpenIDConnectProvider&Url=https://idp{N}.example.com&Tags.member.1.Key=team&Tags.member.1.Value={V}";
    for (op, rest) in oidc_provider_requests() {
        rows.push(iam_row(
            op,
            "aws:ResourceTag/team",
            &[provider_tagged.to_owned()],
            &rest,
            tags,
        ));
    }
    let device_tagged =
        "Action=CreateVirtualMFADevice&VirtualMFADeviceName=d{N}&Tags.member.1.Key=team&Tags.member.1.Value={V}";
    for (op, rest) in mfa_device_requests() {
        rows.push(iam_row(
            op,
            "aws:ResourceTag/team",
            &[device_tagged.to_owned()],
            &rest,
            tags,
        ));
    }
    let saml_tagged = format!(
        "Action=CreateSAMLProvider&{}&Tags.member.1.Key=team&Tags.member.1.Value={{V}}",
        saml_provider()
    );
    for (op, rest) in saml_provider_requests() {
        rows.push(iam_row(
            op,
            "aws:ResourceTag/team",
            std::slice::from_ref(&saml_tagged),
            &rest,
            tags,
        ));
    }
    let certificate_tagged = format!(
        "Action=UploadServerCertificate&{}&Tags.member.1.Key=team&Tags.member.1.Value={{V}}",
        server_certificate()
    );
    for (op, rest) in server_certificate_requests() {
        rows.push(iam_row(
            op,
            "aws:ResourceTag/team",
            std::slice::from_ref(&certificate_tagged),
            &rest,
            tags,
        ));
    }
    // A service-linked role (AutoScaling's takes a suffix, so each row makes its own): its
    // service, named by the request; its tags, read when it is deleted.
    rows.push(iam_row(
        "CreateServiceLinkedRole",
        "iam:AWSServiceName",
        &[],
        "AWSServiceName={V}&CustomSuffix=k{N}",
        ("autoscaling.amazonaws.com", "lexv2.amazonaws.com"),
    ));
    let linked_role = "AWSServiceRoleForAutoScaling_k{N}";
    let linked_tagged = [
        "Action=CreateServiceLinkedRole&AWSServiceName=autoscaling.amazonaws.com&CustomSuffix=k{N}".to_owned(),
        format!("Action=TagRole&RoleName={linked_role}&Tags.member.1.Key=team&Tags.member.1.Value={{V}}"),
    ];
    for key in ["aws:ResourceTag/team", "iam:ResourceTag/team"] {
        rows.push(iam_row(
            "DeleteServiceLinkedRole",
            key,
            &linked_tagged,
            &format!("RoleName={linked_role}"),
            tags,
        ));
    }
    // ListInstanceProfilesForRole acts on the role.
    for key in ["aws:ResourceTag/team", "iam:ResourceTag/team"] {
        rows.push(iam_row(
            "ListInstanceProfilesForRole",
            key,
            &[role_tagged()],
            "RoleName=r{N}",
            tags,
        ));
    }

    // Keys from the request itself.
    let user = "Action=CreateUser&UserName=u{N}".to_owned();
    let group = "Action=CreateGroup&GroupName=g{N}".to_owned();
    let policy = format!("Action=CreatePolicy&PolicyName=p{{N}}&PolicyDocument={}", doc());
    let policy_arn = format!("arn:aws:iam::{ACCOUNT}:policy/p{{N}}");
    let tag = "Tags.member.1.Key={V}&Tags.member.1.Value=v";
    let tag_value = "Tags.member.1.Key=team&Tags.member.1.Value={V}";
    for (op, setup, rest) in [
        ("CreateUser", vec![], "UserName=u{N}".to_owned()),
        ("TagUser", vec![user.clone()], "UserName=u{N}".to_owned()),
        (
            "CreateRole",
            vec![],
            format!("RoleName=r{{N}}&AssumeRolePolicyDocument={}", trust()),
        ),
        ("TagRole", vec![role.clone()], "RoleName=r{N}".to_owned()),
        (
            "CreatePolicy",
            vec![],
            format!("PolicyName=p{{N}}&PolicyDocument={}", doc()),
        ),
        ("TagPolicy", vec![policy.clone()], format!("PolicyArn={policy_arn}")),
        ("CreateInstanceProfile", vec![], "InstanceProfileName=ip{N}".to_owned()),
        (
            "CreateOpenIDConnectProvider",
            vec![],
            "Url=https://idp{N}.example.com".to_owned(),
        ),
        (
            "TagOpenIDConnectProvider",
            vec!["Action=CreateOpenIDConnectProvider&Url=https://idp{N}.example.com".to_owned()],
            format!("OpenIDConnectProviderArn=arn:aws:iam::{ACCOUNT}:oidc-provider/idp{{N}}.example.com"),
        ),
        (
            "TagInstanceProfile",
            vec!["Action=CreateInstanceProfile&InstanceProfileName=ip{N}".to_owned()],
            "InstanceProfileName=ip{N}".to_owned(),
        ),
        ("CreateVirtualMFADevice", vec![], "VirtualMFADeviceName=d{N}".to_owned()),
        ("UploadServerCertificate", vec![], server_certificate()),
        ("CreateSAMLProvider", vec![], saml_provider()),
        (
            "TagSAMLProvider",
            vec![format!("Action=CreateSAMLProvider&{}", saml_provider())],
            format!("SAMLProviderArn=arn:aws:iam::{ACCOUNT}:saml-provider/sp{{N}}"),
        ),
        (
            "TagServerCertificate",
            vec![format!("Action=UploadServerCertificate&{}", server_certificate())],
            "ServerCertificateName=sc{N}".to_owned(),
        ),
        (
            "TagMFADevice",
            vec!["Action=CreateVirtualMFADevice&VirtualMFADeviceName=d{N}".to_owned()],
            format!("SerialNumber=arn:aws:iam::{ACCOUNT}:mfa/d{{N}}"),
        ),
    ] {
        rows.push(iam_row(
            op,
            "aws:TagKeys",
            &setup,
            &format!("{rest}&{tag}"),
            ("admin", "team"),
        ));
        rows.push(iam_row(
            op,
            "aws:RequestTag/team",
            &setup,
            &format!("{rest}&{tag_value}"),
            tags,
        ));
    }
    for (op, setup, rest) in [
        ("UntagUser", user.clone(), "UserName=u{N}".to_owned()),
        ("UntagRole", role.clone(), "RoleName=r{N}".to_owned()),
        ("UntagPolicy", policy.clone(), format!("PolicyArn={policy_arn}")),
        (
            "UntagOpenIDConnectProvider",
            "Action=CreateOpenIDConnectProvider&Url=https://idp{N}.example.com".to_owned(),
            format!("OpenIDConnectProviderArn=arn:aws:iam::{ACCOUNT}:oidc-provider/idp{{N}}.example.com"),
        ),
        (
            "UntagInstanceProfile",
            "Action=CreateInstanceProfile&InstanceProfileName=ip{N}".to_owned(),
            "InstanceProfileName=ip{N}".to_owned(),
        ),
        (
            "UntagMFADevice",
            "Action=CreateVirtualMFADevice&VirtualMFADeviceName=d{N}".to_owned(),
            format!("SerialNumber=arn:aws:iam::{ACCOUNT}:mfa/d{{N}}"),
        ),
        (
            "UntagServerCertificate",
            format!("Action=UploadServerCertificate&{}", server_certificate()),
            "ServerCertificateName=sc{N}".to_owned(),
        ),
        (
            "UntagSAMLProvider",
            format!("Action=CreateSAMLProvider&{}", saml_provider()),
            format!("SAMLProviderArn=arn:aws:iam::{ACCOUNT}:saml-provider/sp{{N}}"),
        ),
    ] {
        rows.push(iam_row(
            op,
            "aws:TagKeys",
            &[setup],
            &format!("{rest}&TagKeys.member.1={{V}}"),
            ("admin", "team"),
        ));
    }
    // A service-specific credential's service: named by Create, read from the credential
    // (`{C}`) by the others.
    let services = ("codecommit.amazonaws.com", "cassandra.amazonaws.com");
    rows.push(iam_row(
        "CreateServiceSpecificCredential",
        "iam:ServiceSpecificCredentialServiceName",
        std::slice::from_ref(&user),
        "UserName=u{N}&ServiceName={V}",
        services,
    ));
    rows.push(iam_row(
        "CreateServiceSpecificCredential",
        "iam:ServiceSpecificCredentialAgeDays",
        std::slice::from_ref(&user),
        "UserName=u{N}&ServiceName=bedrock.amazonaws.com&CredentialAgeDays={V}",
        ("30", "60"),
    ));
    let credential = "Action=CreateServiceSpecificCredential&UserName=u{N}&ServiceName={V}".to_owned();
    for (op, rest) in [
        (
            "ResetServiceSpecificCredential",
            "UserName=u{N}&ServiceSpecificCredentialId={C}",
        ),
        (
            "UpdateServiceSpecificCredential",
            "UserName=u{N}&ServiceSpecificCredentialId={C}&Status=Inactive",
        ),
        (
            "DeleteServiceSpecificCredential",
            "UserName=u{N}&ServiceSpecificCredentialId={C}",
        ),
    ] {
        rows.push(iam_row(
            op,
            "iam:ServiceSpecificCredentialServiceName",
            &[user.clone(), credential.clone()],
            rest,
            services,
        ));
    }
    for (op, setup, rest) in [
        ("AttachUserPolicy", user.clone(), "UserName=u{N}"),
        ("DetachUserPolicy", user.clone(), "UserName=u{N}"),
        ("AttachRolePolicy", role.clone(), "RoleName=r{N}"),
        ("DetachRolePolicy", role.clone(), "RoleName=r{N}"),
        ("AttachGroupPolicy", group.clone(), "GroupName=g{N}"),
        ("DetachGroupPolicy", group.clone(), "GroupName=g{N}"),
    ] {
        rows.push(iam_row(
            op,
            "iam:PolicyARN",
            &[setup],
            &format!("{rest}&PolicyArn={{V}}"),
            boundaries,
        ));
    }
    for (op, setup, rest) in [
        ("CreateUser", vec![], "UserName=u{N}".to_owned()),
        (
            "CreateRole",
            vec![],
            format!("RoleName=r{{N}}&AssumeRolePolicyDocument={}", trust()),
        ),
        (
            "PutUserPermissionsBoundary",
            vec![user.clone()],
            "UserName=u{N}".to_owned(),
        ),
        (
            "PutRolePermissionsBoundary",
            vec![role.clone()],
            "RoleName=r{N}".to_owned(),
        ),
    ] {
        rows.push(iam_row(
            op,
            "iam:PermissionsBoundary",
            &setup,
            &format!("{rest}&PermissionsBoundary={{V}}"),
            boundaries,
        ));
    }

    // STS: AssumeRole's own keys, its tags, and the role's tags.
    let assume = |key: &str, setup: String, rest: &str, values: (&'static str, &'static str)| Row {
        service: "sts",
        operation: "AssumeRole",
        key: key.to_owned(),
        setup: vec![setup],
        request: format!(
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::{ACCOUNT}:role/r{{N}}&RoleSessionName=s{{N}}&{rest}"
        ),
        matching: values.0,
        other: values.1,
        cleanup: Vec::new(),
    };
    for key in ["aws:ResourceTag/team", "iam:ResourceTag/team"] {
        rows.push(assume(key, role_tagged(), "DurationSeconds=900", tags));
    }
    rows.push(Row {
        request: format!(
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::{ACCOUNT}:role/r{{N}}&RoleSessionName={{V}}"
        ),
        ..assume(
            "sts:RoleSessionName",
            role.clone(),
            "",
            ("admin-session", "plain-session"),
        )
    });
    rows.push(assume(
        "sts:ExternalId",
        role.clone(),
        "ExternalId={V}",
        ("secret-1", "secret-2"),
    ));
    rows.push(assume(
        "sts:SourceIdentity",
        role.clone(),
        "SourceIdentity={V}",
        ("alice", "bob"),
    ));
    rows.push(assume(
        "sts:TransitiveTagKeys",
        role.clone(),
        "Tags.member.1.Key={V}&Tags.member.1.Value=v&TransitiveTagKeys.member.1={V}",
        ("admin", "team"),
    ));
    rows.push(assume(
        "aws:TagKeys",
        role.clone(),
        "Tags.member.1.Key={V}&Tags.member.1.Value=v",
        ("admin", "team"),
    ));
    rows.push(assume("aws:RequestTag/team", role.clone(), tag_value, tags));
    // STS: GetFederationToken's session tags.
    let federation = |key: &str, rest: &str, values: (&'static str, &'static str)| Row {
        service: "sts",
        operation: "GetFederationToken",
        key: key.to_owned(),
        setup: Vec::new(),
        request: format!("Action=GetFederationToken&Version=2011-06-15&Name=f{{N}}&{rest}"),
        matching: values.0,
        other: values.1,
        cleanup: Vec::new(),
    };
    rows.push(federation("aws:RequestTag/team", tag_value, tags));
    rows.push(federation(
        "aws:TagKeys",
        "Tags.member.1.Key={V}&Tags.member.1.Value=v",
        ("admin", "team"),
    ));
    // Delegation requests: CreateDelegationRequest's template, channel and duration (the
    // account's own templates, made and removed around each request), and
    // ListDelegationRequests' owner.
    let template = url(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::@{bucket}/*"}]}"#,
    );
    let templates: Vec<String> = ["delegation-a", "delegation-b"]
        .iter()
        .map(|name| format!("Action=CreatePolicy&PolicyName={name}{{N}}&PolicyDocument={template}"))
        .collect();
    let template_arn =
        |name: &str| -> &'static str { Box::leak(format!("arn:aws:iam::{ACCOUNT}:policy/{name}").into_boxed_str()) };
    let delegation = |key: &str, asked: &[(&str, &str)], values: (&'static str, &'static str)| {
        let mut members = vec![
            ("Description", "d".to_owned()),
            (
                "Permissions.PolicyTemplateArn",
                template_arn("delegation-a{N}").to_owned(),
            ),
            ("Permissions.Parameters.member.1.Name", "bucket".to_owned()),
            ("Permissions.Parameters.member.1.Values.member.1", "b".to_owned()),
            ("Permissions.Parameters.member.1.Type", "string".to_owned()),
            ("RequestorWorkflowId", "workflow-{N}".to_owned()),
            (
                "NotificationChannel",
                "arn:aws:sns:us-east-1:111122223333:topic".to_owned(),
            ),
            ("SessionDuration", "3600".to_owned()),
        ];
        for (member, value) in asked {
            members.retain(|(m, _)| m != member);
            members.push((member, (*value).to_owned()));
        }
        let rest: Vec<String> = members.iter().map(|(m, v)| format!("{m}={v}")).collect();
        Row {
            cleanup: ["delegation-a{N}", "delegation-b{N}"]
                .map(|name| format!("Action=DeletePolicy&PolicyArn=arn:aws:iam::{ACCOUNT}:policy/{name}"))
                .to_vec(),
            ..iam_row("CreateDelegationRequest", key, &templates, &rest.join("&"), values)
        }
    };
    rows.push(delegation(
        "iam:TemplateArn",
        &[("Permissions.PolicyTemplateArn", "{V}")],
        (template_arn("delegation-a{N}"), template_arn("delegation-b{N}")),
    ));
    rows.push(delegation(
        "iam:NotificationChannel",
        &[("NotificationChannel", "{V}")],
        (
            "arn:aws:sns:us-east-1:111122223333:a",
            "arn:aws:sns:us-east-1:111122223333:b",
        ),
    ));
    rows.push(delegation(
        "iam:DelegationDuration",
        &[("SessionDuration", "{V}")],
        ("3600", "7200"),
    ));
    rows.push(iam_row(
        "ListDelegationRequests",
        "iam:DelegationRequestOwner",
        &[],
        "OwnerId={V}",
        (
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:iam::111122223333:user/bob",
        ),
    ));
    rows.into_iter()
        .map(|row| {
            if row.operation.contains("ServerCertificate") {
                removing_server_certificate(row)
            } else {
                row
            }
        })
        .collect()
}

/// The deny under test: everything is allowed but `action` when `key` is `value`.
fn policy(action: &str, key: &str, value: &str, multivalued: bool) -> String {
    let operator = if multivalued {
        "ForAnyValue:StringEquals"
    } else {
        "StringEquals"
    };
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*"}},{{"Sid":"DenyUnderTest","Effect":"Deny","Action":"{action}","Resource":"*","Condition":{{"{operator}":{{"{key}":"{value}"}}}}}}]}}"#
    )
}

static SERIAL: AtomicUsize = AtomicUsize::new(0);

async fn root(server: &TestServer, body: &str) -> Reply {
    let service = if body.contains("Version=2011-06-15") {
        "sts"
    } else {
        "iam"
    };
    let body = if body.contains("Version=") {
        body.to_owned()
    } else {
        format!("{body}&Version=2010-05-08")
    };
    call(server, &body, service).await
}

/// Sets the row up with `value`, then sends its request as the caller.
async fn run(server: &TestServer, caller: (&str, &str), row: &Row, value: &str) -> Reply {
    let n = SERIAL.fetch_add(1, Ordering::Relaxed).to_string();
    let encoded = url(value);
    let mut key_id = "AKIAIOSFODNN7NOTREAL".to_owned();
    let mut credential_id = "ACCANOSUCHCREDENTIAL7".to_owned();
    for step in &row.setup {
        let reply = root(server, &step.replace("{N}", &n).replace("{V}", &encoded)).await;
        assert_eq!(
            reply.status, 200,
            "setup of {} {}: {step}: {}",
            row.operation, row.key, reply.body
        );
        if let Some(id) = reply
            .body
            .split("<AccessKeyId>")
            .nth(1)
            .and_then(|s| s.split('<').next())
        {
            key_id = id.to_owned();
        }
        if let Some(id) = reply
            .body
            .split("<ServiceSpecificCredentialId>")
            .nth(1)
            .and_then(|s| s.split('<').next())
        {
            credential_id = id.to_owned();
        }
    }
    let request = row
        .request
        .replace("{N}", &n)
        .replace("{V}", &encoded)
        .replace("{K}", &key_id)
        .replace("{C}", &credential_id);
    let reply = call_as(server, caller.0, caller.1, &request, row.service).await;
    for step in &row.cleanup {
        root(server, &step.replace("{N}", &n)).await;
    }
    reply
}

/// A user whose only policy is `document`, and its access key.
async fn user_with_policy(server: &TestServer, name: &str, document: &str) -> (String, String) {
    let iam = server.root_iam();
    iam.create_user().user_name(name).send().await.unwrap();
    put_policy(server, name, document).await;
    let key = iam.create_access_key().user_name(name).send().await.unwrap();
    let key = key.access_key().unwrap();
    (key.access_key_id().to_owned(), key.secret_access_key().to_owned())
}

async fn put_policy(server: &TestServer, name: &str, document: &str) {
    server
        .root_iam()
        .put_user_policy()
        .user_name(name)
        .policy_name("under-test")
        .policy_document(document)
        .send()
        .await
        .unwrap();
}

/// Every (served operation, catalogue key) pair is tested by a row or listed as not carried.
#[test]
fn every_key_of_every_served_operation_has_a_row() {
    let rows = rows();
    let mut missing = BTreeSet::new();
    let served = oxiam_core::iam::IMPLEMENTED
        .iter()
        .map(|op| ("iam", op.name()))
        .chain(oxiam_core::sts::IMPLEMENTED.iter().map(|op| ("sts", op.name())))
        .filter(|(service, op)| {
            let action = format!("{service}:{op}");
            !oxiam_core::authz::NO_PERMISSION_REQUIRED.contains(&action.as_str())
                && !oxiam_core::access::AUTHORIZED_AS_THE_ACTIONS_THEY_TAKE.contains(&action.as_str())
                && !oxiam_core::access::MISSING_FROM_THE_REFERENCE.contains(&action.as_str())
        });
    for (service_name, op) in served {
        let service = oxiam_catalogue::service(service_name).unwrap();
        let action = service
            .action(op)
            .unwrap_or_else(|| panic!("{service_name}:{op} is not in the catalogue"));
        for &pattern in action.all_condition_keys() {
            let tested = rows
                .iter()
                .any(|r| r.operation == op && oxiam_catalogue::key_matches(pattern, &r.key));
            let excused = NOT_CARRIED
                .iter()
                .any(|(o, k, _)| (*o == "*" || *o == op) && *k == pattern)
                || TESTED_ON_THEIR_OWN.iter().any(|(o, _)| *o == op);
            if !tested && !excused {
                missing.insert(format!("{service_name}:{op} {pattern}"));
            }
        }
    }
    assert!(missing.is_empty(), "keys with no row and no reason: {missing:#?}");
    // And every row tests a key its action really lists.
    for r in &rows {
        let service = oxiam_catalogue::service(r.service).unwrap();
        assert!(
            service.action(r.operation).unwrap().supports_key(&r.key),
            "{}:{} does not list {}",
            r.service,
            r.operation,
            r.key
        );
    }
}

async fn a_deny_on_each_key_blocks_only_its_value(server: &TestServer) {
    let caller = user_with_policy(server, "subject", &policy("iam:NoSuchAction", "aws:TagKeys", "x", true)).await;
    let mut failures = Vec::new();
    for row in rows() {
        let service = oxiam_catalogue::service(row.service).unwrap();
        let multivalued = service
            .condition_key(&row.key)
            .is_some_and(|k| k.key_type.is_multivalued());
        let action = format!("{}:{}", row.service, row.operation);
        put_policy(server, "subject", &policy(&action, &row.key, row.matching, multivalued)).await;

        let denied = run(server, (&caller.0, &caller.1), &row, row.matching).await;
        // IAM names the explicit deny; STS's AssumeRole denial gives no reason, as in AWS
        // (the request with the other value going through shows the deny is what refused).
        let names_the_deny = row.service == "sts" || denied.message().contains("with an explicit deny");
        if denied.status != 403 || denied.code() != "AccessDenied" || !names_the_deny {
            failures.push(format!(
                "{action} with {}={}: not refused: {} {}",
                row.key, row.matching, denied.status, denied.body
            ));
        }
        let other = run(server, (&caller.0, &caller.1), &row, row.other).await;
        if other.status == 403 || other.code() == "AccessDenied" {
            failures.push(format!(
                "{action} with {}={}: refused: {}",
                row.key, row.other, other.body
            ));
        }
        // NotImplemented would mean the operation is not served after all.
        if other.code() == "NotImplemented" {
            failures.push(format!("{action}: {}", other.body));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The escalation found by trying: one user allowed to attach policies, create and tag
/// users and set boundaries, denied each dangerous variant by a condition key.
async fn the_escalations_are_refused(server: &TestServer) {
    let document = format!(
        r#"{{"Version":"2012-10-17","Statement":[
        {{"Effect":"Allow","Action":["iam:AttachUserPolicy","iam:CreateUser","iam:TagUser","iam:PutUserPermissionsBoundary"],"Resource":"*"}},
        {{"Sid":"NoAdminPolicy","Effect":"Deny","Action":"iam:AttachUserPolicy","Resource":"*","Condition":{{"ArnEquals":{{"iam:PolicyARN":"{ADMIN}"}}}}}},
        {{"Sid":"NoAdminTag","Effect":"Deny","Action":["iam:CreateUser","iam:TagUser"],"Resource":"*","Condition":{{"ForAnyValue:StringEquals":{{"aws:TagKeys":"admin"}}}}}},
        {{"Sid":"NoAdminBoundary","Effect":"Deny","Action":"iam:PutUserPermissionsBoundary","Resource":"*","Condition":{{"ArnEquals":{{"iam:PermissionsBoundary":"{ADMIN}"}}}}}}]}}"#
    );
    let (key, secret) = user_with_policy(server, "u", &document).await;
    let u = server.iam_as(&key, &secret, "us-east-1");
    let admin_tag = aws_sdk_iam::types::Tag::builder()
        .key("admin")
        .value("yes")
        .build()
        .unwrap();
    let explicit = |m: String| {
        assert!(m.contains("with an explicit deny in an identity-based policy"), "{m}");
    };

    let e = u
        .attach_user_policy()
        .user_name("u")
        .policy_arn(ADMIN)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    explicit(message(&e));
    let e = u
        .create_user()
        .user_name("v")
        .tags(admin_tag.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    explicit(message(&e));
    let e = u.tag_user().user_name("u").tags(admin_tag).send().await.unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    explicit(message(&e));
    let e = u
        .put_user_permissions_boundary()
        .user_name("u")
        .permissions_boundary(ADMIN)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    explicit(message(&e));

    // The same calls without the dangerous value go through.
    u.attach_user_policy()
        .user_name("u")
        .policy_arn(READ_ONLY)
        .send()
        .await
        .unwrap();
    let team = aws_sdk_iam::types::Tag::builder()
        .key("team")
        .value("a")
        .build()
        .unwrap();
    u.create_user().user_name("v").tags(team.clone()).send().await.unwrap();
    u.tag_user().user_name("v").tags(team).send().await.unwrap();
    u.put_user_permissions_boundary()
        .user_name("v")
        .permissions_boundary(READ_ONLY)
        .send()
        .await
        .unwrap();
    // And nothing of the refused ones happened.
    let attached = server
        .root_iam()
        .list_attached_user_policies()
        .user_name("u")
        .send()
        .await
        .unwrap();
    let arns: Vec<_> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    assert_eq!(arns, [READ_ONLY]);
}

/// AWS's delegation pattern: an administrator may create users only with a given boundary,
/// and manage only users that have it (`iam:PermissionsBoundary` on the user acted on).
async fn delegation_by_boundary_holds(server: &TestServer) {
    let document = format!(
        r#"{{"Version":"2012-10-17","Statement":[
        {{"Effect":"Allow","Action":["iam:CreateUser","iam:PutUserPolicy","iam:AttachUserPolicy"],"Resource":"*","Condition":{{"StringEquals":{{"iam:PermissionsBoundary":"{READ_ONLY}"}}}}}}]}}"#
    );
    let (key, secret) = user_with_policy(server, "delegate", &document).await;
    let d = server.iam_as(&key, &secret, "us-east-1");
    assert_eq!(
        code(&d.create_user().user_name("free").send().await.unwrap_err()),
        "AccessDenied"
    );
    d.create_user()
        .user_name("bounded")
        .permissions_boundary(READ_ONLY)
        .send()
        .await
        .unwrap();
    d.attach_user_policy()
        .user_name("bounded")
        .policy_arn(READ_ONLY)
        .send()
        .await
        .unwrap();
    server
        .root_iam()
        .create_user()
        .user_name("unbounded")
        .send()
        .await
        .unwrap();
    let e = d
        .attach_user_policy()
        .user_name("unbounded")
        .policy_arn(ADMIN)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
}

/// A rename or a move needs permission where the entity goes too: a user allowed to manage
/// itself cannot move itself under /admins/ or take another name (UpdateUser's API
/// reference: "permission on both the source object and the target object").
async fn moving_needs_permission_at_the_destination(server: &TestServer) {
    let document = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::*:user/${aws:username}"}]}"#;
    let (key, secret) = user_with_policy(server, "me", document).await;
    let me = server.iam_as(&key, &secret, "us-east-1");
    me.get_user().user_name("me").send().await.unwrap();
    let e = me
        .update_user()
        .user_name("me")
        .new_path("/admins/")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    assert!(
        message(&e).contains(&format!("on resource: arn:aws:iam::{ACCOUNT}:user/admins/me ")),
        "{}",
        message(&e)
    );
    let e = me
        .update_user()
        .user_name("me")
        .new_user_name("ceo")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    let user = server.root_iam().get_user().user_name("me").send().await.unwrap();
    assert_eq!(user.user().unwrap().path(), "/", "nothing moved");

    // An explicit Deny on the destination holds against an allow everywhere.
    put_policy(
        server,
        "me",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"},
        {"Effect":"Deny","Action":"iam:*","Resource":["arn:aws:iam::*:user/admins/*","arn:aws:iam::*:group/admins/*"]}]}"#,
    )
    .await;
    server.root_iam().create_user().user_name("other").send().await.unwrap();
    let e = me
        .update_user()
        .user_name("other")
        .new_path("/admins/")
        .send()
        .await
        .unwrap_err();
    assert!(message(&e).contains("with an explicit deny"), "{}", message(&e));
    me.update_user()
        .user_name("other")
        .new_path("/staff/")
        .send()
        .await
        .unwrap();
    server.root_iam().create_group().group_name("g").send().await.unwrap();
    let e = me
        .update_group()
        .group_name("g")
        .new_path("/admins/")
        .send()
        .await
        .unwrap_err();
    assert!(
        message(&e).contains("with an explicit deny"),
        "a group's move is checked too: {}",
        message(&e)
    );
    me.update_group()
        .group_name("g")
        .new_group_name("h")
        .send()
        .await
        .unwrap();
}

/// The simulator's CallerArn may name only an IAM user (its API reference): a role ARN is
/// refused, so it can never stand in for the principal being simulated.
async fn simulator_caller_arn_must_be_a_user(server: &TestServer) {
    let iam = server.root_iam();
    iam.create_user().user_name("simulated").send().await.unwrap();
    let e = iam
        .simulate_principal_policy()
        .policy_source_arn(format!("arn:aws:iam::{ACCOUNT}:user/simulated"))
        .caller_arn("arn:aws:iam::999999999999:role/x")
        .action_names("iam:GetUser")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidInput", "{}", message(&e));
    iam.simulate_principal_policy()
        .policy_source_arn(format!("arn:aws:iam::{ACCOUNT}:user/simulated"))
        .caller_arn(format!("arn:aws:iam::{ACCOUNT}:user/simulated"))
        .action_names("iam:GetUser")
        .send()
        .await
        .unwrap();
}

on_both_backends!(
    simulator_caller_arn_must_be_a_user,
    a_deny_on_each_key_blocks_only_its_value,
    the_escalations_are_refused,
    delegation_by_boundary_holds,
    moving_needs_permission_at_the_destination
);
