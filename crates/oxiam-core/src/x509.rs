//! X.509 certificates as IAM takes them (UploadSigningCertificate, UploadServerCertificate):
//! PEM, read far enough to know their validity, subject, issuer and public key (RFC 5280
//! section 4.1); whether one certificate signed another (a chain, in order); and whether a
//! private key is the certificate's. Signatures and keys are checked with aws-lc-rs. Pure:
//! no I/O, the caller brings the time.

use aws_lc_rs::signature::{self, KeyPair as _, UnparsedPublicKey, VerificationAlgorithm};

use crate::der::{
    self, BIT_STRING, DerReader, GENERALIZED_TIME, INTEGER, Malformed, OBJECT_IDENTIFIER, SEQUENCE, UTC_TIME,
};
use crate::ssh_keys::RSA_ENCRYPTION;

/// id-ecPublicKey, 1.2.840.10045.2.1.
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// prime256v1 (P-256), 1.2.840.10045.3.1.7.
const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// secp384r1 (P-384), 1.3.132.0.34.
const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];

/// Signature algorithms (RFC 4055, RFC 5758), by the last arc under their parents.
const RSA_SIGNATURE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
const ECDSA_SIGNATURE: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03];

/// A certificate's public key, as far as IAM's checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateKey {
    /// RSA: the RSAPublicKey DER (RFC 8017) and the modulus's size in bits.
    Rsa { pkcs1: Vec<u8>, bits: usize },
    /// ECDSA on P-256 or P-384: the uncompressed point.
    Ec { curve: Curve, point: Vec<u8> },
    /// Any other algorithm.
    Other,
}

/// The elliptic curves ECDSA certificates are taken on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
}

/// A parsed certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The certificate's DER.
    pub der: Vec<u8>,
    /// The signed part's DER (TBSCertificate).
    tbs: Vec<u8>,
    /// The subject and issuer names, as DER (compared byte for byte, as a chain needs).
    subject: Vec<u8>,
    issuer: Vec<u8>,
    /// The validity, in Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// The public key.
    pub key: CertificateKey,
    /// The signature algorithm's OID content, and the signature.
    signature_algorithm: Vec<u8>,
    signature: Vec<u8>,
}

/// Why a private key is not taken with a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivateKeyError {
    /// Not one unencrypted PEM private key (PKCS #1, PKCS #8 or SEC 1) of a kind oxiam reads.
    Unreadable,
    /// A key, but not the certificate's.
    Mismatch,
}

impl Certificate {
    /// Every certificate of PEM text (`BEGIN CERTIFICATE` blocks, nothing else); `None` if
    /// there is anything else, or one does not parse.
    pub fn all_from_pem(text: &str) -> Option<Vec<Certificate>> {
        der::pem_blocks(text)?
            .into_iter()
            .map(|(label, der)| {
                if label == "CERTIFICATE" {
                    Certificate::from_der(der).ok()
                } else {
                    None
                }
            })
            .collect()
    }

    /// A certificate from its DER, if it is one.
    pub fn from_der_bytes(der: Vec<u8>) -> Option<Certificate> {
        Certificate::from_der(der).ok()
    }

    /// A certificate from its DER.
    fn from_der(der: Vec<u8>) -> Result<Certificate, Malformed> {
        let mut outer = DerReader(&der);
        let mut certificate = DerReader(outer.element(SEQUENCE)?);
        outer.finish()?;
        let (tag, tbs_content, tbs) = certificate.any()?;
        if tag != SEQUENCE {
            return Err(Malformed);
        }
        let (tag, algorithm, outer_algorithm) = certificate.any()?;
        if tag != SEQUENCE {
            return Err(Malformed);
        }
        let signature_algorithm = algorithm_identifier(algorithm)?.0.to_vec();
        let signature = match certificate.element(BIT_STRING)? {
            [0, bits @ ..] => bits.to_vec(),
            _ => return Err(Malformed),
        };
        certificate.finish()?;

        let mut fields = DerReader(tbs_content);
        // [0] EXPLICIT Version DEFAULT v1: v1, v2 or v3 (0, 1, 2).
        if let Some(version) = fields.optional(0xa0)? {
            let mut version = DerReader(version);
            if !matches!(version.element(INTEGER)?, [0..=2]) {
                return Err(Malformed);
            }
            version.finish()?;
        }
        fields.element(INTEGER)?;
        // The signed copy of the signature algorithm, which the unsigned one must repeat
        // (RFC 5280 section 4.1.1.2): else the unsigned one could be changed unseen.
        if fields.any()?.2 != outer_algorithm {
            return Err(Malformed);
        }
        let (_, _, issuer) = fields.any()?;
        let mut validity = DerReader(fields.element(SEQUENCE)?);
        let not_before = time(&mut validity)?;
        let not_after = time(&mut validity)?;
        validity.finish()?;
        let (_, _, subject) = fields.any()?;
        let key = certificate_key(fields.element(SEQUENCE)?)?;
        // The unique identifiers and extensions that may follow are not needed.
        Ok(Certificate {
            tbs: tbs.to_vec(),
            subject: subject.to_vec(),
            issuer: issuer.to_vec(),
            not_before,
            not_after,
            key,
            signature_algorithm,
            signature,
            der,
        })
    }

    /// Whether the certificate is valid at `unix` seconds.
    pub fn valid_at(&self, unix: i64) -> bool {
        (self.not_before..=self.not_after).contains(&unix)
    }

    /// Whether `issuer` signed this certificate: its subject is this one's issuer, and its
    /// key verifies this one's signature.
    pub fn is_signed_by(&self, issuer: &Certificate) -> bool {
        if self.issuer != issuer.subject {
            return false;
        }
        let Some((algorithm, key)) = verification(&self.signature_algorithm, &issuer.key) else {
            return false;
        };
        UnparsedPublicKey::new(algorithm, key)
            .verify(&self.tbs, &self.signature)
            .is_ok()
    }

    /// Checks that `pem` is one unencrypted private key, and the certificate's.
    pub fn check_private_key(&self, pem: &str) -> Result<(), PrivateKeyError> {
        let blocks = der::pem_blocks(pem).ok_or(PrivateKeyError::Unreadable)?;
        let [(label, der)] = blocks.as_slice() else {
            return Err(PrivateKeyError::Unreadable);
        };
        // The public half of the key, read as the kind of key the label and `curve` say.
        let rsa = || -> Option<Vec<u8>> {
            let pair = match *label {
                "RSA PRIVATE KEY" => signature::RsaKeyPair::from_der(der),
                "PRIVATE KEY" => signature::RsaKeyPair::from_pkcs8(der),
                _ => return None,
            };
            Some(pair.ok()?.public_key().as_ref().to_vec())
        };
        let ec = |curve: Curve| -> Option<Vec<u8>> {
            let algorithm = match curve {
                Curve::P256 => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                Curve::P384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            };
            matches!(*label, "EC PRIVATE KEY" | "PRIVATE KEY")
                .then(|| signature::EcdsaKeyPair::from_private_key_der(algorithm, der).ok())
                .flatten()
                .map(|pair| pair.public_key().as_ref().to_vec())
        };
        let (public, expected): (Option<Vec<u8>>, &[u8]) = match &self.key {
            CertificateKey::Rsa { pkcs1, .. } => (rsa(), pkcs1),
            CertificateKey::Ec { curve, point } => (ec(*curve), point),
            CertificateKey::Other => (None, &[]),
        };
        match public {
            Some(public) if public == expected => Ok(()),
            Some(_) => Err(PrivateKeyError::Mismatch),
            // A key of another kind than the certificate's is still a key.
            None if rsa().is_some() || ec(Curve::P256).is_some() || ec(Curve::P384).is_some() => {
                Err(PrivateKeyError::Mismatch)
            }
            None => Err(PrivateKeyError::Unreadable),
        }
    }
}

/// An AlgorithmIdentifier: its OID's content and its parameters, if any.
fn algorithm_identifier(content: &[u8]) -> Result<(&[u8], Option<&[u8]>), Malformed> {
    let mut reader = DerReader(content);
    let oid = reader.element(OBJECT_IDENTIFIER)?;
    let parameters = if reader.0.is_empty() {
        None
    } else {
        Some(reader.any()?.2)
    };
    reader.finish()?;
    Ok((oid, parameters))
}

/// A SubjectPublicKeyInfo's key.
fn certificate_key(info: &[u8]) -> Result<CertificateKey, Malformed> {
    let mut reader = DerReader(info);
    let (oid, parameters) = algorithm_identifier(reader.element(SEQUENCE)?)?;
    let key = match reader.element(BIT_STRING)? {
        [0, key @ ..] => key,
        _ => return Err(Malformed),
    };
    reader.finish()?;
    Ok(if oid == RSA_ENCRYPTION {
        let mut outer = DerReader(key);
        let mut fields = DerReader(outer.element(SEQUENCE)?);
        outer.finish()?;
        let modulus = der::positive_integer(fields.element(INTEGER)?)?;
        der::positive_integer(fields.element(INTEGER)?)?;
        fields.finish()?;
        CertificateKey::Rsa {
            pkcs1: key.to_vec(),
            bits: modulus.len() * 8 - modulus.first().map_or(0, |b| b.leading_zeros() as usize),
        }
    } else if oid == EC_PUBLIC_KEY {
        let curve = match parameters.map(|p| DerReader(p).element(OBJECT_IDENTIFIER)) {
            Some(Ok(c)) if c == P256 => Curve::P256,
            Some(Ok(c)) if c == P384 => Curve::P384,
            _ => return Ok(CertificateKey::Other),
        };
        CertificateKey::Ec {
            curve,
            point: key.to_vec(),
        }
    } else {
        CertificateKey::Other
    })
}

/// The aws-lc-rs algorithm and key that verify a signature made with `algorithm` by `key`.
fn verification<'k>(
    algorithm: &[u8],
    key: &'k CertificateKey,
) -> Option<(&'static dyn VerificationAlgorithm, &'k [u8])> {
    let (parent, last) = algorithm.split_last().map(|(l, p)| (p, *l))?;
    match key {
        CertificateKey::Rsa { pkcs1, .. } if parent == RSA_SIGNATURE => {
            let algorithm: &'static dyn VerificationAlgorithm = match last {
                // sha1WithRSAEncryption, sha256WithRSAEncryption: issuers of 1,024 bits too.
                5 => &signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
                11 => &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
                12 => &signature::RSA_PKCS1_2048_8192_SHA384,
                13 => &signature::RSA_PKCS1_2048_8192_SHA512,
                _ => return None,
            };
            Some((algorithm, pkcs1))
        }
        CertificateKey::Ec { curve, point } if parent == ECDSA_SIGNATURE => {
            let algorithm: &'static dyn VerificationAlgorithm = match (curve, last) {
                (Curve::P256, 2) => &signature::ECDSA_P256_SHA256_ASN1,
                (Curve::P256, 3) => &signature::ECDSA_P256_SHA384_ASN1,
                (Curve::P384, 2) => &signature::ECDSA_P384_SHA256_ASN1,
                (Curve::P384, 3) => &signature::ECDSA_P384_SHA384_ASN1,
                _ => return None,
            };
            Some((algorithm, point))
        }
        _ => None,
    }
}

/// A validity time: UTCTime (`YYMMDDHHMMSSZ`, years 1950-2049) or GeneralizedTime
/// (`YYYYMMDDHHMMSSZ`), as RFC 5280 section 4.1.2.5 writes them, in Unix seconds.
fn time(reader: &mut DerReader<'_>) -> Result<i64, Malformed> {
    let (tag, content, _) = reader.any()?;
    let text = std::str::from_utf8(content).map_err(|_| Malformed)?;
    let digits = text.strip_suffix('Z').ok_or(Malformed)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Malformed);
    }
    let number = |range: std::ops::Range<usize>| digits.get(range).and_then(|d| d.parse::<i64>().ok()).ok_or(Malformed);
    let (year, rest) = match (tag, digits.len()) {
        (UTC_TIME, 12) => {
            let yy = number(0..2)?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, 2)
        }
        (GENERALIZED_TIME, 14) => (number(0..4)?, 4),
        _ => return Err(Malformed),
    };
    let field = |i: usize| number(rest + 2 * i..rest + 2 * i + 2);
    let (month, day, hour, minute, second) = (field(0)?, field(1)?, field(2)?, field(3)?, field(4)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(Malformed),
    };
    if !(1..=days_in_month).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return Err(Malformed);
    }
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> Result<i64, Malformed> {
        time(&mut DerReader(&der::der(UTC_TIME, text.as_bytes())))
    }

    #[test]
    fn times_are_read_on_the_calendar() {
        assert_eq!(utc("700101000000Z"), Ok(0));
        assert_eq!(utc("000301000000Z"), Ok(951_868_800));
        assert_eq!(utc("240229235959Z"), Ok(1_709_251_199), "2024 is a leap year");
        for bad in [
            "230229000000Z",
            "240231000000Z",
            "240431000000Z",
            "241301000000Z",
            "240101240000Z",
            "2401010000Z",
        ] {
            assert_eq!(utc(bad), Err(Malformed), "{bad}");
        }
        let generalized = time(&mut DerReader(&der::der(GENERALIZED_TIME, b"21250101123045Z")));
        assert_eq!(generalized, Ok(4_891_408_245));
    }
}
