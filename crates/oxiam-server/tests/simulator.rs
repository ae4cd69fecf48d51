//! The policy simulator tells the truth about the real request: a resource policy with its
//! owner and the simulated caller decides as the real request would (same account, across
//! accounts, account principals, NotPrincipal), another account's resource needs its own
//! grant, `*` stands for every resource, and the permissions boundary's part is reported.

mod common;

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

on_both_backends!(
    resource_policies_decide_as_the_real_request,
    another_accounts_resource_needs_its_grant,
    no_resource_means_every_resource,
    the_boundarys_part_is_reported
);
