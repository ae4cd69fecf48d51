//! Virtual-hosted-style addressing: which bucket, if any, a request's `Host` names.
//!
//! For each of the server's S3 domains (`--s3-domain`, and `localhost` always), a host
//! `BUCKET.DOMAIN` addresses `BUCKET` and the path is the key, as on AWS; the domain
//! itself, an IP address, or any other name is addressed path-style (`/BUCKET/KEY`). The
//! signature is verified over the host as sent, whichever style it is.
//!
//! A virtual-hosted request to a name that is not one of those domains cannot be told
//! apart from a path-style one in general, but at the service root it can: there only
//! ListBuckets exists. Such a request is refused with a clear error
//! ([`BucketHosts::misaddressed`]) instead of being answered as ListBuckets (the AWS SDK
//! for JavaScript would read the bucket list as an empty listing).

use std::borrow::Cow;

use s3s::host::{S3Host, VirtualHost};
use s3s::{S3Error, S3ErrorCode, S3Result};

/// The domain that is always one of the server's: `BUCKET.localhost` resolves to the
/// loopback address on most systems (RFC 6761), so clients that address buckets by host
/// work against a local server with no setting.
pub const ALWAYS: &str = "localhost";

/// A domain given to `--s3-domain` that cannot be one.
#[derive(Debug, thiserror::Error)]
#[error(
    "{0:?} is not a domain name: give labels of letters, digits and hyphens separated by dots, without a port or a scheme"
)]
pub struct BadDomain(pub String);

/// The server's S3 domains.
#[derive(Debug, Clone)]
pub struct BucketHosts {
    /// Lower case, longest first, so that of two nested domains the longer one wins.
    domains: Vec<String>,
}

/// How a request's `Host` addresses S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addressing<'a> {
    /// Path-style: the host is one of the server's domains, an IP address, or a name
    /// that is none of its domains' subdomains.
    Path,
    /// Virtual-hosted-style: the host is `BUCKET.DOMAIN`.
    Bucket(Cow<'a, str>),
}

impl BucketHosts {
    /// [`ALWAYS`] and `domains` (each a DNS name: no port, no scheme, no trailing dot).
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(domains: I) -> Result<Self, BadDomain> {
        let mut all = vec![ALWAYS.to_owned()];
        for domain in domains {
            let domain = domain.as_ref();
            let well_formed = domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
            if !well_formed || domain.len() > 253 {
                return Err(BadDomain(domain.to_owned()));
            }
            let domain = domain.to_ascii_lowercase();
            if !all.contains(&domain) {
                all.push(domain);
            }
        }
        all.sort_by_key(|d| std::cmp::Reverse(d.len()));
        Ok(Self { domains: all })
    }

    /// How `host` (a `Host` header's value, with or without a port) addresses S3.
    pub fn addressing<'a>(&self, host: &'a str) -> Addressing<'a> {
        let name = host_name(host);
        let is_a_domain = self.domains.iter().any(|d| d.eq_ignore_ascii_case(name));
        if is_a_domain || name.parse::<std::net::IpAddr>().is_ok() || name.starts_with('[') {
            return Addressing::Path;
        }
        for domain in &self.domains {
            let Some(bucket) = strip_suffix_ignore_case(name, domain).and_then(|rest| rest.strip_suffix('.')) else {
                continue;
            };
            if bucket.is_empty() {
                break;
            }
            return Addressing::Bucket(if bucket.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(bucket.to_ascii_lowercase())
            } else {
                Cow::Borrowed(bucket)
            });
        }
        Addressing::Path
    }

    /// The error for a request that names no bucket and cannot be ListBuckets, the one
    /// operation on the service root (see the module's comment); `None` if it may go on.
    /// `query` is the raw query string.
    pub fn misaddressed(&self, method: &http::Method, host: Option<&str>, path: &str, query: &str) -> Option<S3Error> {
        let host = host?;
        let name = host_name(host);
        if path != "/" || name.parse::<std::net::IpAddr>().is_ok() || name.starts_with('[') {
            return None;
        }
        if self.addressing(host) != Addressing::Path {
            return None;
        }
        let lists_buckets = *method == http::Method::GET
            && form_urlencoded::parse(query.as_bytes()).all(|(key, _)| is_list_buckets_parameter(&key));
        if lists_buckets {
            return None;
        }
        let mut error = S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            format!(
                "This request names no bucket, and only ListBuckets can. If the bucket is in the host name ({name}), start oxiam with --s3-domain set to the domain under it, or address the bucket path-style (/BUCKET/KEY)."
            ),
        );
        error.set_status_code(http::StatusCode::BAD_REQUEST);
        Some(error)
    }
}

/// ListBuckets' query parameters, and those any request may carry (a presigned URL's
/// signature, the SDKs' `x-id`).
fn is_list_buckets_parameter(key: &str) -> bool {
    const LIST_BUCKETS: &[&str] = &[
        "max-buckets",
        "continuation-token",
        "prefix",
        "bucket-region",
        "x-id",
        "AWSAccessKeyId",
        "Signature",
        "Expires",
    ];
    // Compared as bytes: the key is the client's, and need not split on a character boundary.
    LIST_BUCKETS.contains(&key)
        || key
            .as_bytes()
            .get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"x-amz-"))
}

/// A `Host` value without its port (an IPv6 literal keeps its brackets).
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map_or(host, |(literal, _)| &host[..=literal.len()]);
    }
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    name.strip_suffix('.').unwrap_or(name)
}

fn strip_suffix_ignore_case<'a>(name: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = name.len().checked_sub(suffix.len())?;
    (name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(suffix)).then(|| &name[..cut])
}

impl S3Host for BucketHosts {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        Ok(match self.addressing(host) {
            Addressing::Path => VirtualHost::new(host),
            Addressing::Bucket(bucket) => VirtualHost::new(host).with_bucket(bucket),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> BucketHosts {
        BucketHosts::new(["s3.example.com", "example.com"]).unwrap()
    }

    #[test]
    fn a_subdomain_of_a_domain_is_a_bucket() {
        let h = hosts();
        let bucket = |b: &str| Addressing::Bucket(Cow::Owned(b.to_owned()));
        assert_eq!(h.addressing("photos.localhost:9000"), bucket("photos"));
        assert_eq!(h.addressing("my.dotted.bucket.localhost"), bucket("my.dotted.bucket"));
        assert_eq!(h.addressing("Photos.LOCALHOST:9000"), bucket("photos"));
        assert_eq!(h.addressing("photos.localhost."), bucket("photos"));
        // Of nested domains, the longer one.
        assert_eq!(h.addressing("b.s3.example.com"), bucket("b"));
        assert_eq!(h.addressing("b.example.com"), bucket("b"));
    }

    #[test]
    fn a_domain_an_address_or_another_name_is_path_style() {
        let h = hosts();
        for host in [
            "localhost",
            "localhost:9000",
            "s3.example.com",
            "127.0.0.1",
            "127.0.0.1:9000",
            "[::1]:9000",
            "[::1]",
            "oxiam.internal:9000",
            "notlocalhost",
            "xlocalhost:1",
            ".localhost",
            "",
        ] {
            assert_eq!(h.addressing(host), Addressing::Path, "{host}");
        }
    }

    #[test]
    fn domains_are_dns_names() {
        for bad in ["", "http://x.com", "x.com:9000", "x..com", "-x.com", "x.com.", "a b"] {
            assert!(BucketHosts::new([bad]).is_err(), "{bad}");
        }
        assert!(BucketHosts::new(["S3.Example.com"]).is_ok());
    }

    #[test]
    fn only_list_buckets_is_addressed_to_no_bucket() {
        let h = hosts();
        let get = http::Method::GET;
        let refused = |method: &http::Method, host: &str, path: &str, query: &str| {
            h.misaddressed(method, Some(host), path, query).is_some()
        };
        // A virtual-hosted ListObjectsV2, HeadBucket or DeleteBucket sent to a name that
        // is not one of the domains.
        assert!(refused(&get, "photos.oxiam.internal:9000", "/", "list-type=2&prefix="));
        assert!(refused(&http::Method::HEAD, "photos.oxiam.internal", "/", ""));
        assert!(refused(&http::Method::DELETE, "oxiam.internal", "/", ""));
        assert!(refused(&get, "oxiam.internal", "/", "versioning"));
        // ListBuckets, however it is signed.
        assert!(!refused(&get, "oxiam.internal", "/", ""));
        assert!(!refused(
            &get,
            "oxiam.internal",
            "/",
            "x-id=ListBuckets&max-buckets=10&prefix=a"
        ));
        assert!(!refused(
            &get,
            "localhost:9000",
            "/",
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&x-amz-signature=1"
        ));
        // A bucket in the path or in the host; an address, where only path-style exists.
        assert!(!refused(&get, "oxiam.internal", "/photos", "list-type=2"));
        assert!(!refused(&get, "photos.localhost", "/", "list-type=2"));
        assert!(!refused(&http::Method::HEAD, "127.0.0.1:9000", "/", ""));
        assert!(h.misaddressed(&get, None, "/", "list-type=2").is_none());
        // A parameter that is not text cut at byte 6 is no panic (the check runs before
        // the signature's).
        assert!(refused(&get, "oxiam.internal", "/", "aaaaa%C3%A9"));
        assert!(refused(&get, "oxiam.internal", "/", "%C3%A9%C3%A9%C3%A9"));
    }
}
