//! A real oxiam on a loopback port, on SQLite or on a fresh PostgreSQL database, and AWS
//! SDK for Rust clients pointed at it.
#![allow(dead_code, reason = "each test crate uses part of the shared helpers")]

use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region};
use std::sync::{Arc, Mutex};

use oxiam_core::BootstrapConfig;
use oxiam_core::record::{RecordSink, RequestRecord};
use oxiam_server::{RunningServer, ServerConfig};
use sqlx::Executor as _;

pub mod raw;

pub const ACCOUNT: &str = "123456789012";
/// How a test server differs from the default one.
#[derive(Default)]
struct Options {
    limits: oxiam_server::Limits,
    test_mode: bool,
    enforcement: oxiam_core::Enforcement,
    lint_policies: oxiam_core::LintPolicies,
    allow_sigv2: bool,
    s3_domains: Vec<String>,
    tls: Option<oxiam_server::TlsFiles>,
    /// Accounts made beside the bootstrap one before the server starts.
    accounts: Vec<String>,
    /// The PostgreSQL database of another server to share (its URL), instead of a new one.
    database_url: Option<String>,
    /// The master key, for servers that share a database; `None`: the data directory's.
    master_key: Option<[u8; 32]>,
}

/// The master key of servers that share a database (each must unseal the others' secrets).
const SHARED_MASTER_KEY: [u8; 32] = [7; 32];

pub const ROOT_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
pub const ROOT_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestServer {
    pub server: Option<RunningServer>,
    _dir: tempfile::TempDir,
    /// The PostgreSQL database's URL, if the server runs on one.
    database_url: Option<String>,
    /// The PostgreSQL database this server made (and drops when stopped).
    pg_database: Option<String>,
    /// Every request's record, as the server's sinks get it.
    pub records: Arc<Records>,
    /// The accounts made beside the bootstrap one (`start_with_accounts`), with their root keys.
    pub accounts: Vec<oxiam_core::NewAccount>,
    /// The SDK clients' HTTP client: one that trusts the test CA, for a server speaking TLS.
    http: aws_smithy_runtime_api::client::http::SharedHttpClient,
}

/// An HTTP client for the SDKs that trusts the test CA (`tests/fixtures/tls/ca.pem`).
fn trusting_the_test_ca() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls;
    let ca = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/ca.pem")).unwrap();
    let context = tls::TlsContext::builder()
        .with_trust_store(tls::TrustStore::empty().with_pem_certificate(ca))
        .build()
        .unwrap();
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
        .tls_context(context)
        .build_https()
}

/// A record sink that keeps what it gets.
#[derive(Debug, Default)]
pub struct Records(Mutex<Vec<RequestRecord>>);

impl RecordSink for Records {
    fn record(&self, record: &RequestRecord) {
        self.0.lock().unwrap().push(record.clone());
    }
}

impl Records {
    /// The record of the request answered with `request_id`.
    pub fn by_id(&self, request_id: &str) -> Option<RequestRecord> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .find(|r| r.request_id == request_id)
            .cloned()
    }

    /// Every record so far.
    pub fn all(&self) -> Vec<RequestRecord> {
        self.0.lock().unwrap().clone()
    }
}

/// The PostgreSQL server tests create their databases on (`OXIAM_TEST_POSTGRES_URL`, which
/// `scripts/test.sh` sets, starting PostgreSQL if it is down).
pub fn postgres_base() -> String {
    std::env::var("OXIAM_TEST_POSTGRES_URL").expect("OXIAM_TEST_POSTGRES_URL is set (see postgres_available)")
}

/// Whether PostgreSQL tests run: plain `cargo test` without `OXIAM_TEST_POSTGRES_URL`
/// skips them, saying so, rather than failing for want of a server.
pub fn postgres_available() -> bool {
    let set = std::env::var_os("OXIAM_TEST_POSTGRES_URL").is_some();
    if !set {
        eprintln!("skipped on PostgreSQL: OXIAM_TEST_POSTGRES_URL is not set (scripts/test.sh sets it)");
    }
    set
}

pub async fn admin() -> sqlx::PgConnection {
    use sqlx::Connection as _;
    let url = postgres_base();
    sqlx::PgConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url} is not reachable ({e}); run scripts/ensure-postgres.sh"))
}

impl TestServer {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, oxiam_server::Limits::default()).await
    }

    /// A server with these connection limits.
    pub async fn start_with(backend: Backend, limits: oxiam_server::Limits) -> Self {
        Self::start_configured(
            backend,
            Options {
                limits,
                ..Options::default()
            },
        )
        .await
    }

    /// A server whose S3 accepts SigV2 signatures (`--allow-sigv2`).
    pub async fn start_allowing_sigv2(backend: Backend) -> Self {
        Self::start_configured(
            backend,
            Options {
                allow_sigv2: true,
                ..Options::default()
            },
        )
        .await
    }

    /// A server whose S3 also reads `BUCKET.DOMAIN` as a bucket for `domains`, besides
    /// `localhost` (`--s3-domain`); SigV2 is accepted, to try it by host too.
    pub async fn start_with_s3_domains(backend: Backend, domains: &[&str]) -> Self {
        Self::start_configured(
            backend,
            Options {
                s3_domains: domains.iter().map(|d| (*d).to_owned()).collect(),
                allow_sigv2: true,
                ..Options::default()
            },
        )
        .await
    }

    /// A server in test mode (`POST /_oxiam/reset` answered).
    pub async fn start_in_test_mode(backend: Backend) -> Self {
        Self::start_configured(
            backend,
            Options {
                test_mode: true,
                ..Options::default()
            },
        )
        .await
    }

    /// A server that lets denials through, recording them (`--enforcement log`).
    pub async fn start_logging_denials(backend: Backend) -> Self {
        let enforcement = oxiam_core::Enforcement::Log;
        Self::start_configured(
            backend,
            Options {
                enforcement,
                ..Options::default()
            },
        )
        .await
    }

    /// A server speaking TLS with the test certificate (`tests/fixtures/tls`).
    pub async fn start_linting_policies(backend: Backend, lint_policies: oxiam_core::LintPolicies) -> Self {
        Self::start_configured(
            backend,
            Options {
                lint_policies,
                ..Options::default()
            },
        )
        .await
    }

    pub async fn start_with_tls(backend: Backend) -> Self {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
        let tls = oxiam_server::TlsFiles {
            cert: fixtures.join("server.pem"),
            key: fixtures.join("server.key"),
        };
        Self::start_configured(
            backend,
            Options {
                tls: Some(tls),
                ..Options::default()
            },
        )
        .await
    }

    /// Two servers on one new PostgreSQL database, as replicas behind a load balancer run:
    /// the same master key, each its own data directory. The first drops the database when
    /// stopped.
    pub async fn start_replicas() -> (Self, Self) {
        let first = Self::start_configured(
            Backend::Postgres,
            Options {
                master_key: Some(SHARED_MASTER_KEY),
                ..Options::default()
            },
        )
        .await;
        let second = Self::start_configured(
            Backend::Postgres,
            Options {
                master_key: Some(SHARED_MASTER_KEY),
                database_url: first.database_url.clone(),
                ..Options::default()
            },
        )
        .await;
        (first, second)
    }

    /// A server whose database holds these accounts besides the bootstrap one, made as
    /// `oxiam account create` makes them: on the database, before the server starts.
    pub async fn start_with_accounts(backend: Backend, ids: &[&str], test_mode: bool) -> Self {
        Self::start_configured(
            backend,
            Options {
                accounts: ids.iter().map(|id| id.to_string()).collect(),
                test_mode,
                ..Options::default()
            },
        )
        .await
    }

    async fn start_configured(backend: Backend, options: Options) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let records = Arc::new(Records::default());
        let (database_url, pg_database) = match backend {
            Backend::Sqlite => (None, None),
            Backend::Postgres if options.database_url.is_some() => (options.database_url.clone(), None),
            Backend::Postgres => {
                let name = format!("oxiam_test_{}", oxiam_core::ids::user_id().to_lowercase());
                admin()
                    .await
                    .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .unwrap();
                let base = postgres_base();
                let url = match base.rfind('/') {
                    Some(i) => format!("{}/{name}", &base[..i]),
                    None => panic!("bad OXIAM_TEST_POSTGRES_URL {base}"),
                };
                (Some(url), Some(name))
            }
        };
        let bootstrap = BootstrapConfig {
            account_id: Some(ACCOUNT.into()),
            root_key: Some((ROOT_KEY.into(), ROOT_SECRET.into())),
        };
        let mut accounts = Vec::new();
        if !options.accounts.is_empty() {
            let oxiam = oxiam_server::open(dir.path(), database_url.as_deref(), None)
                .await
                .unwrap();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64;
            oxiam.bootstrap(&bootstrap, now).await.unwrap();
            for id in &options.accounts {
                accounts.push(oxiam.create_account(Some(id), now).await.unwrap());
            }
        }
        let http = trusting_the_test_ca();
        let server = oxiam_server::start(ServerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_owned(),
            database_url: database_url.clone(),
            master_key: options.master_key,
            bootstrap,
            limits: options.limits,
            audit_log: Some(dir.path().join("audit.jsonl")),
            test_mode: options.test_mode,
            enforcement: options.enforcement,
            lint_policies: options.lint_policies,
            allow_sigv2: options.allow_sigv2,
            s3_domains: options.s3_domains,
            s3_dir: None,
            tls: options.tls,
            public_url: None,
            sinks: vec![records.clone()],
        })
        .await
        .unwrap();
        Self {
            server: Some(server),
            _dir: dir,
            database_url,
            pg_database,
            records,
            accounts,
            http,
        }
    }

    /// The audit trail's file.
    pub fn audit_path(&self) -> std::path::PathBuf {
        self._dir.path().join("audit.jsonl")
    }

    /// The PostgreSQL database of this server, if it runs on one.
    pub fn pg_database(&self) -> Option<&str> {
        self.pg_database.as_deref()
    }

    pub fn endpoint(&self) -> String {
        self.server.as_ref().unwrap().endpoint_url()
    }

    pub fn iam_as(&self, key: &str, secret: &str, region: &str) -> aws_sdk_iam::Client {
        let config = aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(self.endpoint())
            .http_client(self.http.clone())
            .credentials_provider(Credentials::new(key, secret, None, None, "test"))
            .build();
        aws_sdk_iam::Client::from_conf(config)
    }

    pub fn sts_as(&self, key: &str, secret: &str, region: &str) -> aws_sdk_sts::Client {
        let config = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(self.endpoint())
            .http_client(self.http.clone())
            .credentials_provider(Credentials::new(key, secret, None, None, "test"))
            .build();
        aws_sdk_sts::Client::from_conf(config)
    }

    /// An IAM client signing with temporary credentials STS gave.
    pub fn iam_as_session(&self, c: &aws_sdk_sts::types::Credentials) -> aws_sdk_iam::Client {
        let config = aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(self.endpoint())
            .http_client(self.http.clone())
            .credentials_provider(Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_owned()),
                None,
                "session",
            ))
            .build();
        aws_sdk_iam::Client::from_conf(config)
    }

    /// An STS client signing with temporary credentials.
    pub fn sts_as_session(&self, key: &str, secret: &str, token: &str) -> aws_sdk_sts::Client {
        let config = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(self.endpoint())
            .http_client(self.http.clone())
            .credentials_provider(Credentials::new(key, secret, Some(token.to_owned()), None, "session"))
            .build();
        aws_sdk_sts::Client::from_conf(config)
    }

    /// An S3 client (path-style, us-east-1) signing with a key, and a session token if given.
    pub fn s3_as(&self, key: &str, secret: &str, token: Option<&str>) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(self.endpoint())
            .http_client(self.http.clone())
            .force_path_style(true)
            .credentials_provider(Credentials::new(key, secret, token.map(str::to_owned), None, "test"))
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// An S3 client signing with temporary credentials STS gave.
    pub fn s3_as_session(&self, c: &aws_sdk_sts::types::Credentials) -> aws_sdk_s3::Client {
        self.s3_as(c.access_key_id(), c.secret_access_key(), Some(c.session_token()))
    }

    /// An Organizations client signing with a key, and a session token if given.
    pub fn organizations_as(&self, key: &str, secret: &str, token: Option<&str>) -> aws_sdk_organizations::Client {
        let config = aws_sdk_organizations::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(self.endpoint())
            .http_client(self.http.clone())
            .credentials_provider(Credentials::new(key, secret, token.map(str::to_owned), None, "test"))
            .build();
        aws_sdk_organizations::Client::from_conf(config)
    }

    /// An Organizations client signing with temporary credentials STS gave.
    pub fn organizations_as_session(&self, c: &aws_sdk_sts::types::Credentials) -> aws_sdk_organizations::Client {
        self.organizations_as(c.access_key_id(), c.secret_access_key(), Some(c.session_token()))
    }

    /// The bootstrap account's root, on Organizations.
    pub fn root_organizations(&self) -> aws_sdk_organizations::Client {
        self.organizations_as(ROOT_KEY, ROOT_SECRET, None)
    }

    /// A member account made by CreateAccount in the bootstrap account's organization: its
    /// id. AWS answers while the account is being made, and says how it ended after.
    pub async fn create_member_account(&self, email: &str, name: &str) -> String {
        use aws_sdk_organizations::types::CreateAccountState;
        let orgs = self.root_organizations();
        let asked = orgs
            .create_account()
            .email(email)
            .account_name(name)
            .send()
            .await
            .unwrap();
        let asked = asked.create_account_status().unwrap();
        assert_eq!(asked.state(), Some(&CreateAccountState::InProgress));
        let done = orgs
            .describe_create_account_status()
            .create_account_request_id(asked.id().unwrap())
            .send()
            .await
            .unwrap();
        let done = done.create_account_status().unwrap();
        assert_eq!(done.state(), Some(&CreateAccountState::Succeeded));
        done.account_id().unwrap().to_owned()
    }

    /// An organization of the bootstrap account with one member made by CreateAccount:
    /// (organization id, root id, member account id).
    pub async fn organization_with_member(&self) -> (String, String, String) {
        let orgs = self.root_organizations();
        let org = orgs.create_organization().send().await.unwrap();
        let org = org.organization().unwrap();
        assert_eq!(org.master_account_id(), Some(ACCOUNT));
        let org_id = org.id().unwrap().to_owned();
        let roots = orgs.list_roots().send().await.unwrap();
        let root_id = roots.roots()[0].id().unwrap().to_owned();
        let member = self.create_member_account("member@example.com", "member").await;
        (org_id, root_id, member)
    }

    /// A new OU `name` under the root, with `member` moved into it from the root: its id.
    pub async fn move_into_new_ou(&self, root_id: &str, member: &str, name: &str) -> String {
        let orgs = self.root_organizations();
        let ou = orgs
            .create_organizational_unit()
            .parent_id(root_id)
            .name(name)
            .send()
            .await
            .unwrap();
        let ou_id = ou.organizational_unit().unwrap().id().unwrap().to_owned();
        orgs.move_account()
            .account_id(member)
            .source_parent_id(root_id)
            .destination_parent_id(&ou_id)
            .send()
            .await
            .unwrap();
        ou_id
    }

    /// Credentials inside `member`, through its OrganizationAccountAccessRole, assumed by a
    /// new administrator `operator` of the bootstrap account (a root may not assume roles).
    pub async fn enter_member_account(&self, member: &str) -> aws_sdk_sts::types::Credentials {
        let admin = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let (key, secret) = self.user_with_inline_policy("operator", Some(admin)).await;
        let assumed = self
            .sts_as(&key, &secret, "us-east-1")
            .assume_role()
            .role_arn(format!("arn:aws:iam::{member}:role/OrganizationAccountAccessRole"))
            .role_session_name("operator")
            .send()
            .await
            .unwrap();
        assumed.credentials().unwrap().clone()
    }

    pub fn root_iam(&self) -> aws_sdk_iam::Client {
        self.iam_as(ROOT_KEY, ROOT_SECRET, "us-east-1")
    }

    pub fn root_sts(&self) -> aws_sdk_sts::Client {
        self.sts_as(ROOT_KEY, ROOT_SECRET, "us-east-1")
    }

    /// A new IAM user with `policy` inline (named `p`) if given, and its access key.
    pub async fn user_with_inline_policy(&self, name: &str, policy: Option<&str>) -> (String, String) {
        let iam = self.root_iam();
        iam.create_user().user_name(name).send().await.unwrap();
        if let Some(policy) = policy {
            iam.put_user_policy()
                .user_name(name)
                .policy_name("p")
                .policy_document(policy)
                .send()
                .await
                .unwrap();
        }
        let key = iam.create_access_key().user_name(name).send().await.unwrap();
        let key = key.access_key().unwrap();
        (key.access_key_id().to_owned(), key.secret_access_key().to_owned())
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await.unwrap();
        }
        if let Some(name) = self.pg_database.take() {
            admin()
                .await
                .execute(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)")))
                .await
                .unwrap();
        }
    }
}

/// A new Organizations policy of `kind`, attached to `target`: its id.
pub async fn attached_policy(
    orgs: &aws_sdk_organizations::Client,
    kind: aws_sdk_organizations::types::PolicyType,
    name: &str,
    content: impl Into<String>,
    target: &str,
) -> String {
    let created = orgs
        .create_policy()
        .name(name)
        .description("")
        .r#type(kind)
        .content(content)
        .send()
        .await
        .unwrap();
    let id = created
        .policy()
        .unwrap()
        .policy_summary()
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    orgs.attach_policy()
        .policy_id(&id)
        .target_id(target)
        .send()
        .await
        .unwrap();
    id
}

/// The error code of an SDK error, for assertions.
pub fn code<E, R>(err: &aws_sdk_iam::error::SdkError<E, R>) -> String
where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match err {
        aws_sdk_iam::error::SdkError::ServiceError(e) => e.err().code().unwrap_or("").to_owned(),
        other => format!("not a service error: {other:?}"),
    }
}

/// The error message of an SDK error.
pub fn message<E, R>(err: &aws_sdk_iam::error::SdkError<E, R>) -> String
where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match err {
        aws_sdk_iam::error::SdkError::ServiceError(e) => e.err().message().unwrap_or("").to_owned(),
        other => format!("not a service error: {other:?}"),
    }
}

/// Each test `name(backend)` once per backend, for tests that start their own kind of
/// server (the PostgreSQL ones skipped when no database is configured).
#[macro_export]
macro_rules! per_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::common::postgres_available() {
                        super::$name($crate::common::Backend::Postgres).await;
                    }
                }
            )*
        }
    };
}

/// Runs an async test body once per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let server = $crate::common::TestServer::start($crate::common::Backend::Sqlite).await;
                    super::$name(&server).await;
                    server.stop().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if !$crate::common::postgres_available() {
                        return;
                    }
                    let server = $crate::common::TestServer::start($crate::common::Backend::Postgres).await;
                    super::$name(&server).await;
                    server.stop().await;
                }
            )*
        }
    };
}
