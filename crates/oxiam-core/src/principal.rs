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
}

impl Principal {
    /// The caller's ARN, as `GetCallerIdentity` and `AccessDenied` messages show it.
    pub fn arn(&self) -> String {
        match &self.kind {
            PrincipalKind::Root => ids::root_arn(&self.account_id),
            PrincipalKind::User { name, path, .. } => ids::user_arn(&self.account_id, path, name),
        }
    }

    /// The caller's unique id: the account id for root, the user id for a user.
    pub fn unique_id(&self) -> &str {
        match &self.kind {
            PrincipalKind::Root => &self.account_id,
            PrincipalKind::User { user_id, .. } => user_id,
        }
    }

    /// The user name for an IAM user.
    pub fn user_name(&self) -> Option<&str> {
        match &self.kind {
            PrincipalKind::Root => None,
            PrincipalKind::User { name, .. } => Some(name),
        }
    }
}
