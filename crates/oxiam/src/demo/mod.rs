//! The seed's scenarios, performed with the AWS SDK for Rust against oxiam (or AWS itself).
//!
//! As in the seed, each area is a module of small functions over an SDK client (the
//! "wrappers"), plus a `run` function that performs that area's demo, printing each step
//! in plain language and returning what it observed:
//!
//! | module | scenario |
//! |---|---|
//! | [`permissions`] | 1. users with different permissions (`oxiam demo users`), over [`users`] and [`buckets`] |
//! | [`keys`] | 2. manage access keys |
//! | [`policies`] | 3. manage policies, and roll a policy version back |
//! | [`roles`] | 4. manage roles |
//! | [`account`] | 5. manage the account |
//! | [`assume_role`] | 6. create a user and assume a role |
//! | [`mfa`] | 7. enable a virtual MFA device, then use an MFA-protected role (not in the seed) |
//! | [`organization`] | an organization, a member account and an SCP (not in the seed, nor in `all`) |
//!
//! Every demo cleans up what it created, also when a step fails, and then returns the
//! failing step's error as AWS (or oxiam) answered it.
//!
//! ```no_run
//! # async fn example() -> Result<(), oxiam::demo::Error> {
//! use oxiam::demo::{Clients, Embedded, policies};
//!
//! let server = Embedded::start().await?;
//! let admin = Clients::new(&server.sdk_config("us-east-1"));
//! let outcome = policies::run(&admin).await?;
//! println!("rolled {} back to {}", outcome.policy_arn, outcome.statement_after);
//! server.stop().await?;
//! # Ok(())
//! # }
//! ```

pub mod account;
pub mod assume_role;
pub mod buckets;
mod embedded;
pub mod keys;
pub mod mfa;
pub mod organization;
pub mod permissions;
pub mod policies;
pub mod roles;
pub mod users;

use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};

pub use embedded::Embedded;

/// A failed step: what was being done, and what AWS (or oxiam) answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The step, e.g. `CreateUser demo-iam-writer`.
    pub doing: String,
    /// The error code the service answered (`AccessDenied`, `EntityAlreadyExists` …), if any.
    pub code: Option<String>,
    /// The service's message, or what went wrong on the way to it.
    pub message: String,
}

impl Error {
    /// An error that is not a service's answer.
    pub fn new(doing: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            doing: doing.into(),
            code: None,
            message: message.into(),
        }
    }

    /// Whether the service answered this error code.
    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) if self.message.is_empty() => write!(f, "{}: {code}", self.doing),
            Some(code) => write!(f, "{}: {code}: {}", self.doing, self.message),
            None => write!(f, "{}: {}", self.doing, self.message),
        }
    }
}

impl std::error::Error for Error {}

/// A demo step's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Turns an SDK error (of any of the three services) into an [`Error`] naming the step.
pub fn aws<E>(doing: impl Into<String>) -> impl FnOnce(SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |err| {
        let mut code = err.code().map(str::to_owned);
        let mut message = err.message().map(str::to_owned);
        if code.is_none()
            && let Some(raw) = err.raw_response()
        {
            // An answer the SDK could not read as this service's error (say, an S3 request
            // answered in IAM's envelope): take what it says from the body itself.
            let body = raw.body().bytes().map(String::from_utf8_lossy).unwrap_or_default();
            code = xml_text(&body, "Code");
            message = xml_text(&body, "Message").or_else(|| {
                let snippet: String = body.chars().take(300).collect();
                Some(format!("HTTP {}: {snippet}", raw.status().as_u16()))
            });
        }
        let message = match (message, &code) {
            (Some(message), _) => message.trim().to_owned(),
            (None, Some(_)) => String::new(),
            (None, None) => error_chain(&err),
        };
        Error {
            doing: doing.into(),
            code,
            message,
        }
    }
}

/// An error and its causes, each once (no connection, no credentials found …).
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// The text of the first `<tag>…</tag>` in an XML body.
fn xml_text(body: &str, tag: &str) -> Option<String> {
    let start = body.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + body[start..].find(&format!("</{tag}>"))?;
    Some(body[start..end].to_owned())
}

/// The SDK clients a demo uses, all acting as one identity.
#[derive(Clone, Debug)]
pub struct Clients {
    /// IAM.
    pub iam: aws_sdk_iam::Client,
    /// STS.
    pub sts: aws_sdk_sts::Client,
    /// S3, with path-style addressing when the endpoint is not AWS's (it is usually an IP).
    pub s3: aws_sdk_s3::Client,
    /// AWS Organizations.
    pub organizations: aws_sdk_organizations::Client,
    config: SdkConfig,
}

impl Clients {
    /// Clients for the endpoint, region and credentials of `config`.
    pub fn new(config: &SdkConfig) -> Self {
        let mut s3 = aws_sdk_s3::config::Builder::from(config);
        if config.endpoint_url().is_some() {
            s3 = s3.force_path_style(true);
        }
        Self {
            iam: aws_sdk_iam::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            s3: aws_sdk_s3::Client::from_conf(s3.build()),
            organizations: aws_sdk_organizations::Client::new(config),
            config: config.clone(),
        }
    }

    /// The same endpoint and region, acting with other credentials.
    pub fn with_credentials(&self, credentials: Credentials) -> Self {
        Self::new(
            &self
                .config
                .to_builder()
                .credentials_provider(SharedCredentialsProvider::new(credentials))
                .build(),
        )
    }

    /// The same endpoint and region, acting with an access key IAM just created.
    pub fn with_key(&self, key: &aws_sdk_iam::types::AccessKey) -> Self {
        self.with_credentials(Credentials::new(
            key.access_key_id(),
            key.secret_access_key(),
            None,
            None,
            "oxiam-demo",
        ))
    }

    /// The region the clients sign for (and buckets are created in).
    pub fn region(&self) -> &str {
        self.config.region().map_or("us-east-1", |r| r.as_ref())
    }

    /// The endpoint the clients talk to, when it is not AWS's.
    pub fn endpoint_url(&self) -> Option<&str> {
        self.config.endpoint_url()
    }
}

/// One of the seed's scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// 1. Users with different permissions ([`permissions`]).
    Users,
    /// 2. Manage access keys ([`keys`]).
    Keys,
    /// 3. Manage policies, and roll a policy version back ([`policies`]).
    Policies,
    /// 4. Manage roles ([`roles`]).
    Roles,
    /// 5. Manage the account ([`account`]).
    Account,
    /// 6. Create a user and assume a role ([`assume_role`]).
    AssumeRole,
    /// 7. Enable a virtual MFA device, then use an MFA-protected role ([`mfa`]).
    Mfa,
    /// An organization, a member account and an SCP ([`organization`]). Not in
    /// [`Scenario::ALL`]: against AWS it would create an account that cannot simply go.
    Organization,
}

impl Scenario {
    /// Every scenario, in the order `oxiam demo all` performs them.
    pub const ALL: [Scenario; 7] = [
        Scenario::Users,
        Scenario::Keys,
        Scenario::Policies,
        Scenario::Roles,
        Scenario::Account,
        Scenario::AssumeRole,
        Scenario::Mfa,
    ];

    /// The name `oxiam demo` takes.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Users => "users",
            Scenario::Keys => "keys",
            Scenario::Policies => "policies",
            Scenario::Roles => "roles",
            Scenario::Account => "account",
            Scenario::AssumeRole => "assume-role",
            Scenario::Mfa => "mfa",
            Scenario::Organization => "organization",
        }
    }

    /// What it shows.
    pub fn title(self) -> &'static str {
        match self {
            Scenario::Users => "Users with different permissions",
            Scenario::Keys => "Manage access keys",
            Scenario::Policies => "Manage policies, and roll a policy version back",
            Scenario::Roles => "Manage roles",
            Scenario::Account => "Manage the account",
            Scenario::AssumeRole => "Create a user and assume a role",
            Scenario::Mfa => "Enable a virtual MFA device, then use an MFA-protected role",
            Scenario::Organization => "An organization, a member account, and an SCP that denies",
        }
    }

    /// Performs it as `admin` (a principal allowed everything in the account).
    pub async fn run(self, admin: &Clients) -> Result<()> {
        banner(&format!("{} (oxiam demo {})", self.title(), self.name()));
        match self {
            Scenario::Users => permissions::run(admin).await.map(drop),
            Scenario::Keys => keys::run(admin).await.map(drop),
            Scenario::Policies => policies::run(admin).await.map(drop),
            Scenario::Roles => roles::run(admin).await.map(drop),
            Scenario::Account => account::run(admin).await.map(drop),
            Scenario::AssumeRole => assume_role::run(admin).await.map(drop),
            Scenario::Mfa => mfa::run(admin).await.map(drop),
            Scenario::Organization => organization::run(admin).await.map(drop),
        }
    }
}

/// Says who the demos act as (STS GetCallerIdentity).
pub async fn whoami(clients: &Clients) -> Result<String> {
    let me = clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(aws("GetCallerIdentity"))?;
    Ok(me.arn().unwrap_or("?").to_owned())
}

/// Performs `scenarios` in order as `admin`, going on after a failure; returns the failures.
pub async fn run_scenarios(admin: &Clients, scenarios: &[Scenario]) -> Vec<(Scenario, Error)> {
    let mut failures = Vec::new();
    for &scenario in scenarios {
        if let Err(e) = scenario.run(admin).await {
            println!("\n!! demo {} failed: {e}", scenario.name());
            failures.push((scenario, e));
        }
    }
    failures
}

/// Prints a scenario's heading.
pub(crate) fn banner(title: &str) {
    println!("\n{title}\n{}", "=".repeat(title.chars().count()));
}

/// Prints a step's heading.
pub(crate) fn step(text: &str) {
    println!("\n-- {text}");
}

/// Prints `text` indented under the current step.
pub(crate) fn indented(text: &str) {
    for line in text.lines() {
        println!("     {line}");
    }
}

/// A suffix that makes the names of a run unique (decimal nanoseconds since the epoch).
pub fn unique_suffix() -> String {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
        .to_string()
}

/// The error codes meaning "this new access key is not known yet" (real IAM is eventually
/// consistent; oxiam is read-your-writes consistent, so it never answers them for a new key).
pub const NEW_KEY_NOT_YET: &[&str] = &["InvalidAccessKeyId", "InvalidClientTokenId"];

/// The error codes meaning "this new key or new grant does not work yet" on real AWS.
pub const NEW_GRANT_NOT_YET: &[&str] = &["InvalidAccessKeyId", "InvalidClientTokenId", "AccessDenied"];

/// On AWS itself (`clients` has no endpoint URL), performs `attempt` again while it fails
/// with one of `codes`, for up to 30 seconds, as the seed's demos wait for IAM's eventual
/// consistency. oxiam is read-your-writes consistent: against it, one attempt is the answer.
pub async fn retry<T, F, Fut>(clients: &Clients, codes: &[&str], mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    if clients.endpoint_url().is_some() {
        return attempt().await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut delay = Duration::from_millis(500);
    loop {
        match attempt().await {
            Err(e) if codes.iter().any(|c| e.is(c)) && Instant::now() + delay < deadline => {
                println!(
                    "     (not yet: {}; IAM is eventually consistent, waiting {} ms)",
                    e.code.as_deref().unwrap_or(""),
                    delay.as_millis()
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(4));
            }
            other => return other,
        }
    }
}

/// A request that the demo expects a policy to deny, and the answer that denied it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// Who asked (a user name, or an ARN).
    pub who: String,
    /// The action, e.g. `s3:GetObject`.
    pub action: String,
    /// The resource, e.g. `arn:aws:s3:::bucket/key`.
    pub resource: String,
    /// The error code (`AccessDenied`).
    pub code: String,
    /// The service's message.
    pub message: String,
    /// Why the policies deny it, as the demo set them up.
    pub because: String,
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} was denied {} on {} ({}: {}), because {}",
            self.who, self.action, self.resource, self.code, self.message, self.because
        )
    }
}

/// Checks that `result` is an `AccessDenied` answer, prints who was denied what and why
/// (`because`), and fails the demo if the request was allowed (or failed otherwise).
pub fn expect_denied<T>(who: &str, action: &str, resource: &str, because: &str, result: Result<T>) -> Result<Denial> {
    match result {
        Ok(_) => Err(Error::new(
            format!("{action} on {resource} as {who}"),
            "expected AccessDenied, but the request was allowed",
        )),
        Err(e) if e.is("AccessDenied") => {
            let denial = Denial {
                who: who.to_owned(),
                action: action.to_owned(),
                resource: resource.to_owned(),
                code: e.code.unwrap_or_default(),
                message: e.message,
                because: because.to_owned(),
            };
            println!("   Denied, as it should be: {denial}");
            Ok(denial)
        }
        Err(e) => Err(e),
    }
}

/// Clean-up failures, collected so that every clean-up step runs.
#[derive(Debug, Default)]
pub(crate) struct Tidy {
    failures: Vec<Error>,
}

impl Tidy {
    /// Notes a clean-up step's failure (something already gone is no failure) and goes on;
    /// says whether the step succeeded.
    pub(crate) fn check<T>(&mut self, result: Result<T>) -> bool {
        match result {
            Ok(_) => true,
            Err(e) if ["NoSuchEntity", "NoSuchBucket", "NoSuchKey"].iter().any(|c| e.is(c)) => true,
            Err(e) => {
                println!("   ! clean-up step failed: {e}");
                self.failures.push(e);
                false
            }
        }
    }

    /// The demo's result, or, if the demo itself succeeded, the first clean-up failure.
    pub(crate) fn settle<T>(self, outcome: Result<T>) -> Result<T> {
        match outcome {
            Err(e) => Err(e),
            Ok(value) => match self.failures.into_iter().next() {
                Some(e) => Err(e),
                None => Ok(value),
            },
        }
    }
}

/// A policy document as IAM returns it (URL-encoded JSON) → JSON.
pub fn decode_document(document: &str) -> Result<serde_json::Value> {
    let text = percent_encoding::percent_decode_str(document)
        .decode_utf8()
        .map_err(|e| Error::new("decoding a policy document", e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| Error::new("parsing a policy document", e.to_string()))
}

/// Pretty JSON, for printing.
pub fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// A policy document allowing `actions` on `resources` (one statement, as the seed writes them).
pub fn allow(actions: &[&str], resources: &[&str]) -> serde_json::Value {
    let one_or_many = |items: &[&str]| match items {
        [one] => serde_json::json!(one),
        many => serde_json::json!(many),
    };
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": one_or_many(actions),
            "Resource": one_or_many(resources),
        }],
    })
}
