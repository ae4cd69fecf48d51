//! Web identity tokens: an OpenID Connect ID token (a JWT in JWS compact form) decoded and its
//! signature checked against the keys an issuer publishes (a JWKS). Pure: the caller fetches
//! the keys and decides what the claims must say (issuer, audience, times).
//!
//! Only the two algorithms AWS documents for AssumeRoleWithWebIdentity's providers are
//! accepted, RS256 and ES256; anything else, `none` and the HMAC family included, is refused
//! before a key is looked at, so a token cannot choose a weaker check than the key's own.

pub mod issuing;

use aws_lc_rs::signature::{self, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// A token's signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// ECDSA on P-256 with SHA-256.
    Es256,
}

/// What a token claims (the registered claims AWS reads).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Claims {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: Option<String>,
    /// `aud`: one audience or several.
    pub audiences: Vec<String>,
    /// `azp`, the party the token was issued to.
    pub authorized_party: Option<String>,
    /// `exp`, in seconds since the epoch.
    pub expires_at: Option<i64>,
    /// `nbf`.
    pub not_before: Option<i64>,
    /// `iat`.
    pub issued_at: Option<i64>,
    /// `amr`: how the subject authenticated.
    pub amr: Vec<String>,
    /// `https://aws.amazon.com/tags`: the session tags the issuer passes, each key with its
    /// values as given (AWS takes exactly one), and the keys it marks transitive.
    pub session_tags: Option<SessionTagsClaim>,
    /// `https://aws.amazon.com/source_identity`: the source identity the issuer sets for
    /// the role session (IAM User Guide, "Using source identity with
    /// AssumeRoleWithWebIdentity").
    pub source_identity: Option<String>,
    /// Every claim, as the payload has it (for a context provider's claims).
    pub all: Map<String, Value>,
}

/// The session tags a token passes (IAM User Guide, "Passing session tags using
/// AssumeRoleWithWebIdentity").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionTagsClaim {
    /// `principal_tags`: key → values, by key.
    pub principal_tags: Vec<(String, Vec<String>)>,
    /// `transitive_tag_keys`.
    pub transitive_tag_keys: Vec<String>,
}

/// The name of the claim that carries session tags.
const TAGS_CLAIM: &str = "https://aws.amazon.com/tags";

/// The name of the claim that carries a source identity.
const SOURCE_IDENTITY_CLAIM: &str = "https://aws.amazon.com/source_identity";

fn session_tags(claims: &Map<String, Value>) -> Result<Option<SessionTagsClaim>, Error> {
    let Some(value) = claims.get(TAGS_CLAIM) else {
        return Ok(None);
    };
    let Value::Object(tags) = value else {
        return Err(Error::Malformed("the tags claim is not an object"));
    };
    let principal_tags = match tags.get("principal_tags") {
        None => Vec::new(),
        Some(Value::Object(map)) => map
            .keys()
            .map(|key| Ok((key.clone(), strings(map, key)?)))
            .collect::<Result<Vec<_>, Error>>()?,
        Some(_) => return Err(Error::Malformed("principal_tags is not an object")),
    };
    Ok(Some(SessionTagsClaim {
        principal_tags,
        transitive_tag_keys: strings(tags, "transitive_tag_keys")?,
    }))
}

/// A decoded token, its signature not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The algorithm the header names.
    pub algorithm: Algorithm,
    /// The header's `kid`.
    pub key_id: Option<String>,
    /// The payload's claims.
    pub claims: Claims,
    /// `BASE64URL(header) . BASE64URL(payload)`: what was signed.
    signing_input: String,
    signature: Vec<u8>,
}

/// A public key of an issuer's key set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// `kid`.
    pub key_id: Option<String>,
    material: Material,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Material {
    /// Modulus and exponent, big-endian.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// The uncompressed point `04 || x || y`.
    P256 { point: Vec<u8> },
}

/// Why a token or a key set was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Not a well-formed token or key set; says what is wrong.
    Malformed(&'static str),
    /// The header names an algorithm other than RS256 and ES256.
    UnsupportedAlgorithm(String),
    /// No key of the set can check the token (no key with its `kid`, or none of its kind):
    /// the issuer may have rotated its keys.
    NoKey,
    /// A key was found, and the signature does not verify with it.
    BadSignature,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Malformed(what) => write!(f, "malformed: {what}"),
            Error::UnsupportedAlgorithm(alg) => write!(f, "unsupported algorithm {alg}"),
            Error::NoKey => f.write_str("no key of the issuer matches the token"),
            Error::BadSignature => f.write_str("the signature does not verify"),
        }
    }
}

impl std::error::Error for Error {}

fn base64url(part: &str, what: &'static str) -> Result<Vec<u8>, Error> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| Error::Malformed(what))
}

fn json_object(bytes: &[u8], what: &'static str) -> Result<Map<String, Value>, Error> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Error::Malformed(what)),
    }
}

/// A NumericDate: seconds since the epoch, fractions dropped.
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, Error> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite() && f.abs() < 1e15).map(|f| f as i64))
            .map(Some)
            .ok_or(Error::Malformed("a time claim is out of range")),
        Some(_) => Err(Error::Malformed("a time claim is not a number")),
    }
}

/// A claim that is one string or an array of strings.
fn strings(claims: &Map<String, Value>, name: &str) -> Result<Vec<String>, Error> {
    match claims.get(name) {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or(Error::Malformed("a list claim holds something other than strings")),
        Some(_) => Err(Error::Malformed("a list claim is neither a string nor a list")),
    }
}

fn string(map: &Map<String, Value>, name: &str) -> Result<Option<String>, Error> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::Malformed("a claim that must be a string is not")),
    }
}

/// Decodes a token (`header.payload.signature`) without checking its signature.
pub fn decode(token: &str) -> Result<Token, Error> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::Malformed("a token has three dot-separated parts"));
    };
    let header_map = json_object(
        &base64url(header, "the header is not base64url")?,
        "the header is not a JSON object",
    )?;
    let algorithm = match header_map.get("alg").and_then(Value::as_str) {
        Some("RS256") => Algorithm::Rs256,
        Some("ES256") => Algorithm::Es256,
        Some(other) => return Err(Error::UnsupportedAlgorithm(other.to_owned())),
        None => return Err(Error::Malformed("the header names no algorithm")),
    };
    if header_map.contains_key("crit") {
        // Extensions the signer says must be understood: oxiam understands none.
        return Err(Error::Malformed("the header has critical extensions"));
    }
    let claims = json_object(
        &base64url(payload, "the payload is not base64url")?,
        "the payload is not a JSON object",
    )?;
    let issuer = string(&claims, "iss")?.ok_or(Error::Malformed("the token has no issuer"))?;
    Ok(Token {
        algorithm,
        key_id: string(&header_map, "kid")?,
        claims: Claims {
            issuer,
            subject: string(&claims, "sub")?,
            audiences: strings(&claims, "aud")?,
            authorized_party: string(&claims, "azp")?,
            expires_at: numeric_date(&claims, "exp")?,
            not_before: numeric_date(&claims, "nbf")?,
            issued_at: numeric_date(&claims, "iat")?,
            amr: strings(&claims, "amr")?,
            session_tags: session_tags(&claims)?,
            source_identity: string(&claims, SOURCE_IDENTITY_CLAIM)?,
            all: claims,
        },
        signing_input: format!("{header}.{payload}"),
        signature: base64url(signature, "the signature is not base64url")?,
    })
}

/// The keys of a JSON Web Key Set that can check RS256 or ES256 signatures; keys of other
/// kinds, curves or uses are left out.
pub fn parse_key_set(json: &[u8]) -> Result<Vec<Key>, Error> {
    let set = json_object(json, "the key set is not a JSON object")?;
    let Some(Value::Array(keys)) = set.get("keys") else {
        return Err(Error::Malformed("the key set has no keys array"));
    };
    let mut usable = Vec::new();
    for key in keys {
        let Value::Object(key) = key else { continue };
        if key.get("use").and_then(Value::as_str).is_some_and(|u| u != "sig") {
            continue;
        }
        let field = |name: &str| {
            key.get(name)
                .and_then(Value::as_str)
                .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
        };
        let material = match (
            key.get("kty").and_then(Value::as_str),
            key.get("crv").and_then(Value::as_str),
        ) {
            (Some("RSA"), _) => match (field("n"), field("e")) {
                (Some(n), Some(e)) => Material::Rsa {
                    n: strip_leading_zeros(n),
                    e: strip_leading_zeros(e),
                },
                _ => continue,
            },
            (Some("EC"), Some("P-256")) => match (field("x"), field("y")) {
                (Some(x), Some(y)) if x.len() == 32 && y.len() == 32 => {
                    let mut point = Vec::with_capacity(65);
                    point.push(4);
                    point.extend_from_slice(&x);
                    point.extend_from_slice(&y);
                    Material::P256 { point }
                }
                _ => continue,
            },
            _ => continue,
        };
        usable.push(Key {
            key_id: key.get("kid").and_then(Value::as_str).map(str::to_owned),
            material,
        });
    }
    Ok(usable)
}

/// JWK integers are big-endian without leading zeros, but some issuers pad them.
fn strip_leading_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    bytes.drain(..zeros.min(bytes.len().saturating_sub(1)));
    bytes
}

impl Token {
    /// Checks the signature with the issuer's keys: the key with the token's `kid`, or,
    /// for a token without one, each key of the token's kind until one verifies.
    pub fn verify(&self, keys: &[Key]) -> Result<(), Error> {
        let candidates: Vec<&Key> = keys
            .iter()
            .filter(|k| match (&self.key_id, &k.key_id) {
                (Some(wanted), Some(id)) => wanted == id,
                (Some(_), None) => false,
                (None, _) => true,
            })
            .filter(|k| {
                matches!(
                    (self.algorithm, &k.material),
                    (Algorithm::Rs256, Material::Rsa { .. }) | (Algorithm::Es256, Material::P256 { .. })
                )
            })
            .collect();
        if candidates.is_empty() {
            return Err(Error::NoKey);
        }
        let message = self.signing_input.as_bytes();
        let verified = candidates.iter().any(|key| match &key.material {
            Material::Rsa { n, e } => signature::RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, &self.signature)
                .is_ok(),
            Material::P256 { point } => UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(message, &self.signature)
                .is_ok(),
        });
        if verified { Ok(()) } else { Err(Error::BadSignature) }
    }
}
