//! AWS Organizations with the AWS SDK for Rust, on a real server and both backends: an
//! organization, a member account made by CreateAccount and entered through its
//! OrganizationAccountAccessRole, OUs and SCPs, and the denials SCPs cause on the very next
//! request; the management account exempt; members kept out of the management operations;
//! an existing account invited and governed; the organization condition keys; each IAM
//! condition key of Organizations' actions denying; and the wire protocol's edges.

use crate::common;

use aws_sdk_organizations::types::{ChildType, HandshakeParty, HandshakePartyType, PolicyType};
use common::raw::call_json;
use common::{ACCOUNT, Backend, ROOT_KEY, ROOT_SECRET, TestServer, attached_policy};

const DENY_DELETE_BUCKET: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}"#;
const OTHER: &str = "210987654321";

fn org_code<E: aws_sdk_organizations::error::ProvideErrorMetadata, R>(
    e: &aws_sdk_organizations::error::SdkError<E, R>,
) -> String {
    e.as_service_error().and_then(|e| e.code()).unwrap_or("").to_owned()
}

fn org_message<E: aws_sdk_organizations::error::ProvideErrorMetadata, R>(
    e: &aws_sdk_organizations::error::SdkError<E, R>,
) -> String {
    e.as_service_error().and_then(|e| e.message()).unwrap_or("").to_owned()
}

fn s3_code<E: aws_sdk_s3::error::ProvideErrorMetadata, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> String {
    e.as_service_error().and_then(|e| e.code()).unwrap_or("").to_owned()
}

fn s3_message<E: aws_sdk_s3::error::ProvideErrorMetadata, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> String {
    e.as_service_error().and_then(|e| e.message()).unwrap_or("").to_owned()
}

async fn an_scp_denies_a_member_on_the_next_request_and_the_management_account_is_exempt(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (org_id, root_id, member) = s.organization_with_member().await;
    let orgs = s.root_organizations();
    let ou_id = s.move_into_new_ou(&root_id, &member, "production").await;
    let described = orgs.describe_account().account_id(&member).send().await.unwrap();
    assert_eq!(
        described.account().unwrap().paths(),
        [format!("{org_id}/{root_id}/{ou_id}/{member}/")]
    );

    let session = s.enter_member_account(&member).await;
    let s3 = s.s3_as_session(&session);
    for bucket in ["member-kept", "member-freed"] {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
    let policy = orgs
        .create_policy()
        .name("NoBucketDeletion")
        .description("")
        .r#type(PolicyType::ServiceControlPolicy)
        .content(DENY_DELETE_BUCKET)
        .send()
        .await
        .unwrap();
    let summary = policy.policy().unwrap().policy_summary().unwrap();
    let (policy_id, policy_arn) = (summary.id().unwrap().to_owned(), summary.arn().unwrap().to_owned());
    assert_eq!(
        policy_arn,
        format!("arn:aws:organizations::{ACCOUNT}:policy/{org_id}/service_control_policy/{policy_id}")
    );
    orgs.attach_policy()
        .policy_id(&policy_id)
        .target_id(&ou_id)
        .send()
        .await
        .unwrap();

    // The very next request of the member's administrator is refused, naming the SCP.
    let err = s3.delete_bucket().bucket("member-kept").send().await.unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
    assert!(
        s3_message(&err).ends_with(&format!(
            "with an explicit deny in a service control policy: {policy_arn}"
        )),
        "{}",
        s3_message(&err)
    );
    // The management account is not restricted, even with the SCP on the root.
    orgs.attach_policy()
        .policy_id(&policy_id)
        .target_id(&root_id)
        .send()
        .await
        .unwrap();
    let root_s3 = s.s3_as(ROOT_KEY, ROOT_SECRET, None);
    root_s3
        .create_bucket()
        .bucket("management-bucket")
        .send()
        .await
        .unwrap();
    root_s3
        .delete_bucket()
        .bucket("management-bucket")
        .send()
        .await
        .unwrap();
    // Detached from both levels: the next request goes through.
    for target in [&root_id, &ou_id] {
        orgs.detach_policy()
            .policy_id(&policy_id)
            .target_id(target)
            .send()
            .await
            .unwrap();
    }
    s3.delete_bucket().bucket("member-freed").send().await.unwrap();

    // A level with no Allow denies too: FullAWSAccess replaced by an SCP allowing only S3.
    attached_policy(
        &orgs,
        PolicyType::ServiceControlPolicy,
        "S3Only",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
        &member,
    )
    .await;
    orgs.detach_policy()
        .policy_id("p-FullAWSAccess")
        .target_id(&member)
        .send()
        .await
        .unwrap();
    let iam = s.iam_as_session(&session);
    let err = iam.create_user().user_name("nobody").send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDenied");
    assert!(
        common::message(&err).ends_with("because no service control policy allows the iam:CreateUser action")
            || common::message(&err).ends_with("with an explicit deny in a service control policy"),
        "{}",
        common::message(&err)
    );
    s3.delete_bucket().bucket("member-kept").send().await.unwrap();
    s.stop().await;
}

async fn members_are_kept_out_of_management_and_outsiders_see_no_organization(backend: Backend) {
    let s = TestServer::start_with_accounts(backend, &[OTHER], false).await;
    let other = &s.accounts[0];
    let outsider = s.organizations_as(&other.access_key_id, &other.secret_access_key.0, None);
    let err = outsider.describe_organization().send().await.unwrap_err();
    assert_eq!(org_code(&err), "AWSOrganizationsNotInUseException");

    let (org_id, root_id, member) = s.organization_with_member().await;
    let session = s.enter_member_account(&member).await;
    let inside = s.organizations_as_session(&session);
    let described = inside.describe_organization().send().await.unwrap();
    assert_eq!(described.organization().unwrap().id(), Some(org_id.as_str()));
    // Allowed by its IAM policy, refused by Organizations.
    for err in [
        org_code(&inside.list_accounts().send().await.unwrap_err()),
        org_code(&inside.list_roots().send().await.unwrap_err()),
        org_code(
            &inside
                .create_organizational_unit()
                .parent_id(&root_id)
                .name("mine")
                .send()
                .await
                .unwrap_err(),
        ),
    ] {
        assert_eq!(err, "AccessDeniedException");
    }
    let err = s.root_organizations().create_organization().send().await.unwrap_err();
    assert_eq!(org_code(&err), "AlreadyInOrganizationException");

    // An existing account is invited, accepts, and is governed from then on.
    let orgs = s.root_organizations();
    let invited = orgs
        .invite_account_to_organization()
        .target(
            HandshakeParty::builder()
                .id(OTHER)
                .r#type(HandshakePartyType::Account)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let handshake_id = invited.handshake().unwrap().id().unwrap().to_owned();
    let pending = outsider.list_handshakes_for_account().send().await.unwrap();
    assert_eq!(pending.handshakes()[0].id(), Some(handshake_id.as_str()));
    outsider
        .accept_handshake()
        .handshake_id(&handshake_id)
        .send()
        .await
        .unwrap();
    let accounts = orgs.list_accounts().send().await.unwrap();
    let ids: Vec<&str> = accounts.accounts().iter().filter_map(|a| a.id()).collect();
    assert_eq!(ids, [ACCOUNT, member.as_str(), OTHER]);
    // Paged one at a time, the same three.
    let mut paged = Vec::new();
    let mut token = None;
    loop {
        let page = orgs
            .list_accounts()
            .max_results(1)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        paged.extend(page.accounts().iter().filter_map(|a| a.id().map(str::to_owned)));
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(paged, ids);

    attached_policy(
        &orgs,
        PolicyType::ServiceControlPolicy,
        "NoUsers",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:CreateUser","Resource":"*"}]}"#,
        OTHER,
    )
    .await;
    // SCPs restrict a member account's root too.
    let other_iam = s.iam_as(&other.access_key_id, &other.secret_access_key.0, "us-east-1");
    let err = other_iam.create_user().user_name("blocked").send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDenied");
    assert!(
        common::message(&err).contains("service control policy"),
        "{}",
        common::message(&err)
    );
    // Once it leaves, the organization no longer governs it.
    orgs.remove_account_from_organization()
        .account_id(OTHER)
        .send()
        .await
        .unwrap();
    other_iam.create_user().user_name("free").send().await.unwrap();
    let err = outsider.describe_organization().send().await.unwrap_err();
    assert_eq!(org_code(&err), "AWSOrganizationsNotInUseException");
    let err = orgs
        .remove_account_from_organization()
        .account_id(ACCOUNT)
        .send()
        .await
        .unwrap_err();
    assert_eq!(org_code(&err), "MasterCannotLeaveOrganizationException");
    s.stop().await;
}

/// The data perimeter of AWS's SCP examples: a member may assume roles only inside its
/// organization (`aws:ResourceOrgID` of the role's account), and `aws:PrincipalOrgPaths`
/// is the path of the account's parent, matched exactly.
async fn an_scp_keeps_assumed_roles_inside_the_organization(backend: Backend) {
    let s = TestServer::start_with_accounts(backend, &[OTHER], false).await;
    let (org_id, root_id, member) = s.organization_with_member().await;
    let orgs = s.root_organizations();
    let second = s.create_member_account("second@example.com", "second").await;
    let session = s.enter_member_account(&member).await;
    let member_sts = s.sts_as_session(
        session.access_key_id(),
        session.secret_access_key(),
        session.session_token(),
    );
    // A role outside the organization that trusts the member account.
    let other = &s.accounts[0];
    s.iam_as(&other.access_key_id, &other.secret_access_key.0, "us-east-1")
        .create_role()
        .role_name("outside")
        .assume_role_policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{member}:root"}},"Action":"sts:AssumeRole"}}]}}"#
        ))
        .send()
        .await
        .unwrap();
    let perimeter = attached_policy(&orgs, PolicyType::ServiceControlPolicy, "RolesInside", format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"sts:AssumeRole","Resource":"*","Condition":{{"StringNotEqualsIfExists":{{"aws:ResourceOrgID":"{org_id}"}}}}}},{{"Effect":"Deny","Action":"iam:CreateGroup","Resource":"*","Condition":{{"StringEquals":{{"aws:PrincipalOrgPaths":"{org_id}/{root_id}/"}}}}}}]}}"#
        ), &member).await;
    let assume = |role_arn: String| {
        let sts = member_sts.clone();
        async move {
            sts.assume_role()
                .role_arn(role_arn)
                .role_session_name("hop")
                .send()
                .await
        }
    };
    // What decided each AssumeRole, from its record (AssumeRole's denial reads the same
    // whatever denied it, as AWS's does).
    let deciding_policy = || {
        let record = s
            .records
            .all()
            .into_iter()
            .rev()
            .find(|r| r.operation.as_deref() == Some("AssumeRole"))
            .unwrap();
        record
            .verdicts
            .iter()
            .filter_map(|v| v.statement.as_ref().map(|st| st.policy.clone()))
            .next_back()
            .unwrap_or_default()
    };
    // Inside: a role of another member account, which trusts the management account only:
    // its trust policy refuses, the SCP lets it be.
    assume(format!("arn:aws:iam::{second}:role/OrganizationAccountAccessRole"))
        .await
        .unwrap_err();
    assert!(!deciding_policy().contains(&perimeter), "{}", deciding_policy());
    // Outside: the trust policy allows, the SCP refuses.
    assume(format!("arn:aws:iam::{OTHER}:role/outside")).await.unwrap_err();
    assert!(deciding_policy().ends_with(&perimeter), "{}", deciding_policy());
    // The member sits directly under the root: its path is the root's, exactly.
    let err = s
        .iam_as_session(&session)
        .create_group()
        .group_name("blocked")
        .send()
        .await
        .unwrap_err();
    assert!(
        common::message(&err).contains("service control policy"),
        "{}",
        common::message(&err)
    );
    s.stop().await;
}

async fn organization_condition_keys_decide_across_accounts(backend: Backend) {
    let s = TestServer::start_with_accounts(backend, &[OTHER], false).await;
    let (org_id, root_id, member) = s.organization_with_member().await;
    let root_s3 = s.s3_as(ROOT_KEY, ROOT_SECRET, None);
    root_s3.create_bucket().bucket("org-shared").send().await.unwrap();
    // The bucket owner grants its whole organization, and nobody else.
    let grant = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::org-shared","Condition":{{"StringEquals":{{"aws:PrincipalOrgID":"{org_id}"}}}}}}]}}"#
    );
    root_s3
        .put_bucket_policy()
        .bucket("org-shared")
        .policy(grant)
        .send()
        .await
        .unwrap();
    let session = s.enter_member_account(&member).await;
    s.s3_as_session(&session)
        .list_objects_v2()
        .bucket("org-shared")
        .send()
        .await
        .unwrap();
    let other = &s.accounts[0];
    let outsider_s3 = s.s3_as(&other.access_key_id, &other.secret_access_key.0, None);
    let err = outsider_s3
        .list_objects_v2()
        .bucket("org-shared")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");

    // aws:PrincipalOrgPaths: a Deny on the OU's subtree, in the member's own role policy.
    let orgs = s.root_organizations();
    let ou = orgs
        .create_organizational_unit()
        .parent_id(&root_id)
        .name("sandbox")
        .send()
        .await
        .unwrap();
    let ou_id = ou.organizational_unit().unwrap().id().unwrap().to_owned();
    let member_iam = s.iam_as_session(&session);
    member_iam
        .put_role_policy()
        .role_name("OrganizationAccountAccessRole")
        .policy_name("sandboxed")
        .policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"iam:CreateGroup","Resource":"*","Condition":{{"ForAnyValue:StringLike":{{"aws:PrincipalOrgPaths":"{org_id}/{root_id}/{ou_id}/*"}}}}}}]}}"#
        ))
        .send()
        .await
        .unwrap();
    member_iam.create_group().group_name("before").send().await.unwrap();
    orgs.move_account()
        .account_id(&member)
        .source_parent_id(&root_id)
        .destination_parent_id(&ou_id)
        .send()
        .await
        .unwrap();
    let err = member_iam.create_group().group_name("after").send().await.unwrap_err();
    assert_eq!(common::code(&err), "AccessDenied");
    assert!(
        common::message(&err).contains("explicit deny in an identity-based policy"),
        "{}",
        common::message(&err)
    );
    s.stop().await;
}

async fn an_rcp_keeps_outsiders_from_a_members_data_whatever_the_bucket_allows(backend: Backend) {
    let s = TestServer::start_with_accounts(backend, &[OTHER], false).await;
    let (org_id, root_id, member) = s.organization_with_member().await;
    let orgs = s.root_organizations();
    let enabled = orgs
        .enable_policy_type()
        .root_id(&root_id)
        .policy_type(PolicyType::ResourceControlPolicy)
        .send()
        .await
        .unwrap();
    let types: Vec<&PolicyType> = enabled
        .root()
        .unwrap()
        .policy_types()
        .iter()
        .filter_map(|t| t.r#type())
        .collect();
    assert_eq!(
        types,
        [&PolicyType::ServiceControlPolicy, &PolicyType::ResourceControlPolicy]
    );

    let session = s.enter_member_account(&member).await;
    let s3 = s.s3_as_session(&session);
    s3.create_bucket().bucket("perimeter").send().await.unwrap();
    s3.put_object()
        .bucket("perimeter")
        .key("report")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"numbers"))
        .send()
        .await
        .unwrap();
    s3.put_bucket_policy()
        .bucket("perimeter")
        .policy(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::perimeter/*"}]}"#)
        .send()
        .await
        .unwrap();
    let other = &s.accounts[0];
    let outsider = s.s3_as(&other.access_key_id, &other.secret_access_key.0, None);
    outsider
        .get_object()
        .bucket("perimeter")
        .key("report")
        .send()
        .await
        .unwrap();

    let perimeter = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{{"StringNotEqualsIfExists":{{"aws:PrincipalOrgID":"{org_id}"}}}}}}]}}"#
    );
    let rcp = orgs
        .create_policy()
        .name("DataPerimeter")
        .description("")
        .r#type(PolicyType::ResourceControlPolicy)
        .content(perimeter)
        .send()
        .await
        .unwrap();
    let summary = rcp.policy().unwrap().policy_summary().unwrap();
    let (rcp_id, rcp_arn) = (summary.id().unwrap().to_owned(), summary.arn().unwrap().to_owned());
    orgs.attach_policy()
        .policy_id(&rcp_id)
        .target_id(&member)
        .send()
        .await
        .unwrap();
    let err = outsider
        .get_object()
        .bucket("perimeter")
        .key("report")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
    // A caller outside the organization is told no more (as AWS tells it); the record
    // says which policy decided.
    assert_eq!(s3_message(&err), "Access Denied");
    let refused = s
        .records
        .all()
        .into_iter()
        .rev()
        .find(|r| r.operation.as_deref() == Some("GetObject"))
        .unwrap();
    let deciding = refused.verdicts.last().unwrap().statement.clone().unwrap();
    assert_eq!(deciding.policy, rcp_arn);
    assert_eq!(deciding.condition_keys, ["aws:PrincipalOrgID"]);
    // Inside the organization, the same object is read.
    s3.get_object().bucket("perimeter").key("report").send().await.unwrap();

    // RCPs are Deny-only and name the service; RCPFullAWSAccess stays.
    let err = orgs
        .create_policy()
        .name("Grants")
        .description("")
        .r#type(PolicyType::ResourceControlPolicy)
        .content(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap_err();
    assert_eq!(org_code(&err), "MalformedPolicyDocumentException");
    let err = orgs
        .detach_policy()
        .policy_id("p-RCPFullAWSAccess")
        .target_id(&member)
        .send()
        .await
        .unwrap_err();
    assert_eq!(org_code(&err), "InvalidInputException");
    // Disabled, the RCP is detached everywhere: the outsider reads again.
    orgs.disable_policy_type()
        .root_id(&root_id)
        .policy_type(PolicyType::ResourceControlPolicy)
        .send()
        .await
        .unwrap();
    outsider
        .get_object()
        .bucket("perimeter")
        .key("report")
        .send()
        .await
        .unwrap();
    s.stop().await;
}

async fn each_condition_key_of_organizations_actions_can_deny(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (_, root_id, _) = s.organization_with_member().await;
    let orgs = s.root_organizations();
    let tagged = orgs
        .create_policy()
        .name("Tagged")
        .description("")
        .r#type(PolicyType::ServiceControlPolicy)
        .content(DENY_DELETE_BUCKET)
        .tags(
            aws_sdk_organizations::types::Tag::builder()
                .key("locked")
                .value("yes")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let tagged = tagged
        .policy()
        .unwrap()
        .policy_summary()
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let deny = |condition: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"organizations:*","Resource":"*"}},{{"Effect":"Deny","Action":"organizations:*","Resource":"*","Condition":{condition}}}]}}"#
        )
    };
    let cases = [
        (
            "policy-type",
            r#"{"StringEquals":{"organizations:PolicyType":"SERVICE_CONTROL_POLICY"}}"#,
        ),
        ("request-tag", r#"{"StringEquals":{"aws:RequestTag/team":"red"}}"#),
        ("tag-keys", r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["team"]}}"#),
        ("resource-tag", r#"{"StringEquals":{"aws:ResourceTag/locked":"yes"}}"#),
    ];
    for (name, condition) in cases {
        let (key, secret) = s.user_with_inline_policy(name, Some(&deny(condition))).await;
        let orgs = s.organizations_as(&key, &secret, None);
        let team = aws_sdk_organizations::types::Tag::builder()
            .key("team")
            .value("red")
            .build()
            .unwrap();
        let refused = match name {
            "policy-type" => org_code(
                &orgs
                    .attach_policy()
                    .policy_id(&tagged)
                    .target_id(&root_id)
                    .send()
                    .await
                    .unwrap_err(),
            ),
            "request-tag" | "tag-keys" => org_code(
                &orgs
                    .create_organizational_unit()
                    .parent_id(&root_id)
                    .name(name)
                    .tags(team)
                    .send()
                    .await
                    .unwrap_err(),
            ),
            _ => org_code(&orgs.describe_policy().policy_id(&tagged).send().await.unwrap_err()),
        };
        assert_eq!(refused, "AccessDeniedException", "{name}");
        // Without what the condition tests, the same user is allowed.
        orgs.list_roots().send().await.unwrap();
    }
    // aws:PrincipalIsAWSService is in every signed request, false for an IAM principal: a
    // Deny on its being false refuses everything, what the condition does not test included.
    let (key, secret) = s
        .user_with_inline_policy(
            "not-a-service",
            Some(&deny(r#"{"Bool":{"aws:PrincipalIsAWSService":"false"}}"#)),
        )
        .await;
    let err = s
        .organizations_as(&key, &secret, None)
        .list_roots()
        .send()
        .await
        .unwrap_err();
    assert_eq!(org_code(&err), "AccessDeniedException");
    s.stop().await;
}

async fn organizations_rules_answer_in_aws_errors(backend: Backend) {
    let s = TestServer::start(backend).await;
    let orgs = s.root_organizations();
    let err = orgs.list_roots().send().await.unwrap_err();
    assert_eq!(org_code(&err), "AWSOrganizationsNotInUseException");
    assert_eq!(org_message(&err), "Your account is not a member of an organization.");
    let (_, root_id, member) = s.organization_with_member().await;
    let err = orgs
        .describe_account()
        .account_id("not-an-id")
        .send()
        .await
        .unwrap_err();
    assert_eq!(org_code(&err), "InvalidInputException");
    let err = orgs
        .describe_account()
        .account_id("999999999999")
        .send()
        .await
        .unwrap_err();
    assert_eq!(org_code(&err), "AccountNotFoundException");
    let err = orgs
        .detach_policy()
        .policy_id("p-FullAWSAccess")
        .target_id(&member)
        .send()
        .await
        .unwrap_err();
    assert_eq!(org_code(&err), "ConstraintViolationException");
    let err = orgs
        .create_policy()
        .name("WithPrincipal")
        .description("")
        .r#type(PolicyType::ServiceControlPolicy)
        .content(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(org_code(&err), "MalformedPolicyDocumentException");
    let err = orgs
        .enable_policy_type()
        .root_id(&root_id)
        .policy_type(PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap_err();
    assert_eq!(org_code(&err), "PolicyTypeAlreadyEnabledException");
    let children = orgs
        .list_children()
        .parent_id(&root_id)
        .child_type(ChildType::Account)
        .send()
        .await
        .unwrap();
    assert_eq!(children.children().len(), 2);
    let err = orgs.delete_organization().send().await.unwrap_err();
    assert_eq!(org_code(&err), "OrganizationNotEmptyException");
    orgs.remove_account_from_organization()
        .account_id(&member)
        .send()
        .await
        .unwrap();
    orgs.delete_organization().send().await.unwrap();
    let err = orgs.describe_organization().send().await.unwrap_err();
    assert_eq!(org_code(&err), "AWSOrganizationsNotInUseException");
    s.stop().await;
}

async fn centralized_root_access_needs_the_organization_and_trusted_access(backend: Backend) {
    let s = TestServer::start(backend).await;
    let iam = s.root_iam();
    let err = iam.list_organizations_features().send().await.unwrap_err();
    assert_eq!(common::code(&err), "OrganizationNotFoundException");
    let (org_id, _, member) = s.organization_with_member().await;
    let err = iam.enable_organizations_root_sessions().send().await.unwrap_err();
    assert_eq!(common::code(&err), "ServiceAccessNotEnabledException");
    let orgs = s.root_organizations();
    orgs.enable_aws_service_access()
        .service_principal("iam.amazonaws.com")
        .send()
        .await
        .unwrap();
    let listed = orgs.list_aws_service_access_for_organization().send().await.unwrap();
    assert_eq!(
        listed.enabled_service_principals()[0].service_principal(),
        Some("iam.amazonaws.com")
    );
    let enabled = iam.enable_organizations_root_sessions().send().await.unwrap();
    assert_eq!(enabled.organization_id(), Some(org_id.as_str()));
    let enabled = iam
        .enable_organizations_root_credentials_management()
        .send()
        .await
        .unwrap();
    use aws_sdk_iam::types::FeatureType;
    assert_eq!(
        enabled.enabled_features(),
        [FeatureType::RootSessions, FeatureType::RootCredentialsManagement]
    );
    // A member account may not turn them on or off, whatever its IAM policies say.
    let session = s.enter_member_account(&member).await;
    let err = s
        .iam_as_session(&session)
        .enable_organizations_root_sessions()
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "CallerIsNotManagementAccountException");
    let err = s
        .iam_as_session(&session)
        .list_organizations_features()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        common::code(&err),
        "AccountNotManagementOrDelegatedAdministratorException"
    );
    let disabled = iam.disable_organizations_root_sessions().send().await.unwrap();
    assert_eq!(disabled.enabled_features(), [FeatureType::RootCredentialsManagement]);
    // Without IAM's trusted access, the features go with it.
    orgs.disable_aws_service_access()
        .service_principal("iam.amazonaws.com")
        .send()
        .await
        .unwrap();
    let err = iam.list_organizations_features().send().await.unwrap_err();
    assert_eq!(common::code(&err), "ServiceAccessNotEnabledException");
    s.stop().await;
}

per_backend!(
    centralized_root_access_needs_the_organization_and_trusted_access,
    an_scp_denies_a_member_on_the_next_request_and_the_management_account_is_exempt,
    members_are_kept_out_of_management_and_outsiders_see_no_organization,
    organization_condition_keys_decide_across_accounts,
    an_scp_keeps_assumed_roles_inside_the_organization,
    an_rcp_keeps_outsiders_from_a_members_data_whatever_the_bucket_allows,
    each_condition_key_of_organizations_actions_can_deny,
    organizations_rules_answer_in_aws_errors,
    tags_given_to_what_is_created_need_tag_resource,
    the_simulator_applies_the_organizations_scps,
    an_scp_denies_web_identity_tokens_to_a_member,
);

/// An SCP denying sts:GetWebIdentityToken refuses a member account's administrator its
/// tokens (the account's own policies allow them), naming the SCP.
async fn an_scp_denies_web_identity_tokens_to_a_member(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (_, _, member) = s.organization_with_member().await;
    let inside = s.enter_member_account(&member).await;
    s.iam_as_session(&inside)
        .enable_outbound_web_identity_federation()
        .send()
        .await
        .unwrap();
    let member_sts = s.sts_as_session(
        inside.access_key_id(),
        inside.secret_access_key(),
        inside.session_token(),
    );
    let token = || {
        member_sts
            .get_web_identity_token()
            .audience("a")
            .signing_algorithm("RS256")
            .send()
    };
    token().await.unwrap();
    let orgs = s.root_organizations();
    let deny =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"sts:GetWebIdentityToken","Resource":"*"}]}"#;
    attached_policy(&orgs, PolicyType::ServiceControlPolicy, "NoTokens", deny, &member).await;
    let err = token().await.unwrap_err();
    let err = err.into_service_error();
    assert_eq!(err.meta().code(), Some("AccessDenied"));
    let message = err.meta().message().unwrap_or("");
    assert!(message.contains("service control policy"), "{message}");
    s.stop().await;
}

/// SimulatePrincipalPolicy judges a member account's principal with its SCPs, as the
/// server does, and says so in OrganizationsDecisionDetail: a Deny in an SCP denies what
/// the user's own policy allows; the management account is exempt; SimulateCustomPolicy,
/// which simulates no principal of an account, carries no organization detail.
async fn the_simulator_applies_the_organizations_scps(backend: Backend) {
    use aws_sdk_iam::types::PolicyEvaluationDecisionType as D;
    let s = TestServer::start(backend).await;
    let (_, _, member) = s.organization_with_member().await;
    let orgs = s.root_organizations();
    attached_policy(
        &orgs,
        PolicyType::ServiceControlPolicy,
        "NoBucketDeletion",
        DENY_DELETE_BUCKET,
        &member,
    )
    .await;

    let admin = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let member_iam = s.iam_as_session(&s.enter_member_account(&member).await);
    for iam in [&member_iam, &s.root_iam()] {
        iam.create_user().user_name("simulated").send().await.unwrap();
        iam.put_user_policy()
            .user_name("simulated")
            .policy_name("admin")
            .policy_document(admin)
            .send()
            .await
            .unwrap();
    }
    let simulate = |iam: aws_sdk_iam::Client, account: String| async move {
        let out = iam
            .simulate_principal_policy()
            .policy_source_arn(format!("arn:aws:iam::{account}:user/simulated"))
            .action_names("s3:DeleteBucket")
            .action_names("s3:ListBucket")
            .send()
            .await
            .unwrap();
        out.evaluation_results()
            .iter()
            .map(|r| {
                (
                    r.eval_decision().clone(),
                    r.organizations_decision_detail().map(|d| d.allowed_by_organizations()),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        simulate(member_iam.clone(), member.clone()).await,
        [(D::ExplicitDeny, Some(false)), (D::Allowed, Some(true))]
    );
    assert_eq!(
        simulate(s.root_iam(), ACCOUNT.to_owned()).await,
        [(D::Allowed, Some(true)), (D::Allowed, Some(true))],
        "the management account is exempt"
    );
    // A service-linked role is exempt from SCPs, in the simulator as on requests.
    let linked = member_iam
        .create_service_linked_role()
        .aws_service_name("autoscaling.amazonaws.com")
        .send()
        .await
        .unwrap();
    let simulated = member_iam
        .simulate_principal_policy()
        .policy_source_arn(linked.role().unwrap().arn())
        .action_names("s3:DeleteBucket")
        .send()
        .await
        .unwrap();
    let detail = simulated.evaluation_results()[0].organizations_decision_detail();
    assert_eq!(detail.map(|d| d.allowed_by_organizations()), Some(true));
    let custom = member_iam
        .simulate_custom_policy()
        .policy_input_list(admin)
        .action_names("s3:DeleteBucket")
        .send()
        .await
        .unwrap();
    assert!(custom.evaluation_results()[0].organizations_decision_detail().is_none());
    s.stop().await;
}

/// Tags given to what a request creates are a tagging: a caller allowed to create OUs and
/// policies but not organizations:TagResource creates them untagged only; allowed it (for
/// those tags only), tagged too.
async fn tags_given_to_what_is_created_need_tag_resource(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (_, root_id, _) = s.organization_with_member().await;
    let create_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["organizations:CreateOrganizationalUnit","organizations:CreatePolicy"],"Resource":"*"}]}"#;
    let (key, secret) = s.user_with_inline_policy("creator", Some(create_only)).await;
    let orgs = s.organizations_as(&key, &secret, None);
    let tag = |value: &str| {
        aws_sdk_organizations::types::Tag::builder()
            .key("team")
            .value(value)
            .build()
            .unwrap()
    };
    orgs.create_organizational_unit()
        .parent_id(&root_id)
        .name("untagged")
        .send()
        .await
        .unwrap();
    let err = orgs
        .create_organizational_unit()
        .parent_id(&root_id)
        .name("tagged")
        .tags(tag("red"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(org_code(&err), "AccessDeniedException");
    assert!(
        org_message(&err).contains("organizations:TagResource"),
        "{}",
        org_message(&err)
    );
    let err = orgs
        .create_policy()
        .name("tagged")
        .description("")
        .r#type(PolicyType::ServiceControlPolicy)
        .content(DENY_DELETE_BUCKET)
        .tags(tag("red"))
        .send()
        .await
        .unwrap_err();
    assert!(
        org_message(&err).contains("organizations:TagResource"),
        "{}",
        org_message(&err)
    );

    let tag_red_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"organizations:TagResource","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"red"}}}]}"#;
    s.root_iam()
        .put_user_policy()
        .user_name("creator")
        .policy_name("tagging")
        .policy_document(tag_red_only)
        .send()
        .await
        .unwrap();
    orgs.create_organizational_unit()
        .parent_id(&root_id)
        .name("tagged")
        .tags(tag("red"))
        .send()
        .await
        .unwrap();
    let err = orgs
        .create_organizational_unit()
        .parent_id(&root_id)
        .name("blue")
        .tags(tag("blue"))
        .send()
        .await
        .unwrap_err();
    assert!(
        org_message(&err).contains("organizations:TagResource"),
        "{}",
        org_message(&err)
    );
    s.stop().await;
}

/// Every operation of the model gets an awsJson answer: one of AWS's errors in its JSON
/// shape, or NotImplemented naming it; never a server fault.
#[tokio::test]
async fn every_organizations_operation_gets_a_json_answer() {
    let s = TestServer::start(Backend::Sqlite).await;
    for op in oxiam_protocol::organizations::Operation::ALL {
        let target = format!("AWSOrganizationsV20161128.{}", op.name());
        let reply = call_json(&s, (ROOT_KEY, ROOT_SECRET), &target, "{}").await;
        let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        let implemented = oxiam_core::organizations::IMPLEMENTED.contains(op);
        let code = body["__type"].as_str().unwrap_or("");
        // In name order: the organization made by CreateOrganization is gone with
        // DeleteOrganization, and the operations after it find none; an account's own
        // invitations are listed outside any organization.
        match reply.status {
            501 => {
                assert!(!implemented, "{}: {}", op.name(), reply.body);
                assert_eq!(code, "NotImplemented");
                assert!(body["Message"].as_str().unwrap().contains(op.name()));
            }
            200 => assert!(
                ["CreateOrganization", "DeleteOrganization", "ListHandshakesForAccount"].contains(&op.name()),
                "{}",
                reply.body
            ),
            // A member the model requires is missing, or there is no organization.
            400 => assert!(
                code == "InvalidInputException" || (implemented && code == "AWSOrganizationsNotInUseException"),
                "{}: {}",
                op.name(),
                reply.body
            ),
            other => panic!("{}: {other} {}", op.name(), reply.body),
        }
        assert_eq!(reply.header("content-type"), Some("application/x-amz-json-1.1"));
    }
    s.stop().await;
}

/// What a client can send wrong, and what an attacker might: each answered in JSON, 400.
#[tokio::test]
async fn the_json_front_door_refuses_what_is_not_a_request() {
    let s = TestServer::start(Backend::Sqlite).await;
    let target = "AWSOrganizationsV20161128.DescribeAccount";
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    for (body, code) in [
        ("not json", "SerializationException"),
        ("[1]", "SerializationException"),
        (deep.as_str(), "SerializationException"),
        (r#"{"AccountId":{"x":1},"AccountId.x":2}"#, "SerializationException"),
        (r#"{"AccountId":"123456789012","":1}"#, "SerializationException"),
        (r#"{}"#, "InvalidInputException"),
    ] {
        let reply = call_json(&s, (ROOT_KEY, ROOT_SECRET), target, body).await;
        let parsed: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(
            (reply.status, parsed["__type"].as_str().unwrap()),
            (400, code),
            "{body:.40}"
        );
    }
    // A signature that does not cover the operation's name could be replayed as another.
    let reply = common::raw::call_json_signing_target(
        &s,
        (ROOT_KEY, ROOT_SECRET),
        "AWSOrganizationsV20161128.CreateOrganization",
        "{}",
        false,
    )
    .await;
    assert!(reply.body.contains("IncompleteSignatureException"), "{}", reply.body);
    let err = s.root_organizations().describe_organization().send().await.unwrap_err();
    assert_eq!(org_code(&err), "AWSOrganizationsNotInUseException");
    let reply = call_json(
        &s,
        (ROOT_KEY, ROOT_SECRET),
        "AWSOrganizationsV20161128.NoSuchThing",
        "{}",
    )
    .await;
    assert!(reply.body.contains("UnknownOperationException"), "{}", reply.body);
    let reply = call_json(&s, (ROOT_KEY, "wrong-secret"), target, "{}").await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("InvalidSignatureException"), "{}", reply.body);
    let reply = call_json(&s, ("AKIANOSUCHKEY0000000", "x"), target, "{}").await;
    assert!(reply.body.contains("UnrecognizedClientException"), "{}", reply.body);
    s.stop().await;
}

/// AWS's wording on a constraint the model states: the Reason names which.
#[tokio::test]
async fn a_broken_model_constraint_says_which_in_its_reason() {
    let s = TestServer::start(Backend::Sqlite).await;
    let reply = call_json(
        &s,
        (ROOT_KEY, ROOT_SECRET),
        "AWSOrganizationsV20161128.DescribeAccount",
        r#"{"AccountId":"12"}"#,
    )
    .await;
    let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(body["__type"], "InvalidInputException");
    assert_eq!(body["Reason"], "INVALID_PATTERN");
    let reply = call_json(
        &s,
        (ROOT_KEY, ROOT_SECRET),
        "AWSOrganizationsV20161128.DescribeAccount",
        "{}",
    )
    .await;
    let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(body["Reason"], "INPUT_REQUIRED");
    s.stop().await;
}
