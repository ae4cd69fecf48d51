//! AWS Query form pairs: `Action=CreateUser&Tags.member.1.Key=team`, decoded into a map the
//! generated decoders read by wire key.
//!
//! An awsJson body is read into the same map ([`QueryParams::from_json`]): a member of a
//! structure is `Outer.Inner`, a list's items `List.member.N`, as a form would name them; so
//! one generated decoder, with its constraint checks and their messages, serves both.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::validate::Violations;
use crate::{ServiceError, common_errors};

/// The request's parameters, by exact (case-sensitive) wire key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryParams {
    pairs: BTreeMap<String, String>,
}

/// How much key text an awsJson body may flatten into, per byte of the body: far more than
/// any model's request needs (a tag, `{"Key":"k","Value":"v"}`, flattens to about its own
/// length), far less than a long name repeated over a long list would.
pub const KEY_BYTES_PER_BODY_BYTE: usize = 8;

/// Joins a member name onto a wire key: `join("Tags.member.1", "Key")`.
pub fn join(key: &str, member: &str) -> String {
    if key.is_empty() {
        member.to_owned()
    } else {
        format!("{key}.{member}")
    }
}

impl QueryParams {
    /// Parses form-encoded text (a body, or a URL query string).
    ///
    /// `+` is a space and `%XX` a byte (WHATWG form rules, which botocore's `quote_plus`
    /// and the Rust SDK's `%20` both satisfy); the decoded bytes must be UTF-8. SigV4's
    /// own `X-Amz-*` query parameters are not operation parameters and are skipped. A key
    /// given twice is rejected: no SDK sends one, and silently picking one would hide bugs.
    pub fn parse(forms: &[&str]) -> Result<Self, ServiceError> {
        let mut pairs = BTreeMap::new();
        for form in forms {
            for piece in form.split('&').filter(|p| !p.is_empty()) {
                let (raw_key, raw_value) = piece.split_once('=').unwrap_or((piece, ""));
                let key = decode_component(raw_key)?;
                if key.starts_with("X-Amz-") {
                    continue;
                }
                let value = decode_component(raw_value)?;
                if pairs.insert(key.clone(), value).is_some() {
                    return Err(ServiceError::new(
                        common_errors::MALFORMED_QUERY_STRING,
                        format!("The parameter {key} is given more than once."),
                    ));
                }
            }
        }
        Ok(Self { pairs })
    }

    /// Reads an awsJson body: one JSON object, flattened into the keys a form would use.
    /// `null` is an absent member and `[]` an explicitly empty list (`Key=` in a form). A
    /// body that is not an object, names a member with anything but 1 to 64 ASCII letters
    /// and digits (as every model member is named: no `.` to collide with a nested key), or
    /// would flatten into more key text than [`KEY_BYTES_PER_BODY_BYTE`] times its own
    /// length (a long name over many list items: this runs before authentication), is a
    /// `SerializationException`.
    pub fn from_json(body: &[u8]) -> Result<Self, ServiceError> {
        let malformed = |why: &str| ServiceError::new(common_errors::SERIALIZATION, why.to_owned());
        // An empty body is an operation without members.
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|_| malformed("The request body is not valid JSON."))?;
        let serde_json::Value::Object(members) = value else {
            return Err(malformed("The request body must be a JSON object."));
        };
        let mut budget = body.len().saturating_mul(KEY_BYTES_PER_BODY_BYTE).saturating_add(4096);
        let mut spend = |key: &str| -> Result<(), ServiceError> {
            budget = budget
                .checked_sub(key.len())
                .ok_or_else(|| malformed("The request body holds too many members."))?;
            Ok(())
        };
        let member_name = |name: &str| -> Result<(), ServiceError> {
            if (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric()) {
                Ok(())
            } else {
                Err(malformed("A member name is not one of the model's."))
            }
        };
        let mut pairs = BTreeMap::new();
        let mut pending: Vec<(String, serde_json::Value)> = Vec::with_capacity(members.len());
        for (name, value) in members {
            member_name(&name)?;
            spend(&name)?;
            pending.push((name, value));
        }
        while let Some((key, value)) = pending.pop() {
            let text = match value {
                serde_json::Value::Null => continue,
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::String(s) => s,
                serde_json::Value::Array(items) if items.is_empty() => String::new(),
                serde_json::Value::Array(items) => {
                    for (i, item) in items.into_iter().enumerate() {
                        let item_key = format!("{key}.member.{}", i + 1);
                        spend(&item_key)?;
                        pending.push((item_key, item));
                    }
                    continue;
                }
                serde_json::Value::Object(inner) => {
                    for (name, item) in inner {
                        member_name(&name)?;
                        let item_key = join(&key, &name);
                        spend(&item_key)?;
                        pending.push((item_key, item));
                    }
                    continue;
                }
            };
            if pairs.insert(key.clone(), text).is_some() {
                return Err(malformed(&format!("The member {key} is given more than once.")));
            }
        }
        Ok(Self { pairs })
    }

    /// Sets (or, with `None`, removes) one key: a restJson1 member the request carries
    /// outside its body (in the query string) replaces whatever the body said.
    pub fn set(&mut self, key: &str, value: Option<String>) {
        match value {
            Some(value) => {
                self.pairs.insert(key.to_owned(), value);
            }
            None => {
                self.pairs.remove(key);
            }
        }
    }

    /// The raw value of one key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.get(key).map(String::as_str)
    }

    /// Whether any parameter lies at or under `key` (always true for the root, "").
    pub fn has_prefix(&self, key: &str) -> bool {
        if key.is_empty() || self.pairs.contains_key(key) {
            return true;
        }
        let dotted = format!("{key}.");
        self.keys_under(&dotted).next().is_some()
    }

    fn keys_under<'a>(&'a self, dotted: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .range::<str, _>((Bound::Included(dotted), Bound::Unbounded))
            .map(|(k, _)| k.as_str())
            .take_while(move |k| k.starts_with(dotted))
    }

    /// The 1-based indices found as `{key}.{segment}.N…`, in numeric order.
    fn indices(&self, key: &str, segment: &str) -> Vec<u32> {
        let dotted = format!("{key}.{segment}.");
        let mut found: Vec<u32> = self
            .keys_under(&dotted)
            .filter_map(|k| k[dotted.len()..].split('.').next()?.parse().ok())
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    pub(crate) fn string(&self, key: &str, _path: &str, _v: &mut Violations) -> Option<String> {
        self.get(key).map(str::to_owned)
    }

    pub(crate) fn integer(&self, key: &str, path: &str, v: &mut Violations) -> Option<i32> {
        let raw = self.get(key)?;
        match raw.trim().parse() {
            Ok(n) => Some(n),
            Err(_) => {
                v.malformed(path, raw, "Member must be a number");
                None
            }
        }
    }

    pub(crate) fn boolean(&self, key: &str, path: &str, v: &mut Violations) -> Option<bool> {
        let raw = self.get(key)?;
        match raw.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                v.malformed(path, raw, "Member must be a boolean");
                None
            }
        }
    }

    /// A timestamp as awsJson sends one: seconds since the epoch, maybe with a fraction
    /// (which is dropped).
    pub(crate) fn timestamp(&self, key: &str, path: &str, v: &mut Violations) -> Option<crate::Timestamp> {
        let raw = self.get(key)?;
        match raw.trim().parse::<f64>() {
            Ok(seconds) if seconds.is_finite() && seconds.abs() < 1e15 => {
                Some(crate::Timestamp(seconds.floor() as i64))
            }
            _ => {
                v.malformed(path, raw, "Member must be a timestamp in seconds since the epoch");
                None
            }
        }
    }

    pub(crate) fn enumeration<E>(
        &self,
        key: &str,
        path: &str,
        v: &mut Violations,
        values: &[&str],
        from_wire: fn(&str) -> Option<E>,
    ) -> Option<E> {
        let raw = self.get(key)?;
        let parsed = from_wire(raw);
        if parsed.is_none() {
            v.not_in_enum(path, raw, values);
        }
        parsed
    }

    /// A list: `{key}.member.N`, or the bare `{key}=` that means an explicitly empty list.
    pub(crate) fn list<T>(
        &self,
        key: &str,
        path: &str,
        v: &mut Violations,
        item: impl Fn(&Self, &str, &str, &mut Violations) -> Option<T>,
    ) -> Option<Vec<T>> {
        let indices = self.indices(key, "member");
        if indices.is_empty() {
            return self.get(key).map(|_| Vec::new());
        }
        let mut items = Vec::with_capacity(indices.len());
        for n in indices {
            let item_key = format!("{key}.member.{n}");
            let item_path = format!("{path}.{n}.member");
            if let Some(x) = item(self, &item_key, &item_path, v) {
                items.push(x);
            }
        }
        Some(items)
    }

    /// A map: `{key}.entry.N.key` / `{key}.entry.N.value`.
    pub(crate) fn map<K, V>(
        &self,
        key: &str,
        path: &str,
        v: &mut Violations,
        entry_key: impl Fn(&Self, &str, &str, &mut Violations) -> Option<K>,
        entry_value: impl Fn(&Self, &str, &str, &mut Violations) -> Option<V>,
    ) -> Option<Vec<(K, V)>> {
        let indices = self.indices(key, "entry");
        if indices.is_empty() {
            return None;
        }
        let mut entries = Vec::with_capacity(indices.len());
        for n in indices {
            let base = format!("{key}.entry.{n}");
            let base_path = format!("{path}.{n}");
            let k = entry_key(self, &format!("{base}.key"), &format!("{base_path}.key"), v);
            let val = entry_value(self, &format!("{base}.value"), &format!("{base_path}.value"), v);
            if let (Some(k), Some(val)) = (k, val) {
                entries.push((k, val));
            }
        }
        Some(entries)
    }
}

/// Decodes one form component: `+` is a space, `%XX` a byte; the result must be UTF-8.
fn decode_component(raw: &str) -> Result<String, ServiceError> {
    let malformed = || {
        ServiceError::new(
            common_errors::MALFORMED_QUERY_STRING,
            "The request contains a malformed percent-encoding or invalid UTF-8.",
        )
    };
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or_else(malformed)?;
                let hi = (hex[0] as char).to_digit(16).ok_or_else(malformed)?;
                let lo = (hex[1] as char).to_digit(16).ok_or_else(malformed)?;
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| malformed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent_forms_alike() {
        let botocore = QueryParams::parse(&["UserName=a+b%2Bc~%2A%2F%C3%A9"]).unwrap();
        let rust_sdk = QueryParams::parse(&["UserName=a%20b%2Bc~%2A%2F%C3%A9"]).unwrap();
        assert_eq!(botocore.get("UserName"), Some("a b+c~*/é"));
        assert_eq!(botocore, rust_sdk);
    }

    #[test]
    fn rejects_bad_escapes_invalid_utf8_and_repeats() {
        for bad in ["A=%zz", "A=%4", "A=%ff%fe", "A=1&A=2"] {
            let err = QueryParams::parse(&[bad]).unwrap_err();
            assert_eq!(err.kind.code, "MalformedQueryString", "{bad}");
        }
    }

    #[test]
    fn skips_sigv4_query_parameters_and_empty_pieces() {
        let q = QueryParams::parse(&["Action=GetCallerIdentity&&X-Amz-Date=1&Version=2011-06-15&Flag"]).unwrap();
        assert_eq!(q.get("X-Amz-Date"), None);
        assert_eq!(q.get("Action"), Some("GetCallerIdentity"));
        assert_eq!(q.get("Flag"), Some(""));
    }

    #[test]
    fn a_json_body_reads_as_the_keys_a_form_would_use() {
        let q = QueryParams::from_json(
            br#"{"Target":{"Id":"123456789012","Type":"ACCOUNT"},"Tags":[{"Key":"a","Value":"1"},{"Key":"b","Value":""}],"TagKeys":[],"MaxResults":5,"Flag":true,"Gone":null}"#,
        )
        .unwrap();
        assert_eq!(q.get("Target.Id"), Some("123456789012"));
        assert_eq!(q.get("Tags.member.2.Key"), Some("b"));
        assert_eq!(q.get("Tags.member.2.Value"), Some(""));
        assert_eq!(q.get("TagKeys"), Some(""));
        assert_eq!(q.get("MaxResults"), Some("5"));
        assert_eq!(q.get("Flag"), Some("true"));
        assert!(!q.has_prefix("Gone"));
        assert_eq!(QueryParams::from_json(b" \n").unwrap(), QueryParams::default());
        let long_name_over_a_long_list = format!(
            r#"{{"{}":{{"{}":[{}0]}}}}"#,
            "A".repeat(64),
            "B".repeat(64),
            "0,".repeat(50_000)
        );
        for bad in [
            &b"[]"[..],
            b"\"x\"",
            b"{",
            br#"{"A.B":1,"A":{"B":2}}"#,
            br#"{"A":{"":1}}"#,
            long_name_over_a_long_list.as_bytes(),
        ] {
            assert_eq!(
                QueryParams::from_json(bad).unwrap_err().kind.code,
                "SerializationException"
            );
        }
    }

    #[test]
    fn prefixes_respect_the_dot_boundary() {
        let q = QueryParams::parse(&["TagKeys.member.1=a"]).unwrap();
        assert!(q.has_prefix("TagKeys"));
        assert!(!q.has_prefix("Tag"));
        assert!(!q.has_prefix("Tags"));
    }
}
