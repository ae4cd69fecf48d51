//! Temporary credentials: role sessions, and user sessions (GetSessionToken's, and the
//! federated-user sessions of GetFederationToken).

use sqlx::Row as _;

use crate::{RoleRow, Store, StoreError, Subject};

/// A role session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// `ASIA…`.
    pub access_key_id: String,
    /// The account of the role.
    pub account_id: String,
    /// The sealed secret.
    pub secret_sealed: String,
    /// Lower-case hex SHA-256 of the session token.
    pub token_sha256: String,
    /// The assumed role's id.
    pub role_id: String,
    /// `RoleSessionName`.
    pub session_name: String,
    /// The inline session policy.
    pub session_policy: Option<String>,
    /// Managed session policy ARNs.
    pub session_policy_arns: Vec<String>,
    /// Whether a role session assumed it (role chaining).
    pub chained: bool,
    /// Session tags, in the order given (inherited transitive tags first).
    pub session_tags: Vec<(String, String)>,
    /// The keys of the tags that pass on to sessions this session assumes.
    pub transitive_tag_keys: Vec<String>,
    /// Issue time.
    pub issued_at: i64,
    /// Expiry time.
    pub expires_at: i64,
    /// When a verified MFA code stood behind the session (its own, or that of the session
    /// that assumed it); `None`: no MFA.
    pub mfa_at: Option<i64>,
    /// Scope-down policies, each of which must allow (GetScopedCredentials, delegated
    /// access); empty: none.
    pub scope_policies: Vec<String>,
    /// The source identity, set once and carried through role chaining.
    pub source_identity: Option<String>,
    /// The trusted context of trusted identity propagation (oxiam-core's JSON), set once
    /// from the provider's token and carried through role chaining; `None`: none.
    pub trusted_context: Option<String>,
    /// For delegated credentials (GetDelegatedAccessToken), the request they came from.
    pub delegation_request_id: Option<String>,
}

/// Temporary credentials from GetSessionToken, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSessionRow {
    /// `ASIA…`.
    pub access_key_id: String,
    /// The account.
    pub account_id: String,
    /// The user they act as; `None` for the account root.
    pub user_id: Option<String>,
    /// The sealed secret.
    pub secret_sealed: String,
    /// Lower-case hex SHA-256 of the session token.
    pub token_sha256: String,
    /// Issue time.
    pub issued_at: i64,
    /// Expiry time.
    pub expires_at: i64,
    /// When they were issued with a verified MFA code; `None`: without MFA.
    pub mfa_at: Option<i64>,
    /// For a federated-user session (GetFederationToken), what it adds; `None` for
    /// GetSessionToken's credentials, which act as the user itself.
    pub federation: Option<Federation>,
    /// For a root session (AssumeRoot, no user), the root task policy that limits it.
    pub root_task_policy: Option<String>,
    /// Scope-down policies, each of which must allow (GetScopedCredentials, delegated
    /// access); empty: none.
    pub scope_policies: Vec<String>,
    /// For delegated credentials (GetDelegatedAccessToken), the request they came from.
    pub delegation_request_id: Option<String>,
    /// A root session's source identity, carried from the role session that asked for it.
    pub source_identity: Option<String>,
    /// A root session's trusted context (oxiam-core's JSON), carried the same way.
    pub trusted_context: Option<String>,
}

/// What a federated-user session adds to the user (or root) that asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Federation {
    /// The federated user's name (`Name`).
    pub name: String,
    /// The inline session policy.
    pub session_policy: Option<String>,
    /// Managed session policy ARNs.
    pub session_policy_arns: Vec<String>,
    /// Session tags, in the order given.
    pub session_tags: Vec<(String, String)>,
}

/// The non-empty lines of a stored list.
fn lines(text: &str) -> Vec<String> {
    text.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// What separates stored scope-down policies: no policy document may hold it.
const SCOPE_SEPARATOR: char = '\u{1}';

fn encode_scopes(scopes: &[String]) -> Option<String> {
    (!scopes.is_empty()).then(|| scopes.join(&SCOPE_SEPARATOR.to_string()))
}

fn decode_scopes(text: Option<String>) -> Vec<String> {
    text.map(|t| t.split(SCOPE_SEPARATOR).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Tags as stored: a `key<TAB>value` line each (neither may hold a tab or a line break:
/// tag validation refuses them).
fn encode_tags(tags: &[(String, String)]) -> String {
    tags.iter().map(|(k, v)| format!("{k}\t{v}\n")).collect()
}

fn decode_tags(text: &str) -> Vec<(String, String)> {
    lines(text)
        .into_iter()
        .filter_map(|l| l.split_once('\t').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

impl Store {
    /// Stores GetSessionToken credentials.
    pub async fn create_user_session(&self, s: &UserSessionRow) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO user_sessions (access_key_id, account_id, user_id, secret_sealed, token_sha256, issued_at, \
             expires_at, mfa_at, federated_name, session_policy, session_policy_arns, session_tags, \
             root_task_policy, scope_policies, delegation_request_id, source_identity, trusted_context) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(s.access_key_id.as_str())
        .bind(s.account_id.as_str())
        .bind(s.user_id.as_deref())
        .bind(s.secret_sealed.as_str())
        .bind(s.token_sha256.as_str())
        .bind(s.issued_at)
        .bind(s.expires_at)
        .bind(s.mfa_at)
        .bind(s.federation.as_ref().map(|f| f.name.as_str()))
        .bind(s.federation.as_ref().and_then(|f| f.session_policy.as_deref()))
        .bind(
            s.federation
                .as_ref()
                .map_or_else(String::new, |f| f.session_policy_arns.join("\n")),
        )
        .bind(
            s.federation
                .as_ref()
                .map_or_else(String::new, |f| encode_tags(&f.session_tags)),
        )
        .bind(s.root_task_policy.as_deref())
        .bind(encode_scopes(&s.scope_policies))
        .bind(s.delegation_request_id.as_deref())
        .bind(s.source_identity.as_deref())
        .bind(s.trusted_context.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::on_write(Subject::AccessKey, &s.access_key_id))?;
        tx.commit().await?;
        Ok(())
    }

    /// GetSessionToken and GetFederationToken credentials with the user they act as (`None` user: the root) and
    /// the policy epoch of the account plus the user's own (migration 0031); `None` if unknown or if the user is gone.
    pub async fn find_user_session(
        &self,
        access_key_id: &str,
    ) -> Result<Option<(UserSessionRow, Option<crate::UserRow>, i64)>, StoreError> {
        let row = sqlx::query(
            "SELECT s.access_key_id, s.account_id, s.user_id, s.secret_sealed, s.token_sha256, s.issued_at, \
             s.expires_at, a.policy_epoch + COALESCE(u.policy_epoch, 0), u.name, s.mfa_at, s.federated_name, s.session_policy, \
             s.session_policy_arns, s.session_tags, s.root_task_policy, s.scope_policies, s.delegation_request_id, \
             s.source_identity, s.trusted_context FROM user_sessions s \
             JOIN accounts a ON a.account_id = s.account_id \
             LEFT JOIN users u ON u.user_id = s.user_id WHERE s.access_key_id = $1",
        )
        .bind(access_key_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let session = UserSessionRow {
            access_key_id: row.try_get(0)?,
            account_id: row.try_get(1)?,
            user_id: row.try_get(2)?,
            secret_sealed: row.try_get(3)?,
            token_sha256: row.try_get(4)?,
            issued_at: row.try_get(5)?,
            expires_at: row.try_get(6)?,
            mfa_at: row.try_get(9)?,
            federation: match row.try_get::<Option<String>, _>(10)? {
                Some(name) => Some(Federation {
                    name,
                    session_policy: row.try_get(11)?,
                    session_policy_arns: lines(&row.try_get::<String, _>(12)?),
                    session_tags: decode_tags(&row.try_get::<String, _>(13)?),
                }),
                None => None,
            },
            root_task_policy: row.try_get(14)?,
            scope_policies: decode_scopes(row.try_get(15)?),
            delegation_request_id: row.try_get(16)?,
            source_identity: row.try_get(17)?,
            trusted_context: row.try_get(18)?,
        };
        let epoch: i64 = row.try_get(7)?;
        let user = match (&session.user_id, row.try_get::<Option<String>, _>(8)?) {
            (None, _) => None,
            (Some(_), Some(name)) => Some(self.get_user(&session.account_id, &name).await?),
            // The user was deleted: its sessions die with it.
            (Some(_), None) => return Ok(None),
        };
        Ok(Some((session, user, epoch)))
    }

    /// Stores a new session.
    pub async fn create_session(&self, s: &SessionRow) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO sessions (access_key_id, account_id, secret_sealed, token_sha256, role_id, session_name, \
             session_policy, session_policy_arns, chained, issued_at, expires_at, session_tags, transitive_tag_keys, \
             mfa_at, scope_policies, source_identity, trusted_context, delegation_request_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
        )
        .bind(s.access_key_id.as_str())
        .bind(s.account_id.as_str())
        .bind(s.secret_sealed.as_str())
        .bind(s.token_sha256.as_str())
        .bind(s.role_id.as_str())
        .bind(s.session_name.as_str())
        .bind(s.session_policy.as_deref())
        .bind(s.session_policy_arns.join("\n"))
        .bind(i64::from(s.chained))
        .bind(s.issued_at)
        .bind(s.expires_at)
        .bind(encode_tags(&s.session_tags))
        .bind(s.transitive_tag_keys.join("\n"))
        .bind(s.mfa_at)
        .bind(encode_scopes(&s.scope_policies))
        .bind(s.source_identity.as_deref())
        .bind(s.trusted_context.as_deref())
        .bind(s.delegation_request_id.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::on_write(Subject::AccessKey, &s.access_key_id))?;
        tx.commit().await?;
        Ok(())
    }

    /// A session with its role (`None` if the key is unknown or its role is gone), and the
    /// policy epoch of the account plus the role's own (migration 0031).
    pub async fn find_session(&self, access_key_id: &str) -> Result<Option<(SessionRow, RoleRow, i64)>, StoreError> {
        let row = sqlx::query(
            "SELECT s.access_key_id, s.account_id, s.secret_sealed, s.token_sha256, s.role_id, s.session_name, \
             s.session_policy, s.session_policy_arns, s.chained, s.issued_at, s.expires_at, r.name, a.policy_epoch + r.policy_epoch, \
             s.session_tags, s.transitive_tag_keys, s.mfa_at, s.scope_policies, s.source_identity, \
             s.trusted_context, s.delegation_request_id \
             FROM sessions s JOIN roles r ON r.role_id = s.role_id JOIN accounts a ON a.account_id = s.account_id \
             WHERE s.access_key_id = $1",
        )
        .bind(access_key_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let account_id: String = row.try_get(1)?;
        let role_name: String = row.try_get(11)?;
        let chained: i64 = row.try_get(8)?;
        let session = SessionRow {
            access_key_id: row.try_get(0)?,
            account_id: account_id.clone(),
            secret_sealed: row.try_get(2)?,
            token_sha256: row.try_get(3)?,
            role_id: row.try_get(4)?,
            session_name: row.try_get(5)?,
            session_policy: row.try_get(6)?,
            session_policy_arns: lines(&row.try_get::<String, _>(7)?),
            chained: chained != 0,
            session_tags: decode_tags(&row.try_get::<String, _>(13)?),
            transitive_tag_keys: lines(&row.try_get::<String, _>(14)?),
            issued_at: row.try_get(9)?,
            expires_at: row.try_get(10)?,
            mfa_at: row.try_get(15)?,
            scope_policies: decode_scopes(row.try_get(16)?),
            source_identity: row.try_get(17)?,
            trusted_context: row.try_get(18)?,
            delegation_request_id: row.try_get(19)?,
        };
        let epoch: i64 = row.try_get(12)?;
        let role = self.get_role(&account_id, &role_name).await?;
        Ok(Some((session, role, epoch)))
    }
}
