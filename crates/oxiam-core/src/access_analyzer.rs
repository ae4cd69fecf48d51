//! IAM Access Analyzer's policy checks: ValidatePolicy, CheckAccessNotGranted,
//! CheckNoNewAccess and CheckNoPublicAccess. Each is a function of its request alone (no
//! analyzer, no store): the checks themselves are `oxiam-lint`'s, and this maps the wire's
//! types onto them.

use oxiam_lint::access::Reason;
use oxiam_policy::PolicyKind;
use oxiam_protocol::ServiceError;
use oxiam_protocol::accessanalyzer::{
    AccessCheckPolicyType, AccessCheckResourceType, CheckAccessNotGrantedRequest, CheckAccessNotGrantedResponse,
    CheckAccessNotGrantedResult, CheckNoNewAccessRequest, CheckNoNewAccessResponse, CheckNoNewAccessResult,
    CheckNoPublicAccessRequest, CheckNoPublicAccessResponse, CheckNoPublicAccessResult, Location, PathElement,
    PolicyType, Position, ReasonSummary, Request, Response, Span, ValidatePolicyFinding, ValidatePolicyFindingType,
    ValidatePolicyRequest, ValidatePolicyResponse, errors,
};

use crate::authz::Access;

/// What a request needs to be allowed: `access-analyzer:{Operation}`, on no resource (the
/// Service Authorization Reference gives these actions none).
pub fn access(request: &Request) -> Access {
    Access::new(format!("access-analyzer:{}", request.operation().name()), "*")
}

/// The longest policy document a check reads, in characters: as much as the largest AWS policy
/// type holds (a KMS key policy, 32 KB), so that the checks' work stays bounded. The model sets
/// no limit; AWS documents none for these operations.
pub const MAX_DOCUMENT_CHARS: usize = 32_768;

/// Refuses a request whose policy documents are longer than [`MAX_DOCUMENT_CHARS`]: checked
/// as soon as it is decoded, before its parameters go into the audit trail.
pub fn check_sizes(request: &Request) -> Result<(), ServiceError> {
    let documents: Vec<(&str, &str)> = match request {
        Request::ValidatePolicy(i) => vec![("policyDocument", &i.policy_document)],
        Request::CheckAccessNotGranted(i) => vec![("policyDocument", &i.policy_document.0)],
        Request::CheckNoPublicAccess(i) => vec![("policyDocument", &i.policy_document.0)],
        Request::CheckNoNewAccess(i) => vec![
            ("existingPolicyDocument", &i.existing_policy_document.0),
            ("newPolicyDocument", &i.new_policy_document.0),
        ],
    };
    match documents.iter().find(|(_, d)| d.chars().count() > MAX_DOCUMENT_CHARS) {
        Some((member, _)) => Err(validation(&format!(
            "{member} is longer than the {MAX_DOCUMENT_CHARS} characters oxiam reads."
        ))),
        None => Ok(()),
    }
}

/// Answers a policy check whose documents [`check_sizes`] has let through (the protocol
/// calls it as it decodes the request).
pub fn execute(request: Request) -> Result<Response, ServiceError> {
    match request {
        Request::ValidatePolicy(input) => validate_policy(&input).map(Response::ValidatePolicy),
        Request::CheckAccessNotGranted(input) => check_access_not_granted(&input).map(Response::CheckAccessNotGranted),
        Request::CheckNoPublicAccess(input) => check_no_public_access(&input).map(Response::CheckNoPublicAccess),
        Request::CheckNoNewAccess(input) => check_no_new_access(&input).map(Response::CheckNoNewAccess),
    }
}

fn validate_policy(input: &ValidatePolicyRequest) -> Result<ValidatePolicyResponse, ServiceError> {
    let policy_type = match input.policy_type {
        PolicyType::IdentityPolicy => oxiam_lint::PolicyType::Identity,
        PolicyType::ResourcePolicy => oxiam_lint::PolicyType::Resource,
        PolicyType::ServiceControlPolicy => oxiam_lint::PolicyType::ServiceControl,
        PolicyType::ResourceControlPolicy => oxiam_lint::PolicyType::ResourceControl,
    };
    let resource_type = input
        .validate_policy_resource_type
        .and_then(|t| oxiam_lint::ResourceType::from_name(t.as_str()));
    let options = oxiam_lint::Options {
        resource_type,
        ..oxiam_lint::Options::default()
    };
    let findings = oxiam_lint::validate_for(&input.policy_document, policy_type, &options);
    // The token is where the next page starts, as text: the findings are a function of
    // the request, so the same request pages through the same list.
    let start = match &input.next_token {
        None => 0,
        Some(token) => token
            .parse::<usize>()
            .ok()
            .filter(|start| *start <= findings.len())
            .ok_or_else(|| validation("The nextToken is not valid."))?,
    };
    let page = input
        .max_results
        .map_or(findings.len(), |n| usize::try_from(n).unwrap_or(0).max(1));
    let end = start.saturating_add(page).min(findings.len());
    Ok(ValidatePolicyResponse {
        findings: findings[start..end].iter().map(finding).collect(),
        next_token: (end < findings.len()).then(|| end.to_string()),
    })
}

fn finding(f: &oxiam_lint::Finding) -> ValidatePolicyFinding {
    ValidatePolicyFinding {
        finding_details: f.details.clone(),
        finding_type: match f.finding_type {
            oxiam_lint::FindingType::Error => ValidatePolicyFindingType::Error,
            oxiam_lint::FindingType::SecurityWarning => ValidatePolicyFindingType::SecurityWarning,
            oxiam_lint::FindingType::Warning => ValidatePolicyFindingType::Warning,
            oxiam_lint::FindingType::Suggestion => ValidatePolicyFindingType::Suggestion,
        },
        issue_code: f.issue_code.to_owned(),
        learn_more_link: f.learn_more_link.clone(),
        locations: f
            .locations
            .iter()
            .map(|l| Location {
                path: l
                    .path
                    .iter()
                    .map(|step| match step {
                        oxiam_lint::PathElement::Index(i) => PathElement {
                            index: Some(i32::try_from(*i).unwrap_or(i32::MAX)),
                            key: None,
                            substring: None,
                            value: None,
                        },
                        oxiam_lint::PathElement::Value(v) => PathElement {
                            index: None,
                            key: None,
                            substring: None,
                            value: Some(v.clone()),
                        },
                    })
                    .collect(),
                span: Span {
                    start: position(l.span.start),
                    end: position(l.span.end),
                },
            })
            .collect(),
    }
}

fn position(p: oxiam_lint::json::Position) -> Position {
    let int = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    Position {
        line: int(p.line),
        column: int(p.column),
        offset: int(p.offset),
    }
}

/// "No new access" only when proved; a witness, or a proof that did not go through, FAIL
/// (Access Analyzer's FAIL is "might allow new access").
fn check_no_new_access(input: &CheckNoNewAccessRequest) -> Result<CheckNoNewAccessResponse, ServiceError> {
    use oxiam_lint::diff::Verdict;
    let kind = kind_of(input.policy_type);
    let verdict = oxiam_lint::diff::diff(&input.existing_policy_document.0, &input.new_policy_document.0, kind)
        .map_err(invalid_document)?;
    let (result, message, reasons) = match verdict {
        Verdict::NoNewAccess => (
            CheckNoNewAccessResult::Pass,
            "The modified permissions grant no new access compared to your existing policy.",
            Vec::new(),
        ),
        Verdict::NewAccess(w) => {
            let mut context: String = w.context.iter().map(|(k, v)| format!(", {k} = {v}")).collect();
            if let Some(caller) = &w.caller {
                context = format!(" to {caller}{context}");
            }
            let reason = summary(Reason {
                description: format!(
                    "The statement at index {} allows {} on {}{context}, which the existing policy does not.",
                    w.statement_index, w.action, w.resource
                ),
                statement_index: w.statement_index,
                statement_id: w.statement_id,
            });
            (
                CheckNoNewAccessResult::Fail,
                "The modified permissions grant new access compared to your existing policy.",
                vec![reason],
            )
        }
        Verdict::Unknown(why) => (
            CheckNoNewAccessResult::Fail,
            "The modified permissions might grant new access compared to your existing policy.",
            vec![ReasonSummary {
                description: Some(format!("oxiam could not prove that no new access is granted: {why}.")),
                statement_index: None,
                statement_id: None,
            }],
        ),
    };
    Ok(CheckNoNewAccessResponse {
        result: Some(result),
        message: Some(message.to_owned()),
        reasons: Some(reasons),
    })
}

fn check_access_not_granted(
    input: &CheckAccessNotGrantedRequest,
) -> Result<CheckAccessNotGrantedResponse, ServiceError> {
    // The model allows an empty list; a check of nothing would PASS with nothing checked.
    if input.access.is_empty() {
        return Err(validation("access must hold the access to check."));
    }
    let policy = parsed(&input.policy_document.0, kind_of(input.policy_type))?;
    let reasons: Vec<Reason> = input
        .access
        .iter()
        .flat_map(|asked| {
            oxiam_lint::access::grants(
                &policy,
                asked.actions.as_deref().unwrap_or_default(),
                asked.resources.as_deref().unwrap_or_default(),
            )
        })
        .collect();
    let (result, message) = if reasons.is_empty() {
        (
            CheckAccessNotGrantedResult::Pass,
            "The policy document does not grant access to perform one or more of the listed actions or resources.",
        )
    } else {
        (
            CheckAccessNotGrantedResult::Fail,
            "The policy document grants access to perform one or more of the listed actions or resources.",
        )
    };
    Ok(CheckAccessNotGrantedResponse {
        result: Some(result),
        message: Some(message.to_owned()),
        reasons: Some(summaries(reasons)),
    })
}

fn check_no_public_access(input: &CheckNoPublicAccessRequest) -> Result<CheckNoPublicAccessResponse, ServiceError> {
    let kind = match input.resource_type {
        AccessCheckResourceType::AWSIAMAssumeRolePolicyDocument => PolicyKind::Trust,
        _ => PolicyKind::Resource,
    };
    let policy = parsed(&input.policy_document.0, kind)?;
    let reasons = oxiam_lint::access::public_grants(&policy);
    let (result, message) = if reasons.is_empty() {
        (
            CheckNoPublicAccessResult::Pass,
            "The resource policy does not grant public access for the given resource type.",
        )
    } else {
        (
            CheckNoPublicAccessResult::Fail,
            "The resource policy grants public access for the given resource type.",
        )
    };
    Ok(CheckNoPublicAccessResponse {
        result: Some(result),
        message: Some(message.to_owned()),
        reasons: Some(summaries(reasons)),
    })
}

fn parsed(document: &str, kind: PolicyKind) -> Result<oxiam_policy::Policy, ServiceError> {
    oxiam_policy::parse(document, kind).map_err(invalid_document)
}

/// The parser's message quotes the document, which the model marks sensitive (kept out of
/// answers, records and logs alike): the caller gets a fixed text.
fn invalid_document(_: oxiam_policy::PolicyError) -> ServiceError {
    ServiceError::new(errors::INVALID_PARAMETER, "The policy document is not a valid policy.")
}

fn kind_of(policy_type: AccessCheckPolicyType) -> PolicyKind {
    match policy_type {
        AccessCheckPolicyType::IdentityPolicy => PolicyKind::Identity,
        AccessCheckPolicyType::ResourcePolicy => PolicyKind::Resource,
    }
}

fn summary(r: Reason) -> ReasonSummary {
    ReasonSummary {
        description: Some(r.description),
        statement_index: Some(i32::try_from(r.statement_index).unwrap_or(i32::MAX)),
        statement_id: r.statement_id,
    }
}

fn summaries(reasons: Vec<Reason>) -> Vec<ReasonSummary> {
    reasons.into_iter().map(summary).collect()
}

/// Access Analyzer's ValidationException, for a value the model cannot say is wrong.
pub fn validation(message: &str) -> ServiceError {
    ServiceError::new(errors::VALIDATION, message).with_reason("fieldValidationFailed")
}
