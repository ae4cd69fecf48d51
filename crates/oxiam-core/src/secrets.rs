//! Secret access keys at rest.
//!
//! SigV4 needs the plaintext secret to recompute a signature, so secrets cannot be hashed;
//! they are sealed with ChaCha20-Poly1305 under the server's master key instead, with the
//! access key id as associated data (a sealed secret copied onto another key's row does
//! not open).

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

/// The master key, and what seals and opens secrets with it.
#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

/// A sealed secret did not open: wrong master key, or the row was tampered with.
#[derive(Debug, thiserror::Error)]
#[error("a stored secret could not be decrypted (is the master key the one it was sealed with?)")]
pub struct OpenError;

impl SecretBox {
    /// Uses a 32-byte master key.
    pub fn new(master_key: &[u8; 32]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(master_key)),
        }
    }

    /// A fresh random master key.
    pub fn generate_key() -> [u8; 32] {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the operating system's random source failed");
        key
    }

    /// Seals `secret` for the key `access_key_id`: base64(nonce || ciphertext).
    pub fn seal(&self, access_key_id: &str, secret: &str) -> String {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).expect("the operating system's random source failed");
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: access_key_id.as_bytes(),
                },
            )
            .expect("ChaCha20-Poly1305 encryption of a short message cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        base64::engine::general_purpose::STANDARD.encode(out)
    }

    /// Opens what `seal` produced for the same key id.
    pub fn open(&self, access_key_id: &str, sealed: &str) -> Result<String, OpenError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|_| OpenError)?;
        if bytes.len() < 12 {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: access_key_id.as_bytes(),
                },
            )
            .map_err(|_| OpenError)?;
        String::from_utf8(plain).map_err(|_| OpenError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_for_the_same_key_id_and_master_key() {
        let b = SecretBox::new(&SecretBox::generate_key());
        let sealed = b.seal("AKIAONE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        assert!(!sealed.contains("wJalr"));
        assert_eq!(
            b.open("AKIAONE", &sealed).unwrap(),
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        );
        assert!(b.open("AKIATWO", &sealed).is_err());
        assert!(
            SecretBox::new(&SecretBox::generate_key())
                .open("AKIAONE", &sealed)
                .is_err()
        );
        assert_ne!(b.seal("AKIAONE", "x"), b.seal("AKIAONE", "x"), "nonces are fresh");
    }
}
