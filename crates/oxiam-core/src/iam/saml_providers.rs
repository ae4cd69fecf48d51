//! SAML 2.0 identity providers: CreateSAMLProvider, GetSAMLProvider, ListSAMLProviders,
//! UpdateSAMLProvider, DeleteSAMLProvider, ListSAMLProviderTags (Tag and Untag live with the
//! other tags).
//!
//! A provider's metadata must be an identity provider's SAML 2.0 metadata
//! (`crate::saml_metadata`); it is kept as given, and the provider is valid for 100 years
//! from its last metadata, as AWS sets it. Private keys (RSA, at most two per provider,
//! sealed at rest, never returned) decrypt the provider's encrypted assertions, which
//! `AssertionEncryptionMode` `Required` insists on. Context providers and Identity Center
//! instances answer NotImplemented.

use oxiam_protocol::iam::{
    AssertionEncryptionModeType, CreateSAMLProviderRequest, CreateSAMLProviderResponse, DeleteSAMLProviderRequest,
    GetSAMLProviderRequest, GetSAMLProviderResponse, ListSAMLProviderTagsRequest, ListSAMLProviderTagsResponse,
    ListSAMLProvidersResponse, SAMLPrivateKey, SAMLProviderListEntry, UpdateSAMLProviderRequest,
    UpdateSAMLProviderResponse, errors as iam_errors,
};
use oxiam_protocol::{ServiceError, Timestamp, common_errors};
use oxiam_store::{SamlKeyRefusal, SamlPrivateKeyRow, SamlProviderChange, SamlProviderRow, StoreError};

use super::tag_page;
use crate::saml_metadata;
use crate::{Oxiam, Principal, errors, ids};

/// SAML providers one account may hold (AWS's quota).
const PROVIDERS_PER_ACCOUNT: i64 = 100;
/// Private keys one provider may hold (the API's list holds at most two: add the new one,
/// then remove the old).
const KEYS_PER_PROVIDER: i64 = 2;

/// A private key as AddPrivateKey takes it: one unencrypted RSA key (2,048 to 8,192 bits) in
/// PEM, PKCS #8 or PKCS #1, ready to decrypt assertions.
pub(crate) fn decryption_key(pem: &str) -> Option<oxiam_saml::DecryptionKey> {
    let blocks = crate::der::pem_blocks(pem)?;
    let [(label, der)] = blocks.as_slice() else {
        return None;
    };
    let pkcs8 = match *label {
        "PRIVATE KEY" => der.clone(),
        // PKCS #1 inside a PKCS #8 envelope (RFC 5208): version 0, rsaEncryption, the key.
        "RSA PRIVATE KEY" => {
            const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
            let algorithm = crate::der::der(
                0x30,
                &[crate::der::der(0x06, RSA_ENCRYPTION), vec![0x05, 0x00]].concat(),
            );
            crate::der::der(
                0x30,
                &[vec![0x02, 0x01, 0x00], algorithm, crate::der::der(0x04, der)].concat(),
            )
        }
        _ => return None,
    };
    oxiam_saml::DecryptionKey::from_pkcs8(&pkcs8)
}

/// A key to add, checked and sealed.
fn new_key(oxiam: &Oxiam, pem: &str, now: i64) -> Result<SamlPrivateKeyRow, ServiceError> {
    if decryption_key(pem).is_none() {
        return Err(ServiceError::new(
            iam_errors::INVALID_INPUT,
            "The private key must be one unencrypted RSA private key of 2048 to 8192 bits in PEM.",
        ));
    }
    let key_id = ids::saml_private_key_id();
    Ok(SamlPrivateKeyRow {
        key_sealed: oxiam.secrets.seal(&key_id, pem),
        key_id,
        created_at: now,
    })
}

fn encryption_mode(mode: &str) -> AssertionEncryptionModeType {
    if mode == "Required" {
        AssertionEncryptionModeType::Required
    } else {
        AssertionEncryptionModeType::Allowed
    }
}

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

/// What oxiam does not serve of a provider yet: context providers, Identity Center.
fn refuse_unserved(context_provider: bool, identity_center: bool) -> Result<(), ServiceError> {
    let what = [
        (context_provider, "ContextProvider"),
        (identity_center, "IdentityCenterInstanceArn"),
    ]
    .into_iter()
    .find(|(given, _)| *given);
    match what {
        Some((_, what)) => Err(errors::not_implemented(&format!("{what} of SAML providers"))),
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
        // Without a private key, assertions cannot be required to be encrypted: AWS's answer
        // to that request.
        if input.assertion_encryption_mode == Some(AssertionEncryptionModeType::Required)
            && input.add_private_key.is_none()
        {
            return Err(ServiceError::new(
                common_errors::VALIDATION_ERROR,
                "Unable to set assertion encryption mode to Required because no private key is provided.",
            ));
        }
        refuse_unserved(
            input.context_provider.is_some(),
            input.identity_center_instance_arn.is_some(),
        )?;
        check_metadata(&input.saml_metadata_document)?;
        let tags = crate::tags::pairs(input.tags)?;
        let private_keys = match &input.add_private_key {
            Some(pem) => vec![new_key(self, &pem.0, now)?],
            None => Vec::new(),
        };
        let row = SamlProviderRow {
            arn: provider_arn(&caller.account_id, &input.name),
            account_id: caller.account_id.clone(),
            name: input.name,
            uuid: ids::saml_provider_uuid(),
            metadata: input.saml_metadata_document,
            valid_until: valid_until(now),
            created_at: now,
            assertion_encryption_mode: match input.assertion_encryption_mode {
                Some(AssertionEncryptionModeType::Required) => "Required".to_owned(),
                _ => "Allowed".to_owned(),
            },
            tags,
            private_keys,
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
            assertion_encryption_mode: Some(encryption_mode(&row.assertion_encryption_mode)),
            private_key_list: Some(
                row.private_keys
                    .iter()
                    .map(|k| SAMLPrivateKey {
                        key_id: Some(k.key_id.clone()),
                        timestamp: Some(Timestamp(k.created_at)),
                    })
                    .collect(),
            ),
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
            input.context_provider.is_some() || input.remove_context_provider == Some(true),
            input.identity_center_instance_arn.is_some() || input.remove_identity_center_instance == Some(true),
        )?;
        let arn = input.saml_provider_arn;
        if let Some(document) = &input.saml_metadata_document {
            check_metadata(document)?;
        }
        let change = SamlProviderChange {
            metadata: input.saml_metadata_document.map(|d| (d, valid_until(now))),
            assertion_encryption_mode: input.assertion_encryption_mode.map(|m| {
                match m {
                    AssertionEncryptionModeType::Required => "Required",
                    _ => "Allowed",
                }
                .to_owned()
            }),
            add_key: input
                .add_private_key
                .as_ref()
                .map(|pem| new_key(self, &pem.0, now))
                .transpose()?,
            remove_key: input.remove_private_key,
        };
        // One transaction: the quota of keys, the key removed, and Required with a key left
        // hold together, whatever runs beside it.
        let refused = self
            .store
            .update_saml_provider(&caller.account_id, &arn, &change, KEYS_PER_PROVIDER)
            .await
            .map_err(errors::store)?;
        match refused {
            Ok(()) => {}
            Err(SamlKeyRefusal::TooMany) => {
                return Err(ServiceError::new(
                    iam_errors::LIMIT_EXCEEDED,
                    format!("Cannot exceed quota for PrivateKeysPerSAMLProvider: {KEYS_PER_PROVIDER}"),
                ));
            }
            Err(SamlKeyRefusal::NoSuchKey) => {
                return Err(ServiceError::new(
                    iam_errors::NO_SUCH_ENTITY,
                    format!(
                        "The private key {} of SAML provider {arn} cannot be found.",
                        change.remove_key.unwrap_or_default()
                    ),
                ));
            }
            Err(SamlKeyRefusal::RequiredWithoutKey) => {
                return Err(ServiceError::new(
                    iam_errors::INVALID_INPUT,
                    "Failed to set assertion encryption mode to Required because no private key is present.",
                ));
            }
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
