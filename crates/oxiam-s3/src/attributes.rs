//! What an object carries besides its bytes, as kept in its row: content headers, user
//! metadata and checksums (`attributes`, JSON), and its tag set (`tags`, JSON). Tag sets
//! are checked here as S3 checks them.

use std::collections::BTreeMap;

use s3s::dto::{Checksum, Metadata, Tag, Timestamp, TimestampFormat};
use s3s::{S3Error, S3ErrorCode};
use serde::{Deserialize, Serialize};

use crate::errors;

/// An object's content headers, user metadata and checksums.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    /// `Expires`, as an HTTP date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_redirect_location: Option<String>,
    /// `x-amz-meta-*`, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// The checksums computed when the object was written (base64, by algorithm name).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub checksums: BTreeMap<String, String>,
    /// For an object put together by CompleteMultipartUpload: its number of parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts_count: Option<i32>,
}

impl Attributes {
    /// Parsed from a row; a row oxiam did not write reads as no attributes.
    pub fn from_row(json: &str) -> Self {
        serde_json::from_str(json).unwrap_or_default()
    }

    /// As a row keeps it.
    pub fn to_row(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }

    pub fn set_metadata(&mut self, metadata: Option<Metadata>) {
        self.metadata = metadata.unwrap_or_default().into_iter().collect();
    }

    pub fn user_metadata(&self) -> Option<Metadata> {
        (!self.metadata.is_empty()).then(|| self.metadata.clone().into_iter().collect())
    }

    pub fn set_expires(&mut self, expires: Option<&Timestamp>) {
        self.expires = expires.and_then(|t| {
            let mut text = Vec::new();
            t.format(TimestampFormat::HttpDate, &mut text).ok()?;
            String::from_utf8(text).ok()
        });
    }

    pub fn expires(&self) -> Option<Timestamp> {
        Timestamp::parse(TimestampFormat::HttpDate, self.expires.as_deref()?).ok()
    }

    pub fn set_checksums(&mut self, checksum: &Checksum) {
        let named = [
            ("CRC32", &checksum.checksum_crc32),
            ("CRC32C", &checksum.checksum_crc32c),
            ("SHA1", &checksum.checksum_sha1),
            ("SHA256", &checksum.checksum_sha256),
            ("CRC64NVME", &checksum.checksum_crc64nvme),
        ];
        for (name, value) in named {
            if let Some(value) = value {
                self.checksums.insert(name.to_owned(), value.clone());
            }
        }
    }

    pub fn checksum(&self) -> Checksum {
        let get = |name: &str| self.checksums.get(name).cloned();
        Checksum {
            checksum_crc32: get("CRC32"),
            checksum_crc32c: get("CRC32C"),
            checksum_sha1: get("SHA1"),
            checksum_sha256: get("SHA256"),
            checksum_crc64nvme: get("CRC64NVME"),
            ..Checksum::default()
        }
    }
}

/// The attributes a write (PutObject, CreateMultipartUpload, CopyObject replacing them,
/// whose inputs share these members) gives its object.
macro_rules! written_attributes {
    ($input:expr) => {{
        let mut attributes = $crate::attributes::Attributes {
            content_type: $input.content_type,
            content_encoding: $input.content_encoding,
            content_disposition: $input.content_disposition,
            content_language: $input.content_language,
            cache_control: $input.cache_control,
            website_redirect_location: $input.website_redirect_location,
            ..$crate::attributes::Attributes::default()
        };
        attributes.set_metadata($input.metadata);
        attributes.set_expires($input.expires.as_ref());
        attributes
    }};
}
pub(crate) use written_attributes;

/// A tag set, in the order it was given.
pub type Tags = Vec<(String, String)>;

/// The most tags an object may carry, and a bucket.
pub const MAX_OBJECT_TAGS: usize = 10;
pub const MAX_BUCKET_TAGS: usize = 50;

pub fn tags_from_row(json: &str) -> Tags {
    serde_json::from_str(json).unwrap_or_default()
}

pub fn tags_to_row(tags: &Tags) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "[]".to_owned())
}

pub fn to_tag_set(tags: Tags) -> Vec<Tag> {
    tags.into_iter()
        .map(|(key, value)| Tag {
            key: Some(key),
            value: Some(value),
        })
        .collect()
}

fn invalid_tag(message: &'static str) -> S3Error {
    errors::with_message(S3ErrorCode::InvalidTag, message)
}

/// A tag set checked as S3 checks one: at most `max` tags, keys of 1 to 128 characters and
/// values of at most 256, no key twice, no key in the reserved `aws:` prefix.
pub fn checked(tags: Tags, max: usize) -> Result<Tags, S3Error> {
    if tags.len() > max {
        let message = if max == MAX_OBJECT_TAGS {
            "Object tags cannot be greater than 10"
        } else {
            "Bucket tag count cannot be greater than 50"
        };
        let mut e = errors::with_message(S3ErrorCode::Custom("BadRequest".into()), message);
        e.set_status_code(http::StatusCode::BAD_REQUEST);
        return Err(e);
    }
    // Keys are one key regardless of case here, where S3 keeps `team` and `Team` apart:
    // condition keys are matched regardless of case, so a policy would see only one of
    // the two values.
    let mut seen = std::collections::HashSet::new();
    for (key, value) in &tags {
        if key.is_empty() || key.chars().count() > 128 {
            return Err(invalid_tag("The TagKey you have provided is invalid"));
        }
        if value.chars().count() > 256 {
            return Err(invalid_tag("The TagValue you have provided is invalid"));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(invalid_tag("Your TagKey cannot be prefixed with aws:"));
        }
        if !seen.insert(key.to_lowercase()) {
            return Err(errors::duplicate_tag_keys());
        }
    }
    Ok(tags)
}

/// The tags of a `Tagging` body.
pub fn from_tag_set(set: Vec<Tag>, max: usize) -> Result<Tags, S3Error> {
    let tags = set
        .into_iter()
        .map(|t| (t.key.unwrap_or_default(), t.value.unwrap_or_default()))
        .collect();
    checked(tags, max)
}

/// The tags of an `x-amz-tagging` header (`k1=v1&k2=v2`, URL-encoded).
pub fn from_header(header: Option<&str>) -> Result<Tags, S3Error> {
    let Some(header) = header.filter(|h| !h.is_empty()) else {
        return Ok(Tags::new());
    };
    let tags = form_urlencoded::parse(header.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    checked(tags, MAX_OBJECT_TAGS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_round_trip_through_a_row() {
        let mut a = Attributes {
            content_type: Some("text/plain".to_owned()),
            ..Attributes::default()
        };
        a.metadata.insert("colour".to_owned(), "blue".to_owned());
        a.set_checksums(&Checksum {
            checksum_crc32: Some("AAAAAA==".to_owned()),
            ..Checksum::default()
        });
        assert_eq!(Attributes::from_row(&a.to_row()), a);
        assert_eq!(a.checksum().checksum_crc32.as_deref(), Some("AAAAAA=="));
        assert_eq!(Attributes::from_row("not json"), Attributes::default());
    }

    #[test]
    fn tag_sets_are_checked_as_s3_checks_them() {
        assert_eq!(
            from_header(Some("a=1&b=two%20words")).unwrap(),
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), "two words".to_owned())
            ]
        );
        assert!(from_header(None).unwrap().is_empty());
        let code = |r: Result<Tags, S3Error>| r.unwrap_err().code().as_str().to_owned();
        assert_eq!(code(from_header(Some("a=1&a=2"))), "InvalidTag");
        assert_eq!(code(from_header(Some("aws:x=1"))), "InvalidTag");
        assert_eq!(code(from_header(Some("=1"))), "InvalidTag");
        let eleven: String = (0..11).map(|i| format!("k{i}=v&")).collect();
        assert_eq!(code(from_header(Some(&eleven))), "BadRequest");
        let long_key = format!("{}=v", "k".repeat(129));
        assert_eq!(code(from_header(Some(&long_key))), "InvalidTag");
        // Two keys differing in case are one to a policy: refused (S3 keeps both).
        assert_eq!(code(from_header(Some("a=1&A=2"))), "InvalidTag");
        let fifty: Tags = (0..50).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(checked(fifty.clone(), MAX_BUCKET_TAGS).is_ok());
        assert!(checked(fifty, MAX_OBJECT_TAGS).is_err());
    }
}
