//! What an IAM or STS request is authorized on: its action, the resource it acts on, and the
//! condition keys it carries, read off AWS's Service Authorization Reference
//! (`oxiam-catalogue`) and the request's own members.
//!
//! Nothing here lists keys per operation. The catalogue says which resource types an action
//! acts on and which keys it supports; this module only knows, once per kind of request
//! field, how a field becomes a resource or a key:
//!
//! - a resource type's name member (`UserName` for `user`, `RoleName` for `role`, …), or a
//!   member holding an ARN of that type (`PolicyArn`, `RoleArn`, `PolicySourceArn`);
//! - `Path` beside a name: the entity is being created at that path;
//! - `Tags`: `aws:RequestTag/…` for each tag and `aws:TagKeys`; `TagKeys`: `aws:TagKeys`;
//! - a key named after a member of the request (`iam:PolicyARN` ← `PolicyArn`,
//!   `iam:PermissionsBoundary` ← `PermissionsBoundary`, `sts:RoleSessionName`,
//!   `sts:ExternalId`, `sts:SourceIdentity`, `sts:TransitiveTagKeys`, …);
//! - `aws:ResourceTag/…` and `iam:ResourceTag/…`: the tags of the user, role or policy the
//!   request acts on; `iam:PermissionsBoundary` without a member: the boundary that user or
//!   role has now (AWS's delegation pattern: "only on users with boundary X").
//!
//! Keys no request of a served operation can carry are listed, with the reason, in
//! docs/differences.md; a test checks every served operation against the catalogue.

use oxiam_protocol::{Member, ServiceError, iam, sts};
use oxiam_store::{EntityKind, StoreError};

use crate::authz::Access;
use crate::{Oxiam, Principal, PrincipalKind, errors, ids};

/// Operations that are no action of the Service Authorization Reference and are authorized
/// as the actions they take instead ([`Oxiam::iam_accesses`]).
pub const AUTHORIZED_AS_THE_ACTIONS_THEY_TAKE: &[&str] = &["iam:AcquireRole"];

/// Actions the Service Authorization Reference lacks that AWS's other documentation names:
/// the IAM User Guide's `iam:UpdateDelegationRequest` ("Managing permissions for delegation
/// requests") and the API reference's `iam:UpdateOpenIDConnectProvider` (its condition
/// keys). Each is authorized as itself on the resource type it acts on (with no condition
/// key but the resource's own: none is documented for it).
pub const MISSING_FROM_THE_REFERENCE: &[&str] = &["iam:UpdateDelegationRequest", "iam:UpdateOpenIDConnectProvider"];

/// The resource types of [`MISSING_FROM_THE_REFERENCE`]'s actions, as the catalogue would
/// list them.
fn supplemented_resource_types(service: &str, operation: &str) -> &'static [oxiam_catalogue::ActionResource] {
    const DELEGATION_REQUEST: &[oxiam_catalogue::ActionResource] = &[oxiam_catalogue::ActionResource {
        name: "delegation-request",
        required: true,
        condition_keys: &[],
    }];
    const OIDC_PROVIDER: &[oxiam_catalogue::ActionResource] = &[oxiam_catalogue::ActionResource {
        name: "oidc-provider",
        required: true,
        condition_keys: &[],
    }];
    match (service, operation) {
        ("iam", "UpdateDelegationRequest") => DELEGATION_REQUEST,
        ("iam", "UpdateOpenIDConnectProvider") => OIDC_PROVIDER,
        _ => &[],
    }
}

/// A decoded request, as the access planner reads it (implemented for each service's
/// generated `Request`).
pub trait Members {
    /// The service's prefix in actions: `iam`, `sts`.
    fn service(&self) -> &'static str;
    /// The operation's name, which is also its action's name in IAM and STS.
    fn operation(&self) -> &'static str;
    /// The wire names of the members [`Members::member`] can return.
    fn member_names(&self) -> &'static [&'static str];
    /// A top-level member's value, when set.
    fn member(&self, name: &str) -> Option<Member<'_>>;
}

impl Members for iam::Request {
    fn service(&self) -> &'static str {
        "iam"
    }
    fn operation(&self) -> &'static str {
        iam::Request::operation(self).name()
    }
    fn member_names(&self) -> &'static [&'static str] {
        iam::Request::operation(self).readable_members()
    }
    fn member(&self, name: &str) -> Option<Member<'_>> {
        // A map member, which the generated readers leave out: its entries, as tags are.
        if let iam::Request::PutAccountProperties(input) = self
            && name == "Properties"
        {
            return Some(Member::Tags(
                input.properties.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
            ));
        }
        // A member of a structure member, which the generated readers leave out.
        if let iam::Request::CreateDelegationRequest(input) = self
            && name == "PolicyTemplateArn"
        {
            return input.permissions.policy_template_arn.as_deref().map(Member::Text);
        }
        iam::Request::member(self, name)
    }
}

impl Members for sts::Request {
    fn service(&self) -> &'static str {
        "sts"
    }
    fn operation(&self) -> &'static str {
        sts::Request::operation(self).name()
    }
    fn member_names(&self) -> &'static [&'static str] {
        sts::Request::operation(self).readable_members()
    }
    fn member(&self, name: &str) -> Option<Member<'_>> {
        sts::Request::member(self, name)
    }
}

/// What the request acts on that exists already, whose path, tags or boundary are read
/// before authorizing.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// A user, role or group of the caller's account, by name.
    Entity(EntityKind, String),
    /// The user who owns an access key (GetAccessKeyLastUsed names only the key).
    KeyOwner(String),
    /// A managed policy, by ARN.
    Policy(String),
    /// An instance profile of the caller's account, by name.
    InstanceProfile(String),
    /// An OpenID Connect provider, by ARN.
    OidcProvider(String),
    /// A virtual MFA device, by serial number.
    MfaDevice(String),
    /// A server certificate of the caller's account, by name.
    ServerCertificate(String),
    /// A SAML provider, by ARN.
    SamlProvider(String),
    /// Nothing to read: a new entity, `*`, or a resource named by its full ARN.
    Nothing,
}

/// An [`Access`] planned from the request alone, and what must still be read from the store.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The action, the resource as the request names it, and the keys the request carries.
    pub access: Access,
    target: Target,
    /// The resource-tag key prefixes the action supports (`aws:ResourceTag/`, `iam:ResourceTag/`).
    resource_tag_prefixes: Vec<&'static str>,
    /// Whether the action supports `iam:PermissionsBoundary` but the request gives none: the
    /// target's current boundary is the key's value.
    boundary_from_target: bool,
    /// The service-specific credential whose service is `iam:ServiceSpecificCredentialServiceName`,
    /// when the request names a credential rather than a service (Reset, Update, Delete).
    credential_service_of: Option<String>,
}

impl Plan {
    /// Whether the planned access must read the target's tags (its `aws:ResourceTag/…`).
    pub fn wants_resource_tags(&self) -> bool {
        !self.resource_tag_prefixes.is_empty()
    }

    /// Adds the resource's tags as the `aws:ResourceTag/…` (and `iam:ResourceTag/…`) keys
    /// the action supports.
    pub fn add_resource_tags(&mut self, tags: &[(String, String)]) {
        for prefix in &self.resource_tag_prefixes {
            for (key, value) in tags {
                self.access.keys.push((format!("{prefix}{key}"), vec![value.clone()]));
            }
        }
    }
}

/// A resource bound from the request: its ARN, how AccessDenied names it, what to read.
struct Bound {
    arn: String,
    shown_as: Option<String>,
    target: Target,
}

/// Plans the access of a request from the catalogue and the request's members.
pub fn plan(principal: &Principal, request: &dyn Members) -> Plan {
    let service_name = request.service();
    let operation = request.operation();
    let entry = oxiam_catalogue::action(service_name, operation);
    let resource_types = entry.map_or_else(
        || supplemented_resource_types(service_name, operation),
        |a| a.resource_types,
    );
    // A resource named by its own member (UserName, RoleName, PolicyArn, …) first; then a
    // member holding an ARN, in the model's order of members (SimulatePrincipalPolicy's
    // PolicySourceArn before its CallerArn); then the caller, where the action needs a user.
    let bound = all_users(principal, request)
        .or_else(|| {
            resource_types
                .iter()
                .find_map(|r| bind_named(principal, request, r.name))
        })
        .or_else(|| {
            request
                .member_names()
                .iter()
                .filter(|m| m.ends_with("Arn") || m.ends_with("ARN"))
                .filter_map(|m| text(request, m))
                .find_map(|arn| resource_types.iter().find_map(|r| bind_arn(principal, arn, r.name)))
        })
        .or_else(|| {
            resource_types
                .iter()
                .find_map(|r| bind_caller(principal, request, r.name, r.required))
        })
        .or_else(|| listing_resource(principal, request))
        .unwrap_or(Bound {
            arn: "*".to_owned(),
            shown_as: None,
            target: Target::Nothing,
        });
    let mut access = Access {
        action: format!("{service_name}:{operation}"),
        resource: bound.arn,
        shown_as: bound.shown_as,
        keys: Vec::new(),
        resource_is_prefix: false,
    };
    let mut resource_tag_prefixes = Vec::new();
    let mut boundary_from_target = false;
    let mut credential_service_of = None;
    if let Some(entry) = entry {
        for &pattern in entry.all_condition_keys() {
            // Patterns are `PREFIX${TagKey}`: compare the prefix, no allocation per request.
            if let Some(prefix) = ["aws:ResourceTag/", "iam:ResourceTag/"]
                .into_iter()
                .find(|p| is_tag_pattern(pattern, p))
            {
                resource_tag_prefixes.push(prefix);
            } else if is_tag_pattern(pattern, "aws:RequestTag/") {
                if let Some(Member::Tags(tags)) = request.member("Tags") {
                    for (key, value) in tags {
                        access
                            .keys
                            .push((format!("aws:RequestTag/{key}"), vec![value.to_owned()]));
                    }
                }
            } else if pattern.eq_ignore_ascii_case("aws:TagKeys") {
                let keys: Option<Vec<String>> = match (request.member("Tags"), request.member("TagKeys")) {
                    (Some(Member::Tags(tags)), _) => Some(tags.iter().map(|(k, _)| (*k).to_owned()).collect()),
                    (_, Some(Member::Texts(keys))) => Some(keys.to_vec()),
                    _ => None,
                };
                if let Some(keys) = keys {
                    access.keys.push(("aws:TagKeys".to_owned(), keys));
                }
            } else if pattern.eq_ignore_ascii_case("iam:AccountPropertyNamespaces") {
                // The namespaces of the properties a request sets (GetAccountProperties sets none).
                if let Some(Member::Tags(properties)) = request.member("Properties") {
                    let mut namespaces: Vec<String> = Vec::new();
                    for (key, _) in properties {
                        let namespace = crate::iam::account_property_namespace(key).unwrap_or(key);
                        if !namespaces.iter().any(|n| n == namespace) {
                            namespaces.push(namespace.to_owned());
                        }
                    }
                    access.keys.push((pattern.to_owned(), namespaces));
                }
            } else if pattern.eq_ignore_ascii_case("iam:TemplateArn") {
                // CreateDelegationRequest's template, inside its `Permissions`.
                if let Some(Member::Text(arn)) = request.member("PolicyTemplateArn") {
                    access.keys.push((pattern.to_owned(), vec![arn.to_owned()]));
                }
            } else if let Some(values) = member_key(request, service_name, pattern) {
                access.keys.push((pattern.to_owned(), values));
            } else if pattern.eq_ignore_ascii_case("iam:PermissionsBoundary") {
                boundary_from_target = true;
            } else if pattern.eq_ignore_ascii_case("iam:ServiceSpecificCredentialServiceName") {
                credential_service_of = text(request, "ServiceSpecificCredentialId").map(str::to_owned);
            }
        }
    }
    Plan {
        access,
        target: bound.target,
        resource_tag_prefixes,
        boundary_from_target,
        credential_service_of,
    }
}

/// Keys named after a member that carries another name: `iam:ServiceSpecificCredential…`
/// keys read CreateServiceSpecificCredential's `ServiceName` and `CredentialAgeDays`.
const KEY_MEMBERS: &[(&str, &str)] = &[
    ("ServiceSpecificCredentialServiceName", "ServiceName"),
    ("ServiceSpecificCredentialAgeDays", "CredentialAgeDays"),
    // GetWebIdentityToken's audiences.
    ("IdentityTokenAudience", "Audience"),
    // CreateDelegationRequest's, and ListDelegationRequests' owner.
    ("DelegationDuration", "SessionDuration"),
    ("DelegationRequestOwner", "OwnerId"),
];

/// Whether a catalogue key is the tag-key pattern `prefix${…}` (regardless of case).
fn is_tag_pattern(pattern: &str, prefix: &str) -> bool {
    pattern.len() > prefix.len()
        && pattern.is_char_boundary(prefix.len())
        && pattern[..prefix.len()].eq_ignore_ascii_case(prefix)
        && pattern[prefix.len()..].starts_with(['$', '<'])
}

/// The values of a key named after a member of the request: `svc:Name` ← member `Name`
/// (regardless of case), for the request's own service only.
fn member_key(request: &dyn Members, service: &str, pattern: &str) -> Option<Vec<String>> {
    let (prefix, name) = pattern.split_once(':')?;
    if !prefix.eq_ignore_ascii_case(service) || name.contains(['/', '$', '<']) {
        return None;
    }
    let name = KEY_MEMBERS
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map_or(name, |(_, member)| member);
    let member = request.member_names().iter().find(|m| m.eq_ignore_ascii_case(name))?;
    Some(match request.member(member)? {
        Member::Text(t) => vec![t.to_owned()],
        Member::Texts(ts) => ts.to_vec(),
        Member::Number(n) => vec![n.to_string()],
        Member::Flag(b) => vec![b.to_string()],
        Member::Tags(tags) => tags.iter().map(|(k, _)| (*k).to_owned()).collect(),
    })
}

fn text<'r>(request: &'r dyn Members, name: &str) -> Option<&'r str> {
    match request.member(name) {
        Some(Member::Text(t)) => Some(t),
        _ => None,
    }
}

/// A request about every user of the account (ListServiceSpecificCredentials with
/// `AllUsers`) is authorized on all of them, `user/*`: a permission on one's own user does
/// not reach everyone's.
fn all_users(principal: &Principal, request: &dyn Members) -> Option<Bound> {
    matches!(request.member("AllUsers"), Some(Member::Flag(true))).then(|| Bound {
        arn: format!("arn:aws:iam::{}:user/*", principal.account_id),
        shown_as: None,
        target: Target::Nothing,
    })
}

/// The resource of type `resource_type` the request names by its own member, if any.
fn bind_named(principal: &Principal, request: &dyn Members, resource_type: &str) -> Option<Bound> {
    let account = principal.account_id.as_str();
    let creating = request.member_names().contains(&"Path");
    let path = text(request, "Path").unwrap_or("/");
    let entity = |kind: EntityKind, name_member: &str| -> Option<Bound> {
        let name = text(request, name_member)?;
        Some(if creating {
            Bound {
                arn: format!("arn:aws:iam::{account}:{}{path}{name}", kind.as_str()),
                shown_as: None,
                target: Target::Nothing,
            }
        } else {
            Bound {
                arn: format!("arn:aws:iam::{account}:{}/{name}", kind.as_str()),
                shown_as: Some(format!("{} {name}", kind.as_str())),
                target: Target::Entity(kind, name.to_owned()),
            }
        })
    };
    match resource_type {
        "user" => entity(EntityKind::User, "UserName"),
        "role" => entity(EntityKind::Role, "RoleName").or_else(|| service_linked_role(account, request)),
        "group" => entity(EntityKind::Group, "GroupName"),
        // A delegation request, in the caller's account until its own is known
        // (`crate::iam::DefaultGrant` points the access at it).
        "delegation-request" => text(request, "DelegationRequestId").map(|id| Bound {
            arn: crate::iam::delegation_request_arn(account, id),
            shown_as: None,
            target: Target::Nothing,
        }),
        // GenerateOrganizationsAccessReport: the report on an organization entity's path.
        "access-report" => text(request, "EntityPath").map(|path| Bound {
            arn: format!("arn:aws:iam::{account}:access-report/{path}"),
            shown_as: None,
            target: Target::Nothing,
        }),
        "instance-profile" => text(request, "InstanceProfileName").map(|name| {
            if creating {
                Bound {
                    arn: ids::instance_profile_arn(account, path, name),
                    shown_as: None,
                    target: Target::Nothing,
                }
            } else {
                Bound {
                    arn: ids::instance_profile_arn(account, "/", name),
                    shown_as: None,
                    target: Target::InstanceProfile(name.to_owned()),
                }
            }
        }),
        // Created from its URL; else named by its ARN.
        "oidc-provider" => match text(request, "Url") {
            Some(url) => Some(Bound {
                arn: crate::iam::oidc_provider_arn(account, url.strip_prefix("https://").unwrap_or(url)),
                shown_as: None,
                target: Target::Nothing,
            }),
            None => text(request, "OpenIDConnectProviderArn").map(|arn| Bound {
                arn: arn.to_owned(),
                shown_as: None,
                target: Target::OidcProvider(arn.to_owned()),
            }),
        },
        // Created from its name and path; else named by its serial number (its ARN).
        "mfa" => match text(request, "VirtualMFADeviceName") {
            Some(name) => Some(Bound {
                arn: ids::mfa_serial_number(account, path, name),
                shown_as: None,
                target: Target::Nothing,
            }),
            None => text(request, "SerialNumber").map(|serial| Bound {
                arn: serial.to_owned(),
                shown_as: None,
                target: Target::MfaDevice(serial.to_owned()),
            }),
        },
        // Created from its name; else named by its ARN.
        "saml-provider" => match text(request, "Name") {
            Some(name) => Some(Bound {
                arn: crate::iam::saml_provider_arn(account, name),
                shown_as: None,
                target: Target::Nothing,
            }),
            None => text(request, "SAMLProviderArn").map(|arn| Bound {
                arn: arn.to_owned(),
                shown_as: None,
                target: Target::SamlProvider(arn.to_owned()),
            }),
        },
        // Uploaded at its path; else named by its name alone.
        "server-certificate" => text(request, "ServerCertificateName").map(|name| {
            if creating {
                Bound {
                    arn: format!("arn:aws:iam::{account}:server-certificate{path}{name}"),
                    shown_as: None,
                    target: Target::Nothing,
                }
            } else {
                Bound {
                    arn: format!("arn:aws:iam::{account}:server-certificate/{name}"),
                    shown_as: None,
                    target: Target::ServerCertificate(name.to_owned()),
                }
            }
        }),
        // AssumeRoot's member account, by its id or its root user's ARN.
        "root-user" => text(request, "TargetPrincipal").map(|target| Bound {
            arn: ids::root_arn(crate::sts::root_target(target).unwrap_or(target)),
            shown_as: None,
            target: Target::Nothing,
        }),
        // GetFederationToken's federated user, by its name.
        "federated-user" => text(request, "Name").map(|name| Bound {
            arn: ids::federated_user_arn(account, name),
            shown_as: None,
            target: Target::Nothing,
        }),
        "policy" if creating => text(request, "PolicyName").map(|name| Bound {
            arn: ids::policy_arn(account, path, name),
            shown_as: None,
            target: Target::Nothing,
        }),
        "policy" => text(request, "PolicyArn").map(|arn| Bound {
            arn: arn.to_owned(),
            shown_as: Some(format!("policy {arn}")),
            target: Target::Policy(arn.to_owned()),
        }),
        _ => None,
    }
}

/// The service-linked role a request names without a `RoleName`: the one
/// CreateServiceLinkedRole would create (its name from the catalogue, with the suffix), or
/// the one a deletion task was about (`task/aws-service-role/SERVICE/NAME/ID`). AWS's own
/// policies grant iam:CreateServiceLinkedRole on exactly that ARN.
fn service_linked_role(account: &str, request: &dyn Members) -> Option<Bound> {
    let path = crate::iam::SERVICE_ROLE_PATH;
    let arn = if let Some(principal) = text(request, "AWSServiceName") {
        let name = crate::iam::service_linked_role_name(principal, text(request, "CustomSuffix")).unwrap_or_default();
        format!("arn:aws:iam::{account}:role{path}{principal}/{name}")
    } else {
        let task = text(request, "DeletionTaskId")?.strip_prefix("task")?;
        let (role, _) = task.strip_prefix(path)?.rsplit_once('/')?;
        format!("arn:aws:iam::{account}:role{path}{role}")
    };
    Some(Bound {
        arn,
        shown_as: None,
        target: Target::Nothing,
    })
}

/// An ARN of `resource_type` (from `RoleArn`, `PolicySourceArn`, …): the resource, by its
/// full ARN.
fn bind_arn(principal: &Principal, arn: &str, resource_type: &str) -> Option<Bound> {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or("");
    let is_type = resource
        .strip_prefix(resource_type)
        .is_some_and(|rest| rest.starts_with('/'));
    is_type.then(|| Bound {
        arn: arn.to_owned(),
        shown_as: None,
        target: own_entity(principal, arn),
    })
}

/// For an action on a user that names none: the user an access key belongs to when the
/// request names only the key (GetAccessKeyLastUsed), else the user making the request.
fn bind_caller(principal: &Principal, request: &dyn Members, resource_type: &str, required: bool) -> Option<Bound> {
    if resource_type != "user" {
        return None;
    }
    if !request.member_names().contains(&"UserName")
        && let Some(key_id) = text(request, "AccessKeyId")
    {
        return Some(Bound {
            arn: principal.arn(),
            shown_as: None,
            target: Target::KeyOwner(key_id.to_owned()),
        });
    }
    // An operation about a user that names none acts on the caller ("IAM determines the
    // user name implicitly based on the AWS access key ID signing the request"), whether
    // or not the reference calls its user resource required (ListMFADevices does not).
    let names_a_user = request.member_names().contains(&"UserName");
    (required || names_a_user).then(|| match principal.user_name() {
        Some(name) => Bound {
            arn: principal.arn(),
            shown_as: Some(format!("user {name}")),
            target: Target::Entity(EntityKind::User, name.to_owned()),
        },
        None => Bound {
            arn: ids::root_arn(&principal.account_id),
            shown_as: None,
            target: Target::Nothing,
        },
    })
}

/// The user, role, group or managed policy of the caller's account an ARN names, so that
/// its tags are read (GenerateServiceLastAccessedDetails' `Arn` may name any of them).
fn own_entity(principal: &Principal, arn: &str) -> Target {
    let own = format!("arn:aws:iam::{}:", principal.account_id);
    let Some(rest) = arn.strip_prefix(&own) else {
        return Target::Nothing;
    };
    let kind = match rest.split('/').next() {
        Some("policy") => return Target::Policy(arn.to_owned()),
        Some("user") => EntityKind::User,
        Some("role") => EntityKind::Role,
        Some("group") => EntityKind::Group,
        _ => return Target::Nothing,
    };
    match rest.rsplit('/').next() {
        Some(name) if !name.is_empty() => Target::Entity(kind, name.to_owned()),
        _ => Target::Nothing,
    }
}

/// The listings the reference gives no resource type (ListUsers, ListRoles, ListGroups,
/// ListPolicies, ListInstanceProfiles): IAM still names the path prefix they list under as
/// their resource (`…:user/` in its AccessDenied messages), and a policy on `…:user/*`
/// allows them.
fn listing_resource(principal: &Principal, request: &dyn Members) -> Option<Bound> {
    let kind = match request.operation() {
        "ListUsers" => "user",
        "ListRoles" => "role",
        "ListGroups" => "group",
        "ListPolicies" => "policy",
        "ListInstanceProfiles" => "instance-profile",
        _ => return None,
    };
    Some(Bound {
        arn: format!(
            "arn:aws:iam::{}:{kind}{}",
            principal.account_id,
            text(request, "PathPrefix").unwrap_or("/")
        ),
        shown_as: None,
        target: Target::Nothing,
    })
}

impl Oxiam {
    /// The access of an IAM or STS request: planned from the catalogue, then completed from
    /// the store with what the request names but does not carry — the real path of the
    /// user, role or group (IAM authorizes `user/PATH/NAME`, so a policy on `user/team/*`
    /// must see it), its tags and its permissions boundary, when the action's keys need them.
    pub async fn access(&self, principal: &Principal, request: &(dyn Members + Sync)) -> Result<Access, ServiceError> {
        let (access, _) = self.resolve(principal, request).await?;
        Ok(access)
    }

    /// Every access a request needs, all of which must be allowed: the one [`Oxiam::access`]
    /// plans and, for a rename or a move (UpdateUser, UpdateGroup, UpdateServerCertificate
    /// with a new name or `NewPath`), the same action on where it goes. IAM requires
    /// permission "on both the source object and the target object" (UpdateUser's API
    /// reference), or a user allowed to manage itself could move itself under any path.
    pub async fn accesses(
        &self,
        principal: &Principal,
        request: &(dyn Members + Sync),
    ) -> Result<Vec<Access>, ServiceError> {
        let (access, entity) = self.resolve(principal, request).await?;
        let destination = server_certificate_destination(principal, request, &access.resource).or_else(|| {
            let entity = entity?;
            let noun = match entity.kind {
                EntityKind::User => "User",
                EntityKind::Group => "Group",
                EntityKind::Role => "Role",
            };
            let new_name = text(request, &format!("New{noun}Name"));
            let new_path = text(request, "NewPath");
            (new_name.is_some() || new_path.is_some()).then(|| {
                format!(
                    "arn:aws:iam::{}:{}{}{}",
                    principal.account_id,
                    entity.kind.as_str(),
                    new_path.unwrap_or(&entity.path),
                    new_name.unwrap_or(&entity.name)
                )
            })
        });
        let mut all = Vec::with_capacity(2);
        if let Some(destination) = destination.filter(|d| *d != access.resource) {
            let mut moved = access.clone();
            moved.resource = destination;
            moved.shown_as = None;
            all.push(access);
            all.push(moved);
        } else {
            all.push(access);
        }
        if request.service() == "iam"
            && request.operation() == "AddRoleToInstanceProfile"
            && let Some(role_name) = text(request, "RoleName")
        {
            let pass = PassRoleToEc2 {
                role_name,
                associated_resource: format!("arn:aws:ec2:*:{}:instance/*", principal.account_id),
            };
            let (mut pass, _) = self.resolve(principal, &pass).await?;
            pass.shown_as = None;
            all.push(pass);
        }
        Ok(all)
    }

    /// Every access an IAM request needs: [`Oxiam::accesses`], but for AcquireRole, which is
    /// no action of its own: the Service Authorization Reference authorizes it as the actions
    /// it takes. The template is read (`iam:GetRoleTemplateVersion`) first; then the role the
    /// request renders to is read when it exists (`iam:GetRole`), else created with its
    /// policies (`iam:CreateRole`, `iam:PutRolePolicy`, `iam:AttachRolePolicy`), each with
    /// the template as `iam:RoleTemplateARN`.
    pub async fn iam_accesses(
        &self,
        principal: &Principal,
        request: &iam::Request,
    ) -> Result<Vec<Access>, ServiceError> {
        let iam::Request::AcquireRole(input) = request else {
            return self.accesses(principal, request).await;
        };
        let template = Access {
            action: "iam:GetRoleTemplateVersion".to_owned(),
            resource: input.template_arn.clone(),
            shown_as: None,
            keys: Vec::new(),
            resource_is_prefix: false,
        };
        // A template that does not render is the operation's error, after this permission.
        let Ok(rendered) = crate::iam::render_role_template(
            &input.template_arn,
            input.template_minor_version,
            input.replacement_values.as_deref().unwrap_or_default(),
        ) else {
            return Ok(vec![template]);
        };
        let exists = match self.store.get_role(&principal.account_id, &rendered.name).await {
            Ok(_) => true,
            Err(StoreError::NotFound { .. }) => false,
            Err(e) => return Err(errors::store(e)),
        };
        let mut all = vec![template];
        all.extend(self.acquisition_accesses(principal, input, &rendered, exists).await?);
        Ok(all)
    }

    /// The accesses of AcquireRole on its role: reading it when it `exists`, else creating it
    /// with its policies.
    pub(crate) async fn acquisition_accesses(
        &self,
        principal: &Principal,
        input: &iam::AcquireRoleRequest,
        rendered: &crate::iam::RenderedRole,
        exists: bool,
    ) -> Result<Vec<Access>, ServiceError> {
        let role = |request: iam::Request| async move {
            let mut access = self.access(principal, &request).await?;
            access
                .keys
                .push(("iam:RoleTemplateARN".to_owned(), vec![input.template_arn.clone()]));
            Ok::<_, ServiceError>(access)
        };
        let role_name = rendered.name.clone();
        let mut all = Vec::new();
        if exists {
            all.push(role(iam::Request::GetRole(iam::GetRoleRequest { role_name })).await?);
            return Ok(all);
        }
        let role_arn = ids::role_arn(&principal.account_id, &rendered.path, &role_name);
        all.push(
            role(iam::Request::CreateRole(iam::CreateRoleRequest {
                path: Some(rendered.path.clone()),
                role_name: role_name.clone(),
                assume_role_policy_document: rendered.trust_policy.clone(),
                description: Some(rendered.description.clone()),
                max_session_duration: Some(rendered.template.max_session_duration),
                max_signin_session_duration: None,
                permissions_boundary: None,
                tags: None,
            }))
            .await?,
        );
        for (policy_name, policy_document) in &rendered.inline_policies {
            let mut access = role(iam::Request::PutRolePolicy(iam::PutRolePolicyRequest {
                role_name: role_name.clone(),
                policy_name: policy_name.clone(),
                policy_document: policy_document.clone(),
            }))
            .await?;
            access.resource = role_arn.clone();
            all.push(access);
        }
        for policy_arn in rendered.template.managed_policy_arns {
            let mut access = role(iam::Request::AttachRolePolicy(iam::AttachRolePolicyRequest {
                role_name: role_name.clone(),
                policy_arn: (*policy_arn).to_owned(),
            }))
            .await?;
            access.resource = role_arn.clone();
            all.push(access);
        }
        Ok(all)
    }

    /// The access, completed from the store, and the existing entity it acts on, if any.
    async fn resolve(
        &self,
        principal: &Principal,
        request: &(dyn Members + Sync),
    ) -> Result<(Access, Option<oxiam_store::EntityRef>), ServiceError> {
        let mut plan = plan(principal, request);
        // The root user may do anything in its own account: no policy of its own can tell
        // paths, tags or boundaries apart, so the lookups would be wasted.
        if matches!(principal.kind, PrincipalKind::Root) {
            return Ok((plan.access, None));
        }
        if let (Some(credential_id), Target::Entity(EntityKind::User, user_name)) =
            (plan.credential_service_of.take(), &plan.target)
        {
            match self
                .store
                .get_service_credential(&principal.account_id, &credential_id)
                .await
            {
                // Only the acted-on user's own: another's credential is the operation's
                // NoSuchEntity, as a missing one is, and authorizing it differently would tell
                // whether it exists.
                Ok(credential) if credential.user_name.eq_ignore_ascii_case(user_name) => plan.access.keys.push((
                    "iam:ServiceSpecificCredentialServiceName".to_owned(),
                    vec![credential.service_name],
                )),
                Ok(_) | Err(StoreError::NotFound { .. }) => {}
                Err(e) => return Err(errors::store(e)),
            }
        }
        if let Target::KeyOwner(key_id) = &plan.target {
            plan.target = match self.store.get_access_key(key_id).await {
                Ok(found) => match found.user {
                    Some(user) if user.account_id == principal.account_id => {
                        Target::Entity(EntityKind::User, user.name)
                    }
                    // The root's own key: authorized on the account's root.
                    None if found.key.account_id == principal.account_id => {
                        plan.access.resource = ids::root_arn(&principal.account_id);
                        Target::Nothing
                    }
                    // Another account's key is treated as unknown: nothing about it may
                    // be learnt from whether the request is allowed.
                    _ => Target::Nothing,
                },
                // An unknown key is the operation's error to report, after authorization.
                Err(StoreError::NotFound { .. }) => Target::Nothing,
                Err(e) => return Err(errors::store(e)),
            };
            if let Target::Entity(_, name) = &plan.target {
                plan.access.shown_as = Some(format!("user {name}"));
            }
        }
        match plan.target.clone() {
            Target::KeyOwner(_) => Ok((plan.access, None)),
            Target::Entity(kind, name) => {
                let entity = match self.store.find_entity(&principal.account_id, kind, &name).await {
                    Ok(entity) => entity,
                    // A missing entity is the operation's NoSuchEntity to report, after
                    // authorization.
                    Err(StoreError::NotFound { .. }) => return Ok((plan.access, None)),
                    Err(e) => return Err(errors::store(e)),
                };
                plan.access.resource = format!(
                    "arn:aws:iam::{}:{}{}{}",
                    principal.account_id,
                    kind.as_str(),
                    entity.path,
                    entity.name
                );
                if plan.wants_resource_tags() {
                    let account = principal.account_id.as_str();
                    let tags = match kind {
                        EntityKind::User => self.store.get_user(account, &entity.name).await.map(|u| u.tags),
                        EntityKind::Role => self.store.get_role(account, &entity.name).await.map(|r| r.tags),
                        // Groups carry no tags in IAM.
                        EntityKind::Group => Ok(Vec::new()),
                    };
                    match tags {
                        Ok(tags) => plan.add_resource_tags(&tags),
                        Err(StoreError::NotFound { .. }) => {}
                        Err(e) => return Err(errors::store(e)),
                    }
                }
                let access = self.add_boundary(plan, &entity).await?;
                Ok((access, Some(entity)))
            }
            Target::Policy(arn) => {
                if plan.wants_resource_tags() {
                    match self.store.get_policy(&principal.account_id, &arn).await {
                        Ok(policy) => plan.add_resource_tags(&policy.tags),
                        Err(StoreError::NotFound { .. }) => {}
                        Err(e) => return Err(errors::store(e)),
                    }
                }
                Ok((plan.access, None))
            }
            Target::InstanceProfile(name) => {
                match self.store.get_instance_profile(&principal.account_id, &name).await {
                    Ok(profile) => {
                        plan.access.resource =
                            ids::instance_profile_arn(&principal.account_id, &profile.path, &profile.name);
                        plan.add_resource_tags(&profile.tags);
                    }
                    // The operation's NoSuchEntity, reported after authorization.
                    Err(StoreError::NotFound { .. }) => {}
                    Err(e) => return Err(errors::store(e)),
                }
                Ok((plan.access, None))
            }
            Target::OidcProvider(arn) => {
                match self.store.get_oidc_provider(&principal.account_id, &arn).await {
                    Ok(provider) => plan.add_resource_tags(&provider.tags),
                    // The operation's NoSuchEntity, reported after authorization.
                    Err(StoreError::NotFound { .. }) => {}
                    Err(e) => return Err(errors::store(e)),
                }
                Ok((plan.access, None))
            }
            Target::MfaDevice(serial) => {
                if plan.wants_resource_tags() {
                    match self.store.get_mfa_device(&principal.account_id, &serial).await {
                        Ok(device) => plan.add_resource_tags(&device.tags),
                        // The operation's NoSuchEntity, reported after authorization.
                        Err(StoreError::NotFound { .. }) => {}
                        Err(e) => return Err(errors::store(e)),
                    }
                }
                Ok((plan.access, None))
            }
            Target::SamlProvider(arn) => {
                if plan.wants_resource_tags() {
                    match self.store.get_saml_provider(&principal.account_id, &arn).await {
                        Ok(provider) => plan.add_resource_tags(&provider.tags),
                        // The operation's NoSuchEntity, reported after authorization.
                        Err(StoreError::NotFound { .. }) => {}
                        Err(e) => return Err(errors::store(e)),
                    }
                }
                Ok((plan.access, None))
            }
            Target::ServerCertificate(name) => {
                match self.store.get_server_certificate(&principal.account_id, &name).await {
                    Ok(certificate) => {
                        plan.access.resource = format!(
                            "arn:aws:iam::{}:server-certificate{}{}",
                            principal.account_id, certificate.path, certificate.name
                        );
                        plan.add_resource_tags(&certificate.tags);
                    }
                    // The operation's NoSuchEntity, reported after authorization.
                    Err(StoreError::NotFound { .. }) => {}
                    Err(e) => return Err(errors::store(e)),
                }
                Ok((plan.access, None))
            }
            Target::Nothing => Ok((plan.access, None)),
        }
    }

    /// `iam:PermissionsBoundary` from the user's or role's current boundary, when the action
    /// supports the key and the request gives no boundary of its own.
    async fn add_boundary(&self, mut plan: Plan, entity: &oxiam_store::EntityRef) -> Result<Access, ServiceError> {
        if plan.boundary_from_target && matches!(entity.kind, EntityKind::User | EntityKind::Role) {
            match self.store.permissions_boundary(entity.kind, &entity.id).await {
                Ok(Some((arn, _))) => plan.access.keys.push(("iam:PermissionsBoundary".to_owned(), vec![arn])),
                Ok(None) | Err(StoreError::NotFound { .. }) => {}
                Err(e) => return Err(errors::store(e)),
            }
        }
        Ok(plan.access)
    }
}

/// Where UpdateServerCertificate moves a certificate (from its resolved ARN `resource`), if
/// it is given a new name or path.
fn server_certificate_destination(principal: &Principal, request: &dyn Members, resource: &str) -> Option<String> {
    let new_name = text(request, "NewServerCertificateName");
    let new_path = text(request, "NewPath");
    if request.operation() != "UpdateServerCertificate" || (new_name.is_none() && new_path.is_none()) {
        return None;
    }
    let prefix = format!("arn:aws:iam::{}:server-certificate", principal.account_id);
    let (path, name) = resource.strip_prefix(&prefix)?.rsplit_once('/')?;
    Some(format!(
        "{prefix}{}{}",
        new_path.unwrap_or(&format!("{path}/")),
        new_name.unwrap_or(name)
    ))
}

/// Handing a role to an instance profile (AddRoleToInstanceProfile) passes it to EC2: IAM
/// authorizes that as `iam:PassRole` on the role too ("the caller of this operation must be
/// granted the PassRole permission on the IAM role"), or whoever may fill profiles could
/// give an instance any role. Its keys are what AWS documents for this case:
/// `iam:PassedToService` is EC2, `iam:AssociatedResourceArn` any instance of the account.
struct PassRoleToEc2<'r> {
    role_name: &'r str,
    associated_resource: String,
}

impl Members for PassRoleToEc2<'_> {
    fn service(&self) -> &'static str {
        "iam"
    }
    fn operation(&self) -> &'static str {
        "PassRole"
    }
    fn member_names(&self) -> &'static [&'static str] {
        &["RoleName", "PassedToService", "AssociatedResourceArn"]
    }
    fn member(&self, name: &str) -> Option<Member<'_>> {
        match name {
            "RoleName" => Some(Member::Text(self.role_name)),
            "PassedToService" => Some(Member::Text("ec2.amazonaws.com")),
            "AssociatedResourceArn" => Some(Member::Text(&self.associated_resource)),
            _ => None,
        }
    }
}
