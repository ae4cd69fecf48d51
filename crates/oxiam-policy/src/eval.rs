//! The decision: which policies apply to a request and how they combine.
//!
//! AWS IAM User Guide, "Policy evaluation logic" and "How AWS enforcement code logic evaluates
//! requests to allow or deny access":
//! 1. an applicable `Deny` in any policy (SCP, resource-based, identity-based, boundary,
//!    session) decides: explicit deny;
//! 2. SCPs: every level of the organization must have an applicable `Allow` (the denial
//!    reads "explicit deny in a service control policy" even when it is implicit);
//! 3. within one account a resource-based `Allow` can decide alone, depending on how it names
//!    the caller (see [`Strength`]); role trust policies must always allow;
//! 4. identity-based policies must allow; the permissions boundary and the session policy, if
//!    any, must allow too (intersection);
//! 5. cross-account ("Cross-account policy evaluation logic"): the caller's side (identity,
//!    boundary, session) and the resource policy must both allow.

use std::sync::Arc;

use crate::PolicyKind;
use crate::arn::split_arn;
use crate::compile::{AllowMode, CompiledPolicy, ReqAction, Target};
use crate::condition::Scratch;
use crate::context::Context;
use crate::principal::{Principal, PrincipalKind, Strength};
use crate::vars::Unresolved;

/// Evaluation switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalOptions {
    /// The account root user may do anything in its own account (default `true`); explicit
    /// denies (resource-based policies, SCPs) and SCPs still apply. Turn off to evaluate the
    /// root user's requests like anyone else's.
    pub root_full_access: bool,
    /// The request's resource `*` stands for every resource, so that any `Allow`
    /// statement's `Resource` or `NotResource` element lets it apply, while a `Deny` applies
    /// only where its element covers the literal `*` (default `false`): "is the action
    /// allowed on some resource", as AWS's policy simulator answers when no resource is
    /// given. A real request always names its resource, and `*` then means the literal `*`
    /// that only `*` patterns match.
    pub any_resource: bool,
    /// The request's resource stands for every resource that begins with it, so that the
    /// answer is "may the action be allowed on some resource under this prefix" (default
    /// `false`): an `Allow` applies where its resource element may match one of them, a
    /// `Deny` only where its element is `*`. For a check before the resources are known
    /// (S3 DeleteObjects, before its list of keys is read), each of which is then decided
    /// on its own; never an answer by itself.
    pub resource_prefix: bool,
}

impl Default for EvalOptions {
    fn default() -> EvalOptions {
        EvalOptions {
            root_full_access: true,
            any_resource: false,
            resource_prefix: false,
        }
    }
}

/// A request to authorize.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The caller.
    pub principal: Principal<'a>,
    /// `service:Action`, compared case-insensitively.
    pub action: &'a str,
    /// The resource ARN, or `*` for actions without resource-level permissions.
    pub resource: &'a str,
    /// The account that owns the resource; `None` means the principal's own account.
    pub resource_account: Option<&'a str>,
    /// The request context (condition keys).
    pub context: &'a Context,
    /// Evaluation switches.
    pub options: EvalOptions,
}

impl<'a> Request<'a> {
    /// A same-account request with default options.
    pub fn new(principal: Principal<'a>, action: &'a str, resource: &'a str, context: &'a Context) -> Request<'a> {
        Request {
            principal,
            action,
            resource,
            resource_account: None,
            context,
            options: EvalOptions::default(),
        }
    }

    /// Sets the account that owns the resource.
    pub fn with_resource_account(mut self, account: &'a str) -> Request<'a> {
        self.resource_account = Some(account);
        self
    }

    /// Sets the options.
    pub fn with_options(mut self, options: EvalOptions) -> Request<'a> {
        self.options = options;
        self
    }
}

/// The policies that apply to a request.
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicySet<'a> {
    /// Identity-based policies of the caller: inline and managed policies of the user and its
    /// groups, or of the role. Their allows are united.
    pub identity: &'a [Arc<CompiledPolicy>],
    /// The resource-based policy of the resource (or the role's trust policy, with
    /// `resource_must_allow`).
    pub resource: Option<&'a CompiledPolicy>,
    /// The caller's permissions boundary.
    pub boundary: Option<&'a CompiledPolicy>,
    /// Session policies of a role or federated-user session (inline and managed, united);
    /// `None` (or an empty slice) when the session was created without any.
    pub session: Option<&'a [Arc<CompiledPolicy>]>,
    /// Service control policies, one slice per level of the organization (root, each OU, the
    /// account); each level must allow. Empty: no Organizations. An empty level is skipped.
    pub scps: &'a [&'a [Arc<CompiledPolicy>]],
    /// Resource control policies of the resource's account, one slice per level as for
    /// SCPs; each level must allow (`RCPFullAWSAccess`, attached everywhere, always does).
    pub rcps: &'a [&'a [Arc<CompiledPolicy>]],
    /// The resource-based policy must itself allow the caller (role trust policies, KMS key
    /// policies): an identity-based allow alone is not enough.
    pub resource_must_allow: bool,
}

/// A statement that took part in a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRef {
    /// The kind of the policy.
    pub kind: PolicyKind,
    /// The id the policy was compiled with.
    pub policy_id: Arc<str>,
    /// Index of the statement in the policy (0-based).
    pub index: usize,
    /// The statement's `Sid`, if it has one.
    pub sid: Option<Arc<str>>,
    /// The condition keys the statement's `Condition` block tests (each once, as first
    /// written): the keys a decision by this statement evaluated.
    pub condition_keys: Arc<[Arc<str>]>,
}

/// Why a request was allowed or denied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// An applicable `Deny` statement.
    ExplicitDeny(StatementRef),
    /// The `Allow` statement that decided (the identity-based one when both sides were needed).
    Allowed(StatementRef),
    /// The account root user acting in its own account.
    RootAccount,
    /// Implicit deny: no applicable `Allow` in a policy of this kind (for
    /// [`PolicyKind::Scp`], some level of the organization had none).
    NoAllow {
        /// The policy kind that had no applicable `Allow`.
        missing: PolicyKind,
    },
}

/// A statement that took no part in a decision because a policy variable in its `Resource`
/// or `NotResource` element had no value for the request and no default
/// (`${aws:username}` for a role session, say).
///
/// AWS IAM User Guide, "IAM policy elements: Variables and tags"
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html>): a
/// variable AWS cannot resolve can make the entire statement invalid, and for a key that is
/// *not present* any attempt to match it fails and causes the statement to be invalid.
/// Such a statement neither allows nor denies, whatever its effect, and under `NotResource`
/// as under `Resource`. Variables in condition values are not covered: there the guide
/// documents null semantics instead (see `docs/differences.md`).
///
/// Its [`Display`](std::fmt::Display) form reads `POLICY: statement N ignored:
/// ${aws:username} is not set`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredStatement {
    /// The statement.
    pub statement: StatementRef,
    /// The variable's key, as written in the policy (`aws:username`).
    pub variable: Arc<str>,
    /// Why it has no value.
    pub cause: Unresolved,
}

impl std::fmt::Display for IgnoredStatement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: statement {}",
            self.statement.policy_id,
            self.statement.index + 1
        )?;
        if let Some(sid) = &self.statement.sid {
            write!(f, " (Sid {sid})")?;
        }
        write!(f, " ignored: ${{{}}} {}", self.variable, self.cause.phrase())
    }
}

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request is allowed.
    pub allowed: bool,
    /// Why.
    pub reason: Reason,
    /// Statements the evaluation came to but ignored because a variable of their resource
    /// element had no value, in the order they were examined; usually empty. Listed only
    /// when the rest of the statement matched the request (action, principal, conditions)
    /// and the variable alone kept it out: under `Resource`, a pattern holding the variable
    /// could have matched the resource (its text before the first wildcard or variable
    /// does); under `NotResource`, no other pattern excluded the resource. Evaluation stops
    /// early (at the first applicable `Deny`, at the first `Allow` of a policy), so
    /// statements it never reached are not listed.
    pub ignored: Vec<IgnoredStatement>,
}

impl PolicyKind {
    fn phrase(self) -> &'static str {
        match self {
            PolicyKind::Identity => "an identity-based policy",
            PolicyKind::Resource | PolicyKind::Trust => "a resource-based policy",
            PolicyKind::Boundary => "a permissions boundary",
            PolicyKind::Session => "a session policy",
            PolicyKind::Scp => "a service control policy",
            PolicyKind::Rcp => "a resource control policy",
        }
    }
}

impl Decision {
    fn allow(reason: Reason) -> Decision {
        Decision {
            allowed: true,
            reason,
            ignored: Vec::new(),
        }
    }

    fn no_allow(missing: PolicyKind) -> Decision {
        Decision {
            allowed: false,
            reason: Reason::NoAllow { missing },
            ignored: Vec::new(),
        }
    }

    /// The message of IAM's `AccessDenied` error for a denied request (`None` if allowed):
    /// `User: ARN is not authorized to perform: ACTION on resource: RESOURCE because no
    /// identity-based policy allows the ACTION action`, `… with an explicit deny in a
    /// resource-based policy`, and so on. An implicit deny by SCPs reads as an explicit deny
    /// in a service control policy, as AWS writes it; a trust policy that does not allow the
    /// caller gives the bare `… on resource: ROLE` form of `sts:AssumeRole` denials.
    pub fn denial_message(&self, principal_arn: &str, action: &str, resource: &str) -> Option<String> {
        if self.allowed {
            return None;
        }
        let head = format!("User: {principal_arn} is not authorized to perform: {action} on resource: {resource}");
        Some(match &self.reason {
            Reason::ExplicitDeny(s) => format!("{head} with an explicit deny in {}", s.kind.phrase()),
            Reason::NoAllow {
                missing: PolicyKind::Scp,
            } => format!("{head} with an explicit deny in a service control policy"),
            Reason::NoAllow {
                missing: PolicyKind::Rcp,
            } => format!("{head} with an explicit deny in a resource control policy"),
            Reason::NoAllow {
                missing: PolicyKind::Trust,
            } => head,
            Reason::NoAllow { missing } => {
                let what = match missing {
                    PolicyKind::Identity => "identity-based policy",
                    PolicyKind::Resource | PolicyKind::Trust => "resource-based policy",
                    PolicyKind::Boundary => "permissions boundary",
                    PolicyKind::Session => "session policy",
                    PolicyKind::Scp => "service control policy",
                    PolicyKind::Rcp => "resource control policy",
                };
                format!("{head} because no {what} allows the {action} action")
            }
            Reason::Allowed(_) | Reason::RootAccount => head,
        })
    }
}

pub(crate) fn statement_ref(p: &CompiledPolicy, index: u32) -> StatementRef {
    StatementRef {
        kind: p.kind(),
        policy_id: p.id_arc().clone(),
        index: index as usize,
        sid: p.statements[index as usize].sid.clone(),
        condition_keys: p.statements[index as usize].condition_keys.clone(),
    }
}

/// Lower-cases `action` into `buf` when it fits (no allocation), else into `heap`.
fn lower_action<'b>(action: &str, buf: &'b mut [u8; 256], heap: &'b mut String) -> &'b str {
    if action.len() <= buf.len() {
        let out = &mut buf[..action.len()];
        out.copy_from_slice(action.as_bytes());
        out.make_ascii_lowercase();
        // ASCII lower-casing keeps UTF-8 valid.
        std::str::from_utf8(out).unwrap_or("")
    } else {
        *heap = action.to_ascii_lowercase();
        heap
    }
}

/// Scans `policies` (united): the first applying `Deny` (returned at once), else whether one
/// allows (the first applying `Allow`, in order).
fn scan_all(
    policies: &[Arc<CompiledPolicy>],
    t: &Target<'_>,
    scratch: &mut Scratch,
) -> Result<Option<StatementRef>, StatementRef> {
    let mut allow = None;
    for p in policies {
        let mode = if allow.is_some() {
            AllowMode::Skip
        } else {
            AllowMode::First
        };
        let found = p.scan(t, scratch, mode);
        if let Some(i) = found.deny {
            return Err(statement_ref(p, i));
        }
        if let Some((i, _)) = found.allow {
            allow = Some(statement_ref(p, i));
        }
    }
    Ok(allow)
}

fn deny(s: StatementRef) -> Decision {
    Decision {
        allowed: false,
        reason: Reason::ExplicitDeny(s),
        ignored: Vec::new(),
    }
}

/// Evaluates `request` against `policies`. Never fails: a policy that cannot match (for
/// example a condition on a missing key) simply does not apply, and a statement whose
/// resource element needs a variable the request has no value for is ignored (listed in
/// [`Decision::ignored`]).
pub fn evaluate(request: &Request<'_>, policies: &PolicySet<'_>) -> Decision {
    let mut scratch = Scratch::default();
    let mut decision = decide(request, policies, &mut scratch);
    decision.ignored = scratch.ignored;
    decision
}

fn decide(request: &Request<'_>, policies: &PolicySet<'_>, scratch: &mut Scratch) -> Decision {
    let mut buf = [0u8; 256];
    let mut heap = String::new();
    let full = lower_action(request.action, &mut buf, &mut heap);
    let (service, name) = full.split_once(':').unwrap_or(("", full));
    let principal = &request.principal;
    let t = Target {
        action: ReqAction {
            full,
            service,
            service_hash: crate::context::key_hash(service),
            name,
        },
        resource: request.resource,
        resource_arn: split_arn(request.resource),
        principal,
        context: request.context,
        has_boundary: policies.boundary.is_some(),
        any_resource: request.options.any_resource && request.resource == "*",
        resource_prefix: request.options.resource_prefix,
    };

    // 1. Explicit denies, gathering the allows on the way: SCPs (every non-empty level must
    // allow), the resource-based policy, then for IAM identities the identity-based policies,
    // the permissions boundary and the session policies.
    let mut scp_missing = false;
    for level in policies.scps {
        match scan_all(level, &t, scratch) {
            Err(s) => return deny(s),
            Ok(allow) => scp_missing |= !level.is_empty() && allow.is_none(),
        }
    }
    let mut rcp_missing = false;
    for level in policies.rcps {
        match scan_all(level, &t, scratch) {
            Err(s) => return deny(s),
            Ok(allow) => rcp_missing |= !level.is_empty() && allow.is_none(),
        }
    }
    let mut resource_allow = None;
    if let Some(r) = policies.resource {
        let found = r.scan(&t, scratch, AllowMode::Strongest);
        if let Some(i) = found.deny {
            return deny(statement_ref(r, i));
        }
        resource_allow = found.allow.map(|(i, s)| (statement_ref(r, i), s));
    }
    let iam_identity = principal.kind.is_iam_identity();
    let (mut identity_allow, mut boundary_ok, mut session_ok) = (None, true, true);
    if iam_identity {
        match scan_all(policies.identity, &t, scratch) {
            Err(s) => return deny(s),
            Ok(a) => identity_allow = a,
        }
        if let Some(b) = policies.boundary {
            let found = b.scan(&t, scratch, AllowMode::First);
            if let Some(i) = found.deny {
                return deny(statement_ref(b, i));
            }
            boundary_ok = found.allow.is_some();
        }
        match policies.session {
            Some(ss) if !ss.is_empty() => match scan_all(ss, &t, scratch) {
                Err(s) => return deny(s),
                Ok(a) => session_ok = a.is_some(),
            },
            // A federated-user session (GetFederationToken) without a session policy has no
            // permissions.
            _ => session_ok = principal.kind != PrincipalKind::FederatedUser,
        }
    }

    // 2. SCPs, then RCPs.
    if scp_missing {
        return Decision::no_allow(PolicyKind::Scp);
    }
    if rcp_missing {
        return Decision::no_allow(PolicyKind::Rcp);
    }

    let resource_kind = match policies.resource {
        Some(r) if r.kind() == PolicyKind::Trust => PolicyKind::Trust,
        _ if policies.resource_must_allow => PolicyKind::Trust,
        _ => PolicyKind::Resource,
    };

    // 3. Callers that are not IAM identities: only the resource-based policy can allow.
    if !iam_identity {
        return match resource_allow {
            Some((s, _)) => Decision::allow(Reason::Allowed(s)),
            None => Decision::no_allow(resource_kind),
        };
    }

    // The caller's side: identity ∩ boundary ∩ session.
    let limits = || -> Result<(), PolicyKind> {
        if !boundary_ok {
            return Err(PolicyKind::Boundary);
        }
        if !session_ok {
            return Err(PolicyKind::Session);
        }
        Ok(())
    };
    let principal_side = |identity_allow: Option<StatementRef>| -> Result<StatementRef, PolicyKind> {
        let s = identity_allow.ok_or(PolicyKind::Identity)?;
        limits()?;
        Ok(s)
    };

    let same_account = request.resource_account.is_none_or(|a| a == principal.account);
    let root = principal.kind == PrincipalKind::Root && request.options.root_full_access;

    if same_account {
        if root {
            return match (policies.resource_must_allow, resource_allow) {
                (false, _) => Decision::allow(Reason::RootAccount),
                (true, Some((s, _))) => Decision::allow(Reason::Allowed(s)),
                (true, None) => Decision::no_allow(resource_kind),
            };
        }
        // 4. A same-account resource-based allow that names the caller.
        match resource_allow {
            Some((s, Strength::Direct)) => return Decision::allow(Reason::Allowed(s)),
            Some((s, Strength::Issuer)) if limits().is_ok() => return Decision::allow(Reason::Allowed(s)),
            None if policies.resource_must_allow => return Decision::no_allow(resource_kind),
            _ => {}
        }
        // 5. Identity-based policies, limited by boundary and session.
        return match principal_side(identity_allow.take()) {
            Ok(s) => Decision::allow(Reason::Allowed(s)),
            Err(kind) => Decision::no_allow(kind),
        };
    }

    // 6. Cross-account: both sides must allow.
    let principal_allow = if root {
        None
    } else {
        match principal_side(identity_allow.take()) {
            Ok(s) => Some(s),
            Err(kind) => return Decision::no_allow(kind),
        }
    };
    match resource_allow {
        Some((s, _)) => Decision::allow(Reason::Allowed(principal_allow.unwrap_or(s))),
        None => Decision::no_allow(resource_kind),
    }
}

/// Evaluates a role trust policy: may `request.principal` perform `request.action` (usually
/// `sts:AssumeRole`, `sts:AssumeRoleWithWebIdentity`, `sts:TagSession`, …) on the role
/// `request.resource`? The trust policy must allow the caller; when it names only the caller's
/// account (or the caller is in another account) the caller's own policies, given in `caller`,
/// must allow the action on the role too. Equivalent to [`evaluate`] with `trust` as the
/// resource policy and `resource_must_allow` set.
pub fn evaluate_trust(request: &Request<'_>, trust: &CompiledPolicy, caller: &PolicySet<'_>) -> Decision {
    let set = PolicySet {
        resource: Some(trust),
        resource_must_allow: true,
        ..*caller
    };
    evaluate(request, &set)
}
