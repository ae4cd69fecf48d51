//! Tokens oxiam issues (STS GetWebIdentityToken): an account's two signing keys, the key
//! set that publishes them, and tokens signed with either. The keys and their ids are
//! those AWS's issuers publish: an RSA 2048 key `RSA_0` for RS256 and a P-384 key
//! `EC384_0` for ES384.

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The algorithms a token can be signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256, by the RSA key.
    Rs256,
    /// ECDSA on P-384 with SHA-384, by the EC key.
    Es384,
}

impl SigningAlgorithm {
    /// Every algorithm, as a discovery document lists them.
    pub const ALL: [SigningAlgorithm; 2] = [SigningAlgorithm::Rs256, SigningAlgorithm::Es384];

    /// The algorithm named `name` exactly (`RS256`, `ES384`).
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Its JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            SigningAlgorithm::Rs256 => "RS256",
            SigningAlgorithm::Es384 => "ES384",
        }
    }

    /// The id of the key that signs with it.
    pub fn key_id(self) -> &'static str {
        match self {
            SigningAlgorithm::Rs256 => "RSA_0",
            SigningAlgorithm::Es384 => "EC384_0",
        }
    }
}

/// A signing key could not be made, read or used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError(&'static str);

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "issuer signing key: {}", self.0)
    }
}

impl std::error::Error for KeyError {}

/// An issuer's signing keys: one RSA, one P-384.
pub struct SigningKeys {
    rsa: RsaKeyPair,
    ec: EcdsaKeyPair,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKeys { .. }")
    }
}

impl SigningKeys {
    /// New keys, from the operating system's random source.
    pub fn generate() -> Result<Self, KeyError> {
        Ok(SigningKeys {
            rsa: RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError("RSA key generation failed"))?,
            ec: EcdsaKeyPair::generate(&signature::ECDSA_P384_SHA384_FIXED_SIGNING)
                .map_err(|_| KeyError("EC key generation failed"))?,
        })
    }

    /// Keys as [`SigningKeys::to_pkcs8`] wrote them.
    pub fn from_pkcs8(rsa: &[u8], ec: &[u8]) -> Result<Self, KeyError> {
        Ok(SigningKeys {
            rsa: RsaKeyPair::from_pkcs8(rsa).map_err(|_| KeyError("not an RSA PKCS#8 key"))?,
            ec: EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P384_SHA384_FIXED_SIGNING, ec)
                .map_err(|_| KeyError("not a P-384 PKCS#8 key"))?,
        })
    }

    /// The private keys, PKCS#8 DER: RSA, then EC.
    pub fn to_pkcs8(&self) -> Result<(Vec<u8>, Vec<u8>), KeyError> {
        let rsa = self
            .rsa
            .as_der()
            .map_err(|_| KeyError("the RSA key cannot be written"))?;
        let ec = self
            .ec
            .to_pkcs8v1()
            .map_err(|_| KeyError("the EC key cannot be written"))?;
        Ok((rsa.as_ref().to_vec(), ec.as_ref().to_vec()))
    }

    /// The public keys as a JSON Web Key Set.
    pub fn key_set(&self) -> Result<Value, KeyError> {
        let (n, e) = rsa_public_numbers(self.rsa.public_key().as_ref())?;
        let point = self.ec.public_key().as_ref();
        let (x, y) = match point {
            [4, coordinates @ ..] if coordinates.len() == 96 => coordinates.split_at(48),
            _ => return Err(KeyError("the EC public key is not an uncompressed P-384 point")),
        };
        Ok(json!({"keys": [
            {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": SigningAlgorithm::Rs256.key_id(),
             "n": URL_SAFE_NO_PAD.encode(n), "e": URL_SAFE_NO_PAD.encode(e)},
            {"kty": "EC", "alg": "ES384", "crv": "P-384", "use": "sig", "kid": SigningAlgorithm::Es384.key_id(),
             "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y)},
        ]}))
    }

    /// A token of `claims`, signed with `algorithm` (JWS compact form; the header names
    /// the algorithm, the key and the type `JWT`).
    pub fn sign(&self, algorithm: SigningAlgorithm, claims: &Value) -> Result<String, KeyError> {
        let header = json!({"kid": algorithm.key_id(), "typ": "JWT", "alg": algorithm.name()});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = match algorithm {
            SigningAlgorithm::Rs256 => {
                let mut signature = vec![0; self.rsa.public_modulus_len()];
                self.rsa
                    .sign(
                        &signature::RSA_PKCS1_SHA256,
                        &SystemRandom::new(),
                        input.as_bytes(),
                        &mut signature,
                    )
                    .map_err(|_| KeyError("RSA signing failed"))?;
                signature
            }
            SigningAlgorithm::Es384 => self
                .ec
                .sign(&SystemRandom::new(), input.as_bytes())
                .map_err(|_| KeyError("EC signing failed"))?
                .as_ref()
                .to_vec(),
        };
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// The modulus and exponent of an RSA public key in RFC 8017's DER (`SEQUENCE { INTEGER n,
/// INTEGER e }`), big-endian, without the sign byte.
fn rsa_public_numbers(der: &[u8]) -> Result<(&[u8], &[u8]), KeyError> {
    let malformed = KeyError("the RSA public key is not RFC 8017 DER");
    let (sequence, rest) = der_element(der, 0x30).ok_or(malformed.clone())?;
    if !rest.is_empty() {
        return Err(malformed);
    }
    let (n, rest) = der_element(sequence, 0x02).ok_or(malformed.clone())?;
    let (e, rest) = der_element(rest, 0x02).ok_or(malformed.clone())?;
    if !rest.is_empty() {
        return Err(malformed);
    }
    Ok((unsigned(n), unsigned(e)))
}

/// A DER INTEGER's bytes without the sign byte a set top bit calls for.
fn unsigned(int: &[u8]) -> &[u8] {
    match int {
        [0, rest @ ..] if !rest.is_empty() => rest,
        _ => int,
    }
}

/// One DER element of tag `tag` at the start of `input`: its contents and what follows.
fn der_element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, rest) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, rest) = rest.split_at(count);
        (bytes.iter().fold(0usize, |len, b| (len << 8) | usize::from(*b)), rest)
    };
    (rest.len() >= len).then(|| rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::UnparsedPublicKey;

    fn keys() -> SigningKeys {
        SigningKeys::generate().unwrap()
    }

    #[test]
    fn an_rs256_token_verifies_with_the_published_key_set() {
        let keys = keys();
        let claims = json!({"iss": "https://issuer.example", "aud": "x", "exp": 2});
        let token = keys.sign(SigningAlgorithm::Rs256, &claims).unwrap();
        let decoded = crate::decode(&token).unwrap();
        assert_eq!(decoded.key_id.as_deref(), Some("RSA_0"));
        let published = crate::parse_key_set(keys.key_set().unwrap().to_string().as_bytes()).unwrap();
        decoded.verify(&published).unwrap();
        // Another issuer's keys do not verify it.
        let foreign = crate::parse_key_set(self::keys().key_set().unwrap().to_string().as_bytes()).unwrap();
        assert_eq!(decoded.verify(&foreign), Err(crate::Error::BadSignature));
    }

    #[test]
    fn an_es384_token_verifies_with_the_published_point() {
        let keys = keys();
        let token = keys.sign(SigningAlgorithm::Es384, &json!({"sub": "s"})).unwrap();
        let (input, signature) = token.rsplit_once('.').unwrap();
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(input.split('.').next().unwrap()).unwrap()).unwrap();
        assert_eq!(header, json!({"kid": "EC384_0", "typ": "JWT", "alg": "ES384"}));
        let set = keys.key_set().unwrap();
        let jwk = &set["keys"][1];
        let coordinate = |name: &str| URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap()).unwrap();
        let point = [vec![4], coordinate("x"), coordinate("y")].concat();
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        assert_eq!(signature.len(), 96);
        UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, &point)
            .verify(input.as_bytes(), &signature)
            .unwrap();
    }

    #[test]
    fn keys_written_and_read_back_sign_alike() {
        let keys = keys();
        let (rsa, ec) = keys.to_pkcs8().unwrap();
        let read = SigningKeys::from_pkcs8(&rsa, &ec).unwrap();
        assert_eq!(read.key_set().unwrap(), keys.key_set().unwrap());
        assert!(SigningKeys::from_pkcs8(&ec, &rsa).is_err());
    }

    #[test]
    fn the_rsa_key_is_2048_bits_with_exponent_65537() {
        let set = keys().key_set().unwrap();
        let n = URL_SAFE_NO_PAD.decode(set["keys"][0]["n"].as_str().unwrap()).unwrap();
        assert_eq!(n.len(), 256);
        assert_eq!(set["keys"][0]["e"], "AQAB");
    }

    #[test]
    fn malformed_der_is_refused_not_misread() {
        assert!(rsa_public_numbers(&[]).is_err());
        assert!(rsa_public_numbers(&[0x30, 0x03, 0x02, 0x01]).is_err());
        assert!(rsa_public_numbers(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert_eq!(
            rsa_public_numbers(&[0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x03]).unwrap(),
            (&[5u8][..], &[3u8][..])
        );
    }
}
