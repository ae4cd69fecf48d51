//! A strict JSON value for policy documents: object members keep their order and a key that
//! appears twice in one object is a parse error (the policy grammar forbids duplicate keys).
//! Numbers keep a textual form, because condition values may be written unquoted.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    /// A number, kept as the text `serde_json` gives back for it.
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    /// Members in document order; keys are unique.
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub(crate) fn parse(text: &str) -> Option<Json> {
        serde_json::from_str(text).ok()
    }

    #[cfg(test)]
    pub(crate) fn as_obj(&self) -> Option<&[(String, Json)]> {
        match self {
            Json::Obj(members) => Some(members),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Looks a member up by its exact (case-sensitive) name.
pub(crate) fn member<'a>(obj: &'a [(String, Json)], name: &str) -> Option<&'a Json> {
    obj.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Num(v.to_string()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Num(v.to_string()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        Ok(Json::Num(v.to_string()))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::Str(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::Str(v))
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Arr(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members: Vec<(String, Json)> = Vec::new();
        // Linear duplicate checks for the small objects policies are made of; a set beyond that,
        // so that a hostile document with many keys stays linear.
        let mut seen: Option<std::collections::HashSet<String>> = None;
        while let Some(key) = map.next_key::<String>()? {
            let duplicate = match &mut seen {
                Some(set) => !set.insert(key.clone()),
                None => {
                    let dup = members.iter().any(|(k, _)| *k == key);
                    if members.len() >= 16 {
                        seen = Some(members.iter().map(|(k, _)| k.clone()).chain([key.clone()]).collect());
                    }
                    dup
                }
            };
            if duplicate {
                return Err(de::Error::custom("duplicate key"));
            }
            let value = map.next_value()?;
            members.push((key, value));
        }
        Ok(Json::Obj(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_rejects_duplicates() {
        let v = Json::parse(r#"{"b":1,"a":[true,null,"x",1.5]}"#).unwrap();
        let obj = v.as_obj().unwrap();
        assert_eq!(obj[0].0, "b");
        assert_eq!(obj[0].1, Json::Num("1".into()));
        assert_eq!(
            obj[1].1,
            Json::Arr(vec![
                Json::Bool(true),
                Json::Null,
                Json::Str("x".into()),
                Json::Num("1.5".into())
            ])
        );
        assert!(Json::parse(r#"{"a":1,"a":2}"#).is_none());
        assert!(Json::parse(r#"{"a":1} x"#).is_none());
        assert!(Json::parse("").is_none());
    }

    #[test]
    fn many_keys() {
        let keys: Vec<String> = (0..5000).map(|i| format!("\"k{i}\":{i}")).collect();
        let text = format!("{{{}}}", keys.join(","));
        assert!(Json::parse(&text).is_some());
        let dup = format!("{{{},\"k4999\":1}}", keys.join(","));
        assert!(Json::parse(&dup).is_none());
        let early_dup = "{\"a\":1,\"b\":2,\"a\":3}";
        assert!(Json::parse(early_dup).is_none());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert!(Json::parse(&deep).is_none());
    }
}
