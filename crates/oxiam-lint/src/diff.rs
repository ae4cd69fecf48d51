//! Does a new policy allow anything the old one does not? (Access Analyzer's CheckNoNewAccess,
//! `oxiam policy diff`.)
//!
//! Two halves, each sound on its own, and "unknown" between them:
//! - **A proof of no new access**, by covering: every Deny of the old policy is in the new
//!   one, and each action an Allow of the new policy grants (as the Service Authorization
//!   Reference lists actions) is granted by an Allow of the old one on at least the same
//!   resources (wildcard containment, segment by segment for ARNs), to at least the same
//!   principals, under at most the same conditions (the old statement's conditions are a
//!   subset of the new one's). Anything else — a variable in a pattern that differs, a
//!   resource covered only by several old patterns together — is not proved.
//! - **A witness of new access**: a concrete request (action, resource, context values, and
//!   for a resource policy its caller), made from the new policy's own actions, patterns,
//!   principals and condition values, that the policy engine allows under the new policy and
//!   refuses under the old one.
//!
//! When neither is found the answer is [`Verdict::Unknown`], never a "no new access". The
//! requests considered are those of the reference's actions (an action no AWS service has
//! cannot be asked), by a principal of the policy's account for an identity policy; for a
//! resource policy, by a caller whose own policies allow everything, so that the resource
//! policy alone decides (the engine's `resource_must_allow`).

use std::collections::BTreeSet;
use std::sync::Arc;

use oxiam_policy::{
    CompiledPolicy, Condition, Context, Effect, Policy, PolicyKind, PolicySet, Principal, PrincipalType,
    PrincipalValue, Request, ResourceSpec, Statement, Value, evaluate,
};

use crate::access::action_matched;
use crate::reference::reference;
use crate::wildcard::{matches, may_intersect};

/// What [`diff`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Proved: the new policy allows nothing the old one does not.
    NoNewAccess,
    /// A request the new policy allows and the old one refuses, confirmed by the engine.
    NewAccess(Witness),
    /// Neither proved nor shown (with why the proof failed).
    Unknown(String),
}

/// A request only the new policy allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witness {
    /// `s3:GetObject`.
    pub action: String,
    /// An ARN, or `*`.
    pub resource: String,
    /// The request's context keys and values (others absent).
    pub context: Vec<(String, String)>,
    /// For a resource policy, who makes the request: an ARN, a service principal, a
    /// provider, or `*` for an anonymous caller (`None` for an identity policy: a user of
    /// the policy's account).
    pub caller: Option<String>,
    /// The new policy's statement that allows it: its place, and its `Sid`.
    pub statement_index: usize,
    pub statement_id: Option<String>,
}

/// The account and principal a witness request is made by.
const ACCOUNT: &str = "123456789012";
const PRINCIPAL: &str = "arn:aws:iam::123456789012:user/witness";
/// At most this many requests are tried for a witness.
const MAX_TRIES: usize = 20_000;
/// How much matching one diff may do (a step is about one wildcard match), so that a large
/// policy cannot hold a server's thread for long: past it, what was not proved or shown is
/// unknown.
const WORK: usize = 20_000_000;
const TOO_LARGE: &str = "the policies are too large to decide within oxiam's bound on work";

/// What is left of a diff's [`WORK`].
struct Work(std::cell::Cell<usize>);

impl Work {
    fn new(steps: usize) -> Self {
        Work(std::cell::Cell::new(steps))
    }

    /// Spends `steps`; false (and nothing left) once they are not there.
    fn spend(&self, steps: usize) -> bool {
        let left = self.0.get();
        self.0.set(left.saturating_sub(steps));
        left >= steps
    }
}

/// Whether `new` allows a request `old` does not. Both are identity policies, or both
/// resource policies (a trust policy, whose statements name no resource, is only proved).
pub fn diff(old: &str, new: &str, kind: PolicyKind) -> Result<Verdict, oxiam_policy::PolicyError> {
    let old_policy = oxiam_policy::parse(old, kind)?;
    let new_policy = oxiam_policy::parse(new, kind)?;
    // Matching two patterns costs the product of their lengths: past this, nothing is tried.
    if crate::access::has_long_text(&old_policy) || crate::access::has_long_text(&new_policy) {
        return Ok(Verdict::Unknown(TOO_LARGE.to_owned()));
    }
    let work = Work::new(WORK);
    let gap = match covered(&old_policy, &new_policy, &work) {
        Ok(()) => return Ok(Verdict::NoNewAccess),
        Err(gap) => gap,
    };
    if matches!(kind, PolicyKind::Identity | PolicyKind::Resource) {
        let old_compiled = Arc::new(CompiledPolicy::compile("old", &old_policy));
        let new_compiled = Arc::new(CompiledPolicy::compile("new", &new_policy));
        let search = Search {
            old: &old_compiled,
            new: &new_compiled,
            new_policy: &new_policy,
            contexts: contexts(&old_policy, &new_policy),
            callers: match kind {
                PolicyKind::Resource => callers(&new_policy),
                _ => Vec::new(),
            },
            allow_all: allow_all(),
            tries: std::cell::Cell::new(0),
        };
        if let Some(witness) = search.find(gap.at.as_ref(), &work) {
            return Ok(Verdict::NewAccess(witness));
        }
    }
    Ok(Verdict::Unknown(gap.why))
}

// ---- the proof -------------------------------------------------------------------------

/// Where the proof stopped: why, and the new statement's index and the action it grants that
/// nothing covered (where the witness search looks first).
#[derive(Debug, PartialEq)]
struct Gap {
    why: String,
    at: Option<(usize, String)>,
}

impl From<&str> for Gap {
    fn from(why: &str) -> Self {
        Gap {
            why: why.to_owned(),
            at: None,
        }
    }
}

fn covered(old: &Policy, new: &Policy, work: &Work) -> Result<(), Gap> {
    // A Version that turns variables on in one policy and not the other makes the same text
    // mean two things.
    let uses_variables = |p: &Policy| crate::access::matched_texts(p).any(|t| t.contains("${"));
    if old.variables_enabled() != new.variables_enabled() && (uses_variables(old) || uses_variables(new)) {
        return Err("the policies differ in Version, and policy variables are read only under 2012-10-17".into());
    }
    for (index, deny) in old.statements.iter().enumerate() {
        if !work.spend(new.statements.len()) {
            return Err(TOO_LARGE.into());
        }
        if deny.effect == Effect::Deny && !new.statements.iter().any(|s| same_rule(s, deny)) {
            return Err(
                format!("the existing policy's Deny at index {index} is not in the new one")
                    .as_str()
                    .into(),
            );
        }
    }
    // The engine passes over a statement one of whose resource patterns holds a variable the
    // request has no value for: such an Allow of the old policy covers nothing for sure.
    let old_allows: Vec<&Statement> = old
        .statements
        .iter()
        .filter(|s| {
            s.effect == Effect::Allow
                && !s
                    .resource
                    .as_ref()
                    .is_some_and(|r| r.values.iter().any(|p| p.contains("${")))
        })
        .collect();
    for (index, statement) in new.statements.iter().enumerate() {
        if statement.effect != Effect::Allow {
            continue;
        }
        for action in granted_actions(statement, work).ok_or(TOO_LARGE)? {
            let covering = old_allows.iter().any(|old| {
                work.spend(old.action.values.len() + 1)
                    && action_matched(old, &action)
                    && principals_covered(old, statement)
                    && resources_covered(old.resource.as_ref(), statement.resource.as_ref())
                    && old
                        .conditions
                        .iter()
                        .all(|c| statement.conditions.iter().any(|n| same_condition(c, n)))
            });
            if !covering {
                if work.0.get() == 0 {
                    return Err(TOO_LARGE.into());
                }
                return Err(Gap {
                    why: format!(
                        "no statement of the existing policy covers {action} as the new statement at index {index} grants it"
                    ),
                    at: Some((index, action)),
                });
            }
        }
    }
    Ok(())
}

/// The reference's actions some Allow of `policy` reaches, whatever its resources and
/// conditions (so: what it may allow), as lower-case `service:action`.
pub fn allowed_actions(policy: &Policy) -> BTreeSet<String> {
    policy
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
        .flat_map(|s| granted_actions(s, &Work::new(usize::MAX)).unwrap_or_default())
        .collect()
}

/// The reference's actions a statement's Action (or NotAction) reaches, lower-cased; `None`
/// when `work` runs out first.
fn granted_actions(statement: &Statement, work: &Work) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for service in reference().services() {
        // Only the services a pattern can reach (all of them for `*` or NotAction).
        let reachable = statement.action.not
            || statement.action.values.iter().any(|p| {
                let p = p.to_ascii_lowercase();
                p.split_once(':')
                    .map_or(p == "*", |(svc, _)| matches(svc, &service.prefix))
            });
        if !reachable {
            continue;
        }
        if !work.spend(service.actions.len() * statement.action.values.len()) {
            return None;
        }
        for action in &service.actions {
            let name = format!("{}:{}", service.prefix, action.lower);
            if action_matched(statement, &name) {
                out.push(name);
            }
        }
    }
    Some(out)
}

/// Whether every caller the new statement's `Principal` names, the old one's names too: the
/// same element, the old one everyone, or each of the new one's entries among the old one's
/// (an account's id and its root ARN being one entry, as the engine reads them; `"AWS": "*"`
/// taking every AWS entry). `NotPrincipal` only as written.
fn principals_covered(old: &Statement, new: &Statement) -> bool {
    match (&old.principal, &new.principal) {
        (None, None) => true,
        (Some(o), Some(n)) if o == n => true,
        (Some(o), _) if !o.not && o.value == PrincipalValue::Any => true,
        (Some(o), Some(n)) if !o.not && !n.not => match (&o.value, &n.value) {
            (PrincipalValue::Map(old_map), PrincipalValue::Map(new_map)) => new_map.iter().all(|(kind, values)| {
                values.iter().all(|value| {
                    old_map
                        .iter()
                        .filter(|(k, _)| k == kind)
                        .flat_map(|(_, vs)| vs)
                        .any(|old_value| same_principal(*kind, old_value, value))
                })
            }),
            _ => false,
        },
        _ => false,
    }
}

/// Whether the old entry names at least every caller the new one does.
fn same_principal(kind: PrincipalType, old: &str, new: &str) -> bool {
    if old == new {
        return true;
    }
    kind == PrincipalType::Aws
        && (old == "*" || oxiam_policy::account_of(old).is_some_and(|a| oxiam_policy::account_of(new) == Some(a)))
}

fn same_rule(a: &Statement, b: &Statement) -> bool {
    a.effect == b.effect
        && a.principal == b.principal
        && a.action == b.action
        && a.resource == b.resource
        && a.conditions.len() == b.conditions.len()
        && a.conditions
            .iter()
            .all(|c| b.conditions.iter().any(|d| same_condition(c, d)))
}

fn same_condition(a: &Condition, b: &Condition) -> bool {
    let values = |c: &Condition| c.values.iter().cloned().collect::<BTreeSet<String>>();
    a.operator == b.operator && a.key.eq_ignore_ascii_case(&b.key) && values(a) == values(b)
}

/// Whether every resource `new` reaches, `old` reaches too (`None`: the statement has no
/// resource element, as in a trust policy).
fn resources_covered(old: Option<&ResourceSpec>, new: Option<&ResourceSpec>) -> bool {
    let (Some(old), Some(new)) = (old, new) else {
        return old.is_none() || old.is_some_and(|o| !o.not && o.values.iter().any(|p| p == "*"));
    };
    match (old.not, new.not) {
        (false, false) => new.values.iter().all(|q| old.values.iter().any(|p| contains(p, q))),
        (false, true) => old.values.iter().any(|p| p == "*"),
        // Everything but what old leaves out: new must reach none of that.
        (true, false) => new
            .values
            .iter()
            .all(|q| !q.contains("${") && old.values.iter().all(|n| !n.contains("${") && !may_intersect(n, q))),
        // New leaves out at least what old does.
        (true, true) => old.values.iter().all(|n| new.values.iter().any(|m| contains(m, n))),
    }
}

/// Whether every text pattern `q` matches, pattern `p` matches too (sound, not complete).
fn contains(p: &str, q: &str) -> bool {
    if p == "*" || p == q {
        return true;
    }
    if p.contains("${") || q.contains("${") {
        return false;
    }
    match (oxiam_policy::split_arn(p), oxiam_policy::split_arn(q)) {
        (Some(ps), Some(qs)) => ps.iter().zip(qs.iter()).all(|(a, b)| glob_contains(a, b)),
        _ => false,
    }
}

/// Whether the glob `p` matches every text the glob `q` matches: each of `q`'s tokens must
/// be taken by tokens of `p` that accept whatever it stands for (a `*` of `q` only by a `*`).
fn glob_contains(p: &str, q: &str) -> bool {
    let (p, q): (Vec<char>, Vec<char>) = (p.chars().collect(), q.chars().collect());
    // row[j]: p's tokens so far take q[..j]; one row at a time, so memory is q's length.
    let mut row = vec![false; q.len() + 1];
    row[0] = true;
    for &token in &p {
        let mut next = vec![false; q.len() + 1];
        if token == '*' {
            // A star takes any run of q's tokens, its stars included.
            let mut reached = false;
            for (k, cell) in next.iter_mut().enumerate() {
                reached |= row[k];
                *cell = reached;
            }
        } else {
            for (j, &other) in q.iter().enumerate() {
                // A `?` takes any one character (not a star); a character, only itself.
                let takes = other != '*' && (token == '?' || (token == other && other != '?'));
                if row[j] && takes {
                    next[j + 1] = true;
                }
            }
        }
        row = next;
    }
    row[q.len()]
}

// ---- the witness -----------------------------------------------------------------------

/// The witness search: candidate requests made from the new policy, each decided by the
/// engine under both policies.
struct Search<'a> {
    old: &'a Arc<CompiledPolicy>,
    new: &'a Arc<CompiledPolicy>,
    new_policy: &'a Policy,
    contexts: Vec<Vec<(String, String)>>,
    /// For resource policies, the callers to try; empty for identity policies (whose caller
    /// is a user of the policy's account).
    callers: Vec<Caller>,
    /// The caller's own policy when a resource policy is weighed: everything.
    allow_all: Arc<CompiledPolicy>,
    tries: std::cell::Cell<usize>,
}

impl Search<'_> {
    /// A witness: first for the action the proof found uncovered (in its statement), then
    /// for every action of every Allow of the new policy; `None` past [`MAX_TRIES`].
    fn find(&self, gap: Option<&(usize, String)>, work: &Work) -> Option<Witness> {
        if let Some((index, action)) = gap
            && let Some(statement) = self.new_policy.statements.get(*index)
            && let Some(found) = self.try_action(statement, action)?
        {
            return Some(found);
        }
        for statement in self.new_policy.statements.iter().filter(|s| s.effect == Effect::Allow) {
            for action in granted_actions(statement, work)? {
                if let Some(found) = self.try_action(statement, &action)? {
                    return Some(found);
                }
            }
        }
        None
    }

    /// `action` on each resource and in each context to try: `Some(Some(witness))`,
    /// `Some(None)` for none here, `None` once the tries are spent.
    fn try_action(&self, statement: &Statement, action: &str) -> Option<Option<Witness>> {
        // An identity policy's one caller (`None`), or each of a resource policy's.
        let callers: Vec<Option<&Caller>> = if self.callers.is_empty() {
            vec![None]
        } else {
            self.callers.iter().map(Some).collect()
        };
        for resource in resources(statement, action) {
            for (context, caller) in self.contexts.iter().flat_map(|c| callers.iter().map(move |k| (c, *k))) {
                self.tries.set(self.tries.get() + 1);
                if self.tries.get() > MAX_TRIES {
                    return None;
                }
                let ctx = build_context(context);
                let decide = |policy: &Arc<CompiledPolicy>| self.decide(policy, caller, action, &resource, &ctx);
                let by_new = decide(self.new);
                if by_new.allowed && !decide(self.old).allowed {
                    let statement_index = match by_new.reason {
                        oxiam_policy::Reason::Allowed(s) => s.index,
                        _ => 0,
                    };
                    return Some(Some(Witness {
                        action: proper_case(action),
                        resource,
                        context: context.clone(),
                        caller: caller.map(|c| c.arn.clone()),
                        statement_index,
                        statement_id: self
                            .new_policy
                            .statements
                            .get(statement_index)
                            .and_then(|s| s.sid.clone()),
                    }));
                }
            }
        }
        Some(None)
    }

    /// The engine's decision under `policy`: as the identity policy of a user of the policy's
    /// account, or as the resource policy of the resource, weighed for `caller`.
    fn decide(
        &self,
        policy: &Arc<CompiledPolicy>,
        caller: Option<&Caller>,
        action: &str,
        resource: &str,
        context: &Context,
    ) -> oxiam_policy::Decision {
        match caller {
            None => {
                let identity = [policy.clone()];
                let set = PolicySet {
                    identity: &identity,
                    ..PolicySet::default()
                };
                evaluate(
                    &Request::new(Principal::user(PRINCIPAL, ACCOUNT), action, resource, context),
                    &set,
                )
            }
            Some(caller) => {
                let identity = [self.allow_all.clone()];
                let set = PolicySet {
                    identity: &identity,
                    resource: Some(policy),
                    resource_must_allow: true,
                    ..PolicySet::default()
                };
                let request =
                    Request::new(caller.principal(), action, resource, context).with_resource_account(ACCOUNT);
                evaluate(&request, &set)
            }
        }
    }
}

/// A caller a resource policy's witness request may be made by.
#[derive(Debug, Clone, PartialEq)]
struct Caller {
    arn: String,
    account: String,
    kind: CallerKind,
    /// A role session's role.
    role: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CallerKind {
    User,
    RoleSession,
    Service,
    Federated,
    Anonymous,
}

impl Caller {
    fn principal(&self) -> Principal<'_> {
        match self.kind {
            CallerKind::User => Principal::user(&self.arn, &self.account),
            CallerKind::RoleSession => {
                Principal::assumed_role(&self.arn, self.role.as_deref().unwrap_or_default(), &self.account)
            }
            CallerKind::Service => Principal::service(&self.arn),
            CallerKind::Federated => Principal::federated(&self.arn),
            CallerKind::Anonymous => Principal::anonymous(),
        }
    }

    fn user(account: &str) -> Caller {
        Caller {
            arn: format!("arn:aws:iam::{account}:user/witness"),
            account: account.to_owned(),
            kind: CallerKind::User,
            role: None,
        }
    }

    fn named(arn: String, kind: CallerKind) -> Caller {
        Caller {
            arn,
            account: String::new(),
            kind,
            role: None,
        }
    }
}

/// An account no policy names: whoever a `*` or a `NotPrincipal` lets in.
const OUTSIDER: &str = "999988887777";
/// At most this many callers are tried per request, the three that every search tries (a user
/// of the policy's account, an outsider, an anonymous caller) among them.
const MAX_CALLERS: usize = 16;

/// The callers to try for a resource policy: one for each principal the new policy names (an
/// instance of it: a user of a named account, a session of a named role), then a user of the
/// policy's own account, one of an account nobody names, and an anonymous caller.
fn callers(new: &Policy) -> Vec<Caller> {
    let always = [
        Caller::user(ACCOUNT),
        Caller::user(OUTSIDER),
        Caller::named("*".to_owned(), CallerKind::Anonymous),
    ];
    let mut out = Vec::new();
    let mut push = |c: Caller| {
        if out.len() < MAX_CALLERS - always.len() && !out.contains(&c) && !always.contains(&c) {
            out.push(c);
        }
    };
    for spec in new.statements.iter().filter_map(|s| s.principal.as_ref()) {
        let PrincipalValue::Map(map) = &spec.value else {
            continue;
        };
        for (kind, values) in map {
            for value in values.iter().map(|v| instance(v)) {
                match kind {
                    PrincipalType::Aws => push(aws_caller(&value)),
                    PrincipalType::Service => push(Caller::named(value, CallerKind::Service)),
                    PrincipalType::Federated => push(Caller::named(value, CallerKind::Federated)),
                    _ => {}
                }
            }
        }
    }
    out.extend(always);
    out
}

/// A caller an `"AWS"` principal names: an account (its id or root ARN) by a user of it, a
/// role by a session of it, a session or a user as itself.
fn aws_caller(value: &str) -> Caller {
    if oxiam_policy::account_of(value) == Some(value) {
        return Caller::user(value);
    }
    let Some(parts) = oxiam_policy::split_arn(value) else {
        // `*` (whose instance is `x`), or no ARN: someone nobody names.
        return Caller::user(OUTSIDER);
    };
    let account = parts[4].to_owned();
    let resource = parts[5];
    if resource == "root" {
        return Caller::user(&account);
    }
    if let Some(path) = resource.strip_prefix("role/") {
        let name = path.rsplit('/').next().unwrap_or(path);
        return Caller {
            arn: format!("arn:aws:sts::{account}:assumed-role/{name}/witness"),
            role: Some(value.to_owned()),
            account,
            kind: CallerKind::RoleSession,
        };
    }
    if let Some(rest) = resource.strip_prefix("assumed-role/") {
        let role = rest.split('/').next().unwrap_or(rest);
        return Caller {
            arn: value.to_owned(),
            role: Some(format!("arn:aws:iam::{account}:role/{role}")),
            account,
            kind: CallerKind::RoleSession,
        };
    }
    Caller {
        arn: value.to_owned(),
        account,
        kind: CallerKind::User,
        role: None,
    }
}

/// The caller's own policy when a resource policy is weighed: it allows everything, so that
/// only the resource policy can refuse.
fn allow_all() -> Arc<CompiledPolicy> {
    const EVERYTHING: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let policy = oxiam_policy::parse(EVERYTHING, PolicyKind::Identity).expect("a constant policy parses");
    Arc::new(CompiledPolicy::compile("caller", &policy))
}

/// `s3:getobject` as the reference spells it: `s3:GetObject`.
fn proper_case(action: &str) -> String {
    let Some((service, name)) = action.split_once(':') else {
        return action.to_owned();
    };
    reference()
        .service(service)
        .and_then(|s| s.action(name))
        .map_or_else(|| action.to_owned(), |a| format!("{service}:{}", a.name))
}

/// Resources to try for `action` under `statement`: an instance of each of its patterns, and
/// of each of the action's resource types' ARN formats.
fn resources(statement: &Statement, action: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |r: String| {
        if !out.contains(&r) {
            out.push(r);
        }
    };
    if let Some(spec) = &statement.resource
        && !spec.not
    {
        spec.values.iter().filter(|p| *p != "*").for_each(|p| push(instance(p)));
    }
    let (service, name) = action.split_once(':').unwrap_or((action, ""));
    if let Some(service) = reference().service(service)
        && let Some(a) = service.action(name)
    {
        for kind in &a.resources {
            for format in service.resources.get(kind).into_iter().flat_map(|t| t.formats()) {
                push(instance(
                    &format.replace("${Partition}", "aws").replace("${Account}", ACCOUNT),
                ));
            }
        }
    }
    push("*".to_owned());
    out
}

/// A text a pattern matches: each wildcard and variable as `x`.
fn instance(pattern: &str) -> String {
    crate::variables_as_wildcards(pattern).replace(['*', '?'], "x")
}

/// Contexts to try: every key either policy's conditions test, absent or holding one of the
/// values written for it (and a value none wrote); every key alone, then all together.
/// At most this many condition keys, and values per key, make the contexts tried (the search
/// is best effort: fewer contexts can only leave more answers unknown).
const CONTEXT_KEYS: usize = 16;
const VALUES_PER_KEY: usize = 8;

fn contexts(old: &Policy, new: &Policy) -> Vec<Vec<(String, String)>> {
    let mut keys: Vec<(String, Vec<String>)> = Vec::new();
    for condition in old.statements.iter().chain(&new.statements).flat_map(|s| &s.conditions) {
        let at = match keys.iter().position(|(k, _)| k.eq_ignore_ascii_case(&condition.key)) {
            Some(at) => at,
            None if keys.len() < CONTEXT_KEYS => {
                keys.push((condition.key.clone(), Vec::new()));
                keys.len() - 1
            }
            None => continue,
        };
        for value in &condition.values {
            for candidate in candidates(value) {
                if keys[at].1.len() < VALUES_PER_KEY && !keys[at].1.contains(&candidate) {
                    keys[at].1.push(candidate);
                }
            }
        }
    }
    // A condition with no values ([]) gives its key none to try.
    keys.retain(|(_, values)| !values.is_empty());
    let mut out = vec![Vec::new()];
    for (key, values) in &keys {
        for value in values {
            out.push(vec![(key.clone(), value.clone())]);
        }
    }
    // Every key at once, each with each of its values in turn (the others at their first).
    if keys.len() > 1 {
        for (i, (_, values)) in keys.iter().enumerate() {
            for value in values {
                out.push(
                    keys.iter()
                        .enumerate()
                        .map(|(j, (k, vs))| (k.clone(), if i == j { value.clone() } else { vs[0].clone() }))
                        .collect(),
                );
            }
        }
    }
    out
}

/// Values near a condition's value: itself (wildcards as `x`), a different one, and for
/// numbers, flags and addresses the values on either side.
fn candidates(value: &str) -> Vec<String> {
    let mut out = vec![instance(value), format!("{}-other", instance(value))];
    if let Ok(n) = value.parse::<i64>() {
        out.extend([(n - 1).to_string(), (n + 1).to_string()]);
    }
    if value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false") {
        out = vec!["true".to_owned(), "false".to_owned()];
    }
    if let Some((address, _)) = value.split_once('/') {
        out = vec![address.to_owned(), "203.0.113.77".to_owned(), "2001:db8::77".to_owned()];
    }
    out
}

fn build_context(pairs: &[(String, String)]) -> Context {
    let mut context = Context::new();
    for (key, value) in pairs {
        context.insert(key, vec![Value::new(value.clone())]);
    }
    context
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_containment() {
        assert!(glob_contains("*", "abc"));
        assert!(glob_contains("a*", "ab*"));
        assert!(glob_contains("a*", "a?c"));
        assert!(glob_contains("a?c", "abc"));
        assert!(glob_contains("*/*", "b/home/*"));
        assert!(!glob_contains("a?c", "a*c"));
        assert!(!glob_contains("ab*", "a*"));
        assert!(!glob_contains("home/*", "*"));
        assert!(!glob_contains("abc", "ab?"));
    }

    /// Past its work, the proof stops with "too large", and so the answer is unknown, never
    /// "no new access".
    #[test]
    fn out_of_work_nothing_is_proved() {
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        let policy = oxiam_policy::parse(doc, PolicyKind::Identity).unwrap();
        assert_eq!(covered(&policy, &policy, &Work::new(WORK)), Ok(()));
        assert_eq!(covered(&policy, &policy, &Work::new(100)), Err(Gap::from(TOO_LARGE)));
    }

    proptest::proptest! {
        /// Containment is sound: when `p` is said to contain `q`, every text `q` matches,
        /// `p` matches.
        #[test]
        fn containment_is_sound(p in "[ab*?]{0,5}", q in "[ab*?]{0,5}", t in "[ab]{0,6}") {
            if glob_contains(&p, &q) && matches(&q, &t) {
                proptest::prop_assert!(matches(&p, &t), "{p} contains {q} but not {t}");
            }
        }
    }
}
