//! One organization, as stored (one JSON document per organization), and every rule of
//! AWS Organizations that reads or changes it. Pure: no store, no clock (the time is
//! given), no I/O; ids are drawn at random.
//!
//! Each change checks what AWS checks, in AWS's words and error codes, before it changes
//! anything: a refused request leaves the document as it was (the caller writes it back
//! only on success).

use oxiam_protocol::ServiceError;
use oxiam_protocol::organizations::{self as org, errors};
use serde::{Deserialize, Serialize};

/// `FullAWSAccess`, the AWS managed SCP attached wherever SCPs are enabled.
pub const FULL_AWS_ACCESS: &str = "p-FullAWSAccess";
/// `RCPFullAWSAccess`, the AWS managed RCP attached wherever RCPs are enabled.
pub const RCP_FULL_AWS_ACCESS: &str = "p-RCPFullAWSAccess";
/// SCP and RCP types' wire names.
pub const SCP: &str = "SERVICE_CONTROL_POLICY";
/// The RCP type's wire name.
pub const RCP: &str = "RESOURCE_CONTROL_POLICY";

const FULL_AWS_ACCESS_CONTENT: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const RCP_FULL_AWS_ACCESS_CONTENT: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;

/// How deep OUs nest under the root (Organizations quotas: five levels).
pub const OU_DEPTH_LIMIT: usize = 5;
/// How many accounts an organization holds (the default quota; invitations count).
pub const ACCOUNT_LIMIT: usize = 10;
/// Tags per root, OU, account or policy.
pub const TAG_LIMIT: usize = 50;
/// How long an invitation stays open: 15 days.
pub const INVITATION_SECONDS: i64 = 15 * 24 * 3600;

/// The message of AccessDeniedException for a caller outside the management account.
pub const NOT_PERMITTED: &str = "You don't have permissions to access this resource.";

/// An organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgState {
    /// `o-…`.
    pub id: String,
    /// The management account.
    pub management_account_id: String,
    /// `ALL` or `CONSOLIDATED_BILLING`.
    pub feature_set: String,
    /// The one root, `r-…`.
    pub root_id: String,
    /// The policy types enabled in the root, in the order enabled.
    pub enabled_policy_types: Vec<String>,
    /// Organizational units, in creation order.
    pub ous: Vec<Ou>,
    /// Member accounts (the management account first), in joining order.
    pub accounts: Vec<Member>,
    /// Customer managed policies, in creation order.
    pub policies: Vec<OrgPolicy>,
    /// Which policy is attached to which root, OU or account, in attachment order.
    pub attachments: Vec<Attachment>,
    /// Tags by resource id (root, OU, account, policy), each in the order given.
    pub tags: Vec<Tagged>,
    /// CreateAccount requests.
    pub create_account_statuses: Vec<CreateStatus>,
    /// Invitations sent.
    pub handshakes: Vec<Invitation>,
    /// The services given trusted access (`iam.amazonaws.com`, …), with when.
    #[serde(default)]
    pub service_access: Vec<(String, i64)>,
    /// IAM's centralized root access features enabled (`RootCredentialsManagement`,
    /// `RootSessions`), in the order enabled.
    #[serde(default)]
    pub iam_features: Vec<String>,
}

/// IAM's service principal, whose trusted access IAM's organization features need.
pub const IAM_SERVICE_PRINCIPAL: &str = "iam.amazonaws.com";

/// An organizational unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ou {
    /// `ou-…`.
    pub id: String,
    /// Its name, unique under its parent.
    pub name: String,
    /// The root or OU it sits in.
    pub parent_id: String,
}

/// A member account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Its 12-digit id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its root user's email address.
    pub email: String,
    /// The root or OU it sits in.
    pub parent_id: String,
    /// `CREATED` or `INVITED`.
    pub joined_method: String,
    /// When it joined.
    pub joined_at: i64,
}

/// A customer managed policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgPolicy {
    /// `p-…`.
    pub id: String,
    /// Its name, unique in the organization.
    pub name: String,
    /// Its description (may be empty).
    pub description: String,
    /// Its type's wire name.
    pub policy_type: String,
    /// The document, exactly as sent.
    pub content: String,
}

/// A policy attached to a root, OU or account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The policy.
    pub policy_id: String,
    /// The root, OU or account.
    pub target_id: String,
}

/// The tags of one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tagged {
    /// The root, OU, account or policy.
    pub resource_id: String,
    /// Its tags, in the order given.
    pub tags: Vec<(String, String)>,
}

/// A CreateAccount request and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateStatus {
    /// `car-…`.
    pub id: String,
    /// The name asked for.
    pub account_name: String,
    /// `SUCCEEDED` or `FAILED` (oxiam creates accounts at once).
    pub state: String,
    /// When asked.
    pub requested_at: i64,
    /// The account made, if it was.
    pub account_id: Option<String>,
    /// Why not, if it failed.
    pub failure_reason: Option<String>,
}

/// An invitation to join (a handshake of action `INVITE`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// `h-…`.
    pub id: String,
    /// The invited account.
    pub account_id: String,
    /// `OPEN`, `ACCEPTED`, `DECLINED` or `CANCELED`.
    pub state: String,
    /// When sent.
    pub requested_at: i64,
    /// When it lapses.
    pub expires_at: i64,
    /// The invitation's notes, if any.
    pub notes: Option<String>,
    /// Tags for the account once it joins.
    pub tags: Vec<(String, String)>,
}

/// What kind of thing an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// The root.
    Root,
    /// An OU.
    Ou,
    /// A member account.
    Account,
}

/// An error of kind `kind`, with its message.
pub fn error(kind: oxiam_protocol::ErrorKind, message: impl Into<String>) -> ServiceError {
    ServiceError::new(kind, message)
}

fn constraint(reason: &'static str, message: &str) -> ServiceError {
    error(errors::CONSTRAINT_VIOLATION, message).with_reason(reason)
}

/// HandshakeNotFoundException.
pub fn handshake_not_found() -> ServiceError {
    error(
        errors::HANDSHAKE_NOT_FOUND,
        "We can't find a handshake with the HandshakeId that you specified.",
    )
}

/// HandshakeConstraintViolationException for an account that belongs to an organization.
pub fn already_in_an_organization() -> ServiceError {
    error(
        errors::HANDSHAKE_CONSTRAINT_VIOLATION,
        "The account is already a member of an organization.",
    )
    .with_reason("ALREADY_IN_AN_ORGANIZATION")
}

/// An `InvalidInputException` with its reason.
pub fn invalid_input(reason: &'static str, message: &str) -> ServiceError {
    error(errors::INVALID_INPUT, message).with_reason(reason)
}

/// The lower-case policy type as ARNs write it: `service_control_policy`.
fn type_segment(policy_type: &str) -> String {
    policy_type.to_ascii_lowercase()
}

/// The policy types whose policies oxiam enforces, with their content quota in characters
/// (Organizations quotas, 2026: SCPs 10,240, RCPs 5,120) and the most attached per target.
fn limits(policy_type: &str) -> Option<(usize, usize)> {
    match policy_type {
        SCP => Some((10_240, 10)),
        RCP => Some((5_120, 5)),
        _ => None,
    }
}

/// How many customer policies of a type an organization may hold (Organizations quotas:
/// 10,000 SCPs, 2,000 RCPs; the other types, 10,000).
fn policies_per_organization(policy_type: &str) -> usize {
    match policy_type {
        RCP => 2_000,
        _ => 10_000,
    }
}

/// The AWS managed policy of a type, attached wherever the type is enabled.
fn managed_policy_of(policy_type: &str) -> Option<&'static str> {
    match policy_type {
        SCP => Some(FULL_AWS_ACCESS),
        RCP => Some(RCP_FULL_AWS_ACCESS),
        _ => None,
    }
}

/// An AWS managed policy: (id, name, description, type, content).
fn aws_managed(policy_id: &str) -> Option<(&'static str, &'static str, &'static str, &'static str, &'static str)> {
    match policy_id {
        FULL_AWS_ACCESS => Some((
            FULL_AWS_ACCESS,
            "FullAWSAccess",
            "Allows access to every operation",
            SCP,
            FULL_AWS_ACCESS_CONTENT,
        )),
        RCP_FULL_AWS_ACCESS => Some((
            RCP_FULL_AWS_ACCESS,
            "RCPFullAWSAccess",
            "Allows access to every resource.",
            RCP,
            RCP_FULL_AWS_ACCESS_CONTENT,
        )),
        _ => None,
    }
}

/// A policy as the state knows it, customer or AWS managed.
#[derive(Debug, Clone, Copy)]
pub struct PolicyView<'a> {
    /// `p-…`.
    pub id: &'a str,
    /// Its name.
    pub name: &'a str,
    /// Its description.
    pub description: &'a str,
    /// Its type's wire name.
    pub policy_type: &'a str,
    /// Its document.
    pub content: &'a str,
    /// Whether AWS manages it.
    pub aws_managed: bool,
}

impl OrgState {
    /// A new organization with its root, managed by `management_account_id`; with all
    /// features, SCPs are enabled and `FullAWSAccess` attached to the root and the account.
    pub fn new(management_account_id: &str, email: &str, feature_set: &str, now: i64) -> OrgState {
        let root_id = crate::ids::organizations_id("r-", 4);
        let mut state = OrgState {
            id: crate::ids::organizations_id("o-", 10),
            management_account_id: management_account_id.to_owned(),
            feature_set: feature_set.to_owned(),
            root_id: root_id.clone(),
            enabled_policy_types: Vec::new(),
            ous: Vec::new(),
            accounts: vec![Member {
                id: management_account_id.to_owned(),
                name: format!("Account {management_account_id}"),
                email: email.to_owned(),
                parent_id: root_id,
                joined_method: "INVITED".to_owned(),
                joined_at: now,
            }],
            policies: Vec::new(),
            attachments: Vec::new(),
            tags: Vec::new(),
            create_account_statuses: Vec::new(),
            handshakes: Vec::new(),
            service_access: Vec::new(),
            iam_features: Vec::new(),
        };
        if feature_set == "ALL" {
            state.enable_type(SCP);
        }
        state
    }

    /// Reads a stored document.
    pub fn from_json(text: &str) -> Result<OrgState, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The document to store.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an organization serializes")
    }

    // ---- ARNs ----

    fn arn_prefix(&self) -> String {
        format!("arn:aws:organizations::{}", self.management_account_id)
    }

    /// The organization's ARN.
    pub fn arn(&self) -> String {
        format!("{}:organization/{}", self.arn_prefix(), self.id)
    }

    /// An account's ARN (in the management account's namespace).
    pub fn account_arn(&self, account_id: &str) -> String {
        format!("{}:account/{}/{account_id}", self.arn_prefix(), self.id)
    }

    /// The root's ARN.
    pub fn root_arn(&self) -> String {
        format!("{}:root/{}/{}", self.arn_prefix(), self.id, self.root_id)
    }

    /// An OU's ARN.
    pub fn ou_arn(&self, ou_id: &str) -> String {
        format!("{}:ou/{}/{ou_id}", self.arn_prefix(), self.id)
    }

    /// A policy's ARN: AWS managed policies live in the `aws` namespace.
    pub fn policy_arn(&self, policy: &PolicyView<'_>) -> String {
        if policy.aws_managed {
            format!(
                "arn:aws:organizations::aws:policy/{}/{}",
                type_segment(policy.policy_type),
                policy.id
            )
        } else {
            format!(
                "{}:policy/{}/{}/{}",
                self.arn_prefix(),
                self.id,
                type_segment(policy.policy_type),
                policy.id
            )
        }
    }

    /// A handshake's ARN.
    pub fn handshake_arn(&self, handshake_id: &str) -> String {
        format!("{}:handshake/{}/invite/{handshake_id}", self.arn_prefix(), self.id)
    }

    /// The ARN of a root, OU or account.
    pub fn node_arn(&self, id: &str) -> Option<String> {
        Some(match self.node(id)? {
            Node::Root => self.root_arn(),
            Node::Ou => self.ou_arn(id),
            Node::Account => self.account_arn(id),
        })
    }

    // ---- lookups ----

    /// What `id` names in this organization, if anything.
    pub fn node(&self, id: &str) -> Option<Node> {
        if id == self.root_id {
            Some(Node::Root)
        } else if self.ous.iter().any(|o| o.id == id) {
            Some(Node::Ou)
        } else if self.accounts.iter().any(|a| a.id == id) {
            Some(Node::Account)
        } else {
            None
        }
    }

    /// A member account.
    pub fn member(&self, account_id: &str) -> Option<&Member> {
        self.accounts.iter().find(|a| a.id == account_id)
    }

    fn ou(&self, ou_id: &str) -> Option<&Ou> {
        self.ous.iter().find(|o| o.id == ou_id)
    }

    /// A policy, customer or AWS managed (the latter only while its type is enabled or
    /// it is asked for by id).
    pub fn policy(&self, policy_id: &str) -> Option<PolicyView<'_>> {
        if let Some((id, name, description, policy_type, content)) = aws_managed(policy_id) {
            return Some(PolicyView {
                id,
                name,
                description,
                policy_type,
                content,
                aws_managed: true,
            });
        }
        self.policies.iter().find(|p| p.id == policy_id).map(|p| PolicyView {
            id: &p.id,
            name: &p.name,
            description: &p.description,
            policy_type: &p.policy_type,
            content: &p.content,
            aws_managed: false,
        })
    }

    /// The parent of an OU or account.
    fn parent_of(&self, id: &str) -> Option<&str> {
        self.ou(id)
            .map(|o| o.parent_id.as_str())
            .or_else(|| self.member(id).map(|a| a.parent_id.as_str()))
    }

    /// The chain from the root down to `id` itself: `[root, ou…, id]`.
    pub fn lineage(&self, id: &str) -> Vec<String> {
        let mut chain = vec![id.to_owned()];
        let mut at = id;
        while let Some(parent) = self.parent_of(at) {
            chain.push(parent.to_owned());
            at = parent;
        }
        chain.reverse();
        chain
    }

    /// The organization path of a root, OU or account, as `aws:PrincipalOrgPaths` and
    /// `Account.Paths` write it: `o-…/r-…/ou-…/` (an account's ends with its id).
    pub fn path_of(&self, id: &str) -> String {
        let mut path = format!("{}/", self.id);
        for node in self.lineage(id) {
            path.push_str(&node);
            path.push('/');
        }
        path
    }

    /// What `aws:PrincipalOrgPaths` and `aws:ResourceOrgPaths` hold for an account: the path
    /// of its parent (`o-…/r-…/ou-…/`), as AWS's examples match it with `StringEquals`.
    pub fn org_path_of_account(&self, account_id: &str) -> String {
        match self.parent_of(account_id) {
            Some(parent) => self.path_of(parent),
            None => format!("{}/{}/", self.id, self.root_id),
        }
    }

    /// Whether a policy type is enabled in the root.
    pub fn type_enabled(&self, policy_type: &str) -> bool {
        self.enabled_policy_types.iter().any(|t| t == policy_type)
    }

    /// The policies of `policy_type` attached directly to `target_id`.
    pub fn attached(&self, target_id: &str, policy_type: &str) -> Vec<PolicyView<'_>> {
        self.attachments
            .iter()
            .filter(|a| a.target_id == target_id)
            .filter_map(|a| self.policy(&a.policy_id))
            .filter(|p| p.policy_type == policy_type)
            .collect()
    }

    /// The policies of `policy_type` that govern `account_id`, one level per node from the
    /// root down to the account (each level must allow, for SCPs); `None` when the type is
    /// not enabled or the account is not a member.
    pub fn levels(&self, account_id: &str, policy_type: &str) -> Option<Vec<Vec<PolicyView<'_>>>> {
        if !self.type_enabled(policy_type) || self.member(account_id).is_none() {
            return None;
        }
        Some(
            self.lineage(account_id)
                .iter()
                .map(|node| self.attached(node, policy_type))
                .collect(),
        )
    }

    /// The tags of a resource.
    pub fn tags_of(&self, resource_id: &str) -> &[(String, String)] {
        self.tags
            .iter()
            .find(|t| t.resource_id == resource_id)
            .map(|t| t.tags.as_slice())
            .unwrap_or(&[])
    }

    // ---- answers ----

    /// The `Organization` structure.
    pub fn describe(&self) -> org::Organization {
        let management = self.member(&self.management_account_id);
        org::Organization {
            id: Some(self.id.clone()),
            arn: Some(self.arn()),
            feature_set: org::OrganizationFeatureSet::from_wire(&self.feature_set),
            master_account_arn: Some(self.account_arn(&self.management_account_id)),
            master_account_id: Some(self.management_account_id.clone()),
            master_account_email: management.map(|m| oxiam_protocol::Sensitive(m.email.clone())),
            // Deprecated in the model, and only ever SCPs there.
            available_policy_types: Some(
                self.type_enabled(SCP)
                    .then_some(org::PolicyTypeSummary {
                        r#type: Some(org::PolicyType::ServiceControlPolicy),
                        status: Some(org::PolicyTypeStatus::Enabled),
                    })
                    .into_iter()
                    .collect(),
            ),
        }
    }

    /// The `Root` structure.
    pub fn root(&self) -> org::Root {
        org::Root {
            id: Some(self.root_id.clone()),
            arn: Some(self.root_arn()),
            name: Some("Root".to_owned()),
            policy_types: Some(
                self.enabled_policy_types
                    .iter()
                    .map(|t| org::PolicyTypeSummary {
                        r#type: org::PolicyType::from_wire(t),
                        status: Some(org::PolicyTypeStatus::Enabled),
                    })
                    .collect(),
            ),
        }
    }

    /// The `Account` structure of a member.
    pub fn account(&self, member: &Member) -> org::Account {
        org::Account {
            id: Some(member.id.clone()),
            arn: Some(self.account_arn(&member.id)),
            email: Some(oxiam_protocol::Sensitive(member.email.clone())),
            name: Some(oxiam_protocol::Sensitive(member.name.clone())),
            status: Some(org::AccountStatus::Active),
            state: Some(org::AccountState::Active),
            paths: Some(vec![self.path_of(&member.id)]),
            joined_method: org::AccountJoinedMethod::from_wire(&member.joined_method),
            joined_timestamp: Some(oxiam_protocol::Timestamp(member.joined_at)),
        }
    }

    /// The `OrganizationalUnit` structure.
    pub fn organizational_unit(&self, ou: &Ou) -> org::OrganizationalUnit {
        org::OrganizationalUnit {
            id: Some(ou.id.clone()),
            arn: Some(self.ou_arn(&ou.id)),
            name: Some(ou.name.clone()),
            path: Some(self.path_of(&ou.id)),
        }
    }

    /// The `PolicySummary` structure.
    pub fn summary(&self, policy: &PolicyView<'_>) -> org::PolicySummary {
        org::PolicySummary {
            id: Some(policy.id.to_owned()),
            arn: Some(self.policy_arn(policy)),
            name: Some(policy.name.to_owned()),
            description: Some(policy.description.to_owned()),
            r#type: org::PolicyType::from_wire(policy.policy_type),
            aws_managed: Some(policy.aws_managed),
        }
    }

    /// The `Policy` structure.
    pub fn full_policy(&self, policy: &PolicyView<'_>) -> org::Policy {
        org::Policy {
            policy_summary: Some(self.summary(policy)),
            content: Some(policy.content.to_owned()),
        }
    }

    /// The `CreateAccountStatus` structure.
    pub fn create_status(status: &CreateStatus) -> org::CreateAccountStatus {
        org::CreateAccountStatus {
            id: Some(status.id.clone()),
            account_name: Some(oxiam_protocol::Sensitive(status.account_name.clone())),
            state: org::CreateAccountState::from_wire(&status.state),
            requested_timestamp: Some(oxiam_protocol::Timestamp(status.requested_at)),
            completed_timestamp: Some(oxiam_protocol::Timestamp(status.requested_at)),
            account_id: status.account_id.clone(),
            gov_cloud_account_id: None,
            failure_reason: status
                .failure_reason
                .as_deref()
                .and_then(org::CreateAccountFailureReason::from_wire),
        }
    }

    /// The `Handshake` structure of an invitation as of `now` (one left open past its expiry
    /// reads `EXPIRED`).
    pub fn handshake(&self, invitation: &Invitation, now: i64) -> org::Handshake {
        let management_email = super::root_email(&self.management_account_id);
        let management_email = management_email.as_str();
        let resource = |kind: org::HandshakeResourceType, value: &str| org::HandshakeResource {
            value: Some(oxiam_protocol::Sensitive(value.to_owned())),
            r#type: Some(kind),
            resources: None,
        };
        let management_name = self
            .member(&self.management_account_id)
            .map(|m| m.name.clone())
            .unwrap_or_default();
        let mut organization = resource(org::HandshakeResourceType::Organization, &self.id);
        organization.resources = Some(vec![
            resource(org::HandshakeResourceType::MasterEmail, management_email),
            resource(org::HandshakeResourceType::MasterName, &management_name),
            resource(org::HandshakeResourceType::OrganizationFeatureSet, &self.feature_set),
        ]);
        let mut resources = vec![
            organization,
            resource(org::HandshakeResourceType::Account, &invitation.account_id),
        ];
        if let Some(notes) = &invitation.notes {
            resources.push(resource(org::HandshakeResourceType::Notes, notes));
        }
        org::Handshake {
            id: Some(invitation.id.clone()),
            arn: Some(self.handshake_arn(&invitation.id)),
            parties: Some(vec![
                org::HandshakeParty {
                    id: oxiam_protocol::Sensitive(self.id.clone()),
                    r#type: org::HandshakePartyType::Organization,
                },
                org::HandshakeParty {
                    id: oxiam_protocol::Sensitive(invitation.account_id.clone()),
                    r#type: org::HandshakePartyType::Account,
                },
            ]),
            state: if invitation.state == "OPEN" && invitation.expires_at <= now {
                Some(org::HandshakeState::Expired)
            } else {
                org::HandshakeState::from_wire(&invitation.state)
            },
            requested_timestamp: Some(oxiam_protocol::Timestamp(invitation.requested_at)),
            expiration_timestamp: Some(oxiam_protocol::Timestamp(invitation.expires_at)),
            action: Some(org::ActionType::Invite),
            resources: Some(resources),
        }
    }

    // ---- changes ----

    /// Enables a policy type in the root: its AWS managed policy, if it has one, is
    /// attached to the root, every OU and every account.
    fn enable_type(&mut self, policy_type: &str) {
        self.enabled_policy_types.push(policy_type.to_owned());
        if let Some(managed) = managed_policy_of(policy_type) {
            let targets: Vec<String> = std::iter::once(self.root_id.clone())
                .chain(self.ous.iter().map(|o| o.id.clone()))
                .chain(self.accounts.iter().map(|a| a.id.clone()))
                .collect();
            for target_id in targets {
                self.attach_unchecked(managed, &target_id);
            }
        }
    }

    fn attach_unchecked(&mut self, policy_id: &str, target_id: &str) {
        self.attachments.push(Attachment {
            policy_id: policy_id.to_owned(),
            target_id: target_id.to_owned(),
        });
    }

    /// A new node gets the AWS managed policy of every enabled type that has one.
    fn attach_defaults(&mut self, target_id: &str) {
        let managed: Vec<&'static str> = self
            .enabled_policy_types
            .iter()
            .filter_map(|t| managed_policy_of(t))
            .collect();
        for policy_id in managed {
            self.attach_unchecked(policy_id, target_id);
        }
    }

    /// EnableAWSServiceAccess (again: no change).
    pub fn enable_service_access(&mut self, service_principal: &str, now: i64) {
        if !self.service_access_enabled(service_principal) {
            self.service_access.push((service_principal.to_owned(), now));
        }
    }

    /// DisableAWSServiceAccess: for IAM, its organization features go too.
    pub fn disable_service_access(&mut self, service_principal: &str) {
        self.service_access.retain(|(s, _)| s != service_principal);
        if service_principal == IAM_SERVICE_PRINCIPAL {
            self.iam_features.clear();
        }
    }

    /// Whether a service has trusted access.
    pub fn service_access_enabled(&self, service_principal: &str) -> bool {
        self.service_access.iter().any(|(s, _)| s == service_principal)
    }

    /// Forgets a node's attachments and tags (it is leaving or being deleted).
    fn forget(&mut self, id: &str) {
        self.attachments.retain(|a| a.target_id != id);
        self.tags.retain(|t| t.resource_id != id);
    }

    /// EnablePolicyType.
    pub fn enable_policy_type(&mut self, root_id: &str, policy_type: &str) -> Result<org::Root, ServiceError> {
        self.check_root(root_id)?;
        if self.feature_set != "ALL" {
            return Err(error(
                errors::POLICY_TYPE_NOT_AVAILABLE_FOR_ORGANIZATION,
                "You can use policy types only in an organization with all features enabled.",
            ));
        }
        if self.type_enabled(policy_type) {
            return Err(error(
                errors::POLICY_TYPE_ALREADY_ENABLED,
                "The specified policy type is already enabled.",
            ));
        }
        self.enable_type(policy_type);
        Ok(self.root())
    }

    /// DisablePolicyType: every policy of the type is detached everywhere (the policies stay).
    pub fn disable_policy_type(&mut self, root_id: &str, policy_type: &str) -> Result<org::Root, ServiceError> {
        self.check_root(root_id)?;
        if !self.type_enabled(policy_type) {
            return Err(error(
                errors::POLICY_TYPE_NOT_ENABLED,
                "This operation can be performed only for enabled policy types.",
            ));
        }
        self.enabled_policy_types.retain(|t| t != policy_type);
        let of_type: Vec<String> = self
            .attachments
            .iter()
            .filter(|a| self.policy(&a.policy_id).is_some_and(|p| p.policy_type == policy_type))
            .map(|a| a.policy_id.clone())
            .collect();
        self.attachments.retain(|a| !of_type.contains(&a.policy_id));
        Ok(self.root())
    }

    fn check_root(&self, root_id: &str) -> Result<(), ServiceError> {
        if root_id != self.root_id {
            return Err(error(
                errors::ROOT_NOT_FOUND,
                "We can't find a root with the RootId that you specified.",
            ));
        }
        Ok(())
    }

    fn check_parent(&self, parent_id: &str, kind: oxiam_protocol::ErrorKind) -> Result<(), ServiceError> {
        match self.node(parent_id) {
            Some(Node::Root | Node::Ou) => Ok(()),
            _ => Err(error(
                kind,
                "We can't find a root or OU with the ParentId that you specified.",
            )),
        }
    }

    /// CreateOrganizationalUnit.
    pub fn create_ou(
        &mut self,
        parent_id: &str,
        name: &str,
        tags: &[(String, String)],
    ) -> Result<org::OrganizationalUnit, ServiceError> {
        self.check_parent(parent_id, errors::PARENT_NOT_FOUND)?;
        // The lineage of the parent is [root, ou…]: the new OU would be one deeper.
        if self.lineage(parent_id).len() > OU_DEPTH_LIMIT {
            return Err(constraint(
                "OU_DEPTH_LIMIT_EXCEEDED",
                "You have attempted to create an OU tree that is too many levels deep.",
            ));
        }
        if self.ous.iter().any(|o| o.parent_id == parent_id && o.name == name) {
            return Err(error(
                errors::DUPLICATE_ORGANIZATIONAL_UNIT,
                "An OU with the same name already exists.",
            ));
        }
        let suffix = self.root_id.trim_start_matches("r-").to_owned();
        let ou = Ou {
            id: crate::ids::organizations_id(&format!("ou-{suffix}-"), 8),
            name: name.to_owned(),
            parent_id: parent_id.to_owned(),
        };
        self.ous.push(ou.clone());
        self.attach_defaults(&ou.id);
        self.set_tags(&ou.id, tags)?;
        Ok(self.organizational_unit(&ou))
    }

    /// The OU by id, or OrganizationalUnitNotFoundException.
    pub fn find_ou(&self, ou_id: &str) -> Result<&Ou, ServiceError> {
        self.ou(ou_id).ok_or_else(|| {
            error(
                errors::ORGANIZATIONAL_UNIT_NOT_FOUND,
                "We can't find an organizational unit (OU) with the OrganizationalUnitId that you specified.",
            )
        })
    }

    /// UpdateOrganizationalUnit (a new name).
    pub fn rename_ou(&mut self, ou_id: &str, name: Option<&str>) -> Result<org::OrganizationalUnit, ServiceError> {
        let parent_id = self.find_ou(ou_id)?.parent_id.clone();
        if let Some(name) = name {
            if self
                .ous
                .iter()
                .any(|o| o.parent_id == parent_id && o.name == name && o.id != ou_id)
            {
                return Err(error(
                    errors::DUPLICATE_ORGANIZATIONAL_UNIT,
                    "An OU with the same name already exists.",
                ));
            }
            if let Some(ou) = self.ous.iter_mut().find(|o| o.id == ou_id) {
                ou.name = name.to_owned();
            }
        }
        let ou = self.find_ou(ou_id)?.clone();
        Ok(self.organizational_unit(&ou))
    }

    /// DeleteOrganizationalUnit: only an empty OU.
    pub fn delete_ou(&mut self, ou_id: &str) -> Result<(), ServiceError> {
        self.find_ou(ou_id)?;
        if self.ous.iter().any(|o| o.parent_id == ou_id) || self.accounts.iter().any(|a| a.parent_id == ou_id) {
            return Err(error(
                errors::ORGANIZATIONAL_UNIT_NOT_EMPTY,
                "The specified OU is not empty. Move all accounts to another root or to other OUs, remove all child OUs, and try the operation again.",
            ));
        }
        self.ous.retain(|o| o.id != ou_id);
        self.forget(ou_id);
        Ok(())
    }

    /// The member by id, or AccountNotFoundException.
    pub fn find_member(&self, account_id: &str) -> Result<&Member, ServiceError> {
        self.member(account_id).ok_or_else(|| {
            error(
                errors::ACCOUNT_NOT_FOUND,
                "You specified an account that doesn't exist.",
            )
        })
    }

    /// MoveAccount.
    pub fn move_account(&mut self, account_id: &str, source: &str, destination: &str) -> Result<(), ServiceError> {
        let current = self.find_member(account_id)?.parent_id.clone();
        self.check_parent(source, errors::SOURCE_PARENT_NOT_FOUND)?;
        self.check_parent(destination, errors::DESTINATION_PARENT_NOT_FOUND)?;
        if current != source {
            return Err(error(
                errors::SOURCE_PARENT_NOT_FOUND,
                "We can't find a source root or OU with the ParentId that you specified.",
            ));
        }
        if current == destination {
            return Err(error(
                errors::DUPLICATE_ACCOUNT,
                "That account is already present in the specified destination.",
            ));
        }
        if let Some(member) = self.accounts.iter_mut().find(|a| a.id == account_id) {
            member.parent_id = destination.to_owned();
        }
        Ok(())
    }

    /// The direct children of a root or OU: (OUs, accounts).
    pub fn children(&self, parent_id: &str) -> Result<(Vec<&Ou>, Vec<&Member>), ServiceError> {
        self.check_parent(parent_id, errors::PARENT_NOT_FOUND)?;
        Ok((
            self.ous.iter().filter(|o| o.parent_id == parent_id).collect(),
            self.accounts.iter().filter(|a| a.parent_id == parent_id).collect(),
        ))
    }

    /// ListParents: the one parent of an OU or account.
    pub fn parent(&self, child_id: &str) -> Result<org::Parent, ServiceError> {
        let parent_id = self.parent_of(child_id).ok_or_else(|| {
            error(
                errors::CHILD_NOT_FOUND,
                "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.",
            )
        })?;
        Ok(org::Parent {
            id: Some(parent_id.to_owned()),
            r#type: Some(if parent_id == self.root_id {
                org::ParentType::Root
            } else {
                org::ParentType::OrganizationalUnit
            }),
        })
    }

    /// Whether an account may join: the quota has room, counting the invitations still open.
    fn check_room(&self, now: i64) -> Result<(), ServiceError> {
        let pending = self
            .handshakes
            .iter()
            .filter(|h| h.state == "OPEN" && h.expires_at > now)
            .count();
        if self.accounts.len() + pending >= ACCOUNT_LIMIT {
            return Err(constraint(
                "ACCOUNT_NUMBER_LIMIT_EXCEEDED",
                "You have reached the limit on the number of accounts in your organization.",
            ));
        }
        Ok(())
    }

    /// CreateAccount: the account joins under the root at once (the caller makes it in the
    /// store in the same write); an email address already in the organization fails the
    /// request as AWS's does, in its status.
    pub fn create_account(
        &mut self,
        account_id: &str,
        name: &str,
        email: &str,
        tags: &[(String, String)],
        now: i64,
    ) -> Result<CreateStatus, ServiceError> {
        let mut status = CreateStatus {
            id: crate::ids::organizations_id("car-", 8),
            account_name: name.to_owned(),
            state: "SUCCEEDED".to_owned(),
            requested_at: now,
            account_id: None,
            failure_reason: None,
        };
        if self.accounts.iter().any(|a| a.email.eq_ignore_ascii_case(email)) {
            status.state = "FAILED".to_owned();
            status.failure_reason = Some("EMAIL_ALREADY_EXISTS".to_owned());
        } else if self.check_room(now).is_err() {
            status.state = "FAILED".to_owned();
            status.failure_reason = Some("ACCOUNT_LIMIT_EXCEEDED".to_owned());
        } else {
            status.account_id = Some(account_id.to_owned());
            self.join(account_id, name, email, "CREATED", now);
            self.set_tags(account_id, tags)?;
        }
        self.create_account_statuses.push(status.clone());
        Ok(status)
    }

    fn join(&mut self, account_id: &str, name: &str, email: &str, method: &str, now: i64) {
        self.accounts.push(Member {
            id: account_id.to_owned(),
            name: name.to_owned(),
            email: email.to_owned(),
            parent_id: self.root_id.clone(),
            joined_method: method.to_owned(),
            joined_at: now,
        });
        self.attach_defaults(account_id);
    }

    /// InviteAccountToOrganization (by account id).
    pub fn invite(
        &mut self,
        account_id: &str,
        notes: Option<&str>,
        tags: &[(String, String)],
        now: i64,
    ) -> Result<Invitation, ServiceError> {
        if self.member(account_id).is_some() {
            return Err(error(
                errors::DUPLICATE_ACCOUNT,
                "That account is already present in the specified destination.",
            ));
        }
        if self
            .handshakes
            .iter()
            .any(|h| h.account_id == account_id && h.state == "OPEN" && h.expires_at > now)
        {
            return Err(error(
                errors::DUPLICATE_HANDSHAKE,
                "A handshake with the same action and target already exists.",
            ));
        }
        self.check_room(now)?;
        let invitation = Invitation {
            id: crate::ids::organizations_id("h-", 8),
            account_id: account_id.to_owned(),
            state: "OPEN".to_owned(),
            requested_at: now,
            expires_at: now + INVITATION_SECONDS,
            notes: notes.map(str::to_owned),
            tags: tags.to_vec(),
        };
        self.handshakes.push(invitation.clone());
        Ok(invitation)
    }

    /// An invitation to `account_id` by id, or HandshakeNotFoundException.
    pub fn invitation(&self, handshake_id: &str, account_id: &str) -> Result<&Invitation, ServiceError> {
        self.handshakes
            .iter()
            .find(|h| h.id == handshake_id && (h.account_id == account_id || account_id == self.management_account_id))
            .ok_or_else(handshake_not_found)
    }

    /// AcceptHandshake, by the invited account: it joins under the root.
    pub fn accept(
        &mut self,
        handshake_id: &str,
        account_id: &str,
        email: &str,
        now: i64,
    ) -> Result<Invitation, ServiceError> {
        let invitation = self.invitation(handshake_id, account_id)?.clone();
        if invitation.account_id != account_id {
            return Err(error(errors::ACCESS_DENIED, NOT_PERMITTED));
        }
        match invitation.state.as_str() {
            "OPEN" if invitation.expires_at > now => {}
            "ACCEPTED" => {
                return Err(error(
                    errors::HANDSHAKE_ALREADY_IN_STATE,
                    "The specified handshake is already in the requested state.",
                ));
            }
            _ => {
                return Err(error(
                    errors::INVALID_HANDSHAKE_TRANSITION,
                    "You can't perform the operation on the handshake in its current state.",
                ));
            }
        }
        self.join(account_id, &format!("Account {account_id}"), email, "INVITED", now);
        self.set_tags(account_id, &invitation.tags)?;
        let accepted = self
            .handshakes
            .iter_mut()
            .find(|h| h.id == handshake_id)
            .expect("found above");
        accepted.state = "ACCEPTED".to_owned();
        Ok(accepted.clone())
    }

    /// RemoveAccountFromOrganization / LeaveOrganization: never the management account.
    pub fn remove_account(&mut self, account_id: &str) -> Result<(), ServiceError> {
        self.find_member(account_id)?;
        if account_id == self.management_account_id {
            return Err(error(
                errors::MASTER_CANNOT_LEAVE_ORGANIZATION,
                "You can't remove a management account from an organization. If you want the management account to become a member account in another organization, you must first delete the current organization.",
            ));
        }
        self.accounts.retain(|a| a.id != account_id);
        self.forget(account_id);
        Ok(())
    }

    /// DeleteOrganization: only once the management account is its only member.
    pub fn check_deletable(&self) -> Result<(), ServiceError> {
        if self.accounts.len() > 1 {
            return Err(error(
                errors::ORGANIZATION_NOT_EMPTY,
                "To delete an organization you must first remove all member accounts (except the management account).",
            ));
        }
        Ok(())
    }

    /// CreatePolicy.
    pub fn create_policy(
        &mut self,
        name: &str,
        description: &str,
        policy_type: &str,
        content: &str,
        tags: &[(String, String)],
    ) -> Result<OrgPolicy, ServiceError> {
        check_content(policy_type, content)?;
        if self.policies.iter().filter(|p| p.policy_type == policy_type).count()
            >= policies_per_organization(policy_type)
        {
            return Err(constraint(
                "POLICY_NUMBER_LIMIT_EXCEEDED",
                "You attempted to exceed the number of policies that you can have in an organization.",
            ));
        }
        if self
            .policies
            .iter()
            .any(|p| p.name == name && p.policy_type == policy_type)
        {
            return Err(error(
                errors::DUPLICATE_POLICY,
                "A policy with the same name already exists.",
            ));
        }
        let policy = OrgPolicy {
            id: crate::ids::organizations_id("p-", 8),
            name: name.to_owned(),
            description: description.to_owned(),
            policy_type: policy_type.to_owned(),
            content: content.to_owned(),
        };
        self.policies.push(policy.clone());
        self.set_tags(&policy.id, tags)?;
        Ok(policy)
    }

    /// The policy by id, or PolicyNotFoundException.
    pub fn find_policy(&self, policy_id: &str) -> Result<PolicyView<'_>, ServiceError> {
        self.policy(policy_id).ok_or_else(|| {
            error(
                errors::POLICY_NOT_FOUND,
                "We can't find a policy with the PolicyId that you specified.",
            )
        })
    }

    fn customer_policy_mut(&mut self, policy_id: &str) -> Result<&mut OrgPolicy, ServiceError> {
        if aws_managed(policy_id).is_some() {
            return Err(invalid_input(
                "IMMUTABLE_POLICY",
                "You specified a policy that is managed by AWS and can't be modified.",
            ));
        }
        self.find_policy(policy_id)?;
        Ok(self
            .policies
            .iter_mut()
            .find(|p| p.id == policy_id)
            .expect("found above"))
    }

    /// UpdatePolicy: what is given changes, the type never.
    pub fn update_policy(
        &mut self,
        policy_id: &str,
        name: Option<&str>,
        description: Option<&str>,
        content: Option<&str>,
    ) -> Result<org::Policy, ServiceError> {
        let policy_type = self.customer_policy_mut(policy_id)?.policy_type.clone();
        if let Some(content) = content {
            check_content(&policy_type, content)?;
        }
        if let Some(name) = name
            && self
                .policies
                .iter()
                .any(|p| p.name == name && p.policy_type == policy_type && p.id != policy_id)
        {
            return Err(error(
                errors::DUPLICATE_POLICY,
                "A policy with the same name already exists.",
            ));
        }
        let policy = self.customer_policy_mut(policy_id)?;
        if let Some(name) = name {
            policy.name = name.to_owned();
        }
        if let Some(description) = description {
            policy.description = description.to_owned();
        }
        if let Some(content) = content {
            policy.content = content.to_owned();
        }
        let view = self.find_policy(policy_id)?;
        Ok(self.full_policy(&view))
    }

    /// DeletePolicy: only a customer policy attached nowhere.
    pub fn delete_policy(&mut self, policy_id: &str) -> Result<(), ServiceError> {
        self.customer_policy_mut(policy_id)?;
        if self.attachments.iter().any(|a| a.policy_id == policy_id) {
            return Err(error(
                errors::POLICY_IN_USE,
                "The policy is attached to one or more entities. You must detach it from all roots, OUs, and accounts before performing this operation.",
            ));
        }
        self.policies.retain(|p| p.id != policy_id);
        self.forget(policy_id);
        Ok(())
    }

    fn check_target(&self, target_id: &str) -> Result<(), ServiceError> {
        if self.node(target_id).is_none() {
            return Err(error(
                errors::TARGET_NOT_FOUND,
                "We can't find a root, OU, account, or policy with the TargetId that you specified.",
            ));
        }
        Ok(())
    }

    /// AttachPolicy.
    pub fn attach(&mut self, policy_id: &str, target_id: &str) -> Result<(), ServiceError> {
        let policy_type = self.find_policy(policy_id)?.policy_type.to_owned();
        self.check_target(target_id)?;
        if !self.type_enabled(&policy_type) {
            return Err(error(
                errors::POLICY_TYPE_NOT_ENABLED,
                "This operation can be performed only for enabled policy types.",
            ));
        }
        if self
            .attachments
            .iter()
            .any(|a| a.policy_id == policy_id && a.target_id == target_id)
        {
            return Err(error(
                errors::DUPLICATE_POLICY_ATTACHMENT,
                "The selected policy is already attached to the specified target.",
            ));
        }
        if let Some((_, most)) = limits(&policy_type)
            && self.attached(target_id, &policy_type).len() >= most
        {
            return Err(constraint(
                "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                "You attempted to exceed the number of policies of a certain type that can be attached to an entity.",
            ));
        }
        self.attach_unchecked(policy_id, target_id);
        Ok(())
    }

    /// DetachPolicy: a root, OU or account keeps at least one SCP, and `RCPFullAWSAccess`.
    pub fn detach(&mut self, policy_id: &str, target_id: &str) -> Result<(), ServiceError> {
        let policy_type = self.find_policy(policy_id)?.policy_type.to_owned();
        self.check_target(target_id)?;
        if !self
            .attachments
            .iter()
            .any(|a| a.policy_id == policy_id && a.target_id == target_id)
        {
            return Err(error(
                errors::POLICY_NOT_ATTACHED,
                "The policy isn't attached to the specified target in the specified root.",
            ));
        }
        if policy_id == RCP_FULL_AWS_ACCESS {
            return Err(invalid_input(
                "NON_DETACHABLE_POLICY",
                "You can't detach this AWS Managed Policy.",
            ));
        }
        if policy_type == SCP && self.attached(target_id, SCP).len() <= 1 {
            return Err(constraint(
                "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                "You attempted to detach a policy from an entity that would leave the entity with fewer than the minimum number of policies of a certain type required.",
            ));
        }
        self.attachments
            .retain(|a| !(a.policy_id == policy_id && a.target_id == target_id));
        Ok(())
    }

    /// The roots, OUs and accounts a policy is attached to.
    pub fn targets_of(&self, policy_id: &str) -> Result<Vec<org::PolicyTargetSummary>, ServiceError> {
        self.find_policy(policy_id)?;
        Ok(self
            .attachments
            .iter()
            .filter(|a| a.policy_id == policy_id)
            .filter_map(|a| {
                let (name, kind) = match self.node(&a.target_id)? {
                    Node::Root => ("Root".to_owned(), org::TargetType::Root),
                    Node::Ou => (self.ou(&a.target_id)?.name.clone(), org::TargetType::OrganizationalUnit),
                    Node::Account => (self.member(&a.target_id)?.name.clone(), org::TargetType::Account),
                };
                Some(org::PolicyTargetSummary {
                    target_id: Some(a.target_id.clone()),
                    arn: self.node_arn(&a.target_id),
                    name: Some(name),
                    r#type: Some(kind),
                })
            })
            .collect())
    }

    /// Whether `id` can carry tags: a root, OU, account or customer policy.
    fn check_taggable(&self, id: &str) -> Result<(), ServiceError> {
        if self.node(id).is_some() || self.policies.iter().any(|p| p.id == id) {
            return Ok(());
        }
        Err(error(
            errors::TARGET_NOT_FOUND,
            "We can't find a root, OU, account, or policy with the TargetId that you specified.",
        ))
    }

    /// TagResource (and the tags of Create*): a key given again replaces its value.
    pub fn set_tags(&mut self, resource_id: &str, tags: &[(String, String)]) -> Result<(), ServiceError> {
        if tags.is_empty() {
            return Ok(());
        }
        self.check_taggable(resource_id)?;
        for (i, (key, _)) in tags.iter().enumerate() {
            if tags[..i].iter().any(|(k, _)| k == key) {
                return Err(invalid_input("DUPLICATE_TAG_KEY", "You specified a duplicate tag key."));
            }
            if key.to_ascii_lowercase().starts_with("aws:") {
                return Err(invalid_input(
                    "INVALID_SYSTEM_TAGS_PARAMETER",
                    "You specified a tag key that is a system tag. You can't add, edit, or delete system tag keys because they're reserved for AWS use.",
                ));
            }
        }
        let mut merged = self.tags_of(resource_id).to_vec();
        for (key, value) in tags {
            match merged.iter_mut().find(|(k, _)| k == key) {
                Some(existing) => existing.1 = value.clone(),
                None => merged.push((key.clone(), value.clone())),
            }
        }
        if merged.len() > TAG_LIMIT {
            return Err(constraint(
                "MAX_TAG_LIMIT_EXCEEDED",
                "You have exceeded the number of tags allowed on this resource.",
            ));
        }
        self.tags.retain(|t| t.resource_id != resource_id);
        self.tags.push(Tagged {
            resource_id: resource_id.to_owned(),
            tags: merged,
        });
        Ok(())
    }

    /// UntagResource.
    pub fn remove_tags(&mut self, resource_id: &str, keys: &[String]) -> Result<(), ServiceError> {
        self.check_taggable(resource_id)?;
        if let Some(tagged) = self.tags.iter_mut().find(|t| t.resource_id == resource_id) {
            tagged.tags.retain(|(k, _)| !keys.contains(k));
        }
        self.tags.retain(|t| !t.tags.is_empty());
        Ok(())
    }

    /// ListTagsForResource.
    pub fn list_tags(&self, resource_id: &str) -> Result<Vec<(String, String)>, ServiceError> {
        self.check_taggable(resource_id)?;
        Ok(self.tags_of(resource_id).to_vec())
    }
}

/// A policy document checked by its type's rules: SCPs are identity-style (no
/// `Principal`), RCPs resource-style with `Principal` `*` in every statement and `Deny`
/// only; both within their size quota. Other types are JSON documents oxiam keeps but
/// does not enforce.
pub fn check_content(policy_type: &str, content: &str) -> Result<(), ServiceError> {
    let malformed = |detail: &str| {
        error(
            errors::MALFORMED_POLICY_DOCUMENT,
            format!(
                "The provided policy document doesn't meet the requirements of the specified policy type. {detail}"
            ),
        )
    };
    if let Some((max_chars, _)) = limits(policy_type)
        && content.chars().count() > max_chars
    {
        return Err(constraint(
            "POLICY_CONTENT_LIMIT_EXCEEDED",
            "You attempted to create a policy larger than the maximum size.",
        ));
    }
    match policy_type {
        SCP => oxiam_policy::parse(content, oxiam_policy::PolicyKind::Scp)
            .map(|_| ())
            .map_err(|e| malformed(&e.message)),
        RCP => {
            oxiam_policy::parse(content, oxiam_policy::PolicyKind::Resource).map_err(|e| malformed(&e.message))?;
            let document: serde_json::Value = serde_json::from_str(content).map_err(|_| malformed("Invalid JSON."))?;
            let statements = match &document["Statement"] {
                serde_json::Value::Array(items) => items.clone(),
                other => vec![other.clone()],
            };
            for statement in &statements {
                if statement["Effect"] != "Deny" {
                    return Err(malformed("Resource control policies support only the Deny effect."));
                }
                if statement["Principal"] != "*" {
                    return Err(malformed(
                        "The Principal element of a resource control policy must be \"*\".",
                    ));
                }
                if statement.get("NotAction").is_some() || statement.get("NotPrincipal").is_some() {
                    return Err(malformed(
                        "Resource control policies don't support NotAction or NotPrincipal.",
                    ));
                }
                let actions = match &statement["Action"] {
                    serde_json::Value::Array(items) => items.clone(),
                    other => vec![other.clone()],
                };
                if actions.iter().any(|a| a == "*") {
                    return Err(malformed("An action of a resource control policy names its service."));
                }
            }
            Ok(())
        }
        _ => serde_json::from_str::<serde_json::Value>(content)
            .map(|_| ())
            .map_err(|_| malformed("Invalid JSON.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCP_DENY_DELETE: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}"#;

    fn organization() -> OrgState {
        OrgState::new("111111111111", "admin@example.com", "ALL", 100)
    }

    #[test]
    fn a_new_organization_has_scps_enabled_and_full_access_attached() {
        let state = organization();
        assert!(state.type_enabled(SCP));
        assert_eq!(state.attached(&state.root_id, SCP)[0].id, FULL_AWS_ACCESS);
        assert_eq!(state.attached("111111111111", SCP)[0].id, FULL_AWS_ACCESS);
        assert!(state.id.starts_with("o-") && state.id.len() == 12);
        let billing = OrgState::new("111111111111", "a@b.c", "CONSOLIDATED_BILLING", 1);
        assert!(billing.enabled_policy_types.is_empty() && billing.attachments.is_empty());
    }

    #[test]
    fn levels_run_from_the_root_to_the_account() {
        let mut state = organization();
        let ou = state.create_ou(&state.root_id.clone(), "prod", &[]).unwrap();
        let ou_id = ou.id.unwrap();
        state
            .create_account("222222222222", "prod", "p@example.com", &[], 5)
            .unwrap();
        state
            .move_account("222222222222", &state.root_id.clone(), &ou_id)
            .unwrap();
        let policy = state.create_policy("deny", "", SCP, SCP_DENY_DELETE, &[]).unwrap();
        state.attach(&policy.id, &ou_id).unwrap();
        let levels = state.levels("222222222222", SCP).unwrap();
        let ids: Vec<Vec<&str>> = levels.iter().map(|l| l.iter().map(|p| p.id).collect()).collect();
        assert_eq!(
            ids,
            vec![
                vec![FULL_AWS_ACCESS],
                vec![FULL_AWS_ACCESS, &policy.id],
                vec![FULL_AWS_ACCESS]
            ]
        );
        assert_eq!(
            state.path_of("222222222222"),
            format!("{}/{}/{ou_id}/222222222222/", state.id, state.root_id)
        );
        // The condition keys' path ends at the account's parent, as AWS's examples match it.
        assert_eq!(
            state.org_path_of_account("222222222222"),
            format!("{}/{}/{ou_id}/", state.id, state.root_id)
        );
        assert_eq!(
            state.org_path_of_account("111111111111"),
            format!("{}/{}/", state.id, state.root_id)
        );
    }

    #[test]
    fn ous_nest_five_deep_and_no_deeper() {
        let mut state = organization();
        let mut parent = state.root_id.clone();
        for depth in 1..=OU_DEPTH_LIMIT {
            parent = state
                .create_ou(&parent, &format!("level{depth}"), &[])
                .unwrap()
                .id
                .unwrap();
        }
        let err = state.create_ou(&parent, "too-deep", &[]).unwrap_err();
        assert_eq!(err.reason, Some("OU_DEPTH_LIMIT_EXCEEDED"));
    }

    #[test]
    fn attachments_keep_aws_limits() {
        let mut state = organization();
        let root = state.root_id.clone();
        let mut ids = Vec::new();
        for i in 0..10 {
            ids.push(
                state
                    .create_policy(&format!("p{i}"), "", SCP, SCP_DENY_DELETE, &[])
                    .unwrap()
                    .id,
            );
        }
        // FullAWSAccess is one of the ten.
        for id in &ids[..9] {
            state.attach(id, &root).unwrap();
        }
        assert_eq!(
            state.attach(&ids[9], &root).unwrap_err().reason,
            Some("MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
        );
        assert_eq!(
            state.attach(&ids[0], &root).unwrap_err().kind.code,
            "DuplicatePolicyAttachmentException"
        );
        assert_eq!(
            state.delete_policy(&ids[0]).unwrap_err().kind.code,
            "PolicyInUseException"
        );
        // The account's only SCP stays.
        assert_eq!(
            state.detach(FULL_AWS_ACCESS, "111111111111").unwrap_err().reason,
            Some("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
        );
        assert_eq!(
            state
                .update_policy(FULL_AWS_ACCESS, Some("x"), None, None)
                .unwrap_err()
                .reason,
            Some("IMMUTABLE_POLICY")
        );
    }

    #[test]
    fn disabling_a_type_detaches_its_policies_and_reenabling_restores_only_full_access() {
        let mut state = organization();
        let root = state.root_id.clone();
        let id = state.create_policy("deny", "", SCP, SCP_DENY_DELETE, &[]).unwrap().id;
        state.attach(&id, &root).unwrap();
        state.disable_policy_type(&root, SCP).unwrap();
        assert!(state.attachments.is_empty());
        assert_eq!(
            state.attach(&id, &root).unwrap_err().kind.code,
            "PolicyTypeNotEnabledException"
        );
        state.enable_policy_type(&root, SCP).unwrap();
        let ids: Vec<&str> = state.attached(&root, SCP).iter().map(|p| p.id).collect();
        assert_eq!(ids, vec![FULL_AWS_ACCESS]);
    }

    #[test]
    fn policy_documents_follow_their_type() {
        let with_principal = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}"#;
        assert_eq!(
            check_content(SCP, with_principal).unwrap_err().kind.code,
            "MalformedPolicyDocumentException"
        );
        assert!(check_content(RCP, with_principal).is_ok());
        let allow = with_principal.replace("Deny", "Allow");
        assert!(check_content(RCP, &allow).is_err());
        let every_action = with_principal.replace("s3:*", "*");
        assert!(check_content(RCP, &every_action).is_err());
        let not_action = with_principal.replace("\"Action\"", "\"NotAction\"");
        assert!(check_content(RCP, &not_action).is_err());
        let named_principal = with_principal.replace("\"Principal\":\"*\"", "\"Principal\":{\"AWS\":\"111111111111\"}");
        assert!(check_content(RCP, &named_principal).is_err());
        assert!(check_content(RCP, &named_principal.replace("Deny", "Allow")).is_err());
        let huge = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{}","Effect":"Deny","Action":"s3:*","Resource":"*"}}]}}"#,
            "a".repeat(10_240)
        );
        assert_eq!(
            check_content(SCP, &huge).unwrap_err().reason,
            Some("POLICY_CONTENT_LIMIT_EXCEEDED")
        );
    }

    #[test]
    fn an_organization_holds_at_most_2000_rcps() {
        let mut state = organization();
        let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}"#;
        for i in 0..2_000 {
            state.create_policy(&format!("r{i}"), "", RCP, deny, &[]).unwrap();
        }
        let err = state.create_policy("one-more", "", RCP, deny, &[]).unwrap_err();
        assert_eq!(err.reason, Some("POLICY_NUMBER_LIMIT_EXCEEDED"));
        // Another type has its own count.
        state.create_policy("scp", "", SCP, SCP_DENY_DELETE, &[]).unwrap();
    }

    #[test]
    fn an_invitation_left_open_expires_and_frees_its_place() {
        let mut state = organization();
        let sent = state.invite("444444444444", None, &[], 10).unwrap();
        let open = state.handshake(&sent, 11);
        assert_eq!(open.state, Some(org::HandshakeState::Open));
        let later = 10 + INVITATION_SECONDS;
        assert_eq!(state.handshake(&sent, later).state, Some(org::HandshakeState::Expired));
        assert_eq!(
            state
                .accept(&sent.id, "444444444444", "x@example.com", later)
                .unwrap_err()
                .kind
                .code,
            "InvalidHandshakeTransitionException"
        );
        // Invited again once the first lapsed: no DuplicateHandshake.
        state.invite("444444444444", None, &[], later).unwrap();
    }

    #[test]
    fn a_document_survives_the_store() {
        let mut state = organization();
        state
            .set_tags("111111111111", &[("team".into(), "a\"b".into())])
            .unwrap();
        assert_eq!(OrgState::from_json(&state.to_json()).unwrap(), state);
    }

    #[test]
    fn the_management_account_never_leaves_and_an_email_is_used_once() {
        let mut state = organization();
        assert_eq!(
            state.remove_account("111111111111").unwrap_err().kind.code,
            "MasterCannotLeaveOrganizationException"
        );
        let status = state
            .create_account("333333333333", "x", "ADMIN@example.com", &[], 1)
            .unwrap();
        assert_eq!(status.failure_reason.as_deref(), Some("EMAIL_ALREADY_EXISTS"));
        assert!(state.member("333333333333").is_none());
    }
}
