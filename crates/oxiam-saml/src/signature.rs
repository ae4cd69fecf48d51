//! Enveloped XML signatures (XML Signature 1.1) as SAML identity providers write them: one
//! `ds:Signature` among an element's children, whose one `Reference` names that element by
//! its `ID` and digests it without the signature (enveloped-signature, then exclusive
//! canonicalization), and whose `SignedInfo`, canonicalized the same way, is signed with
//! RSA by a key the caller trusts.
//!
//! The element checked is the one the caller hands in, never one found by looking its `ID`
//! up: what was digested is what will be read, whatever else the document holds (signature
//! wrapping). Only what IdPs use is accepted — RSA with SHA-256, -384 or -512, those
//! digests, exclusive canonicalization — so no transform (XPath, XSLT) ever runs and no
//! weaker choice (SHA-1, HMAC, inclusive canonicalization) can be made by the document.
//! The key in `KeyInfo`, if any, is never used: only the caller's keys are tried.

use aws_lc_rs::{digest, signature};
use base64::Engine as _;

use crate::c14n::canonicalize;
use crate::xml::{Document, Element, NodeId};

/// The XML Signature namespace.
pub const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// Why an element's signature is not good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The element has no signature of its own.
    #[error("the element is not signed")]
    Unsigned,
    /// The signature's shape is not one this reads (two signatures, no reference, a
    /// reference to another element, an `Object`, …).
    #[error("the signature is malformed")]
    Malformed,
    /// The signature is about another element than the one it sits in (its reference
    /// names another ID, or the element has none): a wrapped document's shape.
    #[error("the signature references another element")]
    ReferencesAnotherElement,
    /// An algorithm or transform oxiam does not accept.
    #[error("an algorithm or transform is not accepted")]
    UnsupportedAlgorithm,
    /// The element is not what was digested.
    #[error("the digest does not match the element")]
    BadDigest,
    /// No trusted key verifies the signature.
    #[error("no trusted key verifies the signature")]
    BadSignature,
}

/// An RSA public key the signature may be made with: its RSAPublicKey DER (RFC 8017).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaPublicKey(pub Vec<u8>);

/// Whether `id` has an enveloped signature of its own (a `ds:Signature` child).
pub fn has_signature(doc: &Document, id: NodeId) -> bool {
    doc.child_elements(id).any(|(_, e)| e.is(DSIG, "Signature"))
}

/// Checks the enveloped signature of element `id` against `keys`.
pub fn verify(doc: &Document, id: NodeId, keys: &[RsaPublicKey]) -> Result<(), SignatureError> {
    use SignatureError::{
        BadDigest, BadSignature, Malformed, ReferencesAnotherElement, Unsigned, UnsupportedAlgorithm,
    };
    let element = doc.element(id).ok_or(Malformed)?;
    let mut signatures = doc.child_elements(id).filter(|(_, e)| e.is(DSIG, "Signature"));
    let (signature_id, _) = signatures.next().ok_or(Unsigned)?;
    if signatures.next().is_some() {
        return Err(Malformed);
    }
    // SignedInfo, SignatureValue, then KeyInfo at most: no Object to hide anything in.
    let parts = only_elements(doc, signature_id)?;
    let (signed_info, value) = match parts.as_slice() {
        [(si, si_e), (sv, sv_e)] | [(si, si_e), (sv, sv_e), (_, _)]
            if si_e.is(DSIG, "SignedInfo")
                && sv_e.is(DSIG, "SignatureValue")
                && parts.get(2).is_none_or(|(_, k)| k.is(DSIG, "KeyInfo")) =>
        {
            (*si, *sv)
        }
        _ => return Err(Malformed),
    };
    let info = only_elements(doc, signed_info)?;
    let [(method_c14n, c14n_e), (method, method_e), (reference, reference_e)] = info.as_slice() else {
        return Err(Malformed);
    };
    if !c14n_e.is(DSIG, "CanonicalizationMethod")
        || !method_e.is(DSIG, "SignatureMethod")
        || !reference_e.is(DSIG, "Reference")
    {
        return Err(Malformed);
    }
    let info_prefixes = exclusive_c14n(doc, *method_c14n)?;
    empty(doc, *method)?;
    let verification: &'static signature::RsaParameters = match algorithm(method_e)? {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" => {
            &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
        }
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" => &signature::RSA_PKCS1_2048_8192_SHA384,
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => {
            &signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY
        }
        _ => return Err(UnsupportedAlgorithm),
    };

    // The reference: this element, by its ID.
    let own_id = element.attribute("ID").ok_or(ReferencesAnotherElement)?;
    if reference_e.attribute("URI").and_then(|u| u.strip_prefix('#')) != Some(own_id) {
        return Err(ReferencesAnotherElement);
    }
    let reference_parts = only_elements(doc, *reference)?;
    let [
        (transforms, transforms_e),
        (digest_method, digest_method_e),
        (digest_value, digest_value_e),
    ] = reference_parts.as_slice()
    else {
        return Err(Malformed);
    };
    if !transforms_e.is(DSIG, "Transforms")
        || !digest_method_e.is(DSIG, "DigestMethod")
        || !digest_value_e.is(DSIG, "DigestValue")
    {
        return Err(Malformed);
    }
    empty(doc, *digest_method)?;
    let steps = only_elements(doc, *transforms)?;
    let [(_, enveloped_e), (exclusive, exclusive_e)] = steps.as_slice() else {
        return Err(UnsupportedAlgorithm);
    };
    if !enveloped_e.is(DSIG, "Transform") || algorithm(enveloped_e)? != ENVELOPED || !exclusive_e.is(DSIG, "Transform")
    {
        return Err(UnsupportedAlgorithm);
    }
    empty(doc, steps[0].0)?;
    let reference_prefixes = exclusive_c14n(doc, *exclusive)?;
    let digest_algorithm: &'static digest::Algorithm = match algorithm(digest_method_e)? {
        "http://www.w3.org/2001/04/xmlenc#sha256" => &digest::SHA256,
        "http://www.w3.org/2001/04/xmldsig-more#sha384" => &digest::SHA384,
        "http://www.w3.org/2001/04/xmlenc#sha512" => &digest::SHA512,
        _ => return Err(UnsupportedAlgorithm),
    };

    let expected = base64_text(doc, *digest_value).ok_or(Malformed)?;
    let digested = canonicalize(doc, id, Some(signature_id), &reference_prefixes);
    if digest::digest(digest_algorithm, &digested).as_ref() != expected.as_slice() {
        return Err(BadDigest);
    }
    let signed = canonicalize(doc, signed_info, None, &info_prefixes);
    let value = base64_text(doc, value).ok_or(Malformed)?;
    let verified = keys.iter().any(|key| {
        signature::UnparsedPublicKey::new(verification, &key.0)
            .verify(&signed, &value)
            .is_ok()
    });
    if verified { Ok(()) } else { Err(BadSignature) }
}

/// An algorithm element holds nothing: whatever an attacker put there would be
/// canonicalized, at a cost, before any key is tried.
fn empty(doc: &Document, id: NodeId) -> Result<(), SignatureError> {
    if only_elements(doc, id)?.is_empty() {
        Ok(())
    } else {
        Err(SignatureError::Malformed)
    }
}

/// The element children of `id`, which must hold nothing else but white space.
fn only_elements(doc: &Document, id: NodeId) -> Result<Vec<(NodeId, &Element)>, SignatureError> {
    if doc.has_mixed_content(id) {
        return Err(SignatureError::Malformed);
    }
    Ok(doc.child_elements(id).collect())
}

fn algorithm(element: &Element) -> Result<&str, SignatureError> {
    element.attribute("Algorithm").ok_or(SignatureError::Malformed)
}

/// An exclusive canonicalization method (a `CanonicalizationMethod` or a `Transform`), and
/// its InclusiveNamespaces `PrefixList`.
fn exclusive_c14n(doc: &Document, id: NodeId) -> Result<Vec<String>, SignatureError> {
    let element = doc.element(id).ok_or(SignatureError::Malformed)?;
    if algorithm(element)? != EXC_C14N {
        return Err(SignatureError::UnsupportedAlgorithm);
    }
    let children = only_elements(doc, id)?;
    match children.as_slice() {
        [] => Ok(Vec::new()),
        [(inclusive_id, inclusive)]
            if inclusive.is(EXC_C14N, "InclusiveNamespaces") && empty(doc, *inclusive_id).is_ok() =>
        {
            Ok(inclusive
                .attribute("PrefixList")
                .unwrap_or("")
                .split_ascii_whitespace()
                .map(str::to_owned)
                .collect())
        }
        _ => Err(SignatureError::Malformed),
    }
}

/// The bytes of an element holding base64 text (white space allowed).
fn base64_text(doc: &Document, id: NodeId) -> Option<Vec<u8>> {
    let text = doc.text(id)?;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact).ok()
}
