//! SSH public keys against fixtures made by independent tools: OpenSSH's `ssh-keygen`
//! (keys, `-l -E md5` fingerprints, `-e -m PKCS8` and `-e -m PEM` exports) and Python's
//! `cryptography` (an Ed25519 key in both encodings). See `fixtures/ssh/`.

use oxiam_core::ssh_keys::{KeyError, PublicKey};
use proptest::prelude::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/ssh/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `ssh-keygen -l -E md5`'s fingerprint of a fixture key.
fn openssh_fingerprint(key: &str) -> String {
    let listed = fixture("fingerprints.txt");
    let line = listed
        .lines()
        .find(|l| l.split(' ').next() == Some(key))
        .expect("listed");
    line.split(' ').nth(1).expect("a fingerprint").to_owned()
}

#[test]
fn one_line_keys_give_openssh_fingerprints() {
    for name in ["rsa2048", "rsa4096", "ed25519"] {
        let key = PublicKey::parse(&fixture(&format!("{name}.pub"))).expect(name);
        assert_eq!(key.fingerprint(), openssh_fingerprint(name), "{name}");
    }
}

#[test]
fn the_one_line_form_comes_back_without_its_comment() {
    for name in ["rsa2048", "ed25519"] {
        let body = fixture(&format!("{name}.pub"));
        let key = PublicKey::parse(&body).expect(name);
        let without_comment: Vec<&str> = body.split_whitespace().take(2).collect();
        assert_eq!(key.openssh(), without_comment.join(" "));
    }
}

#[test]
fn pem_is_what_ssh_keygen_and_cryptography_export() {
    for (one_line, pem) in [
        ("rsa2048.pub", "rsa2048.pkcs8.pem"),
        ("rsa4096.pub", "rsa4096.pkcs8.pem"),
        ("ed25519.pub", "ed25519.pem"),
    ] {
        let key = PublicKey::parse(&fixture(one_line)).expect(one_line);
        assert_eq!(key.pem().trim(), fixture(pem).trim(), "{one_line}");
    }
}

#[test]
fn pem_bodies_are_the_same_keys() {
    for (pem, one_line) in [
        ("rsa2048.pkcs8.pem", "rsa2048.pub"),
        ("rsa2048.pkcs1.pem", "rsa2048.pub"),
        ("rsa4096.pkcs8.pem", "rsa4096.pub"),
        ("ed25519.pem", "ed25519.pub"),
    ] {
        let from_pem = PublicKey::parse(&fixture(pem)).expect(pem);
        assert_eq!(from_pem, PublicKey::parse(&fixture(one_line)).expect(one_line), "{pem}");
    }
}

#[test]
fn short_rsa_keys_and_other_algorithms_are_invalid() {
    assert_eq!(PublicKey::parse(&fixture("rsa1024.pub")), Err(KeyError::Invalid));
    assert_eq!(PublicKey::parse(&fixture("ecdsa.pub")), Err(KeyError::Invalid));
}

#[test]
fn what_is_no_key_encoding_is_unrecognized() {
    for body in [
        "",
        "hello",
        "ssh-rsa",
        "ssh-rsa not*base64",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
        "-----BEGIN PUBLIC KEY-----\nMCow\n",
    ] {
        assert_eq!(PublicKey::parse(body), Err(KeyError::Unrecognized), "{body:?}");
    }
}

#[test]
fn a_blob_naming_another_algorithm_than_its_line_is_invalid() {
    let ed25519 = fixture("ed25519.pub");
    let blob = ed25519.split_whitespace().nth(1).expect("a blob");
    assert_eq!(PublicKey::parse(&format!("ssh-rsa {blob}")), Err(KeyError::Invalid));
}

#[test]
fn truncated_or_padded_keys_are_invalid() {
    let body = fixture("rsa2048.pub");
    let blob = body.split_whitespace().nth(1).expect("a blob");
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let bytes = engine.decode(blob).expect("base64");
    let truncated = engine.encode(&bytes[..bytes.len() - 1]);
    assert_eq!(
        PublicKey::parse(&format!("ssh-rsa {truncated}")),
        Err(KeyError::Invalid)
    );
    let padded = engine.encode([&bytes[..], &[0]].concat());
    assert_eq!(PublicKey::parse(&format!("ssh-rsa {padded}")), Err(KeyError::Invalid));
}

#[test]
fn an_rsa_exponent_must_be_below_the_modulus() {
    // The fixture's own modulus as its exponent too (odd, as long as the modulus).
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let body = fixture("rsa2048.pub");
    let blob = engine
        .decode(body.split_whitespace().nth(1).expect("a blob"))
        .expect("base64");
    let field = |at: usize| {
        let length = u32::from_be_bytes(blob[at..at + 4].try_into().unwrap()) as usize;
        (&blob[at + 4..at + 4 + length], at + 4 + length)
    };
    let (name, next) = field(0);
    let (_, next) = field(next);
    let (modulus, _) = field(next);
    let mut forged = Vec::new();
    for part in [name, modulus, modulus] {
        forged.extend_from_slice(&u32::try_from(part.len()).unwrap().to_be_bytes());
        forged.extend_from_slice(part);
    }
    let forged = format!("ssh-rsa {}", engine.encode(forged));
    assert_eq!(PublicKey::parse(&forged), Err(KeyError::Invalid));
}

proptest! {
    /// Whatever arrives, parsing answers (never panics), and what it takes round-trips.
    #[test]
    fn parsing_any_text_answers(body in ".{0,300}") {
        if let Ok(key) = PublicKey::parse(&body) {
            prop_assert_eq!(PublicKey::parse(&key.openssh()), Ok(key.clone()));
        }
    }

    /// Any bytes after `ssh-rsa` or in a PEM block answer too.
    #[test]
    fn parsing_any_blob_answers(bytes in proptest::collection::vec(any::<u8>(), 0..600), pem in any::<bool>()) {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let body = if pem {
            format!("-----BEGIN PUBLIC KEY-----\n{encoded}\n-----END PUBLIC KEY-----\n")
        } else {
            format!("ssh-rsa {encoded}")
        };
        let _ = PublicKey::parse(&body);
    }
}
