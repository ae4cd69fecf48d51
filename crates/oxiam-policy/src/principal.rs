//! The caller of a request ([`Principal`]) and how `Principal`/`NotPrincipal` elements match it.
//!
//! AWS IAM User Guide, "AWS JSON policy elements: Principal": `"*"` and `{"AWS": "*"}` mean
//! everyone (anonymous callers included); an account id and `arn:aws:iam::ACCOUNT:root` are
//! equivalent and delegate to the whole account; user and role ARNs are exact (the user name
//! is case-sensitive); partial wildcards are not allowed; `Service`, `Federated` and
//! `CanonicalUser` name other kinds of principal. Role and user ARNs in trust policies are
//! stored as unique ids (`AROA…`, `AIDA…`), which also match.

use crate::ast::{PrincipalSpec, PrincipalType, PrincipalValue};

/// What kind of caller a [`Principal`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// The account root user (`arn:aws:iam::ACCOUNT:root`).
    Root,
    /// An IAM user.
    User,
    /// A role session (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`).
    AssumedRole,
    /// A federated-user session from `GetFederationToken`
    /// (`arn:aws:sts::ACCOUNT:federated-user/NAME`).
    FederatedUser,
    /// An AWS service; [`Principal::arn`] holds the service principal (`ec2.amazonaws.com`).
    Service,
    /// A web-identity or SAML caller (`AssumeRoleWithWebIdentity`/`AssumeRoleWithSAML`);
    /// [`Principal::arn`] holds the provider (`arn:aws:iam::ACCOUNT:oidc-provider/…`,
    /// `accounts.google.com`, …).
    Federated,
    /// An unauthenticated caller.
    Anonymous,
}

impl PrincipalKind {
    /// Whether identity-based policies, boundaries and session policies apply (an IAM identity).
    pub fn is_iam_identity(self) -> bool {
        matches!(
            self,
            PrincipalKind::Root | PrincipalKind::User | PrincipalKind::AssumedRole | PrincipalKind::FederatedUser
        )
    }
}

/// The caller of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal<'a> {
    /// The caller's ARN: user ARN, session ARN (`assumed-role/R/S`, `federated-user/N`), root
    /// ARN; the service name for [`PrincipalKind::Service`]; the provider for
    /// [`PrincipalKind::Federated`]; anything (conventionally `"*"`) for anonymous callers.
    pub arn: &'a str,
    /// The caller's account id (empty for services, web identities and anonymous callers).
    pub account: &'a str,
    /// What kind of caller.
    pub kind: PrincipalKind,
    /// For a role session, the role's ARN (with its path, `arn:aws:iam::A:role/path/R`); for a
    /// federated-user session, the ARN of the IAM user who called `GetFederationToken`.
    pub session_issuer_arn: Option<&'a str>,
    /// The unique id of the user (`AIDA…`) or, for a role session, of the role (`AROA…`).
    pub unique_id: Option<&'a str>,
    /// The S3 canonical user id, if known.
    pub canonical_user: Option<&'a str>,
}

impl<'a> Principal<'a> {
    fn base(arn: &'a str, account: &'a str, kind: PrincipalKind) -> Principal<'a> {
        Principal {
            arn,
            account,
            kind,
            session_issuer_arn: None,
            unique_id: None,
            canonical_user: None,
        }
    }

    /// An IAM user.
    pub fn user(arn: &'a str, account: &'a str) -> Principal<'a> {
        Principal::base(arn, account, PrincipalKind::User)
    }

    /// The root user of `account`, whose ARN is `root_arn` (`arn:aws:iam::ACCOUNT:root`).
    pub fn root(root_arn: &'a str, account: &'a str) -> Principal<'a> {
        Principal::base(root_arn, account, PrincipalKind::Root)
    }

    /// A role session: `session_arn` is `arn:aws:sts::A:assumed-role/R/S`, `role_arn` the role.
    pub fn assumed_role(session_arn: &'a str, role_arn: &'a str, account: &'a str) -> Principal<'a> {
        Principal {
            session_issuer_arn: Some(role_arn),
            ..Principal::base(session_arn, account, PrincipalKind::AssumedRole)
        }
    }

    /// A federated-user session; `issuer_user_arn` is the IAM user who called
    /// `GetFederationToken`.
    pub fn federated_user(session_arn: &'a str, issuer_user_arn: Option<&'a str>, account: &'a str) -> Principal<'a> {
        Principal {
            session_issuer_arn: issuer_user_arn,
            ..Principal::base(session_arn, account, PrincipalKind::FederatedUser)
        }
    }

    /// An AWS service principal such as `ec2.amazonaws.com`.
    pub fn service(name: &'a str) -> Principal<'a> {
        Principal::base(name, "", PrincipalKind::Service)
    }

    /// A web-identity or SAML caller of the given provider.
    pub fn federated(provider: &'a str) -> Principal<'a> {
        Principal::base(provider, "", PrincipalKind::Federated)
    }

    /// An anonymous caller.
    pub fn anonymous() -> Principal<'static> {
        Principal::base("*", "", PrincipalKind::Anonymous)
    }

    /// Sets the unique id (`AIDA…` for users, the role's `AROA…` for sessions).
    pub fn with_unique_id(mut self, id: &'a str) -> Principal<'a> {
        self.unique_id = Some(id);
        self
    }
}

/// How strongly a resource-based policy statement names the caller; decides whether its grant
/// stands alone within the account (AWS IAM User Guide, "Policy evaluation logic" >
/// "Resource-based policies").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Strength {
    /// The caller's account (account id or `:root`): needs an identity-based allow too.
    Account,
    /// The role of a role session, or the IAM user behind a federated-user session: limited by
    /// the permissions boundary and the session policy, not by identity-based policies.
    Issuer,
    /// The caller itself (user ARN, session ARN, `"*"`, service, provider): the grant stands.
    Direct,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum AwsEntry {
    Any,
    Account(Box<str>),
    Arn(Box<str>),
    UniqueId(Box<str>),
}

/// A compiled `Principal`/`NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CPrincipal {
    pub(crate) not: bool,
    any: bool,
    aws: Vec<AwsEntry>,
    service: Vec<Box<str>>,
    federated: Vec<Box<str>>,
    canonical: Vec<Box<str>>,
}

/// If `v` names an account (`123456789012` or `arn:PARTITION:iam::123456789012:root`), its id.
pub fn account_of(v: &str) -> Option<&str> {
    if is_account_id(v) {
        return Some(v);
    }
    let rest = v.strip_prefix("arn:")?;
    let (_partition, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("iam::")?;
    let account = rest.strip_suffix(":root")?;
    is_account_id(account).then_some(account)
}

pub(crate) fn is_account_id(v: &str) -> bool {
    v.len() == 12 && v.bytes().all(|c| c.is_ascii_digit())
}

pub(crate) fn is_unique_id(v: &str) -> bool {
    v.len() >= 16
        && v.len() <= 128
        && v.starts_with('A')
        && v.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

impl CPrincipal {
    pub(crate) fn compile(spec: &PrincipalSpec) -> CPrincipal {
        let mut c = CPrincipal {
            not: spec.not,
            any: false,
            aws: Vec::new(),
            service: Vec::new(),
            federated: Vec::new(),
            canonical: Vec::new(),
        };
        match &spec.value {
            PrincipalValue::Any => c.any = true,
            PrincipalValue::Map(map) => {
                for (ty, values) in map {
                    for v in values {
                        match ty {
                            PrincipalType::Aws => c.aws.push(if v == "*" {
                                AwsEntry::Any
                            } else if let Some(account) = account_of(v) {
                                AwsEntry::Account(account.into())
                            } else if is_unique_id(v) {
                                AwsEntry::UniqueId(v.as_str().into())
                            } else {
                                AwsEntry::Arn(v.as_str().into())
                            }),
                            PrincipalType::Service => c.service.push(v.as_str().into()),
                            PrincipalType::Federated => c.federated.push(v.as_str().into()),
                            PrincipalType::CanonicalUser => c.canonical.push(v.as_str().into()),
                        }
                    }
                }
                c.any |= c.aws.contains(&AwsEntry::Any);
            }
        }
        c
    }

    /// How the listed principals name `p` (`None`: not at all). Ignores `not`.
    pub(crate) fn strength(&self, p: &Principal<'_>) -> Option<Strength> {
        if self.any {
            return Some(Strength::Direct);
        }
        let mut best = None;
        match p.kind {
            PrincipalKind::Service => {
                if self.service.iter().any(|s| s.eq_ignore_ascii_case(p.arn)) {
                    return Some(Strength::Direct);
                }
            }
            PrincipalKind::Federated => {
                if self.federated.iter().any(|f| **f == *p.arn) {
                    return Some(Strength::Direct);
                }
            }
            PrincipalKind::Anonymous => {}
            PrincipalKind::Root | PrincipalKind::User | PrincipalKind::AssumedRole | PrincipalKind::FederatedUser => {
                for entry in &self.aws {
                    let s = match entry {
                        AwsEntry::Any => Some(Strength::Direct),
                        AwsEntry::Account(a) => (**a == *p.account).then_some(Strength::Account),
                        AwsEntry::Arn(arn) => {
                            if **arn == *p.arn {
                                Some(Strength::Direct)
                            } else if p.session_issuer_arn == Some(&**arn) {
                                Some(Strength::Issuer)
                            } else {
                                None
                            }
                        }
                        AwsEntry::UniqueId(id) => match p.kind {
                            _ if p.unique_id != Some(&**id) => None,
                            PrincipalKind::User => Some(Strength::Direct),
                            PrincipalKind::AssumedRole => Some(Strength::Issuer),
                            _ => None,
                        },
                    };
                    best = best.max(s);
                    if best == Some(Strength::Direct) {
                        break;
                    }
                }
            }
        }
        if best != Some(Strength::Direct)
            && let Some(cu) = p.canonical_user
            && self.canonical.iter().any(|c| **c == *cu)
        {
            return Some(Strength::Direct);
        }
        best
    }

    /// For `NotPrincipal`: whether `p` is exempted. AWS IAM User Guide, "AWS JSON policy
    /// elements: NotPrincipal": AWS checks the account, then the role, then the session, so a
    /// caller is exempt only if every level of its identity is listed (for a user: the account
    /// and the user; for a role session: the account, the role and the session).
    pub(crate) fn exempts(&self, p: &Principal<'_>) -> bool {
        if self.any {
            return true;
        }
        let listed_arn = |arn: Option<&str>| {
            arn.is_some_and(|arn| self.aws.iter().any(|e| matches!(e, AwsEntry::Arn(a) if **a == *arn)))
        };
        let listed_id = |id: Option<&str>| {
            id.is_some_and(|id| {
                self.aws
                    .iter()
                    .any(|e| matches!(e, AwsEntry::UniqueId(u) if **u == *id))
            })
        };
        let account = self
            .aws
            .iter()
            .any(|e| matches!(e, AwsEntry::Account(a) if **a == *p.account));
        match p.kind {
            PrincipalKind::Root => account,
            PrincipalKind::User => account && (listed_arn(Some(p.arn)) || listed_id(p.unique_id)),
            PrincipalKind::AssumedRole => {
                account && (listed_arn(p.session_issuer_arn) || listed_id(p.unique_id)) && listed_arn(Some(p.arn))
            }
            PrincipalKind::FederatedUser => account && listed_arn(Some(p.arn)),
            PrincipalKind::Service | PrincipalKind::Federated => self.strength(p).is_some(),
            PrincipalKind::Anonymous => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(v: PrincipalValue, not: bool) -> CPrincipal {
        CPrincipal::compile(&PrincipalSpec { not, value: v })
    }

    fn aws(values: &[&str]) -> PrincipalValue {
        PrincipalValue::Map(vec![(
            PrincipalType::Aws,
            values.iter().map(|s| s.to_string()).collect(),
        )])
    }

    const ROLE: &str = "arn:aws:iam::111122223333:role/path/R";
    const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/R/s";
    const USER: &str = "arn:aws:iam::111122223333:user/Bob";

    #[test]
    fn strengths() {
        let user = Principal::user(USER, "111122223333");
        let session = Principal::assumed_role(SESSION, ROLE, "111122223333");
        assert_eq!(
            compile(PrincipalValue::Any, false).strength(&user),
            Some(Strength::Direct)
        );
        assert_eq!(
            compile(aws(&["111122223333"]), false).strength(&user),
            Some(Strength::Account)
        );
        assert_eq!(
            compile(aws(&["arn:aws:iam::111122223333:root"]), false).strength(&session),
            Some(Strength::Account)
        );
        assert_eq!(compile(aws(&[USER]), false).strength(&user), Some(Strength::Direct));
        assert_eq!(
            compile(aws(&["arn:aws:iam::111122223333:user/bob"]), false).strength(&user),
            None
        );
        assert_eq!(compile(aws(&[ROLE]), false).strength(&session), Some(Strength::Issuer));
        assert_eq!(
            compile(aws(&[SESSION]), false).strength(&session),
            Some(Strength::Direct)
        );
        assert_eq!(
            compile(aws(&["999999999999", ROLE, SESSION]), false).strength(&session),
            Some(Strength::Direct)
        );
        assert_eq!(compile(aws(&["444455556666"]), false).strength(&user), None);
        let svc = compile(
            PrincipalValue::Map(vec![(PrincipalType::Service, vec!["ec2.amazonaws.com".into()])]),
            false,
        );
        assert_eq!(
            svc.strength(&Principal::service("ec2.amazonaws.com")),
            Some(Strength::Direct)
        );
        assert_eq!(svc.strength(&user), None);
        assert_eq!(
            compile(aws(&["*"]), false).strength(&Principal::anonymous()),
            Some(Strength::Direct)
        );
        assert_eq!(
            compile(aws(&["111122223333"]), false).strength(&Principal::anonymous()),
            None
        );
        let by_id = compile(aws(&["AIDACKCEVSQ6C2EXAMPLE"]), false);
        assert_eq!(
            by_id.strength(&user.with_unique_id("AIDACKCEVSQ6C2EXAMPLE")),
            Some(Strength::Direct)
        );
    }

    #[test]
    fn not_principal_needs_every_level() {
        let session = Principal::assumed_role(SESSION, ROLE, "111122223333");
        assert!(!compile(aws(&[SESSION]), true).exempts(&session));
        assert!(!compile(aws(&[ROLE, SESSION]), true).exempts(&session));
        assert!(compile(aws(&["arn:aws:iam::111122223333:root", ROLE, SESSION]), true).exempts(&session));
        let user = Principal::user(USER, "111122223333");
        assert!(!compile(aws(&[USER]), true).exempts(&user));
        assert!(compile(aws(&["111122223333", USER]), true).exempts(&user));
    }
}
