//! Role templates: GetRoleTemplateVersion, over the templates AWS publishes (the catalogue in
//! `oxiam-aws-policies`), and AcquireRole, which renders one with the request's replacement
//! values (`@{parameter}` placeholders, `@Enabled` statements) and creates the role, or finds
//! the one it made before.

use std::collections::BTreeMap;

use oxiam_policy::PolicyKind;
use oxiam_protocol::iam::{
    AcquireRoleRequest, AcquireRoleResponse, GetRoleTemplateVersionRequest, GetRoleTemplateVersionResponse,
    InlinePolicy, ManagedByTypeType, ParameterDefinition, ParameterTypeType, ReplacementValueEntry,
    RoleTemplateVersion, errors as iam_errors,
};
use oxiam_protocol::{ServiceError, Timestamp};
use oxiam_store::{EntityKind, NewRole, RoleRow, SourceTemplate, StoreError};

use crate::authz::RequestFacts;
use crate::templates::{Values, expand_one, render_document, render_error};
use crate::{Oxiam, Principal, documents, errors, ids};

/// The template version an ARN and minor version name, or IAM's NoSuchEntity.
fn template_version(
    arn: &str,
    minor_version: Option<i32>,
) -> Result<&'static oxiam_aws_policies::RoleTemplate, ServiceError> {
    let template = oxiam_aws_policies::role_template(arn).ok_or_else(|| {
        ServiceError::new(
            iam_errors::NO_SUCH_ENTITY,
            format!("Role Template {arn} cannot be found."),
        )
    })?;
    match minor_version {
        Some(minor) if minor != template.minor_version => Err(ServiceError::new(
            iam_errors::NO_SUCH_ENTITY,
            format!("Role template not found in repository: {arn}"),
        )),
        _ => Ok(template),
    }
}

/// A list member AWS leaves out when it is empty.
fn some_list<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

fn parameter_type(kind: &str) -> ParameterTypeType {
    match kind {
        "StringList" => ParameterTypeType::StringList,
        "Number" => ParameterTypeType::Number,
        "NumberList" => ParameterTypeType::NumberList,
        "Arn" => ParameterTypeType::Arn,
        "ArnList" => ParameterTypeType::ArnList,
        _ => ParameterTypeType::String,
    }
}

impl Oxiam {
    pub(super) fn get_role_template_version(
        &self,
        input: GetRoleTemplateVersionRequest,
    ) -> Result<GetRoleTemplateVersionResponse, ServiceError> {
        let t = template_version(&input.template_arn, input.minor_version)?;
        Ok(GetRoleTemplateVersionResponse {
            role_template_version: RoleTemplateVersion {
                template_arn: Some(t.arn.to_owned()),
                template_name: Some(t.name.to_owned()),
                template_version_id: Some(t.version_id.to_owned()),
                description: Some(t.description.to_owned()),
                major_version: Some(t.major_version),
                default_minor_version: Some(t.minor_version),
                managed_by_type: Some(ManagedByTypeType::Service),
                managed_by_value: Some(t.managed_by.to_owned()),
                enabled: Some(true),
                minor_version: Some(t.minor_version),
                role_name_pattern: Some(t.role_name_pattern.to_owned()),
                role_path_pattern: t.role_path_pattern.map(str::to_owned),
                role_description_pattern: Some(t.role_description_pattern.to_owned()),
                assume_role_policy_document_template: Some(t.trust_policy.to_owned()),
                inline_policy_templates: some_list(
                    t.inline_policies
                        .iter()
                        .map(|(name, document)| InlinePolicy {
                            policy_name: (*name).to_owned(),
                            policy_document: (*document).to_owned(),
                        })
                        .collect(),
                ),
                managed_policy_arns: some_list(t.managed_policy_arns.iter().map(|a| (*a).to_owned()).collect()),
                permission_boundary_arn: None,
                parameters_definition: some_list(
                    t.parameters
                        .iter()
                        .map(|p| ParameterDefinition {
                            name: p.name.to_owned(),
                            r#type: parameter_type(p.kind),
                            sub_type: None,
                            description: p.description.map(str::to_owned),
                            is_required: Some(p.required),
                            default_value: p.default.map(str::to_owned),
                            immutable: Some(false),
                        })
                        .collect(),
                ),
                role_tags_template: None,
                max_session_duration: Some(t.max_session_duration),
                version_enabled: Some(true),
                create_timestamp: Some(Timestamp(t.created_at)),
                update_timestamp: Some(Timestamp(t.created_at)),
            },
        })
    }
}

/// A role template version rendered with a request's replacement values: the role to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RenderedRole {
    pub(crate) template: &'static oxiam_aws_policies::RoleTemplate,
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) description: String,
    pub(crate) trust_policy: String,
    pub(crate) inline_policies: Vec<(String, String)>,
    /// Every parameter's value (given, or its default), as canonical JSON: what tells one
    /// acquisition of a name from another.
    pub(crate) values: String,
}

/// The values of a template's parameters: those given (each known to the template, a
/// single-valued type with exactly one value), else their defaults.
fn parameter_values(
    t: &oxiam_aws_policies::RoleTemplate,
    given: &[(String, ReplacementValueEntry)],
) -> Result<Values, ServiceError> {
    let mut values = Values::new();
    for (name, entry) in given {
        let Some(p) = t.parameters.iter().find(|p| p.name == name) else {
            return Err(render_error(format!("Unrecognized parameter: {name}")));
        };
        let is_list = p.kind.ends_with("List");
        if !is_list && entry.values.len() != 1 {
            return Err(ServiceError::new(
                oxiam_protocol::common_errors::VALIDATION_ERROR,
                format!(
                    "{name} replacement value must contain exactly one value, got {}",
                    entry.values.len()
                ),
            ));
        }
        values.insert(p.name.to_owned(), (entry.values.clone(), is_list));
    }
    for p in t.parameters {
        if let (false, Some(default)) = (values.contains_key(p.name), p.default) {
            values.insert(p.name.to_owned(), (vec![default.to_owned()], p.kind.ends_with("List")));
        }
    }
    Ok(values)
}

/// A rendered value the role's own members must satisfy, as CreateRole's model checks it.
fn check_member(member: &str, value: &str, pattern: &str, ok: bool) -> Result<(), ServiceError> {
    if ok {
        return Ok(());
    }
    Err(ServiceError::new(
        oxiam_protocol::common_errors::VALIDATION_ERROR,
        format!("1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {pattern}"),
    ))
}

/// The rendered name, path and description are what CreateRole would take.
fn check_role_members(name: &str, path: &str, description: &str) -> Result<(), ServiceError> {
    let name_ok =
        (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    check_member(
        "roleName",
        name,
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length between 1 and 64",
        name_ok,
    )?;
    let path_ok = path.len() <= 512
        && (path == "/"
            || (path.len() > 2
                && path.starts_with('/')
                && path.ends_with('/')
                && path.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c))));
    check_member(
        "path",
        path,
        "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
        path_ok,
    )?;
    let description_ok = description.chars().count() <= 1000
        && description
            .chars()
            .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a1}'..='\u{ff}'));
    check_member(
        "description",
        description,
        "Member must have length less than or equal to 1000",
        description_ok,
    )
}

/// Renders a template version with the request's replacement values.
pub(crate) fn render(
    template_arn: &str,
    minor_version: Option<i32>,
    given: &[(String, ReplacementValueEntry)],
) -> Result<RenderedRole, ServiceError> {
    let t = template_version(template_arn, minor_version)?;
    let values = parameter_values(t, given)?;
    let canonical: BTreeMap<&str, &Vec<String>> = values.iter().map(|(k, (v, _))| (k.as_str(), v)).collect();
    let name = expand_one(t.role_name_pattern, &values)?;
    let path = expand_one(t.role_path_pattern.unwrap_or("/"), &values)?;
    let description = expand_one(t.role_description_pattern, &values)?;
    check_role_members(&name, &path, &description)?;
    let mut inline_policies = Vec::with_capacity(t.inline_policies.len());
    for (policy_name, document) in t.inline_policies {
        if let Some(document) = render_document(document, &values)? {
            inline_policies.push(((*policy_name).to_owned(), document));
        }
    }
    Ok(RenderedRole {
        template: t,
        name,
        path,
        description,
        trust_policy: render_document(t.trust_policy, &values)?
            .ok_or_else(|| render_error("the trust policy has no statement left".to_owned()))?,
        inline_policies,
        values: serde_json::to_string(&canonical).unwrap_or_default(),
    })
}

impl Oxiam {
    /// AcquireRole: the role a template version renders to — created with its trust policy,
    /// inline policies and AWS managed policies in one write, or, when this template made it
    /// with these values and nobody changed it since, the one that exists.
    pub(super) async fn acquire_role(
        &self,
        caller: &Principal,
        input: AcquireRoleRequest,
        now: i64,
        facts: Option<&RequestFacts>,
    ) -> Result<AcquireRoleResponse, ServiceError> {
        let rendered = render(
            &input.template_arn,
            input.template_minor_version,
            input.replacement_values.as_deref().unwrap_or_default(),
        )?;
        let t = rendered.template;
        documents::validate_trust(&rendered.trust_policy)?;
        let mut inline_size = 0;
        for (_, document) in &rendered.inline_policies {
            inline_size += documents::validate(document, PolicyKind::Identity)?;
        }
        if inline_size > documents::ROLE_INLINE_SIZE_QUOTA {
            return Err(ServiceError::new(
                iam_errors::LIMIT_EXCEEDED,
                format!(
                    "Maximum policy size of {} bytes exceeded for role {}",
                    documents::ROLE_INLINE_SIZE_QUOTA,
                    rendered.name
                ),
            ));
        }
        let row = match self.store.get_role(&caller.account_id, &rendered.name).await {
            Ok(existing) => self.acquired_again(existing, &rendered).await?,
            Err(StoreError::NotFound { .. }) => {
                // The role may have gone since the request was authorized, on finding it,
                // for reading it only: creating it is asked for again, on this request's facts.
                if let Some(facts) = facts {
                    for access in self.acquisition_accesses(caller, &input, &rendered, false).await? {
                        self.authorize(caller, &access, facts, None)
                            .await
                            .map_err(|r| r.error)?;
                    }
                }
                let source = SourceTemplate {
                    arn: t.arn.to_owned(),
                    minor_version: i64::from(t.minor_version),
                    values: rendered.values.clone(),
                };
                self.store
                    .create_role(NewRole {
                        account_id: &caller.account_id,
                        role_id: &ids::role_id(),
                        name: &rendered.name,
                        path: &rendered.path,
                        trust_policy: &rendered.trust_policy,
                        description: Some(&rendered.description),
                        max_session_duration: i64::from(t.max_session_duration),
                        created_at: now,
                        tags: &[],
                        permissions_boundary: None,
                        attached_policies: t.managed_policy_arns,
                        service_linked: false,
                        inline_policies: &rendered.inline_policies,
                        source_template: Some(&source),
                    })
                    .await
                    .map_err(errors::store)?
            }
            Err(e) => return Err(errors::store(e)),
        };
        // AWS's answer names the role and its trust policy, nothing more (GetRole has the rest).
        Ok(AcquireRoleResponse {
            role: super::roles::named_role(&row),
        })
    }

    /// The role of that name, when this template made it with these values and it is as
    /// the template made it; else AWS's NameConflict or RoleModified.
    async fn acquired_again(&self, existing: RoleRow, rendered: &RenderedRole) -> Result<RoleRow, ServiceError> {
        let t = rendered.template;
        let ours = existing
            .source_template
            .as_ref()
            .is_some_and(|s| s.arn == t.arn && existing.name == rendered.name);
        let Some(source) = existing.source_template.as_ref().filter(|_| ours) else {
            return Err(ServiceError::new(
                iam_errors::NAME_CONFLICT,
                if existing.source_template.is_some() {
                    "A role with this name exists but was created with different parameters. Pass a unique roleName to create a new role."
                } else {
                    "A role with this name already exists in the account but was not created from this template. Choose a different role name, or remove the existing role if it is no longer needed."
                },
            ));
        };
        if source.values != rendered.values {
            return Err(ServiceError::new(
                iam_errors::NAME_CONFLICT,
                "A role with this name exists but was created with different parameters. Pass a unique roleName to create a new role.",
            ));
        }
        let attached = self
            .store
            .attached_policies(EntityKind::Role, &existing.role_id)
            .await
            .map_err(errors::store)?;
        let mut inline: Vec<(String, String)> = self
            .store
            .inline_policies(EntityKind::Role, &existing.role_id)
            .await
            .map_err(errors::store)?
            .into_iter()
            .map(|p| (p.name, p.document))
            .collect();
        inline.sort();
        let mut wanted_inline = rendered.inline_policies.clone();
        wanted_inline.sort();
        let mut wanted_attached: Vec<&str> = t.managed_policy_arns.to_vec();
        wanted_attached.sort_unstable();
        let mut attached: Vec<&str> = attached.iter().map(String::as_str).collect();
        attached.sort_unstable();
        // A changed description or session duration does not count (as recorded from AWS).
        let unchanged = existing.tags.is_empty()
            && existing.permissions_boundary.is_none()
            && existing.trust_policy == rendered.trust_policy
            && attached == wanted_attached
            && inline == wanted_inline;
        if !unchanged {
            return Err(ServiceError::new(
                iam_errors::ROLE_MODIFIED,
                format!(
                    "Role {} has been modified since it was created and is no longer managed.",
                    existing.name
                ),
            ));
        }
        Ok(existing)
    }
}
