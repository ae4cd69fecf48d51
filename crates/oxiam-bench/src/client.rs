//! One HTTP/1.1 keep-alive client (hyper 1, hyper-util's pooled client) and SigV4 signing
//! with `aws-sigv4`: every request is signed afresh, with the current time, as an SDK does.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings, UriPathNormalizationMode,
    sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

pub const IAM_VERSION: &str = "2010-05-08";
pub const STS_VERSION: &str = "2011-06-15";

/// An access key: what a request is signed with.
#[derive(Clone)]
pub struct Key {
    pub access_key_id: String,
    identity: Identity,
}

impl Key {
    pub fn new(access_key_id: &str, secret: &str) -> Key {
        let identity: Identity = Credentials::new(access_key_id, secret, None, None, "oxiam-bench").into();
        Key {
            access_key_id: access_key_id.to_owned(),
            identity,
        }
    }
}

pub struct Reply {
    pub status: u16,
    pub body: Bytes,
}

impl Reply {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The text of the first `<tag>…</tag>` of the body.
    pub fn field(&self, tag: &str) -> Option<String> {
        let text = std::str::from_utf8(&self.body).ok()?;
        let open = format!("<{tag}>");
        let start = text.find(&open)? + open.len();
        let end = text[start..].find(&format!("</{tag}>"))? + start;
        Some(text[start..end].to_owned())
    }
    pub fn code(&self) -> String {
        self.field("Code").unwrap_or_default()
    }
}

/// An endpoint (`http://host:port`) and the pooled client that talks to it.
pub struct Endpoint {
    base: String,
    host: String,
    region: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Endpoint {
    pub fn new(url: &str, region: &str) -> Result<Endpoint, Error> {
        let uri: http::Uri = url.parse()?;
        if uri.scheme_str() != Some("http") {
            return Err(format!("{url}: only http:// endpoints are supported").into());
        }
        let host = uri
            .authority()
            .ok_or_else(|| format!("{url}: no host"))?
            .as_str()
            .to_owned();
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(usize::MAX)
            .build(connector);
        Ok(Endpoint {
            base: format!("http://{host}"),
            host,
            region: region.to_owned(),
            client,
        })
    }

    /// An IAM or STS Query request: a signed form POST to `/`.
    pub async fn query(&self, key: &Key, service: &str, action: &str, params: &[(&str, &str)]) -> Result<Reply, Error> {
        let version = if service == "sts" { STS_VERSION } else { IAM_VERSION };
        let body = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("Action", action).append_pair("Version", version);
            for (name, value) in params {
                form.append_pair(name, value);
            }
            Bytes::from(form.finish())
        };
        let headers = vec![
            ("host", self.host.clone()),
            (
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
            ),
        ];
        self.send(key, service, "POST", "/", headers, body).await
    }

    /// A path-style S3 request.
    pub async fn s3(&self, key: &Key, method: &str, path: &str, body: Bytes) -> Result<Reply, Error> {
        let headers = vec![("host", self.host.clone())];
        self.send(key, "s3", method, path, headers, body).await
    }

    async fn send(
        &self,
        key: &Key,
        service: &str,
        method: &str,
        path: &str,
        mut headers: Vec<(&'static str, String)>,
        body: Bytes,
    ) -> Result<Reply, Error> {
        let uri = format!("{}{path}", self.base);
        let mut settings = SigningSettings::default();
        if service == "s3" {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
            settings.percent_encoding_mode = PercentEncodingMode::Single;
            settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        }
        let params = v4::SigningParams::builder()
            .identity(&key.identity)
            .region(&self.region)
            .name(service)
            .time(SystemTime::now())
            .settings(settings)
            .build()?
            .into();
        let signable = SignableRequest::new(
            method,
            &uri,
            headers.iter().map(|(n, v)| (*n, v.as_str())),
            SignableBody::Bytes(&body),
        )?;
        let (instructions, _) = sign(signable, &params)?.into_parts();
        let mut request = http::Request::builder().method(method).uri(&uri);
        for (name, value) in headers.drain(..) {
            request = request.header(name, value);
        }
        for (name, value) in instructions.headers() {
            request = request.header(name, value);
        }
        let request = request.body(Full::new(body))?;
        let response = self.client.request(request).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Reply { status, body })
    }
}
