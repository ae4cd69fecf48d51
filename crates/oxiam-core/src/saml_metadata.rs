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

/// Reads a metadata document. Its `validUntil`, and its certificates' expiry, are not
/// looked at: AWS ignores both.
pub fn parse(document: &str) -> Result<Metadata, MetadataError> {
    use MetadataError::Unparsable;
    let mut reader = quick_xml::Reader::from_str(document);
    let mut path: Vec<String> = Vec::new();
    let mut entity_id = None;
    let mut identity_provider = false;
    // Inside a KeyDescriptor: whether it is for signing; inside its X509Certificate: the text.
    let mut signing_key = false;
    let mut certificate_text: Option<String> = None;
    let mut certificates = Vec::new();
    loop {
        let event = reader.read_event().map_err(|_| Unparsable)?;
        let (start, empty) = match &event {
            Event::Start(start) => (Some(start), false),
            Event::Empty(start) => (Some(start), true),
            _ => (None, false),
        };
        if let Some(start) = start {
            let name = local_name(start);
            let parent = path.last().map(String::as_str);
            match (parent, name.as_str()) {
                (None, "EntitiesDescriptor") | (Some("EntitiesDescriptor"), "EntitiesDescriptor") => {}
                // The first provider of the document is the one described.
                (None | Some("EntitiesDescriptor"), "EntityDescriptor") if entity_id.is_none() => {
                    entity_id = Some(attribute(start, "entityID")?.ok_or(Unparsable)?);
                }
                (None, _) => return Err(Unparsable),
                (Some("EntityDescriptor"), "IDPSSODescriptor") => identity_provider = true,
                (Some(_), "KeyDescriptor") => {
                    signing_key = attribute(start, "use")?.as_deref().is_none_or(|u| u == "signing");
                }
                (Some(_), "X509Certificate") if path.iter().any(|p| p == "KeyDescriptor") && !empty => {
                    certificate_text = Some(String::new());
                }
                _ => {}
            }
            if !empty {
                path.push(name);
            }
            continue;
        }
        match event {
            Event::Text(text) => {
                if let Some(gathered) = certificate_text.as_mut() {
                    gathered.push_str(&text.decode().map_err(|_| Unparsable)?);
                }
            }
            Event::End(_) => {
                match path.pop().as_deref() {
                    Some("X509Certificate") => {
                        if let Some(text) = certificate_text.take() {
                            let parsed = certificate(&text)?;
                            if signing_key {
                                certificates.push(parsed);
                            }
                        }
                    }
                    Some("KeyDescriptor") => signing_key = false,
                    _ => {}
                }
                if path.is_empty() {
                    break;
                }
            }
            // No DTD: nothing is defined, so nothing can be expanded.
            Event::DocType(_) | Event::GeneralRef(_) => return Err(Unparsable),
            Event::Eof => return Err(Unparsable),
            _ => {}
        }
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

/// An attribute's value, by its name without prefix.
fn attribute(start: &BytesStart<'_>, name: &str) -> Result<Option<String>, MetadataError> {
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|_| MetadataError::Unparsable)?;
        if attribute.key.local_name().as_ref() == name.as_bytes() {
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
