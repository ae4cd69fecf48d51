//! Compiled policies: wildcards turned into matchers, action names lower-cased and indexed by
//! service prefix, conditions turned into typed comparisons, CIDRs and dates parsed. A
//! [`CompiledPolicy`] is immutable, `Send + Sync`, and meant to be shared behind an `Arc`.

use std::sync::Arc;

use crate::PolicyKind;
use crate::arn::{ArnPattern, Hit, split_arn};
use crate::ast::{Effect, Policy, ResourceSpec};
use crate::condition::{CCondition, Scratch};
use crate::context::key_hash;
use crate::eval::IgnoredStatement;
use crate::glob::{Glob, bytes_eq};
use crate::principal::{CPrincipal, Principal, Strength};
use crate::vars::{self, Unresolved};

/// One pattern of an `Action`/`NotAction` element, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ActionPattern {
    /// `*`
    Any,
    /// `service:name-pattern`
    Service { service: Box<str>, name: Glob },
    /// Anything else (only reachable for hand-built policies): matched on the whole name.
    Full(Glob),
}

impl ActionPattern {
    fn compile(action: &str) -> ActionPattern {
        let lower = action.to_ascii_lowercase();
        if lower == "*" {
            return ActionPattern::Any;
        }
        match lower.split_once(':') {
            Some((service, name)) if !service.contains(['*', '?']) => ActionPattern::Service {
                service: service.into(),
                name: Glob::new(name),
            },
            _ => ActionPattern::Full(Glob::new(&lower)),
        }
    }

    #[inline]
    fn matches(&self, a: &ReqAction<'_>) -> bool {
        match self {
            ActionPattern::Any => true,
            ActionPattern::Service { service, name } => {
                bytes_eq(service.as_bytes(), a.service.as_bytes()) && name.matches(a.name)
            }
            ActionPattern::Full(g) => g.matches(a.full),
        }
    }
}

/// The request's action, lower-cased and split at the first colon.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReqAction<'a> {
    pub(crate) full: &'a str,
    pub(crate) service: &'a str,
    /// `key_hash(service)`.
    pub(crate) service_hash: u64,
    pub(crate) name: &'a str,
}

/// The parts of a request a statement is matched against.
pub(crate) struct Target<'a> {
    pub(crate) action: ReqAction<'a>,
    pub(crate) resource: &'a str,
    pub(crate) resource_arn: Option<[&'a str; 6]>,
    pub(crate) principal: &'a Principal<'a>,
    pub(crate) context: &'a crate::Context,
    pub(crate) has_boundary: bool,
    /// The simulator's "every resource" (see [`crate::EvalOptions::any_resource`]).
    pub(crate) any_resource: bool,
    /// The resource stands for every resource under it (see
    /// [`crate::EvalOptions::resource_prefix`]).
    pub(crate) resource_prefix: bool,
}

/// A policy variable without a default in a statement's `Resource`/`NotResource` element.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NeededVar {
    /// The key as first written, for messages.
    name: Arc<str>,
    /// The key lower-cased, and its hash.
    key: Box<str>,
    hash: u64,
}

/// The variables without a default that the patterns of `resource` use (Version
/// 2012-10-17 only), each once; and the index of the pattern that holds them all, if one
/// does (else `u32::MAX`).
fn needed_vars(resource: Option<&ResourceSpec>, patterns: &[ArnPattern]) -> (Box<[NeededVar]>, u32) {
    let mut out: Vec<NeededVar> = Vec::new();
    let mut from: Option<usize> = None;
    let mut several = false;
    let Some(resource) = resource else {
        return (out.into_boxed_slice(), u32::MAX);
    };
    for (at, (text, pattern)) in resource.values.iter().zip(patterns).enumerate() {
        // Variables are substituted only in the resource part (after the fifth colon), and
        // only where the pattern was compiled with them.
        if !pattern.has_variables() {
            continue;
        }
        let Some(parts) = split_arn(text) else { continue };
        let names = vars::keys_without_default(parts[5]);
        if !names.is_empty() {
            several |= from.is_some();
            from = Some(at);
        }
        for name in names {
            let key = name.to_ascii_lowercase();
            if !out.iter().any(|v| *v.key == *key) {
                out.push(NeededVar {
                    name: Arc::from(name),
                    hash: key_hash(&key),
                    key: key.into_boxed_str(),
                });
            }
        }
    }
    let from = match from {
        Some(at) if !several => u32::try_from(at).unwrap_or(u32::MAX),
        _ => u32::MAX,
    };
    (out.into_boxed_slice(), from)
}

/// Whether a statement applies to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Applies {
    /// No.
    No,
    /// Yes, naming the caller this strongly ([`Strength::Direct`] without a principal element).
    Yes(Strength),
    /// The statement takes no part: the variable `needs[.0]` of its resource element has no
    /// value (and the rest of the statement would have applied but for the resource element).
    Ignored(u32, Unresolved),
}

/// A compiled statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CStatement {
    pub(crate) sid: Option<Arc<str>>,
    /// The condition keys the statement tests, as first written, each once (for the
    /// record of a decision: [`crate::StatementRef::condition_keys`]).
    pub(crate) condition_keys: Arc<[Arc<str>]>,
    pub(crate) effect: Effect,
    not_action: bool,
    actions: Vec<ActionPattern>,
    /// `(is NotResource, patterns)`; `None` when the statement has no resource element (trust
    /// policies), which matches any resource.
    resources: Option<(bool, Vec<ArnPattern>)>,
    /// The variables without a default that `resources` uses: if one has no value the
    /// statement is ignored as a whole (see [`crate::eval::IgnoredStatement`]).
    needs: Box<[NeededVar]>,
    /// The index in `resources` of the only pattern holding `needs` (`u32::MAX` if several
    /// do, or none): when that pattern matches, its variables have values.
    needs_from: u32,
    principal: Option<CPrincipal>,
    conditions: Vec<CCondition>,
}

impl CStatement {
    /// Whether the statement applies to the request, and how strongly its principal element
    /// names the caller ([`Strength::Direct`] when it has none).
    ///
    /// A variable of the resource element without a value (and without a default) makes the
    /// whole statement invalid, Allow or Deny, Resource or NotResource: it is ignored. The
    /// variables are looked up only where they can change the answer (a resource element
    /// that would let the statement apply), or to report a `Resource` pattern holding one that
    /// matched the resource up to its variables; a statement is reported only if the rest of
    /// it applies.
    #[inline]
    fn applies(&self, t: &Target<'_>, scratch: &mut Scratch) -> Applies {
        if self.actions.iter().any(|p| p.matches(&t.action)) == self.not_action {
            return Applies::No;
        }
        if t.resource_prefix {
            return self.applies_under_prefix(t, scratch);
        }
        // The simulator's "every resource" lets any Allow apply, but a Deny only where it
        // covers everything: a Deny of some resources does not deny the action as a whole.
        let every_resource = t.any_resource && self.effect == Effect::Allow;
        if let Some((not, patterns)) = self.resources.as_ref().filter(|_| !every_resource) {
            // `maybe`: a pattern holding variables matched the resource up to them.
            // `by`: the index of the pattern that matched.
            let (mut hit, mut maybe, mut by) = (false, false, u32::MAX);
            for (i, p) in patterns.iter().enumerate() {
                match p.hit(t.resource, t.resource_arn.as_ref(), t.context, &mut scratch.toks) {
                    Hit::Yes => {
                        hit = true;
                        by = i as u32;
                        break;
                    }
                    Hit::No => {}
                    Hit::Maybe => maybe = true,
                }
            }
            if hit == *not {
                if maybe
                    && !*not
                    && let Some((var, why)) = self.unresolved(t)
                {
                    return self.ignored(var, why, t, scratch);
                }
                return Applies::No;
            }
            // The resource element lets the statement apply. Its variables must all have a
            // value, which a match by the only pattern holding them already shows.
            if !(hit && by == self.needs_from)
                && let Some((var, why)) = self.unresolved(t)
            {
                return self.ignored(var, why, t, scratch);
            }
        }
        let Some(strength) = self.principal_strength(t) else {
            return Applies::No;
        };
        if !self.conditions.iter().all(|c| c.eval(t.context, scratch)) {
            return Applies::No;
        }
        Applies::Yes(strength)
    }

    /// [`CStatement::applies`] when the request's resource stands for every resource that
    /// begins with it ([`crate::EvalOptions::resource_prefix`]). The answer may say "may be
    /// allowed" where no resource is, never the other way: an Allow applies if its resource
    /// element may match one of them (a `NotResource` is taken to leave one), whatever its
    /// conditions (they may test keys only each resource supplies, `s3:versionid`, say);
    /// a Deny only if it denies them all, unconditionally: its resource element is `*` and
    /// it has no condition.
    #[cold]
    #[inline(never)]
    fn applies_under_prefix(&self, t: &Target<'_>, scratch: &mut Scratch) -> Applies {
        let resource_applies = match (&self.resources, self.effect) {
            (None, Effect::Allow) | (Some((true, _)), Effect::Allow) => true,
            (Some((false, patterns)), Effect::Allow) => patterns.iter().any(|p| {
                p.matches_some_resource_under(t.resource, t.resource_arn.as_ref(), t.context, &mut scratch.toks)
            }),
            (None, Effect::Deny) => self.conditions.is_empty(),
            (Some((false, patterns)), Effect::Deny) => {
                self.conditions.is_empty() && patterns.iter().any(|p| matches!(p, ArnPattern::Any))
            }
            (Some((true, _)), Effect::Deny) => false,
        };
        if !resource_applies {
            return Applies::No;
        }
        match self.principal_strength(t) {
            Some(strength) => Applies::Yes(strength),
            None => Applies::No,
        }
    }

    /// How strongly the principal element names the caller; `None` if it does not.
    #[inline]
    fn principal_strength(&self, t: &Target<'_>) -> Option<Strength> {
        match &self.principal {
            None => Some(Strength::Direct),
            Some(p) if p.not => {
                // AWS IAM User Guide, "Permissions boundaries for IAM entities": a Deny with
                // NotPrincipal always denies principals that have a permissions boundary.
                if (self.effect == Effect::Deny && t.has_boundary) || !p.exempts(t.principal) {
                    Some(Strength::Direct)
                } else {
                    None
                }
            }
            Some(p) => p.strength(t.principal),
        }
    }

    /// The first variable of the resource element that has no value for the request.
    #[inline]
    fn unresolved(&self, t: &Target<'_>) -> Option<(u32, Unresolved)> {
        self.needs
            .iter()
            .enumerate()
            .find_map(|(i, v)| vars::check(v.hash, &v.key, t.context).err().map(|why| (i as u32, why)))
    }

    /// [`Applies::Ignored`] if the rest of the statement (principal, conditions) applies,
    /// else [`Applies::No`].
    #[cold]
    #[inline(never)]
    fn ignored(&self, var: u32, why: Unresolved, t: &Target<'_>, scratch: &mut Scratch) -> Applies {
        if self.principal_strength(t).is_none() || !self.conditions.iter().all(|c| c.eval(t.context, scratch)) {
            return Applies::No;
        }
        Applies::Ignored(var, why)
    }
}

/// Statement indexes of one effect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Lists {
    deny: Box<[u32]>,
    allow: Box<[u32]>,
}

/// Statement indexes by lower-cased service prefix, split by effect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ActionIndex {
    /// One bit per service prefix present (`hash % 64`): most lookups stop here.
    mask: u64,
    /// Hashes of `services`, for a cheap scan.
    hashes: Box<[u64]>,
    services: Box<[Box<str>]>,
    lists: Box<[Lists]>,
    /// Statements that may match any service (`*`, `NotAction`, wildcard services).
    any: Lists,
}

impl ActionIndex {
    fn build(statements: &[CStatement]) -> ActionIndex {
        let mut services: Vec<Box<str>> = Vec::new();
        let mut lists: Vec<(Vec<u32>, Vec<u32>)> = Vec::new();
        let (mut any_deny, mut any_allow) = (Vec::new(), Vec::new());
        for (i, s) in statements.iter().enumerate() {
            let i = i as u32;
            let deny = s.effect == Effect::Deny;
            if s.not_action || s.actions.iter().any(|a| !matches!(a, ActionPattern::Service { .. })) {
                if deny {
                    any_deny.push(i)
                } else {
                    any_allow.push(i)
                }
                continue;
            }
            for a in &s.actions {
                if let ActionPattern::Service { service, .. } = a {
                    let at = match services.iter().position(|svc| svc == service) {
                        Some(at) => at,
                        None => {
                            services.push(service.clone());
                            lists.push((Vec::new(), Vec::new()));
                            services.len() - 1
                        }
                    };
                    let list = if deny { &mut lists[at].0 } else { &mut lists[at].1 };
                    if list.last() != Some(&i) {
                        list.push(i);
                    }
                }
            }
        }
        ActionIndex {
            mask: services.iter().fold(0, |m, s| m | 1u64 << (key_hash(s) % 64)),
            hashes: services.iter().map(|s| key_hash(s)).collect(),
            services: services.into_boxed_slice(),
            lists: lists
                .into_iter()
                .map(|(d, a)| Lists {
                    deny: d.into_boxed_slice(),
                    allow: a.into_boxed_slice(),
                })
                .collect(),
            any: Lists {
                deny: any_deny.into_boxed_slice(),
                allow: any_allow.into_boxed_slice(),
            },
        }
    }

    /// The statements listed under `service`, if any.
    #[inline]
    fn lookup(&self, service: &str, hash: u64) -> Option<&Lists> {
        if self.mask & (1u64 << (hash % 64)) == 0 {
            return None;
        }
        let at = self.hashes.iter().position(|h| *h == hash)?;
        bytes_eq(self.services[at].as_bytes(), service.as_bytes()).then(|| &self.lists[at])
    }
}

/// Which applying `Allow` statement [`CompiledPolicy::scan`] should look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AllowMode {
    /// None (an allow was already found elsewhere).
    Skip,
    /// The first in document order.
    First,
    /// The one naming the caller most strongly (resource-based policies).
    Strongest,
}

/// What [`CompiledPolicy::scan`] found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Scan {
    /// An applying `Deny` (then `allow` is not looked for).
    pub(crate) deny: Option<u32>,
    pub(crate) allow: Option<(u32, Strength)>,
}

/// Merges two ascending index lists.
struct Merge<'a> {
    a: &'a [u32],
    b: &'a [u32],
}

impl Iterator for Merge<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        match (self.a.first(), self.b.first()) {
            (Some(&x), Some(&y)) if x <= y => {
                self.a = &self.a[1..];
                Some(x)
            }
            (_, Some(&y)) => {
                self.b = &self.b[1..];
                Some(y)
            }
            (Some(&x), None) => {
                self.a = &self.a[1..];
                Some(x)
            }
            (None, None) => None,
        }
    }
}

/// A policy compiled for evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledPolicy {
    id: Arc<str>,
    kind: PolicyKind,
    pub(crate) statements: Vec<CStatement>,
    index: ActionIndex,
}

impl CompiledPolicy {
    /// Compiles `policy`. `id` names the policy in decisions (a policy ARN, `user/NAME/inline`
    /// …, whatever the caller wants to see in [`crate::Reason`]).
    pub fn compile(id: impl Into<String>, policy: &Policy) -> CompiledPolicy {
        let variables = policy.variables_enabled();
        // Short resource ARNs are padded with `*` in identity-style policies only.
        let pad = matches!(
            policy.kind,
            PolicyKind::Identity | PolicyKind::Boundary | PolicyKind::Session
        );
        let statements: Vec<CStatement> = policy
            .statements
            .iter()
            .map(|s| {
                let resources = s.resource.as_ref().map(|r| {
                    (
                        r.not,
                        r.values
                            .iter()
                            .map(|v| ArnPattern::compile(v, pad, variables))
                            .collect::<Vec<_>>(),
                    )
                });
                let (needs, needs_from) = needed_vars(s.resource.as_ref(), resources.as_ref().map_or(&[], |(_, p)| p));
                let mut condition_keys: Vec<Arc<str>> = Vec::new();
                for c in &s.conditions {
                    if !condition_keys.iter().any(|k| k.eq_ignore_ascii_case(&c.key)) {
                        condition_keys.push(Arc::from(c.key.as_str()));
                    }
                }
                CStatement {
                    sid: s.sid.as_deref().map(Arc::from),
                    condition_keys: condition_keys.into(),
                    effect: s.effect,
                    not_action: s.action.not,
                    actions: s.action.values.iter().map(|a| ActionPattern::compile(a)).collect(),
                    needs,
                    needs_from,
                    resources,
                    principal: s.principal.as_ref().map(CPrincipal::compile),
                    conditions: s.conditions.iter().map(|c| CCondition::compile(c, variables)).collect(),
                }
            })
            .collect();
        CompiledPolicy {
            id: Arc::from(id.into()),
            kind: policy.kind,
            index: ActionIndex::build(&statements),
            statements,
        }
    }

    /// The id given at compile time.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn id_arc(&self) -> &Arc<str> {
        &self.id
    }

    /// The kind the policy was parsed as.
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// Number of statements.
    pub fn len(&self) -> usize {
        self.statements.len()
    }

    /// Whether the policy has no statements.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// Whether any statement uses policy variables in a resource (for callers that cache).
    pub fn uses_variables(&self) -> bool {
        self.statements.iter().any(|s| {
            s.resources
                .as_ref()
                .is_some_and(|(_, r)| r.iter().any(ArnPattern::has_variables))
        })
    }

    /// Whether statement `i` applies; an ignored one is recorded in `scratch`.
    #[inline]
    fn check(&self, i: u32, t: &Target<'_>, scratch: &mut Scratch) -> Option<Strength> {
        let statement = &self.statements[i as usize];
        match statement.applies(t, scratch) {
            Applies::Yes(s) => Some(s),
            Applies::No => None,
            Applies::Ignored(var, cause) => {
                self.record_ignored(i, var, cause, scratch);
                None
            }
        }
    }

    /// Records statement `i` as ignored for its variable `var`.
    #[cold]
    #[inline(never)]
    fn record_ignored(&self, i: u32, var: u32, cause: Unresolved, scratch: &mut Scratch) {
        scratch.ignored.push(IgnoredStatement {
            statement: crate::eval::statement_ref(self, i),
            variable: self.statements[i as usize].needs[var as usize].name.clone(),
            cause,
        });
    }

    /// Looks for an applying `Deny` statement, then (if none) for an applying `Allow` one.
    #[inline]
    pub(crate) fn scan(&self, t: &Target<'_>, scratch: &mut Scratch, mode: AllowMode) -> Scan {
        let listed = self.index.lookup(t.action.service, t.action.service_hash);
        let empty: &[u32] = &[];
        let denies = Merge {
            a: listed.map_or(empty, |l| &l.deny),
            b: &self.index.any.deny,
        };
        for i in denies {
            if self.check(i, t, scratch).is_some() {
                return Scan {
                    deny: Some(i),
                    allow: None,
                };
            }
        }
        let allows = Merge {
            a: listed.map_or(empty, |l| &l.allow),
            b: &self.index.any.allow,
        };
        let allow = match mode {
            AllowMode::Skip => None,
            AllowMode::First => allows
                .into_iter()
                .find_map(|i| self.check(i, t, scratch).map(|s| (i, s))),
            AllowMode::Strongest => {
                let mut best: Option<(u32, Strength)> = None;
                for i in allows {
                    if let Some(s) = self.check(i, t, scratch)
                        && best.is_none_or(|(_, b)| s > b)
                    {
                        best = Some((i, s));
                        if s == Strength::Direct {
                            break;
                        }
                    }
                }
                best
            }
        };
        Scan { deny: None, allow }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_is_ordered() {
        let m = Merge {
            a: &[1, 4, 6],
            b: &[0, 4, 5, 9],
        };
        assert_eq!(m.collect::<Vec<_>>(), vec![0, 1, 4, 4, 5, 6, 9]);
    }

    #[test]
    fn send_sync() {
        fn assert<T: Send + Sync>() {}
        assert::<CompiledPolicy>();
        assert::<crate::Context>();
    }
}
