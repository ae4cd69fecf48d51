//! A real oxiam core on SQLite with the S3 endpoint served on a loopback port by axum, as
//! the server mounts it, and aws-sdk-s3 clients pointed at it.
#![allow(dead_code, reason = "each test crate uses part of the shared helpers")]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use axum::extract::{ConnectInfo, Request};
use oxiam_core::{BootstrapConfig, Oxiam, Principal, SecretBox};
use oxiam_protocol::iam;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

pub const ACCOUNT: &str = "123456789012";
pub const ROOT_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
pub const ROOT_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub struct Harness {
    pub oxiam: Arc<Oxiam>,
    pub addr: SocketAddr,
    pub account: String,
    pub root_key: (String, String),
    _dir: Option<tempfile::TempDir>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Harness {
    /// A fresh account and S3 data directory.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let s3_root = dir.path().join("s3");
        let mut h = Self::start_with(dir.path(), &s3_root, ACCOUNT, ROOT_KEY, ROOT_SECRET).await;
        h._dir = Some(dir);
        h
    }

    /// A second account in the same database (its buckets share the namespace): its id
    /// and an S3 client for its root.
    pub async fn second_account(&self, account: &str) -> (String, aws_sdk_s3::Client) {
        let made = self.oxiam.create_account(Some(account), now()).await.unwrap();
        let client = self.client(&made.access_key_id, &made.secret_access_key.0, None, "us-east-1");
        (made.account_id, client)
    }

    /// An oxiam whose database is in `db_dir`, serving S3 data from `s3_root`.
    pub async fn start_with(db_dir: &Path, s3_root: &Path, account: &str, key: &str, secret: &str) -> Self {
        let url = format!("sqlite://{}?mode=rwc", db_dir.join(format!("{account}.db")).display());
        let store = oxiam_store::Store::open(&url).await.unwrap();
        let oxiam = Oxiam::new(store, SecretBox::new(&SecretBox::generate_key()));
        oxiam
            .bootstrap(
                &BootstrapConfig {
                    account_id: Some(account.into()),
                    root_key: Some((key.into(), secret.into())),
                },
                now(),
            )
            .await
            .unwrap();
        let oxiam = Arc::new(oxiam);
        let s3 = oxiam_s3::service(
            oxiam.clone(),
            s3_root,
            oxiam_core::Clock::default(),
            oxiam_s3::S3Options::default(),
        )
        .unwrap();
        let app = axum::Router::new().fallback(move |ConnectInfo(peer): ConnectInfo<SocketAddr>, req: Request| {
            let s3 = s3.clone();
            async move { s3.call(req, Some(peer.ip()), &oxiam_core::ids::request_id()).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .await
                .unwrap();
        });
        Self {
            oxiam,
            addr,
            account: account.into(),
            root_key: (key.into(), secret.into()),
            _dir: None,
            task,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn client(&self, key: &str, secret: &str, token: Option<&str>, region: &str) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(self.endpoint())
            .force_path_style(true)
            .credentials_provider(Credentials::new(key, secret, token.map(str::to_owned), None, "test"))
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    pub fn root(&self) -> aws_sdk_s3::Client {
        self.client(&self.root_key.0, &self.root_key.1, None, "us-east-1")
    }

    pub async fn root_principal(&self) -> Principal {
        self.oxiam.credentials(&self.root_key.0).await.unwrap().unwrap().1
    }

    /// Creates an IAM user with an access key, through the core; returns (key id, secret).
    pub async fn user_with_key(&self, name: &str) -> (String, String) {
        let root = self.root_principal().await;
        self.oxiam
            .execute_iam(
                &root,
                iam::Request::CreateUser(iam::CreateUserRequest {
                    path: None,
                    user_name: name.into(),
                    permissions_boundary: None,
                    tags: None,
                }),
                now(),
            )
            .await
            .unwrap();
        let response = self
            .oxiam
            .execute_iam(
                &root,
                iam::Request::CreateAccessKey(iam::CreateAccessKeyRequest {
                    user_name: Some(name.into()),
                }),
                now(),
            )
            .await
            .unwrap();
        let iam::Response::CreateAccessKey(created) = response else {
            panic!("unexpected {response:?}")
        };
        (created.access_key.access_key_id, created.access_key.secret_access_key.0)
    }

    /// Sends a raw HTTP/1.1 request; returns (status, headers, body).
    pub async fn raw(&self, method: &str, path_and_query: &str, headers: &[(&str, &str)]) -> (u16, String, Vec<u8>) {
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let mut request = format!(
            "{method} {path_and_query} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        for (k, v) in headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("no header end");
        let head = String::from_utf8(response[..split].to_vec()).unwrap();
        let mut body = response[split + 4..].to_vec();
        let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
            body = dechunk(&body);
        }
        (status, head, body)
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size_text = std::str::from_utf8(&data[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// The error code of an SDK error.
pub fn code<E, R>(err: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match err {
        aws_sdk_s3::error::SdkError::ServiceError(e) => e.err().code().unwrap_or("").to_owned(),
        other => format!("not a service error: {other:?}"),
    }
}

/// The error message of an SDK error.
pub fn message<E, R>(err: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match err {
        aws_sdk_s3::error::SdkError::ServiceError(e) => e.err().message().unwrap_or("").to_owned(),
        other => format!("not a service error: {other:?}"),
    }
}

/// The HTTP status of an SDK error.
pub fn status<E: std::fmt::Debug>(err: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> u16 {
    match err {
        aws_sdk_s3::error::SdkError::ServiceError(e) => e.raw().status().as_u16(),
        other => panic!("not a service error: {other:?}"),
    }
}
