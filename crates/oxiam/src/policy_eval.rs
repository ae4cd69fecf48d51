//! `oxiam policy eval`: may this principal, with these policies, do ACTION on RESOURCE
//! in this context? Answered offline from policy files by the engine that decides every
//! request of the server, with the reason.

use std::path::PathBuf;
use std::sync::Arc;

use oxiam_policy::{CompiledPolicy, PolicyKind, PolicySet, Reason};

/// The arguments of `oxiam policy eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// Identity-based policy files (inline or managed policies of the principal).
    #[arg(long = "policy", value_name = "FILE")]
    pub policies: Vec<PathBuf>,
    /// The principal's permissions boundary.
    #[arg(long, value_name = "FILE")]
    pub boundary: Option<PathBuf>,
    /// Session policy files (for a role session).
    #[arg(long = "session-policy", value_name = "FILE")]
    pub session_policies: Vec<PathBuf>,
    /// The resource's policy (a bucket policy, a trust policy with --trust).
    #[arg(long, value_name = "FILE")]
    pub resource_policy: Option<PathBuf>,
    /// Evaluate the resource policy as a role trust policy: it must allow the caller.
    #[arg(long)]
    pub trust: bool,
    /// The action, e.g. `s3:GetObject`.
    #[arg(long)]
    pub action: String,
    /// The resource ARN, e.g. `arn:aws:s3:::bucket/key` (default `*`).
    #[arg(long, default_value = "*")]
    pub resource: String,
    /// The caller: a user ARN, `arn:aws:iam::ACCOUNT:root`, or a role session ARN
    /// (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`).
    #[arg(long, default_value = "arn:aws:iam::123456789012:user/example")]
    pub principal: String,
    /// The account that owns the resource (default: the principal's).
    #[arg(long)]
    pub resource_account: Option<String>,
    /// A context key and value, `key=value` (repeat for several values of one key).
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
}

/// Evaluates and prints; `Ok(true)` when the request is allowed.
pub fn run(args: &EvalArgs) -> Result<bool, String> {
    let load = |path: &PathBuf, kind: PolicyKind| -> Result<Arc<CompiledPolicy>, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        oxiam_policy::compile(path.display().to_string(), &text, kind)
            .map(Arc::new)
            .map_err(|e| format!("{}: MalformedPolicyDocument: {}", path.display(), e.message))
    };
    let identity = args
        .policies
        .iter()
        .map(|p| load(p, PolicyKind::Identity))
        .collect::<Result<Vec<_>, _>>()?;
    let boundary = args
        .boundary
        .as_ref()
        .map(|p| load(p, PolicyKind::Boundary))
        .transpose()?;
    let session = args
        .session_policies
        .iter()
        .map(|p| load(p, PolicyKind::Session))
        .collect::<Result<Vec<_>, _>>()?;
    let resource_kind = if args.trust {
        PolicyKind::Trust
    } else {
        PolicyKind::Resource
    };
    let resource_policy = args
        .resource_policy
        .as_ref()
        .map(|p| load(p, resource_kind))
        .transpose()?;

    let account = args
        .principal
        .split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .ok_or("--principal must be an ARN")?;
    let role_arn = match args.principal.split(":assumed-role/").nth(1) {
        Some(rest) => format!(
            "arn:aws:iam::{account}:role/{}",
            rest.split('/').next().unwrap_or_default()
        ),
        None => String::new(),
    };
    let principal = if args.principal.ends_with(":root") {
        oxiam_policy::Principal::root(&args.principal, account)
    } else if args.principal.contains(":assumed-role/") {
        oxiam_policy::Principal::assumed_role(&args.principal, &role_arn, account)
    } else {
        oxiam_policy::Principal::user(&args.principal, account)
    };
    let given: Vec<(&str, &str)> = args
        .context
        .iter()
        .map(|entry| {
            entry
                .split_once('=')
                .ok_or_else(|| format!("--context {entry}: expected key=value"))
        })
        .collect::<Result<_, _>>()?;
    // The principal's own keys, as the server sets them for a request it signs (a key given
    // with --context wins): aws:PrincipalArn is a session's role, not the session.
    let mut own: Vec<(&str, String)> = vec![("aws:PrincipalAccount", account.to_owned())];
    if args.principal.ends_with(":root") {
        own.push(("aws:PrincipalType", "Account".into()));
        own.push(("aws:PrincipalArn", args.principal.clone()));
        own.push(("aws:userid", account.to_owned()));
    } else if args.principal.contains(":assumed-role/") {
        own.push(("aws:PrincipalType", "AssumedRole".into()));
        own.push(("aws:PrincipalArn", role_arn.clone()));
    } else if let Some(name) = args.principal.split(":user/").nth(1).and_then(|p| p.rsplit('/').next()) {
        own.push(("aws:PrincipalType", "User".into()));
        own.push(("aws:PrincipalArn", args.principal.clone()));
        own.push(("aws:username", name.to_owned()));
    } else {
        own.push(("aws:PrincipalArn", args.principal.clone()));
    }
    let mut context = oxiam_policy::Context::builder();
    for (key, value) in own {
        if !given.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
            context = context.set(key, value.as_str());
        }
    }
    for (key, value) in given {
        context = context.add(key, value);
    }
    let context = context.build();
    // As on the server: AWS answers GetCallerIdentity for any caller, whatever its policies.
    if args.action.eq_ignore_ascii_case("sts:GetCallerIdentity") {
        println!("Allowed: sts:GetCallerIdentity needs no permission (AWS answers it whatever the policies say)");
        return Ok(true);
    }
    let mut request = oxiam_policy::Request::new(principal, &args.action, &args.resource, &context);
    if let Some(owner) = &args.resource_account {
        request = request.with_resource_account(owner);
    }
    let set = PolicySet {
        identity: &identity,
        resource: if args.trust { None } else { resource_policy.as_deref() },
        boundary: boundary.as_deref(),
        session: (!session.is_empty()).then_some(&session[..]),
        scps: &[],
        rcps: &[],
        resource_must_allow: false,
    };
    let decision = match (&resource_policy, args.trust) {
        (Some(trust), true) => oxiam_policy::evaluate_trust(&request, trust, &set),
        _ => oxiam_policy::evaluate(&request, &set),
    };
    let describe = |s: &oxiam_policy::StatementRef| match &s.sid {
        Some(sid) => format!("statement {} (Sid {sid}) of {}", s.index + 1, s.policy_id),
        None => format!("statement {} of {}", s.index + 1, s.policy_id),
    };
    match &decision.reason {
        Reason::Allowed(s) => println!("Allowed: {} on {} by {}", args.action, args.resource, describe(s)),
        Reason::RootAccount => println!("Allowed: the account root may do anything in its own account"),
        Reason::ExplicitDeny(s) => println!("ExplicitDeny: {}", describe(s)),
        Reason::NoAllow { missing } => {
            let kind = match missing {
                PolicyKind::Identity => "identity-based policy",
                PolicyKind::Resource | PolicyKind::Trust => "resource-based policy",
                PolicyKind::Boundary => "permissions boundary",
                PolicyKind::Session => "session policy",
                PolicyKind::Scp => "service control policy",
                PolicyKind::Rcp => "resource control policy",
            };
            println!("ImplicitDeny: no {kind} allows {}", args.action)
        }
    }
    if let Some(message) = decision.denial_message(&args.principal, &args.action, &args.resource) {
        println!("AccessDenied: {message}");
    }
    Ok(decision.allowed)
}
