//! The least-privilege identity policy for a list of requests (`oxiam policy suggest` reads
//! them from an audit trail): actions grouped per service, one statement per set of resources,
//! each resource generalized only as far as asked and as the Service Authorization Reference's
//! resource types allow.
//!
//! How far a resource is generalized ([`Generalize`]): not at all (the ARN as requested), or
//! within the names the action's resource type leaves variable (`${UserNameWithPath}` of
//! `arn:${Partition}:iam::${Account}:user/${UserNameWithPath}`), never in the parts the type
//! fixes (`user/`), before the ARN's fifth colon (partition, service, region, account), nor in
//! a variable that names an account. An action whose reference entry names no resource type
//! is granted on `*`, the only resource AWS accepts for it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::reference::{Action, Service, reference};

/// How far a recorded resource is generalized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generalize {
    /// The ARN exactly as requested.
    Exact,
    /// Within the names a resource type leaves variable, what looks generated (a run of six or
    /// more digits, such as a timestamp; a UUID) becomes `*`: `demo-user-1796492107106512319`
    /// → `demo-user-*`, so a program that names its resources afresh on each run still fits.
    Ids,
    /// As `Ids`, and the last name of the resource type's format becomes `*`: every user of
    /// the account, every object of the bucket (the bucket's name itself as `Ids` leaves it).
    Names,
}

/// One authorized request: its action and resource, as the request record writes them.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// `s3:getobject` or `s3:GetObject`.
    pub action: String,
    /// The ARN, or `*`.
    pub resource: String,
}

/// The suggested policy for `attempts`: Version 2012-10-17, per service one statement per set
/// of resources its actions were asked on.
pub fn suggestion(attempts: &[Attempt], generalize: Generalize) -> Value {
    // service → action → resources
    let mut by_service: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for a in attempts {
        let (prefix, name) = a.action.split_once(':').unwrap_or((&a.action, ""));
        let service = reference().service(prefix);
        let known = service.and_then(|s| s.action(name));
        let action = match known {
            Some(found) => format!("{}:{}", prefix.to_ascii_lowercase(), found.name),
            None => a.action.clone(),
        };
        let resource = match (service, known) {
            // A request on no resource, or an action the reference says acts on no resource
            // type: AWS accepts only `*`.
            _ if a.resource == "*" => "*".to_owned(),
            (Some(_), Some(found)) if found.resources.is_empty() => "*".to_owned(),
            (Some(service), Some(found)) => generalized(service, found, &a.resource, generalize),
            _ => generalized_without_type(&a.resource, generalize),
        };
        let resources = by_service
            .entry(prefix.to_ascii_lowercase())
            .or_default()
            .entry(action)
            .or_default();
        resources.insert(resource);
        if resources.contains("*") {
            resources.retain(|r| r == "*");
        }
    }
    let mut statements = Vec::new();
    for (service, actions) in by_service {
        // Actions asked on the same resources share a statement.
        let mut by_resources: BTreeMap<BTreeSet<String>, Vec<String>> = BTreeMap::new();
        for (action, resources) in actions {
            by_resources.entry(resources).or_default().push(action);
        }
        let sid = sid_of(&service);
        for (n, (resources, actions)) in by_resources.into_iter().enumerate() {
            statements.push(json!({
                "Sid": format!("{sid}{}", n + 1),
                "Effect": "Allow",
                "Action": one_or_many(actions),
                "Resource": one_or_many(resources.into_iter().collect()),
            }));
        }
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// `s3` → `S3`, `access-analyzer` → `AccessAnalyzer`: a Sid may hold letters and digits only.
fn sid_of(service: &str) -> String {
    service
        .split(|c: char| !c.is_ascii_alphanumeric())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// `resource` generalized within the names of the first of the action's resource types whose
/// ARN format it fits; as [`generalized_without_type`] when it fits none.
fn generalized(service: &Service, action: &Action, resource: &str, generalize: Generalize) -> String {
    let Some(start) = resource_part_start(resource) else {
        return not_an_arn();
    };
    if generalize == Generalize::Exact {
        return literal_from(resource, 0, start);
    }
    let formats = action
        .resources
        .iter()
        .filter_map(|name| service.resources.get(name))
        .flat_map(|t| t.formats());
    for format in formats {
        let Some(parts) = fit(format, resource) else { continue };
        // The last name of the format (an object's, not its bucket's) is the one `names`
        // generalizes whole.
        let last_name = parts.iter().rposition(|p| matches!(p, Part::Name(..)));
        let mut out = String::new();
        let mut at = 0;
        for (index, part) in parts.iter().enumerate() {
            match *part {
                Part::Fixed(text) => out.push_str(&literal_from(text, at, start)),
                Part::Name(variable, text) if at < start || locates(variable) || is_account(text) => {
                    out.push_str(&literal_from(text, at, start));
                }
                Part::Name(_, _) if generalize == Generalize::Names && Some(index) == last_name => out.push('*'),
                Part::Name(_, text) => out.push_str(&without_ids(text)),
            }
            at += match part {
                Part::Fixed(text) | Part::Name(_, text) => text.len(),
            };
        }
        return out;
    }
    generalized_without_type(resource, generalize)
}

/// A resource no resource type describes (an action the reference does not know, or an ARN of
/// another shape): everything up to the ARN's fifth colon kept, what looks generated after it
/// generalized (what the rest means is not known).
fn generalized_without_type(resource: &str, generalize: Generalize) -> String {
    let Some(start) = resource_part_start(resource) else {
        return not_an_arn();
    };
    match generalize {
        Generalize::Exact => literal_from(resource, 0, start),
        Generalize::Ids | Generalize::Names => {
            literal_from(&resource[..start], 0, start) + &without_ids(&resource[start..])
        }
    }
}

/// Where an ARN's resource part starts: after its fifth colon (`None`: not an ARN).
fn resource_part_start(arn: &str) -> Option<usize> {
    arn.match_indices(':').nth(4).map(|(at, _)| at + 1)
}

/// A recorded resource with fewer than five colons, which no ARN format describes: a policy's
/// `Resource` is an ARN or `*` (IAM refuses anything else), so only `*` names it.
fn not_an_arn() -> String {
    "*".to_owned()
}

/// Variables that locate a resource rather than name it (the partition, region, the account
/// under any of its names): kept as recorded.
fn locates(variable: &str) -> bool {
    matches!(variable, "Partition" | "Region") || variable.contains("Account")
}

/// An account's id (twelve digits): where a resource is, never generalized as generated.
fn is_account(text: &str) -> bool {
    oxiam_policy::account_of(text) == Some(text)
}

/// A name with what looks generated in it as `*`, the rest literal.
fn without_ids(name: &str) -> String {
    let mut out = String::new();
    let mut rest = name;
    while !rest.is_empty() {
        let generated = generated_len(rest);
        if generated > 0 {
            out.push('*');
            rest = &rest[generated..];
        } else {
            let c = rest.chars().next().unwrap_or_default();
            out.push_str(&literal(&rest[..c.len_utf8()]));
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// How many bytes at the start of `text` look generated: a UUID (8-4-4-4-12 hexadecimal
/// digits) or a run of six or more decimal digits; 0 when none does.
fn generated_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let uuid = [8, 4, 4, 4, 12];
    let mut at = 0;
    let is_uuid = uuid.iter().enumerate().all(|(i, &n)| {
        let group = bytes
            .get(at..at + n)
            .is_some_and(|g| g.iter().all(u8::is_ascii_hexdigit));
        at += n;
        let dash = i == uuid.len() - 1 || bytes.get(at) == Some(&b'-');
        at += 1;
        group && dash
    });
    if is_uuid {
        return 36;
    }
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits >= 6 { digits } else { 0 }
}

/// A piece of a recorded ARN, as a resource type's format reads it.
#[derive(Debug, PartialEq)]
enum Part<'a> {
    /// Text the format fixes (`arn:`, `:iam::`, `:user/`).
    Fixed(&'a str),
    /// The value of one of the format's variables: the variable's name, the value.
    Name(&'a str, &'a str),
}

/// `arn` read as `format` (`arn:${Partition}:iam::${Account}:user/${UserNameWithPath}`), or
/// `None` when it does not fit. Each variable takes the shortest value that lets the rest fit
/// (a bucket's name ends at the first `/`, the object's name takes the rest); a variable before
/// the ARN's fifth colon never holds a colon. An ARN longer than [`MAX_FITTED`] fits no format
/// (the reading backtracks).
fn fit<'a, 'f>(format: &'f str, arn: &'a str) -> Option<Vec<Part<'a>>>
where
    'f: 'a,
{
    if arn.len() > MAX_FITTED {
        return None;
    }
    let mut pieces: Vec<(bool, &str)> = Vec::new();
    let mut rest = format;
    while let Some(open) = rest.find("${") {
        let close = open + rest[open..].find('}')?;
        if open > 0 {
            pieces.push((false, &rest[..open]));
        }
        pieces.push((true, &rest[open + 2..close]));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        pieces.push((false, rest));
    }
    let mut parts = Vec::new();
    fit_from(&pieces, arn, 0, &mut parts).then_some(parts)
}

/// The longest ARN [`fit`] reads (IAM's own limit on a policy's ARN is far below).
const MAX_FITTED: usize = 2048;

/// [`fit`] from `pieces` on, `arn` being what is left and `colons` the colons before it.
fn fit_from<'a>(pieces: &[(bool, &'a str)], arn: &'a str, colons: usize, parts: &mut Vec<Part<'a>>) -> bool {
    let Some(&(is_variable, piece)) = pieces.first() else {
        return arn.is_empty();
    };
    if !is_variable {
        if !arn.starts_with(piece) {
            return false;
        }
        parts.push(Part::Fixed(&arn[..piece.len()]));
        if fit_from(
            &pieces[1..],
            &arn[piece.len()..],
            colons + piece.matches(':').count(),
            parts,
        ) {
            return true;
        }
        parts.pop();
        return false;
    }
    // Before the fifth colon a value ends at the next colon at the latest.
    let limit = if colons < 5 {
        arn.find(':').unwrap_or(arn.len())
    } else {
        arn.len()
    };
    // The last variable takes the rest, or nothing fits.
    if pieces.len() == 1 {
        if limit < arn.len() {
            return false;
        }
        parts.push(Part::Name(piece, arn));
        return true;
    }
    let ends = arn[..limit].char_indices().map(|(at, _)| at).skip(1).chain([limit]);
    for end in ends {
        let value = &arn[..end];
        parts.push(Part::Name(piece, value));
        if fit_from(&pieces[1..], &arn[end..], colons, parts) {
            return true;
        }
        parts.pop();
    }
    false
}

/// Text a policy matches exactly after an ARN's fifth colon: `*`, `?` and `$` (an S3 key may
/// hold them) written as the policy variables `${*}`, `${?}` and `${$}` (Version
/// 2012-10-17), so that an object named `report*` grants that object, not every `report…`.
fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '*' | '?' | '$' => {
                out.push_str("${");
                out.push(c);
                out.push('}');
            }
            c => out.push(c),
        }
    }
    out
}

/// `text`, found at byte `at` of an ARN whose resource part starts at `start`, as a policy
/// matches it: after the fifth colon as [`literal`] writes it; before it, where the engine
/// reads no variables, each `*` and `?` as `?` (which matches it, and any one character).
fn literal_from(text: &str, at: usize, start: usize) -> String {
    let split = start.saturating_sub(at).min(text.len());
    let (head, tail) = text.split_at(split);
    head.replace(['*', '?'], "?") + &literal(tail)
}

fn one_or_many(mut items: Vec<String>) -> Value {
    if items.len() == 1 {
        Value::String(items.remove(0))
    } else {
        json!(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(action: &str, resource: &str) -> Attempt {
        Attempt {
            action: action.to_owned(),
            resource: resource.to_owned(),
        }
    }

    fn resources(attempts: &[Attempt], generalize: Generalize) -> Vec<(Value, Value)> {
        let policy = suggestion(attempts, generalize);
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["Action"].clone(), s["Resource"].clone()))
            .collect()
    }

    #[test]
    fn a_format_splits_an_arn_into_what_it_fixes_and_its_names() {
        assert_eq!(
            fit(
                "arn:${Partition}:s3:::${BucketName}/${ObjectName}",
                "arn:aws:s3:::b/dir/k.txt"
            ),
            Some(vec![
                Part::Fixed("arn:"),
                Part::Name("Partition", "aws"),
                Part::Fixed(":s3:::"),
                Part::Name("BucketName", "b"),
                Part::Fixed("/"),
                Part::Name("ObjectName", "dir/k.txt"),
            ])
        );
        assert_eq!(
            fit("arn:${Partition}:s3:::${BucketName}", "arn:aws:iam::1:user/u"),
            None
        );
        // The account never takes a colon, so a user's ARN is not a role's.
        assert_eq!(
            fit(
                "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}",
                "arn:aws:iam::123456789012:user/role/x"
            ),
            None
        );
    }

    #[test]
    fn generated_ids_become_wildcards_and_the_rest_stays() {
        let recorded = [
            attempt(
                "iam:createuser",
                "arn:aws:iam::123456789012:user/demo-user-1796492107106512319",
            ),
            attempt("iam:CreateUser", "arn:aws:iam::123456789012:user/ops/demo-12345"),
            attempt(
                "s3:PutObject",
                "arn:aws:s3:::logs-20261205/run-0b9f4c1e-6a4d-4f6e-9a51-3c2d1e0f9a8b.json",
            ),
            attempt("iam:GetUser", "arn:aws:iam::123456789012:user/app"),
        ];
        assert_eq!(
            resources(&recorded, Generalize::Ids),
            [
                // Statements in the order of their resources.
                (json!("iam:GetUser"), json!("arn:aws:iam::123456789012:user/app")),
                (
                    json!("iam:CreateUser"),
                    json!([
                        "arn:aws:iam::123456789012:user/demo-user-*",
                        "arn:aws:iam::123456789012:user/ops/demo-12345"
                    ])
                ),
                (json!("s3:PutObject"), json!("arn:aws:s3:::logs-*/run-*.json")),
            ]
        );
        // The account, a run of twelve digits, is where the resource is: never generalized.
        assert_eq!(
            resources(&recorded[..1], Generalize::Names),
            [(json!("iam:CreateUser"), json!("arn:aws:iam::123456789012:user/*"))]
        );
    }

    #[test]
    fn accounts_stay_and_names_generalizes_the_last_name_only() {
        // An organization's member account, named under `${AccountId}`: where the resource is.
        let member = [attempt(
            "organizations:CloseAccount",
            "arn:aws:organizations::123456789012:account/o-abcdefghij/210987654321",
        )];
        for generalize in [Generalize::Ids, Generalize::Names] {
            assert_eq!(
                resources(&member, generalize),
                [(
                    json!("organizations:CloseAccount"),
                    json!("arn:aws:organizations::123456789012:account/o-abcdefghij/210987654321")
                )]
            );
        }
        // An object: every object of the bucket, the bucket's name as `ids` leaves it.
        let object = [attempt("s3:GetObject", "arn:aws:s3:::logs-20261205/run-1.json")];
        assert_eq!(
            resources(&object, Generalize::Names),
            [(json!("s3:GetObject"), json!("arn:aws:s3:::logs-*/*"))]
        );
        // Before the fifth colon the engine reads no variables: a wildcard there is matched
        // by `?`, not written as `${*}`.
        let odd = [attempt("example:Frob", "arn:aws:example:us-*:123456789012:thing/a*")];
        assert_eq!(
            resources(&odd, Generalize::Exact),
            [(
                json!("example:Frob"),
                json!("arn:aws:example:us-?:123456789012:thing/a${*}")
            )]
        );
    }

    /// An ARN longer than the format reading takes is generalized as one of no known type:
    /// the head kept, what looks generated after it as `*`.
    #[test]
    fn a_very_long_arn_is_read_without_its_format() {
        let key = format!("{}/run-20261205.json", "d/".repeat(1100));
        let long = [attempt("s3:GetObject", &format!("arn:aws:s3:::logs/{key}"))];
        let expected = format!("arn:aws:s3:::logs/{}/run-*.json", "d/".repeat(1100));
        assert_eq!(
            resources(&long, Generalize::Names),
            [(json!("s3:GetObject"), json!(expected))]
        );
    }

    #[test]
    fn an_action_on_no_resource_type_is_granted_on_the_wildcard() {
        // oxiam records ListUsers on the path it lists; the reference names no resource type
        // for it, and AWS accepts only `*` there.
        let recorded = [
            attempt("iam:ListUsers", "arn:aws:iam::123456789012:user/"),
            attempt("sts:GetCallerIdentity", "*"),
        ];
        for generalize in [Generalize::Exact, Generalize::Ids, Generalize::Names] {
            assert_eq!(
                resources(&recorded, generalize),
                [
                    (json!("iam:ListUsers"), json!("*")),
                    (json!("sts:GetCallerIdentity"), json!("*")),
                ]
            );
        }
    }

    #[test]
    fn an_unknown_action_keeps_its_resource_but_what_looks_generated() {
        let recorded = [attempt(
            "example:Frob",
            "arn:aws:example:us-east-1:123456789012:thing/t-1234567",
        )];
        assert_eq!(
            resources(&recorded, Generalize::Names),
            [(
                json!("example:Frob"),
                json!("arn:aws:example:us-east-1:123456789012:thing/t-*")
            )]
        );
    }

    /// A recorded object named with wildcard characters is granted alone: the suggestion
    /// allows it, and not its look-alikes.
    #[test]
    fn recorded_wildcard_characters_stay_literal() {
        use oxiam_policy::{Context, PolicyKind, PolicySet, Principal, Request};
        use std::sync::Arc;
        for generalize in [Generalize::Exact, Generalize::Ids] {
            let recorded = [attempt("s3:getobject", "arn:aws:s3:::b/report*?$.csv")];
            let policy = suggestion(&recorded, generalize);
            assert_eq!(
                policy["Statement"][0]["Resource"],
                "arn:aws:s3:::b/report${*}${?}${$}.csv"
            );
            assert_eq!(policy["Statement"][0]["Action"], "s3:GetObject");
            let compiled = oxiam_policy::compile("s", &policy.to_string(), PolicyKind::Identity).unwrap();
            let identity = vec![Arc::new(compiled)];
            let set = PolicySet {
                identity: &identity,
                ..PolicySet::default()
            };
            let principal = Principal::user("arn:aws:iam::000000000000:user/u", "000000000000");
            let context = Context::new();
            let allowed = |resource: &str| {
                oxiam_policy::evaluate(&Request::new(principal, "s3:GetObject", resource, &context), &set).allowed
            };
            assert!(allowed("arn:aws:s3:::b/report*?$.csv"));
            assert!(!allowed("arn:aws:s3:::b/report-secret?$.csv"));
            assert!(!allowed("arn:aws:s3:::b/report*x$.csv"));
        }
    }
}
