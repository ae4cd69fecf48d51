//! One record per request, whatever the service: who asked what, what authorization
//! decided and by which statement, and how it was answered. The server fills it along the
//! request path, writes it to the audit trail before the answer goes out, and hands the
//! finished record to its sinks (the log line, the metrics); nothing else is written about
//! a request.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::authz::{Outcome, Verdict};

/// One request, as the server saw and answered it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestRecord {
    /// The id the response carries (`x-amzn-RequestId`, `x-amz-request-id`).
    pub request_id: String,
    /// Unix seconds when it arrived.
    pub time: i64,
    /// `iam`, `sts` or `s3`; empty when the request never said.
    pub service: &'static str,
    /// The operation (`CreateUser`, `GetObject`), when it was known.
    pub operation: Option<String>,
    /// The caller's ARN, once authenticated.
    pub principal: Option<String>,
    /// `Root`, `IAMUser` or `AssumedRole` (CloudTrail's `userIdentity.type`).
    pub principal_type: Option<&'static str>,
    /// The caller's unique id (`AIDA…`, `AROA…:session`, the account id for the root).
    pub principal_id: Option<String>,
    /// The caller's account.
    pub account_id: Option<String>,
    /// An IAM user caller's name (CloudTrail's `userIdentity.userName`).
    pub user_name: Option<String>,
    /// For a caller signing with temporary credentials: when they were issued, and the
    /// role they are a session of (CloudTrail's `userIdentity.sessionContext`).
    pub session_context: Option<SessionContext>,
    /// The access key the request was signed with (the one it claimed, if it failed
    /// authentication).
    pub access_key_id: Option<String>,
    /// The region the request was signed for.
    pub region: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// The client's address.
    pub source_ip: Option<IpAddr>,
    /// Every access authorization decided, in order (most requests: one).
    pub verdicts: Vec<Verdict>,
    /// The error code of a failed request (`AccessDenied`, `NoSuchEntity`, …).
    pub error_code: Option<String>,
    /// The message the caller was given with it.
    pub error_message: Option<String>,
    /// The request's parameters as a JSON object, values the model marks sensitive hidden
    /// (CloudTrail's `requestParameters`); for IAM and STS filled only while an audit trail
    /// is kept, for S3 (bucket, host, key: cheap) always.
    pub request_parameters: Option<String>,
    /// The answer's elements as a JSON object, likewise hidden (`responseElements`); filled
    /// only while an audit trail is kept, and only for requests that may change something
    /// (CloudTrail leaves them out of read-only events).
    pub response_elements: Option<String>,
    /// What `--lint-policies` found in the identity policy the request writes, if it was
    /// checked: `TYPE CODE: details` each (the audit trail's `oxiam.policyFindings`).
    pub policy_findings: Vec<String>,
    /// For a server fault, what went wrong inside (never sent to the client).
    pub fault: Option<std::sync::Arc<str>>,
    /// The HTTP status answered.
    pub status: u16,
    /// Microseconds from the request's arrival to its answer.
    pub latency_us: u64,
}

impl RequestRecord {
    /// Notes who the authenticated caller is.
    pub fn set_caller(&mut self, principal: &crate::Principal, access_key_id: &str) {
        self.principal = Some(principal.arn());
        self.principal_type = Some(match principal.kind {
            crate::PrincipalKind::Root => "Root",
            crate::PrincipalKind::User { .. } => "IAMUser",
            crate::PrincipalKind::AssumedRole { .. } => "AssumedRole",
            crate::PrincipalKind::FederatedUser { .. } => "FederatedUser",
        });
        self.principal_id = Some(principal.unique_id());
        self.account_id = Some(principal.account_id.clone());
        self.access_key_id = Some(access_key_id.to_owned());
        self.user_name = principal.user_name().map(str::to_owned);
        self.session_context = principal.session.as_ref().map(|session| SessionContext {
            issued_at: session.issued_at,
            mfa_authenticated: principal.mfa_at.is_some(),
            source_identity: session.source_identity.clone(),
            issuer: match &principal.kind {
                crate::PrincipalKind::AssumedRole { role_id, role_name, .. } => Some(SessionIssuer {
                    kind: "Role",
                    principal_id: role_id.clone(),
                    arn: principal.role_arn().unwrap_or_default(),
                    account_id: principal.account_id.clone(),
                    user_name: role_name.clone(),
                }),
                // CloudTrail names the IAM user behind a federated-user session (or the root).
                crate::PrincipalKind::FederatedUser { issuer, .. } => Some(SessionIssuer {
                    kind: if issuer.is_some() { "IAMUser" } else { "Root" },
                    principal_id: issuer
                        .as_ref()
                        .map_or_else(|| principal.account_id.clone(), |u| u.user_id.clone()),
                    arn: principal.session_issuer_arn().unwrap_or_default(),
                    account_id: principal.account_id.clone(),
                    user_name: issuer.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
                }),
                _ => None,
            },
        });
    }

    /// Notes how the request failed.
    pub fn set_error(&mut self, error: &oxiam_protocol::ServiceError) {
        self.error_code = Some(error.kind.code.to_owned());
        self.error_message = Some(error.message.clone());
        self.fault.clone_from(&error.cause);
    }

    /// The verdict that decided the request: the denial if one refused it, else the last
    /// access allowed; `None` when nothing was authorized (authentication failed, say).
    pub fn decision(&self) -> Option<&Verdict> {
        self.verdicts
            .iter()
            .find(|v| v.outcome != Outcome::Allowed)
            .or_else(|| self.verdicts.last())
    }
}

/// What temporary credentials tell about the session that signed a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionContext {
    /// Unix seconds when the credentials were issued (`attributes.creationDate`).
    pub issued_at: i64,
    /// The role of a role session (`sessionIssuer`); none for GetSessionToken's sessions,
    /// which act as the user or root that asked.
    pub issuer: Option<SessionIssuer>,
    /// Whether an MFA code stood behind the session (`attributes.mfaAuthenticated`).
    pub mfa_authenticated: bool,
    /// The role session's source identity (`sourceIdentity`).
    pub source_identity: Option<String>,
}

/// The identity a session was issued for, as CloudTrail's `sessionIssuer` names it: the
/// role of a role session, the IAM user (or root) behind a federated-user session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionIssuer {
    /// CloudTrail's `type`: `Role`, `IAMUser` or `Root`.
    pub kind: &'static str,
    /// The role's or user's id (`AROA…`, `AIDA…`; the account id for the root).
    pub principal_id: String,
    /// Its ARN.
    pub arn: String,
    /// Its account.
    pub account_id: String,
    /// Its name (empty for the root).
    pub user_name: String,
}

/// Somewhere finished records go. Called on the request's task, after its answer is
/// built: a sink must not block (write to a buffer or a channel).
pub trait RecordSink: Send + Sync + std::fmt::Debug {
    /// Takes one finished record.
    fn record(&self, record: &RequestRecord);
}

/// The record of a request in flight through a service that is not the server's own
/// pipeline (S3, inside s3s): the server puts one in the request's extensions, the service
/// fills in what it learns (the operation, the caller, each verdict, a refusal's code), and
/// the server finishes it when the answer is built.
#[derive(Debug, Clone, Default)]
pub struct RecordSlot(Arc<Mutex<RequestRecord>>);

impl RecordSlot {
    /// A slot holding `record`.
    pub fn new(record: RequestRecord) -> Self {
        Self(Arc::new(Mutex::new(record)))
    }

    /// Changes the record in flight.
    pub fn update(&self, change: impl FnOnce(&mut RequestRecord)) {
        // A panic while holding the lock leaves a record still worth finishing.
        let mut record = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        change(&mut record);
    }

    /// The record as filled so far.
    pub fn take(&self) -> RequestRecord {
        let mut record = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::take(&mut *record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(outcome: Outcome) -> Verdict {
        Verdict {
            action: "s3:GetObject".into(),
            resource: "arn:aws:s3:::b/k".into(),
            outcome,
            decided_by: "p#s".into(),
            enforced: true,
            statement: None,
        }
    }

    #[test]
    fn the_decision_is_the_refusal_else_the_last_allow() {
        let mut record = RequestRecord::default();
        assert_eq!(record.decision(), None);
        record.verdicts = vec![verdict(Outcome::Allowed), verdict(Outcome::ExplicitDeny)];
        assert_eq!(record.decision().unwrap().outcome, Outcome::ExplicitDeny);
        record.verdicts = vec![verdict(Outcome::Allowed), verdict(Outcome::Allowed)];
        assert_eq!(record.decision().unwrap().outcome, Outcome::Allowed);
    }

    #[test]
    fn a_slot_is_filled_in_flight_and_taken_once() {
        let slot = RecordSlot::new(RequestRecord {
            request_id: "r".into(),
            ..RequestRecord::default()
        });
        let shared = slot.clone();
        shared.update(|r| r.operation = Some("GetObject".into()));
        let record = slot.take();
        assert_eq!(record.request_id, "r");
        assert_eq!(record.operation.as_deref(), Some("GetObject"));
        assert_eq!(slot.take(), RequestRecord::default());
    }
}
