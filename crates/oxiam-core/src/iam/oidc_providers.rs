//! OpenID Connect identity providers: CreateOpenIDConnectProvider, GetOpenIDConnectProvider,
//! ListOpenIDConnectProviders, DeleteOpenIDConnectProvider, AddClientIDToOpenIDConnectProvider,
//! RemoveClientIDFromOpenIDConnectProvider, UpdateOpenIDConnectProviderThumbprint,
//! UpdateOpenIDConnectProvider (its context provider, for trusted identity propagation),
//! ListOpenIDConnectProviderTags (Tag and Untag live with the other tags).

use oxiam_protocol::iam::{
    AddClientIDToOpenIDConnectProviderRequest, CreateOpenIDConnectProviderRequest, CreateOpenIDConnectProviderResponse,
    DeleteOpenIDConnectProviderRequest, GetOpenIDConnectProviderRequest, GetOpenIDConnectProviderResponse,
    ListOpenIDConnectProviderTagsRequest, ListOpenIDConnectProviderTagsResponse, ListOpenIDConnectProvidersResponse,
    OpenIDConnectProviderListEntry, RemoveClientIDFromOpenIDConnectProviderRequest, UpdateOpenIDConnectProviderRequest,
    UpdateOpenIDConnectProviderThumbprintRequest, errors as iam_errors,
};
use oxiam_protocol::{ServiceError, Timestamp};
use oxiam_store::{NewOidcProvider, StoreError};

use crate::trusted_context::ContextProviderConfig;
use crate::{Oxiam, Principal, errors};

/// A request's context provider, checked, as the store keeps it.
fn checked_context_provider(
    given: Option<&oxiam_protocol::iam::ContextProvider>,
) -> Result<Option<String>, ServiceError> {
    Ok(given.map(ContextProviderConfig::check).transpose()?.map(|c| c.encode()))
}

/// oxiam has no IAM Identity Center: an instance cannot be associated with a provider.
fn no_identity_center() -> ServiceError {
    errors::not_implemented("IdentityCenterInstanceArn (oxiam has no IAM Identity Center instances)")
}

/// OIDC providers one account may hold (AWS's quota).
const PROVIDERS_PER_ACCOUNT: i64 = 100;

/// Client ids one provider may hold ("You cannot register more than 100 client IDs with a
/// single IAM OIDC provider").
const CLIENT_IDS_PER_PROVIDER: i64 = 100;

/// Thumbprints one provider may hold ("IAM lets you have up to five thumbprints").
const THUMBPRINTS_PER_PROVIDER: usize = 5;

/// The provider's URL as IAM keeps it (without `https://`), or the InvalidInput AWS answers.
///
/// An issuer URL is `https://HOST[/PATH]`: no query, fragment, user or port. One exception,
/// oxiam's own: a port on a loopback host (`localhost`, `127.0.0.1`, `[::1]`), so that tests
/// can run a real issuer on a loopback port.
pub(crate) fn provider_url(url: &str) -> Result<&str, ServiceError> {
    let invalid = |detail: &str| {
        ServiceError::new(
            iam_errors::INVALID_INPUT,
            format!("Invalid Open ID Connect Provider URL.{detail}"),
        )
    };
    let Some(rest) = url.strip_prefix("https://") else {
        return Err(invalid(" The URL must begin with https://."));
    };
    let authority = rest.split('/').next().unwrap_or("");
    let well_formed = !authority.is_empty()
        && !rest.contains(['?', '#', '@', '\\'])
        && !rest.chars().any(|c| c.is_whitespace() || c.is_control());
    if !well_formed {
        return Err(invalid(""));
    }
    let host_allows_port = |host: &str| matches!(host, "localhost" | "127.0.0.1" | "[::1]");
    match authority.rsplit_once(':') {
        // `[::1]` alone ends in `]`, not in a port.
        Some((host, port)) if !authority.ends_with(']') => {
            let port_ok = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
            if !(port_ok && host_allows_port(host)) {
                return Err(invalid(""));
            }
        }
        _ => {}
    }
    Ok(rest)
}

/// `arn:aws:iam::ACCOUNT:oidc-provider/URL`, the URL without `https://`.
pub(crate) fn provider_arn(account_id: &str, url: &str) -> String {
    format!("arn:aws:iam::{account_id}:oidc-provider/{url}")
}

fn check_thumbprints(thumbprints: &[String]) -> Result<(), ServiceError> {
    if thumbprints.len() > THUMBPRINTS_PER_PROVIDER {
        return Err(ServiceError::new(
            iam_errors::INVALID_INPUT,
            "Thumbprint list must contain fewer than 5 entries.",
        ));
    }
    Ok(())
}

impl Oxiam {
    pub(super) async fn create_oidc_provider(
        &self,
        caller: &Principal,
        input: CreateOpenIDConnectProviderRequest,
        now: i64,
    ) -> Result<CreateOpenIDConnectProviderResponse, ServiceError> {
        if input.identity_center_instance_arn.is_some() {
            if input.context_provider.is_none() {
                return Err(ServiceError::new(
                    iam_errors::INVALID_INPUT,
                    "IdentityCenterInstanceArn can only be specified with a ContextProvider.",
                ));
            }
            return Err(no_identity_center());
        }
        let context_provider = checked_context_provider(input.context_provider.as_ref())?;
        let url = provider_url(&input.url)?;
        let mut client_ids: Vec<String> = Vec::new();
        for id in input.client_id_list.unwrap_or_default() {
            if !client_ids.contains(&id) {
                client_ids.push(id);
            }
        }
        if client_ids.len() as i64 > CLIENT_IDS_PER_PROVIDER {
            return Err(client_ids_exceeded());
        }
        let thumbprints = input.thumbprint_list.unwrap_or_default();
        check_thumbprints(&thumbprints)?;
        let tags = crate::tags::pairs(input.tags)?;
        let arn = provider_arn(&caller.account_id, url);
        self.store
            .create_oidc_provider(
                NewOidcProvider {
                    arn: &arn,
                    account_id: &caller.account_id,
                    url,
                    created_at: now,
                    client_ids: &client_ids,
                    thumbprints: &thumbprints,
                    tags: &tags,
                    context_provider: context_provider.as_deref(),
                },
                PROVIDERS_PER_ACCOUNT,
            )
            .await
            .map_err(|e| match e {
                StoreError::LimitExceeded => ServiceError::new(
                    iam_errors::LIMIT_EXCEEDED,
                    format!("Cannot exceed quota for OpenIdConnectProvidersPerAccount: {PROVIDERS_PER_ACCOUNT}"),
                ),
                e => errors::store(e),
            })?;
        Ok(CreateOpenIDConnectProviderResponse {
            open_id_connect_provider_arn: Some(arn),
            tags: crate::tags::to_tags(&tags),
        })
    }

    pub(super) async fn get_oidc_provider(
        &self,
        caller: &Principal,
        input: GetOpenIDConnectProviderRequest,
    ) -> Result<GetOpenIDConnectProviderResponse, ServiceError> {
        let row = self
            .store
            .get_oidc_provider(&caller.account_id, &input.open_id_connect_provider_arn)
            .await
            .map_err(errors::store)?;
        Ok(GetOpenIDConnectProviderResponse {
            url: Some(row.url),
            client_id_list: Some(row.client_ids),
            thumbprint_list: Some(row.thumbprints),
            create_date: Some(Timestamp(row.created_at)),
            tags: crate::tags::to_tags(&row.tags),
            context_provider: ContextProviderConfig::decode(row.context_provider.as_deref())?.map(|c| c.to_wire()),
            identity_center_instance_arn: None,
            identity_store_arn: None,
        })
    }

    pub(super) async fn list_oidc_providers(
        &self,
        caller: &Principal,
    ) -> Result<ListOpenIDConnectProvidersResponse, ServiceError> {
        let arns = self
            .store
            .list_oidc_providers(&caller.account_id)
            .await
            .map_err(errors::store)?;
        Ok(ListOpenIDConnectProvidersResponse {
            open_id_connect_provider_list: Some(
                arns.into_iter()
                    .map(|arn| OpenIDConnectProviderListEntry {
                        arn: Some(arn),
                        is_trusted_identity_propagation_enabled: None,
                    })
                    .collect(),
            ),
        })
    }

    /// Deleting a provider that does not exist is not an error ("This operation is
    /// idempotent", the API reference says).
    pub(super) async fn delete_oidc_provider(
        &self,
        caller: &Principal,
        input: DeleteOpenIDConnectProviderRequest,
    ) -> Result<(), ServiceError> {
        self.store
            .delete_oidc_provider(&caller.account_id, &input.open_id_connect_provider_arn)
            .await
            .map_err(errors::store)
    }

    pub(super) async fn add_oidc_client_id(
        &self,
        caller: &Principal,
        input: AddClientIDToOpenIDConnectProviderRequest,
    ) -> Result<(), ServiceError> {
        self.store
            .add_oidc_client_id(
                &caller.account_id,
                &input.open_id_connect_provider_arn,
                &input.client_id,
                CLIENT_IDS_PER_PROVIDER,
            )
            .await
            .map_err(|e| match e {
                StoreError::LimitExceeded => client_ids_exceeded(),
                e => errors::store(e),
            })
    }

    pub(super) async fn remove_oidc_client_id(
        &self,
        caller: &Principal,
        input: RemoveClientIDFromOpenIDConnectProviderRequest,
    ) -> Result<(), ServiceError> {
        self.store
            .remove_oidc_client_id(
                &caller.account_id,
                &input.open_id_connect_provider_arn,
                &input.client_id,
            )
            .await
            .map_err(errors::store)
    }

    pub(super) async fn update_oidc_thumbprints(
        &self,
        caller: &Principal,
        input: UpdateOpenIDConnectProviderThumbprintRequest,
    ) -> Result<(), ServiceError> {
        check_thumbprints(&input.thumbprint_list)?;
        self.store
            .replace_oidc_thumbprints(
                &caller.account_id,
                &input.open_id_connect_provider_arn,
                &input.thumbprint_list,
            )
            .await
            .map_err(errors::store)
    }

    /// UpdateOpenIDConnectProvider: sets or removes the context provider (one change a
    /// request; a value and its Remove flag together are refused). Thumbprints are
    /// UpdateOpenIDConnectProviderThumbprint's.
    pub(super) async fn update_oidc_provider(
        &self,
        caller: &Principal,
        input: UpdateOpenIDConnectProviderRequest,
    ) -> Result<(), ServiceError> {
        let invalid = |message: &str| ServiceError::new(iam_errors::INVALID_INPUT, message);
        let remove_context = input.remove_context_provider == Some(true);
        let remove_center = input.remove_identity_center_instance == Some(true);
        if input.context_provider.is_some() && remove_context {
            return Err(invalid(
                "ContextProvider and RemoveContextProvider cannot both be specified.",
            ));
        }
        if input.identity_center_instance_arn.is_some() && remove_center {
            return Err(invalid(
                "IdentityCenterInstanceArn and RemoveIdentityCenterInstance cannot both be specified.",
            ));
        }
        let changes_context = input.context_provider.is_some() || remove_context;
        let changes_center = input.identity_center_instance_arn.is_some() || remove_center;
        if changes_context && changes_center {
            return Err(invalid(
                "A single request can change either the context provider or the IAM Identity Center association, not both.",
            ));
        }
        if !changes_context && !changes_center {
            return Err(invalid(
                "Specify a ContextProvider, an IdentityCenterInstanceArn, or one of the Remove flags.",
            ));
        }
        let arn = &input.open_id_connect_provider_arn;
        let row = self
            .store
            .get_oidc_provider(&caller.account_id, arn)
            .await
            .map_err(errors::store)?;
        if input.identity_center_instance_arn.is_some() {
            if row.context_provider.is_none() {
                return Err(invalid(
                    "An IAM Identity Center instance can only be associated with a provider that has a context provider.",
                ));
            }
            return Err(no_identity_center());
        }
        // No instance is ever associated: removing the association changes nothing.
        if remove_center {
            return Ok(());
        }
        let context_provider = checked_context_provider(input.context_provider.as_ref())?;
        self.store
            .set_oidc_context_provider(&caller.account_id, arn, context_provider.as_deref())
            .await
            .map_err(errors::store)
    }

    pub(super) async fn list_oidc_provider_tags(
        &self,
        caller: &Principal,
        input: ListOpenIDConnectProviderTagsRequest,
    ) -> Result<ListOpenIDConnectProviderTagsResponse, ServiceError> {
        let row = self
            .store
            .get_oidc_provider(&caller.account_id, &input.open_id_connect_provider_arn)
            .await
            .map_err(errors::store)?;
        let (tags, truncated, marker) = super::tag_page(&row.tags, input.marker.as_deref(), input.max_items)?;
        Ok(ListOpenIDConnectProviderTagsResponse {
            tags,
            is_truncated: Some(truncated),
            marker,
        })
    }
}

fn client_ids_exceeded() -> ServiceError {
    ServiceError::new(
        iam_errors::LIMIT_EXCEEDED,
        format!("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {CLIENT_IDS_PER_PROVIDER}"),
    )
}

#[cfg(test)]
mod tests {
    use super::provider_url;

    #[test]
    fn issuer_urls_are_https_hosts_and_paths() {
        for (url, kept) in [
            (
                "https://token.actions.githubusercontent.com",
                "token.actions.githubusercontent.com",
            ),
            (
                "https://oidc.eks.us-east-1.amazonaws.com/id/ABC",
                "oidc.eks.us-east-1.amazonaws.com/id/ABC",
            ),
            ("https://127.0.0.1:8443/issuer", "127.0.0.1:8443/issuer"),
            ("https://localhost:1", "localhost:1"),
            ("https://[::1]:9000", "[::1]:9000"),
        ] {
            assert_eq!(provider_url(url).unwrap(), kept, "{url}");
        }
        for url in [
            "http://example.com",
            "example.com",
            "HTTPS://example.com",
            "https://",
            "https:///path",
            "https://example.com?x=1",
            "https://example.com#frag",
            "https://user@example.com",
            "https://example.com:8443",
            "https://localhost:",
            "https://localhost:99999x",
            "https://exa mple.com",
        ] {
            assert!(provider_url(url).is_err(), "{url}");
        }
    }
}
