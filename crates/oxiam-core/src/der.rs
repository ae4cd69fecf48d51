//! DER (X.690) and PEM (RFC 7468), as little of them as SSH public keys and X.509
//! certificates need: reading definite-length, minimally encoded elements one after
//! another, writing one, and splitting PEM text into its blocks. Pure: no I/O.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const NULL: u8 = 0x05;
pub(crate) const OBJECT_IDENTIFIER: u8 = 0x06;
pub(crate) const UTC_TIME: u8 = 0x17;
pub(crate) const GENERALIZED_TIME: u8 = 0x18;
pub(crate) const SEQUENCE: u8 = 0x30;

/// The DER (or PEM) is not well formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

/// Reads DER elements one after another.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DerReader<'a>(pub(crate) &'a [u8]);

impl<'a> DerReader<'a> {
    /// The next element: `(tag, content, the whole element)`.
    pub(crate) fn any(&mut self) -> Result<(u8, &'a [u8], &'a [u8]), Malformed> {
        let start = self.0;
        let (&tag, rest) = start.split_first().ok_or(Malformed)?;
        let (&first, mut rest) = rest.split_first().ok_or(Malformed)?;
        let length = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 || count > rest.len() {
                return Err(Malformed);
            }
            let (bytes, after) = rest.split_at(count);
            rest = after;
            let length = bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
            // DER writes a length in as few bytes as it takes, and short ones in one.
            if length < 0x80 || bytes[0] == 0 {
                return Err(Malformed);
            }
            length
        };
        if length > rest.len() {
            return Err(Malformed);
        }
        let (content, after) = rest.split_at(length);
        let whole = &start[..start.len() - after.len()];
        self.0 = after;
        Ok((tag, content, whole))
    }

    /// The content of the next element, which must carry `tag`.
    pub(crate) fn element(&mut self, tag: u8) -> Result<&'a [u8], Malformed> {
        match self.any()? {
            (found, content, _) if found == tag => Ok(content),
            _ => Err(Malformed),
        }
    }

    /// The content of the next element if it carries `tag` (else nothing is read).
    pub(crate) fn optional(&mut self, tag: u8) -> Result<Option<&'a [u8]>, Malformed> {
        if self.0.first() == Some(&tag) {
            self.element(tag).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Whether everything was read.
    pub(crate) fn finish(&self) -> Result<(), Malformed> {
        if self.0.is_empty() { Ok(()) } else { Err(Malformed) }
    }
}

/// A positive INTEGER's content (the same bytes as an SSH `mpint`), without its leading
/// zero; negative, zero or badly padded: `Malformed`.
pub(crate) fn positive_integer(bytes: &[u8]) -> Result<&[u8], Malformed> {
    match bytes {
        [] | [0] => Err(Malformed),
        [first, ..] if first & 0x80 != 0 => Err(Malformed),
        // A leading zero is only there to keep the next byte's high bit from reading as a sign.
        [0, next, ..] if next & 0x80 == 0 => Err(Malformed),
        [0, rest @ ..] => Ok(rest),
        _ => Ok(bytes),
    }
}

/// How a positive integer (without leading zeros) is written as a DER INTEGER's content or
/// an SSH `mpint`: a zero byte in front when the high bit is set.
pub(crate) fn signed_bytes(magnitude: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(magnitude.len() + 1);
    if magnitude.first().is_some_and(|b| b & 0x80 != 0) {
        out.push(0);
    }
    out.extend_from_slice(magnitude);
    out
}

/// A DER element: `tag`, its length, `content`.
pub(crate) fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = content.len();
    if length < 0x80 {
        out.push(u8::try_from(length).expect("checked below 0x80"));
    } else {
        let bytes = length.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | u8::try_from(bytes.len() - skip).expect("a usize has at most 8 bytes"));
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// The blocks of PEM text, `(label, DER)` in order; `None` if there is none, or anything
/// but white space outside them, or a block does not decode.
pub(crate) fn pem_blocks(text: &str) -> Option<Vec<(&str, Vec<u8>)>> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    while let Some(begin) = lines.next() {
        let label = begin.strip_prefix("-----BEGIN ")?.strip_suffix("-----")?;
        let mut encoded = String::new();
        loop {
            let line = lines.next()?;
            if let Some(end) = line.strip_prefix("-----END ") {
                if end.strip_suffix("-----")? != label {
                    return None;
                }
                break;
            }
            encoded.push_str(line);
        }
        blocks.push((label, STANDARD.decode(encoded).ok()?));
    }
    (!blocks.is_empty()).then_some(blocks)
}

/// One block as PEM text, in lines of 64.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    let encoded = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
