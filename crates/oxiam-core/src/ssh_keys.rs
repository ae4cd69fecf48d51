//! SSH public keys as UploadSSHPublicKey takes them: OpenSSH's one-line form
//! (`ssh-rsa AAAA… comment`, `ssh-ed25519 AAAA…`) or PEM (`BEGIN PUBLIC KEY`, an X.509
//! SubjectPublicKeyInfo; `BEGIN RSA PUBLIC KEY`, PKCS #1). A key is kept as its SSH wire
//! encoding (RFC 4253 section 6.6, RFC 8709), from which come its MD5 fingerprint (what IAM
//! reports) and both encodings GetSSHPublicKey answers in. Pure: no I/O.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use md5::Digest as _;

use crate::der::{
    self, BIT_STRING, DerReader, INTEGER, Malformed, NULL, OBJECT_IDENTIFIER, SEQUENCE, der, signed_bytes,
};

/// The shortest RSA modulus IAM takes, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// The longest RSA modulus taken, in bits (OpenSSH's own limit): a longer one is no key
/// anyone uses, and only costs whoever parses it.
pub const MAX_RSA_BITS: usize = 16384;

/// A parsed SSH public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    algorithm: Algorithm,
    /// The SSH wire encoding (the second field of the one-line form, decoded).
    blob: Vec<u8>,
}

/// The key's algorithm, with what the encodings need of it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Algorithm {
    /// `ssh-rsa`: the modulus and public exponent, big-endian, without leading zeros.
    Rsa { modulus: Vec<u8>, exponent: Vec<u8> },
    /// `ssh-ed25519`: the 32-byte point.
    Ed25519([u8; 32]),
}

/// Why a body is not a key IAM takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not in an encoding IAM reads (UnrecognizedPublicKeyEncoding).
    #[error("the key's encoding is not recognized")]
    Unrecognized,
    /// In a known encoding, but no key IAM takes (InvalidPublicKey): truncated or
    /// inconsistent, an unsupported algorithm, or an RSA modulus out of bounds.
    #[error("the key is not valid")]
    Invalid,
}

impl PublicKey {
    /// Parses a body in any of the accepted encodings. Surrounding white space is ignored,
    /// and so is the one-line form's comment.
    pub fn parse(body: &str) -> Result<Self, KeyError> {
        let body = body.trim();
        if body.starts_with("-----BEGIN ") {
            return Self::from_pem(body);
        }
        let mut fields = body.split_ascii_whitespace();
        let (Some(name), Some(encoded)) = (fields.next(), fields.next()) else {
            return Err(KeyError::Unrecognized);
        };
        if !matches!(name, "ssh-rsa" | "ssh-ed25519") {
            return Err(if name.starts_with("ssh-") || name.starts_with("ecdsa-") {
                KeyError::Invalid
            } else {
                KeyError::Unrecognized
            });
        }
        let blob = STANDARD.decode(encoded).map_err(|_| KeyError::Unrecognized)?;
        let key = Self::from_blob(blob)?;
        if key.algorithm_name() != name {
            return Err(KeyError::Invalid);
        }
        Ok(key)
    }

    /// A key from its SSH wire encoding, which must hold nothing after the key.
    fn from_blob(blob: Vec<u8>) -> Result<Self, KeyError> {
        let mut reader = WireReader(&blob);
        let algorithm = match reader.string()? {
            b"ssh-rsa" => {
                let exponent = positive_integer(reader.string()?)?;
                let modulus = positive_integer(reader.string()?)?;
                Algorithm::Rsa {
                    modulus: modulus.to_vec(),
                    exponent: exponent.to_vec(),
                }
            }
            b"ssh-ed25519" => Algorithm::Ed25519(reader.string()?.try_into().map_err(|_| KeyError::Invalid)?),
            _ => return Err(KeyError::Invalid),
        };
        if !reader.0.is_empty() {
            return Err(KeyError::Invalid);
        }
        Self::checked(algorithm)
    }

    /// Rejects what no one should upload: an RSA modulus out of bounds, an even modulus,
    /// an exponent of 1, an even one, or one not below the modulus.
    fn checked(algorithm: Algorithm) -> Result<Self, KeyError> {
        if let Algorithm::Rsa { modulus, exponent } = &algorithm {
            let bits = bit_length(modulus);
            let odd = |n: &[u8]| n.last().is_some_and(|b| b & 1 == 1);
            if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits)
                || !odd(modulus)
                || !odd(exponent)
                || exponent.as_slice() == [1]
                // Both without leading zeros: the longer is the larger, else byte by byte.
                || (exponent.len(), exponent.as_slice()) >= (modulus.len(), modulus.as_slice())
            {
                return Err(KeyError::Invalid);
            }
        }
        let blob = wire_encoding(&algorithm);
        Ok(Self { algorithm, blob })
    }

    /// A PEM body: an X.509 SubjectPublicKeyInfo (`PUBLIC KEY`) or a PKCS #1 RSA key.
    fn from_pem(body: &str) -> Result<Self, KeyError> {
        let blocks = der::pem_blocks(body).ok_or(KeyError::Unrecognized)?;
        let [(label, der)] = blocks.as_slice() else {
            return Err(KeyError::Unrecognized);
        };
        let algorithm = match *label {
            "PUBLIC KEY" => from_subject_public_key_info(der)?,
            "RSA PUBLIC KEY" => rsa_from_pkcs1(der)?,
            _ => return Err(KeyError::Unrecognized),
        };
        Self::checked(algorithm)
    }

    /// `ssh-rsa` or `ssh-ed25519`.
    pub fn algorithm_name(&self) -> &'static str {
        match self.algorithm {
            Algorithm::Rsa { .. } => "ssh-rsa",
            Algorithm::Ed25519(_) => "ssh-ed25519",
        }
    }

    /// The MD5 digest of the wire encoding, as colon-separated lower-case hex pairs: the
    /// fingerprint IAM reports (and `ssh-keygen -l -E md5` prints after `MD5:`).
    pub fn fingerprint(&self) -> String {
        let digest = md5::Md5::digest(&self.blob);
        let pairs: Vec<String> = digest.iter().map(|b| format!("{b:02x}")).collect();
        pairs.join(":")
    }

    /// The one-line OpenSSH form, without a comment.
    pub fn openssh(&self) -> String {
        format!("{} {}", self.algorithm_name(), STANDARD.encode(&self.blob))
    }

    /// The key as PEM: an X.509 SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`), lines of 64.
    pub fn pem(&self) -> String {
        der::pem_encode("PUBLIC KEY", &subject_public_key_info(&self.algorithm))
    }
}

/// Reads RFC 4251's `string`s: a 32-bit big-endian length, then that many bytes.
struct WireReader<'a>(&'a [u8]);

impl<'a> WireReader<'a> {
    fn string(&mut self) -> Result<&'a [u8], KeyError> {
        let (length, rest) = self.0.split_first_chunk::<4>().ok_or(KeyError::Invalid)?;
        let length = usize::try_from(u32::from_be_bytes(*length)).map_err(|_| KeyError::Invalid)?;
        if length > rest.len() {
            return Err(KeyError::Invalid);
        }
        let (value, rest) = rest.split_at(length);
        self.0 = rest;
        Ok(value)
    }
}

fn bit_length(magnitude: &[u8]) -> usize {
    magnitude
        .first()
        .map_or(0, |&b| magnitude.len() * 8 - b.leading_zeros() as usize)
}

fn wire_encoding(algorithm: &Algorithm) -> Vec<u8> {
    fn put(out: &mut Vec<u8>, value: &[u8]) {
        let length = u32::try_from(value.len()).expect("keys are bounded far below 4 GiB");
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(value);
    }
    let mut out = Vec::new();
    match algorithm {
        Algorithm::Rsa { modulus, exponent } => {
            put(&mut out, b"ssh-rsa");
            put(&mut out, &signed_bytes(exponent));
            put(&mut out, &signed_bytes(modulus));
        }
        Algorithm::Ed25519(point) => {
            put(&mut out, b"ssh-ed25519");
            put(&mut out, point);
        }
    }
    out
}

/// rsaEncryption, 1.2.840.113549.1.1.1 (RFC 8017), as DER content.
pub(crate) const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// id-Ed25519, 1.3.101.112 (RFC 8410), as DER content.
const ID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

impl From<Malformed> for KeyError {
    fn from(_: Malformed) -> Self {
        KeyError::Invalid
    }
}

fn positive_integer(bytes: &[u8]) -> Result<&[u8], KeyError> {
    Ok(der::positive_integer(bytes)?)
}

fn from_subject_public_key_info(der: &[u8]) -> Result<Algorithm, KeyError> {
    let mut outer = DerReader(der);
    let mut info = DerReader(outer.element(SEQUENCE)?);
    outer.finish()?;
    let mut identifier = DerReader(info.element(SEQUENCE)?);
    let bits = info.element(BIT_STRING)?;
    info.finish()?;
    let oid = identifier.element(OBJECT_IDENTIFIER)?;
    // A BIT STRING's first byte counts the unused bits of its last: a key uses them all.
    let key = match bits {
        [0, key @ ..] => key,
        _ => return Err(KeyError::Invalid),
    };
    if oid == RSA_ENCRYPTION {
        // Its parameters are NULL (RFC 8017 appendix A.1).
        if !identifier.element(NULL)?.is_empty() {
            return Err(KeyError::Invalid);
        }
        identifier.finish()?;
        rsa_from_pkcs1(key)
    } else if oid == ID_ED25519 {
        // And Ed25519's are absent (RFC 8410 section 3).
        identifier.finish()?;
        Ok(Algorithm::Ed25519(key.try_into().map_err(|_| KeyError::Invalid)?))
    } else {
        Err(KeyError::Invalid)
    }
}

/// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017).
fn rsa_from_pkcs1(der: &[u8]) -> Result<Algorithm, KeyError> {
    let mut outer = DerReader(der);
    let mut key = DerReader(outer.element(SEQUENCE)?);
    outer.finish()?;
    let modulus = positive_integer(key.element(INTEGER)?)?.to_vec();
    let exponent = positive_integer(key.element(INTEGER)?)?.to_vec();
    key.finish()?;
    Ok(Algorithm::Rsa { modulus, exponent })
}

fn subject_public_key_info(algorithm: &Algorithm) -> Vec<u8> {
    let (identifier, key) = match algorithm {
        Algorithm::Rsa { modulus, exponent } => {
            let identifier = [der(OBJECT_IDENTIFIER, RSA_ENCRYPTION), der(NULL, &[])].concat();
            let key = der(
                SEQUENCE,
                &[
                    der(INTEGER, &signed_bytes(modulus)),
                    der(INTEGER, &signed_bytes(exponent)),
                ]
                .concat(),
            );
            (identifier, key)
        }
        Algorithm::Ed25519(point) => (der(OBJECT_IDENTIFIER, ID_ED25519), point.to_vec()),
    };
    let bits = [&[0u8][..], &key].concat();
    der(SEQUENCE, &[der(SEQUENCE, &identifier), der(BIT_STRING, &bits)].concat())
}
