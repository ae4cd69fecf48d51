//! Trusted identity propagation with IAM identity providers: a provider's context provider
//! says which claim of its tokens is the subject (and its type), and which claims become
//! trusted context keys; AssumeRoleWithWebIdentity gives the session those keys
//! (`aws:OriginIdentity/…`, `aws:TransactionContext/IdentityProvider/…`), which nothing the
//! caller does changes, and answers them as `TrustedIdentityPropagationContext`.
//!
//! Pure: the configuration as IAM checks and keeps it, and the keys a token's claims make.

use oxiam_protocol::iam::{ContextProvider, ContextProviderKeyDefinition};
use oxiam_protocol::sts::{OriginIdentity, TransactionContext, TrustedIdentityPropagationContext};
use oxiam_protocol::{Sensitive, ServiceError};

/// The prefix of the keys a context provider's key definitions make.
const TRANSACTION_PREFIX: &str = "aws:TransactionContext/IdentityProvider/";

/// Values of trusted context keys are at most this long (IAM User Guide, "Trusted context
/// keys": each value up to 128 characters).
const MAX_VALUE: usize = 128;

/// A context provider, as IAM keeps it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct ContextProviderConfig {
    subject_source_key: String,
    subject_type_value: Option<String>,
    subject_type_source_key: Option<String>,
    /// Each key definition: the claim read, and the key written (the claim's name when
    /// none is given).
    keys: Vec<(String, Option<String>)>,
}

use crate::errors::invalid_input as invalid;

/// Whether a source or target key is one IAM takes: ASCII letters, digits, single spaces and
/// `_ . : / = + - @ #`, neither starting nor ending with a space.
fn is_key(key: &str) -> bool {
    !key.is_empty()
        && !key.starts_with(' ')
        && !key.ends_with(' ')
        && !key.contains("  ")
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " _.:/=+-@#".contains(c))
}

fn check_key(member: &str, key: &str) -> Result<(), ServiceError> {
    if is_key(key) {
        return Ok(());
    }
    Err(invalid(format!(
        "{member} {key} is not valid: it can contain only ASCII letters, numbers, single spaces and _ . : / = + - @ #, and cannot start or end with a space."
    )))
}

impl ContextProviderConfig {
    /// A context provider of a request, checked as IAM documents it.
    pub(crate) fn check(given: &ContextProvider) -> Result<Self, ServiceError> {
        check_key("SubjectSourceKey", &given.subject_source_key)?;
        // An empty SubjectTypeValue sets no static type.
        let subject_type_value = given.subject_type_value.clone().filter(|v| !v.is_empty());
        if let Some(source) = &given.subject_type_source_key {
            check_key("SubjectTypeSourceKey", source)?;
        }
        if subject_type_value.is_some() && given.subject_type_source_key.is_some() {
            return Err(invalid(
                "SubjectTypeValue and SubjectTypeSourceKey are mutually exclusive: specify one or neither.".to_owned(),
            ));
        }
        let mut keys = Vec::new();
        for definition in given.key_definition_list.iter().flatten() {
            check_key("SourceKey", &definition.source_key)?;
            if let Some(target) = &definition.target_key {
                check_key("TargetKey", target)?;
            }
            let written = definition.target_key.as_deref().unwrap_or(&definition.source_key);
            // Condition keys are named regardless of case: two writing one key would clash.
            if keys.iter().any(|(source, target): &(String, Option<String>)| {
                target.as_deref().unwrap_or(source).eq_ignore_ascii_case(written)
            }) {
                return Err(invalid(format!(
                    "The context key {written} is written by more than one key definition."
                )));
            }
            keys.push((definition.source_key.clone(), definition.target_key.clone()));
        }
        Ok(Self {
            subject_source_key: given.subject_source_key.clone(),
            subject_type_value,
            subject_type_source_key: given.subject_type_source_key.clone(),
            keys,
        })
    }

    /// As IAM answers it (GetOpenIDConnectProvider).
    pub(crate) fn to_wire(&self) -> ContextProvider {
        ContextProvider {
            key_definition_list: (!self.keys.is_empty()).then(|| {
                self.keys
                    .iter()
                    .map(|(source, target)| ContextProviderKeyDefinition {
                        source_key: source.clone(),
                        target_key: target.clone(),
                    })
                    .collect()
            }),
            subject_source_key: self.subject_source_key.clone(),
            subject_type_value: self.subject_type_value.clone(),
            subject_type_source_key: self.subject_type_source_key.clone(),
        }
    }

    /// As the store keeps it.
    pub(crate) fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// What the store keeps, read back; `None` for nothing. What does not read is the
    /// server's fault: trusted identity propagation is never silently off.
    pub(crate) fn decode(stored: Option<&str>) -> Result<Option<Self>, ServiceError> {
        stored
            .map(|s| {
                serde_json::from_str(s).map_err(|e| {
                    crate::errors::service_failure(&format_args!("a stored context provider does not read: {e}"))
                })
            })
            .transpose()
    }

    /// The trusted context a token gives a session: the subject (which the token must have),
    /// its type, the issuer (`iss` without `https://`), the provider, and one key per key
    /// definition whose claim the token has. `claim` answers a claim as text (a string,
    /// number or boolean claim; `None` for others). The error says what the token lacks.
    pub(crate) fn trusted_context(
        &self,
        claim: impl Fn(&str) -> Option<String>,
        issuer: &str,
        provider_arn: &str,
    ) -> Result<TrustedContext, String> {
        // A value is at most 128 characters, none a control character (which no answer
        // could carry back).
        let checked = |key: &str, value: String| {
            if value.chars().count() > MAX_VALUE {
                Err(format!("The claim {key} is longer than {MAX_VALUE} characters."))
            } else if value.chars().any(char::is_control) {
                Err(format!("The claim {key} has control characters."))
            } else {
                Ok(value)
            }
        };
        let subject = claim(&self.subject_source_key)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                format!(
                    "The token has no claim {}, which is its subject.",
                    self.subject_source_key
                )
            })?;
        let mut keys = vec![(
            "aws:OriginIdentity/Subject".to_owned(),
            checked(&self.subject_source_key, subject)?,
        )];
        let subject_type = match (&self.subject_type_value, &self.subject_type_source_key) {
            (Some(value), _) => Some(value.clone()),
            (None, Some(source)) => claim(source).map(|v| checked(source, v)).transpose()?,
            (None, None) => None,
        };
        if let Some(subject_type) = subject_type {
            keys.push(("aws:OriginIdentity/SubjectType".to_owned(), subject_type));
        }
        keys.push((
            "aws:OriginIdentity/Issuer".to_owned(),
            issuer.strip_prefix("https://").unwrap_or(issuer).to_owned(),
        ));
        keys.push((
            "aws:OriginIdentity/FederatedProviderArn".to_owned(),
            provider_arn.to_owned(),
        ));
        for (source, target) in &self.keys {
            let Some(value) = claim(source) else { continue };
            keys.push((
                format!("{TRANSACTION_PREFIX}{}", target.as_deref().unwrap_or(source)),
                checked(source, value)?,
            ));
        }
        Ok(TrustedContext(keys))
    }
}

/// A session's trusted context keys, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TrustedContext(pub(crate) Vec<(String, String)>);

impl TrustedContext {
    /// The trusted context of the session that signed a request (none for long-term keys):
    /// what role chaining and AssumeRoot carry on, and GetWebIdentityToken reads.
    pub(crate) fn of(caller: &crate::Principal) -> Self {
        Self(
            caller
                .session
                .as_ref()
                .map(|s| s.trusted_context.clone())
                .unwrap_or_default(),
        )
    }

    /// As the store keeps it (`None` when empty).
    pub(crate) fn encode(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| serde_json::to_string(&self.0).unwrap_or_default())
    }

    /// What the store keeps, read back; `None` when it does not read.
    pub(crate) fn decode(stored: Option<&str>) -> Option<Self> {
        match stored {
            None => Some(Self::default()),
            Some(text) => serde_json::from_str(text).ok().map(Self),
        }
    }

    /// A key's value.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// As STS answers it (`TrustedIdentityPropagationContext`).
    pub(crate) fn to_wire(&self) -> Option<TrustedIdentityPropagationContext> {
        if self.0.is_empty() {
            return None;
        }
        let sensitive = |key: &str| self.get(key).map(|v| Sensitive(v.to_owned()));
        let transaction: Vec<(String, Sensitive<String>)> = self
            .0
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(TRANSACTION_PREFIX)?.to_owned(), Sensitive(v.clone()))))
            .collect();
        Some(TrustedIdentityPropagationContext {
            origin_identity: Some(OriginIdentity {
                subject: sensitive("aws:OriginIdentity/Subject"),
                subject_type: sensitive("aws:OriginIdentity/SubjectType"),
                issuer: sensitive("aws:OriginIdentity/Issuer"),
                federated_provider_arn: self.get("aws:OriginIdentity/FederatedProviderArn").map(str::to_owned),
            }),
            transaction_context: (!transaction.is_empty()).then_some(TransactionContext {
                identity_provider: Some(transaction),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(keys: &[(&str, Option<&str>)]) -> ContextProvider {
        ContextProvider {
            key_definition_list: Some(
                keys.iter()
                    .map(|(s, t)| ContextProviderKeyDefinition {
                        source_key: (*s).to_owned(),
                        target_key: t.map(str::to_owned),
                    })
                    .collect(),
            ),
            subject_source_key: "email".to_owned(),
            subject_type_value: Some("user".to_owned()),
            subject_type_source_key: None,
        }
    }

    #[test]
    fn keys_take_documented_characters_and_single_inner_spaces() {
        for good in ["email", "https://example.com/claims/dept", "a b", "x_y.z:1=2+3-4@5#6"] {
            assert!(is_key(good), "{good}");
        }
        for bad in ["", " a", "a ", "a  b", "a\tb", "a,b", "é"] {
            assert!(!is_key(bad), "{bad}");
        }
    }

    #[test]
    fn a_subject_type_is_static_or_read_never_both() {
        let mut both = provider(&[]);
        both.subject_type_source_key = Some("kind".to_owned());
        assert!(ContextProviderConfig::check(&both).is_err());
        both.subject_type_value = Some(String::new());
        assert!(ContextProviderConfig::check(&both).is_ok(), "an empty value sets none");
        let twice = provider(&[("dept", None), ("division", Some("dept"))]);
        assert!(ContextProviderConfig::check(&twice).is_err());
        let by_case = provider(&[("dept", Some("Team")), ("division", Some("team"))]);
        assert!(ContextProviderConfig::check(&by_case).is_err());
    }

    #[test]
    fn claims_become_the_sessions_keys() {
        let config = ContextProviderConfig::check(&provider(&[("dept", None), ("grp", Some("group"))])).unwrap();
        let claims = |name: &str| match name {
            "email" => Some("alice@example.com".to_owned()),
            "grp" => Some("admins".to_owned()),
            _ => None,
        };
        let context = config
            .trusted_context(
                claims,
                "https://idp.example.com",
                "arn:aws:iam::1:oidc-provider/idp.example.com",
            )
            .unwrap();
        assert_eq!(
            context.0,
            vec![
                ("aws:OriginIdentity/Subject".to_owned(), "alice@example.com".to_owned()),
                ("aws:OriginIdentity/SubjectType".to_owned(), "user".to_owned()),
                ("aws:OriginIdentity/Issuer".to_owned(), "idp.example.com".to_owned()),
                (
                    "aws:OriginIdentity/FederatedProviderArn".to_owned(),
                    "arn:aws:iam::1:oidc-provider/idp.example.com".to_owned()
                ),
                (
                    "aws:TransactionContext/IdentityProvider/group".to_owned(),
                    "admins".to_owned()
                ),
            ]
        );
        assert!(
            config.trusted_context(|_| None, "https://i", "arn").is_err(),
            "no subject"
        );
        let bell = |n: &str| (n == "email").then(|| "a\u{7}b".to_owned());
        assert!(
            config.trusted_context(bell, "https://i", "arn").is_err(),
            "a control character"
        );
        let long = "x".repeat(129);
        assert!(
            config
                .trusted_context(|n| (n == "email").then(|| long.clone()), "https://i", "arn")
                .is_err()
        );
    }
}
