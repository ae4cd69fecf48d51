//! The IAM policy engine of oxiam: parses and validates every kind of policy document as IAM
//! does on write, compiles policies into fast matchers, and decides requests with AWS's
//! documented evaluation logic. Pure and synchronous: no I/O, no clock, no globals, no async.
//!
//! # Using it
//!
//! ```
//! use std::sync::Arc;
//! use oxiam_policy::*;
//!
//! // Validate on write (CreatePolicy, PutUserPolicy, …): `Err` carries IAM's
//! // MalformedPolicyDocument message.
//! let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
//!     "Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/${aws:username}/*"}]}"#;
//! let policy = parse(doc, PolicyKind::Identity).unwrap();
//! assert_eq!(context_keys(&policy), ["aws:username"]);
//!
//! // Compile once, share behind an Arc, evaluate many times.
//! let compiled = Arc::new(CompiledPolicy::compile("arn:aws:iam::111122223333:policy/p", &policy));
//! let identity = [compiled];
//! let ctx = Context::builder().set("aws:username", "alice").build();
//! let user = "arn:aws:iam::111122223333:user/alice";
//! let req = Request::new(Principal::user(user, "111122223333"), "s3:GetObject",
//!     "arn:aws:s3:::bucket/alice/report.csv", &ctx);
//! let set = PolicySet { identity: &identity, ..PolicySet::default() };
//! assert!(evaluate(&req, &set).allowed);
//!
//! let denied = evaluate(&Request { action: "s3:PutObject", ..req }, &set);
//! assert_eq!(
//!     denied.denial_message(user, "s3:PutObject", "arn:aws:s3:::bucket/alice/report.csv").unwrap(),
//!     "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:PutObject on \
//!      resource: arn:aws:s3:::bucket/alice/report.csv because no identity-based policy allows \
//!      the s3:PutObject action"
//! );
//! ```
//!
//! # API
//!
//! - [`parse`]`(json, kind) -> Result<`[`Policy`]`, `[`PolicyError`]`>`: validation with IAM's
//!   messages; [`Policy`] is the AST (public fields). [`size_without_whitespace`] for the
//!   callers' size quotas.
//! - [`CompiledPolicy::compile`]`(id, &policy)` and [`compile`]`(id, json, kind)`.
//! - [`Context`] / [`ContextBuilder`] / [`Value`]: case-insensitive condition keys with one or
//!   more values.
//! - [`Request`] (with [`Principal`], [`EvalOptions`]) and [`PolicySet`], decided by
//!   [`evaluate`] (and [`evaluate_trust`] for role trust policies) into a [`Decision`] with its
//!   [`Reason`]; [`Decision::denial_message`] renders IAM's `AccessDenied` text, and
//!   [`Decision::ignored`] lists the statements left out for a policy variable without a
//!   value ([`IgnoredStatement`], [`Unresolved`]).
//! - [`context_keys`]: the condition keys and variables a policy refers to (for the simulator).
//!
//! # Architecture invariants
//!
//! - This crate does no I/O, reads no clock and keeps no global state: `aws:CurrentTime` and
//!   friends come in the [`Context`].
//! - Evaluation never fails and never panics; a condition on a missing key simply does not
//!   hold. Parsing never panics on any input.
//! - The hot path (an [`evaluate`] call over compiled policies) allocates only when a statement
//!   that uses policy variables is examined (expanding them, or recording the statement in
//!   [`Decision::ignored`]), or for an action name longer than 256 bytes.
//!
//! # Where AWS's documentation leaves room, this crate chooses
//!
//! - ARN matching (`Resource`, `Arn*` operators) is case-sensitive in every segment; a short
//!   resource ARN (fewer than six segments) is padded with `*` in identity-style policies
//!   (identity, boundary, session) and otherwise only matches if its last segment ends in `*`.
//! - Policy variables are substituted only in the resource part of `Resource`/`NotResource`
//!   (after the fifth colon) and in String, ARN and `Bool` condition values.
//! - A variable without a default that has no value for the request (its key missing, null
//!   or multivalued) in a `Resource`/`NotResource` pattern makes the whole statement
//!   ignored, Allow or Deny (the guide: it "causes the statement to be invalid"); other
//!   patterns of the same element do not rescue it. In a condition value it is null
//!   instead: positive operators do not match it, negated ones do (the guide's "Policy
//!   variables with no value").
//! - `ForAnyValue:…IfExists` on a missing or null key is false, like `ForAnyValue:…`: the set
//!   operator decides before `IfExists`.
//! - A same-account resource-based statement with `Principal: "*"` grants like one naming the
//!   caller's own ARN (not limited by identity policies, boundary or session policy).
//! - A multivalued context key used without `ForAllValues`/`ForAnyValue` matches if any of its
//!   values matches (for negated operators: if none matches).
//! - SCPs are given one slice per organization level; every non-empty level must allow. Session
//!   policies (inline and managed) are united.
//! - Validation messages not covered by recorded IAM answers (`Has prohibited field
//!   NotPrincipal`, `Has prohibited field NotResource` in trust policies) follow the wording of
//!   the recorded ones.
//!
//! The tests cite, table by table, the AWS documentation each expectation comes from.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod arn;
pub use arn::split_arn;
mod ast;
mod compile;
mod condition;
mod context;
mod eval;
mod glob;
mod json;
mod parse;
mod positions;
mod principal;
mod vars;

pub use ast::{
    ActionSpec, Condition, Effect, Operator, OperatorBase, Policy, PrincipalSpec, PrincipalType, PrincipalValue,
    ResourceSpec, SetQualifier, Statement, Version,
};
pub use compile::CompiledPolicy;
pub use context::{Context, ContextBuilder, Value};
pub use eval::{
    Decision, EvalOptions, IgnoredStatement, PolicySet, Reason, Request, StatementRef, evaluate, evaluate_trust,
};
pub use parse::{PolicyError, parse};
pub use positions::{Position, StatementSpan, statement_spans};
pub use principal::{Principal, PrincipalKind, account_of};
pub use vars::Unresolved;

/// The kinds of policy document, which differ in what IAM accepts and how they combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Identity-based: inline or managed policies of users, groups and roles. No principal;
    /// `Version` must be 2012-10-17.
    Identity,
    /// Resource-based (bucket, queue, key policies …). `Principal` or `NotPrincipal` required.
    Resource,
    /// A role trust policy (`AssumeRolePolicyDocument`): `Principal` required, no
    /// `NotPrincipal`, no `Resource`, only STS actions.
    Trust,
    /// A permissions boundary (a managed policy used as one). Same rules as identity-based.
    Boundary,
    /// A session policy passed to `AssumeRole*`/`GetFederationToken`. No principal.
    Session,
    /// An AWS Organizations service control policy. No principal.
    Scp,
    /// An AWS Organizations resource control policy: resource-based (`Principal` required),
    /// applied to every request for the resources of the accounts it governs.
    Rcp,
}

/// Parses, validates and compiles `json` in one step.
pub fn compile(id: impl Into<String>, json: &str, kind: PolicyKind) -> Result<CompiledPolicy, PolicyError> {
    parse(json, kind).map(|p| CompiledPolicy::compile(id, &p))
}

/// The length IAM counts against its policy size quotas: characters other than JSON
/// whitespace (space, tab, line feed, carriage return). AWS IAM User Guide, "IAM and AWS STS
/// quotas": "IAM doesn't count white space when calculating the size of a policy".
pub fn size_without_whitespace(json: &str) -> usize {
    json.chars().filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r')).count()
}

/// Whether `policy` has an Allow statement whose actions reach some action of `service` (its
/// prefix: `s3`, `iam`), whatever its resources and conditions: what
/// ListPoliciesGrantingServiceAccess lists. A `NotAction` statement reaches the service
/// unless it leaves all of it out (`*`, or `SERVICE:*` with a service part matching it).
pub fn allows_service(policy: &Policy, service: &str) -> bool {
    let service = service.to_ascii_lowercase();
    let prefix = format!("{service}:");
    policy.statements.iter().filter(|s| s.effect == Effect::Allow).any(|s| {
        let mut patterns = s.action.values.iter().map(|v| v.to_ascii_lowercase());
        if s.action.not {
            !patterns.any(|p| {
                p == "*"
                    || p.split_once(':')
                        .is_some_and(|(svc, action)| action == "*" && glob::Glob::new(svc).matches(&service))
            })
        } else {
            patterns.any(|p| glob::Glob::new(&p).matches_some_extension_of(&prefix))
        }
    })
}

/// Whether `policy` has an Allow statement whose actions match `action` (`s3:CreateBucket`,
/// compared regardless of case), whatever its resources and conditions: the actions access
/// advisor reports on. A `NotAction` statement allows every action it does not match.
pub fn allows_action(policy: &Policy, action: &str) -> bool {
    let action = action.to_ascii_lowercase();
    policy.statements.iter().filter(|s| s.effect == Effect::Allow).any(|s| {
        let matched = s
            .action
            .values
            .iter()
            .any(|p| glob::Glob::new(&p.to_ascii_lowercase()).matches(&action));
        matched != s.action.not
    })
}

/// The context keys a policy refers to, for the policy simulator: every condition key, then
/// every key used as a policy variable (in resources and condition values), each once
/// (compared case-insensitively), as first written.
pub fn context_keys(policy: &Policy) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |k: &str| {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(k)) {
            out.push(k.to_owned());
        }
    };
    for s in &policy.statements {
        for c in &s.conditions {
            push(&c.key);
        }
    }
    if policy.variables_enabled() {
        for s in &policy.statements {
            if let Some(r) = &s.resource {
                for v in &r.values {
                    if let Some(parts) = arn::split_arn(v) {
                        vars::variable_keys(parts[5]).into_iter().for_each(&mut push);
                    }
                }
            }
            for c in &s.conditions {
                if c.operator.base.takes_variables() {
                    for v in &c.values {
                        vars::variable_keys(v).into_iter().for_each(&mut push);
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod allows_service_tests {
    use super::*;

    fn allows(document: &str, service: &str) -> bool {
        allows_service(&parse(document, PolicyKind::Identity).unwrap(), service)
    }

    #[test]
    fn an_allow_matching_the_action_grants_it() {
        let doc = |effect: &str, element: &str, actions: &str| {
            let json = format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"{effect}","{element}":{actions},"Resource":"*"}}]}}"#
            );
            parse(&json, PolicyKind::Identity).unwrap()
        };
        assert!(allows_action(
            &doc("Allow", "Action", r#""s3:Create*""#),
            "s3:CreateBucket"
        ));
        assert!(allows_action(
            &doc("Allow", "Action", r#""S3:CREATEBUCKET""#),
            "s3:createbucket"
        ));
        assert!(!allows_action(
            &doc("Allow", "Action", r#""s3:Create*""#),
            "s3:DeleteBucket"
        ));
        assert!(!allows_action(&doc("Deny", "Action", r#""*""#), "s3:CreateBucket"));
        assert!(allows_action(
            &doc("Allow", "NotAction", r#""iam:*""#),
            "s3:CreateBucket"
        ));
        assert!(!allows_action(
            &doc("Allow", "NotAction", r#""s3:Create*""#),
            "s3:CreateBucket"
        ));
    }

    #[test]
    fn an_allow_reaching_the_service_grants_it() {
        let doc = |effect: &str, element: &str, actions: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"{effect}","{element}":{actions},"Resource":"*"}}]}}"#
            )
        };
        assert!(allows(&doc("Allow", "Action", r#""s3:GetObject""#), "s3"));
        assert!(
            allows(&doc("Allow", "Action", r#""S3:Get*""#), "s3"),
            "case-insensitive"
        );
        assert!(allows(&doc("Allow", "Action", r#""*""#), "ec2"));
        assert!(allows(&doc("Allow", "Action", r#""ec2:*Instances""#), "ec2"));
        assert!(
            !allows(&doc("Allow", "Action", r#""ec2:Describe*""#), "ec"),
            "another service's prefix"
        );
        assert!(!allows(&doc("Allow", "Action", r#""s3:GetObject""#), "iam"));
        assert!(
            !allows(&doc("Deny", "Action", r#""s3:*""#), "s3"),
            "a Deny grants nothing"
        );
        assert!(allows(&doc("Allow", "NotAction", r#""iam:*""#), "s3"));
        assert!(!allows(&doc("Allow", "NotAction", r#""iam:*""#), "iam"));
        assert!(
            allows(&doc("Allow", "NotAction", r#""iam:CreateUser""#), "iam"),
            "only some of it left out"
        );
        assert!(!allows(&doc("Allow", "NotAction", r#""*""#), "s3"));
    }
}
