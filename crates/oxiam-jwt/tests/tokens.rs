//! Tokens minted here with freshly generated keys (RS256 and ES256), checked against key
//! sets written as issuers publish them; and every way a token can be altered, refused.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oxiam_jwt::{Algorithm, Error, decode, parse_key_set};
use proptest::prelude::*;
use serde_json::json;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

struct Issuer {
    rsa: RsaKeyPair,
    ec: EcdsaKeyPair,
}

impl Issuer {
    fn new() -> Self {
        Issuer {
            rsa: RsaKeyPair::generate(KeySize::Rsa2048).unwrap(),
            ec: EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap(),
        }
    }

    fn key_set(&self) -> String {
        let (n, e) = rsa_components(self.rsa.public_key().as_ref());
        let point = self.ec.public_key().as_ref();
        json!({"keys": [
            {"kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256", "n": b64(n), "e": b64(e)},
            {"kty": "EC", "kid": "ec-1", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
        ]})
        .to_string()
    }

    fn mint(&self, header: serde_json::Value, claims: serde_json::Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let rng = SystemRandom::new();
        let sig = match header["alg"].as_str() {
            Some("ES256") => self.ec.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec(),
            _ => {
                let mut sig = vec![0; self.rsa.public_modulus_len()];
                self.rsa
                    .sign(&signature::RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut sig)
                    .unwrap();
                sig
            }
        };
        format!("{input}.{}", b64(&sig))
    }
}

/// `n` and `e` of a PKCS#1 RSAPublicKey (`SEQUENCE { INTEGER n, INTEGER e }`), in DER.
fn rsa_components(der: &[u8]) -> (&[u8], &[u8]) {
    fn tlv(input: &[u8], tag: u8) -> (&[u8], &[u8]) {
        assert_eq!(input[0], tag);
        let (len, header) = if input[1] < 0x80 {
            (usize::from(input[1]), 2)
        } else {
            let k = usize::from(input[1] & 0x7f);
            (input[2..2 + k].iter().fold(0, |a, b| a << 8 | usize::from(*b)), 2 + k)
        };
        (&input[header..header + len], &input[header + len..])
    }
    let (body, _) = tlv(der, 0x30);
    let (n, rest) = tlv(body, 0x02);
    let (e, _) = tlv(rest, 0x02);
    let trim = |i: &[u8]| -> usize { i.iter().take_while(|b| **b == 0).count() };
    (&n[trim(n)..], &e[trim(e)..])
}

fn claims() -> serde_json::Value {
    json!({"iss": "https://idp.example.com", "sub": "repo:o/r", "aud": ["sts.amazonaws.com", "other"],
           "exp": 2_000_000_000, "iat": 1_700_000_000.5, "nbf": 1_700_000_000, "amr": "pwd"})
}

#[test]
fn tokens_of_both_algorithms_verify_and_say_what_they_claim() {
    let issuer = Issuer::new();
    let keys = parse_key_set(issuer.key_set().as_bytes()).unwrap();
    assert_eq!(keys.len(), 2, "the HMAC and encryption keys are left out");
    for (alg, kid) in [
        ("RS256", Some("rsa-1")),
        ("ES256", Some("ec-1")),
        ("RS256", None),
        ("ES256", None),
    ] {
        let mut header = json!({"alg": alg, "typ": "JWT"});
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        let token = decode(&issuer.mint(header, claims())).unwrap();
        token.verify(&keys).unwrap_or_else(|e| panic!("{alg} {kid:?}: {e}"));
        let want = if alg == "RS256" {
            Algorithm::Rs256
        } else {
            Algorithm::Es256
        };
        assert_eq!(token.algorithm, want);
        assert_eq!(token.claims.issuer, "https://idp.example.com");
        assert_eq!(token.claims.subject.as_deref(), Some("repo:o/r"));
        assert_eq!(token.claims.audiences, ["sts.amazonaws.com", "other"]);
        assert_eq!(token.claims.expires_at, Some(2_000_000_000));
        assert_eq!(token.claims.issued_at, Some(1_700_000_000));
        assert_eq!(token.claims.amr, ["pwd"]);
    }
}

#[test]
fn altered_or_foreign_tokens_are_refused() {
    let issuer = Issuer::new();
    let keys = parse_key_set(issuer.key_set().as_bytes()).unwrap();
    let good = issuer.mint(json!({"alg": "RS256", "kid": "rsa-1"}), claims());
    let parts: Vec<&str> = good.split('.').collect();

    // Another payload under the same signature.
    let mut forged_claims = claims();
    forged_claims["sub"] = json!("repo:attacker/r");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(forged_claims.to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(decode(&forged).unwrap().verify(&keys), Err(Error::BadSignature));

    // The same token signed by another issuer's key with the same kid.
    let stranger = Issuer::new().mint(json!({"alg": "RS256", "kid": "rsa-1"}), claims());
    assert_eq!(decode(&stranger).unwrap().verify(&keys), Err(Error::BadSignature));

    // A kid the issuer does not publish (rotated): no key, so the caller may refetch.
    let rotated = issuer.mint(json!({"alg": "RS256", "kid": "rsa-2"}), claims());
    assert_eq!(decode(&rotated).unwrap().verify(&keys), Err(Error::NoKey));

    // An RSA kid on an ES256 token: the key is of the wrong kind.
    let crossed = issuer.mint(json!({"alg": "ES256", "kid": "rsa-1"}), claims());
    assert_eq!(decode(&crossed).unwrap().verify(&keys), Err(Error::NoKey));

    // Algorithms other than RS256/ES256, "none" and HMAC included, are refused outright.
    for alg in ["none", "HS256", "RS512", "PS256", "ES384"] {
        let header = b64(json!({"alg": alg, "kid": "hmac"}).to_string().as_bytes());
        let token = format!("{header}.{}.{}", parts[1], parts[2]);
        assert_eq!(decode(&token), Err(Error::UnsupportedAlgorithm(alg.to_owned())));
    }
    let unsigned = format!("{}.{}.", b64(br#"{"alg":"none"}"#), parts[1]);
    assert!(decode(&unsigned).is_err());

    // Critical header extensions, a missing issuer, bad shapes.
    let crit = issuer.mint(json!({"alg": "RS256", "kid": "rsa-1", "crit": ["x"]}), claims());
    assert!(matches!(decode(&crit), Err(Error::Malformed(_))));
    let no_iss = issuer.mint(json!({"alg": "RS256"}), json!({"sub": "s"}));
    assert!(matches!(decode(&no_iss), Err(Error::Malformed(_))));
    for bad in ["", "a.b", "a.b.c.d", "!!.!!.!!", &format!("{}.{}", parts[0], parts[1])] {
        assert!(matches!(decode(bad), Err(Error::Malformed(_))), "{bad}");
    }
    let bad_aud = issuer.mint(json!({"alg": "RS256"}), json!({"iss": "i", "aud": [1]}));
    assert!(matches!(decode(&bad_aud), Err(Error::Malformed(_))));
}

#[test]
fn key_sets_must_be_objects_with_keys() {
    assert!(parse_key_set(b"[]").is_err());
    assert!(parse_key_set(b"{}").is_err());
    assert!(parse_key_set(b"not json").is_err());
    assert_eq!(
        parse_key_set(br#"{"keys":[1,"x",{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}"#).unwrap(),
        []
    );
}

proptest! {
    /// Whatever the text, decoding answers (never panics), and a token changed in any one
    /// byte does not verify.
    #[test]
    fn decoding_never_panics(text in ".{0,300}") {
        let _ = decode(&text);
        let _ = parse_key_set(text.as_bytes());
    }

    #[test]
    fn no_single_byte_change_verifies(position in 0usize..400, byte in any::<u8>()) {
        let issuer = ISSUER.with(|i| (i.key_set(), i.mint(json!({"alg": "ES256", "kid": "ec-1"}), claims())));
        let (set, token) = issuer;
        let keys = parse_key_set(set.as_bytes()).unwrap();
        let mut bytes = token.into_bytes();
        let at = position % bytes.len();
        prop_assume!(bytes[at] != byte);
        bytes[at] = byte;
        if let Ok(text) = String::from_utf8(bytes)
            && let Ok(changed) = decode(&text)
        {
            prop_assert!(changed.verify(&keys).is_err(), "{text}");
        }
    }
}

thread_local! {
    static ISSUER: Issuer = Issuer::new();
}
