//! Encrypted assertions (XML Encryption 1.1, as SAML 2.0 §6 uses it): an
//! `EncryptedAssertion` holds one `xenc:EncryptedData` of type Element, whose content key is
//! carried by an `xenc:EncryptedKey` (inside the data's `ds:KeyInfo`, or beside the data in
//! the `EncryptedAssertion`), wrapped with RSA-OAEP for a key the service provider holds.
//!
//! Accepted, as IdPs encrypt for AWS: content with AES-GCM (128, 256) or AES-CBC (128, 192,
//! 256); keys wrapped with RSA-OAEP (the MGF1-SHA-1 form, or XML Encryption 1.1's with SHA-1,
//! -256, -384 or -512 and the same MGF1 digest). RSA PKCS #1 v1.5 key transport is refused
//! (Bleichenbacher's oracle), as is anything else. What comes out is the assertion's XML,
//! which the caller reads and checks like any other: decrypting proves nothing about who
//! wrote it.

use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{AES_128, AES_192, AES_256, DecryptingKey, DecryptionContext, UnboundCipherKey};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OAEP_SHA384_MGF1SHA384, OAEP_SHA512_MGF1SHA512, OaepAlgorithm,
    OaepPrivateDecryptingKey, PrivateDecryptingKey,
};
use base64::Engine as _;

use crate::signature::DSIG;
use crate::xml::{Document, Element, NodeId};

/// The XML Encryption namespaces.
pub const XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
const XENC11: &str = "http://www.w3.org/2009/xmlenc11#";

/// Why an encrypted assertion does not decrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecryptionError {
    /// Not the shape SAML's encrypted assertions have.
    #[error("the encrypted assertion is malformed")]
    Malformed,
    /// An algorithm oxiam does not accept (RSA PKCS #1 v1.5 key transport among them).
    #[error("an encryption algorithm is not accepted")]
    UnsupportedAlgorithm,
    /// No key of the provider's unwraps the content key, or the content does not decrypt.
    #[error("the assertion does not decrypt with the provider's keys")]
    NoKey,
}

/// A private key encrypted assertions are decrypted with (an RSA key, 2,048 bits or more).
pub struct DecryptionKey(OaepPrivateDecryptingKey);

impl std::fmt::Debug for DecryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DecryptionKey(..)")
    }
}

impl DecryptionKey {
    /// From its PKCS #8 DER; `None` if it is not an RSA key of 2,048 to 8,192 bits.
    pub fn from_pkcs8(der: &[u8]) -> Option<DecryptionKey> {
        let key = PrivateDecryptingKey::from_pkcs8(der).ok()?;
        OaepPrivateDecryptingKey::new(key).ok().map(DecryptionKey)
    }
}

/// The XML of the assertion `encrypted_assertion` (an `EncryptedAssertion` element) holds.
pub fn decrypt(doc: &Document, encrypted_assertion: NodeId, keys: &[DecryptionKey]) -> Result<String, DecryptionError> {
    use DecryptionError::{Malformed, NoKey, UnsupportedAlgorithm};
    let children: Vec<(NodeId, &Element)> = doc.child_elements(encrypted_assertion).collect();
    // One EncryptedData, beside nothing but the keys it may be wrapped for.
    let data: Vec<&(NodeId, &Element)> = children.iter().filter(|(_, e)| e.is(XENC, "EncryptedData")).collect();
    let [(data, data_e)] = data[..] else {
        return Err(Malformed);
    };
    if children
        .iter()
        .any(|(_, e)| !e.is(XENC, "EncryptedData") && !e.is(XENC, "EncryptedKey"))
    {
        return Err(Malformed);
    }
    if data_e.attribute("Type") != Some("http://www.w3.org/2001/04/xmlenc#Element") {
        return Err(Malformed);
    }
    let content_method = algorithm(doc, *data)?;
    // The content key: wrapped in the data's KeyInfo, or beside the data.
    let key_info = doc.child(*data, DSIG, "KeyInfo");
    let wrapped: Vec<NodeId> = key_info
        .into_iter()
        .flat_map(|k| {
            doc.child_elements(k)
                .filter(|(_, e)| e.is(XENC, "EncryptedKey"))
                .map(|(id, _)| id)
        })
        .chain(
            children
                .iter()
                .filter(|(_, e)| e.is(XENC, "EncryptedKey"))
                .map(|(id, _)| *id),
        )
        .collect();
    if wrapped.is_empty() || wrapped.len() > 4 {
        return Err(Malformed);
    }
    let ciphertext = cipher_value(doc, *data)?;

    let mut unsupported = false;
    for encrypted_key in wrapped {
        let oaep = match key_transport(doc, encrypted_key) {
            Ok(oaep) => oaep,
            Err(UnsupportedAlgorithm) => {
                unsupported = true;
                continue;
            }
            Err(e) => return Err(e),
        };
        let wrapped_key = cipher_value(doc, encrypted_key)?;
        for key in keys {
            let mut buffer = vec![0u8; key.0.min_output_size()];
            let Ok(content_key) = key.0.decrypt(oaep, &wrapped_key, &mut buffer, None) else {
                continue;
            };
            if let Ok(plaintext) = decrypt_content(content_method, content_key, &ciphertext) {
                return String::from_utf8(plaintext).map_err(|_| Malformed);
            }
        }
    }
    Err(if unsupported { UnsupportedAlgorithm } else { NoKey })
}

/// How the content is encrypted.
#[derive(Debug, Clone, Copy)]
enum Content {
    Gcm(&'static aws_lc_rs::aead::Algorithm, usize),
    Cbc(&'static aws_lc_rs::cipher::Algorithm, usize),
}

fn algorithm(doc: &Document, data: NodeId) -> Result<Content, DecryptionError> {
    let method = doc
        .child(data, XENC, "EncryptionMethod")
        .ok_or(DecryptionError::Malformed)?;
    let uri = doc
        .element(method)
        .and_then(|e| e.attribute("Algorithm"))
        .ok_or(DecryptionError::Malformed)?;
    Ok(match uri {
        "http://www.w3.org/2009/xmlenc11#aes128-gcm" => Content::Gcm(&AES_128_GCM, 16),
        "http://www.w3.org/2009/xmlenc11#aes256-gcm" => Content::Gcm(&AES_256_GCM, 32),
        "http://www.w3.org/2001/04/xmlenc#aes128-cbc" => Content::Cbc(&AES_128, 16),
        "http://www.w3.org/2001/04/xmlenc#aes192-cbc" => Content::Cbc(&AES_192, 24),
        "http://www.w3.org/2001/04/xmlenc#aes256-cbc" => Content::Cbc(&AES_256, 32),
        _ => return Err(DecryptionError::UnsupportedAlgorithm),
    })
}

/// The RSA-OAEP variant an `EncryptedKey` is wrapped with.
fn key_transport(doc: &Document, encrypted_key: NodeId) -> Result<&'static OaepAlgorithm, DecryptionError> {
    let method = doc
        .child(encrypted_key, XENC, "EncryptionMethod")
        .ok_or(DecryptionError::Malformed)?;
    let method_e = doc.element(method).ok_or(DecryptionError::Malformed)?;
    let digest = doc
        .child(method, DSIG, "DigestMethod")
        .and_then(|d| doc.element(d)?.attribute("Algorithm"))
        .unwrap_or("http://www.w3.org/2000/09/xmldsig#sha1");
    let mgf = doc
        .child(method, XENC11, "MGF")
        .and_then(|m| doc.element(m)?.attribute("Algorithm"))
        .unwrap_or("http://www.w3.org/2009/xmlenc11#mgf1sha1");
    // A label (OAEPparams) is not something IdPs send; one would change the padding.
    if doc.child(method, XENC, "OAEPparams").is_some() {
        return Err(DecryptionError::UnsupportedAlgorithm);
    }
    let sha1 = "http://www.w3.org/2000/09/xmldsig#sha1";
    match (method_e.attribute("Algorithm"), digest, mgf) {
        (Some("http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"), d, _) if d == sha1 => Ok(&OAEP_SHA1_MGF1SHA1),
        (Some("http://www.w3.org/2009/xmlenc11#rsa-oaep"), d, m) => match (d, m) {
            (d, "http://www.w3.org/2009/xmlenc11#mgf1sha1") if d == sha1 => Ok(&OAEP_SHA1_MGF1SHA1),
            ("http://www.w3.org/2001/04/xmlenc#sha256", "http://www.w3.org/2009/xmlenc11#mgf1sha256") => {
                Ok(&OAEP_SHA256_MGF1SHA256)
            }
            ("http://www.w3.org/2001/04/xmldsig-more#sha384", "http://www.w3.org/2009/xmlenc11#mgf1sha384") => {
                Ok(&OAEP_SHA384_MGF1SHA384)
            }
            ("http://www.w3.org/2001/04/xmlenc#sha512", "http://www.w3.org/2009/xmlenc11#mgf1sha512") => {
                Ok(&OAEP_SHA512_MGF1SHA512)
            }
            _ => Err(DecryptionError::UnsupportedAlgorithm),
        },
        _ => Err(DecryptionError::UnsupportedAlgorithm),
    }
}

/// Decrypts the content: GCM's 12-byte IV first and 16-byte tag last; CBC's 16-byte IV
/// first, then blocks padded as XML Encryption pads them (the last byte counts the padding).
fn decrypt_content(method: Content, key: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, DecryptionError> {
    let fail = DecryptionError::NoKey;
    match method {
        Content::Gcm(algorithm, length) => {
            if key.len() != length || ciphertext.len() < 12 + 16 {
                return Err(fail);
            }
            let key = LessSafeKey::new(UnboundKey::new(algorithm, key).map_err(|_| fail)?);
            let (iv, sealed) = ciphertext.split_at(12);
            let nonce = Nonce::try_assume_unique_for_key(iv).map_err(|_| fail)?;
            let mut in_out = sealed.to_vec();
            let plaintext = key.open_in_place(nonce, Aad::empty(), &mut in_out).map_err(|_| fail)?;
            Ok(plaintext.to_vec())
        }
        Content::Cbc(algorithm, length) => {
            if key.len() != length || ciphertext.len() < 32 || !ciphertext.len().is_multiple_of(16) {
                return Err(fail);
            }
            let (iv, blocks) = ciphertext.split_at(16);
            let iv: [u8; 16] = iv.try_into().map_err(|_| fail)?;
            let key = DecryptingKey::cbc(UnboundCipherKey::new(algorithm, key).map_err(|_| fail)?).map_err(|_| fail)?;
            let mut in_out = blocks.to_vec();
            let plaintext = key
                .decrypt(&mut in_out, DecryptionContext::Iv128(FixedLength::from(iv)))
                .map_err(|_| fail)?;
            let padding = usize::from(*plaintext.last().ok_or(fail)?);
            if padding == 0 || padding > 16 || padding > plaintext.len() {
                return Err(fail);
            }
            let end = plaintext.len() - padding;
            Ok(plaintext[..end].to_vec())
        }
    }
}

/// `CipherData/CipherValue`, base64.
fn cipher_value(doc: &Document, id: NodeId) -> Result<Vec<u8>, DecryptionError> {
    let data = doc.child(id, XENC, "CipherData").ok_or(DecryptionError::Malformed)?;
    let value = doc.child(data, XENC, "CipherValue").ok_or(DecryptionError::Malformed)?;
    let text = doc.text(value).ok_or(DecryptionError::Malformed)?;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| DecryptionError::Malformed)
}
