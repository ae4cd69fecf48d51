//! A SAML 2.0 `Response` (SAML Core §3.2.2) read as AssumeRoleWithSAML reads it: a
//! successful status, exactly one assertion, directly inside the response, and a good
//! enveloped signature on the response or on that assertion (any signature present must be
//! good). What is returned is read from that one assertion element, the one a signature
//! covered; the rules below leave a wrapped document nowhere else to hide a second one:
//!
//! - no two elements share an `ID` (a reference could mean either);
//! - no other `Assertion` anywhere (not in `Extensions`, not in a signature's `Object`);
//! - no `ds:Signature` but the response's own and the assertion's own.
//!
//! Times are read as Unix seconds; what they must be, like the audience and the recipient,
//! is the caller's to decide (`oxiam-core`, as AWS documents it).

use crate::encryption::{self, DecryptionError, DecryptionKey};
use crate::signature::{self, DSIG, RsaPublicKey, SignatureError};
use crate::xml::{Document, Element, NodeId};

/// The SAML 2.0 protocol namespace (`samlp:`).
pub const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// The SAML 2.0 assertion namespace (`saml:`).
pub const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";

/// Why a response is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// Not well-formed XML (or XML with a DTD).
    #[error("the response is not well-formed XML")]
    NotWellFormed,
    /// Not a SAML response, or one missing what SAML requires.
    #[error("the response is malformed: {0}")]
    Malformed(&'static str),
    /// The response's status is not success (its status code).
    #[error("the response's status is {0}")]
    Status(String),
    /// The assertion is encrypted, and no key to decrypt it was given.
    #[error("the assertion is encrypted")]
    Encrypted,
    /// The assertion is encrypted, and does not decrypt with the keys given.
    #[error("the assertion does not decrypt: {0}")]
    Decryption(DecryptionError),
    /// Whatever went wrong from decrypting an encrypted assertion on (it did not decrypt,
    /// or not to one assertion, or not to a signed one). Callers answer all of these
    /// alike: telling them apart would let an attacker use AES-CBC's padding as an oracle
    /// on a captured assertion.
    #[error("the encrypted assertion: {0}")]
    InEncrypted(Box<ResponseError>),
    /// Neither the response nor its assertion is signed.
    #[error("neither the response nor the assertion is signed")]
    Unsigned,
    /// A signature that is there is not good.
    #[error("a signature is not good: {0}")]
    Signature(SignatureError),
    /// The document is shaped as signature wrapping shapes it.
    #[error("the response is wrapped: {0}")]
    Wrapping(&'static str),
}

/// Which elements carry the signatures that were checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signed {
    /// The assertion only.
    Assertion,
    /// The response only (which covers its assertion).
    Response,
    /// Both.
    Both,
}

impl Signed {
    /// Which of the two carry a signature; `Unsigned` if neither does.
    fn of(response: bool, assertion: bool) -> Result<Signed, ResponseError> {
        match (response, assertion) {
            (false, false) => Err(ResponseError::Unsigned),
            (true, false) => Ok(Signed::Response),
            (false, true) => Ok(Signed::Assertion),
            (true, true) => Ok(Signed::Both),
        }
    }
}

/// No two elements share an `ID`: a reference could mean either.
fn unique_ids(doc: &Document) -> Result<(), ResponseError> {
    let mut ids: Vec<&str> = doc.elements().filter_map(|(_, e)| e.attribute("ID")).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        return Err(ResponseError::Wrapping("two elements have the same ID"));
    }
    Ok(())
}

/// A subject confirmation's data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confirmation {
    /// `Method`.
    pub method: Option<String>,
    /// `SubjectConfirmationData/@Recipient`.
    pub recipient: Option<String>,
    /// `SubjectConfirmationData/@NotOnOrAfter`.
    pub not_on_or_after: Option<i64>,
    /// `SubjectConfirmationData/@NotBefore`.
    pub not_before: Option<i64>,
}

/// What a verified assertion says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    /// Which signatures were checked.
    pub signed: Signed,
    /// Whether it came encrypted.
    pub encrypted: bool,
    /// The assertion's `Issuer`.
    pub issuer: String,
    /// Its `IssueInstant`.
    pub issue_instant: i64,
    /// `Subject/NameID`: its text (all of it) and `Format`.
    pub name_id: Option<String>,
    /// `Subject/NameID/@Format`.
    pub name_id_format: Option<String>,
    /// `Subject/SubjectConfirmation`s.
    pub confirmations: Vec<Confirmation>,
    /// `Conditions/@NotBefore`.
    pub not_before: Option<i64>,
    /// `Conditions/@NotOnOrAfter`.
    pub not_on_or_after: Option<i64>,
    /// Each `Conditions/AudienceRestriction`'s audiences.
    pub audience_restrictions: Vec<Vec<String>>,
    /// The earliest `AuthnStatement/@SessionNotOnOrAfter`.
    pub session_not_on_or_after: Option<i64>,
    /// `AttributeStatement/Attribute`s: name and text values, in order (an attribute given
    /// twice has its values joined).
    pub attributes: Vec<(String, Vec<String>)>,
}

impl Assertion {
    /// The values of an attribute (none if absent).
    pub fn attribute(&self, name: &str) -> &[String] {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&[], |(_, v)| v.as_slice())
    }
}

/// Reads a response (its XML, not base64) and checks its signatures with `keys`; an
/// encrypted assertion is refused.
pub fn read(xml: &str, keys: &[RsaPublicKey]) -> Result<Assertion, ResponseError> {
    read_with(xml, keys, &[])
}

/// Reads a response, checks its signatures with `keys`, and decrypts an encrypted assertion
/// with `decryption` (which the response's signature, or the decrypted assertion's own,
/// must then cover).
pub fn read_with(xml: &str, keys: &[RsaPublicKey], decryption: &[DecryptionKey]) -> Result<Assertion, ResponseError> {
    let doc = Document::parse(xml).map_err(|_| ResponseError::NotWellFormed)?;
    let response = doc.root();
    let response_e = doc.element(response).expect("the root is an element");
    if !response_e.is(PROTOCOL, "Response") {
        return Err(ResponseError::Malformed("not a SAML 2.0 Response"));
    }
    let status = doc
        .child(response, PROTOCOL, "Status")
        .and_then(|s| doc.child(s, PROTOCOL, "StatusCode"))
        .and_then(|c| doc.element(c)?.attribute("Value"))
        .ok_or(ResponseError::Malformed("no status code"))?;
    if status != SUCCESS {
        return Err(ResponseError::Status(status.to_owned()));
    }

    unique_ids(&doc)?;
    let encrypted: Vec<NodeId> = doc
        .elements()
        .filter(|(_, e)| e.is(ASSERTION, "EncryptedAssertion"))
        .map(|(id, _)| id)
        .collect();
    let assertions: Vec<NodeId> = doc
        .elements()
        .filter(|(_, e)| e.is(ASSERTION, "Assertion"))
        .map(|(id, _)| id)
        .collect();
    match (assertions.len(), encrypted.as_slice()) {
        (_, []) => {}
        (0, [one]) if doc.element(*one).and_then(|e| e.parent) == Some(response) => {
            return read_encrypted(&doc, response, *one, keys, decryption);
        }
        (0, [_]) => return Err(ResponseError::Wrapping("the assertion is not the response's own")),
        _ => return Err(ResponseError::Wrapping("more than one assertion")),
    }
    let assertion = match assertions.as_slice() {
        [] => return Err(ResponseError::Malformed("no assertion")),
        [one] if doc.element(*one).and_then(|e| e.parent) == Some(response) => *one,
        [_] => return Err(ResponseError::Wrapping("the assertion is not the response's own")),
        _ => return Err(ResponseError::Wrapping("more than one assertion")),
    };
    let misplaced = doc
        .elements()
        .any(|(_, e)| e.is(DSIG, "Signature") && e.parent != Some(response) && e.parent != Some(assertion));
    if misplaced {
        return Err(ResponseError::Wrapping("a signature where none belongs"));
    }

    let response_signed = signature::has_signature(&doc, response);
    let assertion_signed = signature::has_signature(&doc, assertion);
    let signed = Signed::of(response_signed, assertion_signed)?;
    if response_signed {
        signature::verify(&doc, response, keys).map_err(ResponseError::Signature)?;
    }
    if assertion_signed {
        signature::verify(&doc, assertion, keys).map_err(ResponseError::Signature)?;
    }
    read_assertion(&doc, assertion, signed, false)
}

/// The one assertion of a response whose `EncryptedAssertion` is `encrypted`: the response's
/// signature (which covers the encrypted form) checked first, then the decrypted assertion,
/// read as a document of its own, with its own signature if it has one.
fn read_encrypted(
    doc: &Document,
    response: NodeId,
    encrypted: NodeId,
    keys: &[RsaPublicKey],
    decryption: &[DecryptionKey],
) -> Result<Assertion, ResponseError> {
    if doc
        .elements()
        .any(|(_, e)| e.is(DSIG, "Signature") && e.parent != Some(response))
    {
        return Err(ResponseError::Wrapping("a signature where none belongs"));
    }
    let response_signed = signature::has_signature(doc, response);
    if response_signed {
        signature::verify(doc, response, keys).map_err(ResponseError::Signature)?;
    }
    if decryption.is_empty() {
        return Err(ResponseError::Encrypted);
    }
    decrypted(doc, encrypted, keys, decryption, response_signed).map_err(|e| ResponseError::InEncrypted(Box::new(e)))
}

/// The encrypted assertion decrypted, read and checked.
fn decrypted(
    doc: &Document,
    encrypted: NodeId,
    keys: &[RsaPublicKey],
    decryption: &[DecryptionKey],
    response_signed: bool,
) -> Result<Assertion, ResponseError> {
    let plaintext = encryption::decrypt(doc, encrypted, decryption).map_err(ResponseError::Decryption)?;
    // The plaintext is read where it was: encryptors write the element alone, leaving out
    // the namespaces it had from the response (XML Encryption §4.1, "in context"). An
    // element around it declares them again, so prefixes resolve, and canonicalize, as
    // they did when the assertion was signed.
    let mut context = String::from("<context");
    for (prefix, uri) in doc.in_scope(encrypted) {
        let uri = uri.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;");
        match prefix {
            Some(p) => context.push_str(&format!(" xmlns:{p}=\"{uri}\"")),
            None => context.push_str(&format!(" xmlns=\"{uri}\"")),
        }
    }
    context.push('>');
    context.push_str(&plaintext);
    context.push_str("</context>");
    let inner =
        Document::parse(&context).map_err(|_| ResponseError::Malformed("the decrypted assertion is not XML"))?;
    let elements: Vec<(NodeId, &Element)> = inner.child_elements(inner.root()).collect();
    let [(assertion, assertion_e)] = elements[..] else {
        return Err(ResponseError::Malformed("what was encrypted is not one element"));
    };
    if inner.has_mixed_content(inner.root()) || !assertion_e.is(ASSERTION, "Assertion") {
        return Err(ResponseError::Malformed("what was encrypted is not an assertion"));
    }
    unique_ids(&inner)?;
    if inner.elements().any(|(id, e)| {
        (id != assertion && (e.is(ASSERTION, "Assertion") || e.is(ASSERTION, "EncryptedAssertion")))
            || (e.is(DSIG, "Signature") && e.parent != Some(assertion))
    }) {
        return Err(ResponseError::Wrapping(
            "the decrypted assertion holds another, or a stray signature",
        ));
    }
    let assertion_signed = signature::has_signature(&inner, assertion);
    let signed = Signed::of(response_signed, assertion_signed)?;
    if assertion_signed {
        signature::verify(&inner, assertion, keys).map_err(ResponseError::Signature)?;
    }
    read_assertion(&inner, assertion, signed, true)
}

fn read_assertion(
    doc: &Document,
    assertion: NodeId,
    signed: Signed,
    encrypted: bool,
) -> Result<Assertion, ResponseError> {
    use ResponseError::Malformed;
    let element = doc.element(assertion).expect("an element");
    if element.attribute("Version") != Some("2.0") {
        return Err(Malformed("the assertion is not SAML 2.0"));
    }
    let issuer = one_child(doc, assertion, "Issuer")?
        .and_then(|i| doc.text(i))
        .ok_or(Malformed("the assertion has no issuer"))?;
    let issue_instant = time(element, "IssueInstant")?.ok_or(Malformed("the assertion has no IssueInstant"))?;

    let (mut name_id, mut name_id_format, mut confirmations) = (None, None, Vec::new());
    if let Some(subject) = one_child(doc, assertion, "Subject")? {
        if let Some(id) = one_child(doc, subject, "NameID")? {
            name_id = Some(doc.text(id).ok_or(Malformed("NameID holds elements"))?);
            name_id_format = doc.element(id).and_then(|e| e.attribute("Format")).map(str::to_owned);
        }
        for (confirmation, e) in children(doc, subject, "SubjectConfirmation") {
            let data = one_child(doc, confirmation, "SubjectConfirmationData")?.and_then(|d| doc.element(d));
            confirmations.push(Confirmation {
                method: e.attribute("Method").map(str::to_owned),
                recipient: data.and_then(|d| d.attribute("Recipient")).map(str::to_owned),
                not_on_or_after: data.map(|d| time(d, "NotOnOrAfter")).transpose()?.flatten(),
                not_before: data.map(|d| time(d, "NotBefore")).transpose()?.flatten(),
            });
        }
    }

    let (mut not_before, mut not_on_or_after, mut audience_restrictions) = (None, None, Vec::new());
    if let Some(conditions) = one_child(doc, assertion, "Conditions")? {
        let e = doc.element(conditions).expect("an element");
        not_before = time(e, "NotBefore")?;
        not_on_or_after = time(e, "NotOnOrAfter")?;
        for (restriction, _) in children(doc, conditions, "AudienceRestriction") {
            let audiences = children(doc, restriction, "Audience")
                .map(|(a, _)| doc.text(a).ok_or(Malformed("an Audience holds elements")))
                .collect::<Result<Vec<_>, _>>()?;
            audience_restrictions.push(audiences);
        }
    }

    let mut session_not_on_or_after: Option<i64> = None;
    for (_, statement) in children(doc, assertion, "AuthnStatement") {
        if let Some(t) = time(statement, "SessionNotOnOrAfter")? {
            session_not_on_or_after = Some(session_not_on_or_after.map_or(t, |s| s.min(t)));
        }
    }

    let mut attributes: Vec<(String, Vec<String>)> = Vec::new();
    for (statement, _) in children(doc, assertion, "AttributeStatement") {
        for (attribute, e) in children(doc, statement, "Attribute") {
            let name = e.attribute("Name").ok_or(Malformed("an Attribute has no Name"))?;
            // A value holding elements (no AWS attribute does) is not a text value.
            let values = children(doc, attribute, "AttributeValue").filter_map(|(v, _)| doc.text(v));
            match attributes.iter_mut().find(|(n, _)| n == name) {
                Some((_, existing)) => existing.extend(values),
                None => attributes.push((name.to_owned(), values.collect())),
            }
        }
    }

    Ok(Assertion {
        signed,
        encrypted,
        issuer,
        issue_instant,
        name_id,
        name_id_format,
        confirmations,
        not_before,
        not_on_or_after,
        audience_restrictions,
        session_not_on_or_after,
        attributes,
    })
}

/// The children `local` in the assertion namespace.
fn children<'d>(doc: &'d Document, id: NodeId, local: &'d str) -> impl Iterator<Item = (NodeId, &'d Element)> {
    doc.child_elements(id).filter(move |(_, e)| e.is(ASSERTION, local))
}

/// The one child `local` in the assertion namespace, if any; two are refused.
fn one_child(doc: &Document, id: NodeId, local: &'static str) -> Result<Option<NodeId>, ResponseError> {
    let mut found = children(doc, id, local).map(|(c, _)| c);
    let first = found.next();
    if found.next().is_some() {
        return Err(ResponseError::Malformed("an element SAML allows once is there twice"));
    }
    Ok(first)
}

/// An `xs:dateTime` attribute (SAML's are UTC) as Unix seconds.
fn time(element: &Element, name: &str) -> Result<Option<i64>, ResponseError> {
    element
        .attribute(name)
        .map(|t| date_time(t).ok_or(ResponseError::Malformed("a time is not an xs:dateTime")))
        .transpose()
}

/// `2026-01-01T00:05:00Z` (fractions of a second dropped; an offset applied) as Unix seconds.
pub fn date_time(text: &str) -> Option<i64> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(time::OffsetDateTime::unix_timestamp)
}
