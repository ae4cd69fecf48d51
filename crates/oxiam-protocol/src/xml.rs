//! A minimal streaming XML writer for the response envelopes: elements and escaped text,
//! nothing else (no attributes beyond the root namespace, no pretty-printing).

use base64::Engine as _;

use crate::Timestamp;

/// Builds one XML document.
#[derive(Debug, Default)]
pub struct XmlWriter {
    buf: String,
}

/// A value written as element text.
pub trait XmlText {
    /// Appends the escaped text form of `self`.
    fn write_text(&self, out: &mut XmlWriter);
}

/// A structure written as a sequence of child elements.
pub trait ToXml {
    /// Appends the structure's members, in model order.
    fn write_xml(&self, out: &mut XmlWriter);
}

impl XmlWriter {
    /// An empty document.
    pub fn new() -> Self {
        Self {
            buf: String::with_capacity(512),
        }
    }

    /// Opens the root element with its service namespace.
    pub fn start_with_namespace(&mut self, name: &str, namespace: &str) {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push_str(" xmlns=\"");
        self.text(namespace);
        self.buf.push_str("\">");
    }

    /// Opens an element.
    pub fn start(&mut self, name: &str) {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
    }

    /// Closes an element.
    pub fn end(&mut self, name: &str) {
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
    }

    /// Appends escaped text.
    pub fn text(&mut self, text: &str) {
        // Only `<`, `>` and `&` need escaping in element text; quotes stay as AWS writes them.
        // A character XML 1.0 cannot carry at all (a control character but tab, newline and
        // carriage return; U+FFFE, U+FFFF) would make the whole answer unreadable: it is
        // written as U+FFFD instead.
        let carried =
            |c: char| !(c.is_control() && !matches!(c, '\t' | '\n' | '\r') || matches!(c, '\u{fffe}' | '\u{ffff}'));
        if text.chars().all(carried) {
            self.buf.push_str(&quick_xml::escape::partial_escape(text));
        } else {
            let replaced: String = text.chars().map(|c| if carried(c) { c } else { '\u{fffd}' }).collect();
            self.buf.push_str(&quick_xml::escape::partial_escape(&replaced));
        }
    }

    /// `<name>value</name>`.
    pub fn scalar<T: XmlText + ?Sized>(&mut self, name: &str, value: &T) {
        self.start(name);
        value.write_text(self);
        self.end(name);
    }

    /// A policy document, percent-encoded as IAM returns it (RFC 3986 unreserved kept).
    pub fn policy_document(&mut self, name: &str, document: &str) {
        const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'_')
            .remove(b'.')
            .remove(b'~');
        let encoded = percent_encoding::utf8_percent_encode(document, KEEP).to_string();
        self.scalar(name, encoded.as_str());
    }

    /// The finished document.
    pub fn finish(self) -> String {
        self.buf
    }
}

impl XmlText for str {
    fn write_text(&self, out: &mut XmlWriter) {
        out.text(self)
    }
}

impl XmlText for String {
    fn write_text(&self, out: &mut XmlWriter) {
        out.text(self)
    }
}

impl XmlText for bool {
    fn write_text(&self, out: &mut XmlWriter) {
        out.buf.push_str(if *self { "true" } else { "false" })
    }
}

impl XmlText for i32 {
    fn write_text(&self, out: &mut XmlWriter) {
        out.buf.push_str(&self.to_string())
    }
}

impl XmlText for i64 {
    fn write_text(&self, out: &mut XmlWriter) {
        out.buf.push_str(&self.to_string())
    }
}

impl XmlText for Timestamp {
    fn write_text(&self, out: &mut XmlWriter) {
        out.buf.push_str(&self.to_iso8601())
    }
}

impl XmlText for Vec<u8> {
    fn write_text(&self, out: &mut XmlWriter) {
        out.buf
            .push_str(&base64::engine::general_purpose::STANDARD.encode(self))
    }
}

impl<T: XmlText + ?Sized> XmlText for &T {
    fn write_text(&self, out: &mut XmlWriter) {
        (**self).write_text(out)
    }
}

/// The text of the first `<name>` element of a small XML document (an error's `Code` or
/// `Message`), unescaped; `None` if there is none or its text cannot be unescaped.
pub fn element_text(document: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = document.find(&open)? + open.len();
    let end = start + document[start..].find(&format!("</{name}>"))?;
    quick_xml::escape::unescape(&document[start..end])
        .ok()
        .map(|text| text.into_owned())
}

#[cfg(test)]
mod tests {
    use super::XmlWriter;

    #[test]
    fn text_xml_cannot_carry_is_replaced_and_the_rest_escaped() {
        let mut out = XmlWriter::new();
        out.text("a<b & \"c\"\t\n");
        out.text("bell\u{7} nul\u{0} \u{fffe}");
        assert_eq!(out.finish(), "a&lt;b &amp; \"c\"\t\nbell\u{fffd} nul\u{fffd} \u{fffd}");
    }
}
