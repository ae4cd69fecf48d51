//! The STS operations oxiam implements.

use oxiam_protocol::ServiceError;
use oxiam_protocol::sts::{GetCallerIdentityResponse, Request, Response};

use crate::authz::Access;
use crate::{Oxiam, Principal, errors};

/// The action and resource of an STS request.
pub fn access(_principal: &Principal, request: &Request) -> Access {
    Access {
        action: format!("sts:{}", request.operation().name()),
        resource: "*".to_owned(),
    }
}

impl Oxiam {
    /// Runs one authorized STS request.
    pub async fn execute_sts(
        &self,
        caller: &Principal,
        request: Request,
        _now: i64,
    ) -> Result<Response, ServiceError> {
        match request {
            Request::GetCallerIdentity(_) => {
                Ok(Response::GetCallerIdentity(GetCallerIdentityResponse {
                    user_id: Some(caller.unique_id().to_owned()),
                    account: Some(caller.account_id.clone()),
                    arn: Some(caller.arn()),
                }))
            }
            other => Err(errors::not_implemented(&format!(
                "the STS operation {}",
                other.operation().name()
            ))),
        }
    }
}
