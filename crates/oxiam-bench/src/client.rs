//! HTTP/1.1 keep-alive connections (hyper 1), one per client, and requests signed afresh
//! with SigV4 ([`crate::signer`]), with the current time, as an SDK signs them.

use std::time::SystemTime;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::signer::{Signer, Unsigned};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

pub const IAM_VERSION: &str = "2010-05-08";
pub const STS_VERSION: &str = "2011-06-15";

/// An access key: what a request is signed with.
#[derive(Clone)]
pub struct Key {
    pub access_key_id: String,
    signer: Signer,
}

impl Key {
    pub fn new(access_key_id: &str, secret: &str) -> Key {
        Key {
            access_key_id: access_key_id.to_owned(),
            signer: Signer::new(access_key_id, secret),
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

/// An endpoint (`http://host:port`): where requests go, and the region they are signed for.
#[derive(Clone)]
pub struct Endpoint {
    host: String,
    region: String,
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
        Ok(Endpoint {
            host,
            region: region.to_owned(),
        })
    }

    /// A client's own keep-alive connection to the endpoint, opened on its first request.
    pub fn connection(&self) -> Connection {
        Connection {
            endpoint: self.clone(),
            open: None,
        }
    }

    fn signed(
        &self,
        key: &Key,
        service: &str,
        method: &str,
        path: &str,
        headers: &[(&'static str, &str)],
        body: Bytes,
    ) -> Result<http::Request<Full<Bytes>>, Error> {
        let unsigned = Unsigned {
            method,
            path,
            headers,
            body: &body,
        };
        let signing = key.signer.sign(&unsigned, &self.region, service, SystemTime::now());
        let mut request = http::Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        for (name, value) in signing {
            request = request.header(name, value);
        }
        Ok(request.body(Full::new(body))?)
    }
}

/// One HTTP/1.1 keep-alive connection, owned by one client and driven by the client's own
/// task while a request is in flight: no pool to check a connection out of, and no second
/// task (on the other core) to wake for each request and each reply. A connection the server
/// closes is opened again on the next request.
pub struct Connection {
    endpoint: Endpoint,
    open: Option<Open>,
}

struct Open {
    sender: http1::SendRequest<Full<Bytes>>,
    driver: http1::Connection<TokioIo<TcpStream>, Full<Bytes>>,
}

impl Connection {
    /// An IAM or STS Query request: a signed form POST to `/`.
    pub async fn query(
        &mut self,
        key: &Key,
        service: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<Reply, Error> {
        let version = if service == "sts" { STS_VERSION } else { IAM_VERSION };
        let body = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("Action", action).append_pair("Version", version);
            for (name, value) in params {
                form.append_pair(name, value);
            }
            Bytes::from(form.finish())
        };
        let headers = [
            ("host", self.endpoint.host.as_str()),
            ("content-type", "application/x-www-form-urlencoded; charset=utf-8"),
        ];
        let request = self.endpoint.signed(key, service, "POST", "/", &headers, body)?;
        self.exchange(request).await
    }

    /// A path-style S3 request.
    pub async fn s3(&mut self, key: &Key, method: &str, path: &str, body: Bytes) -> Result<Reply, Error> {
        let headers = [("host", self.endpoint.host.as_str())];
        let request = self.endpoint.signed(key, "s3", method, path, &headers, body)?;
        self.exchange(request).await
    }

    async fn exchange(&mut self, request: http::Request<Full<Bytes>>) -> Result<Reply, Error> {
        let usable = match &mut self.open {
            Some(open) => open.ready().await,
            None => false,
        };
        if !usable {
            // None yet, or the server closed it after its last reply (HTTP/1.0, or
            // `Connection: close`): a new one, before the request is sent.
            self.open = None;
            let mut open = Open::connect(&self.endpoint.host).await?;
            if !open.ready().await {
                return Err("the server closed a new connection".into());
            }
            self.open = Some(open);
        }
        let Some(open) = &mut self.open else {
            unreachable!("opened above")
        };
        let (result, ended) = open.exchange(request).await;
        if ended || result.is_err() {
            self.open = None;
        }
        result
    }
}

impl Open {
    /// Sends the request and reads the reply, driving the connection meanwhile; also says
    /// whether the connection ended.
    async fn exchange(&mut self, request: http::Request<Full<Bytes>>) -> (Result<Reply, Error>, bool) {
        let sender = &mut self.sender;
        let exchange = async {
            let response = sender.send_request(request).await?;
            let status = response.status().as_u16();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, Error>(Reply { status, body })
        };
        let mut exchange = std::pin::pin!(exchange);
        tokio::select! {
            biased;
            reply = &mut exchange => (reply, false),
            ended = &mut self.driver => match ended {
                // The server closed the connection with its reply (HTTP/1.0, or
                // `Connection: close`): what was read of it is the reply, or its error.
                Ok(()) => (exchange.await, true),
                Err(error) => (Err(error.into()), true),
            },
        }
    }

    /// Drives the connection until it can take a request: false if it ended first.
    async fn ready(&mut self) -> bool {
        tokio::select! {
            biased;
            ready = self.sender.ready() => ready.is_ok(),
            _ = &mut self.driver => false,
        }
    }

    async fn connect(host: &str) -> Result<Open, Error> {
        let stream = TcpStream::connect(host).await?;
        stream.set_nodelay(true)?;
        let (sender, driver) = http1::handshake(TokioIo::new(stream)).await?;
        Ok(Open { sender, driver })
    }
}
