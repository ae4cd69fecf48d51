//! Service-specific credentials: CreateServiceSpecificCredential,
//! ListServiceSpecificCredentials, ResetServiceSpecificCredential,
//! UpdateServiceSpecificCredential, DeleteServiceSpecificCredential.
//!
//! Two kinds, by service: a user name and password (CodeCommit's Git over HTTPS, Keyspaces'
//! Cassandra logins), or a long-term API key (Bedrock, CloudWatch, CloudWatch Logs, Claude
//! Platform on AWS), which may be made to expire. The password or key is sealed at rest and
//! shown only by Create and Reset. oxiam serves none of these services, so a credential opens
//! nothing: the operations are for the tools that manage them.

use base64::Engine as _;
use oxiam_protocol::iam::{
    CreateServiceSpecificCredentialRequest, CreateServiceSpecificCredentialResponse,
    DeleteServiceSpecificCredentialRequest, ListServiceSpecificCredentialsRequest,
    ListServiceSpecificCredentialsResponse, ResetServiceSpecificCredentialRequest,
    ResetServiceSpecificCredentialResponse, ServiceSpecificCredential, ServiceSpecificCredentialMetadata, StatusType,
    UpdateServiceSpecificCredentialRequest, errors as iam_errors,
};
use oxiam_protocol::{Sensitive, ServiceError, Timestamp};
use oxiam_store::{ServiceCredentialRow, StoreError};

use super::users::UserOrRoot;
use super::{page, page_size};
use crate::{Oxiam, Principal, errors, ids};

/// Credentials one user may have per service (AWS's quota).
const CREDENTIALS_PER_SERVICE: i64 = 2;

/// Services whose credential is a user name and a password.
const PASSWORD_SERVICES: &[&str] = &["codecommit.amazonaws.com", "cassandra.amazonaws.com"];

/// Services whose credential is a long-term API key.
const API_KEY_SERVICES: &[&str] = &[
    "bedrock.amazonaws.com",
    "cloudwatch.amazonaws.com",
    "logs.amazonaws.com",
    "aws-external-anthropic.amazonaws.com",
];

/// What a service's credentials are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Password,
    ApiKey,
}

/// The kind of credential `service` takes, or the error AWS answers for a service that
/// takes none.
fn kind_of(service: &str) -> Result<Kind, ServiceError> {
    if PASSWORD_SERVICES.contains(&service) {
        Ok(Kind::Password)
    } else if API_KEY_SERVICES.contains(&service) {
        Ok(Kind::ApiKey)
    } else {
        Err(ServiceError::new(
            iam_errors::NO_SUCH_ENTITY,
            format!("No such service {service} is supported for Service Specific Credentials"),
        ))
    }
}

/// A new secret for a credential of `kind`: a password, or an API key (`ABSK` and 96
/// random bytes in base64, 132 characters: the prefix and length of Bedrock's keys).
fn new_secret(kind: Kind) -> String {
    match kind {
        Kind::Password => ids::service_password(),
        Kind::ApiKey => {
            let mut bytes = [0u8; 96];
            getrandom::fill(&mut bytes).expect("the operating system's random source failed");
            format!("ABSK{}", base64::engine::general_purpose::STANDARD.encode(bytes))
        }
    }
}

/// Active, Inactive, or Expired once past its expiry.
fn status(row: &ServiceCredentialRow, now: i64) -> StatusType {
    match (row.active, row.expires_at) {
        (_, Some(at)) if at <= now => StatusType::Expired,
        (true, _) => StatusType::Active,
        (false, _) => StatusType::Inactive,
    }
}

/// Whether a stored credential is a user name and password (else an API key).
fn is_password(row: &ServiceCredentialRow) -> bool {
    kind_of(&row.service_name).map_or(true, |k| k == Kind::Password)
}

fn credential_of(row: &ServiceCredentialRow, secret: String, now: i64) -> ServiceSpecificCredential {
    let password = is_password(row);
    let (service_password, service_credential_secret) = if password {
        (Some(Sensitive(secret)), None)
    } else {
        (None, Some(Sensitive(secret)))
    };
    ServiceSpecificCredential {
        create_date: Timestamp(row.created_at),
        expiration_date: row.expires_at.map(Timestamp),
        service_name: row.service_name.clone(),
        service_user_name: password.then(|| row.login_name.clone()),
        service_password,
        service_credential_alias: (!password).then(|| row.login_name.clone()),
        service_credential_secret,
        service_specific_credential_id: row.credential_id.clone(),
        user_name: row.user_name.clone(),
        status: status(row, now),
    }
}

impl Oxiam {
    /// The user a request names, else the calling user; `None` for the account root, which
    /// has no service-specific credentials.
    async fn credential_owner(
        &self,
        caller: &Principal,
        user_name: Option<&str>,
    ) -> Result<Option<(String, String)>, ServiceError> {
        Ok(match self.user_or_caller(caller, user_name).await? {
            UserOrRoot::User(id, name) => Some((id, name)),
            UserOrRoot::Root => None,
        })
    }

    /// One of the user's credentials (the caller's if no user is named).
    async fn owned_credential(
        &self,
        caller: &Principal,
        user_name: Option<&str>,
        credential_id: &str,
    ) -> Result<ServiceCredentialRow, ServiceError> {
        let not_found = || {
            errors::store(StoreError::not_found(
                oxiam_store::Subject::ServiceCredential,
                credential_id,
            ))
        };
        let Some((user_id, _)) = self.credential_owner(caller, user_name).await? else {
            return Err(not_found());
        };
        match self
            .store
            .get_service_credential(&caller.account_id, credential_id)
            .await
        {
            Ok(row) if row.user_id == user_id => Ok(row),
            Ok(_) | Err(StoreError::NotFound { .. }) => Err(not_found()),
            Err(e) => Err(errors::store(e)),
        }
    }

    pub(super) async fn create_service_specific_credential(
        &self,
        caller: &Principal,
        input: CreateServiceSpecificCredentialRequest,
        now: i64,
    ) -> Result<CreateServiceSpecificCredentialResponse, ServiceError> {
        let kind = kind_of(&input.service_name)?;
        let expires_at = match (kind, input.credential_age_days) {
            (_, None) => None,
            (Kind::ApiKey, Some(days)) => Some(now + i64::from(days) * 86_400),
            (Kind::Password, Some(_)) => {
                return Err(ServiceError::new(
                    iam_errors::INVALID_INPUT,
                    format!(
                        "CredentialAgeDays is not supported for {}: only API keys expire.",
                        input.service_name
                    ),
                ));
            }
        };
        let user = self
            .store
            .get_user(&caller.account_id, &input.user_name)
            .await
            .map_err(errors::store)?;
        let credential_id = ids::service_credential_id();
        let secret = new_secret(kind);
        let mut row = ServiceCredentialRow {
            secret_sealed: self.secrets.seal(&credential_id, &secret),
            credential_id,
            user_id: user.user_id,
            user_name: user.name.clone(),
            service_name: input.service_name,
            // The first of `alice-at-ACCOUNT`, `alice+1-at-ACCOUNT` the user does not hold,
            // chosen in the write.
            login_name: String::new(),
            active: true,
            created_at: now,
            expires_at,
        };
        let login_name = |n: i64| match n {
            0 => format!("{}-at-{}", user.name, caller.account_id),
            n => format!("{}+{n}-at-{}", user.name, caller.account_id),
        };
        row.login_name = self
            .store
            .add_service_credential(
                &user.name,
                &row,
                &caller.account_id,
                CREDENTIALS_PER_SERVICE,
                login_name,
            )
            .await
            .map_err(|e| match e {
                StoreError::LimitExceeded => ServiceError::new(
                    iam_errors::LIMIT_EXCEEDED,
                    format!(
                        "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: {CREDENTIALS_PER_SERVICE}"
                    ),
                ),
                // Another user's credential took the same name in the meantime.
                StoreError::Conflict { .. } => ServiceError::new(
                    iam_errors::CONCURRENT_MODIFICATION,
                    "The request was rejected because multiple requests to change this object were submitted \
                     simultaneously. Wait a few minutes and submit your request again.",
                ),
                e => errors::store(e),
            })?;
        Ok(CreateServiceSpecificCredentialResponse {
            service_specific_credential: Some(credential_of(&row, secret, now)),
        })
    }

    pub(super) async fn list_service_specific_credentials(
        &self,
        caller: &Principal,
        input: ListServiceSpecificCredentialsRequest,
        now: i64,
    ) -> Result<ListServiceSpecificCredentialsResponse, ServiceError> {
        if let Some(service) = &input.service_name {
            kind_of(service)?;
        }
        let all_users = input.all_users == Some(true);
        let user_id = match (all_users, input.user_name.as_deref()) {
            (true, Some(_)) => {
                return Err(ServiceError::new(
                    iam_errors::INVALID_INPUT,
                    "AllUsers cannot be specified together with UserName.",
                ));
            }
            (true, None) => None,
            (false, user_name) => match self.credential_owner(caller, user_name).await? {
                Some((user_id, _)) => Some(user_id),
                None => {
                    return Ok(ListServiceSpecificCredentialsResponse {
                        service_specific_credentials: Some(Vec::new()),
                        marker: None,
                        is_truncated: Some(false),
                    });
                }
            },
        };
        let rows = self
            .store
            .list_service_credentials(&caller.account_id, user_id.as_deref(), input.service_name.as_deref())
            .await
            .map_err(errors::store)?;
        // Oldest first: the page key is the creation time (fixed width) and the id.
        let keyed = rows
            .iter()
            .map(|row| {
                let password = is_password(row);
                let entry = ServiceSpecificCredentialMetadata {
                    user_name: row.user_name.clone(),
                    status: status(row, now),
                    service_user_name: password.then(|| row.login_name.clone()),
                    service_credential_alias: (!password).then(|| row.login_name.clone()),
                    create_date: Timestamp(row.created_at),
                    expiration_date: row.expires_at.map(Timestamp),
                    service_specific_credential_id: row.credential_id.clone(),
                    service_name: row.service_name.clone(),
                };
                (format!("{:020}/{}", row.created_at, row.credential_id), entry)
            })
            .collect();
        let (credentials, truncated, marker) = page(keyed, input.marker.as_deref(), page_size(input.max_items))?;
        Ok(ListServiceSpecificCredentialsResponse {
            service_specific_credentials: Some(credentials),
            marker,
            is_truncated: Some(truncated),
        })
    }

    pub(super) async fn reset_service_specific_credential(
        &self,
        caller: &Principal,
        input: ResetServiceSpecificCredentialRequest,
        now: i64,
    ) -> Result<ResetServiceSpecificCredentialResponse, ServiceError> {
        let row = self
            .owned_credential(
                caller,
                input.user_name.as_deref(),
                &input.service_specific_credential_id,
            )
            .await?;
        let kind = kind_of(&row.service_name).unwrap_or(Kind::Password);
        let secret = new_secret(kind);
        let sealed = self.secrets.seal(&row.credential_id, &secret);
        self.store
            .update_service_credential(&row.user_id, &row.credential_id, Some(&sealed), None)
            .await
            .map_err(errors::store)?;
        Ok(ResetServiceSpecificCredentialResponse {
            service_specific_credential: Some(credential_of(&row, secret, now)),
        })
    }

    pub(super) async fn update_service_specific_credential(
        &self,
        caller: &Principal,
        input: UpdateServiceSpecificCredentialRequest,
    ) -> Result<(), ServiceError> {
        let active = super::settable_active(input.status)?;
        let row = self
            .owned_credential(
                caller,
                input.user_name.as_deref(),
                &input.service_specific_credential_id,
            )
            .await?;
        self.store
            .update_service_credential(&row.user_id, &row.credential_id, None, Some(active))
            .await
            .map_err(errors::store)
    }

    pub(super) async fn delete_service_specific_credential(
        &self,
        caller: &Principal,
        input: DeleteServiceSpecificCredentialRequest,
    ) -> Result<(), ServiceError> {
        let row = self
            .owned_credential(
                caller,
                input.user_name.as_deref(),
                &input.service_specific_credential_id,
            )
            .await?;
        self.store
            .delete_service_credential(&row.user_id, &row.credential_id)
            .await
            .map_err(errors::store)
    }
}
