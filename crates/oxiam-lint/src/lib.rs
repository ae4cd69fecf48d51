//! Policy checks in the manner of IAM Access Analyzer's ValidatePolicy: a policy document in,
//! findings out, each with its type (ERROR, SECURITY_WARNING, WARNING, SUGGESTION), its issue
//! code, a message, a link to AWS's description of the check, and where in the document it is
//! (a path of keys and indexes, and the span of the text).
//!
//! Where Access Analyzer has a check, its issue code, finding type and message are used (the
//! table in docs/policy-lint.md); the few checks it does not have (an ARN that can match none of an action's
//! resource types, Allow with NotAction or NotResource, IfExists on a key every request
//! carries, a resource policy open to everyone) carry codes of oxiam's own, listed in
//! docs/policy-lint.md. Everything is decided from the document and AWS's Service
//! Authorization Reference (`reference`); nothing here does I/O.

pub mod access;
pub mod diff;
pub mod json;
pub mod reference;
mod resource_type;
pub mod suggest;
pub mod wildcard;

use json::{Node, Span};
use reference::{Reference, Service};
pub use resource_type::ResourceType;

/// How serious a finding is (Access Analyzer's `findingType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FindingType {
    /// A style fix that changes no access.
    Suggestion,
    /// A departure from best practice that is not about security.
    Warning,
    /// Access AWS considers overly permissive.
    SecurityWarning,
    /// Part of the policy does not work.
    Error,
}

impl FindingType {
    /// The wire name: `ERROR`, `SECURITY_WARNING`, `WARNING`, `SUGGESTION`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingType::Error => "ERROR",
            FindingType::SecurityWarning => "SECURITY_WARNING",
            FindingType::Warning => "WARNING",
            FindingType::Suggestion => "SUGGESTION",
        }
    }

    /// A wire name, regardless of case (`--fail-on error`).
    pub fn from_name(name: &str) -> Option<FindingType> {
        [
            FindingType::Error,
            FindingType::SecurityWarning,
            FindingType::Warning,
            FindingType::Suggestion,
        ]
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(name))
    }

    /// The part of the check reference's anchors naming the type.
    fn anchor(self) -> &'static str {
        match self {
            FindingType::Error => "error",
            FindingType::SecurityWarning => "security-warning",
            FindingType::Warning => "general-warning",
            FindingType::Suggestion => "suggestion",
        }
    }
}

/// What kind of policy a document is (Access Analyzer's `policyType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyType {
    /// An identity-based policy (of a user, group or role; a managed policy).
    Identity,
    /// A resource-based policy (a bucket policy, a role's trust policy).
    Resource,
    /// A service control policy.
    ServiceControl,
    /// A resource control policy.
    ResourceControl,
}

impl PolicyType {
    /// From the wire name: `IDENTITY_POLICY`, `RESOURCE_POLICY`, `SERVICE_CONTROL_POLICY`,
    /// `RESOURCE_CONTROL_POLICY`.
    pub fn from_name(name: &str) -> Option<PolicyType> {
        match name {
            "IDENTITY_POLICY" => Some(PolicyType::Identity),
            "RESOURCE_POLICY" => Some(PolicyType::Resource),
            "SERVICE_CONTROL_POLICY" => Some(PolicyType::ServiceControl),
            "RESOURCE_CONTROL_POLICY" => Some(PolicyType::ResourceControl),
            _ => None,
        }
    }
}

/// One step of a path into the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathElement {
    /// A position in an array, from 0.
    Index(usize),
    /// An object member, by its key (Access Analyzer calls this step a `value`).
    Value(String),
}

/// Where a finding is: the path to a value, and the span of its text (quotes included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// From the document's root.
    pub path: Vec<PathElement>,
    /// The value's text.
    pub span: Span,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How serious it is.
    pub finding_type: FindingType,
    /// What check found it: `INVALID_ACTION`, `MISSING_VERSION`, …
    pub issue_code: &'static str,
    /// What is wrong, with the document's own values.
    pub details: String,
    /// AWS's description of the check (oxiam's docs for oxiam's own checks).
    pub learn_more_link: String,
    /// Where (may be empty: a finding about the whole document).
    pub locations: Vec<Location>,
}

/// Checks `document` as a policy of `policy_type`, against the Service Authorization
/// Reference. Findings about the whole document (Version, size) come first, then each
/// statement's in document order, [`MAX_FINDINGS`] at most.
pub fn validate(document: &str, policy_type: PolicyType) -> Vec<Finding> {
    validate_for(document, policy_type, &Options::default())
}

/// What a caller may say about a policy beyond its type.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// For a resource policy (`PolicyType::Resource`), the resource it is for: that resource's
    /// checks run too (ValidatePolicy's `validatePolicyResourceType`; not read with other
    /// policy types).
    pub resource_type: Option<ResourceType>,
    /// The account that owns the policy: a resource policy's Allow for principals of other
    /// accounts is reported (`OXIAM_CROSS_ACCOUNT_ACCESS`).
    pub account: Option<&'a str>,
}

/// [`validate`], with what [`Options`] says.
pub fn validate_for(document: &str, policy_type: PolicyType, options: &Options<'_>) -> Vec<Finding> {
    let mut out = Findings::default();
    let root = match json::parse(document) {
        Ok(root) => root,
        Err(e) => {
            out.push(
                "JSON_SYNTAX_ERROR",
                FindingType::Error,
                format!(
                    "Fix the JSON syntax error at index {} line {} column {}: {}.",
                    e.at.offset, e.at.line, e.at.column, e.message
                ),
                // Where the parser stopped: an empty path, a span of nothing.
                vec![Location {
                    path: Vec::new(),
                    span: Span { start: e.at, end: e.at },
                }],
            );
            return out.0;
        }
    };
    let doc = Doc {
        root: &root,
        policy_type,
        resource_type: options.resource_type.filter(|_| policy_type == PolicyType::Resource),
        account: options.account,
        reference: reference::reference(),
    };
    // The document's own findings first: the cap on findings must not crowd them out.
    doc.check_version(&mut out);
    doc.check_size(document, &mut out);
    doc.check_statements(&mut out);
    out.0
}

/// At most this many findings per document: past it, a hostile document would only make the
/// answer (and the server's audit line) larger, not more useful.
pub const MAX_FINDINGS: usize = 100;

#[derive(Default)]
struct Findings(Vec<Finding>);

impl Findings {
    fn push(&mut self, code: &'static str, finding_type: FindingType, details: String, mut locations: Vec<Location>) {
        if self.0.len() >= MAX_FINDINGS {
            return;
        }
        locations.truncate(MAX_FINDINGS);
        let learn_more_link = if code.starts_with("OXIAM_") {
            // oxiam's own checks are described in its repository, not by AWS.
            format!("docs/policy-lint.md#{}", code.to_ascii_lowercase())
        } else {
            format!(
                "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html#access-analyzer-reference-policy-checks-{}-{}",
                finding_type.anchor(),
                code.to_ascii_lowercase().replace('_', "-")
            )
        };
        self.0.push(Finding {
            finding_type,
            issue_code: code,
            details,
            learn_more_link,
            locations,
        });
    }
}

/// A path under construction: cheap to extend for one location.
#[derive(Clone)]
struct Path(Vec<PathElement>);

impl Path {
    fn key(&self, key: &str) -> Path {
        let mut p = self.0.clone();
        p.push(PathElement::Value(key.to_owned()));
        Path(p)
    }

    fn index(&self, index: Option<usize>) -> Path {
        let mut p = self.0.clone();
        p.extend(index.map(PathElement::Index));
        Path(p)
    }

    fn at(self, node: &Node) -> Location {
        Location {
            path: self.0,
            span: node.span,
        }
    }
}

/// The keys every request carries, signed or anonymous, whatever the service: `…IfExists` on
/// them tests nothing (the IAM User Guide's global condition keys "always included in the
/// request context"; the principal keys are not, for anonymous requests).
const ALWAYS_PRESENT_KEYS: &[&str] = &["aws:CurrentTime", "aws:EpochTime", "aws:SecureTransport"];

/// Keys the IAM User Guide calls cross-service: set on the credentials of a role an AWS
/// service uses, and available in requests to every service, whatever the action lists.
const CROSS_SERVICE_KEYS: &[&str] = &[
    "ec2:RoleDelivery",
    "ec2:SourceInstanceARN",
    "glue:CredentialIssuingService",
    "glue:RoleAssumedBy",
    "lambda:SourceFunctionArn",
    "ssm:SourceInstanceARN",
];

/// The largest identity policy (a managed policy), in characters without whitespace.
const IDENTITY_POLICY_QUOTA: usize = 6_144;
/// The largest SCP (and RCP), in characters without whitespace.
const SCP_QUOTA: usize = 5_120;

struct Doc<'a> {
    root: &'a Node,
    policy_type: PolicyType,
    /// What a resource policy is for, when the caller said.
    resource_type: Option<ResourceType>,
    /// The policy's own account, when the caller said.
    account: Option<&'a str>,
    reference: &'a Reference,
}

/// One statement, as the checks read it.
struct Stmt<'a> {
    path: Path,
    node: &'a Node,
    allow: bool,
}

/// An action written in a statement, and what it matches.
struct ActionEntry<'a> {
    location: Location,
    /// As written.
    text: String,
    /// The actions it matches (empty when it matches none); `None` for `*`.
    matched: Option<Vec<(&'a Service, &'a reference::Action)>>,
}

impl<'a> Doc<'a> {
    fn version(&self) -> Option<&'a str> {
        self.root.member("Version").and_then(|(_, v)| v.as_str())
    }

    fn check_version(&self, out: &mut Findings) {
        match self.root.member("Version") {
            None => out.push(
                "MISSING_VERSION",
                FindingType::Warning,
                "We recommend that you specify the Version element to help you with debugging permission issues."
                    .to_owned(),
                Vec::new(),
            ),
            Some((_, v)) if !matches!(v.as_str(), Some("2012-10-17" | "2008-10-17")) => out.push(
                "INVALID_VERSION",
                FindingType::Error,
                format!(
                    "The version {} is not valid. Use one of the following versions: 2012-10-17, 2008-10-17.",
                    text_of(v)
                ),
                vec![Path(Vec::new()).key("Version").at(v)],
            ),
            Some(_) => {}
        }
    }

    fn statements(&self) -> Vec<Stmt<'a>> {
        let Some((_, statement)) = self.root.member("Statement") else {
            return Vec::new();
        };
        let base = Path(vec![PathElement::Value("Statement".to_owned())]);
        statement
            .items()
            .into_iter()
            .map(|(index, node)| Stmt {
                path: base.index(index),
                node,
                allow: node.member("Effect").and_then(|(_, e)| e.as_str()) == Some("Allow"),
            })
            .collect()
    }

    fn check_statements(&self, out: &mut Findings) {
        if self.root.member("Statement").is_none() {
            out.push(
                "MISSING_STATEMENT",
                FindingType::Error,
                "Add a Statement element to the policy.".to_owned(),
                Vec::new(),
            );
            return;
        }
        let statements = self.statements();
        self.check_sids(&statements, out);
        for s in &statements {
            self.check_elements(s, out);
            let actions = self.actions(s, out);
            self.check_pass_role(s, &actions, out);
            self.check_not_elements(s, out);
            self.check_resources(s, &actions, out);
            self.check_resource_type(s, &actions, out);
            self.check_conditions(s, &actions, out);
            self.check_redundant_actions(&actions, out);
            self.check_permissions_management(s, &actions, out);
            self.check_public(s, out);
            self.check_cross_account(s, out);
            self.check_variables(s, out);
        }
        // Identical statements: the second and later ones are redundant.
        for (i, s) in statements.iter().enumerate() {
            if statements[..i].iter().any(|earlier| same_value(earlier.node, s.node)) {
                out.push(
                    "REDUNDANT_STATEMENT",
                    FindingType::Suggestion,
                    "The statement is redundant because it provides identical permissions to another statement. \
                     We recommend that you remove this statement."
                        .to_owned(),
                    vec![s.path.clone().at(s.node)],
                );
            }
        }
    }

    fn check_sids(&self, statements: &[Stmt<'a>], out: &mut Findings) {
        let mut seen: Vec<&str> = Vec::new();
        for s in statements {
            let Some((_, sid)) = s.node.member("Sid") else { continue };
            let location = s.path.key("Sid").at(sid);
            match sid.as_str() {
                Some("") => out.push(
                    "EMPTY_SID_VALUE",
                    FindingType::Suggestion,
                    "Add a value to the empty string in the Sid element.".to_owned(),
                    vec![location],
                ),
                Some(value) if seen.contains(&value) => {
                    let (code, finding_type) = match self.policy_type {
                        PolicyType::Resource => ("UNIQUE_SIDS_RECOMMENDED", FindingType::Warning),
                        _ => ("UNIQUE_SIDS_REQUIRED", FindingType::Error),
                    };
                    out.push(
                        code,
                        finding_type,
                        format!("Duplicate statement IDs are not supported for this policy type: {value}. Use unique values for each Sid."),
                        vec![location],
                    );
                }
                Some(value) => seen.push(value),
                None => {}
            }
        }
    }

    fn check_elements(&self, s: &Stmt<'a>, out: &mut Findings) {
        let here = || vec![s.path.clone().at(s.node)];
        match s.node.member("Effect") {
            None => out.push(
                "MISSING_EFFECT",
                FindingType::Error,
                "Add an Effect element to the policy statement with a value of Allow or Deny.".to_owned(),
                here(),
            ),
            Some((_, e)) if !matches!(e.as_str(), Some("Allow" | "Deny")) => out.push(
                "INVALID_EFFECT",
                FindingType::Error,
                format!("The effect {} is not valid. Use Allow or Deny.", text_of(e)),
                vec![s.path.key("Effect").at(e)],
            ),
            Some(_) => {}
        }
        let has = |k: &str| s.node.member(k).is_some();
        for (a, b) in [
            ("Action", "NotAction"),
            ("Resource", "NotResource"),
            ("Principal", "NotPrincipal"),
        ] {
            if has(a) && has(b) {
                out.push(
                    "UNSUPPORTED_ELEMENT_COMBINATION",
                    FindingType::Error,
                    format!("The policy elements {a} and {b} can not be used in the same statement. Remove one of these elements."),
                    here(),
                );
            }
        }
        if !has("Action") && !has("NotAction") {
            out.push(
                "MISSING_ACTION",
                FindingType::Error,
                "Add an Action or NotAction element to the policy statement.".to_owned(),
                here(),
            );
        }
        if self.policy_type == PolicyType::Identity && !has("Resource") && !has("NotResource") {
            out.push(
                "MISSING_RESOURCE",
                FindingType::Error,
                "Add a Resource or NotResource element to the policy statement.".to_owned(),
                here(),
            );
        }
    }

    /// The statement's `Action` entries, each resolved against the reference; unknown
    /// services and actions reported.
    fn actions(&self, s: &Stmt<'a>, out: &mut Findings) -> Vec<ActionEntry<'a>> {
        let Some((_, actions)) = s.node.member("Action").or_else(|| s.node.member("NotAction")) else {
            return Vec::new();
        };
        let element = if s.node.member("Action").is_some() {
            "Action"
        } else {
            "NotAction"
        };
        let mut entries = Vec::new();
        for (index, node) in actions.items() {
            let Some(text) = node.as_str() else { continue };
            let location = s.path.key(element).index(index).at(node);
            if text == "*" {
                entries.push(ActionEntry {
                    location,
                    text: text.to_owned(),
                    matched: None,
                });
                continue;
            }
            let Some((prefix, name)) = text.split_once(':') else {
                out.push(
                    "INVALID_ACTION",
                    FindingType::Error,
                    format!("The action {text} does not exist."),
                    vec![location],
                );
                continue;
            };
            let Some(service) = self.reference.service(prefix).filter(|_| !prefix.contains(['*', '?'])) else {
                // Sic: AWS's message quotes the whole action as "the service".
                out.push(
                    "INVALID_SERVICE_IN_ACTION",
                    FindingType::Error,
                    format!("The service {text} specified in the action does not exist."),
                    vec![location],
                );
                continue;
            };
            let pattern = name.to_ascii_lowercase();
            let matched: Vec<_> = service
                .actions
                .iter()
                .filter(|a| wildcard::matches(&pattern, &a.lower))
                .map(|a| (service, a))
                .collect();
            if matched.is_empty() {
                out.push(
                    "INVALID_ACTION",
                    FindingType::Error,
                    format!("The action {text} does not exist."),
                    vec![location.clone()],
                );
            }
            entries.push(ActionEntry {
                location,
                text: text.to_owned(),
                matched: Some(matched),
            });
        }
        // Only an `Action` list names what the statement is about; `NotAction` names what it
        // is not, which the per-action checks must not read as its actions.
        if element == "Action" { entries } else { Vec::new() }
    }

    fn check_pass_role(&self, s: &Stmt<'a>, actions: &[ActionEntry<'a>], out: &mut Findings) {
        if !s.allow {
            return;
        }
        let Some((_, resource)) = s.node.member("Resource") else {
            return;
        };
        let star = resource.items().into_iter().find(|(_, r)| r.as_str() == Some("*"));
        let Some((index, star)) = star else { return };
        let star_location = s.path.key("Resource").index(index).at(star);
        let passes_role = |e: &ActionEntry<'_>| match &e.matched {
            None => true,
            Some(matched) => matched
                .iter()
                .any(|(svc, a)| svc.prefix == "iam" && a.name == "PassRole"),
        };
        let explicit = |e: &ActionEntry<'_>| e.text.eq_ignore_ascii_case("iam:PassRole");
        for entry in actions.iter().filter(|e| passes_role(e)) {
            let (code, details) = if explicit(entry) {
                (
                    "PASS_ROLE_WITH_STAR_IN_RESOURCE",
                    "Using the iam:PassRole action with wildcards (*) in the resource can be overly permissive because \
                     it allows iam:PassRole permissions on multiple resources. We recommend that you specify resource \
                     ARNs or add the iam:PassedToService condition key to your statement.",
                )
            } else {
                (
                    "PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE",
                    "Using wildcards (*) in the action and the resource can allow the iam:PassRole permissions on all \
                     resources. We recommend that you specify resource ARNs or add the iam:PassedToService condition \
                     key to your statement.",
                )
            };
            out.push(
                code,
                FindingType::SecurityWarning,
                details.to_owned(),
                vec![entry.location.clone(), star_location.clone()],
            );
        }
    }

    /// Allow with NotAction or NotResource: everything but a list, now and as AWS adds
    /// actions and resources (oxiam's own check).
    fn check_not_elements(&self, s: &Stmt<'a>, out: &mut Findings) {
        if !s.allow || !matches!(self.policy_type, PolicyType::Identity | PolicyType::Resource) {
            return;
        }
        for (element, code) in [
            ("NotAction", "OXIAM_ALLOW_WITH_NOT_ACTION"),
            ("NotResource", "OXIAM_ALLOW_WITH_NOT_RESOURCE"),
        ] {
            if let Some((_, node)) = s.node.member(element) {
                out.push(
                    code,
                    FindingType::SecurityWarning,
                    format!(
                        "Allow with {element} allows everything the list leaves out, including what AWS adds later. \
                         We recommend that you list what the statement allows instead."
                    ),
                    vec![s.path.key(element).at(node)],
                );
            }
        }
    }

    /// An ARN that can match none of an action's resource types (oxiam's own check): the
    /// statement grants that action nothing.
    fn check_resources(&self, s: &Stmt<'a>, actions: &[ActionEntry<'a>], out: &mut Findings) {
        let Some((_, resources)) = s.node.member("Resource") else {
            return;
        };
        let patterns: Vec<String> = resources
            .items()
            .into_iter()
            .filter_map(|(_, r)| r.as_str())
            .map(|r| variables_as_wildcards(r).to_ascii_lowercase())
            .collect();
        if patterns.is_empty() || patterns.iter().any(|p| p == "*") {
            return;
        }
        // Each resource type is asked once per statement, however many actions act on it.
        let mut reachable_types: std::collections::HashMap<(&str, &str), bool> = std::collections::HashMap::new();
        let mut type_reachable = |service: &'a Service, type_name: &'a str| -> bool {
            *reachable_types
                .entry((service.prefix.as_str(), type_name))
                .or_insert_with(|| {
                    // A type the service does not define (none in today's extract) is given
                    // the benefit of the doubt.
                    let formats: Vec<&str> = match service.resources.get(type_name) {
                        Some(t) => t.patterns.iter().map(String::as_str).collect(),
                        None => Vec::new(),
                    };
                    formats.is_empty()
                        || formats
                            .iter()
                            .any(|f| patterns.iter().any(|p| wildcard::arns_intersect(p, f)))
                })
        };
        for entry in actions {
            let Some(matched) = &entry.matched else { continue };
            // Reported when no action the entry matches can be named by the statement's
            // resources: each acts on typed resources only, none of them reachable.
            let reachable = matched.iter().any(|(service, action)| {
                action.resources.is_empty() || action.resources.iter().any(|t| type_reachable(service, t))
            });
            if !matched.is_empty() && !reachable {
                out.push(
                    "OXIAM_RESOURCE_MATCHES_NO_RESOURCE_TYPE",
                    FindingType::Warning,
                    format!(
                        "No resource of this statement can match what the action {} acts on, so the statement does \
                         not apply to it. Check the resource ARNs against the action's resource types.",
                        entry.text
                    ),
                    vec![entry.location.clone()],
                );
            }
        }
    }

    fn check_conditions(&self, s: &Stmt<'a>, actions: &[ActionEntry<'a>], out: &mut Findings) {
        let Some((_, condition)) = s.node.member("Condition") else {
            return;
        };
        let condition_path = s.path.key("Condition");
        for (operator_name, _, block) in condition.members() {
            let operator = oxiam_policy::Operator::parse(operator_name);
            let op_path = condition_path.key(operator_name);
            for (key, _, value) in block.members() {
                let location = op_path.key(key).at(value);
                let Some((prefix, _)) = key.split_once(':') else {
                    out.push(
                        "INVALID_CONDITION_KEY_FORMAT",
                        FindingType::Error,
                        format!("The condition key {key} is not valid. Use the format service:keyname."),
                        vec![location],
                    );
                    continue;
                };
                let key_type = self.key_type(key);
                // Identity providers' keys (`token.actions.githubusercontent.com:sub`,
                // `oidc.eks.….amazonaws.com/id/…:aud`) name no service: any provider may be one.
                let provider = prefix.contains(['.', '/']);
                if !prefix.eq_ignore_ascii_case("aws") {
                    match self.reference.service(prefix) {
                        // The reference lists some keys under another service (`saml:aud` and
                        // the big providers' keys under STS, `ec2:osuser` under EC2 Instance
                        // Connect): known all the same.
                        _ if key_type.is_some() => self.check_key_support(key, &location, actions, out),
                        _ if provider => {}
                        None => {
                            out.push(
                                "INVALID_SERVICE",
                                FindingType::Error,
                                format!("The service {prefix} specified in the condition key {key} does not exist."),
                                vec![location],
                            );
                            continue;
                        }
                        Some(_) if key_type.is_none() => {
                            out.push(
                                "INVALID_SERVICE_CONDITION_KEY",
                                FindingType::Error,
                                format!("The condition key {key} does not exist in the service {prefix}."),
                                vec![location],
                            );
                            continue;
                        }
                        Some(_) => {}
                    }
                }
                let Some(operator) = operator else { continue };
                if let Some(key_type) = key_type
                    && let Some(wanted) = operator_for_type(&key_type)
                    && !operator_fits(operator.base, &key_type)
                {
                    out.push(
                        "TYPE_MISMATCH",
                        FindingType::Warning,
                        format!(
                            "Use the operator type {wanted} instead of operator {operator_name} for the condition key {key}."
                        ),
                        vec![location.clone()],
                    );
                }
                if operator.if_exists && ALWAYS_PRESENT_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key)) {
                    out.push(
                        "OXIAM_IF_EXISTS_ON_ALWAYS_PRESENT_KEY",
                        FindingType::Suggestion,
                        format!(
                            "Every request carries {key}, so {operator_name} tests the same as the operator without \
                             IfExists. We recommend that you remove IfExists."
                        ),
                        vec![location],
                    );
                }
            }
        }
        if condition.members().is_empty() && matches!(condition.value, json::Value::Object(_)) {
            out.push(
                "EMPTY_OBJECT_CONDITION",
                FindingType::Suggestion,
                "The Condition element is an empty object. We recommend that you remove it.".to_owned(),
                vec![condition_path.at(condition)],
            );
        }
    }

    /// A service condition key some of the statement's actions do not support: for them the
    /// condition is never true (or, negated, always).
    fn check_key_support(&self, key: &str, location: &Location, actions: &[ActionEntry<'a>], out: &mut Findings) {
        if CROSS_SERVICE_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            return;
        }
        // Each action of the reference is asked once per key, however many entries match it
        // (many wildcards over one service cost one scan of its actions, not one each).
        let mut answered: std::collections::HashMap<*const reference::Action, bool> = std::collections::HashMap::new();
        let mut supports = |action: &reference::Action| {
            *answered
                .entry(action as *const _)
                .or_insert_with(|| action.keys.iter().any(|k| key_pattern_matches(k, key)))
        };
        let mut unsupported = Vec::new();
        for entry in actions {
            let Some(matched) = &entry.matched else { continue };
            if !matched.is_empty() && !matched.iter().any(|(_, a)| supports(a)) {
                unsupported.push(entry);
            }
        }
        if unsupported.is_empty() {
            return;
        }
        let names: Vec<&str> = unsupported.iter().map(|e| e.text.as_str()).collect();
        let mut locations: Vec<Location> = unsupported.iter().map(|e| e.location.clone()).collect();
        locations.push(location.clone());
        out.push(
            "UNSUPPORTED_ACTION_FOR_CONDITION_KEY",
            FindingType::Error,
            format!(
                "The following actions: {} are not supported by the condition key {key}. The condition will not be \
                 evaluated for these actions. We recommend that you move these actions to a different statement \
                 without this condition key.",
                names.join(", ")
            ),
            locations,
        );
    }

    /// The reference's type of a condition key, as whichever service lists it: its own
    /// service first (most keys), else any (the global tag keys, `saml:aud` under STS).
    fn key_type(&self, key: &str) -> Option<String> {
        let (prefix, _) = key.split_once(':')?;
        let own = self.reference.service(prefix).into_iter();
        for service in own.chain(self.reference.services()) {
            if let Some((_, t)) = service.keys.iter().find(|(k, _)| key_pattern_matches(k, key)) {
                return Some(t.clone());
            }
        }
        None
    }

    /// An Allow's wildcard that reaches actions the reference files under "Permissions
    /// management" (oxiam's check): `iam:Put*` grants `iam:PutUserPolicy`, with which a
    /// principal can grant itself anything. Actions named one by one are taken as meant.
    fn check_permissions_management(&self, s: &Stmt<'a>, actions: &[ActionEntry<'a>], out: &mut Findings) {
        if !s.allow {
            return;
        }
        for entry in actions.iter().filter(|e| e.text.contains(['*', '?'])) {
            let reached: Vec<String> = match &entry.matched {
                None => Vec::new(),
                Some(matched) => matched
                    .iter()
                    .filter(|(_, a)| a.access_level() == "Permissions management")
                    .map(|(service, a)| format!("{}:{}", service.prefix, a.name))
                    .collect(),
            };
            let what = match (&entry.matched, reached.as_slice()) {
                (None, _) => "every service's permissions-management actions".to_owned(),
                (Some(_), []) => continue,
                (Some(_), [one]) => one.clone(),
                (Some(_), [first, second, ..]) => format!("{} actions, among them {first} and {second}", reached.len()),
            };
            out.push(
                "OXIAM_WILDCARD_GRANTS_PERMISSIONS_MANAGEMENT",
                FindingType::SecurityWarning,
                format!(
                    "The action {} grants permissions-management access: {what}, with which a principal can change \
                     permissions, its own among them. We recommend that you list the actions the statement needs.",
                    entry.text
                ),
                vec![entry.location.clone()],
            );
        }
    }

    /// Entries of an `Action` list whose actions another entry of it already matches, judged
    /// on the actions the reference lists (exact for today's actions). Of two entries matching
    /// the same actions, the later one is the redundant one, never both.
    fn check_redundant_actions(&self, actions: &[ActionEntry<'a>], out: &mut Findings) {
        // Each entry's actions as a set of (service, action) names; `None` for `*`.
        let sets: Vec<Option<std::collections::HashSet<(&str, &str)>>> = actions
            .iter()
            .map(|e| {
                e.matched
                    .as_ref()
                    .map(|m| m.iter().map(|(s, a)| (s.prefix.as_str(), a.name.as_str())).collect())
            })
            .collect();
        for (i, entry) in actions.iter().enumerate() {
            let Some(mine) = &sets[i] else { continue };
            if mine.is_empty() {
                continue;
            }
            let covered_by = actions.iter().enumerate().find(|(j, _)| {
                *j != i
                    && match &sets[*j] {
                        None => true,
                        Some(theirs) => mine.is_subset(theirs) && (mine.len() < theirs.len() || *j < i),
                    }
            });
            if let Some((_, other)) = covered_by {
                out.push(
                    "REDUNDANT_ACTION",
                    FindingType::Suggestion,
                    format!(
                        "The action {} is redundant because it provides similar permissions to {} in the same \
                         statement. We recommend that you remove the redundant action.",
                        entry.text, other.text
                    ),
                    vec![entry.location.clone()],
                );
            }
        }
    }

    /// A resource-based policy that lets anyone in: `Principal` `*` (or `{"AWS": "*"}`) on
    /// an Allow with no condition (oxiam's own check; Access Analyzer answers it with
    /// CheckNoPublicAccess).
    fn check_public(&self, s: &Stmt<'a>, out: &mut Findings) {
        let conditioned = s.node.member("Condition").is_some_and(|(_, c)| !c.members().is_empty());
        if self.policy_type != PolicyType::Resource || !s.allow || conditioned {
            return;
        }
        let Some((_, principal)) = s.node.member("Principal") else {
            return;
        };
        let everyone = principal.as_str() == Some("*")
            || principal
                .member("AWS")
                .is_some_and(|(_, aws)| aws.items().iter().any(|(_, p)| p.as_str() == Some("*")));
        if everyone {
            out.push(
                "OXIAM_PUBLIC_ACCESS",
                FindingType::SecurityWarning,
                "The statement allows anyone, in any account or none, with no condition. We recommend that you name \
                 the principals or add a condition that limits them."
                    .to_owned(),
                vec![s.path.key("Principal").at(principal)],
            );
        }
    }

    /// A resource policy's Allow for principals of an account other than the policy's own
    /// (oxiam's check; only when the caller names the account): each such principal located.
    fn check_cross_account(&self, s: &Stmt<'a>, out: &mut Findings) {
        let Some(own) = self.account else { return };
        if self.policy_type != PolicyType::Resource || !s.allow {
            return;
        }
        let Some((_, principal)) = s.node.member("Principal") else {
            return;
        };
        let Some((_, aws)) = principal.member("AWS") else {
            return;
        };
        for (index, node) in aws.items() {
            let Some(value) = node.as_str() else { continue };
            let account = oxiam_policy::account_of(value).or_else(|| {
                oxiam_policy::split_arn(value)
                    .map(|parts| parts[4])
                    .filter(|a| !a.is_empty())
            });
            let Some(account) = account.filter(|a| *a != own && !a.contains(['*', '?'])) else {
                continue;
            };
            out.push(
                "OXIAM_CROSS_ACCOUNT_ACCESS",
                FindingType::SecurityWarning,
                format!(
                    "The statement allows {value}, of the account {account}, which is not the policy's account {own}. \
                     Make sure that access from outside the account is intended."
                ),
                vec![s.path.key("Principal").key("AWS").index(index).at(node)],
            );
        }
    }

    /// Policy variables need Version 2012-10-17: under 2008-10-17 (the default) `${…}` is
    /// plain text.
    fn check_variables(&self, s: &Stmt<'a>, out: &mut Findings) {
        if self.version() == Some("2012-10-17") {
            return;
        }
        for element in ["Resource", "NotResource", "Condition"] {
            let Some((_, node)) = s.node.member(element) else {
                continue;
            };
            if let Some((path, found)) = first_string_with(node, s.path.key(element), "${") {
                out.push(
                    "VARIABLE_UNSUPPORTED_IN_VERSION",
                    FindingType::Error,
                    "To include variables in your policy, use the policy version 2012-10-17 or later.".to_owned(),
                    vec![path.at(found)],
                );
            }
        }
    }

    fn check_size(&self, document: &str, out: &mut Findings) {
        let size = oxiam_policy::size_without_whitespace(document);
        match self.policy_type {
            PolicyType::Identity if size > IDENTITY_POLICY_QUOTA => out.push(
                "POLICY_SIZE_EXCEEDS_IDENTITY_POLICY_QUOTA",
                FindingType::Warning,
                format!(
                    "The {size} characters in the policy, excluding whitespace, exceed the {IDENTITY_POLICY_QUOTA} \
                     character maximum for inline and managed policies. We recommend that you use multiple granular \
                     policies."
                ),
                Vec::new(),
            ),
            PolicyType::ServiceControl | PolicyType::ResourceControl if size > SCP_QUOTA => out.push(
                "POLICY_SIZE_EXCEEDS_SCP_QUOTA",
                FindingType::Error,
                format!(
                    "The {size} characters in the service control policy (SCP) exceed the {SCP_QUOTA} character \
                     maximum for SCPs. We recommend that you use multiple granular policies."
                ),
                Vec::new(),
            ),
            _ => {}
        }
    }
}

/// A value as it reads in a message: a string without quotes, anything else as JSON text.
fn text_of(node: &Node) -> String {
    match &node.value {
        json::Value::String(s) => s.clone(),
        json::Value::Number(n) => n.clone(),
        json::Value::Bool(b) => b.to_string(),
        json::Value::Null => "null".to_owned(),
        _ => "(not a string)".to_owned(),
    }
}

/// Two values equal as JSON (spans aside).
fn same_value(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (json::Value::Array(x), json::Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        (json::Value::Object(x), json::Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, _, va), (kb, _, vb))| ka == kb && same_value(va, vb))
        }
        (x, y) => x == y,
    }
}

/// The first string under `node` (at `path`) containing `needle`, with its own path.
fn first_string_with<'n>(node: &'n Node, path: Path, needle: &str) -> Option<(Path, &'n Node)> {
    match &node.value {
        json::Value::String(s) if s.contains(needle) => Some((path, node)),
        json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, n)| first_string_with(n, path.index(Some(i)), needle)),
        json::Value::Object(members) => members
            .iter()
            .find_map(|(k, _, n)| first_string_with(n, path.key(k), needle)),
        _ => None,
    }
}

/// `${…}` placeholders (policy variables) as `*`: what the text can stand for.
pub(crate) fn variables_as_wildcards(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                out.push('*');
                rest = &rest[start + end + 1..];
            }
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether the reference's key `pattern` (`aws:RequestTag/${TagKey}`, or the odd
/// `secretsmanager:ResourceTag/tag-key`) names `key`, regardless of case.
fn key_pattern_matches(pattern: &str, key: &str) -> bool {
    // `glacier:ResourceTag/` (a trailing `/`) stands for any tag key too.
    let placeholder = pattern
        .find(['$', '<'])
        .or_else(|| pattern.strip_suffix("tag-key").map(str::len))
        .or_else(|| pattern.ends_with('/').then_some(pattern.len()));
    match placeholder {
        Some(cut) => key.len() > cut && key.is_char_boundary(cut) && key[..cut].eq_ignore_ascii_case(&pattern[..cut]),
        None => pattern.eq_ignore_ascii_case(key),
    }
}

/// The operator family for a key type, as Access Analyzer names it in TYPE_MISMATCH.
fn operator_for_type(key_type: &str) -> Option<&'static str> {
    let base = key_type.strip_prefix("ArrayOf").unwrap_or(key_type);
    Some(match base {
        "String" => "String",
        "ARN" => "ARN",
        "Bool" | "Boolean" => "Bool",
        "Date" => "Date",
        "Numeric" | "Long" => "Numeric",
        "IPAddress" => "IPAddress",
        _ => return None,
    })
}

/// Whether an operator fits a key type. `Null` fits every key; ARN keys take String
/// operators too, as AWS allows.
fn operator_fits(base: oxiam_policy::OperatorBase, key_type: &str) -> bool {
    use oxiam_policy::OperatorBase as B;
    let family = operator_for_type(key_type).unwrap_or("String");
    let name = base.as_str();
    if matches!(base, B::Null) {
        return true;
    }
    match family {
        // ARN operators on string keys holding ARNs (kms:EncryptionContext:aws:s3:arn) are
        // common in AWS's own policies, and match as AWS documents: not flagged.
        "String" => name.starts_with("String") || name.starts_with("Arn"),
        "ARN" => name.starts_with("Arn") || name.starts_with("String"),
        "Bool" => name == "Bool",
        "Date" => name.starts_with("Date"),
        "Numeric" => name.starts_with("Numeric"),
        "IPAddress" => name.ends_with("IpAddress"),
        _ => true,
    }
}
