//! Role templates (GetRoleTemplateVersion): the templates AWS publishes, read from the
//! catalogue in `oxiam-aws-policies`. AcquireRole, which creates a role from one, is not
//! served yet (docs/differences.md).

use oxiam_protocol::iam::{
    GetRoleTemplateVersionRequest, GetRoleTemplateVersionResponse, InlinePolicy, ManagedByTypeType,
    ParameterDefinition, ParameterTypeType, RoleTemplateVersion, errors as iam_errors,
};
use oxiam_protocol::{ServiceError, Timestamp};

use crate::Oxiam;

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
