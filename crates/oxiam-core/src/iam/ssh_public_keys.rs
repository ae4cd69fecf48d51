//! SSH public keys (CodeCommit's): UploadSSHPublicKey, GetSSHPublicKey, ListSSHPublicKeys,
//! UpdateSSHPublicKey, DeleteSSHPublicKey.
//!
//! A key is kept as uploaded, with its MD5 fingerprint; GetSSHPublicKey gives back the
//! uploaded body when asked for the encoding it came in, and converts otherwise. A user holds
//! a key once (by fingerprint, whatever its encoding or comment). oxiam serves no Git, so a
//! key opens nothing: the operations are for the tools that manage keys.

use oxiam_protocol::iam::{
    DeleteSSHPublicKeyRequest, EncodingType, GetSSHPublicKeyRequest, GetSSHPublicKeyResponse, ListSSHPublicKeysRequest,
    ListSSHPublicKeysResponse, SSHPublicKey, SSHPublicKeyMetadata, StatusType, UpdateSSHPublicKeyRequest,
    UploadSSHPublicKeyRequest, UploadSSHPublicKeyResponse, errors as iam_errors,
};
use oxiam_protocol::{ServiceError, Timestamp};
use oxiam_store::{SshPublicKeyRow, StoreError};

use super::users::UserOrRoot;
use super::{page, page_size, settable_active, status_of};
use crate::ssh_keys::{KeyError, PublicKey};
use crate::{Oxiam, Principal, errors, ids};

/// SSH public keys one user may have (AWS's quota).
const SSH_PUBLIC_KEYS_PER_USER: i64 = 5;

fn key_error(error: KeyError) -> ServiceError {
    match error {
        KeyError::Unrecognized => ServiceError::new(
            iam_errors::UNRECOGNIZED_PUBLIC_KEY_ENCODING,
            "The public key encoding format is unsupported or unrecognized.",
        ),
        KeyError::Invalid => ServiceError::new(
            iam_errors::INVALID_PUBLIC_KEY,
            format!(
                "The public key is not valid: it must be an ssh-rsa key of {} to {} bits, or an ssh-ed25519 key, \
                 in OpenSSH's one-line format or PEM.",
                crate::ssh_keys::MIN_RSA_BITS,
                crate::ssh_keys::MAX_RSA_BITS
            ),
        ),
    }
}

/// Whether a stored body is in `encoding` already (and so is given back as uploaded).
fn uploaded_as(body: &str, encoding: EncodingType) -> bool {
    body.trim_start().starts_with("-----BEGIN ") == (encoding == EncodingType::PEM)
}

impl Oxiam {
    /// The user a request names: `(user_id, name)`.
    async fn ssh_key_owner(&self, caller: &Principal, user_name: &str) -> Result<(String, String), ServiceError> {
        let user = self
            .store
            .get_user(&caller.account_id, user_name)
            .await
            .map_err(errors::store)?;
        Ok((user.user_id, user.name))
    }

    pub(super) async fn upload_ssh_public_key(
        &self,
        caller: &Principal,
        input: UploadSSHPublicKeyRequest,
        now: i64,
    ) -> Result<UploadSSHPublicKeyResponse, ServiceError> {
        let (user_id, user_name) = self.ssh_key_owner(caller, &input.user_name).await?;
        let key = PublicKey::parse(&input.ssh_public_key_body).map_err(key_error)?;
        let row = SshPublicKeyRow {
            key_id: ids::ssh_public_key_id(),
            user_id,
            body: input.ssh_public_key_body,
            fingerprint: key.fingerprint(),
            active: true,
            uploaded_at: now,
        };
        self.store
            .add_ssh_public_key(&user_name, &row, &caller.account_id, SSH_PUBLIC_KEYS_PER_USER)
            .await
            .map_err(|e| match e {
                StoreError::LimitExceeded => ServiceError::new(
                    iam_errors::LIMIT_EXCEEDED,
                    format!("Cannot exceed quota for PublicKeysPerUser: {SSH_PUBLIC_KEYS_PER_USER}"),
                ),
                StoreError::Conflict { .. } => ServiceError::new(
                    iam_errors::DUPLICATE_SSH_PUBLIC_KEY,
                    "The SSH public key is already associated with the specified IAM user.",
                ),
                e => errors::store(e),
            })?;
        Ok(UploadSSHPublicKeyResponse {
            ssh_public_key: Some(SSHPublicKey {
                user_name,
                ssh_public_key_id: row.key_id,
                fingerprint: row.fingerprint,
                ssh_public_key_body: row.body,
                status: StatusType::Active,
                upload_date: Some(Timestamp(now)),
            }),
        })
    }

    pub(super) async fn get_ssh_public_key(
        &self,
        caller: &Principal,
        input: GetSSHPublicKeyRequest,
    ) -> Result<GetSSHPublicKeyResponse, ServiceError> {
        let (user_id, user_name) = self.ssh_key_owner(caller, &input.user_name).await?;
        let row = self
            .store
            .get_ssh_public_key(&user_id, &input.ssh_public_key_id)
            .await
            .map_err(errors::store)?;
        let body = if uploaded_as(&row.body, input.encoding) {
            row.body
        } else {
            // Stored only once parsed: a body that no longer parses is the server's fault.
            let key = PublicKey::parse(&row.body)
                .map_err(|e| errors::service_failure(&format_args!("stored key {}: {e}", row.key_id)))?;
            match input.encoding {
                EncodingType::PEM => key.pem(),
                EncodingType::SSH => key.openssh(),
            }
        };
        Ok(GetSSHPublicKeyResponse {
            ssh_public_key: Some(SSHPublicKey {
                user_name,
                ssh_public_key_id: row.key_id,
                fingerprint: row.fingerprint,
                ssh_public_key_body: body,
                status: status_of(row.active),
                upload_date: Some(Timestamp(row.uploaded_at)),
            }),
        })
    }

    pub(super) async fn list_ssh_public_keys(
        &self,
        caller: &Principal,
        input: ListSSHPublicKeysRequest,
    ) -> Result<ListSSHPublicKeysResponse, ServiceError> {
        // The account root has no SSH keys of its own: its list is empty.
        let UserOrRoot::User(user_id, user_name) = self.user_or_caller(caller, input.user_name.as_deref()).await?
        else {
            return Ok(ListSSHPublicKeysResponse {
                ssh_public_keys: Some(Vec::new()),
                is_truncated: Some(false),
                marker: None,
            });
        };
        let rows = self.store.list_ssh_public_keys(&user_id).await.map_err(errors::store)?;
        let keyed = rows
            .into_iter()
            .map(|row| {
                let entry = SSHPublicKeyMetadata {
                    user_name: user_name.clone(),
                    ssh_public_key_id: row.key_id.clone(),
                    status: status_of(row.active),
                    upload_date: Timestamp(row.uploaded_at),
                };
                (row.key_id, entry)
            })
            .collect();
        let (keys, truncated, marker) = page(keyed, input.marker.as_deref(), page_size(input.max_items))?;
        Ok(ListSSHPublicKeysResponse {
            ssh_public_keys: Some(keys),
            is_truncated: Some(truncated),
            marker,
        })
    }

    pub(super) async fn update_ssh_public_key(
        &self,
        caller: &Principal,
        input: UpdateSSHPublicKeyRequest,
    ) -> Result<(), ServiceError> {
        let active = settable_active(input.status)?;
        let (user_id, _) = self.ssh_key_owner(caller, &input.user_name).await?;
        self.store
            .set_ssh_public_key_active(&user_id, &input.ssh_public_key_id, active)
            .await
            .map_err(errors::store)
    }

    pub(super) async fn delete_ssh_public_key(
        &self,
        caller: &Principal,
        input: DeleteSSHPublicKeyRequest,
    ) -> Result<(), ServiceError> {
        let (user_id, _) = self.ssh_key_owner(caller, &input.user_name).await?;
        self.store
            .delete_ssh_public_key(&user_id, &input.ssh_public_key_id)
            .await
            .map_err(errors::store)
    }
}
