//! An oxiam inside the demo's own process, on a free loopback port, with a temporary data
//! directory that is removed afterwards.

use std::path::Path;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use oxiam_core::BootstrapConfig;
use oxiam_server::{RunningServer, ServerConfig};

use super::{Error, Result};

/// An embedded oxiam: one account, whose root access key is [`Embedded::ROOT_ACCESS_KEY_ID`].
pub struct Embedded {
    server: RunningServer,
    data_dir: tempfile::TempDir,
}

impl Embedded {
    /// The account of the embedded server (the one AWS's documentation uses).
    pub const ACCOUNT_ID: &str = "123456789012";
    /// The root access key id (AWS's documented example key).
    pub const ROOT_ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
    /// The root secret access key (AWS's documented example secret).
    pub const ROOT_SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    /// Starts one on `127.0.0.1:0` with a new temporary data directory.
    pub async fn start() -> Result<Self> {
        let data_dir = tempfile::Builder::new()
            .prefix("oxiam-demo-")
            .tempdir()
            .map_err(|e| Error::new("creating a temporary data directory", e.to_string()))?;
        let server = oxiam_server::start(ServerConfig {
            listen: ([127, 0, 0, 1], 0).into(),
            data_dir: data_dir.path().to_owned(),
            database_url: None,
            master_key: None,
            bootstrap: BootstrapConfig {
                account_id: Some(Self::ACCOUNT_ID.to_owned()),
                root_key: Some((
                    Self::ROOT_ACCESS_KEY_ID.to_owned(),
                    Self::ROOT_SECRET_ACCESS_KEY.to_owned(),
                )),
            },
            limits: oxiam_server::Limits::default(),
            audit_log: None,
            test_mode: false,
            enforcement: oxiam_core::Enforcement::Enforce,
            lint_policies: oxiam_core::LintPolicies::Off,
            allow_sigv2: false,
            s3_domains: Vec::new(),
            s3_dir: None,
            tls: None,
            public_url: None,
            sinks: Vec::new(),
        })
        .await
        .map_err(|e| Error::new("starting the embedded oxiam", e.to_string()))?;
        Ok(Self { server, data_dir })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint_url(&self) -> String {
        self.server.endpoint_url()
    }

    /// The account it serves.
    pub fn account_id(&self) -> &str {
        &self.server.account_id
    }

    /// Its temporary data directory.
    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// An SDK configuration for it, signing with the root key for `region`.
    pub fn sdk_config(&self, region: &str) -> SdkConfig {
        self.sdk_config_as(Self::ROOT_ACCESS_KEY_ID, Self::ROOT_SECRET_ACCESS_KEY, region)
    }

    /// An SDK configuration for it, signing with another access key.
    pub fn sdk_config_as(&self, access_key_id: &str, secret_access_key: &str, region: &str) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(self.endpoint_url())
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                access_key_id,
                secret_access_key,
                None,
                None,
                "oxiam-embedded",
            )))
            .build()
    }

    /// Stops it (in-flight requests finish) and removes its data directory.
    pub async fn stop(self) -> Result<()> {
        let Self { server, data_dir } = self;
        let stopped = server
            .stop()
            .await
            .map_err(|e| Error::new("stopping the embedded oxiam", e.to_string()));
        let removed = data_dir
            .close()
            .map_err(|e| Error::new("removing the embedded oxiam's data directory", e.to_string()));
        stopped.and(removed)
    }
}
