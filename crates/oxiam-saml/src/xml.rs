//! A whole XML document read into a tree, with every element's and attribute's namespace
//! resolved: what canonicalization and signature checks walk. Hardened for input from
//! anyone: no DTD (so no entity beyond XML's five is ever expanded), one root, bounded
//! nesting and size, duplicate attributes refused, every prefix declared.
//!
//! Line ends are normalized on the raw text first (XML 1.0 §2.11: CR LF and lone CR become
//! LF), so a `&#13;` reference survives as a carriage return while a literal one does not.
//! Comments are dropped: oxiam canonicalizes without comments, and text on either side of
//! one reads as one text (so `alice@example.test<!---->.evil.test` is that whole address).

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};

/// The namespace the `xml` prefix is bound to, always.
pub const XML_NAMESPACE: &str = "http://www.w3.org/XML/1998/namespace";

/// How deep elements may nest (a SAML response needs about eight levels).
const MAX_DEPTH: usize = 48;
/// How many nodes a document may have.
const MAX_NODES: usize = 20_000;
/// How many attributes and namespace declarations one element may have (SAML's carry a
/// handful; each costs a duplicate check against the others).
const MAX_ATTRIBUTES: usize = 64;
/// The namespace the `xmlns` prefix stands for, which nothing may be bound to.
const XMLNS_NAMESPACE: &str = "http://www.w3.org/2000/xmlns/";

/// A node's index in its [`Document`].
pub type NodeId = usize;

/// A node of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// An element.
    Element(Element),
    /// Character data (text, CDATA sections and references, resolved).
    Text(String),
    /// A processing instruction: its target and its data (without the space after the target).
    Instruction(String, String),
}

/// An element, its namespace resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// The prefix it is written with.
    pub prefix: Option<String>,
    /// Its local name.
    pub local: String,
    /// Its namespace (`None`: no namespace).
    pub namespace: Option<String>,
    /// Its attributes, namespace declarations aside, in document order.
    pub attributes: Vec<Attribute>,
    /// The namespaces it declares: prefix (`None`: the default namespace) and URI (empty:
    /// the default namespace undeclared).
    pub declarations: Vec<(Option<String>, String)>,
    /// Its children, in order.
    pub children: Vec<NodeId>,
    /// Its parent element (`None` for the root).
    pub parent: Option<NodeId>,
}

/// An attribute, its namespace resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The prefix it is written with (`None`: no namespace).
    pub prefix: Option<String>,
    /// Its local name.
    pub local: String,
    /// Its namespace.
    pub namespace: Option<String>,
    /// Its value, normalized as XML 1.0 §3.3.3 says.
    pub value: String,
}

/// Why a text is not a document this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a well-formed XML document without a DTD")]
pub struct NotWellFormed;

/// A parsed document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    nodes: Vec<Node>,
    root: NodeId,
}

impl Document {
    /// Reads a document.
    pub fn parse(text: &str) -> Result<Document, NotWellFormed> {
        // Only XML's characters, anywhere (no NUL, no other C0 control, no U+FFFE/U+FFFF).
        if !text.chars().all(is_xml_char) {
            return Err(NotWellFormed);
        }
        let text = normalize_line_ends(text);
        let mut reader = quick_xml::Reader::from_str(&text);
        reader.config_mut().check_comments = true;
        let mut nodes: Vec<Node> = Vec::new();
        // Open elements, innermost last.
        let mut open: Vec<NodeId> = Vec::new();
        let mut root = None;
        let mut first = true;
        loop {
            let event = reader.read_event().map_err(|_| NotWellFormed)?;
            // The XML declaration comes first or not at all.
            if matches!(event, Event::Decl(_)) && !first {
                return Err(NotWellFormed);
            }
            first = false;
            if nodes.len() > MAX_NODES {
                return Err(NotWellFormed);
            }
            let empty = matches!(event, Event::Empty(_));
            match event {
                Event::Start(start) | Event::Empty(start) if root.is_none() || !open.is_empty() => {
                    if open.len() >= MAX_DEPTH {
                        return Err(NotWellFormed);
                    }
                    let parent = open.last().copied();
                    let element = element(&nodes, parent, &start)?;
                    let id = nodes.len();
                    nodes.push(Node::Element(element));
                    match parent {
                        Some(p) => children_of(&mut nodes, p).push(id),
                        None => root = Some(id),
                    }
                    if !empty {
                        open.push(id);
                    }
                }
                // A second root.
                Event::Start(_) | Event::Empty(_) => return Err(NotWellFormed),
                Event::End(_) => {
                    open.pop().ok_or(NotWellFormed)?;
                }
                Event::Text(t) => {
                    let t = t.decode().map_err(|_| NotWellFormed)?;
                    if t.contains("]]>") {
                        return Err(NotWellFormed);
                    }
                    push_text(&mut nodes, &open, &t)?;
                }
                Event::CData(c) => {
                    let c = c.decode().map_err(|_| NotWellFormed)?;
                    if open.is_empty() {
                        return Err(NotWellFormed);
                    }
                    push_text(&mut nodes, &open, &c)?;
                }
                // XML's own entities and character references; nothing a DTD could define.
                Event::GeneralRef(reference) => {
                    let resolved = match reference.resolve_char_ref().map_err(|_| NotWellFormed)? {
                        Some(c) if is_xml_char(c) => c.to_string(),
                        Some(_) => return Err(NotWellFormed),
                        None => {
                            let name = reference.decode().map_err(|_| NotWellFormed)?;
                            quick_xml::escape::resolve_predefined_entity(&name)
                                .ok_or(NotWellFormed)?
                                .to_owned()
                        }
                    };
                    if open.is_empty() {
                        return Err(NotWellFormed);
                    }
                    push_text(&mut nodes, &open, &resolved)?;
                }
                Event::PI(pi) => {
                    if let Some(&parent) = open.last() {
                        let target = std::str::from_utf8(pi.target()).map_err(|_| NotWellFormed)?;
                        let data = std::str::from_utf8(pi.content()).map_err(|_| NotWellFormed)?;
                        let id = nodes.len();
                        nodes.push(Node::Instruction(
                            target.to_owned(),
                            data.trim_start_matches([' ', '\t', '\n']).to_owned(),
                        ));
                        children_of(&mut nodes, parent).push(id);
                    }
                }
                // No DTD: nothing is defined, so nothing can be expanded.
                Event::DocType(_) => return Err(NotWellFormed),
                Event::Decl(_) | Event::Comment(_) => {}
                Event::Eof => break,
            }
        }
        match root {
            Some(root) if open.is_empty() => Ok(Document { nodes, root }),
            _ => Err(NotWellFormed),
        }
    }

    /// The document element.
    pub fn root(&self) -> NodeId {
        self.root
    }

    /// A node.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// An element (`None` for another kind of node).
    pub fn element(&self, id: NodeId) -> Option<&Element> {
        match &self.nodes[id] {
            Node::Element(e) => Some(e),
            _ => None,
        }
    }

    /// Every element of the document, in document order.
    pub fn elements(&self) -> impl Iterator<Item = (NodeId, &Element)> {
        self.nodes.iter().enumerate().filter_map(|(id, n)| match n {
            Node::Element(e) => Some((id, e)),
            _ => None,
        })
    }

    /// The element children of `id`.
    pub fn child_elements(&self, id: NodeId) -> impl Iterator<Item = (NodeId, &Element)> {
        self.element(id)
            .map(|e| e.children.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|&c| self.element(c).map(|e| (c, e)))
    }

    /// The first child element of `id` that is `local` in `namespace`.
    pub fn child(&self, id: NodeId, namespace: &str, local: &str) -> Option<NodeId> {
        self.child_elements(id)
            .find(|(_, e)| e.is(namespace, local))
            .map(|(c, _)| c)
    }

    /// Whether `id` has anything but elements and white space among its children.
    pub fn has_mixed_content(&self, id: NodeId) -> bool {
        self.element(id).is_some_and(|e| {
            e.children.iter().any(|&c| match &self.nodes[c] {
                Node::Text(t) => !t.trim_matches([' ', '\t', '\n', '\r']).is_empty(),
                Node::Instruction(..) => true,
                Node::Element(_) => false,
            })
        })
    }

    /// The text of an element that holds only text (its text nodes joined: a comment
    /// between two is not there); `None` if it holds elements.
    pub fn text(&self, id: NodeId) -> Option<String> {
        let e = self.element(id)?;
        let mut out = String::new();
        for &c in &e.children {
            match &self.nodes[c] {
                Node::Text(t) => out.push_str(t),
                Node::Instruction(..) => {}
                Node::Element(_) => return None,
            }
        }
        Some(out)
    }
}

impl Document {
    /// Every namespace binding in scope at `id` (its own declarations and its ancestors',
    /// innermost first wins), as (prefix, URI); a default namespace undeclared is left out.
    pub fn in_scope(&self, id: NodeId) -> Vec<(Option<&str>, &str)> {
        let mut bound: Vec<(Option<&str>, &str)> = Vec::new();
        let mut at = Some(id);
        while let Some(current) = at {
            let Some(e) = self.element(current) else { break };
            for (prefix, uri) in &e.declarations {
                if !bound.iter().any(|(p, _)| *p == prefix.as_deref()) {
                    bound.push((prefix.as_deref(), uri));
                }
            }
            at = e.parent;
        }
        bound.retain(|(_, uri)| !uri.is_empty());
        bound
    }
}

impl Element {
    /// Whether the element is `local` in `namespace`.
    pub fn is(&self, namespace: &str, local: &str) -> bool {
        self.local == local && self.namespace.as_deref() == Some(namespace)
    }

    /// The value of an attribute without a namespace.
    pub fn attribute(&self, local: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.namespace.is_none() && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// The name as written (`prefix:local` or `local`).
    pub fn qualified_name(&self) -> Cow<'_, str> {
        qualified(self.prefix.as_deref(), &self.local)
    }
}

impl Attribute {
    /// The name as written.
    pub fn qualified_name(&self) -> Cow<'_, str> {
        qualified(self.prefix.as_deref(), &self.local)
    }
}

fn qualified<'a>(prefix: Option<&str>, local: &'a str) -> Cow<'a, str> {
    match prefix {
        Some(p) => Cow::Owned(format!("{p}:{local}")),
        None => Cow::Borrowed(local),
    }
}

/// XML 1.0's `Char`: TAB, LF, CR, and the rest of Unicode but the other C0 controls,
/// surrogates and U+FFFE/U+FFFF.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// XML 1.0 §2.11: CR LF and a lone CR read as LF.
fn normalize_line_ends(text: &str) -> Cow<'_, str> {
    if !text.contains('\r') {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
}

fn children_of(nodes: &mut [Node], id: NodeId) -> &mut Vec<NodeId> {
    match &mut nodes[id] {
        Node::Element(e) => &mut e.children,
        _ => unreachable!("only elements are open"),
    }
}

/// Text inside the root joins the text before it; outside the root only white space is
/// allowed, and is not kept.
fn push_text(nodes: &mut Vec<Node>, open: &[NodeId], text: &str) -> Result<(), NotWellFormed> {
    let Some(&parent) = open.last() else {
        return if text.trim_matches([' ', '\t', '\n']).is_empty() {
            Ok(())
        } else {
            Err(NotWellFormed)
        };
    };
    if let Some(&last) = children_of(nodes, parent).last()
        && let Node::Text(previous) = &mut nodes[last]
    {
        previous.push_str(text);
        return Ok(());
    }
    let id = nodes.len();
    nodes.push(Node::Text(text.to_owned()));
    children_of(nodes, parent).push(id);
    Ok(())
}

fn split_name(name: &[u8]) -> Result<(Option<String>, String), NotWellFormed> {
    let name = std::str::from_utf8(name).map_err(|_| NotWellFormed)?;
    match name.split_once(':') {
        Some((prefix, local)) if !prefix.is_empty() && !local.is_empty() && !local.contains(':') => {
            Ok((Some(prefix.to_owned()), local.to_owned()))
        }
        None if !name.is_empty() => Ok((None, name.to_owned())),
        _ => Err(NotWellFormed),
    }
}

/// An element from its start tag, its namespaces resolved against its own declarations and
/// its ancestors'.
fn element(nodes: &[Node], parent: Option<NodeId>, start: &BytesStart<'_>) -> Result<Element, NotWellFormed> {
    let (prefix, local) = split_name(start.name().as_ref())?;
    let mut declarations: Vec<(Option<String>, String)> = Vec::new();
    let mut attributes = Vec::new();
    for (n, attribute) in start.attributes().enumerate() {
        let attribute = attribute.map_err(|_| NotWellFormed)?;
        if n >= MAX_ATTRIBUTES || attribute.value.contains(&b'<') {
            return Err(NotWellFormed);
        }
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|_| NotWellFormed)?
            .into_owned();
        // (A character reference may stand for anything: what it stands for must be XML's.)
        if !value.chars().all(is_xml_char) {
            return Err(NotWellFormed);
        }
        let key = attribute.key.as_ref();
        if key == b"xmlns" {
            if value == XML_NAMESPACE || value == XMLNS_NAMESPACE {
                return Err(NotWellFormed);
            }
            declarations.push((None, value));
        } else if let Some(declared) = key.strip_prefix(b"xmlns:") {
            let declared = std::str::from_utf8(declared).map_err(|_| NotWellFormed)?;
            // `xml` only to its own namespace; `xmlns` never; no prefix undeclared (XML
            // Namespaces 1.0 has no `xmlns:p=""`).
            let bad = match declared {
                "xml" => value != XML_NAMESPACE,
                "xmlns" => true,
                _ => {
                    value.is_empty()
                        || value == XML_NAMESPACE
                        || value == XMLNS_NAMESPACE
                        || declared.is_empty()
                        || declared.contains(':')
                }
            };
            if bad {
                return Err(NotWellFormed);
            }
            if declared != "xml" {
                declarations.push((Some(declared.to_owned()), value));
            }
        } else {
            let (prefix, local) = split_name(key)?;
            attributes.push(Attribute {
                prefix,
                local,
                namespace: None,
                value,
            });
        }
    }
    // Resolves a prefix against this element's declarations, then its ancestors'.
    let resolve = |prefix: Option<&str>| -> Option<String> {
        if prefix == Some("xml") {
            return Some(XML_NAMESPACE.to_owned());
        }
        if let Some((_, uri)) = declarations.iter().find(|(p, _)| p.as_deref() == prefix) {
            return (!uri.is_empty()).then(|| uri.clone());
        }
        let mut at = parent;
        while let Some(id) = at {
            let Node::Element(e) = &nodes[id] else { return None };
            if let Some((_, uri)) = e.declarations.iter().find(|(p, _)| p.as_deref() == prefix) {
                return (!uri.is_empty()).then(|| uri.clone());
            }
            at = e.parent;
        }
        None
    };
    let namespace = resolve(prefix.as_deref());
    if prefix.is_some() && namespace.is_none() {
        return Err(NotWellFormed);
    }
    for attribute in &mut attributes {
        if let Some(p) = &attribute.prefix {
            attribute.namespace = Some(resolve(Some(p)).ok_or(NotWellFormed)?);
        }
    }
    // One attribute per expanded name; one declaration per prefix.
    for (i, a) in attributes.iter().enumerate() {
        if attributes[..i]
            .iter()
            .any(|b| b.local == a.local && b.namespace == a.namespace)
        {
            return Err(NotWellFormed);
        }
    }
    for (i, (p, _)) in declarations.iter().enumerate() {
        if declarations[..i].iter().any(|(q, _)| q == p) {
            return Err(NotWellFormed);
        }
    }
    Ok(Element {
        prefix,
        local,
        namespace,
        attributes,
        declarations,
        children: Vec::new(),
        parent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_split_no_text() {
        let doc = Document::parse("<a>alice@example.test<!---->.evil.test</a>").unwrap();
        assert_eq!(doc.text(doc.root()).unwrap(), "alice@example.test.evil.test");
    }

    #[test]
    fn refused() {
        for bad in [
            "<!DOCTYPE a><a/>",
            "<a/><b/>",
            "<a>",
            "text<a/>",
            "<p:a/>",
            "<a p:x='1'/>",
            "<a x='1' x='2'/>",
            "<a xmlns:p='u' xmlns:q='u' p:x='1' q:x='2'/>",
            "<a>&custom;</a>",
            "<a xmlns:xmlns='u'/>",
            "<a xmlns:p=''/>",
            "<a>\u{1}</a>",
            "<a>&#1;</a>",
            "<a>&#xFFFE;</a>",
            "<a x='&#0;'/>",
            "<a>]]></a>",
            "<a x='<'/>",
            "<a><?xml version='1.0'?></a>",
            "<a xmlns='http://www.w3.org/XML/1998/namespace'/>",
            "<a xmlns:p='http://www.w3.org/2000/xmlns/'/>",
        ] {
            assert_eq!(Document::parse(bad), Err(NotWellFormed), "{bad}");
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert_eq!(Document::parse(&deep), Err(NotWellFormed));
    }

    #[test]
    fn namespaces_resolve() {
        let doc = Document::parse("<a xmlns='d' xmlns:p='u'><p:b p:x='1' y='2'/><c xmlns=''/></a>").unwrap();
        let (b, be) = doc.child_elements(doc.root()).next().unwrap();
        assert_eq!(be.namespace.as_deref(), Some("u"));
        assert_eq!(be.attributes[0].namespace.as_deref(), Some("u"));
        assert_eq!(be.attributes[1].namespace, None);
        assert!(doc.in_scope(b).contains(&(None, "d")));
        let (_, ce) = doc.child_elements(doc.root()).nth(1).unwrap();
        assert_eq!(ce.namespace, None);
    }
}
