//! Who is calling: the identity a verified signature proves.

use crate::ids;

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The account the caller acts in.
    pub account_id: String,
    /// What kind of identity it is.
    pub kind: PrincipalKind,
    /// The access key that signed the request.
    pub access_key_id: String,
    /// The policy epoch when the request was authenticated: the account's plus, for a user
    /// or a role's session, that entity's own. Each only grows, so a cached policy set
    /// compiled at another epoch is stale.
    pub policy_epoch: i64,
    /// For temporary credentials, the session they belong to.
    pub session: Option<Session>,
    /// When the caller proved an MFA code: for temporary credentials, when their session
    /// (or the session that assumed theirs) was issued with one; for an AssumeRole being
    /// decided, the request's own code. `aws:MultiFactorAuthPresent` and
    /// `aws:MultiFactorAuthAge` come from it.
    pub mfa_at: Option<i64>,
}

/// What temporary credentials add to the identity they act as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 (hex) of the session token issued with the credentials.
    pub token_sha256: String,
    /// When the credentials were issued (`aws:TokenIssueTime`).
    pub issued_at: i64,
    /// When the credentials expire.
    pub expires_at: i64,
    /// Which call issued them.
    pub issued_by: SessionIssuer,
    /// Scope-down policies (GetScopedCredentials, delegated access), each of which must
    /// allow every request; empty: none.
    pub scope_policies: Vec<String>,
    /// A role session's source identity (`aws:SourceIdentity`), which nothing changes.
    pub source_identity: Option<String>,
    /// A role session's trusted context keys (trusted identity propagation), which nothing
    /// changes; empty: none.
    pub trusted_context: Vec<(String, String)>,
    /// Whether these are delegated credentials (GetDelegatedAccessToken), which call no STS
    /// operation but those that ask no permission (GetCallerIdentity, GetScopedCredentials).
    pub delegated: bool,
}

/// The STS call that issued temporary credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionIssuer {
    /// AssumeRole: the session is a role session.
    AssumeRole,
    /// GetSessionToken: the session acts as the user (or root) that asked for it.
    GetSessionToken,
    /// GetFederationToken: a federated-user session.
    GetFederationToken,
    /// AssumeRoot: a member account's root session, which may do only what its root task
    /// policy allows (within the organization's SCPs).
    AssumeRoot {
        /// The root task policy (`arn:aws:iam::aws:policy/root-task/…`).
        task_policy_arn: String,
    },
}

/// The identities that can sign requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The account root: may do anything in its own account.
    Root,
    /// An IAM user.
    User {
        /// `AIDA…`
        user_id: String,
        /// The user's name.
        name: String,
        /// The user's path.
        path: String,
    },
    /// A role session (temporary credentials from AssumeRole).
    AssumedRole {
        /// The role's id (`AROA…`).
        role_id: String,
        /// The role's name.
        role_name: String,
        /// The role's path.
        role_path: String,
        /// `RoleSessionName`.
        session_name: String,
        /// The inline session policy, if the session was given one.
        session_policy: Option<String>,
        /// Managed session policy ARNs.
        session_policy_arns: Vec<String>,
        /// Session tags (`aws:PrincipalTag/…`, over the role's own tags).
        session_tags: Vec<(String, String)>,
        /// The session tags that pass on to sessions this one assumes.
        transitive_tag_keys: Vec<String>,
    },
    /// A federated-user session (temporary credentials from GetFederationToken): what the
    /// user (or root) that asked may do, limited by the session policies.
    FederatedUser {
        /// The federated user's name (`Name`).
        name: String,
        /// The IAM user that asked for the session; `None` for the account root.
        issuer: Option<IssuingUser>,
        /// The inline session policy, if the session was given one.
        session_policy: Option<String>,
        /// Managed session policy ARNs.
        session_policy_arns: Vec<String>,
        /// Session tags (`aws:PrincipalTag/…`, over the issuing user's own tags).
        session_tags: Vec<(String, String)>,
    },
}

/// The IAM user behind a federated-user session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuingUser {
    /// `AIDA…`
    pub user_id: String,
    /// The user's name.
    pub name: String,
    /// The user's path.
    pub path: String,
}

impl Principal {
    /// The caller's ARN, as `GetCallerIdentity` and `AccessDenied` messages show it.
    pub fn arn(&self) -> String {
        match &self.kind {
            PrincipalKind::Root => ids::root_arn(&self.account_id),
            PrincipalKind::User { name, path, .. } => ids::user_arn(&self.account_id, path, name),
            PrincipalKind::AssumedRole {
                role_name,
                session_name,
                ..
            } => {
                format!(
                    "arn:aws:sts::{}:assumed-role/{role_name}/{session_name}",
                    self.account_id
                )
            }
            PrincipalKind::FederatedUser { name, .. } => ids::federated_user_arn(&self.account_id, name),
        }
    }

    /// Whether the caller is a session of a service-linked role (its path is
    /// `/aws-service-role/…`): neither SCPs nor RCPs restrict those.
    pub fn is_service_linked(&self) -> bool {
        matches!(&self.kind, PrincipalKind::AssumedRole { role_path, .. } if role_path.starts_with("/aws-service-role/"))
    }

    /// For a session, the identity that issued it: the role of a role session, the IAM user
    /// (or root) behind a federated-user session. A resource policy naming it grants the
    /// session what the session's own policies allow.
    pub fn session_issuer_arn(&self) -> Option<String> {
        match &self.kind {
            PrincipalKind::AssumedRole { .. } => self.role_arn(),
            PrincipalKind::FederatedUser { issuer, .. } => Some(match issuer {
                Some(user) => ids::user_arn(&self.account_id, &user.path, &user.name),
                None => ids::root_arn(&self.account_id),
            }),
            _ => None,
        }
    }

    /// For a role session, the role's ARN (what `aws:PrincipalArn` and trust policies see).
    pub fn role_arn(&self) -> Option<String> {
        match &self.kind {
            PrincipalKind::AssumedRole {
                role_name, role_path, ..
            } => Some(ids::role_arn(&self.account_id, role_path, role_name)),
            _ => None,
        }
    }

    /// The caller's unique id: the account id for root, the user id for a user,
    /// `ROLEID:SESSION` for a role session, `ACCOUNT:NAME` for a federated user (as
    /// `aws:userid` and GetCallerIdentity show it).
    pub fn unique_id(&self) -> String {
        match &self.kind {
            PrincipalKind::Root => self.account_id.clone(),
            PrincipalKind::User { user_id, .. } => user_id.clone(),
            PrincipalKind::AssumedRole {
                role_id, session_name, ..
            } => format!("{role_id}:{session_name}"),
            PrincipalKind::FederatedUser { name, .. } => format!("{}:{name}", self.account_id),
        }
    }

    /// The user name for an IAM user.
    pub fn user_name(&self) -> Option<&str> {
        match &self.kind {
            PrincipalKind::User { name, .. } => Some(name),
            _ => None,
        }
    }
}
