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

use crate::xml::{Document, Node, NodeId, XML_NAMESPACE};

/// The canonical form of `apex` and its descendants, leaving out `excluded` and its
/// descendants (an enveloped signature), with `inclusive_prefixes` treated as Canonical XML
/// treats every namespace (`#default` for the default namespace).
pub fn canonicalize(doc: &Document, apex: NodeId, excluded: Option<NodeId>, inclusive_prefixes: &[String]) -> Vec<u8> {
    let inclusive: Vec<Option<&str>> = inclusive_prefixes
        .iter()
        .map(|p| if p == "#default" { None } else { Some(p.as_str()) })
        .collect();
    let mut out = Vec::with_capacity(4096);
    // What the written ancestors declared, innermost last: the default namespace is
    // written as undeclared ("") before anything is.
    let mut rendered: Vec<(Option<String>, String)> = vec![(None, String::new())];
    write(doc, apex, excluded, &inclusive, &mut rendered, &mut out);
    out
}

fn write(
    doc: &Document,
    id: NodeId,
    excluded: Option<NodeId>,
    inclusive: &[Option<&str>],
    rendered: &mut Vec<(Option<String>, String)>,
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
            let name = element.qualified_name();
            out.push(b'<');
            out.extend_from_slice(name.as_bytes());

            // The prefixes this element must have bound: the ones it visibly utilizes,
            // then the inclusive ones in scope.
            let mut wanted: Vec<Option<&str>> = vec![element.prefix.as_deref()];
            for attribute in &element.attributes {
                if let Some(p) = attribute.prefix.as_deref()
                    && p != "xml"
                {
                    wanted.push(Some(p));
                }
            }
            for &p in inclusive {
                if p == Some("xml") {
                    continue;
                }
                // Canonical XML writes only namespaces in scope (a default undeclared
                // only to undo an ancestor's).
                if doc.lookup(id, p).is_some() || p.is_none() {
                    wanted.push(p);
                }
            }
            let mut declarations: Vec<(Option<&str>, &str)> = Vec::new();
            for p in wanted {
                if declarations.iter().any(|(q, _)| *q == p) {
                    continue;
                }
                let uri = doc.lookup(id, p).unwrap_or("");
                let current = rendered
                    .iter()
                    .rev()
                    .find(|(q, _)| q.as_deref() == p)
                    .map(|(_, u)| u.as_str());
                let already = match current {
                    Some(current) => current == uri,
                    // Never written: an unbound default needs no `xmlns=""`.
                    None => uri.is_empty(),
                };
                if !already {
                    declarations.push((p, uri));
                }
            }
            // The default namespace (no local name) first, then by prefix.
            declarations.sort_by(|a, b| a.0.unwrap_or("").cmp(b.0.unwrap_or("")));
            let mark = rendered.len();
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
                rendered.push((prefix.map(str::to_owned), (*uri).to_owned()));
            }

            let mut attributes: Vec<_> = element.attributes.iter().collect();
            attributes.sort_by(|a, b| {
                let ns = |x: &crate::xml::Attribute| match x.prefix.as_deref() {
                    Some("xml") => XML_NAMESPACE.to_owned(),
                    _ => x.namespace.clone().unwrap_or_default(),
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
                    write(doc, child, excluded, inclusive, rendered, out);
                }
            }
            rendered.truncate(mark);
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
