//! The resource each request is authorized on, as `access::plan` reads it off the catalogue
//! and the request (before the store fills in real paths): the cases where a wrong binding
//! would authorize the request on something other than what the operation then acts on.
//! (The condition keys are proven on a real server, in oxiam-server's condition_keys.rs.)

use oxiam_core::access::plan;
use oxiam_core::{Principal, PrincipalKind};
use oxiam_protocol::iam;
use oxiam_protocol::query::QueryParams;

const ACCOUNT: &str = "123456789012";

fn user(name: &str, path: &str) -> Principal {
    Principal {
        account_id: ACCOUNT.into(),
        kind: PrincipalKind::User {
            user_id: "AIDAEXAMPLE".into(),
            name: name.into(),
            path: path.into(),
        },
        access_key_id: "AKIAEXAMPLE".into(),
        policy_epoch: 0,
        session: None,
        mfa_at: None,
    }
}

fn request(form: &str) -> iam::Request {
    let params = QueryParams::parse(&[form]).unwrap();
    let op = iam::Operation::from_action(params.get("Action").unwrap()).unwrap();
    iam::decode(op, &params).unwrap()
}

fn resource(caller: &Principal, form: &str) -> (String, Option<String>) {
    let planned = plan(caller, &request(form));
    (planned.access.resource, planned.access.shown_as)
}

#[test]
fn named_entities_are_the_resource_and_are_shown_as_iam_names_them() {
    let me = user("me", "/team/");
    assert_eq!(
        resource(&me, "Action=GetUser&UserName=alice"),
        (format!("arn:aws:iam::{ACCOUNT}:user/alice"), Some("user alice".into()))
    );
    assert_eq!(
        resource(&me, "Action=AddUserToGroup&GroupName=ops&UserName=alice").0,
        format!("arn:aws:iam::{ACCOUNT}:group/ops"),
        "AddUserToGroup acts on the group"
    );
    assert_eq!(
        resource(
            &me,
            &format!("Action=AttachRolePolicy&RoleName=r&PolicyArn=arn:aws:iam::{ACCOUNT}:policy/p")
        )
        .0,
        format!("arn:aws:iam::{ACCOUNT}:role/r"),
        "a policy ARN is a key of AttachRolePolicy, not its resource"
    );
    assert_eq!(
        resource(
            &me,
            &format!("Action=GetPolicy&PolicyArn=arn:aws:iam::{ACCOUNT}:policy/a/p")
        )
        .0,
        format!("arn:aws:iam::{ACCOUNT}:policy/a/p")
    );
}

#[test]
fn creations_are_authorized_on_the_new_entitys_full_arn() {
    let me = user("me", "/");
    assert_eq!(
        resource(&me, "Action=CreateUser&UserName=new&Path=/x/y/"),
        (format!("arn:aws:iam::{ACCOUNT}:user/x/y/new"), None)
    );
    assert_eq!(
        resource(&me, "Action=CreateUser&UserName=new").0,
        format!("arn:aws:iam::{ACCOUNT}:user/new")
    );
    assert_eq!(
        resource(&me, "Action=CreatePolicy&PolicyName=p&PolicyDocument=%7B%7D&Path=/a/").0,
        format!("arn:aws:iam::{ACCOUNT}:policy/a/p")
    );
}

#[test]
fn an_omitted_user_name_means_the_caller() {
    let me = user("me", "/team/");
    assert_eq!(
        resource(&me, "Action=ListAccessKeys"),
        (format!("arn:aws:iam::{ACCOUNT}:user/team/me"), Some("user me".into()))
    );
}

#[test]
fn the_simulated_principal_is_the_resource_never_the_caller_arn() {
    let me = user("me", "/");
    let form = format!(
        "Action=SimulatePrincipalPolicy&PolicySourceArn=arn:aws:iam::{ACCOUNT}:user/admins/boss\
         &CallerArn=arn:aws:iam::999999999999:role/x&ActionNames.member.1=iam:GetUser"
    );
    assert_eq!(
        resource(&me, &form).0,
        format!("arn:aws:iam::{ACCOUNT}:user/admins/boss")
    );
    let form = format!("Action=GetContextKeysForPrincipalPolicy&PolicySourceArn=arn:aws:iam::{ACCOUNT}:group/g");
    assert_eq!(resource(&me, &form).0, format!("arn:aws:iam::{ACCOUNT}:group/g"));
}

#[test]
fn listings_without_a_resource_type_name_their_path_prefix() {
    let me = user("me", "/");
    assert_eq!(
        resource(&me, "Action=ListUsers").0,
        format!("arn:aws:iam::{ACCOUNT}:user/")
    );
    assert_eq!(
        resource(&me, "Action=ListRoles&PathPrefix=/svc/").0,
        format!("arn:aws:iam::{ACCOUNT}:role/svc/")
    );
    assert_eq!(resource(&me, "Action=GetAccountSummary").0, "*");
}

#[test]
fn every_served_operation_has_a_catalogue_action() {
    for op in oxiam_core::iam::IMPLEMENTED {
        let action = format!("iam:{}", op.name());
        assert!(
            oxiam_catalogue_action("iam", op.name())
                || oxiam_core::access::AUTHORIZED_AS_THE_ACTIONS_THEY_TAKE.contains(&action.as_str())
                || oxiam_core::access::MISSING_FROM_THE_REFERENCE.contains(&action.as_str()),
            "{action}"
        );
    }
    for op in oxiam_core::sts::IMPLEMENTED {
        let action = format!("sts:{}", op.name());
        assert!(
            oxiam_catalogue_action("sts", op.name())
                || oxiam_core::authz::NO_PERMISSION_REQUIRED.contains(&action.as_str()),
            "{action}"
        );
    }
}

fn oxiam_catalogue_action(service: &str, name: &str) -> bool {
    oxiam_catalogue::action(service, name).is_some_and(|a| a.name == name)
}
