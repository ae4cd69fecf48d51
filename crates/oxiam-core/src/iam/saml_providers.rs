//! SAML 2.0 identity providers: CreateSAMLProvider, GetSAMLProvider, ListSAMLProviders,
//! UpdateSAMLProvider, DeleteSAMLProvider, ListSAMLProviderTags (Tag and Untag live with the
//! other tags).
//!
//! A provider's metadata must be an identity provider's SAML 2.0 metadata
//! (`crate::saml_metadata`); it is kept as given, and the provider is valid for 100 years
//! from its last metadata, as AWS sets it. Private keys (for encrypted assertions), context
//! providers and Identity Center instances answer NotImplemented: nothing in oxiam reads a
//! SAML response yet (AssumeRoleWithSAML is not served).

use oxiam_protocol::iam::{
    AssertionEncryptionModeType, CreateSAMLProviderRequest, CreateSAMLProviderResponse, DeleteSAMLProviderRequest,
    GetSAMLProviderRequest, GetSAMLProviderResponse, ListSAMLProviderTagsRequest, ListSAMLProviderTagsResponse,
    ListSAMLProvidersResponse, SAMLProviderListEntry, UpdateSAMLProviderRequest, UpdateSAMLProviderResponse,
    errors as iam_errors,
};
use oxiam_protocol::{ServiceError, Timestamp, common_errors};
use oxiam_store::{SamlProviderRow, StoreError};

use super::tag_page;
use crate::saml_metadata;
use crate::{Oxiam, Principal, errors, ids};

/// SAML providers one account may hold (AWS's quota).
const PROVIDERS_PER_ACCOUNT: i64 = 100;

/// Until when a provider whose metadata is set at `now` is valid: AWS sets `ValidUntil` to
/// the same moment 100 years on, whatever the metadata's own `validUntil` says.
fn valid_until(now: i64) -> i64 {
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp(now) else {
        return now;
    };
    let year = at.year() + 100;
    // (29 February, 100 years on, may be no date: then the 28th.)
    at.replace_year(year)
        .or_else(|_| at.replace_day(28).and_then(|d| d.replace_year(year)))
        .map_or(now, |later| later.unix_timestamp())
}

/// `arn:aws:iam::ACCOUNT:saml-provider/NAME`.
pub(crate) fn provider_arn(account_id: &str, name: &str) -> String {
    format!("arn:aws:iam::{account_id}:saml-provider/{name}")
}

/// Checks a metadata document as AWS does (its texts).
fn check_metadata(document: &str) -> Result<(), ServiceError> {
    saml_metadata::parse(document)
        .map(|_| ())
        .map_err(|e| ServiceError::new(iam_errors::INVALID_INPUT, e.to_string()))
}

/// What oxiam does not serve of a provider yet: private keys for encrypted assertions,
/// context providers, Identity Center.
fn refuse_unserved(private_key: bool, context_provider: bool, identity_center: bool) -> Result<(), ServiceError> {
    let what = [
        (private_key, "private keys"),
        (context_provider, "ContextProvider"),
        (identity_center, "IdentityCenterInstanceArn"),
    ]
    .into_iter()
    .find(|(given, _)| *given);
    match what {
        Some((_, what)) => Err(errors::not_implemented(&format!(
            "{what} of SAML providers (oxiam does not read SAML responses yet)"
        ))),
        None => Ok(()),
    }
}

impl Oxiam {
    pub(super) async fn create_saml_provider(
        &self,
        caller: &Principal,
        input: CreateSAMLProviderRequest,
        now: i64,
    ) -> Result<CreateSAMLProviderResponse, ServiceError> {
        // Without a private key (none can be added yet), assertions cannot be required to be
        // encrypted: AWS's answer to that request.
        if input.assertion_encryption_mode == Some(AssertionEncryptionModeType::Required)
            && input.add_private_key.is_none()
        {
            return Err(ServiceError::new(
                common_errors::VALIDATION_ERROR,
                "Unable to set assertion encryption mode to Required because no private key is provided.",
            ));
        }
        refuse_unserved(
            input.add_private_key.is_some(),
            input.context_provider.is_some(),
            input.identity_center_instance_arn.is_some(),
        )?;
        check_metadata(&input.saml_metadata_document)?;
        let tags = crate::tags::pairs(input.tags)?;
        let row = SamlProviderRow {
            arn: provider_arn(&caller.account_id, &input.name),
            account_id: caller.account_id.clone(),
            name: input.name,
            uuid: ids::saml_provider_uuid(),
            metadata: input.saml_metadata_document,
            valid_until: valid_until(now),
            created_at: now,
            tags,
        };
        self.store
            .create_saml_provider(&row, PROVIDERS_PER_ACCOUNT)
            .await
            .map_err(|e| match e {
                StoreError::LimitExceeded => ServiceError::new(
                    iam_errors::LIMIT_EXCEEDED,
                    format!("Cannot exceed quota for SAMLProvidersPerAccount: {PROVIDERS_PER_ACCOUNT}"),
                ),
                e => errors::store(e),
            })?;
        Ok(CreateSAMLProviderResponse {
            saml_provider_arn: Some(row.arn),
            tags: crate::tags::to_tags(&row.tags),
        })
    }

    pub(super) async fn get_saml_provider(
        &self,
        caller: &Principal,
        input: GetSAMLProviderRequest,
    ) -> Result<GetSAMLProviderResponse, ServiceError> {
        let row = self
            .store
            .get_saml_provider(&caller.account_id, &input.saml_provider_arn)
            .await
            .map_err(errors::store)?;
        // Tags by key, and always sent, as AWS does.
        let mut tags = row.tags;
        tags.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(GetSAMLProviderResponse {
            saml_provider_uuid: Some(row.uuid),
            saml_metadata_document: Some(row.metadata),
            context_provider: None,
            saml_key_hashes: None,
            create_date: Some(Timestamp(row.created_at)),
            valid_until: Some(Timestamp(row.valid_until)),
            tags: Some(crate::tags::to_tags(&tags).unwrap_or_default()),
            assertion_encryption_mode: Some(AssertionEncryptionModeType::Allowed),
            private_key_list: Some(Vec::new()),
            identity_center_instance_arn: None,
            identity_store_arn: None,
        })
    }

    pub(super) async fn list_saml_providers(
        &self,
        caller: &Principal,
    ) -> Result<ListSAMLProvidersResponse, ServiceError> {
        let rows = self
            .store
            .list_saml_providers(&caller.account_id)
            .await
            .map_err(errors::store)?;
        Ok(ListSAMLProvidersResponse {
            saml_provider_list: Some(
                rows.into_iter()
                    .map(|row| SAMLProviderListEntry {
                        arn: Some(row.arn),
                        valid_until: Some(Timestamp(row.valid_until)),
                        create_date: Some(Timestamp(row.created_at)),
                        is_trusted_identity_propagation_enabled: None,
                    })
                    .collect(),
            ),
        })
    }

    pub(super) async fn update_saml_provider(
        &self,
        caller: &Principal,
        input: UpdateSAMLProviderRequest,
        now: i64,
    ) -> Result<UpdateSAMLProviderResponse, ServiceError> {
        let changes = input.saml_metadata_document.is_some()
            || input.assertion_encryption_mode.is_some()
            || input.add_private_key.is_some()
            || input.remove_private_key.is_some()
            || input.context_provider.is_some()
            || input.identity_center_instance_arn.is_some()
            || input.remove_context_provider == Some(true)
            || input.remove_identity_center_instance == Some(true);
        if !changes {
            return Err(ServiceError::new(
                common_errors::VALIDATION_ERROR,
                "Unable to update identity provider. No updates are defined for metadata or encryption assertion.",
            ));
        }
        refuse_unserved(
            input.add_private_key.is_some() || input.remove_private_key.is_some(),
            input.context_provider.is_some() || input.remove_context_provider == Some(true),
            input.identity_center_instance_arn.is_some() || input.remove_identity_center_instance == Some(true),
        )?;
        let arn = input.saml_provider_arn;
        // The provider must exist, whatever else is asked.
        self.store
            .get_saml_provider(&caller.account_id, &arn)
            .await
            .map_err(errors::store)?;
        if input.assertion_encryption_mode == Some(AssertionEncryptionModeType::Required) {
            return Err(ServiceError::new(
                iam_errors::INVALID_INPUT,
                "Failed to set assertion encryption mode to Required because no private key is present.",
            ));
        }
        if let Some(document) = input.saml_metadata_document {
            check_metadata(&document)?;
            self.store
                .update_saml_provider(&caller.account_id, &arn, &document, valid_until(now))
                .await
                .map_err(errors::store)?;
        }
        Ok(UpdateSAMLProviderResponse {
            saml_provider_arn: Some(arn),
        })
    }

    pub(super) async fn delete_saml_provider(
        &self,
        caller: &Principal,
        input: DeleteSAMLProviderRequest,
    ) -> Result<(), ServiceError> {
        self.store
            .delete_saml_provider(&caller.account_id, &input.saml_provider_arn)
            .await
            .map_err(errors::store)
    }

    pub(super) async fn list_saml_provider_tags(
        &self,
        caller: &Principal,
        input: ListSAMLProviderTagsRequest,
    ) -> Result<ListSAMLProviderTagsResponse, ServiceError> {
        let row = self
            .store
            .get_saml_provider(&caller.account_id, &input.saml_provider_arn)
            .await
            .map_err(errors::store)?;
        let (tags, truncated, marker) = tag_page(&row.tags, input.marker.as_deref(), input.max_items)?;
        Ok(ListSAMLProviderTagsResponse {
            tags,
            is_truncated: Some(truncated),
            marker,
        })
    }
}
