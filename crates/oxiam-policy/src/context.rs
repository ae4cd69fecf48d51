//! The request context: condition keys (case-insensitive) mapped to one or more values.
//!
//! The caller fills it with the global keys (`aws:CurrentTime`, `aws:SourceIp`,
//! `aws:PrincipalArn`, `aws:username`, `aws:PrincipalTag/…`, `aws:TagKeys`, …) and the
//! service-specific keys of the action (`iam:PolicyARN`, `sts:ExternalId`, `s3:prefix`, …).
//! Each value is kept as text and, when it reads as one, also as a number, a date, a boolean
//! and an IP address, so that condition operators compare typed values without parsing on the
//! hot path. A key present with no values is "null" (for example an empty tag list).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::condition::binary;
use crate::condition::date::{Timestamp, format_epoch};
use crate::condition::numeric::Number;

/// FNV-1a over the ASCII-lower-cased bytes of a key: computed once for policy keys at compile
/// time and once per context key at build time, so lookups never hash on the hot path.
pub(crate) fn key_hash(key: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b.to_ascii_lowercase());
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// One context value.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    raw: Box<str>,
    pub(crate) number: Option<Number>,
    pub(crate) date: Option<Timestamp>,
    pub(crate) ip: Option<IpAddr>,
    pub(crate) boolean: Option<bool>,
}

impl Value {
    /// A value from its text; typed forms are derived from it.
    pub fn new(text: impl Into<String>) -> Value {
        let raw: Box<str> = text.into().into_boxed_str();
        let first = raw.as_bytes().first().copied();
        let number = match first {
            Some(b'0'..=b'9' | b'-' | b'+' | b'.') => Number::parse(&raw),
            _ => None,
        };
        let date = match first {
            Some(b'0'..=b'9' | b'-') => Timestamp::parse(&raw),
            _ => None,
        };
        let ip = if raw.contains(['.', ':']) && raw.len() <= 45 {
            raw.parse().ok()
        } else {
            None
        };
        let boolean = if raw.eq_ignore_ascii_case("true") {
            Some(true)
        } else if raw.eq_ignore_ascii_case("false") {
            Some(false)
        } else {
            None
        };
        Value {
            raw,
            number,
            date,
            ip,
            boolean,
        }
    }

    /// A date value given as epoch seconds; its text is the ISO 8601 form
    /// (`2024-01-01T00:00:00Z`), which is how `aws:CurrentTime` reads.
    pub fn date_epoch_seconds(secs: i64) -> Value {
        // Built whole, without `new`'s parsing (every request's aws:CurrentTime is one):
        // the text reads as no number, address or boolean (tests check it is what `new`
        // makes of the text, with this date).
        Value {
            raw: format_epoch(secs).into_boxed_str(),
            number: None,
            date: Some(Timestamp::from_epoch_seconds(secs)),
            ip: None,
            boolean: None,
        }
    }

    /// A binary value; its text is the canonical base-64 encoding (what `BinaryEquals` compares).
    pub fn binary(bytes: &[u8]) -> Value {
        Value::new(binary::encode(bytes))
    }

    /// The value's text.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::new(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::new(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::new(s.as_str())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::new(if b { "true" } else { "false" })
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::new(n.to_string())
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Value {
        Value::new(n.to_string())
    }
}

impl From<i32> for Value {
    fn from(n: i32) -> Value {
        Value::new(n.to_string())
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Value {
        Value::new(n.to_string())
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Value {
        Value::new(n.to_string())
    }
}

impl From<IpAddr> for Value {
    fn from(ip: IpAddr) -> Value {
        // Built whole, without `new`'s parsing (every request's aws:SourceIp is one): an
        // address's text reads as no number, date or boolean (tests check it is what `new`
        // makes of the text, with this address).
        Value {
            raw: ip.to_string().into_boxed_str(),
            number: None,
            date: None,
            ip: Some(ip),
            boolean: None,
        }
    }
}

impl From<Ipv4Addr> for Value {
    fn from(ip: Ipv4Addr) -> Value {
        IpAddr::V4(ip).into()
    }
}

impl From<Ipv6Addr> for Value {
    fn from(ip: Ipv6Addr) -> Value {
        IpAddr::V6(ip).into()
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    hash: u64,
    /// ASCII-lower-cased key.
    key: Box<str>,
    values: Vec<Value>,
}

/// The request context: case-insensitive condition keys mapped to their values.
///
/// Build one with [`Context::builder`]; it is immutable afterwards, and `Send + Sync`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    /// Sorted by (hash, key).
    entries: Vec<Entry>,
}

impl Context {
    /// An empty context.
    pub fn new() -> Context {
        Context::default()
    }

    /// A builder.
    pub fn builder() -> ContextBuilder {
        ContextBuilder::default()
    }

    /// The values of `key` (case-insensitive): `None` if the key is absent, an empty slice if
    /// it is present but null.
    pub fn get(&self, key: &str) -> Option<&[Value]> {
        let hash = key_hash(key);
        let start = self.entries.partition_point(|e| e.hash < hash);
        self.entries[start..]
            .iter()
            .take_while(|e| e.hash == hash)
            .find(|e| e.key.eq_ignore_ascii_case(key))
            .map(|e| e.values.as_slice())
    }

    /// Whether `key` is present (possibly with no values).
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Lookup by a key that is already ASCII-lower-cased, with its hash.
    #[inline]
    pub(crate) fn get_hashed(&self, hash: u64, lower_key: &str) -> Option<&[Value]> {
        let start = self.entries.partition_point(|e| e.hash < hash);
        self.entries[start..]
            .iter()
            .take_while(|e| e.hash == hash)
            .find(|e| *e.key == *lower_key)
            .map(|e| e.values.as_slice())
    }

    /// Sets `key` to `values`, replacing what it had.
    pub fn insert(&mut self, key: &str, values: Vec<Value>) {
        let hash = key_hash(key);
        let lower = key.to_ascii_lowercase();
        let at = self
            .entries
            .partition_point(|e| (e.hash, &*e.key) < (hash, lower.as_str()));
        match self.entries.get_mut(at) {
            Some(e) if e.hash == hash && *e.key == *lower => e.values = values,
            _ => self.entries.insert(
                at,
                Entry {
                    hash,
                    key: lower.into_boxed_str(),
                    values,
                },
            ),
        }
    }

    /// Adds one value to `key` (creating it), making the key multivalued if it had values.
    pub fn push(&mut self, key: &str, value: Value) {
        let hash = key_hash(key);
        let lower = key.to_ascii_lowercase();
        let at = self
            .entries
            .partition_point(|e| (e.hash, &*e.key) < (hash, lower.as_str()));
        match self.entries.get_mut(at) {
            Some(e) if e.hash == hash && *e.key == *lower => e.values.push(value),
            _ => self.entries.insert(
                at,
                Entry {
                    hash,
                    key: lower.into_boxed_str(),
                    values: vec![value],
                },
            ),
        }
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) {
        let hash = key_hash(key);
        self.entries
            .retain(|e| !(e.hash == hash && e.key.eq_ignore_ascii_case(key)));
    }

    /// The keys (lower-cased) and their values, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[Value])> {
        self.entries.iter().map(|e| (&*e.key, e.values.as_slice()))
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Builds a [`Context`]. Each setter replaces the key's values; [`ContextBuilder::add`] appends.
///
/// ```
/// use oxiam_policy::{Context, Value};
/// let ctx = Context::builder()
///     .set("aws:username", "alice")
///     .set("aws:SecureTransport", true)
///     .set("aws:SourceIp", std::net::Ipv4Addr::new(203, 0, 113, 7))
///     .set("aws:CurrentTime", Value::date_epoch_seconds(1_700_000_000))
///     .set_all("aws:TagKeys", ["team", "cost-center"])
///     .build();
/// assert_eq!(ctx.get("AWS:USERNAME").unwrap()[0].as_str(), "alice");
/// ```
#[derive(Debug, Clone, Default)]
pub struct ContextBuilder {
    ctx: Context,
}

impl ContextBuilder {
    /// Sets `key` to the single `value`.
    pub fn set(mut self, key: &str, value: impl Into<Value>) -> ContextBuilder {
        self.ctx.insert(key, vec![value.into()]);
        self
    }

    /// Sets `key` to several values (a multivalued key such as `aws:TagKeys`). An empty
    /// iterator makes the key present but null.
    pub fn set_all<V: Into<Value>>(mut self, key: &str, values: impl IntoIterator<Item = V>) -> ContextBuilder {
        self.ctx.insert(key, values.into_iter().map(Into::into).collect());
        self
    }

    /// Appends one value to `key`.
    pub fn add(mut self, key: &str, value: impl Into<Value>) -> ContextBuilder {
        self.ctx.push(key, value.into());
        self
    }

    /// Sets `key` only if `value` is `Some`.
    pub fn set_opt(self, key: &str, value: Option<impl Into<Value>>) -> ContextBuilder {
        match value {
            Some(v) => self.set(key, v),
            None => self,
        }
    }

    /// The context.
    pub fn build(self) -> Context {
        self.ctx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_keys() {
        let ctx = Context::builder()
            .set("aws:SourceIp", "203.0.113.7")
            .set("aws:PrincipalTag/Team", "blue")
            .add("aws:TagKeys", "a")
            .add("AWS:tagkeys", "b")
            .set_all::<&str>("aws:RequestTag/empty", [])
            .build();
        assert_eq!(
            ctx.get("AWS:SOURCEIP").unwrap()[0].ip,
            Some("203.0.113.7".parse().unwrap())
        );
        assert_eq!(ctx.get("aws:principaltag/team").unwrap()[0].as_str(), "blue");
        assert_eq!(ctx.get("aws:TagKeys").unwrap().len(), 2);
        assert_eq!(ctx.get("aws:RequestTag/Empty"), Some(&[][..]));
        assert_eq!(ctx.get("aws:username"), None);
        assert_eq!(ctx.len(), 4);
    }

    #[test]
    fn typed_forms() {
        let v = Value::new("1700000000");
        assert_eq!(v.number, Some(Number::Int(1_700_000_000)));
        assert_eq!(v.date, Some(Timestamp::from_epoch_seconds(1_700_000_000)));
        assert_eq!(Value::from(true).boolean, Some(true));
        assert_eq!(Value::new("TRUE").boolean, Some(true));
        assert_eq!(Value::date_epoch_seconds(0).as_str(), "1970-01-01T00:00:00Z");
        assert_eq!(Value::new("2001:db8::1").ip, Some("2001:db8::1".parse().unwrap()));
        assert_eq!(Value::binary(b"foo").as_str(), "Zm9v");
    }

    /// One change to a context, for the model test below.
    #[derive(Debug, Clone)]
    enum Change {
        Set(String, String),
        SetAll(String, Vec<String>),
        Add(String, String),
        Insert(String, Vec<String>),
        Remove(String),
    }

    /// Keys that meet in case-insensitive ways, of lengths around 38 bytes and past them (a
    /// boundary an earlier layout of the context had), and with letters ASCII lower-casing
    /// leaves alone.
    fn any_key() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let long = "aws:PrincipalTag/abcdefghijklmnopqrstu";
        prop_oneof![
            Just("aws:TagKeys".to_owned()),
            Just("AWS:tagkeys".to_owned()),
            Just("aws:PrincipalTag/Ünï".to_owned()),
            Just("aws:principaltag/ünï".to_owned()),
            Just(long[..37].to_owned()),
            Just(long.to_owned()),
            Just(long.to_uppercase()),
            Just(format!("{long}V")),
            Just(format!("{long}v")),
            "[a-cA-C:/é]{0,3}",
            "[a-zA-Z]{36,41}",
        ]
    }

    fn any_change() -> impl proptest::strategy::Strategy<Value = Change> {
        use proptest::prelude::*;
        let values = || proptest::collection::vec("[a-c0-9.]{0,3}", 0..3);
        prop_oneof![
            (any_key(), "[a-c0-9]{0,3}").prop_map(|(k, v)| Change::Set(k, v)),
            (any_key(), values()).prop_map(|(k, v)| Change::SetAll(k, v)),
            (any_key(), "[a-c0-9]{0,3}").prop_map(|(k, v)| Change::Add(k, v)),
            (any_key(), values()).prop_map(|(k, v)| Change::Insert(k, v)),
            any_key().prop_map(Change::Remove),
        ]
    }

    /// Every letter's case flipped: the same key to a context.
    fn flipped(key: &str) -> String {
        key.chars()
            .map(|c| match c {
                'a'..='z' => c.to_ascii_uppercase(),
                'A'..='Z' => c.to_ascii_lowercase(),
                _ => c,
            })
            .collect()
    }

    proptest::proptest! {
        /// A context is a map from ASCII-lower-cased keys to lists of values, however it was
        /// built: each change made to both a context and a plain list of (key, values), every
        /// key is found with the list's values under its own case and with every ASCII
        /// letter's case flipped, and nothing else is there.
        #[test]
        fn a_context_is_a_case_insensitive_map(changes in proptest::collection::vec(any_change(), 0..24), probe in any_key()) {
            let mut ctx = Context::new();
            let mut model: Vec<(String, Vec<String>)> = Vec::new();
            let slot = |model: &mut Vec<(String, Vec<String>)>, key: &str| {
                let lower = key.to_ascii_lowercase();
                match model.iter().position(|(k, _)| *k == lower) {
                    Some(at) => at,
                    None => {
                        model.push((lower, Vec::new()));
                        model.len() - 1
                    }
                }
            };
            for change in changes {
                match change {
                    Change::Set(k, v) => {
                        ctx = (ContextBuilder { ctx }).set(&k, v.as_str()).build();
                        let at = slot(&mut model, &k);
                        model[at].1 = vec![v];
                    }
                    Change::SetAll(k, vs) => {
                        ctx = (ContextBuilder { ctx }).set_all(&k, vs.iter().map(String::as_str)).build();
                        let at = slot(&mut model, &k);
                        model[at].1 = vs;
                    }
                    Change::Add(k, v) => {
                        ctx = (ContextBuilder { ctx }).add(&k, v.as_str()).build();
                        let at = slot(&mut model, &k);
                        model[at].1.push(v);
                    }
                    Change::Insert(k, vs) => {
                        ctx.insert(&k, vs.iter().map(Value::from).collect());
                        let at = slot(&mut model, &k);
                        model[at].1 = vs;
                    }
                    Change::Remove(k) => {
                        ctx.remove(&k);
                        let lower = k.to_ascii_lowercase();
                        model.retain(|(m, _)| *m != lower);
                    }
                }
            }
            let texts = |values: &[Value]| values.iter().map(|v| v.as_str().to_owned()).collect::<Vec<_>>();
            for (key, values) in &model {
                for asked in [key.clone(), flipped(key)] {
                    let found = ctx.get(&asked).map(texts);
                    proptest::prop_assert_eq!(found.as_ref(), Some(values));
                    let found_hashed = ctx.get_hashed(key_hash(&asked), key).map(texts);
                    proptest::prop_assert_eq!(found_hashed.as_ref(), Some(values));
                }
            }
            let lower_probe = probe.to_ascii_lowercase();
            if !model.iter().any(|(k, _)| *k == lower_probe) {
                proptest::prop_assert_eq!(ctx.get(&probe), None);
            }
            let mut listed: Vec<(String, Vec<String>)> = ctx.iter().map(|(k, v)| (k.to_owned(), texts(v))).collect();
            listed.sort();
            model.sort();
            proptest::prop_assert_eq!(ctx.len(), model.len());
            proptest::prop_assert_eq!(listed, model);
        }

        /// Contexts with the same keys and values are equal, whether a key's one value was set
        /// alone, as a list, or added.
        #[test]
        fn equal_contexts_compare_equal(key in any_key(), value in "[a-c0-9]{0,3}") {
            let set = Context::builder().set(&key, value.as_str()).build();
            let listed = Context::builder().set_all(&key, [value.as_str()]).build();
            let added = Context::builder().add(&key, value.as_str()).build();
            let mut inserted = Context::new();
            inserted.insert(&flipped(&key), vec![Value::new(value.as_str())]);
            proptest::prop_assert_eq!(&set, &listed);
            proptest::prop_assert_eq!(&set, &added);
            proptest::prop_assert_eq!(&set, &inserted);
            let two = Context::builder().add(&key, value.as_str()).add(&key, value.as_str()).build();
            proptest::prop_assert_ne!(&set, &two);
        }

        /// The values built whole are what `new` makes of their text, with the date or
        /// address they were built from (a year past 9999 has text no date reads from).
        #[test]
        fn a_date_built_whole_is_what_its_text_reads_as(secs in -80_000_000_000i64..300_000_000_000i64) {
            let mut parsed = Value::new(format_epoch(secs));
            parsed.date = Some(Timestamp::from_epoch_seconds(secs));
            proptest::prop_assert_eq!(Value::date_epoch_seconds(secs), parsed);
        }

        #[test]
        fn an_address_built_whole_is_what_its_text_reads_as(v4 in proptest::prelude::any::<[u8; 4]>(), v6 in proptest::prelude::any::<[u16; 8]>()) {
            for ip in [IpAddr::from(v4), IpAddr::from(v6)] {
                let mut parsed = Value::new(ip.to_string());
                parsed.ip = Some(ip);
                proptest::prop_assert_eq!(Value::from(ip), parsed);
            }
        }
    }
}
