//! SAML 2.0 identity provider metadata as CreateSAMLProvider takes it (SAML 2.0 metadata
//! specification, sections 2.3 and 2.4.3): an `EntityDescriptor` (alone or in an
//! `EntitiesDescriptor`) with an `IDPSSODescriptor`, whose `KeyDescriptor`s for signing (or
//! for any use) carry the X.509 certificates a response must be signed with; every
//! certificate must parse. Read with quick-xml, elements by local name
//! (any namespace prefix); no DTD is taken, so no entity is ever expanded. Pure: no I/O.

use base64::Engine as _;
use quick_xml::events::{BytesStart, Event};

use crate::x509::Certificate;

/// What oxiam reads of a provider's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The identity provider's entity id (`entityID`): the issuer of its responses.
    pub entity_id: String,
    /// Its signing certificates (a `KeyDescriptor` for signing or for any use), in document
    /// order; none is required.
    pub signing_certificates: Vec<Certificate>,
}

/// Why a document is not metadata IAM takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// Not well-formed XML, XML with a DTD, not an `EntityDescriptor` (or an
    /// `EntitiesDescriptor` around one), no `entityID`, or a certificate that does not parse.
    #[error("Could not parse metadata")]
    Unparsable,
    /// Metadata of no identity provider (no `IDPSSODescriptor`).
    #[error("SAML Providers must reference at least one SAML assertion issuer.")]
    NoIssuer,
}

/// How deep elements may nest: metadata needs about eight levels; a document nested deeper
/// is refused before it costs anything.
const MAX_DEPTH: usize = 32;

/// Reads a metadata document. Its `validUntil`, and its certificates' expiry, are not
/// looked at: AWS ignores both.
pub fn parse(document: &str) -> Result<Metadata, MetadataError> {
    use MetadataError::Unparsable;
    let mut reader = quick_xml::Reader::from_str(document);
    // The open elements' local names; where the described entity, its IDPSSODescriptor, a
    // KeyDescriptor of that, and an X509Certificate in it opened (their depths).
    let mut path: Vec<String> = Vec::new();
    let mut entity_id: Option<String> = None;
    let mut entity_open: Option<usize> = None;
    let mut identity_provider = false;
    let mut identity_provider_open: Option<usize> = None;
    let mut key_descriptor: Option<(usize, bool)> = None;
    let mut certificate_text: Option<String> = None;
    let mut certificates = Vec::new();
    let mut root_closed = false;
    loop {
        let event = reader.read_event().map_err(|_| Unparsable)?;
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(start) | Event::Empty(start) => {
                // One root; nothing inside a certificate; no deeper than needed.
                if root_closed || certificate_text.is_some() || path.len() >= MAX_DEPTH {
                    return Err(Unparsable);
                }
                let name = local_name(&start);
                let depth = path.len();
                let parent = path.last().map(String::as_str);
                match (parent, name.as_str()) {
                    (None | Some("EntitiesDescriptor"), "EntitiesDescriptor") => {}
                    // The first provider of the document is the one described.
                    (None | Some("EntitiesDescriptor"), "EntityDescriptor") if entity_id.is_none() => {
                        entity_id = Some(attribute(&start, "entityID")?.ok_or(Unparsable)?);
                        entity_open = Some(depth);
                    }
                    (None, _) => return Err(Unparsable),
                    (_, "IDPSSODescriptor") if entity_open.is_some_and(|d| d + 1 == depth) => {
                        identity_provider = true;
                        identity_provider_open = Some(depth);
                    }
                    (_, "KeyDescriptor") if identity_provider_open.is_some_and(|d| d + 1 == depth) => {
                        let signing = attribute(&start, "use")?.as_deref().is_none_or(|u| u == "signing");
                        key_descriptor = Some((depth, signing));
                    }
                    (_, "X509Certificate") if key_descriptor.is_some() => {
                        if empty {
                            return Err(Unparsable);
                        }
                        certificate_text = Some(String::new());
                    }
                    _ => {}
                }
                if empty {
                    if depth == 0 {
                        root_closed = true;
                    }
                } else {
                    path.push(name);
                }
            }
            Event::End(_) => {
                path.pop();
                let depth = path.len();
                if let Some(text) = certificate_text.take() {
                    let parsed = certificate(&text)?;
                    if key_descriptor.is_some_and(|(_, signing)| signing) {
                        certificates.push(parsed);
                    }
                }
                // (The described entity's descriptors close with it; later entities are not
                // looked at.)
                if key_descriptor.is_some_and(|(d, _)| d == depth) {
                    key_descriptor = None;
                }
                if identity_provider_open == Some(depth) {
                    identity_provider_open = None;
                }
                if entity_open == Some(depth) {
                    entity_open = None;
                }
                if depth == 0 {
                    root_closed = true;
                }
            }
            Event::Text(text) => {
                let text = text.decode().map_err(|_| Unparsable)?;
                match certificate_text.as_mut() {
                    Some(gathered) => gathered.push_str(&text),
                    // Only white space outside the root.
                    None if path.is_empty() && !text.trim().is_empty() => return Err(Unparsable),
                    None => {}
                }
            }
            Event::CData(data) => {
                let data = data.decode().map_err(|_| Unparsable)?;
                match certificate_text.as_mut() {
                    Some(gathered) => gathered.push_str(&data),
                    None if path.is_empty() => return Err(Unparsable),
                    None => {}
                }
            }
            // XML's own entities and character references; nothing a DTD could define.
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().map_err(|_| Unparsable)? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = reference.decode().map_err(|_| Unparsable)?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or(Unparsable)?
                            .to_owned()
                    }
                };
                if path.is_empty() {
                    return Err(Unparsable);
                }
                if let Some(gathered) = certificate_text.as_mut() {
                    gathered.push_str(&resolved);
                }
            }
            // No DTD: nothing is defined, so nothing can be expanded.
            Event::DocType(_) => return Err(Unparsable),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !root_closed || !path.is_empty() {
        return Err(Unparsable);
    }
    let entity_id = entity_id.ok_or(Unparsable)?;
    if !identity_provider {
        return Err(MetadataError::NoIssuer);
    }
    Ok(Metadata {
        entity_id,
        signing_certificates: certificates,
    })
}

fn local_name(start: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(start.local_name().as_ref()).into_owned()
}

/// An unprefixed attribute's value (SAML's own attributes have no namespace: a prefixed one
/// of the same local name is another attribute).
fn attribute(start: &BytesStart<'_>, name: &str) -> Result<Option<String>, MetadataError> {
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|_| MetadataError::Unparsable)?;
        if attribute.key.as_ref() == name.as_bytes() {
            let value = attribute
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|_| MetadataError::Unparsable)?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

/// A certificate from an `X509Certificate` element: base64 of its DER, white space allowed.
fn certificate(text: &str) -> Result<Certificate, MetadataError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| MetadataError::Unparsable)?;
    Certificate::from_der_bytes(der).ok_or(MetadataError::Unparsable)
}
