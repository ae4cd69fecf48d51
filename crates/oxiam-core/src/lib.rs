//! The IAM and STS services: each operation's rules, ids, ARNs and limits.
//!
//! [`Oxiam`] is what the HTTP front calls at each stage of the request path:
//! [`Oxiam::authenticate`] (signature → [`Principal`]), [`Oxiam::authorize`] (deny by
//! default), [`Oxiam::execute_iam`] / [`Oxiam::execute_sts`] (the operation, in storage
//! transactions), and [`Oxiam::record`] (last use of the key or role, written in batches by
//! [`Oxiam::flush_usage`]).

pub mod access;
pub mod access_analyzer;
mod authn;
pub mod authz;
mod clock;
mod der;
pub mod documents;
pub mod errors;
mod federation;
pub mod iam;
pub mod ids;
pub mod organizations;
pub mod outbound_federation;
pub mod passwords;
mod principal;
pub mod record;
pub mod saml;
pub mod saml_metadata;
mod scoped_credentials;
pub mod secrets;
mod signing_keys;
pub mod ssh_keys;
pub mod sts;
mod tags;
mod templates;
pub mod totp;
mod trusted_context;
mod usage;
pub mod web_identity;
pub mod x509;

pub use authn::{AuthFailure, Authenticated};
pub use clock::Clock;
pub use oxiam_protocol::{ServiceError, common_errors};
pub use principal::{IssuingUser, Principal, PrincipalKind, Session, SessionIssuer};
pub use secrets::SecretBox;

use oxiam_store::Store;

/// How many access keys one user (or the root) may hold, as in AWS.
pub const ACCESS_KEYS_PER_USER: i64 = 2;

/// The services oxiam answers besides S3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// IAM, API version 2010-05-08 (AWS Query).
    Iam,
    /// STS, API version 2011-06-15 (AWS Query).
    Sts,
    /// AWS Organizations, API version 2016-11-28 (awsJson 1.1).
    Organizations,
    /// IAM Access Analyzer's policy checks, API version 2019-11-01 (restJson1).
    AccessAnalyzer,
}

impl Service {
    /// The SigV4 signing name, also the prefix of the service's actions.
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::Iam => "iam",
            Service::Sts => "sts",
            Service::Organizations => "organizations",
            Service::AccessAnalyzer => "access-analyzer",
        }
    }
}

/// The IAM and STS services over one store.
#[derive(Debug, Clone)]
pub struct Oxiam {
    store: Store,
    secrets: SecretBox,
    /// Signing keys derived from the secrets, so that a request is not one unsealing and
    /// four HMACs more (`signing_keys.rs`).
    signing_keys: std::sync::Arc<signing_keys::SigningKeys>,
    policy_cache: std::sync::Arc<authz::PolicyCache>,
    usage: std::sync::Arc<usage::UsageLog>,
    enforcement: Enforcement,
    lint_policies: LintPolicies,
    /// The URL clients reach this server by (`--public-url`): issuers' URLs start with it.
    public_url: String,
    /// Issuers' published documents, which never change once made (outbound identity
    /// federation's keys are not rotated): the unauthenticated endpoint that serves them
    /// must not unseal and check two private keys per request.
    issuer_documents: std::sync::Arc<outbound_federation::PublishedDocuments>,
}

/// The public URL of services not told theirs (the embedded server, tools).
const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:7345";

/// Whether authorization's denials are enforced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Enforcement {
    /// Denied requests are refused (the default, and the only mode to rely on).
    #[default]
    Enforce,
    /// Denied requests go through, each recorded as "would have been denied" with its
    /// reason: for writing least-privilege policies against a working application.
    Log,
}

/// Whether identity policies written (CreatePolicy, CreatePolicyVersion, Put…Policy) are
/// checked as IAM Access Analyzer's ValidatePolicy checks them (`serve --lint-policies`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LintPolicies {
    /// Not checked (the default: IAM does not check them either).
    #[default]
    Off,
    /// Checked; the findings are logged and recorded with the request, and the write goes on.
    Warn,
    /// Checked; a finding of type ERROR refuses the write with MalformedPolicyDocument.
    Deny,
}

/// What to do when the store holds no account yet, and which root key to make sure of.
#[derive(Debug, Clone, Default)]
pub struct BootstrapConfig {
    /// The account id to create (random if `None`).
    pub account_id: Option<String>,
    /// A root access key id and secret that must exist (generated for a new account if `None`).
    pub root_key: Option<(String, String)>,
}

/// What bootstrap found or made.
#[derive(Debug, Clone)]
pub struct Bootstrapped {
    /// The account's id.
    pub account_id: String,
    /// A root key generated now (shown once, never again).
    pub generated_root_key: Option<(String, String)>,
}

/// Bootstrap could not complete.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] oxiam_store::StoreError),
    /// The configured root key exists with another secret or another owner.
    #[error("the configured root access key {0} already exists with a different secret or owner")]
    RootKeyMismatch(String),
    /// The configured account id is not 12 digits.
    #[error("the account id {0:?} is not 12 digits")]
    BadAccountId(String),
}

impl Oxiam {
    /// The services over `store`, sealing secrets with `secrets`.
    pub fn new(store: Store, secrets: SecretBox) -> Self {
        Self {
            store,
            secrets,
            signing_keys: Default::default(),
            policy_cache: Default::default(),
            usage: Default::default(),
            enforcement: Enforcement::Enforce,
            lint_policies: LintPolicies::Off,
            public_url: DEFAULT_PUBLIC_URL.to_owned(),
            issuer_documents: Default::default(),
        }
    }

    /// The same services, reached at `url` (no trailing `/`): the base of the issuer URLs
    /// outbound identity federation hands out.
    pub fn with_public_url(mut self, url: &str) -> Self {
        self.public_url = url.trim_end_matches('/').to_owned();
        self
    }

    /// The same services, with denials enforced or only recorded.
    pub fn with_enforcement(mut self, enforcement: Enforcement) -> Self {
        self.enforcement = enforcement;
        self
    }

    /// Whether denials are enforced.
    pub fn enforcement(&self) -> Enforcement {
        self.enforcement
    }

    /// Checks identity policies on write (`--lint-policies`).
    pub fn with_lint_policies(mut self, lint_policies: LintPolicies) -> Self {
        self.lint_policies = lint_policies;
        self
    }

    /// Whether identity policies are checked on write.
    pub fn lint_policies(&self) -> LintPolicies {
        self.lint_policies
    }

    /// The store the services run on.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Wipes the database back to a new one's state: every account but the bootstrap
    /// account (`account_id`) goes, and that one keeps only itself and its root key (the
    /// configured one if `config` names one): for test suites, between tests. Uses
    /// noted but not yet written are dropped, and no compiled policy set survives.
    pub async fn reset(&self, account_id: &str, config: &BootstrapConfig) -> Result<(), oxiam_store::StoreError> {
        // No batch of last uses may land on keys the reset is about to delete.
        let _no_writes_meanwhile = self.usage.writing.lock().await;
        drop(self.usage.take());
        let keep = config.root_key.as_ref().map(|(id, _)| id.as_str());
        self.store.reset_accounts(account_id, keep).await?;
        self.policy_cache.clear();
        self.issuer_documents.clear();
        Ok(())
    }

    /// Makes sure the database holds an account and the configured root key.
    pub async fn bootstrap(&self, config: &BootstrapConfig, now: i64) -> Result<Bootstrapped, BootstrapError> {
        let candidate = match &config.account_id {
            Some(id) if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) => id.clone(),
            Some(id) => return Err(BootstrapError::BadAccountId(id.clone())),
            None => ids::account_id(),
        };
        let (account_id, created) = self.store.bootstrap_account(&candidate, now).await?;
        let mut generated_root_key = None;
        let wanted = match &config.root_key {
            Some(key) => Some(key.clone()),
            None if created => {
                let key = (ids::access_key_id(), ids::secret_access_key());
                generated_root_key = Some(key.clone());
                Some(key)
            }
            None => None,
        };
        if let Some((id, secret)) = wanted {
            // A new account's key goes straight in (a first start saves a read): only an id
            // that is taken already needs the lookup.
            let inserted = created && self.insert_root_key(&account_id, &id, &secret, now).await?;
            if !inserted {
                let found = match self.store.find_access_key(&id).await? {
                    Some(found) => Some(found),
                    None if self.insert_root_key(&account_id, &id, &secret, now).await? => None,
                    // Inserted meanwhile, by another server sharing the database: it must
                    // hold the same secret for the same root.
                    None => self.store.find_access_key(&id).await?,
                };
                if let Some(found) = found {
                    let same = found.key.account_id == account_id
                        && found.key.user_id.is_none()
                        && self.secrets.open(&id, &found.key.secret_sealed).ok().as_deref() == Some(secret.as_str());
                    if !same {
                        return Err(BootstrapError::RootKeyMismatch(id));
                    }
                }
            }
        }
        Ok(Bootstrapped {
            account_id,
            generated_root_key,
        })
    }

    /// Inserts the bootstrap account's root key; `false` if the id is taken already.
    async fn insert_root_key(
        &self,
        account_id: &str,
        id: &str,
        secret: &str,
        now: i64,
    ) -> Result<bool, BootstrapError> {
        let row = oxiam_store::AccessKeyRow {
            access_key_id: id.to_owned(),
            account_id: account_id.to_owned(),
            user_id: None,
            secret_sealed: self.secrets.seal(id, secret),
            status: "Active".to_owned(),
            created_at: now,
            last_used: None,
        };
        match self.store.create_access_key(&row, ACCESS_KEYS_PER_USER).await {
            Ok(_) => Ok(true),
            Err(oxiam_store::StoreError::Conflict { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// An account made by [`Oxiam::create_account`], with its root's key (shown once).
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// The account's id.
    pub account_id: String,
    /// The root's access key id.
    pub access_key_id: String,
    /// The root's secret access key: returned here only, never stored in clear.
    pub secret_access_key: oxiam_protocol::Sensitive<String>,
}

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateAccountError {
    /// The requested id is not 12 digits.
    #[error("the account id {0:?} is not 12 digits")]
    BadAccountId(String),
    /// The requested id is taken.
    #[error("the account {0} already exists")]
    Exists(String),
    /// The database failed.
    #[error(transparent)]
    Store(oxiam_store::StoreError),
}

impl Oxiam {
    /// Creates an account beside the bootstrap one, with one root access key (an
    /// operator's `oxiam account create`): `account_id`, or a random unused one.
    pub async fn create_account(&self, account_id: Option<&str>, now: i64) -> Result<NewAccount, CreateAccountError> {
        if let Some(id) = account_id
            && !(id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(CreateAccountError::BadAccountId(id.to_owned()));
        }
        // A random id that happens to be taken is drawn again; a requested one is refused.
        for _ in 0..8 {
            let candidate = account_id.map_or_else(ids::account_id, str::to_owned);
            let (key_id, secret) = (ids::access_key_id(), ids::secret_access_key());
            let root_key = oxiam_store::AccessKeyRow {
                access_key_id: key_id.clone(),
                account_id: candidate.clone(),
                user_id: None,
                secret_sealed: self.secrets.seal(&key_id, &secret),
                status: "Active".to_owned(),
                created_at: now,
                last_used: None,
            };
            match self.store.create_account(&candidate, now, &root_key).await {
                Ok(()) => {
                    return Ok(NewAccount {
                        account_id: candidate,
                        access_key_id: key_id,
                        secret_access_key: oxiam_protocol::Sensitive(secret),
                    });
                }
                Err(oxiam_store::StoreError::Conflict {
                    subject: oxiam_store::Subject::Account,
                    ..
                }) if account_id.is_none() => continue,
                Err(oxiam_store::StoreError::Conflict {
                    subject: oxiam_store::Subject::Account,
                    ..
                }) => return Err(CreateAccountError::Exists(candidate)),
                Err(e) => return Err(CreateAccountError::Store(e)),
            }
        }
        Err(CreateAccountError::Store(oxiam_store::StoreError::LimitExceeded))
    }

    /// Every account the database holds, the bootstrap account first.
    pub async fn accounts(&self) -> Result<Vec<oxiam_store::AccountRow>, oxiam_store::StoreError> {
        self.store.accounts().await
    }
}

impl Oxiam {
    /// Whether requests can be served: the database answers.
    pub async fn ready(&self) -> bool {
        match self.store.ping().await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "not ready: the database does not answer");
                false
            }
        }
    }
}
