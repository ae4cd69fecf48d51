//! CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey, GetAccessKeyLastUsed.

use oxiam_protocol::iam::{
    AccessKey, AccessKeyLastUsed, AccessKeyMetadata, CreateAccessKeyRequest, CreateAccessKeyResponse,
    DeleteAccessKeyRequest, GetAccessKeyLastUsedRequest, GetAccessKeyLastUsedResponse, ListAccessKeysRequest,
    ListAccessKeysResponse, StatusType, UpdateAccessKeyRequest, errors as iam_errors,
};
use oxiam_protocol::{Sensitive, ServiceError, Timestamp};
use oxiam_store::{AccessKeyRow, StoreError};

use super::page_size;
use super::users::UserOrRoot;
use crate::{ACCESS_KEYS_PER_USER, Oxiam, Principal, errors, ids};

/// Whose keys a request is about: a named user, else the caller (a user, or the root).
struct KeyOwner {
    /// `None` for the account root.
    user_id: Option<String>,
    /// The name reported in responses ("" for the root, which has no user name).
    user_name: String,
}

fn status_of(stored: &str) -> StatusType {
    StatusType::from_wire(stored).unwrap_or(StatusType::Inactive)
}

impl Oxiam {
    async fn key_owner(&self, caller: &Principal, user_name: Option<&str>) -> Result<KeyOwner, ServiceError> {
        Ok(match self.user_or_caller(caller, user_name).await? {
            UserOrRoot::User(user_id, user_name) => KeyOwner {
                user_id: Some(user_id),
                user_name,
            },
            UserOrRoot::Root => KeyOwner {
                user_id: None,
                user_name: String::new(),
            },
        })
    }

    pub(super) async fn create_access_key(
        &self,
        caller: &Principal,
        input: CreateAccessKeyRequest,
        now: i64,
    ) -> Result<CreateAccessKeyResponse, ServiceError> {
        let owner = self.key_owner(caller, input.user_name.as_deref()).await?;
        let access_key_id = ids::access_key_id();
        let secret = ids::secret_access_key();
        let row = AccessKeyRow {
            access_key_id: access_key_id.clone(),
            account_id: caller.account_id.clone(),
            user_id: owner.user_id,
            secret_sealed: self.secrets.seal(&access_key_id, &secret),
            status: StatusType::Active.as_str().to_owned(),
            created_at: now,
            last_used: None,
        };
        self.store
            .create_access_key(&row, ACCESS_KEYS_PER_USER)
            .await
            .map_err(|e| match e {
                StoreError::LimitExceeded => ServiceError::new(
                    iam_errors::LIMIT_EXCEEDED,
                    format!("Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}"),
                ),
                StoreError::NotFound { .. } => errors::no_such_user(&owner.user_name),
                e => errors::store(e),
            })?;
        Ok(CreateAccessKeyResponse {
            access_key: AccessKey {
                user_name: owner.user_name,
                access_key_id,
                status: StatusType::Active,
                secret_access_key: Sensitive(secret),
                create_date: Some(Timestamp(now)),
            },
        })
    }

    pub(super) async fn list_access_keys(
        &self,
        caller: &Principal,
        input: ListAccessKeysRequest,
    ) -> Result<ListAccessKeysResponse, ServiceError> {
        let owner = self.key_owner(caller, input.user_name.as_deref()).await?;
        let keys = self
            .store
            .list_access_keys(owner.user_id.as_deref(), &caller.account_id)
            .await
            .map_err(errors::store)?;
        // A user holds at most two keys, so paging is over an in-memory list; the marker is
        // the id of the last key shown.
        let start = match input.marker.as_deref() {
            Some(marker) => {
                let after = oxiam_store::marker::decode(marker)
                    .ok_or_else(|| ServiceError::new(iam_errors::INVALID_INPUT, "Invalid Marker."))?;
                keys.iter()
                    .position(|k| k.access_key_id == after)
                    .map_or(keys.len(), |i| i + 1)
            }
            None => 0,
        };
        let size = page_size(input.max_items);
        let page: Vec<&AccessKeyRow> = keys.iter().skip(start).take(size).collect();
        let truncated = start + page.len() < keys.len();
        Ok(ListAccessKeysResponse {
            access_key_metadata: page
                .iter()
                .map(|k| AccessKeyMetadata {
                    user_name: Some(owner.user_name.clone()),
                    access_key_id: Some(k.access_key_id.clone()),
                    status: Some(status_of(&k.status)),
                    create_date: Some(Timestamp(k.created_at)),
                })
                .collect(),
            is_truncated: Some(truncated),
            marker: truncated.then(|| oxiam_store::marker::encode(&page[page.len() - 1].access_key_id)),
        })
    }

    pub(super) async fn update_access_key(
        &self,
        caller: &Principal,
        input: UpdateAccessKeyRequest,
    ) -> Result<(), ServiceError> {
        if input.status == StatusType::Expired {
            return Err(ServiceError::new(
                iam_errors::INVALID_INPUT,
                "Access key status must be Active or Inactive.",
            ));
        }
        let owner = self.key_owner(caller, input.user_name.as_deref()).await?;
        self.store
            .set_access_key_status(
                &caller.account_id,
                owner.user_id.as_deref(),
                &input.access_key_id,
                input.status.as_str(),
            )
            .await
            .map_err(errors::store)
    }

    pub(super) async fn delete_access_key(
        &self,
        caller: &Principal,
        input: DeleteAccessKeyRequest,
    ) -> Result<(), ServiceError> {
        let owner = self.key_owner(caller, input.user_name.as_deref()).await?;
        self.store
            .delete_access_key(&caller.account_id, owner.user_id.as_deref(), &input.access_key_id)
            .await
            .map_err(errors::store)
    }

    pub(super) async fn get_access_key_last_used(
        &self,
        caller: &Principal,
        input: GetAccessKeyLastUsedRequest,
    ) -> Result<GetAccessKeyLastUsedResponse, ServiceError> {
        self.flush_usage_before_read().await;
        let found = match self
            .store
            .find_access_key_as_stored(&input.access_key_id)
            .await
            .map_err(errors::store)?
        {
            Some(found) if found.key.account_id == caller.account_id => found,
            _ => return Err(errors::no_such_access_key(&input.access_key_id)),
        };
        // A key that never signed a request reports "N/A" for service and region (AWS).
        let last_used = match found.key.last_used {
            Some((at, service, region)) => AccessKeyLastUsed {
                last_used_date: Some(Timestamp(at)),
                service_name: service,
                region,
            },
            None => AccessKeyLastUsed {
                last_used_date: None,
                service_name: "N/A".into(),
                region: "N/A".into(),
            },
        };
        Ok(GetAccessKeyLastUsedResponse {
            user_name: found.user.map(|u| u.name),
            access_key_last_used: Some(last_used),
        })
    }
}
