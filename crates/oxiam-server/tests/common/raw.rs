//! Requests built and signed by hand (with `aws-sigv4`, the SDK's signer) and sent over a
//! plain TCP connection, for what an SDK would not send: any operation with any members,
//! signed by any key, at any time.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{ROOT_KEY, ROOT_SECRET, TestServer};

pub struct Reply {
    pub status: u16,
    pub body: String,
    /// The status line and headers, as received.
    pub head: String,
}

impl Reply {
    /// A header's value (the name in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    pub fn code(&self) -> &str {
        self.body
            .split("<Code>")
            .nth(1)
            .and_then(|s| s.split("</Code>").next())
            .unwrap_or("")
    }
    pub fn message(&self) -> &str {
        self.body
            .split("<Message>")
            .nth(1)
            .and_then(|s| s.split("</Message>").next())
            .unwrap_or("")
    }
}

/// Sends one HTTP/1.1 request and reads the whole reply (the server closes after it).
pub async fn send(server: &TestServer, method: &str, target: &str, headers: &[(String, String)], body: &str) -> Reply {
    let addr = server.server.as_ref().unwrap().local_addr;
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    exchange(stream, method, target, headers, body).await
}

/// [`send`] over TLS, trusting only the test CA (`tests/fixtures/tls/ca.pem`), to the
/// server named `localhost`.
pub async fn send_tls(
    server: &TestServer,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &str,
) -> Reply {
    use rustls::pki_types::pem::PemObject as _;
    let addr = server.server.as_ref().unwrap().local_addr;
    let ca = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/ca.pem");
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let stream = connector.connect(name, tcp).await.unwrap();
    exchange(stream, method, target, headers, body).await
}

async fn exchange<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut stream: S,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &str,
) -> Reply {
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    // A TLS peer that closes without close_notify is an error to rustls; the reply is
    // whole by then all the same.
    let _ = stream.read_to_end(&mut raw).await;
    let text = String::from_utf8(raw).unwrap();
    let status = text[9..12].parse().unwrap();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .map(|(h, b)| (h.to_owned(), b.to_owned()))
        .unwrap_or_default();
    Reply { status, body, head }
}

/// A form POST signed as the SDK signs it, at `time`, with `location`.
pub fn signed_post(
    host: &str,
    body: &str,
    service: &str,
    key_id: &str,
    secret: &str,
    time: SystemTime,
    location: SignatureLocation,
) -> (String, Vec<(String, String)>) {
    signed_post_in("us-east-1", host, body, service, (key_id, secret), time, location)
}

/// [`signed_post`] for `region` (which the SDK would not let be empty).
pub fn signed_post_in(
    region: &str,
    host: &str,
    body: &str,
    service: &str,
    credentials: (&str, &str),
    time: SystemTime,
    location: SignatureLocation,
) -> (String, Vec<(String, String)>) {
    let form = [(
        "content-type".to_owned(),
        "application/x-www-form-urlencoded".to_owned(),
    )];
    signed_post_with(region, host, ("/", body), service, credentials, time, location, &form)
}

/// A GET of `path` on oxiam's own endpoint (`/_oxiam/…`), signed now for the signing name
/// `oxiam` with `key_id`/`secret`.
pub async fn oxiam_get(server: &TestServer, (key_id, secret): (&str, &str), path: &str) -> Reply {
    let host = server.server.as_ref().unwrap().local_addr.to_string();
    let identity: Identity = Credentials::new(key_id, secret, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("oxiam")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let mut headers = vec![("host".to_owned(), host.clone())];
    let uri = format!("http://{host}{path}");
    let signable = SignableRequest::new(
        "GET",
        &uri,
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(b""),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    headers.extend(instructions.headers().map(|(n, v)| (n.to_owned(), v.to_owned())));
    send(server, "GET", path, &headers, "").await
}

/// An awsJson 1.1 POST of `body` to `target` (`AWSOrganizationsV20161128.ListRoots`), signed
/// now for `service` with `key_id`/`secret`.
pub async fn call_json(server: &TestServer, credentials: (&str, &str), target: &str, body: &str) -> Reply {
    call_json_signing_target(server, credentials, target, body, true).await
}

/// [`call_json`], with `X-Amz-Target` left out of the signature when `sign_target` is false
/// (sent all the same).
pub async fn call_json_signing_target(
    server: &TestServer,
    (key_id, secret): (&str, &str),
    target: &str,
    body: &str,
    sign_target: bool,
) -> Reply {
    let host = server.server.as_ref().unwrap().local_addr.to_string();
    let mut headers = vec![("content-type".to_owned(), "application/x-amz-json-1.1".to_owned())];
    let target_header = ("x-amz-target".to_owned(), target.to_owned());
    if sign_target {
        headers.push(target_header.clone());
    }
    let (uri, mut headers) = signed_post_with(
        "us-east-1",
        &host,
        ("/", body),
        "organizations",
        (key_id, secret),
        SystemTime::now(),
        SignatureLocation::Headers,
        &headers,
    );
    if !sign_target {
        headers.push(target_header);
    }
    send(server, "POST", &uri, &headers, body).await
}

/// A restJson1 POST of `body` to `path` (`/policy/validation`), signed now for
/// `access-analyzer` with `key_id`/`secret`; sent to `sent_to` (another path than the one
/// signed, to replay a signature elsewhere), or to `path`.
pub async fn call_rest_json(
    server: &TestServer,
    credentials: (&str, &str),
    path: &str,
    sent_to: Option<&str>,
    body: &str,
) -> Reply {
    let host = server.server.as_ref().unwrap().local_addr.to_string();
    let json = [("content-type".to_owned(), "application/json".to_owned())];
    let (_, headers) = signed_post_with(
        "us-east-1",
        &host,
        (path, body),
        "access-analyzer",
        credentials,
        SystemTime::now(),
        SignatureLocation::Headers,
        &json,
    );
    send(server, "POST", sent_to.unwrap_or(path), &headers, body).await
}

/// A POST of `body` to `path` with `headers` (signed too), signed as the SDK signs it.
#[expect(clippy::too_many_arguments, reason = "the signature's inputs, each named")]
fn signed_post_with(
    region: &str,
    host: &str,
    (path, body): (&str, &str),
    service: &str,
    (key_id, secret): (&str, &str),
    time: SystemTime,
    location: SignatureLocation,
    extra: &[(String, String)],
) -> (String, Vec<(String, String)>) {
    let identity: Identity = Credentials::new(key_id, secret, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.signature_location = location;
    if location == SignatureLocation::QueryParams {
        settings.expires_in = Some(Duration::from_secs(300));
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let mut headers = vec![("host".to_owned(), host.to_owned())];
    headers.extend(extra.iter().cloned());
    let uri = format!("http://{host}{path}");
    let signable = SignableRequest::new(
        "POST",
        &uri,
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut target = path.to_owned();
    for (i, (name, value)) in instructions.params().iter().enumerate() {
        let encoded: String = url_encode(value);
        target.push_str(&format!("{}{name}={encoded}", if i == 0 { "?" } else { "&" }));
    }
    headers.extend(instructions.headers().map(|(n, v)| (n.to_owned(), v.to_owned())));
    (target, headers)
}

pub fn url_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A form POST signed now with the root key, for `service`.
pub async fn call(server: &TestServer, body: &str, service: &str) -> Reply {
    call_as(server, ROOT_KEY, ROOT_SECRET, body, service).await
}

/// A form POST signed now with `key_id`/`secret`, for `service`.
pub async fn call_as(server: &TestServer, key_id: &str, secret: &str, body: &str, service: &str) -> Reply {
    let host = server.server.as_ref().unwrap().local_addr.to_string();
    let (target, headers) = signed_post(
        &host,
        body,
        service,
        key_id,
        secret,
        SystemTime::now(),
        SignatureLocation::Headers,
    );
    send(server, "POST", &target, &headers, body).await
}

/// An S3 request signed as the SDK for Rust signs one (path-style, the payload's SHA-256 in
/// `x-amz-content-sha256`, no path normalization), at `time`, and sent. `target` is the
/// path and query as they go on the wire.
pub async fn s3_send(
    server: &TestServer,
    credentials: (&str, &str),
    method: &str,
    target: &str,
    extra_headers: &[(String, String)],
    body: &str,
    time: SystemTime,
) -> Reply {
    s3_signed(
        server,
        credentials,
        (method, target),
        extra_headers,
        &[],
        body,
        time,
        false,
    )
    .await
}

/// An S3 request presigned (the signature in the query, valid five minutes, the payload
/// unsigned) at `time`, with `signed_headers` under the signature and `added_headers` sent
/// beside it, as whoever holds the URL could add them.
pub async fn s3_presigned(
    server: &TestServer,
    credentials: (&str, &str),
    (method, target): (&str, &str),
    signed_headers: &[(String, String)],
    added_headers: &[(String, String)],
    body: &str,
    time: SystemTime,
) -> Reply {
    s3_signed(
        server,
        credentials,
        (method, target),
        signed_headers,
        added_headers,
        body,
        time,
        true,
    )
    .await
}

#[expect(clippy::too_many_arguments, reason = "a test helper behind the two above")]
async fn s3_signed(
    server: &TestServer,
    credentials: (&str, &str),
    (method, target): (&str, &str),
    extra_headers: &[(String, String)],
    added_headers: &[(String, String)],
    body: &str,
    time: SystemTime,
    presigned: bool,
) -> Reply {
    let host = server.server.as_ref().unwrap().local_addr.to_string();
    let signing = S3Signing {
        host: &host,
        region: "us-east-1",
        credentials,
        time,
        presigned,
    };
    let (target, headers) = signing.sign((method, target), extra_headers, added_headers, body);
    send(server, method, &target, &headers, body).await
}

/// The path and query, and the headers, of an S3 request with `body` signed in its headers
/// as the SDK signs one, at `time`: for sending some other way ([`send_tls`], or a head
/// written by hand).
pub fn s3_signed_parts(
    server: &TestServer,
    credentials: (&str, &str),
    (method, target): (&str, &str),
    extra_headers: &[(String, String)],
    body: &str,
    time: SystemTime,
) -> (String, Vec<(String, String)>) {
    s3_signed_parts_in(
        "us-east-1",
        server,
        credentials,
        (method, target),
        body,
        time,
        extra_headers,
    )
}

/// [`s3_signed_parts`] for `region` (which the SDK would not let be empty).
pub fn s3_signed_parts_in(
    region: &str,
    server: &TestServer,
    credentials: (&str, &str),
    (method, target): (&str, &str),
    body: &str,
    time: SystemTime,
    extra_headers: &[(String, String)],
) -> (String, Vec<(String, String)>) {
    let host = server.server.as_ref().unwrap().local_addr.to_string();
    let signing = S3Signing {
        host: &host,
        region,
        credentials,
        time,
        presigned: false,
    };
    signing.sign((method, target), extra_headers, &[], body)
}

/// Who signs an S3 request, when, for which host and region, and where the signature goes.
struct S3Signing<'a> {
    host: &'a str,
    region: &'a str,
    credentials: (&'a str, &'a str),
    time: SystemTime,
    presigned: bool,
}

impl S3Signing<'_> {
    fn sign(
        &self,
        (method, target): (&str, &str),
        extra_headers: &[(String, String)],
        added_headers: &[(String, String)],
        body: &str,
    ) -> (String, Vec<(String, String)>) {
        let (key_id, secret) = self.credentials;
        let (host, time, presigned) = (self.host.to_owned(), self.time, self.presigned);
        use aws_sigv4::http_request::{PayloadChecksumKind, PercentEncodingMode, UriPathNormalizationMode};
        let identity: Identity = Credentials::new(key_id, secret, None, None, "test").into();
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        if presigned {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(Duration::from_secs(300));
            settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
        }
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name("s3")
            .time(time)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        // A request may say its payload is unsigned; the signer then writes that header itself.
        let unsigned = extra_headers
            .iter()
            .any(|(n, v)| n == "x-amz-content-sha256" && v == "UNSIGNED-PAYLOAD");
        let mut headers = vec![("host".to_owned(), host.clone())];
        headers.extend(
            extra_headers
                .iter()
                .filter(|(n, _)| n != "x-amz-content-sha256")
                .cloned(),
        );
        let uri = format!("http://{host}{target}");
        let payload = if unsigned || presigned {
            SignableBody::UnsignedPayload
        } else {
            SignableBody::Bytes(body.as_bytes())
        };
        let signable = SignableRequest::new(
            method,
            &uri,
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            payload,
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        headers.extend(instructions.headers().map(|(n, v)| (n.to_owned(), v.to_owned())));
        headers.extend(added_headers.iter().cloned());
        let mut target = target.to_owned();
        for (name, value) in instructions.params() {
            let sep = if target.contains('?') { '&' } else { '?' };
            target.push_str(&format!("{sep}{name}={}", url_encode(value)));
        }
        (target, headers)
    }
}
