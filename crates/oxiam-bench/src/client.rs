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
    /// The `host` header: the URL's authority as written.
    host: String,
    /// Where to connect: the authority, with port 80 when the URL names none.
    address: String,
    region: String,
}

impl Endpoint {
    pub fn new(url: &str, region: &str) -> Result<Endpoint, Error> {
        let uri: http::Uri = url.parse()?;
        if uri.scheme_str() != Some("http") {
            return Err(format!("{url}: only http:// endpoints are supported").into());
        }
        let authority = uri.authority().ok_or_else(|| format!("{url}: no host"))?;
        let address = match authority.port_u16() {
            Some(_) => authority.as_str().to_owned(),
            None => format!("{}:80", authority.host()),
        };
        Ok(Endpoint {
            host: authority.as_str().to_owned(),
            address,
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
    /// The connection's own future; `None` once it has ended (and been dropped).
    driver: Option<http1::Connection<TokioIo<TcpStream>, Full<Bytes>>>,
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

    async fn exchange(&mut self, mut request: http::Request<Full<Bytes>>) -> Result<Reply, Error> {
        let mut resent = false;
        loop {
            let open = match self.open.take() {
                Some(open) => open.ready().await,
                None => None,
            };
            let mut open = match open {
                Some(open) => open,
                // None yet, or the server closed it since its last reply (HTTP/1.0,
                // `Connection: close`, an idle timeout): a new one.
                None => Open::connect(&self.endpoint.address)
                    .await?
                    .ready()
                    .await
                    .ok_or("the server closed a new connection")?,
            };
            match open.exchange(request).await {
                Ok(reply) => {
                    self.open = open.driver.is_some().then_some(open);
                    return Ok(reply);
                }
                // The server closed the connection before the request was written (an idle
                // close that crossed it): sent again, once, on a new one, as an SDK does.
                Err(Failure::Unsent(unsent)) if !resent => {
                    request = *unsent;
                    resent = true;
                }
                Err(Failure::Unsent(_)) => {
                    return Err("the server closed two connections before a request was sent".into());
                }
                Err(Failure::Other(error)) => return Err(error),
            }
        }
    }
}

/// Why a request got no reply.
enum Failure {
    /// Handed back unwritten.
    Unsent(Box<http::Request<Full<Bytes>>>),
    Other(Error),
}

/// Sends the request and reads the whole reply (the connection must be driven meanwhile).
async fn send(
    sender: &mut http1::SendRequest<Full<Bytes>>,
    request: http::Request<Full<Bytes>>,
) -> Result<Reply, Failure> {
    let response = match sender.try_send_request(request).await {
        Ok(response) => response,
        Err(mut failed) => {
            return Err(match failed.take_message() {
                Some(request) => Failure::Unsent(Box::new(request)),
                None => Failure::Other(failed.into_error().into()),
            });
        }
    };
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|error| Failure::Other(error.into()))?
        .to_bytes();
    Ok(Reply { status, body })
}

impl Open {
    async fn connect(address: &str) -> Result<Open, Error> {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let (sender, driver) = http1::handshake(TokioIo::new(stream)).await?;
        Ok(Open {
            sender,
            driver: Some(driver),
        })
    }

    /// Drives the connection until it can take a request; `None` if it ended first. The
    /// connection is polled first, so that a close already read is seen before a request is
    /// queued on it.
    async fn ready(mut self) -> Option<Open> {
        let driver = self.driver.as_mut()?;
        let ready = tokio::select! {
            biased;
            _ = driver => false,
            ready = self.sender.ready() => ready.is_ok(),
        };
        ready.then_some(self)
    }

    /// Sends the request on this connection and reads the reply, driving the connection
    /// meanwhile.
    async fn exchange(&mut self, request: http::Request<Full<Bytes>>) -> Result<Reply, Failure> {
        let Some(driver) = self.driver.as_mut() else {
            return Err(Failure::Unsent(Box::new(request)));
        };
        let mut exchange = std::pin::pin!(send(&mut self.sender, request));
        let ended = tokio::select! {
            biased;
            result = &mut exchange => return result,
            ended = driver => ended,
        };
        // The connection ended. Dropping it hands back a request it had not written, or ends
        // a reply it had read whole (the server closed with it); the exchange then finishes
        // either way.
        self.driver = None;
        match (exchange.await, ended) {
            (Err(Failure::Other(_)), Err(broken)) => Err(Failure::Other(broken.into())),
            (result, _) => result,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::{Endpoint, Key};

    /// How the peer treats a connection after each reply.
    #[derive(Clone, Copy)]
    enum After {
        /// Keeps it open.
        KeepOpen,
        /// Says `Connection: close` and closes it, as moto does.
        SayCloseAndClose,
        /// Closes it once idle for 50 ms without a word, as an idle timeout does.
        CloseWhenIdle,
        /// Closes it on reading a request, without a reply.
        CloseUnanswered,
    }

    /// An HTTP/1.1 peer on a loopback port answering every request with 200 `ok`; counts the
    /// connections it accepts.
    async fn peer(after: After) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut pending = Vec::new();
                    loop {
                        // One request: its head, then the content-length bytes of its body.
                        let head_end = loop {
                            if let Some(at) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                                break at + 4;
                            }
                            let mut chunk = [0u8; 4096];
                            let read = tokio::select! {
                                read = stream.read(&mut chunk) => read.unwrap_or(0),
                                _ = tokio::time::sleep(Duration::from_millis(50)),
                                    if matches!(after, After::CloseWhenIdle) && pending.is_empty() => 0,
                            };
                            if read == 0 {
                                return;
                            }
                            pending.extend_from_slice(&chunk[..read]);
                        };
                        let head = String::from_utf8_lossy(&pending[..head_end]).to_ascii_lowercase();
                        let length: usize = head
                            .lines()
                            .find_map(|line| line.strip_prefix("content-length:"))
                            .map_or(0, |n| n.trim().parse().unwrap());
                        while pending.len() < head_end + length {
                            let mut chunk = [0u8; 4096];
                            let read = stream.read(&mut chunk).await.unwrap();
                            assert!(read > 0, "the client sent half a request");
                            pending.extend_from_slice(&chunk[..read]);
                        }
                        pending.drain(..head_end + length);
                        match after {
                            After::CloseUnanswered => return,
                            After::SayCloseAndClose => {
                                let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";
                                stream.write_all(reply).await.unwrap();
                                return;
                            }
                            After::KeepOpen | After::CloseWhenIdle => {
                                stream
                                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                                    .await
                                    .unwrap();
                            }
                        }
                    }
                });
            }
        });
        (url, accepted)
    }

    /// `requests` GetUser calls on one client's connection, `pause` apart, each given 5 s.
    async fn calls(url: &str, requests: usize, pause: Duration) -> Vec<Result<String, String>> {
        let endpoint = Endpoint::new(url, "us-east-1").unwrap();
        let mut connection = endpoint.connection();
        let key = Key::new("AKIAIOSFODNN7EXAMPLE", "secret");
        let mut results = Vec::new();
        for _ in 0..requests {
            let call = connection.query(&key, "iam", "GetUser", &[]);
            let result = match tokio::time::timeout(Duration::from_secs(5), call).await {
                Err(_) => Err("hung".to_owned()),
                Ok(Err(error)) => Err(error.to_string()),
                Ok(Ok(reply)) => Ok(format!("{} {}", reply.status, reply.text())),
            };
            results.push(result);
            tokio::time::sleep(pause).await;
        }
        results
    }

    fn all_ok(n: usize) -> Vec<Result<String, String>> {
        vec![Ok("200 ok".to_owned()); n]
    }

    #[tokio::test]
    async fn a_kept_connection_carries_every_request() {
        let (url, accepted) = peer(After::KeepOpen).await;
        assert_eq!(calls(&url, 3, Duration::ZERO).await, all_ok(3));
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_reply_that_closes_the_connection_is_kept_and_the_next_request_opens_another() {
        let (url, accepted) = peer(After::SayCloseAndClose).await;
        assert_eq!(calls(&url, 3, Duration::ZERO).await, all_ok(3));
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_connection_closed_while_idle_is_replaced_not_waited_on() {
        let (url, accepted) = peer(After::CloseWhenIdle).await;
        // The peer closes after 50 ms idle; the pause leaves room for a stalled test thread.
        assert_eq!(calls(&url, 3, Duration::from_millis(500)).await, all_ok(3));
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_request_the_server_drops_fails_without_hanging() {
        let (url, _) = peer(After::CloseUnanswered).await;
        let results = calls(&url, 2, Duration::ZERO).await;
        assert!(
            results.iter().all(|r| r.as_ref().is_err_and(|e| e != "hung")),
            "{results:?}"
        );
    }

    #[test]
    fn a_url_without_a_port_connects_to_port_80() {
        let endpoint = Endpoint::new("http://localhost", "us-east-1").unwrap();
        assert_eq!(
            (endpoint.host.as_str(), endpoint.address.as_str()),
            ("localhost", "localhost:80")
        );
        let endpoint = Endpoint::new("http://127.0.0.1:7345", "us-east-1").unwrap();
        assert_eq!(endpoint.address, "127.0.0.1:7345");
    }
}
