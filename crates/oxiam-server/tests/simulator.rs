//! The policy simulator tells the truth about the real request: a resource policy with its
//! owner and the simulated caller decides as the real request would (same account, across
//! accounts, account principals, NotPrincipal), another account's resource needs its own
//! grant, `*` stands for every resource, and the permissions boundary's part is reported;
//! the results carry what AWS's do (decision details, resource-specific results, matched
//! statements with their source and place, missing keys for the action) and the
//! protections AWS applies whatever the policies say.

use crate::common;

use aws_sdk_iam::types::PolicyEvaluationDecisionType as Decision;
use common::{ACCOUNT, TestServer};

const OTHER: &str = "999999999999";

fn caller() -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/alice")
}

fn identity(action: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"*"}}]}}"#)
}

/// A resource policy: `effect` `s3:GetObject` on the object, for `principal` (a JSON value).
fn bucket_policy(effect: &str, principal_element: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"{effect}",{principal_element},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/k"}}]}}"#
    )
}

/// The decision of `s3:GetObject` on `arn:aws:s3:::b/k` for the user alice, with these
/// identity policies and this resource policy owned by `owner`.
async fn decide(server: &TestServer, identity_policies: &[String], resource_policy: &str, owner: &str) -> Decision {
    let out = server
        .root_iam()
        .simulate_custom_policy()
        .set_policy_input_list(Some(identity_policies.to_vec()))
        .action_names("s3:GetObject")
        .resource_arns("arn:aws:s3:::b/k")
        .resource_policy(resource_policy)
        .resource_owner(format!("arn:aws:iam::{owner}:root"))
        .caller_arn(caller())
        .send()
        .await
        .unwrap();
    out.evaluation_results()[0].eval_decision().clone()
}

async fn resource_policies_decide_as_the_real_request(server: &TestServer) {
    let nothing = [identity("iam:GetUser")];
    let may_get = [identity("s3:GetObject")];
    let names_alice = format!(r#""Principal":{{"AWS":"{}"}}"#, caller());
    let names_account = format!(r#""Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}}"#);
    let not_bob = format!(r#""NotPrincipal":{{"AWS":"arn:aws:iam::{ACCOUNT}:user/bob"}}"#);

    // Same account: a resource policy naming the user allows on its own.
    let allow_alice = bucket_policy("Allow", &names_alice);
    assert_eq!(decide(server, &nothing, &allow_alice, ACCOUNT).await, Decision::Allowed);
    // Its Deny is explicit, whatever the identity policies allow.
    let deny_alice = bucket_policy("Deny", &names_alice);
    assert_eq!(
        decide(server, &may_get, &deny_alice, ACCOUNT).await,
        Decision::ExplicitDeny
    );
    // The account as principal delegates to the account's own policies: they must allow.
    let allow_account = bucket_policy("Allow", &names_account);
    assert_eq!(
        decide(server, &nothing, &allow_account, ACCOUNT).await,
        Decision::ImplicitDeny
    );
    assert_eq!(
        decide(server, &may_get, &allow_account, ACCOUNT).await,
        Decision::Allowed
    );
    // NotPrincipal naming someone else takes in the caller.
    let allow_not_bob = bucket_policy("Allow", &not_bob);
    assert_eq!(
        decide(server, &nothing, &allow_not_bob, ACCOUNT).await,
        Decision::Allowed
    );

    // Across accounts, both sides must allow.
    assert_eq!(
        decide(server, &nothing, &allow_alice, OTHER).await,
        Decision::ImplicitDeny
    );
    assert_eq!(decide(server, &may_get, &allow_alice, OTHER).await, Decision::Allowed);
    let allows_someone_else = bucket_policy("Allow", r#""Principal":{"AWS":"arn:aws:iam::999999999999:root"}"#);
    assert_eq!(
        decide(server, &may_get, &allows_someone_else, OTHER).await,
        Decision::ImplicitDeny
    );
}

async fn another_accounts_resource_needs_its_grant(server: &TestServer) {
    let out = server
        .root_iam()
        .simulate_custom_policy()
        .policy_input_list(identity("iam:GetUser"))
        .action_names("iam:GetUser")
        .resource_arns(format!("arn:aws:iam::{ACCOUNT}:user/bob"))
        .resource_arns(format!("arn:aws:iam::{OTHER}:user/bob"))
        .caller_arn(caller())
        .send()
        .await
        .unwrap();
    let decisions: Vec<_> = out
        .evaluation_results()
        .iter()
        .map(|r| {
            (
                r.eval_resource_name().unwrap_or_default().to_owned(),
                r.eval_decision().clone(),
            )
        })
        .collect();
    assert_eq!(
        decisions,
        [
            (format!("arn:aws:iam::{ACCOUNT}:user/bob"), Decision::Allowed),
            (format!("arn:aws:iam::{OTHER}:user/bob"), Decision::ImplicitDeny),
        ]
    );
}

async fn no_resource_means_every_resource(server: &TestServer) {
    let scoped = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
    let out = server
        .root_iam()
        .simulate_custom_policy()
        .policy_input_list(scoped)
        .action_names("s3:GetObject")
        .action_names("s3:PutObject")
        .send()
        .await
        .unwrap();
    let decisions: Vec<_> = out
        .evaluation_results()
        .iter()
        .map(|r| (r.eval_action_name().to_owned(), r.eval_decision().clone()))
        .collect();
    assert_eq!(
        decisions,
        [
            ("s3:GetObject".to_owned(), Decision::Allowed),
            ("s3:PutObject".to_owned(), Decision::ImplicitDeny),
        ]
    );
}

async fn the_boundarys_part_is_reported(server: &TestServer) {
    let out = server
        .root_iam()
        .simulate_custom_policy()
        .policy_input_list(identity("s3:*"))
        .permissions_boundary_policy_input_list(identity("s3:GetObject"))
        .action_names("s3:GetObject")
        .action_names("s3:PutObject")
        .send()
        .await
        .unwrap();
    let results = out.evaluation_results();
    let detail = |i: usize| {
        results[i]
            .permissions_boundary_decision_detail()
            .map(|d| d.allowed_by_permissions_boundary())
    };
    assert_eq!(results[0].eval_decision(), &Decision::Allowed);
    assert_eq!(detail(0), Some(true));
    assert_eq!(results[1].eval_decision(), &Decision::ImplicitDeny);
    assert_eq!(detail(1), Some(false), "the boundary is what refused");
}

/// The decision details, as AWS fills them: each kind of policy's own say for another
/// account's resource, present but empty for one of the caller's own, absent for `*`; and
/// one resource-specific result per resource named.
async fn decision_details_say_each_policys_part(server: &TestServer) {
    let names_alice = format!(r#""Principal":{{"AWS":"{}"}}"#, caller());
    let simulate = |owner: &str, resource: Option<&str>| {
        server
            .root_iam()
            .simulate_custom_policy()
            .policy_input_list(identity("iam:GetUser"))
            .permissions_boundary_policy_input_list(identity("s3:*"))
            .action_names("s3:GetObject")
            .set_resource_arns(resource.map(|r| vec![r.to_owned()]))
            .resource_policy(bucket_policy("Allow", &names_alice))
            .resource_owner(format!("arn:aws:iam::{owner}:root"))
            .caller_arn(caller())
            .send()
    };
    let out = simulate(OTHER, Some("arn:aws:s3:::b/k")).await.unwrap();
    let result = &out.evaluation_results()[0];
    assert_eq!(result.eval_decision(), &Decision::ImplicitDeny);
    let details = result.eval_decision_details().expect("cross-account details");
    assert_eq!(details.get("IAM Policy"), Some(&Decision::ImplicitDeny));
    assert_eq!(details.get("Resource Policy"), Some(&Decision::Allowed));
    assert_eq!(details.get("Permissions Boundary Policy"), Some(&Decision::Allowed));
    assert_eq!(details.len(), 3, "{details:?}");
    let specific = result.resource_specific_results();
    assert_eq!(specific.len(), 1);
    assert_eq!(specific[0].eval_resource_name(), "arn:aws:s3:::b/k");
    assert_eq!(specific[0].eval_resource_decision(), &Decision::ImplicitDeny);
    assert_eq!(specific[0].eval_decision_details(), Some(details));
    assert_eq!(
        specific[0]
            .permissions_boundary_decision_detail()
            .map(|d| d.allowed_by_permissions_boundary()),
        Some(true)
    );

    // The caller's own resource: the resource policy alone allows; the details are there,
    // empty; the resource-specific result carries none.
    let out = simulate(ACCOUNT, Some("arn:aws:s3:::b/k")).await.unwrap();
    let result = &out.evaluation_results()[0];
    assert_eq!(result.eval_decision(), &Decision::Allowed);
    assert!(result.eval_decision_details().is_some_and(|d| d.is_empty()));
    assert_eq!(result.resource_specific_results()[0].eval_decision_details(), None);
    assert_eq!(
        result.resource_specific_results()[0].eval_resource_decision(),
        &Decision::Allowed
    );

    // Every resource: no details, no resource-specific results.
    let out = simulate(ACCOUNT, None).await.unwrap();
    let result = &out.evaluation_results()[0];
    assert_eq!(result.eval_resource_name(), Some("*"));
    assert_eq!(result.eval_decision_details(), None);
    assert!(result.resource_specific_results().is_empty());
}

/// A matched statement is named as AWS names it (a managed policy by its name, an inline
/// one as `user_<user>_<policy>`) and placed in its document (1-based, just after the
/// token before it to just after its closing brace).
async fn matched_statements_name_their_source_and_place(server: &TestServer) {
    let iam = server.root_iam();
    iam.create_user().user_name("alice").send().await.unwrap();
    let pretty = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"iam:GetUser\",\n      \"Resource\": \"*\"\n    }\n  ]\n}";
    iam.put_user_policy()
        .user_name("alice")
        .policy_name("reads")
        .policy_document(pretty)
        .send()
        .await
        .unwrap();
    let created = iam
        .create_policy()
        .policy_name("Lister")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:GetGroup","Resource":"*"},{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name("alice")
        .policy_arn(created.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
    let out = iam
        .simulate_principal_policy()
        .policy_source_arn(caller())
        .action_names("iam:GetUser")
        .action_names("iam:ListUsers")
        .send()
        .await
        .unwrap();
    let statement = |i: usize| {
        let s = &out.evaluation_results()[i].matched_statements()[0];
        let at = |p: Option<&aws_sdk_iam::types::Position>| p.map(|p| (p.line(), p.column()));
        (
            s.source_policy_id().unwrap().to_owned(),
            at(s.start_position()),
            at(s.end_position()),
        )
    };
    assert_eq!(
        statement(0),
        ("user_alice_reads".to_owned(), Some((3, 17)), Some((8, 6)))
    );
    // The second statement of a one-line document starts just after its comma.
    let compact_start =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:GetGroup","Resource":"*"},"#
            .chars()
            .count() as i32;
    let (id, start, end) = statement(1);
    assert_eq!(id, "Lister");
    assert_eq!(start, Some((1, compact_start + 1)));
    assert!(end.is_some_and(|(line, column)| line == 1 && column > compact_start + 1));
}

/// Missing context values are the keys the policies use that a request for the action
/// could carry: the global ones, and the action's own from the catalogue.
async fn missing_context_values_follow_the_action(server: &TestServer) {
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"s3:prefix":"home/"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;
    let out = server
        .root_iam()
        .simulate_custom_policy()
        .policy_input_list(policy)
        .action_names("s3:ListBucket")
        .action_names("iam:GetUser")
        .send()
        .await
        .unwrap();
    let missing = |i: usize| {
        let mut keys = out.evaluation_results()[i].missing_context_values().to_vec();
        keys.sort();
        keys
    };
    assert_eq!(missing(0), ["aws:SourceIp", "s3:prefix"]);
    assert_eq!(missing(1), ["aws:SourceIp"], "iam:GetUser carries no s3:prefix");
}

/// What AWS refuses whatever the policies say is reported as an implicit deny with the
/// protection named, not as "allowed".
async fn protections_are_reported(server: &TestServer) {
    let out = server
        .root_iam()
        .simulate_custom_policy()
        .policy_input_list(identity("*"))
        .action_names("iam:CreatePolicyVersion")
        .action_names("iam:GetPolicy")
        .resource_arns("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .unwrap();
    let results = out.evaluation_results();
    assert_eq!(results[0].eval_decision(), &Decision::ImplicitDeny);
    assert!(results[0].matched_statements().is_empty());
    assert_eq!(
        results[0]
            .eval_decision_details()
            .and_then(|d| d.get("Protection: AWS managed policy")),
        Some(&Decision::ImplicitDeny)
    );
    assert_eq!(results[1].eval_decision(), &Decision::Allowed, "reading it is fine");

    let service_role =
        format!("arn:aws:iam::{ACCOUNT}:role/aws-service-role/example.amazonaws.com/AWSServiceRoleForExample");
    let out = server
        .root_iam()
        .simulate_custom_policy()
        .policy_input_list(identity("*"))
        .action_names("iam:DeleteRole")
        .action_names("iam:DeleteServiceLinkedRole")
        .resource_arns(service_role)
        .send()
        .await
        .unwrap();
    let results = out.evaluation_results();
    assert_eq!(results[0].eval_decision(), &Decision::ImplicitDeny);
    assert!(
        results[0]
            .eval_decision_details()
            .is_some_and(|d| d.contains_key("Protection: service-linked role"))
    );
    assert_eq!(results[1].eval_decision(), &Decision::Allowed);
}

on_both_backends!(
    resource_policies_decide_as_the_real_request,
    another_accounts_resource_needs_its_grant,
    no_resource_means_every_resource,
    the_boundarys_part_is_reported,
    decision_details_say_each_policys_part,
    matched_statements_name_their_source_and_place,
    missing_context_values_follow_the_action,
    protections_are_reported
);
