//! `oxiam policy lint FILE…`: Access Analyzer's policy checks (`oxiam-lint`), offline, for CI.
//! Prints the findings as text, as ValidatePolicy's JSON, or as SARIF for code-scanning
//! tools; exits 1 when a finding is at or above `--fail-on`.

use std::path::PathBuf;

use oxiam_lint::{Finding, FindingType, PathElement, PolicyType};
use serde_json::{Value, json};

/// The arguments of `oxiam policy lint`.
#[derive(clap::Args, Debug)]
pub struct LintArgs {
    /// Policy documents (JSON files).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// What kind of policy the files hold.
    #[arg(long, value_enum, default_value = "identity")]
    pub policy_type: LintPolicyType,
    /// With `--policy-type resource`, the resource the policy is for, as Access Analyzer's
    /// `validatePolicyResourceType` names it: `AWS::S3::Bucket`, `AWS::S3::AccessPoint`,
    /// `AWS::S3::MultiRegionAccessPoint`, `AWS::S3ObjectLambda::AccessPoint`,
    /// `AWS::IAM::AssumeRolePolicyDocument` (a role's trust policy), `AWS::DynamoDB::Table`.
    #[arg(long, value_name = "TYPE")]
    pub resource_type: Option<String>,
    /// The account that owns the policies: with `--policy-type resource`, an Allow for
    /// principals of other accounts is reported (OXIAM_CROSS_ACCOUNT_ACCESS).
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub account: Option<String>,
    /// How to print the findings.
    #[arg(long, value_enum, default_value = "text")]
    pub format: LintFormat,
    /// Exit 1 when a finding is of this type or more serious (suggestion < warning <
    /// security-warning < error).
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: FailOn,
}

/// Access Analyzer's policy types.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum LintPolicyType {
    /// An identity-based policy.
    Identity,
    /// A resource-based policy (a bucket policy, a trust policy).
    Resource,
    /// A service control policy.
    Scp,
    /// A resource control policy.
    Rcp,
}

/// Output formats.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum LintFormat {
    /// `FILE:LINE:COLUMN: TYPE CODE: details`, a line per finding.
    Text,
    /// Per file, the findings as ValidatePolicy's `findings` (camelCase members).
    Json,
    /// SARIF 2.1.0.
    Sarif,
}

/// The least serious finding type that fails the run.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum FailOn {
    /// ERROR.
    Error,
    /// SECURITY_WARNING and above.
    SecurityWarning,
    /// WARNING and above.
    Warning,
    /// Any finding.
    Suggestion,
}

impl FailOn {
    fn threshold(self) -> FindingType {
        match self {
            FailOn::Error => FindingType::Error,
            FailOn::SecurityWarning => FindingType::SecurityWarning,
            FailOn::Warning => FindingType::Warning,
            FailOn::Suggestion => FindingType::Suggestion,
        }
    }
}

/// Lints every file and prints the findings; `Ok(true)` when none is at or above
/// `--fail-on`.
pub fn run(args: &LintArgs) -> Result<bool, String> {
    let policy_type = match args.policy_type {
        LintPolicyType::Identity => PolicyType::Identity,
        LintPolicyType::Resource => PolicyType::Resource,
        LintPolicyType::Scp => PolicyType::ServiceControl,
        LintPolicyType::Rcp => PolicyType::ResourceControl,
    };
    let resource_type = match &args.resource_type {
        None => None,
        Some(name) => match (oxiam_lint::ResourceType::from_name(name), args.policy_type) {
            (Some(t), LintPolicyType::Resource) => Some(t),
            (Some(_), _) => return Err("--resource-type goes with --policy-type resource".to_owned()),
            (None, _) => {
                return Err(format!(
                    "--resource-type {name}: not a resource type Access Analyzer validates for"
                ));
            }
        },
    };
    if let Some(account) = &args.account
        && oxiam_policy::account_of(account) != Some(account.as_str())
    {
        return Err(format!("--account {account}: an account id is twelve digits"));
    }
    let options = oxiam_lint::Options {
        resource_type,
        account: args.account.as_deref(),
    };
    // Every file that reads is checked and printed; the ones that do not are said at the end
    // (and make the exit code 2).
    let mut results = Vec::new();
    let mut unreadable = Vec::new();
    for file in &args.files {
        match std::fs::read_to_string(file) {
            Ok(text) => results.push((
                file.display().to_string(),
                oxiam_lint::validate_for(&text, policy_type, &options),
            )),
            Err(e) => unreadable.push(format!("{}: {e}", file.display())),
        }
    }
    let out = match args.format {
        LintFormat::Text => text(&results),
        LintFormat::Json => serde_json::to_string_pretty(&json_report(&results)).unwrap_or_default() + "\n",
        LintFormat::Sarif => serde_json::to_string_pretty(&sarif(&results)).unwrap_or_default() + "\n",
    };
    // A reader that went away (`| head`) is no failure of the lint.
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), out.as_bytes());
    if !unreadable.is_empty() {
        return Err(unreadable.join("\noxiam: "));
    }
    let threshold = args.fail_on.threshold();
    Ok(!results
        .iter()
        .flat_map(|(_, findings)| findings)
        .any(|f| f.finding_type >= threshold))
}

fn text(results: &[(String, Vec<Finding>)]) -> String {
    let mut out = String::new();
    for (file, findings) in results {
        for f in findings {
            let (line, column) = f
                .locations
                .first()
                .map_or((1, 1), |l| (l.span.start.line, l.span.start.column + 1));
            out.push_str(&format!(
                "{file}:{line}:{column}: {} {}: {}\n",
                f.finding_type.as_str(),
                f.issue_code,
                f.details
            ));
        }
    }
    out
}

fn position(p: oxiam_lint::json::Position) -> Value {
    json!({"line": p.line, "column": p.column, "offset": p.offset})
}

/// One finding as ValidatePolicy's `ValidatePolicyFinding`.
pub fn finding_json(f: &Finding) -> Value {
    json!({
        "findingDetails": f.details,
        "findingType": f.finding_type.as_str(),
        "issueCode": f.issue_code,
        "learnMoreLink": f.learn_more_link,
        "locations": f.locations.iter().map(|l| json!({
            "path": l.path.iter().map(|p| match p {
                PathElement::Index(i) => json!({"index": i}),
                PathElement::Value(v) => json!({"value": v}),
            }).collect::<Vec<_>>(),
            "span": {"start": position(l.span.start), "end": position(l.span.end)},
        })).collect::<Vec<_>>(),
    })
}

fn json_report(results: &[(String, Vec<Finding>)]) -> Value {
    Value::Array(
        results
            .iter()
            .map(|(file, findings)| json!({"file": file, "findings": findings.iter().map(finding_json).collect::<Vec<_>>()}))
            .collect(),
    )
}

fn sarif(results: &[(String, Vec<Finding>)]) -> Value {
    let mut rules: Vec<(&str, &str)> = results
        .iter()
        .flat_map(|(_, fs)| fs.iter().map(|f| (f.issue_code, f.learn_more_link.as_str())))
        .collect();
    rules.sort_unstable();
    rules.dedup_by_key(|r| r.0);
    let level = |t: FindingType| match t {
        FindingType::Error => "error",
        FindingType::SecurityWarning | FindingType::Warning => "warning",
        FindingType::Suggestion => "note",
    };
    let sarif_results: Vec<Value> = results
        .iter()
        .flat_map(|(file, findings)| {
            findings.iter().map(move |f| {
                let region = f.locations.first().map(|l| {
                    // SARIF counts lines and columns from 1.
                    json!({
                        "startLine": l.span.start.line,
                        "startColumn": l.span.start.column + 1,
                        "endLine": l.span.end.line,
                        "endColumn": l.span.end.column + 1,
                    })
                });
                let mut physical = json!({"artifactLocation": {"uri": file}});
                if let Some(region) = region {
                    physical["region"] = region;
                }
                json!({
                    "ruleId": f.issue_code,
                    "level": level(f.finding_type),
                    "message": {"text": f.details},
                    "properties": {"findingType": f.finding_type.as_str()},
                    "locations": [{"physicalLocation": physical}],
                })
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "oxiam policy lint",
                "rules": rules.iter().map(|(id, uri)| json!({"id": id, "helpUri": uri})).collect::<Vec<_>>(),
            }},
            "results": sarif_results,
        }],
    })
}
