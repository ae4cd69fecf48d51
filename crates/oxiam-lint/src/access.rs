//! IAM Access Analyzer's custom policy checks that need no analyzer: whether a policy may
//! grant some access (CheckAccessNotGranted) and whether a resource policy may let anyone in
//! (CheckNoPublicAccess).
//!
//! Both answer "may": a statement counts when some request it matches is allowed, its
//! conditions taken as satisfiable. So a PASS is a proof (no request of the asked kind is
//! allowed, whatever the conditions say), and a FAIL may be one the conditions would rule
//! out — the direction Access Analyzer documents ("the policy might allow"). A Deny takes
//! access away only where it surely applies: no condition, every principal, and its actions
//! and resources covering the asked ones.

use oxiam_policy::{Effect, Policy, PrincipalType, PrincipalValue, SetQualifier, Statement};

use crate::reference::reference;
use crate::variables_as_wildcards;
use crate::wildcard::{matches, may_intersect, surely_matches};

/// Why a check failed: a statement that grants what was asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// What the statement does.
    pub description: String,
    /// Its place in `Statement`, from 0.
    pub statement_index: usize,
    /// Its `Sid`, if it has one.
    pub statement_id: Option<String>,
}

/// One action asked about: any action, or those a name (or wildcard) stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AskedAction {
    Any,
    /// A lower-cased `service:action`.
    Named(String),
}

/// One resource asked about: any resource, or an ARN (its wildcards standing for any text).
#[derive(Debug, Clone, PartialEq, Eq)]
enum AskedResource {
    Any,
    Arn(String),
}

/// The longest action, resource or condition text the checks match: wildcard matching costs
/// the product of two texts' lengths, and no real policy comes near.
pub(crate) const MAX_TEXT: usize = 1024;

/// Every text of `policy` the checks match or compare: actions, resources, condition keys
/// and values (principals are only ever compared whole).
pub(crate) fn matched_texts(policy: &Policy) -> impl Iterator<Item = &String> {
    policy.statements.iter().flat_map(|s| {
        s.action
            .values
            .iter()
            .chain(s.resource.iter().flat_map(|r| &r.values))
            .chain(
                s.conditions
                    .iter()
                    .flat_map(|c| std::iter::once(&c.key).chain(&c.values)),
            )
    })
}

/// Whether some text of `policy` the checks match is longer than [`MAX_TEXT`].
pub(crate) fn has_long_text(policy: &Policy) -> bool {
    matched_texts(policy).any(|t| t.chars().count() > MAX_TEXT)
}

/// How many statement matches one check may make: past it, every Allow statement not yet
/// decided counts as granting (FAIL is the answer that is never wrong), so
/// that a large policy or a wide question cannot hold a server's thread for long.
const WORK: usize = 5_000_000;

/// The statements of `policy` that may grant one of `actions` on one of `resources`
/// (CheckAccessNotGranted: with no actions, any action; with no resources, any resource).
/// Empty when none can. An action with wildcards stands for every action of the Service
/// Authorization Reference it matches, or, matching none, for itself.
pub fn grants(policy: &Policy, actions: &[String], resources: &[String]) -> Vec<Reason> {
    grants_within(policy, actions, resources, WORK)
}

fn grants_within(policy: &Policy, actions: &[String], resources: &[String], mut work: usize) -> Vec<Reason> {
    // Matching two patterns costs the product of their lengths: past this, every Allow may grant.
    let long = |items: &[String]| items.iter().any(|t| t.chars().count() > MAX_TEXT);
    if has_long_text(policy) || long(actions) || long(resources) {
        work = 0;
    }
    let actions = asked_actions(actions);
    let resources: Vec<AskedResource> = if resources.is_empty() {
        vec![AskedResource::Any]
    } else {
        resources.iter().map(|r| AskedResource::Arn(r.clone())).collect()
    };
    let mut reasons = Vec::new();
    // An Allow, then each statement as a Deny, for one action on one resource.
    let per_decision = policy.statements.len() + 1;
    let mut spend = || {
        work = work.saturating_sub(per_decision);
        work > 0
    };
    for (index, statement) in policy.statements.iter().enumerate() {
        if statement.effect != Effect::Allow {
            continue;
        }
        let granted = actions.iter().any(|action| {
            resources.iter().any(|resource| {
                !spend()
                    || allow_applies(statement, action, resource)
                        && !policy
                            .statements
                            .iter()
                            .any(|deny| surely_denies(deny, action, resource))
            })
        });
        if granted {
            reasons.push(Reason {
                description: format!(
                    "One or more of the listed actions or resources is granted by the statement at index {index}."
                ),
                statement_index: index,
                statement_id: statement.sid.clone(),
            });
        }
    }
    reasons
}

/// The statements of a resource-based `policy` that may allow anyone: an Allow whose
/// principal is everyone (`*`, `{"AWS": "*"}`, or a `NotPrincipal`) with no condition that
/// limits the callers to known accounts, organizations, networks or sources.
pub fn public_grants(policy: &Policy) -> Vec<Reason> {
    policy
        .statements
        .iter()
        .enumerate()
        .filter(|(_, s)| s.effect == Effect::Allow && names_everyone(s) && !s.conditions.iter().any(limits_callers))
        .map(|(index, s)| Reason {
            description: format!("The statement at index {index} allows access to anyone."),
            statement_index: index,
            statement_id: s.sid.clone(),
        })
        .collect()
}

fn asked_actions(actions: &[String]) -> Vec<AskedAction> {
    if actions.is_empty() {
        return vec![AskedAction::Any];
    }
    let mut out = Vec::new();
    for action in actions {
        let lower = action.to_ascii_lowercase();
        if !lower.contains(['*', '?']) {
            out.push(AskedAction::Named(lower));
            continue;
        }
        let before = out.len();
        for service in reference().services() {
            for a in &service.actions {
                let name = format!("{}:{}", service.prefix, a.lower);
                if matches(&lower, &name) {
                    out.push(AskedAction::Named(name));
                }
            }
        }
        if out.len() == before {
            out.push(AskedAction::Named(lower));
        }
    }
    out
}

/// Whether `statement`'s Action (or NotAction) reaches `action` (lower-case `service:name`).
pub(crate) fn action_matched(statement: &Statement, action: &str) -> bool {
    let listed = statement
        .action
        .values
        .iter()
        .any(|p| matches(&p.to_ascii_lowercase(), action));
    listed != statement.action.not
}

/// Whether the Allow `statement` matches some request for `action` on `resource`, its
/// conditions and principal taken as satisfied.
fn allow_applies(statement: &Statement, action: &AskedAction, resource: &AskedResource) -> bool {
    let action_ok = match action {
        AskedAction::Named(name) => action_matched(statement, name),
        // Some action: unless NotAction leaves out everything.
        AskedAction::Any => !statement.action.not || !statement.action.values.iter().any(|p| p == "*"),
    };
    let Some(spec) = &statement.resource else {
        return action_ok;
    };
    let resource_ok = match (resource, spec.not) {
        (AskedResource::Any, false) => true,
        (AskedResource::Any, true) => !spec.values.iter().any(|p| p == "*"),
        (AskedResource::Arn(arn), false) => spec
            .values
            .iter()
            .any(|p| may_intersect(&variables_as_wildcards(p), arn)),
        // Left out only by a pattern that surely covers it: with a variable, a pattern
        // might cover less, and a wildcard asked for might reach past it.
        (AskedResource::Arn(arn), true) => !spec
            .values
            .iter()
            .any(|p| p == "*" || (!p.contains("${") && !arn.contains(['*', '?']) && surely_matches(p, arn))),
    };
    action_ok && resource_ok
}

/// Whether `statement` is a Deny that refuses every request for `action` on `resource`,
/// whoever asks and whatever the request's context.
fn surely_denies(statement: &Statement, action: &AskedAction, resource: &AskedResource) -> bool {
    if statement.effect != Effect::Deny || !statement.conditions.is_empty() {
        return false;
    }
    if let Some(principal) = &statement.principal
        && (principal.not || !names_everyone(statement))
    {
        return false;
    }
    let action_covered = match action {
        AskedAction::Named(name) => action_matched(statement, name),
        AskedAction::Any => !statement.action.not && statement.action.values.iter().any(|p| p == "*"),
    };
    let Some(spec) = &statement.resource else {
        return action_covered;
    };
    // The engine passes over a statement one of whose patterns holds a variable the request
    // has no value for: such a Deny may not apply at all.
    if spec.values.iter().any(|p| p.contains("${")) {
        return false;
    }
    let resource_covered = match (resource, spec.not) {
        (_, false) if spec.values.iter().any(|p| p == "*") => true,
        (AskedResource::Arn(arn), false) if !arn.contains(['*', '?']) => {
            spec.values.iter().any(|p| surely_matches(p, arn))
        }
        (AskedResource::Arn(arn), true) if !arn.contains(['*', '?']) => {
            spec.values.iter().all(|p| !may_intersect(p, arn))
        }
        _ => false,
    };
    action_covered && resource_covered
}

/// Whether the statement's principal is everyone: `*`, `{"AWS": "*"}` among others, or a
/// `NotPrincipal` (everyone but those it names).
fn names_everyone(statement: &Statement) -> bool {
    let Some(principal) = &statement.principal else {
        return false;
    };
    principal.not
        || match &principal.value {
            PrincipalValue::Any => true,
            PrincipalValue::Map(typed) => typed
                .iter()
                .any(|(kind, values)| *kind == PrincipalType::Aws && values.iter().any(|v| v == "*")),
        }
}

/// Condition keys that, compared positively with values that are not wildcards, confine a
/// statement to callers of known accounts, organizations, networks or sources: what Access
/// Analyzer and S3's Block Public Access treat as making a grant to `*` non-public.
const LIMITING_KEYS: &[&str] = &[
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalservicename",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceip",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:sourceowner",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:userid",
];

fn limits_callers(condition: &oxiam_policy::Condition) -> bool {
    use oxiam_policy::OperatorBase as Op;
    let positive = matches!(
        condition.operator.base,
        Op::StringEquals | Op::StringEqualsIgnoreCase | Op::StringLike | Op::ArnEquals | Op::ArnLike | Op::IpAddress
    );
    // ForAllValues holds for a request without the key; IfExists too.
    let key = condition.key.to_ascii_lowercase();
    positive
        && condition.operator.set != Some(SetQualifier::ForAllValues)
        && !condition.operator.if_exists
        && LIMITING_KEYS.contains(&key.as_str())
        && !condition.values.is_empty()
        && condition.values.iter().all(|v| confines(&key, v))
}

/// Whether a value of a limiting key names particular callers: no variable (StringEquals
/// substitutes them: `${aws:PrincipalAccount}` is everyone's own), and wildcards only past
/// the part that names the account, organization or role (`arn:aws:iam::*:*` names no one,
/// `AIDA*` every IAM user).
fn confines(key: &str, value: &str) -> bool {
    let wild = |s: &str| s.contains(['*', '?']);
    if value.contains("${") {
        return false;
    }
    match key {
        "aws:sourceip" => !wild(value) && value != "0.0.0.0/0" && value != "::/0",
        "aws:principalarn" | "aws:sourcearn" => {
            !wild(value)
                || oxiam_policy::split_arn(value)
                    .is_some_and(|s| !wild(s[1]) && s[4].len() == 12 && s[4].bytes().all(|b| b.is_ascii_digit()))
        }
        "aws:principalorgpaths" | "aws:sourceorgpaths" => value
            .split_once('/')
            .is_some_and(|(org, _)| !org.is_empty() && !wild(org)),
        // A role session's id is the role's id, a colon, and the session name.
        "aws:userid" => value
            .split_once(':')
            .map_or(!wild(value), |(id, _)| !id.is_empty() && !wild(id)),
        _ => !wild(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Past its work, a check answers "may be granted" for every Allow it has not decided,
    /// never "not granted".
    #[test]
    fn out_of_work_everything_may_be_granted() {
        let doc = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
            {"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}"#;
        let policy = oxiam_policy::parse(doc, oxiam_policy::PolicyKind::Identity).unwrap();
        let asked = ["sqs:SendMessage".to_owned()];
        assert!(grants(&policy, &asked, &[]).is_empty());
        let indexes: Vec<usize> = grants_within(&policy, &asked, &[], 1)
            .iter()
            .map(|r| r.statement_index)
            .collect();
        assert_eq!(indexes, [0, 1]);
    }
}
