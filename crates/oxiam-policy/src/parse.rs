//! Parsing and write-time validation of policy documents, with the `MalformedPolicyDocument`
//! messages IAM returns.
//!
//! The checks run in this order, which reproduces the message IAM gives for documents with
//! several faults (order and texts taken from recorded IAM answers, see
//! `tests/validation.rs`):
//!
//! 1. syntax (JSON, element names and shapes, known condition operators) → "Syntax errors in
//!    policy.";
//! 2. `Version` 2012-10-17 (identity policies and permissions boundaries) → "Policy document
//!    must be version 2012-10-17 or greater.";
//! 3. principal and resource elements allowed for the policy kind;
//! 4. legacy parsing: case-sensitive `Effect`, `Date*` values, ARN shape → "The policy failed
//!    legacy parsing";
//! 5. unique (and, for IAM policies, alphanumeric) `Sid`s;
//! 6. every statement has actions → "Policy statement must contain actions.";
//! 7. resource ARN format ("Resource X must be in ARN format or \"*\".", "Partition …",
//!    region and IAM path rules);
//! 8. action format ("Actions/Conditions must be prefaced by a vendor, …", "Actions/Condition
//!    can contain only one colon.", "Vendor X is not valid");
//! 9. every statement has resources (not trust policies) → "Policy statement must contain
//!    resources.";
//! 10. principals: required in resource-based and trust policies, well-formed; trust-policy
//!     actions.

use crate::PolicyKind;
use crate::ast::{
    ActionSpec, Condition, Effect, Operator, Policy, PrincipalSpec, PrincipalType, PrincipalValue, ResourceSpec,
    Statement, Version,
};
use crate::condition::date::legacy_date_ok;
use crate::json::{Json, member};
use crate::principal::{account_of, is_unique_id};

/// A policy document IAM would reject, with the `MalformedPolicyDocument` message it returns.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PolicyError {
    /// The message, as IAM words it.
    pub message: String,
}

impl PolicyError {
    pub(crate) fn new(message: impl Into<String>) -> PolicyError {
        PolicyError {
            message: message.into(),
        }
    }
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyError {}

pub(crate) const SYNTAX: &str = "Syntax errors in policy.";
/// What IAM answers for a trust policy that is not JSON at all (other kinds: [`SYNTAX`], as
/// recorded for CreatePolicy).
pub(crate) const INVALID_JSON: &str = "This policy contains invalid Json";
pub(crate) const VERSION: &str = "Policy document must be version 2012-10-17 or greater.";
pub(crate) const LEGACY: &str = "The policy failed legacy parsing";
pub(crate) const SID_UNIQUE: &str = "Statement IDs (SID) in a single policy must be unique.";
pub(crate) const SID_ALNUM: &str =
    "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*";
pub(crate) const NO_ACTIONS: &str = "Policy statement must contain actions.";
pub(crate) const NO_RESOURCES: &str = "Policy statement must contain resources.";
pub(crate) const NO_VENDOR: &str = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
pub(crate) const ONE_COLON: &str = "Actions/Condition can contain only one colon.";
pub(crate) const NO_PRINCIPAL_ALLOWED: &str = "Policy document should not specify a principal.";
pub(crate) const PRINCIPAL_REQUIRED: &str = "Missing required field Principal";
pub(crate) const TRUST_ACTIONS: &str = "AssumeRole policy may only specify STS AssumeRole actions.";
pub(crate) const VENDOR_REGEX: &str = "Resource vendor must be fully qualified and cannot contain regexes.";

const STATEMENT_KEYS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

const IAM_RESOURCE_PREFIXES: [&str; 13] = [
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
];

/// The actions a role trust policy may name (AWS STS API reference; IAM User Guide, "Role
/// trust policies").
const TRUST_ACTION_NAMES: [&str; 6] = [
    "assumerole",
    "assumerolewithsaml",
    "assumerolewithwebidentity",
    "tagsession",
    "setsourceidentity",
    "setcontext",
];

fn fail<T>(message: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError::new(message))
}

/// A string or an array of strings.
fn string_list(v: &Json) -> Option<Vec<String>> {
    match v {
        Json::Str(s) => Some(vec![s.clone()]),
        Json::Arr(items) => items.iter().map(|i| i.as_str().map(str::to_owned)).collect(),
        _ => None,
    }
}

/// A condition value list: strings, numbers or booleans, alone or in an array.
fn condition_values(v: &Json) -> Option<Vec<String>> {
    let scalar = |j: &Json| match j {
        Json::Str(s) => Some(s.clone()),
        Json::Num(n) => Some(n.clone()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match v {
        Json::Arr(items) => items.iter().map(scalar).collect(),
        other => scalar(other).map(|s| vec![s]),
    }
}

/// A statement as it appears in the document, after the syntax pass.
struct Raw<'a> {
    sid: Option<String>,
    effect: String,
    principal: Option<(bool, &'a Json)>,
    action: Option<(bool, Vec<String>)>,
    resource: Option<(bool, Vec<String>)>,
    conditions: Vec<Condition>,
    /// (operator name, values) of every condition block, known or not, for the date check.
    condition_blocks: Vec<(String, Vec<Vec<String>>)>,
}

/// The top level of a document: `Version`, `Id` and the statements (not yet checked).
type TopLevel = (Option<Version>, Option<String>, Vec<Json>);

fn syntax_pass(text: &str, kind: PolicyKind) -> Result<TopLevel, PolicyError> {
    let Some(doc) = Json::parse(text) else {
        // A trust policy that is no JSON at all is "invalid Json"; JSON the policy grammar
        // refuses (a key twice in one object), or any other kind of policy, a syntax error.
        let is_json = serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
        return fail(if kind == PolicyKind::Trust && !is_json {
            INVALID_JSON
        } else {
            SYNTAX
        });
    };
    let Json::Obj(mut top) = doc else { return fail(SYNTAX) };
    if top
        .iter()
        .any(|(k, _)| !matches!(k.as_str(), "Version" | "Id" | "Statement"))
    {
        return fail(SYNTAX);
    }
    let version = match member(&top, "Version") {
        None => None,
        Some(Json::Str(v)) if v == "2012-10-17" => Some(Version::V2012),
        Some(Json::Str(v)) if v == "2008-10-17" => Some(Version::V2008),
        Some(_) => return fail(SYNTAX),
    };
    let id = match member(&top, "Id") {
        None => None,
        Some(Json::Str(id)) => Some(id.clone()),
        Some(_) => return fail(SYNTAX),
    };
    let at = top.iter().position(|(k, _)| k == "Statement");
    let statements = match at.map(|i| top.swap_remove(i).1) {
        Some(one @ Json::Obj(_)) => vec![one],
        Some(Json::Arr(items)) if !items.is_empty() => items,
        _ => return fail(SYNTAX),
    };
    Ok((version, id, statements))
}

fn statement_syntax(stmt: &Json) -> Result<Raw<'_>, PolicyError> {
    let Json::Obj(obj) = stmt else { return fail(SYNTAX) };
    if obj.iter().any(|(k, _)| !STATEMENT_KEYS.contains(&k.as_str())) {
        return fail(SYNTAX);
    }
    let has = |k: &str| member(obj, k).is_some();
    if (has("Action") && has("NotAction"))
        || (has("Resource") && has("NotResource"))
        || (has("Principal") && has("NotPrincipal"))
    {
        return fail(SYNTAX);
    }
    let effect = match member(obj, "Effect") {
        Some(Json::Str(e)) if e.eq_ignore_ascii_case("allow") || e.eq_ignore_ascii_case("deny") => e.clone(),
        _ => return fail(SYNTAX),
    };
    let list = |names: [&str; 2]| -> Result<Option<(bool, Vec<String>)>, PolicyError> {
        for (not, name) in [(false, names[0]), (true, names[1])] {
            if let Some(v) = member(obj, name) {
                return string_list(v)
                    .map(|l| Some((not, l)))
                    .ok_or_else(|| PolicyError::new(SYNTAX));
            }
        }
        Ok(None)
    };
    let action = list(["Action", "NotAction"])?;
    let resource = list(["Resource", "NotResource"])?;
    let sid = match member(obj, "Sid") {
        None => None,
        Some(Json::Str(s)) => Some(s.clone()),
        Some(_) => return fail(SYNTAX),
    };
    let principal = match (member(obj, "Principal"), member(obj, "NotPrincipal")) {
        (Some(p), _) => Some((false, p)),
        (None, Some(p)) => Some((true, p)),
        (None, None) => None,
    };
    if let Some((_, p)) = principal {
        match p {
            Json::Str(s) if s == "*" => {}
            Json::Obj(map) if !map.is_empty() => {
                if map.iter().any(|(_, v)| string_list(v).is_none_or(|l| l.is_empty())) {
                    return fail(SYNTAX);
                }
            }
            _ => return fail(SYNTAX),
        }
    }
    let mut conditions = Vec::new();
    let mut condition_blocks = Vec::new();
    if let Some(cond) = member(obj, "Condition") {
        let Json::Obj(blocks) = cond else { return fail(SYNTAX) };
        for (op_name, block) in blocks {
            let Json::Obj(entries) = block else { return fail(SYNTAX) };
            let mut block_values = Vec::new();
            let operator = Operator::parse(op_name);
            if operator.is_none() && !entries.is_empty() {
                return fail(SYNTAX);
            }
            for (key, value) in entries {
                let values = condition_values(value).ok_or_else(|| PolicyError::new(SYNTAX))?;
                if let Some(operator) = operator {
                    conditions.push(Condition {
                        operator,
                        key: key.clone(),
                        values: values.clone(),
                    });
                }
                block_values.push(values);
            }
            condition_blocks.push((op_name.clone(), block_values));
        }
    }
    Ok(Raw {
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
        condition_blocks,
    })
}

/// Checks one resource's format; `Some(message)` for an error (IAM reports the last one found).
fn resource_format_error(r: &str) -> Option<String> {
    if r == "*" {
        return None;
    }
    let Some((_, after_first)) = r.split_once(':') else {
        return Some(format!("Resource {r} must be in ARN format or \"*\"."));
    };
    let (partition, after_partition) = match after_first.split_once(':') {
        Some((p, rest)) => (p, Some(rest)),
        None => (after_first, None),
    };
    if partition != "aws" && partition != "*" {
        let rest: Vec<&str> = after_partition.unwrap_or("").split(':').collect();
        let a1 = if !rest[0].is_empty() || rest.len() > 1 {
            rest[0]
        } else {
            "*"
        };
        let a2 = rest.get(1).copied().unwrap_or("*");
        let a3 = rest.get(2).copied().unwrap_or("*");
        let a4 = if rest.len() > 3 {
            rest[3..].join(":")
        } else {
            "*".to_owned()
        };
        return Some(format!(
            "Partition \"{partition}\" is not valid for resource \"arn:{partition}:{a1}:{a2}:{a3}:{a4}\"."
        ));
    }
    let Some(after_partition) = after_partition else {
        return Some(VENDOR_REGEX.to_owned());
    };
    let (service, after_service) = after_partition.split_once(':').unwrap_or((after_partition, ""));
    // "No wildcard in the service segment" (AWS IAM User Guide, "IAM JSON policy elements:
    // Resource"), reported with the message IAM uses for an unqualified vendor.
    if service.contains(['*', '?']) {
        return Some(VENDOR_REGEX.to_owned());
    }
    if !after_service.starts_with(':') {
        match service {
            "iam" => return Some(format!("IAM resource {r} cannot contain region information.")),
            // Buckets and objects (`arn:aws:s3:::b/k`) carry neither region nor account;
            // regional S3 resources (access points, jobs, access grants) carry both, and
            // AWS's own managed policies name them (`arn:aws:s3:*:*:accesspoint/*`).
            "s3" if after_service.split(':').nth(1).is_some_and(str::is_empty) => {
                return Some(format!("Resource {r} can not contain region information."));
            }
            _ => {}
        }
    }
    if service == "iam" {
        // Skip region and account.
        let resource = after_service.splitn(3, ':').nth(2).unwrap_or("");
        // IAM's message lists the prefixes above, yet AWS managed policies also name the
        // root user (`arn:aws:iam::*:root`, IAMAuditRootUserCredentials) and role
        // templates (`role-template/…`, AWSCloudWatchOmniServiceRolePolicy), and policies
        // grant on delegation requests (`delegation-request/…`, the IAM User Guide's
        // temporary delegation).
        let also_valid =
            resource == "root" || resource.starts_with("role-template/") || resource.starts_with("delegation-request/");
        if resource != "*" && !also_valid && !IAM_RESOURCE_PREFIXES.iter().any(|p| resource.starts_with(p)) {
            return Some(format!(
                "IAM resource path must either be \"*\" or start with {}.",
                IAM_RESOURCE_PREFIXES.join(", ")
            ));
        }
    }
    None
}

/// IAM's legacy ARN check: a non-`*` resource with `::` must have all six segments, and the
/// service segment may not be empty.
fn resource_legacy_ok(r: &str) -> bool {
    if r == "*" {
        return true;
    }
    (r.matches(':').count() >= 5 || !r.contains("::")) && r.split(':').nth(2).is_none_or(|s| !s.is_empty())
}

fn action_format_error(action: &str) -> Option<String> {
    let parts: Vec<&str> = action.split(':').collect();
    if parts.len() == 1 && parts[0] != "*" {
        return Some(NO_VENDOR.to_owned());
    }
    if parts.len() > 2 {
        return Some(ONE_COLON.to_owned());
    }
    let vendor = parts[0];
    if vendor != "*"
        && vendor
            .bytes()
            .any(|c| !(c.is_ascii_alphanumeric() || c == b'-' || c == b'.'))
    {
        return Some(format!("Vendor {vendor} is not valid"));
    }
    None
}

fn trust_action_ok(action: &str) -> bool {
    if action == "*" {
        return true;
    }
    let Some((vendor, name)) = action.split_once(':') else {
        return false;
    };
    if !vendor.eq_ignore_ascii_case("sts") {
        return false;
    }
    if name.contains(['*', '?']) {
        let g = crate::glob::Glob::new(&name.to_ascii_lowercase());
        return TRUST_ACTION_NAMES.iter().any(|n| g.matches(n));
    }
    TRUST_ACTION_NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
}

fn invalid_principal(ty: &str, v: &str) -> PolicyError {
    PolicyError::new(format!("Invalid principal in policy: \"{ty}\":\"{v}\""))
}

/// Whether `v` is a well-formed `"AWS"` principal: `*`, an account id, a root/user/role ARN,
/// a role-session or federated-user ARN, or a unique id; no partial wildcards.
fn aws_principal_ok(v: &str) -> bool {
    if v == "*" || account_of(v).is_some() || is_unique_id(v) {
        return true;
    }
    if v.contains(['*', '?']) {
        return false;
    }
    let Some(rest) = v.strip_prefix("arn:") else {
        return false;
    };
    let Some((partition, rest)) = rest.split_once(':') else {
        return false;
    };
    if partition.is_empty() {
        return false;
    }
    let (service, rest) = match rest.split_once("::") {
        Some(x) => x,
        None => return false,
    };
    let Some((account, resource)) = rest.split_once(':') else {
        return false;
    };
    if !crate::principal::is_account_id(account) {
        return false;
    }
    let non_empty_tail = |prefix: &str| {
        resource
            .strip_prefix(prefix)
            .is_some_and(|t| !t.is_empty() && !t.ends_with('/'))
    };
    match service {
        "iam" => non_empty_tail("user/") || non_empty_tail("role/"),
        "sts" => {
            if let Some(t) = resource.strip_prefix("assumed-role/") {
                matches!(t.split_once('/'), Some((r, s)) if !r.is_empty() && !s.is_empty() && !s.contains('/'))
            } else {
                non_empty_tail("federated-user/")
            }
        }
        _ => false,
    }
}

fn principal_value(p: &Json, kind: PolicyKind) -> Result<PrincipalValue, PolicyError> {
    match p {
        Json::Str(_) => Ok(PrincipalValue::Any),
        Json::Obj(map) => {
            let mut out = Vec::new();
            for (key, v) in map {
                let values = string_list(v).unwrap_or_default();
                let Some(ty) = PrincipalType::from_key(key) else {
                    return Err(invalid_principal(key, values.first().map_or("", String::as_str)));
                };
                for value in &values {
                    let ok = match ty {
                        PrincipalType::Aws => aws_principal_ok(value),
                        PrincipalType::Service | PrincipalType::Federated | PrincipalType::CanonicalUser => {
                            !value.is_empty() && (value == "*" || !value.contains(['*', '?']))
                        }
                    };
                    if !ok && matches!(kind, PolicyKind::Resource | PolicyKind::Trust | PolicyKind::Rcp) {
                        return Err(invalid_principal(ty.as_str(), value));
                    }
                }
                out.push((ty, values));
            }
            Ok(PrincipalValue::Map(out))
        }
        _ => fail(SYNTAX),
    }
}

/// Parses `text` as a policy of `kind`, validating it as IAM does when the document is stored
/// (CreatePolicy, PutUserPolicy, CreateRole, …). Never panics.
pub fn parse(text: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
    // 1. Syntax.
    let (version, id, statement_values) = syntax_pass(text, kind)?;
    let raws: Vec<Raw<'_>> = statement_values
        .iter()
        .map(statement_syntax)
        .collect::<Result<_, _>>()?;

    // 2. Version.
    if matches!(kind, PolicyKind::Identity | PolicyKind::Boundary) && version != Some(Version::V2012) {
        return fail(VERSION);
    }

    // 3. Elements allowed for the kind.
    for raw in &raws {
        match kind {
            PolicyKind::Identity | PolicyKind::Boundary | PolicyKind::Session | PolicyKind::Scp => {
                if raw.principal.is_some() {
                    return fail(NO_PRINCIPAL_ALLOWED);
                }
            }
            PolicyKind::Trust => {
                if raw.principal.is_some_and(|(not, _)| not) {
                    return fail("Has prohibited field NotPrincipal");
                }
                match raw.resource {
                    Some((false, _)) => return fail("Has prohibited field Resource"),
                    Some((true, _)) => return fail("Has prohibited field NotResource"),
                    None => {}
                }
            }
            PolicyKind::Resource | PolicyKind::Rcp => {}
        }
    }

    // 4. Legacy parsing: Effect case, Date values, then ARN shapes.
    for raw in &raws {
        if raw.effect != "Allow" && raw.effect != "Deny" {
            return fail(LEGACY);
        }
        for (op_name, blocks) in &raw.condition_blocks {
            let date_op = Operator::parse(op_name).is_some_and(|o| o.base.is_date());
            if date_op && blocks.iter().flatten().any(|v| !legacy_date_ok(v)) {
                return fail(LEGACY);
            }
        }
    }
    let mut resource_error: Option<String> = None;
    for not in [false, true] {
        for raw in &raws {
            let Some((is_not, values)) = &raw.resource else {
                continue;
            };
            if *is_not != not {
                continue;
            }
            let mut sorted: Vec<&String> = values.iter().collect();
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            for r in sorted {
                if let Some(e) = resource_format_error(r) {
                    resource_error = Some(e);
                }
            }
            if resource_error.is_none() && !values.iter().all(|r| resource_legacy_ok(r)) {
                return fail(LEGACY);
            }
        }
    }

    // 5. Sids.
    let mut seen: Vec<&str> = Vec::new();
    for raw in &raws {
        if let Some(sid) = raw.sid.as_deref().filter(|s| !s.is_empty()) {
            if seen.contains(&sid) {
                return fail(SID_UNIQUE);
            }
            seen.push(sid);
        }
    }
    if matches!(
        kind,
        PolicyKind::Identity | PolicyKind::Boundary | PolicyKind::Trust | PolicyKind::Session
    ) && raws
        .iter()
        .flat_map(|r| r.sid.as_deref())
        .any(|s| !s.bytes().all(|c| c.is_ascii_alphanumeric()))
    {
        return fail(SID_ALNUM);
    }

    // 6. Actions present.
    if raws.iter().any(|r| r.action.as_ref().is_none_or(|(_, l)| l.is_empty())) {
        return fail(NO_ACTIONS);
    }

    // 7. Resource formats.
    if let Some(e) = resource_error {
        return fail(e);
    }

    // 8. Action formats (Action elements first, then NotAction).
    for not in [false, true] {
        for raw in &raws {
            let Some((is_not, values)) = &raw.action else { continue };
            if *is_not == not
                && let Some(e) = values.iter().find_map(|a| action_format_error(a))
            {
                return fail(e);
            }
        }
    }

    // 9. Resources present.
    if kind != PolicyKind::Trust
        && raws
            .iter()
            .any(|r| r.resource.as_ref().is_none_or(|(_, l)| l.is_empty()))
    {
        return fail(NO_RESOURCES);
    }

    // 10. Principals and trust actions.
    let mut statements = Vec::with_capacity(raws.len());
    for raw in raws {
        if matches!(kind, PolicyKind::Resource | PolicyKind::Trust | PolicyKind::Rcp) && raw.principal.is_none() {
            return fail(PRINCIPAL_REQUIRED);
        }
        let principal = match raw.principal {
            Some((not, p)) => Some(PrincipalSpec {
                not,
                value: principal_value(p, kind)?,
            }),
            None => None,
        };
        let (not_action, actions) = raw.action.unwrap_or_default();
        if kind == PolicyKind::Trust && !actions.iter().all(|a| trust_action_ok(a)) {
            return fail(TRUST_ACTIONS);
        }
        statements.push(Statement {
            sid: raw.sid,
            effect: if raw.effect == "Allow" {
                Effect::Allow
            } else {
                Effect::Deny
            },
            principal,
            action: ActionSpec {
                not: not_action,
                values: actions,
            },
            resource: raw.resource.map(|(not, values)| ResourceSpec { not, values }),
            conditions: raw.conditions,
        });
    }

    Ok(Policy {
        kind,
        version,
        id,
        statements,
    })
}
