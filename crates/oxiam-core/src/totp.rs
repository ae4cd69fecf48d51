//! Time-based one-time passwords as virtual MFA devices compute them (RFC 6238 over RFC
//! 4226's HOTP): HMAC-SHA1, 6 digits, 30-second steps, the seed shared as Base32 (RFC 4648).
//! Pure: the caller brings the time and the randomness.

use hmac013::{Hmac, KeyInit as _, Mac as _};
use sha1::Sha1;

/// Seconds per time step.
pub const STEP_SECONDS: i64 = 30;

/// Bytes of a device's seed: 40, which Base32 writes as 64 characters, the length of the
/// seeds IAM hands out.
pub const SEED_BYTES: usize = 40;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// The time step `unix` seconds fall in.
pub fn step_at(unix: i64) -> i64 {
    unix.div_euclid(STEP_SECONDS)
}

/// The 6-digit code of `step` for `seed`, with its leading zeros.
pub fn code(seed: &[u8], step: i64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(seed).expect("HMAC takes a key of any length");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let value = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", value % 1_000_000)
}

/// Whether `given` is the code of `step`, compared in constant time.
pub fn is_code(seed: &[u8], step: i64, given: &str) -> bool {
    let expected = code(seed, step);
    given.len() == expected.len() && bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), given.as_bytes()))
}

/// `bytes` in Base32, without padding (a whole number of 5-byte groups needs none).
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The bytes of a Base32 text (upper case, no padding); `None` if it is not one.
pub fn from_base32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let value = ALPHABET.iter().position(|&a| a == c)?;
        buffer = (buffer << 5) | value as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238's appendix B: its SHA-1 seed and times, whose 8-digit codes end in these
    /// six digits.
    #[test]
    fn rfc_6238_test_vectors() {
        let seed = b"12345678901234567890";
        for (time, code8) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code(seed, step_at(time)), &code8[2..], "at {time}");
        }
    }

    #[test]
    fn base32_is_rfc_4648() {
        for (plain, encoded) in [
            (&b""[..], ""),
            (b"f", "MY"),
            (b"fo", "MZXQ"),
            (b"foo", "MZXW6"),
            (b"foob", "MZXW6YQ"),
            (b"fooba", "MZXW6YTB"),
            (b"foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32(plain), encoded);
            assert_eq!(from_base32(encoded).as_deref(), Some(plain));
        }
        assert_eq!(base32(&[0u8; SEED_BYTES]).len(), 64);
        assert_eq!(from_base32("mzxw6"), None);
        assert_eq!(from_base32("MZXW1"), None);
    }

    #[test]
    fn codes_are_compared_whole() {
        let seed = b"12345678901234567890";
        let right = code(seed, 1);
        assert!(is_code(seed, 1, &right));
        assert!(!is_code(seed, 2, &right));
        assert!(!is_code(seed, 1, &right[..5]));
        assert!(!is_code(seed, 1, &format!("{right}0")));
    }
}
