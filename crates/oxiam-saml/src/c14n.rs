//! Exclusive XML Canonicalization 1.0 without comments
//! (<http://www.w3.org/2001/10/xml-exc-c14n#>) of one element and its descendants, as XML
//! signatures digest a referenced element and sign their `SignedInfo`.
//!
//! From Canonical XML 1.0 §2 and Exclusive Canonicalization §3:
//! - empty elements are written `<a></a>`; attributes are sorted by namespace URI, then
//!   local name (those without a namespace first), with `"`-quoted escaped values;
//! - an element declares exactly the namespaces it *visibly utilizes* (its own prefix or
//!   the default namespace, and its attributes' prefixes) that its nearest written ancestor
//!   did not already declare with the same URI — ancestors outside the canonicalized
//!   element count only through the bindings they put in scope; the InclusiveNamespaces
//!   `PrefixList` adds prefixes written as Canonical XML would (whenever in scope and not
//!   already declared); `xmlns=""` undeclares a default an ancestor wrote;
//! - `xml:` attributes of ancestors are not inherited (unlike inclusive canonicalization);
//! - text escapes `&`, `<`, `>` and CR; attribute values escape `&`, `<`, `"`, TAB, LF, CR;
//! - processing instructions stay, comments go (the tree has none).

use std::collections::HashMap;

use crate::xml::{Document, Node, NodeId, XML_NAMESPACE};

/// At most this many prefixes in an InclusiveNamespaces `PrefixList` are looked at (IdPs
/// send a handful; each one costs a lookup per element).
pub const MAX_INCLUSIVE_PREFIXES: usize = 32;

/// Namespace bindings as a walk enters and leaves elements: what is in scope, and what the
/// written ancestors declared. Each lookup costs the same whatever the depth or the number
/// of declarations around (a document full of them costs no more per element).
#[derive(Default)]
struct Scopes<'d> {
    /// Prefix (`None`: the default namespace) → its URIs, innermost last ("" undeclares).
    in_scope: HashMap<Option<&'d str>, Vec<&'d str>>,
    /// The same for what written ancestors declared.
    rendered: HashMap<Option<&'d str>, Vec<String>>,
}

impl<'d> Scopes<'d> {
    fn bound(&self, prefix: Option<&str>) -> Option<&'d str> {
        if prefix == Some("xml") {
            return Some(XML_NAMESPACE);
        }
        self.in_scope
            .get(&prefix)
            .and_then(|uris| uris.last().copied())
            .filter(|uri| !uri.is_empty())
    }

    fn enter(&mut self, declarations: &'d [(Option<String>, String)]) {
        for (prefix, uri) in declarations {
            self.in_scope.entry(prefix.as_deref()).or_default().push(uri);
        }
    }

    fn leave(&mut self, declarations: &'d [(Option<String>, String)]) {
        for (prefix, _) in declarations {
            if let Some(uris) = self.in_scope.get_mut(&prefix.as_deref()) {
                uris.pop();
            }
        }
    }
}

/// The canonical form of `apex` and its descendants, leaving out `excluded` and its
/// descendants (an enveloped signature), with `inclusive_prefixes` treated as Canonical XML
/// treats every namespace (`#default` for the default namespace; the first
/// [`MAX_INCLUSIVE_PREFIXES`] distinct ones).
pub fn canonicalize<'d>(
    doc: &'d Document,
    apex: NodeId,
    excluded: Option<NodeId>,
    inclusive_prefixes: &'d [String],
) -> Vec<u8> {
    let mut inclusive: Vec<Option<&'d str>> = Vec::new();
    for p in inclusive_prefixes {
        let p = if p == "#default" { None } else { Some(p.as_str()) };
        if p != Some("xml") && !inclusive.contains(&p) && inclusive.len() < MAX_INCLUSIVE_PREFIXES {
            inclusive.push(p);
        }
    }
    let mut scopes = Scopes::default();
    // What the apex's ancestors put in scope, outermost first.
    let mut ancestors = Vec::new();
    let mut at = doc.element(apex).and_then(|e| e.parent);
    while let Some(id) = at {
        ancestors.push(id);
        at = doc.element(id).and_then(|e| e.parent);
    }
    for &id in ancestors.iter().rev() {
        if let Some(e) = doc.element(id) {
            scopes.enter(&e.declarations);
        }
    }
    // Nothing is written yet: the default namespace counts as written undeclared ("").
    scopes.rendered.insert(None, vec![String::new()]);
    let mut out = Vec::with_capacity(4096);
    write(doc, apex, excluded, &inclusive, &mut scopes, &mut out);
    out
}

fn write<'d>(
    doc: &'d Document,
    id: NodeId,
    excluded: Option<NodeId>,
    inclusive: &[Option<&'d str>],
    scopes: &mut Scopes<'d>,
    out: &mut Vec<u8>,
) {
    match doc.node(id) {
        Node::Text(text) => escape_text(text, out),
        Node::Instruction(target, data) => {
            out.extend_from_slice(b"<?");
            out.extend_from_slice(target.as_bytes());
            if !data.is_empty() {
                out.push(b' ');
                out.extend_from_slice(data.as_bytes());
            }
            out.extend_from_slice(b"?>");
        }
        Node::Element(element) => {
            scopes.enter(&element.declarations);
            let name = element.qualified_name();
            out.push(b'<');
            out.extend_from_slice(name.as_bytes());

            // The prefixes this element must have bound: the ones it visibly utilizes,
            // then the inclusive ones in scope (Canonical XML writes only namespaces in
            // scope, and a default undeclared only to undo an ancestor's).
            let mut wanted: Vec<Option<&'d str>> = vec![element.prefix.as_deref()];
            for attribute in &element.attributes {
                if let Some(p) = attribute.prefix.as_deref()
                    && p != "xml"
                {
                    wanted.push(Some(p));
                }
            }
            wanted.extend(inclusive.iter().filter(|p| p.is_none() || scopes.bound(**p).is_some()));
            let mut declarations: Vec<(Option<&'d str>, &'d str)> = Vec::new();
            for p in wanted {
                if declarations.iter().any(|(q, _)| *q == p) {
                    continue;
                }
                let uri = scopes.bound(p).unwrap_or("");
                let already = match scopes.rendered.get(&p).and_then(|v| v.last()) {
                    Some(current) => current == uri,
                    // Never written: an unbound prefix or default needs no declaration.
                    None => uri.is_empty(),
                };
                if !already {
                    declarations.push((p, uri));
                }
            }
            // The default namespace (no local name) first, then by prefix.
            declarations.sort_by(|a, b| a.0.unwrap_or("").cmp(b.0.unwrap_or("")));
            for (prefix, uri) in &declarations {
                match prefix {
                    Some(p) => {
                        out.extend_from_slice(b" xmlns:");
                        out.extend_from_slice(p.as_bytes());
                    }
                    None => out.extend_from_slice(b" xmlns"),
                }
                out.extend_from_slice(b"=\"");
                escape_attribute(uri, out);
                out.push(b'"');
                scopes.rendered.entry(*prefix).or_default().push((*uri).to_owned());
            }

            let mut attributes: Vec<_> = element.attributes.iter().collect();
            attributes.sort_by(|a, b| {
                let ns = |x: &'d crate::xml::Attribute| match x.prefix.as_deref() {
                    Some("xml") => XML_NAMESPACE,
                    _ => x.namespace.as_deref().unwrap_or(""),
                };
                (ns(a), &a.local).cmp(&(ns(b), &b.local))
            });
            for attribute in attributes {
                out.push(b' ');
                out.extend_from_slice(attribute.qualified_name().as_bytes());
                out.extend_from_slice(b"=\"");
                escape_attribute(&attribute.value, out);
                out.push(b'"');
            }
            out.push(b'>');
            for &child in &element.children {
                if Some(child) != excluded {
                    write(doc, child, excluded, inclusive, scopes, out);
                }
            }
            for (prefix, _) in &declarations {
                if let Some(uris) = scopes.rendered.get_mut(prefix) {
                    uris.pop();
                }
            }
            scopes.leave(&element.declarations);
            out.extend_from_slice(b"</");
            out.extend_from_slice(name.as_bytes());
            out.push(b'>');
        }
    }
}

fn escape_text(text: &str, out: &mut Vec<u8>) {
    for c in text.chars() {
        match c {
            '&' => out.extend_from_slice(b"&amp;"),
            '<' => out.extend_from_slice(b"&lt;"),
            '>' => out.extend_from_slice(b"&gt;"),
            '\r' => out.extend_from_slice(b"&#xD;"),
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

fn escape_attribute(value: &str, out: &mut Vec<u8>) {
    for c in value.chars() {
        match c {
            '&' => out.extend_from_slice(b"&amp;"),
            '<' => out.extend_from_slice(b"&lt;"),
            '"' => out.extend_from_slice(b"&quot;"),
            '\t' => out.extend_from_slice(b"&#x9;"),
            '\n' => out.extend_from_slice(b"&#xA;"),
            '\r' => out.extend_from_slice(b"&#xD;"),
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}
