//! `oxiam policy suggest`: the least-privilege identity policy for what a principal did, read
//! from an audit trail (`serve --audit-log`). Every action the principal attempted (allowed,
//! denied, or let through by `--enforcement log`) on the resources it named, one statement per
//! service and resource set (built by `oxiam_lint::suggest`); `--verify` runs each recorded
//! request through the engine against the suggestion.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use oxiam_lint::suggest::{Attempt, Generalize};
use oxiam_policy::{Context, PolicyKind, PolicySet, Principal, Request};
use serde_json::Value;

/// The arguments of `oxiam policy suggest`.
#[derive(clap::Args, Debug)]
pub struct SuggestArgs {
    /// The audit trail to read (`-`: standard input).
    #[arg(long, value_name = "FILE")]
    pub audit_log: PathBuf,
    /// Whose requests: a user's or role's ARN, or a role session's
    /// (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`); `*` and `?` match any characters
    /// (`arn:aws:sts::123456789012:assumed-role/app/*`). A role's ARN takes every session of it.
    #[arg(long, value_name = "ARN")]
    pub principal: String,
    /// Only requests at or after this time, in UTC as the trail writes it
    /// (`2026-12-03T10:00:00Z`).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Write the policy here (and the condition keys seen to FILE.keys.txt) instead of
    /// printing it.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Check that the suggestion allows every recorded request, with the policy engine.
    #[arg(long)]
    pub verify: bool,
    /// How far to generalize the resources: `exact` (as requested), `ids` (what looks
    /// generated in a name, a timestamp or a UUID, becomes `*`), `names` (as `ids`, and the
    /// resource type's last name becomes `*`: every user, every object of the bucket). What
    /// the resource type fixes (`user/`), what comes before the ARN's fifth colon (partition,
    /// region, account) and account ids are kept either way.
    #[arg(long, value_enum, default_value = "exact")]
    pub generalize: GeneralizeArg,
    /// The principal's current policies (identity policy files, repeatable): print the
    /// actions they may allow that the suggestion does not, by access level, the most
    /// powerful first.
    #[arg(long, value_name = "FILE")]
    pub current_policy: Vec<PathBuf>,
    /// Read the principal's current policies from this IAM endpoint (oxiam's, or
    /// `https://iam.amazonaws.com`) with GetAccountAuthorizationDetails, with the credentials
    /// of the usual AWS environment variables or profile, and print what they may allow beyond
    /// the suggestion (as `--current-policy` does).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

/// `--generalize`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum GeneralizeArg {
    Exact,
    Ids,
    Names,
}

/// Reads the trail, prints (or writes) the suggestion; `Ok(false)` when `--verify` found a
/// recorded request the suggestion does not allow.
pub fn run(args: &SuggestArgs) -> Result<bool, String> {
    // The trail's own form, `YYYY-MM-DDTHH:MM:SSZ`: compared as text, it compares as time.
    if let Some(since) = &args.since
        && !crate::audit_filter::is_trail_time(since)
    {
        return Err(format!(
            "--since {since}: write the time as the trail does, e.g. 2026-12-03T10:00:00Z"
        ));
    }
    let mut attempts = Vec::new();
    let mut keys_seen: BTreeSet<String> = BTreeSet::new();
    crate::audit_filter::read_trail(&args.audit_log, |event, _| {
        if !is_of(event, &args.principal) || args.since.as_deref().is_some_and(|since| !at_or_after(event, since)) {
            return Ok(());
        }
        for verdict in event["oxiam"]["verdicts"].as_array().into_iter().flatten() {
            let (Some(action), Some(resource)) = (verdict["action"].as_str(), verdict["resource"].as_str()) else {
                continue;
            };
            // What the principal did: what was allowed, and what `--enforcement log` let
            // through; not what it was refused (it did without it).
            if verdict["decision"] != "Allowed" && verdict["enforced"] != false {
                continue;
            }
            attempts.push(Attempt {
                action: action.to_owned(),
                resource: resource.to_owned(),
            });
            for key in verdict["statement"]["conditionKeys"].as_array().into_iter().flatten() {
                keys_seen.extend(key.as_str().map(str::to_owned));
            }
        }
        Ok(())
    })?;
    if attempts.is_empty() {
        return Err(format!(
            "no request of {} in {}",
            args.principal,
            args.audit_log.display()
        ));
    }
    let generalize = match args.generalize {
        GeneralizeArg::Exact => Generalize::Exact,
        GeneralizeArg::Ids => Generalize::Ids,
        GeneralizeArg::Names => Generalize::Names,
    };
    let policy = oxiam_lint::suggest::suggestion(&attempts, generalize);
    let text = serde_json::to_string_pretty(&policy).unwrap_or_default() + "\n";
    match &args.out {
        Some(path) => {
            std::fs::write(path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut keys_file = path.clone().into_os_string();
            keys_file.push(".keys.txt");
            let mut keys = String::from(
                "# Condition keys the statements that decided these requests tested: consider them for\n\
                 # Condition elements of the suggested policy (JSON has no comments).\n",
            );
            for key in &keys_seen {
                keys.push_str(key);
                keys.push('\n');
            }
            std::fs::write(&keys_file, keys).map_err(|e| format!("{}: {e}", PathBuf::from(&keys_file).display()))?;
        }
        None => print!("{text}"),
    }
    let mut current = Vec::new();
    for path in &args.current_policy {
        let document = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        current.push((path.display().to_string(), document));
    }
    if let Some(endpoint) = &args.endpoint_url {
        let held = crate::current_policies::fetch(endpoint, &args.principal)?;
        for (from, _) in &held {
            eprintln!("current: {from}");
        }
        current.extend(held);
    }
    if !current.is_empty() {
        beyond_the_suggestion(&current, &text)?;
    }
    if !args.verify {
        return Ok(true);
    }
    let compiled = oxiam_policy::compile("suggested", &text, PolicyKind::Identity)
        .map_err(|e| format!("the suggestion does not parse: {}", e.message))?;
    let identity = vec![Arc::new(compiled)];
    let set = PolicySet {
        identity: &identity,
        ..PolicySet::default()
    };
    let principal = Principal::user("arn:aws:iam::000000000000:user/suggested", "000000000000");
    let context = Context::new();
    let refused: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| !oxiam_policy::evaluate(&Request::new(principal, &a.action, &a.resource, &context), &set).allowed)
        .collect();
    eprintln!(
        "verify: {} of {} recorded requests allowed by the suggestion",
        attempts.len() - refused.len(),
        attempts.len()
    );
    for a in &refused {
        eprintln!("verify: not allowed: {} on {}", a.action, a.resource);
    }
    Ok(refused.is_empty())
}

/// Prints what the current policies may allow that the suggestion does not: one line per
/// access level (`beyond: Permissions management: iam:AttachUserPolicy, …`), the levels from
/// the most powerful down, the actions as the reference spells them.
fn beyond_the_suggestion(current: &[(String, String)], suggestion: &str) -> Result<(), String> {
    use oxiam_lint::diff::allowed_actions;
    let suggested = allowed_actions(
        &oxiam_policy::parse(suggestion, PolicyKind::Identity).map_err(|e| format!("the suggestion: {}", e.message))?,
    );
    let mut beyond: BTreeSet<String> = BTreeSet::new();
    for (from, text) in current {
        let policy = oxiam_policy::parse(text, PolicyKind::Identity).map_err(|e| format!("{from}: {}", e.message))?;
        beyond.extend(allowed_actions(&policy).difference(&suggested).cloned());
    }
    const LEVELS: [&str; 5] = ["Permissions management", "Write", "Tagging", "Read", "List"];
    let reference = oxiam_lint::reference::reference();
    let mut by_level: Vec<Vec<String>> = vec![Vec::new(); LEVELS.len() + 1];
    for action in &beyond {
        let (service, name) = action.split_once(':').unwrap_or((action, ""));
        let found = reference.service(service).and_then(|s| s.action(name));
        let level = found.map_or(LEVELS.len(), |a| {
            LEVELS
                .iter()
                .position(|l| *l == a.access_level())
                .unwrap_or(LEVELS.len())
        });
        by_level[level].push(found.map_or_else(|| action.clone(), |a| format!("{service}:{}", a.name)));
    }
    eprintln!(
        "beyond: {} actions the current policies may allow are not in the suggestion",
        beyond.len()
    );
    for (level, actions) in LEVELS.iter().chain(&["Other"]).zip(&by_level) {
        if !actions.is_empty() {
            eprintln!("beyond: {level}: {}", actions.join(", "));
        }
    }
    Ok(())
}

/// Whether an event is a request of the principal the pattern names: its caller's ARN, or
/// (for a role session) the role's.
fn is_of(event: &Value, pattern: &str) -> bool {
    let identity = &event["userIdentity"];
    [
        identity["arn"].as_str(),
        identity["sessionContext"]["sessionIssuer"]["arn"].as_str(),
    ]
    .into_iter()
    .flatten()
    .any(|arn| oxiam_lint::wildcard::matches(pattern, arn))
}

/// Whether the event happened at or after `since` (both ISO 8601 in UTC, as the trail writes
/// them: comparing the text compares the times).
fn at_or_after(event: &Value, since: &str) -> bool {
    event["eventTime"].as_str().is_some_and(|t| t >= since)
}
