//! The IAM operations oxiam implements, and the action and resource each one is
//! authorized for. Every other operation of the model answers `NotImplemented`.

mod access_keys;
mod users;

use oxiam_protocol::ServiceError;
use oxiam_protocol::iam::{Request, Response};

use crate::authz::Access;
use crate::{Oxiam, Principal, errors, ids};

/// `MaxItems` when a request gives none, as in AWS.
const DEFAULT_MAX_ITEMS: usize = 100;

/// The action and resource AWS's service authorization reference gives for a request.
pub fn access(principal: &Principal, request: &Request) -> Access {
    let account = &principal.account_id;
    // Names an operation acts on; the caller's own user when the request names none.
    let user = |name: Option<&String>| match (name, principal.user_name()) {
        (Some(name), _) => ids::user_arn(account, "/", name),
        (None, Some(_)) => principal.arn(),
        (None, None) => ids::root_arn(account),
    };
    let resource = match request {
        Request::CreateUser(i) => {
            ids::user_arn(account, i.path.as_deref().unwrap_or("/"), &i.user_name)
        }
        Request::GetUser(i) => user(i.user_name.as_ref()),
        Request::UpdateUser(i) => user(Some(&i.user_name)),
        Request::DeleteUser(i) => user(Some(&i.user_name)),
        Request::CreateAccessKey(i) => user(i.user_name.as_ref()),
        Request::ListAccessKeys(i) => user(i.user_name.as_ref()),
        Request::UpdateAccessKey(i) => user(i.user_name.as_ref()),
        Request::DeleteAccessKey(i) => user(i.user_name.as_ref()),
        Request::GetAccessKeyLastUsed(_) => user(None),
        _ => "*".to_owned(),
    };
    Access {
        action: format!("iam:{}", request.operation().name()),
        resource,
    }
}

impl Oxiam {
    /// Runs one authorized IAM request.
    pub async fn execute_iam(
        &self,
        caller: &Principal,
        request: Request,
        now: i64,
    ) -> Result<Response, ServiceError> {
        Ok(match request {
            Request::CreateUser(i) => Response::CreateUser(self.create_user(caller, i, now).await?),
            Request::GetUser(i) => Response::GetUser(self.get_user(caller, i).await?),
            Request::ListUsers(i) => Response::ListUsers(self.list_users(caller, i).await?),
            Request::UpdateUser(i) => {
                self.update_user(caller, i).await?;
                Response::UpdateUser
            }
            Request::DeleteUser(i) => {
                self.delete_user(caller, i).await?;
                Response::DeleteUser
            }
            Request::CreateAccessKey(i) => {
                Response::CreateAccessKey(self.create_access_key(caller, i, now).await?)
            }
            Request::ListAccessKeys(i) => {
                Response::ListAccessKeys(self.list_access_keys(caller, i).await?)
            }
            Request::UpdateAccessKey(i) => {
                self.update_access_key(caller, i).await?;
                Response::UpdateAccessKey
            }
            Request::DeleteAccessKey(i) => {
                self.delete_access_key(caller, i).await?;
                Response::DeleteAccessKey
            }
            Request::GetAccessKeyLastUsed(i) => {
                Response::GetAccessKeyLastUsed(self.get_access_key_last_used(caller, i).await?)
            }
            other => {
                return Err(errors::not_implemented(&format!(
                    "the IAM operation {}",
                    other.operation().name()
                )));
            }
        })
    }
}

/// `MaxItems`, defaulted.
fn page_size(max_items: Option<i32>) -> usize {
    max_items.map_or(DEFAULT_MAX_ITEMS, |n| n.max(1) as usize)
}

/// The sort key a `Marker` resumes after; a marker oxiam did not issue is a bad request.
fn resume_after(marker: Option<&str>) -> Result<Option<String>, ServiceError> {
    marker
        .map(|m| {
            oxiam_store::marker::decode(m).ok_or_else(|| {
                ServiceError::new(
                    oxiam_protocol::iam::errors::INVALID_INPUT,
                    "Invalid Marker.",
                )
            })
        })
        .transpose()
}
