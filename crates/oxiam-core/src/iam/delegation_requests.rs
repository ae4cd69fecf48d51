//! Delegation requests (IAM temporary delegation): an account (the requestor, a "product
//! provider") asks another (the owner) for temporary permissions, described by a policy
//! template and its parameters. The owner associates the request, may forward it for
//! approval, accepts or rejects it, and releases an exchange token, which the requestor
//! trades for credentials (STS GetDelegatedAccessToken): the approver's identity, limited
//! by the rendered policy.
//!
//! The state machine (IAM User Guide, "Understanding the request lifecycle"):
//! UNASSIGNED → (Associate) ASSIGNED → (Update) PENDING_APPROVAL → (Accept) ACCEPTED →
//! (SendDelegationToken) FINALIZED; Reject from ASSIGNED, PENDING_APPROVAL or ACCEPTED.
//! An UNASSIGNED request lapses after a day, any other after 7 days: it reads EXPIRED.
//!
//! Who may act on a request without an IAM policy (its "default permissions") is a resource
//! policy made for each request ([`DefaultGrant`]), which the engine weighs as it weighs
//! any: an explicit Deny in the caller's policies still refuses.

use oxiam_protocol::iam::{
    CreateDelegationRequestRequest, CreateDelegationRequestResponse, DelegationPermission, DelegationRequest,
    GetDelegationRequestRequest, GetDelegationRequestResponse, GetHumanReadableSummaryRequest,
    GetHumanReadableSummaryResponse, ListDelegationRequestsRequest, ListDelegationRequestsResponse, PolicyParameter,
    PolicyParameterTypeEnum, StateType, SummaryStateType, errors as iam_errors,
};
use oxiam_protocol::{ServiceError, Timestamp, common_errors, iam};
use oxiam_store::{DelegationNotificationRow, DelegationRequestRow, StoreError};

use crate::templates::{Values, render_document};
use crate::{Oxiam, Principal, PrincipalKind, errors, ids};

/// How long an UNASSIGNED request lasts, and a request in any other state.
const UNASSIGNED_SECONDS: i64 = 86_400;
const STATE_SECONDS: i64 = 7 * 86_400;

/// The most characters a rendered policy may have (IAM User Guide, policy templates).
const MAX_RENDERED_POLICY: usize = 2_048;

/// The longest delegation a root user may approve (IAM User Guide, "root users can only
/// approve delegation requests with a duration of 4 hours or less").
const ROOT_MAX_SESSION_SECONDS: i64 = 4 * 3_600;

/// The actions a request's owner may take on it without an IAM policy (IAM User Guide,
/// "Managing permissions for delegation requests"); accepting is never among them.
const OWNER_ACTIONS: &[&str] = &[
    "iam:GetDelegationRequest",
    "iam:GetHumanReadableSummary",
    "iam:UpdateDelegationRequest",
    "iam:RejectDelegationRequest",
    "iam:SendDelegationToken",
];

/// The actions anyone may take on a request nobody owns yet (only identities of its owner
/// account, when it names one).
const UNOWNED_ACTIONS: &[&str] = &[
    "iam:GetDelegationRequest",
    "iam:GetHumanReadableSummary",
    "iam:AssociateDelegationRequest",
];

/// A request's ARN, in the account it belongs to for authorization.
pub(crate) fn delegation_request_arn(account_id: &str, id: &str) -> String {
    format!("arn:aws:iam::{account_id}:delegation-request/{id}")
}

/// The state a request is in at `now`: its stored state, or EXPIRED once that lapsed.
fn state_at(row: &DelegationRequestRow, now: i64) -> &str {
    if now >= row.expires_at { "EXPIRED" } else { &row.state }
}

use crate::errors::invalid_input as invalid;

/// The refusal of a call the request's state does not admit.
fn wrong_state(row: &DelegationRequestRow, now: i64, operation: &str) -> ServiceError {
    invalid(format!(
        "Delegation request {} is in state {}: {operation} cannot be called in that state.",
        row.id,
        state_at(row, now)
    ))
}

/// The request a delegation operation names, if the request is one.
fn named_request(request: &iam::Request) -> Option<&str> {
    use iam::Request as R;
    Some(match request {
        R::GetDelegationRequest(i) => &i.delegation_request_id,
        R::AssociateDelegationRequest(i) => &i.delegation_request_id,
        R::AcceptDelegationRequest(i) => &i.delegation_request_id,
        R::RejectDelegationRequest(i) => &i.delegation_request_id,
        R::UpdateDelegationRequest(i) => &i.delegation_request_id,
        R::SendDelegationToken(i) => &i.delegation_request_id,
        R::GetHumanReadableSummary(i) => entity_request_id(&i.entity_arn)?,
        _ => return None,
    })
}

/// The request id of a delegation request ARN.
fn entity_request_id(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let id = resource.strip_prefix("delegation-request/")?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && !id.is_empty()).then_some(id)
}

/// A request's default permissions, as the resource policy the engine weighs, and the
/// account the request belongs to for that decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultGrant {
    /// The policy document.
    pub document: String,
    /// The account the request belongs to: its owner account, else the caller's (a request
    /// nobody was given is anyone's to see).
    pub account_id: String,
    /// The request's ARN in that account.
    pub arn: String,
    /// `iam:DelegationRequestOwner`, once the request is owned.
    pub owner_id: Option<String>,
}

impl DefaultGrant {
    fn of(row: &DelegationRequestRow, caller: &Principal) -> Self {
        let account_id = row
            .owner_account_id
            .clone()
            .unwrap_or_else(|| caller.account_id.clone());
        let arn = delegation_request_arn(&account_id, &row.id);
        let statement = match (&row.owner_id, &row.owner_account_id) {
            (Some(owner), _) => serde_json::json!({
                "Effect": "Allow",
                "Principal": {"AWS": owner},
                "Action": OWNER_ACTIONS,
                "Resource": arn,
            }),
            (None, Some(account)) => serde_json::json!({
                "Effect": "Allow",
                "Principal": "*",
                "Action": UNOWNED_ACTIONS,
                "Resource": arn,
                "Condition": {"StringEquals": {"aws:PrincipalAccount": account}},
            }),
            (None, None) => serde_json::json!({
                "Effect": "Allow",
                "Principal": "*",
                "Action": UNOWNED_ACTIONS,
                "Resource": arn,
            }),
        };
        let document = serde_json::json!({"Version": "2012-10-17", "Statement": [statement]}).to_string();
        Self {
            document,
            account_id,
            arn,
            owner_id: row.owner_id.clone(),
        }
    }

    /// Listing one's own requests (ListDelegationRequests naming oneself as `OwnerId`).
    fn own_listing(caller: &Principal) -> Self {
        let document = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": caller.arn()},
                "Action": "iam:ListDelegationRequests",
                "Resource": "*",
            }],
        })
        .to_string();
        Self {
            document,
            account_id: caller.account_id.clone(),
            arn: "*".to_owned(),
            owner_id: None,
        }
    }

    /// Points an access at the request and adds the key the request's owner is. A denial
    /// names the request in the caller's own account: who it was meant for is not the
    /// business of a caller outside that account.
    pub fn apply(&self, caller: &Principal, access: &mut crate::authz::Access) {
        if self.arn != "*" {
            access.resource = self.arn.clone();
            if caller.account_id != self.account_id
                && let Some((_, id)) = self.arn.rsplit_once('/')
            {
                access.shown_as = Some(delegation_request_arn(&caller.account_id, id));
            }
        }
        if let Some(owner) = &self.owner_id {
            access
                .keys
                .push(("iam:DelegationRequestOwner".to_owned(), vec![owner.clone()]));
        }
    }

    /// As the resource policy of the decision.
    pub fn policy(&self) -> crate::authz::ResourcePolicy<'_> {
        crate::authz::ResourcePolicy {
            document: &self.document,
            owner_account: &self.account_id,
        }
    }
}

/// The boundaries a rendered policy requires of the roles it lets be created: the values of
/// its `iam:PermissionsBoundary` conditions.
fn restriction_arns(policy: &serde_json::Value) -> Vec<String> {
    let mut found = Vec::new();
    let statements = match policy.get("Statement") {
        Some(serde_json::Value::Array(list)) => list.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    for statement in statements {
        let Some(conditions) = statement.get("Condition").and_then(|c| c.as_object()) else {
            continue;
        };
        for keys in conditions.values().filter_map(|k| k.as_object()) {
            for (key, values) in keys {
                if !key.eq_ignore_ascii_case("iam:PermissionsBoundary") {
                    continue;
                }
                let values = match values {
                    serde_json::Value::Array(list) => list.iter().filter_map(|v| v.as_str()).collect(),
                    other => other.as_str().into_iter().collect::<Vec<_>>(),
                };
                for value in values {
                    if !found.iter().any(|f| f == value) {
                        found.push(value.to_owned());
                    }
                }
            }
        }
    }
    found
}

/// The parameters as given, checked: each named once, with values, a single value for a
/// `string`.
fn parameter_values(parameters: &[PolicyParameter]) -> Result<Values, ServiceError> {
    let mut values = Values::new();
    for p in parameters {
        let Some(name) = &p.name else {
            return Err(invalid("Every policy parameter must have a Name.".to_owned()));
        };
        let given = p.values.clone().unwrap_or_default();
        let is_list = p.r#type == Some(PolicyParameterTypeEnum::StringList);
        if given.is_empty() || (!is_list && given.len() != 1) {
            return Err(invalid(format!(
                "Policy parameter {name} must have {} value.",
                if is_list { "at least one" } else { "exactly one" }
            )));
        }
        if values.insert(name.clone(), (given, is_list)).is_some() {
            return Err(invalid(format!("Duplicate policy parameter: {name}.")));
        }
    }
    Ok(values)
}

/// The wire form of a stored request.
fn wire(row: &DelegationRequestRow, now: i64) -> DelegationRequest {
    let permissions: Option<DelegationPermission> = serde_json::from_str::<StoredPermissions>(&row.permissions)
        .ok()
        .map(StoredPermissions::into_wire);
    let restrictions = serde_json::from_str(&row.permission_policy)
        .map(|p| restriction_arns(&p))
        .unwrap_or_default();
    DelegationRequest {
        delegation_request_id: Some(row.id.clone()),
        owner_account_id: row.owner_account_id.clone(),
        description: Some(row.description.clone()),
        request_message: row.request_message.clone(),
        permissions,
        permission_policy: Some(row.permission_policy.clone()),
        role_permission_restriction_arns: (!restrictions.is_empty()).then_some(restrictions),
        owner_id: row.owner_id.clone(),
        approver_id: row.approver_id.clone(),
        state: StateType::from_wire(state_at(row, now)),
        expiration_time: Some(Timestamp(row.expires_at)),
        requestor_id: Some(row.requestor_account_id.clone()),
        requestor_name: Some(row.requestor_account_id.clone()),
        create_date: Some(Timestamp(row.created_at)),
        session_duration: i32::try_from(row.session_duration).ok(),
        redirect_url: row.redirect_url.clone(),
        notes: row.notes.clone(),
        rejection_reason: row.rejection_reason.clone(),
        only_send_by_owner: Some(row.only_send_by_owner),
        updated_time: Some(Timestamp(row.updated_at)),
    }
}

/// `DelegationPermission` as stored (JSON).
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredPermissions {
    template: Option<String>,
    parameters: Vec<(String, Vec<String>, Option<String>)>,
}

impl StoredPermissions {
    fn of(p: &DelegationPermission) -> Self {
        Self {
            template: p.policy_template_arn.clone(),
            parameters: p
                .parameters
                .iter()
                .flatten()
                .map(|p| {
                    (
                        p.name.clone().unwrap_or_default(),
                        p.values.clone().unwrap_or_default(),
                        p.r#type.map(|t| t.as_str().to_owned()),
                    )
                })
                .collect(),
        }
    }

    fn into_wire(self) -> DelegationPermission {
        DelegationPermission {
            policy_template_arn: self.template,
            parameters: (!self.parameters.is_empty()).then(|| {
                self.parameters
                    .into_iter()
                    .map(|(name, values, kind)| PolicyParameter {
                        name: Some(name),
                        values: Some(values),
                        r#type: kind.as_deref().and_then(PolicyParameterTypeEnum::from_wire),
                    })
                    .collect()
            }),
        }
    }
}

impl Oxiam {
    /// The default permissions of the request an IAM request acts on (`None`: it acts on
    /// none, or on one that does not exist, which the operation reports after
    /// authorization).
    pub async fn delegation_grant(
        &self,
        caller: &Principal,
        request: &iam::Request,
    ) -> Result<Option<DefaultGrant>, ServiceError> {
        if let iam::Request::ListDelegationRequests(input) = request {
            return Ok(
                (input.owner_id.as_deref() == Some(caller.arn().as_str())).then(|| DefaultGrant::own_listing(caller))
            );
        }
        let Some(id) = named_request(request) else {
            return Ok(None);
        };
        match self.store.delegation_request(id).await {
            Ok(row) => Ok(Some(DefaultGrant::of(&row, caller))),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(errors::store(e)),
        }
    }

    pub(super) async fn create_delegation_request(
        &self,
        caller: &Principal,
        input: CreateDelegationRequestRequest,
        now: i64,
    ) -> Result<CreateDelegationRequestResponse, ServiceError> {
        let Some(template_arn) = &input.permissions.policy_template_arn else {
            return Err(invalid("Permissions must name a PolicyTemplateArn.".to_owned()));
        };
        // A partner's templates are its own customer managed policies (docs/differences.md).
        let template = match self.store.get_policy(&caller.account_id, template_arn).await {
            Ok(policy) => policy,
            Err(StoreError::NotFound { .. }) => {
                return Err(invalid(format!("Policy template {template_arn} cannot be found.")));
            }
            Err(e) => return Err(errors::store(e)),
        };
        let document = self
            .store
            .get_policy_version(&caller.account_id, template_arn, template.default_version)
            .await
            .map_err(errors::store)?
            .document;
        let values = parameter_values(input.permissions.parameters.as_deref().unwrap_or_default())?;
        let rendered = render_document(&document, &values)?
            .ok_or_else(|| invalid("The rendered policy has no statement left.".to_owned()))?;
        if rendered.chars().count() > MAX_RENDERED_POLICY {
            return Err(invalid(format!(
                "The rendered policy has {} characters; at most {MAX_RENDERED_POLICY} are allowed.",
                rendered.chars().count()
            )));
        }
        crate::documents::validate_session(&rendered)
            .map_err(|e| invalid(format!("The rendered policy is not valid: {}", e.message)))?;
        let id = format!("dr-{}", ids::uuid().replace('-', ""));
        let row = DelegationRequestRow {
            id: id.clone(),
            requestor_account_id: caller.account_id.clone(),
            requestor_workflow_id: input.requestor_workflow_id,
            owner_account_id: input.owner_account_id,
            owner_id: None,
            approver_id: None,
            approver_session_key: None,
            approver_user_id: None,
            description: input.description,
            request_message: input.request_message,
            permissions: serde_json::to_string(&StoredPermissions::of(&input.permissions)).unwrap_or_default(),
            permission_policy: rendered,
            redirect_url: input.redirect_url,
            notification_channel: input.notification_channel,
            session_duration: i64::from(input.session_duration),
            only_send_by_owner: input.only_send_by_owner.unwrap_or(false),
            state: "UNASSIGNED".to_owned(),
            notes: None,
            rejection_reason: None,
            created_at: now,
            updated_at: now,
            expires_at: now + UNASSIGNED_SECONDS,
            token_sha256: None,
            delegation_ends_at: None,
            version: 0,
        };
        self.store
            .create_delegation_request(&row)
            .await
            .map_err(errors::store)?;
        Ok(CreateDelegationRequestResponse {
            console_deep_link: Some(format!(
                "https://console.aws.amazon.com/iam/home#/delegation-requests/{id}"
            )),
            delegation_request_id: Some(id),
        })
    }

    async fn stored_request(&self, id: &str) -> Result<DelegationRequestRow, ServiceError> {
        self.store.delegation_request(id).await.map_err(errors::store)
    }

    pub(super) async fn get_delegation_request(
        &self,
        input: GetDelegationRequestRequest,
        now: i64,
    ) -> Result<GetDelegationRequestResponse, ServiceError> {
        let row = self.stored_request(&input.delegation_request_id).await?;
        // The permission check is asynchronous in AWS and "does not guarantee an answer":
        // oxiam gives none (docs/differences.md).
        Ok(GetDelegationRequestResponse {
            delegation_request: Some(wire(&row, now)),
            permission_check_status: None,
            permission_check_result: None,
        })
    }

    pub(super) async fn list_delegation_requests(
        &self,
        caller: &Principal,
        input: ListDelegationRequestsRequest,
        now: i64,
    ) -> Result<ListDelegationRequestsResponse, ServiceError> {
        let rows = self
            .store
            .owned_delegation_requests(&caller.account_id, input.owner_id.as_deref())
            .await
            .map_err(errors::store)?;
        let keyed = rows
            .iter()
            .map(|row| (format!("{:020}{}", row.created_at, row.id), wire(row, now)))
            .collect();
        let (requests, is_truncated, marker) =
            super::page(keyed, input.marker.as_deref(), super::page_size(input.max_items))?;
        Ok(ListDelegationRequestsResponse {
            delegation_requests: Some(requests),
            marker,
            is_truncated: Some(is_truncated),
        })
    }

    /// Writes `changed` over the request it was made from, with the notification of its new
    /// state; another change that came first is IAM's ConcurrentModification.
    async fn change_request(
        &self,
        mut changed: DelegationRequestRow,
        now: i64,
        exchange: Option<(&str, i64)>,
    ) -> Result<(), ServiceError> {
        changed.version += 1;
        changed.updated_at = now;
        let mut message = serde_json::json!({
            "Type": "StateChange",
            "RequestId": changed.id,
            "RequestorWorkflowId": changed.requestor_workflow_id,
            "State": changed.state,
            "OwnerAccountId": changed.owner_account_id,
            "UpdatedAt": iso8601_millis(now),
        });
        let mut notifications = vec![self.notification(&changed, 0, now, &message)];
        if let Some((token, expires_at)) = exchange {
            message["Type"] = "ExchangeToken".into();
            message["ExchangeToken"] = token.into();
            message["ExpiresAt"] = iso8601_millis(expires_at).into();
            notifications.push(self.notification(&changed, 1, now, &message));
        }
        if self
            .store
            .change_delegation_request(&changed, &notifications)
            .await
            .map_err(errors::store)?
        {
            return Ok(());
        }
        Err(ServiceError::new(
            iam_errors::CONCURRENT_MODIFICATION,
            format!(
                "Delegation request {} was changed by another request. Read it again and retry.",
                changed.id
            ),
        ))
    }

    fn notification(
        &self,
        row: &DelegationRequestRow,
        n: u8,
        now: i64,
        message: &serde_json::Value,
    ) -> DelegationNotificationRow {
        // Ids sort in the order a request's notifications were made.
        let id = format!("{}/{:06}/{n}", row.id, row.version);
        DelegationNotificationRow {
            message_sealed: self.secrets.seal(&id, &message.to_string()),
            id,
            requestor_account_id: row.requestor_account_id.clone(),
            channel: row.notification_channel.clone(),
            created_at: now,
        }
    }

    pub(super) async fn associate_delegation_request(
        &self,
        caller: &Principal,
        id: &str,
        now: i64,
    ) -> Result<(), ServiceError> {
        let row = self.stored_request(id).await?;
        if state_at(&row, now) != "UNASSIGNED" {
            return Err(wrong_state(&row, now, "AssociateDelegationRequest"));
        }
        if row.owner_account_id.as_ref().is_some_and(|a| *a != caller.account_id) {
            return Err(invalid(format!(
                "Delegation request {id} can only be associated by an identity of its owner account."
            )));
        }
        let changed = DelegationRequestRow {
            owner_account_id: Some(caller.account_id.clone()),
            owner_id: Some(caller.arn()),
            state: "ASSIGNED".to_owned(),
            expires_at: now + STATE_SECONDS,
            ..row
        };
        self.change_request(changed, now, None).await
    }

    pub(super) async fn update_delegation_request(
        &self,
        id: &str,
        notes: Option<String>,
        now: i64,
    ) -> Result<(), ServiceError> {
        let row = self.stored_request(id).await?;
        if !matches!(state_at(&row, now), "ASSIGNED" | "PENDING_APPROVAL") {
            return Err(wrong_state(&row, now, "UpdateDelegationRequest"));
        }
        let was_pending = row.state == "PENDING_APPROVAL";
        let changed = DelegationRequestRow {
            notes: notes.or(row.notes.clone()),
            state: "PENDING_APPROVAL".to_owned(),
            // Forwarding starts the state's 7 days; adding notes to it does not.
            expires_at: if was_pending {
                row.expires_at
            } else {
                now + STATE_SECONDS
            },
            ..row
        };
        self.change_request(changed, now, None).await
    }

    pub(super) async fn accept_delegation_request(
        &self,
        caller: &Principal,
        id: &str,
        now: i64,
    ) -> Result<(), ServiceError> {
        let row = self.stored_request(id).await?;
        // AcceptDelegationRequest declares no InvalidInput: a request past acceptance is
        // a change that came first.
        if !matches!(state_at(&row, now), "ASSIGNED" | "PENDING_APPROVAL") {
            return Err(ServiceError::new(
                iam_errors::CONCURRENT_MODIFICATION,
                wrong_state(&row, now, "AcceptDelegationRequest").message,
            ));
        }
        if row.owner_account_id.as_deref() != Some(caller.account_id.as_str()) {
            return Err(ServiceError::new(
                common_errors::ACCESS_DENIED,
                format!("Only an identity of the owner account can accept delegation request {id}."),
            ));
        }
        if matches!(caller.kind, PrincipalKind::Root) && row.session_duration > ROOT_MAX_SESSION_SECONDS {
            return Err(ServiceError::new(
                common_errors::ACCESS_DENIED,
                format!(
                    "The root user can only approve delegation requests with a duration of {ROOT_MAX_SESSION_SECONDS} seconds or less."
                ),
            ));
        }
        // The identity the delegated credentials will act as: the session that accepted, or
        // the user (or root) whose long-term keys signed.
        let changed = DelegationRequestRow {
            approver_id: Some(caller.arn()),
            approver_session_key: caller.session.is_some().then(|| caller.access_key_id.clone()),
            approver_user_id: match &caller.kind {
                PrincipalKind::User { user_id, .. } if caller.session.is_none() => Some(user_id.clone()),
                _ => None,
            },
            state: "ACCEPTED".to_owned(),
            expires_at: now + STATE_SECONDS,
            ..row
        };
        self.change_request(changed, now, None).await
    }

    pub(super) async fn reject_delegation_request(
        &self,
        id: &str,
        notes: Option<String>,
        now: i64,
    ) -> Result<(), ServiceError> {
        let row = self.stored_request(id).await?;
        if !matches!(state_at(&row, now), "ASSIGNED" | "PENDING_APPROVAL" | "ACCEPTED") {
            return Err(wrong_state(&row, now, "RejectDelegationRequest"));
        }
        let changed = DelegationRequestRow {
            rejection_reason: notes,
            state: "REJECTED".to_owned(),
            expires_at: now + STATE_SECONDS,
            ..row
        };
        self.change_request(changed, now, None).await
    }

    pub(super) async fn send_delegation_token(
        &self,
        caller: &Principal,
        id: &str,
        now: i64,
    ) -> Result<(), ServiceError> {
        let row = self.stored_request(id).await?;
        if state_at(&row, now) != "ACCEPTED" {
            return Err(wrong_state(&row, now, "SendDelegationToken"));
        }
        if row.only_send_by_owner && row.owner_id.as_deref() != Some(caller.arn().as_str()) {
            return Err(ServiceError::new(
                common_errors::ACCESS_DENIED,
                format!("Only the owner of delegation request {id} may send its delegation token."),
            ));
        }
        let token = crate::sts::session_token();
        // The delegation runs from the release, however late the token is traded.
        let credentials_expire = now + row.session_duration;
        let changed = DelegationRequestRow {
            state: "FINALIZED".to_owned(),
            expires_at: now + STATE_SECONDS,
            token_sha256: Some(crate::sts::token_digest(&token)),
            delegation_ends_at: Some(credentials_expire),
            ..row
        };
        self.change_request(changed, now, Some((&token, credentials_expire)))
            .await
    }

    pub(super) async fn get_human_readable_summary(
        &self,
        input: GetHumanReadableSummaryRequest,
        now: i64,
    ) -> Result<GetHumanReadableSummaryResponse, ServiceError> {
        let Some(id) = entity_request_id(&input.entity_arn) else {
            return Err(invalid(format!(
                "Entity {} is not a delegation request: only delegation requests can be summarized.",
                input.entity_arn
            )));
        };
        let row = self.stored_request(id).await?;
        let locale = input.locale.unwrap_or_else(|| "en-US".to_owned());
        // oxiam writes its summaries itself, from the request, in English only.
        if !locale.to_ascii_lowercase().starts_with("en") {
            return Ok(GetHumanReadableSummaryResponse {
                summary_content: Some(String::new()),
                locale: Some(locale),
                summary_state: Some(SummaryStateType::NOTSUPPORTED),
            });
        }
        Ok(GetHumanReadableSummaryResponse {
            summary_content: Some(summary(&row, now)),
            locale: Some(locale),
            summary_state: Some(SummaryStateType::AVAILABLE),
        })
    }

    /// What would have been published to the notification channels of the caller's
    /// account's requests, oldest first, each as its JSON message: for the requestor, in the
    /// absence of SNS, to learn of state changes and receive exchange tokens. Only callers
    /// the account allows `sts:GetDelegatedAccessToken` (the one use of a token) read them.
    pub async fn delegation_notifications(
        &self,
        caller: &Principal,
        facts: &crate::authz::RequestFacts,
    ) -> Result<Vec<serde_json::Value>, ServiceError> {
        let access = crate::authz::Access {
            action: "sts:GetDelegatedAccessToken".to_owned(),
            resource: "*".to_owned(),
            shown_as: None,
            keys: Vec::new(),
            resource_is_prefix: false,
        };
        // Reading them is no attempt at the action (access advisor counts none).
        self.decide(caller, &access, facts, None).await?;
        // A week's: a request lapses within that of its last change, its token well before.
        let rows = self
            .store
            .delegation_notifications(&caller.account_id, facts.now - STATE_SECONDS)
            .await
            .map_err(errors::store)?;
        rows.iter()
            .map(|row| {
                let message = self
                    .secrets
                    .open(&row.id, &row.message_sealed)
                    .map_err(|_| errors::service_failure(&"a delegation notification does not open"))?;
                Ok(serde_json::json!({
                    "MessageId": row.id,
                    "TopicArn": row.channel,
                    "Timestamp": iso8601_millis(row.created_at),
                    "Message": message,
                }))
            })
            .collect()
    }

    /// The request whose released exchange token `token` is, for STS GetDelegatedAccessToken.
    pub(crate) async fn released_delegation(&self, token: &str) -> Result<Option<DelegationRequestRow>, ServiceError> {
        self.store
            .delegation_request_by_token(&crate::sts::token_digest(token))
            .await
            .map_err(errors::store)
    }
}

/// ISO-8601 with milliseconds, as the notifications write times.
fn iso8601_millis(seconds: i64) -> String {
    let whole = Timestamp(seconds).to_iso8601();
    match whole.strip_suffix('Z') {
        Some(stem) => format!("{stem}.000Z"),
        None => whole,
    }
}

/// A plain-English summary of what a request asks for, from its rendered policy.
fn summary(row: &DelegationRequestRow, now: i64) -> String {
    let policy: serde_json::Value = serde_json::from_str(&row.permission_policy).unwrap_or_default();
    let statements = match policy.get("Statement") {
        Some(serde_json::Value::Array(list)) => list.clone(),
        Some(one) => vec![one.clone()],
        None => Vec::new(),
    };
    let strings = |value: Option<&serde_json::Value>| -> String {
        match value {
            Some(serde_json::Value::Array(list)) => {
                list.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
            Some(serde_json::Value::String(one)) => one.clone(),
            _ => "(none)".to_owned(),
        }
    };
    let mut text = format!(
        "Account {} asks for temporary access to account {} for {} hours and {} minutes once the exchange token is sent. State: {}.",
        row.requestor_account_id,
        row.owner_account_id.as_deref().unwrap_or("(not yet associated)"),
        row.session_duration / 3_600,
        row.session_duration % 3_600 / 60,
        state_at(row, now),
    );
    for statement in statements {
        let effect = statement.get("Effect").and_then(|e| e.as_str()).unwrap_or("Allow");
        text.push_str(&format!(
            "\n- {} {} on {}{}",
            if effect == "Deny" { "Never" } else { "Allows" },
            strings(statement.get("Action").or(statement.get("NotAction"))),
            strings(statement.get("Resource").or(statement.get("NotResource"))),
            if statement.get("Condition").is_some() {
                ", under conditions"
            } else {
                ""
            },
        ));
    }
    text.chars().take(10_000).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_delegation_request_arns_name_a_request() {
        assert_eq!(
            entity_request_id("arn:aws:iam::123456789012:delegation-request/dr-0123456789abcdef"),
            Some("dr-0123456789abcdef")
        );
        assert_eq!(entity_request_id("arn:aws:iam::123456789012:role/r"), None);
        assert_eq!(entity_request_id("arn:aws:iam::12345:delegation-request/x"), None);
        assert_eq!(entity_request_id("arn:aws:iam::123456789012:delegation-request/"), None);
    }

    #[test]
    fn restriction_arns_are_the_boundaries_the_policy_requires() {
        let policy = serde_json::json!({"Statement": [
            {"Effect": "Allow", "Action": "iam:CreateRole", "Resource": "*",
             "Condition": {"StringEquals": {"iam:PermissionsBoundary": "arn:aws:iam::1:policy/b"}}},
            {"Effect": "Allow", "Action": "iam:PutRolePermissionsBoundary", "Resource": "*",
             "Condition": {"ArnEquals": {"IAM:permissionsboundary": ["arn:aws:iam::1:policy/b", "arn:aws:iam::1:policy/c"]}}},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
        ]});
        assert_eq!(
            restriction_arns(&policy),
            vec![
                "arn:aws:iam::1:policy/b".to_owned(),
                "arn:aws:iam::1:policy/c".to_owned()
            ]
        );
    }

    #[test]
    fn a_string_parameter_takes_one_value_and_names_are_unique() {
        let p = |name: &str, values: &[&str], kind| PolicyParameter {
            name: Some(name.to_owned()),
            values: Some(values.iter().map(|v| (*v).to_owned()).collect()),
            r#type: Some(kind),
        };
        assert!(parameter_values(&[p("bucket", &["a", "b"], PolicyParameterTypeEnum::String)]).is_err());
        assert!(parameter_values(&[p("bucket", &[], PolicyParameterTypeEnum::StringList)]).is_err());
        assert!(
            parameter_values(&[
                p("bucket", &["a"], PolicyParameterTypeEnum::String),
                p("bucket", &["b"], PolicyParameterTypeEnum::String)
            ])
            .is_err()
        );
        let values = parameter_values(&[p("buckets", &["a", "b"], PolicyParameterTypeEnum::StringList)]).unwrap();
        assert_eq!(values["buckets"], (vec!["a".to_owned(), "b".to_owned()], true));
    }
}
