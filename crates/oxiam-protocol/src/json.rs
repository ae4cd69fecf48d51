//! A minimal streaming JSON writer for the audit trail's `requestParameters` and
//! `responseElements`, and for the answers of awsJson services: objects, arrays, escaped
//! strings, numbers and booleans, written in the order given (model order), nothing else.
//!
//! The generated `ToJson` of every request and response structure calls it for the audit
//! trail, where what the model marks sensitive is written as [`HIDDEN`], never as its value;
//! the generated `ToWireJson` of awsJson answers calls it for the body.

use base64::Engine as _;

/// What CloudTrail writes in place of a value it will not record.
pub const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// A structure written as a JSON object of its members.
pub trait ToJson {
    /// Appends the structure as one object.
    fn write_json(&self, out: &mut JsonWriter);
}

/// A structure written as the awsJson protocol's answers write it: members by their model
/// names, real values (the caller's own data), timestamps as epoch seconds.
pub trait ToWireJson {
    /// Appends the structure as one object.
    fn write_wire_json(&self, out: &mut JsonWriter);
}

/// The JSON object of `value`, or `None` if it has no members set (CloudTrail writes
/// `null` for a request without parameters).
pub fn object_of(value: &impl ToJson) -> Option<String> {
    let mut out = JsonWriter::default();
    value.write_json(&mut out);
    let text = out.finish();
    (text != "{}").then_some(text)
}

/// Builds one JSON document.
#[derive(Debug, Default)]
pub struct JsonWriter {
    buf: String,
    /// Per open object or array: whether it has had a member yet (the next needs a comma).
    started: Vec<bool>,
    /// A key was just written: the value that follows needs no comma.
    after_key: bool,
}

impl JsonWriter {
    /// Opens an object.
    pub fn begin_object(&mut self) {
        self.value_start();
        self.buf.push('{');
        self.started.push(false);
    }

    /// Closes the innermost object.
    pub fn end_object(&mut self) {
        self.started.pop();
        self.buf.push('}');
    }

    /// Opens an array.
    pub fn begin_array(&mut self) {
        self.value_start();
        self.buf.push('[');
        self.started.push(false);
    }

    /// Closes the innermost array.
    pub fn end_array(&mut self) {
        self.started.pop();
        self.buf.push(']');
    }

    /// Writes a member's key in the innermost object; its value comes next.
    pub fn key(&mut self, key: &str) {
        self.separate();
        escape_into(&mut self.buf, key);
        self.buf.push(':');
        self.after_key = true;
    }

    /// Writes a string value.
    pub fn string(&mut self, value: &str) {
        self.value_start();
        escape_into(&mut self.buf, value);
    }

    /// Writes [`HIDDEN`] in place of a sensitive value.
    pub fn hidden(&mut self) {
        self.string(HIDDEN);
    }

    /// Writes an integer.
    pub fn number(&mut self, value: i64) {
        self.value_start();
        self.buf.push_str(&value.to_string());
    }

    /// Writes a boolean.
    pub fn boolean(&mut self, value: bool) {
        self.value_start();
        self.buf.push_str(if value { "true" } else { "false" });
    }

    /// Writes bytes as a base64 string (as the AWS SDKs write a blob in JSON).
    pub fn bytes(&mut self, value: &[u8]) {
        self.string(&base64::engine::general_purpose::STANDARD.encode(value));
    }

    /// The document.
    pub fn finish(self) -> String {
        self.buf
    }

    fn value_start(&mut self) {
        if !std::mem::take(&mut self.after_key) {
            self.separate();
        }
    }

    /// A comma before every member of an object or array but the first.
    fn separate(&mut self) {
        if let Some(started) = self.started.last_mut()
            && std::mem::replace(started, true)
        {
            self.buf.push(',');
        }
    }
}

/// Appends `text` as a JSON string: quotes, backslashes and control characters escaped.
fn escape_into(buf: &mut String, text: &str) {
    buf.push('"');
    for c in text.chars() {
        match c {
            '"' => buf.push_str("\\\""),
            '\\' => buf.push_str("\\\\"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            '\t' => buf.push_str("\\t"),
            c if u32::from(c) < 0x20 => buf.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => buf.push(c),
        }
    }
    buf.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_and_separators() {
        let mut out = JsonWriter::default();
        out.begin_object();
        out.key("userName");
        out.string("bob");
        out.key("tags");
        out.begin_array();
        for (k, v) in [("a", "1"), ("b", "2")] {
            out.begin_object();
            out.key("key");
            out.string(k);
            out.key("value");
            out.string(v);
            out.end_object();
        }
        out.end_array();
        out.key("maxItems");
        out.number(-3);
        out.key("secret");
        out.hidden();
        out.key("empty");
        out.begin_object();
        out.end_object();
        out.key("flag");
        out.boolean(false);
        out.end_object();
        assert_eq!(
            out.finish(),
            r#"{"userName":"bob","tags":[{"key":"a","value":"1"},{"key":"b","value":"2"}],"maxItems":-3,"secret":"HIDDEN_DUE_TO_SECURITY_REASONS","empty":{},"flag":false}"#
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever text a client sends comes back out of a JSON parser unchanged.
        #[test]
        fn any_text_round_trips_through_a_json_parser(key in any::<String>(), value in any::<String>(), n in any::<i64>()) {
            let mut out = JsonWriter::default();
            out.begin_object();
            out.key(&key);
            out.begin_array();
            out.string(&value);
            out.number(n);
            out.end_array();
            out.end_object();
            let parsed: serde_json::Value = serde_json::from_str(&out.finish()).unwrap();
            prop_assert_eq!(&parsed[&key], &serde_json::json!([value, n]));
        }
    }
}
