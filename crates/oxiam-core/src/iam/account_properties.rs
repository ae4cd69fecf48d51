//! Account properties (GetAccountProperties, PutAccountProperties): account-wide IAM
//! settings named `Namespace/PropertyName`. The API reference documents one,
//! `RoleManager/Enabled` (`true` or `false`); oxiam knows that one and refuses the rest.

use oxiam_protocol::ServiceError;
use oxiam_protocol::iam::{GetAccountPropertiesResponse, PutAccountPropertiesRequest, errors as iam_errors};

use crate::{Oxiam, Principal, errors};

/// Every property oxiam knows: its name, its default, and the values it takes.
const PROPERTIES: &[(&str, &str, &[&str])] = &[("RoleManager/Enabled", "false", &["true", "false"])];

fn invalid(message: String) -> ServiceError {
    ServiceError::new(iam_errors::INVALID_INPUT, message)
}

/// The namespace of a key: the part before its one `/`, which neither starts nor ends it.
pub(crate) fn account_property_namespace(key: &str) -> Option<&str> {
    let (namespace, name) = key.split_once('/')?;
    (!namespace.is_empty() && !name.is_empty() && !name.contains('/')).then_some(namespace)
}

impl Oxiam {
    pub(super) async fn get_account_properties(
        &self,
        caller: &Principal,
    ) -> Result<GetAccountPropertiesResponse, ServiceError> {
        let set = self
            .store
            .account_properties(&caller.account_id)
            .await
            .map_err(errors::store)?;
        let properties = PROPERTIES
            .iter()
            .map(|(name, default, _)| {
                let value = set
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(*default, |(_, v)| v.as_str());
                ((*name).to_owned(), value.to_owned())
            })
            .collect();
        Ok(GetAccountPropertiesResponse {
            properties: Some(properties),
        })
    }

    pub(super) async fn put_account_properties(
        &self,
        caller: &Principal,
        input: PutAccountPropertiesRequest,
    ) -> Result<(), ServiceError> {
        if input.properties.is_empty() {
            return Err(invalid("At least one account property must be specified.".to_owned()));
        }
        let mut namespaces = input.properties.iter().map(|(key, _)| account_property_namespace(key));
        let first = namespaces.next().flatten();
        if first.is_none() || namespaces.any(|n| n != first) {
            return Err(invalid(
                "Every account property must be named Namespace/PropertyName, all in one namespace.".to_owned(),
            ));
        }
        let mut properties: Vec<(String, String)> = Vec::with_capacity(input.properties.len());
        for (key, value) in input.properties {
            if properties.iter().any(|(name, _)| *name == key) {
                return Err(invalid(format!("Duplicate account property: {key}.")));
            }
            let Some((name, _, values)) = PROPERTIES.iter().find(|(name, _, _)| *name == key) else {
                return Err(invalid(format!("Unknown account property: {key}.")));
            };
            // Booleans are taken in any case and stored as `true` or `false`.
            let Some(value) = values.iter().find(|v| v.eq_ignore_ascii_case(&value)) else {
                return Err(invalid(format!(
                    "Invalid value for account property {name}: {value}. Valid values: {}.",
                    values.join(", ")
                )));
            };
            properties.push(((*name).to_owned(), (*value).to_owned()));
        }
        self.store
            .put_account_properties(&caller.account_id, &properties)
            .await
            .map_err(errors::store)
    }
}
