//! The operator's account endpoint, `/_oxiam/accounts`, for `oxiam account … --endpoint-url`:
//! `POST` creates an account with a root access key (a JSON body may name its id,
//! `{"AccountId": "…"}`), `GET` lists them. Requests are signed with SigV4 for the signing
//! name `oxiam`, and only the root of the bootstrap account is answered: it is the one
//! identity that stands above every account of the server (no IAM policy can grant this).
//! Each request is recorded like any other (service `oxiam`); the new secret is in the
//! answer only, never in a record.
//!
//! Beside it, `GET /_oxiam/delegation-notifications` (same signing name) answers any
//! account's caller that may `sts:GetDelegatedAccessToken` with the notifications of the
//! delegation requests its account filed ([`NOTIFICATIONS_PATH`]).

use oxiam_core::{CreateAccountError, Oxiam, PrincipalKind};
use oxiam_protocol::{ErrorKind, ServiceError, common_errors, encode_json_error};

use crate::pipeline::Received;
use crate::protocol::Encoded;

/// The signing name of the endpoint.
pub(crate) const SIGNING_NAME: &str = "oxiam";

/// Its path.
pub(crate) const PATH: &str = "/_oxiam/accounts";

/// The path of an account's delegation notifications: what IAM would have published to the
/// notification channels (SNS topics) of the delegation requests the account filed, which
/// oxiam keeps for the account to read (`GET`, signed like the rest; answered to callers
/// the account allows `sts:GetDelegatedAccessToken`).
pub(crate) const NOTIFICATIONS_PATH: &str = "/_oxiam/delegation-notifications";

/// Whether a path is one of this endpoint's.
pub(crate) fn serves(path: &str) -> bool {
    path == PATH || path == NOTIFICATIONS_PATH
}

const NOT_FOUND: ErrorKind = ErrorKind {
    code: "NotFound",
    status: 404,
    sender: true,
};

const CONFLICT: ErrorKind = ErrorKind {
    code: "EntityAlreadyExists",
    status: 409,
    sender: true,
};

/// The operation a request names, if it is one.
pub(crate) fn operation(received: &Received) -> Option<&'static str> {
    match (received.method(), received.path()) {
        ("POST", PATH) => Some("CreateAccount"),
        ("GET", PATH) => Some("ListAccounts"),
        ("GET", NOTIFICATIONS_PATH) => Some("ListDelegationNotifications"),
        _ => None,
    }
}

/// Answers an authenticated request of `principal` in `account_id`.
pub(crate) async fn execute(
    oxiam: &Oxiam,
    principal: &oxiam_core::Principal,
    received: &Received,
    facts: &oxiam_core::authz::RequestFacts,
) -> Result<Encoded, ServiceError> {
    let now = facts.now;
    let operation = operation(received)
        .ok_or_else(|| ServiceError::new(NOT_FOUND, "No such operation on the accounts endpoint."))?;
    if operation == "ListDelegationNotifications" {
        let notifications = oxiam.delegation_notifications(principal, facts).await?;
        return Ok(encoded(
            200,
            serde_json::json!({ "Notifications": notifications }).to_string(),
        ));
    }
    let accounts = oxiam.accounts().await.map_err(oxiam_core::errors::internal)?;
    let bootstrap = accounts
        .iter()
        .find(|a| a.origin == "bootstrap")
        .map(|a| a.account_id.as_str());
    if principal.kind != PrincipalKind::Root || principal.session.is_some() || bootstrap != Some(&principal.account_id)
    {
        return Err(ServiceError::new(
            common_errors::ACCESS_DENIED,
            format!(
                "User: {} is not authorized to manage accounts: only the root user of the bootstrap account is.",
                principal.arn()
            ),
        ));
    }
    let body = match operation {
        "ListAccounts" => serde_json::json!({
            "Accounts": accounts
                .iter()
                .map(|a| serde_json::json!({"AccountId": a.account_id, "Origin": a.origin, "CreatedAt": a.created_at}))
                .collect::<Vec<_>>(),
        }),
        _ => {
            let asked: serde_json::Value = if received.body.is_empty() {
                serde_json::Value::Null
            } else {
                serde_json::from_slice(&received.body).map_err(|_| {
                    ServiceError::new(common_errors::SERIALIZATION, "The request body is not valid JSON.")
                })?
            };
            let account_id = match &asked["AccountId"] {
                serde_json::Value::Null => None,
                serde_json::Value::String(id) => Some(id.as_str()),
                _ => {
                    return Err(ServiceError::new(
                        common_errors::VALIDATION_ERROR,
                        "AccountId must be a string of 12 digits.",
                    ));
                }
            };
            let made = oxiam.create_account(account_id, now).await.map_err(|e| match e {
                CreateAccountError::BadAccountId(_) => {
                    ServiceError::new(common_errors::VALIDATION_ERROR, e.to_string())
                }
                CreateAccountError::Exists(_) => ServiceError::new(CONFLICT, e.to_string()),
                CreateAccountError::Store(e) => oxiam_core::errors::internal(e),
            })?;
            serde_json::json!({
                "AccountId": made.account_id,
                "AccessKeyId": made.access_key_id,
                "SecretAccessKey": made.secret_access_key.0,
            })
        }
    };
    Ok(encoded(200, body.to_string()))
}

/// An error answer.
pub(crate) fn error(request_id: &str, error: &ServiceError) -> Encoded {
    let mut answer = encoded(error.kind.status, encode_json_error(error));
    answer.headers.push(("x-amzn-RequestId", request_id.to_owned()));
    answer
}

fn encoded(status: u16, body: String) -> Encoded {
    Encoded {
        status,
        content_type: "application/json",
        headers: Vec::new(),
        body,
    }
}
