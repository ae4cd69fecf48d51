//! Role templates AWS publishes (IAM GetRoleTemplateVersion, AcquireRole): the ones of the
//! IAM User Guide's "Role template directory" whose content AWS answers, as GetRoleTemplateVersion
//! returned them (version 1, minor version 0). AWS publishes no machine-readable list; the
//! directory names the templates and their parameters, and each version's content here is
//! what the API answered for it (recorded responses, September 2026). The directory's
//! CloudWatch templates are left out: AWS answered `NoSuchEntity` for each.

/// One parameter of a template (`ParametersDefinition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateParameter {
    /// `Name`.
    pub name: &'static str,
    /// `Type`: `String`, `StringList`, `Number`, `NumberList`, `Arn` or `ArnList`.
    pub kind: &'static str,
    /// `IsRequired`.
    pub required: bool,
    /// `DefaultValue`.
    pub default: Option<&'static str>,
    /// `Description`, where the recorded answer showed it whole.
    pub description: Option<&'static str>,
}

/// One minor version of a role template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleTemplate {
    /// `arn:aws:iam::aws:role-template/SERVICE_PRINCIPAL/NAME:MAJOR`.
    pub arn: &'static str,
    /// `TemplateName`.
    pub name: &'static str,
    /// `TemplateVersionId`.
    pub version_id: &'static str,
    /// `Description`.
    pub description: &'static str,
    /// `MajorVersion` (also the ARN's suffix).
    pub major_version: i32,
    /// `MinorVersion`; every published template is at 0, its default.
    pub minor_version: i32,
    /// `ManagedByValue`: the service principal that manages it.
    pub managed_by: &'static str,
    /// `RoleNamePattern`, with `@{parameter}` placeholders.
    pub role_name_pattern: &'static str,
    /// `RolePathPattern`; `None`: `/`.
    pub role_path_pattern: Option<&'static str>,
    /// `RoleDescriptionPattern`.
    pub role_description_pattern: &'static str,
    /// `AssumeRolePolicyDocumentTemplate`.
    pub trust_policy: &'static str,
    /// `InlinePolicyTemplates`: (policy name, document template).
    pub inline_policies: &'static [(&'static str, &'static str)],
    /// `ManagedPolicyArns`.
    pub managed_policy_arns: &'static [&'static str],
    /// `ParametersDefinition`.
    pub parameters: &'static [TemplateParameter],
    /// `MaxSessionDuration`.
    pub max_session_duration: i32,
    /// `CreateTimestamp` and `UpdateTimestamp`, seconds since the Unix epoch.
    pub created_at: i64,
}

const fn required(name: &'static str, description: Option<&'static str>) -> TemplateParameter {
    TemplateParameter {
        name,
        kind: "String",
        required: true,
        default: None,
        description,
    }
}

const fn optional(name: &'static str, default: &'static str, description: Option<&'static str>) -> TemplateParameter {
    TemplateParameter {
        name,
        kind: "String",
        required: false,
        default: Some(default),
        description,
    }
}

/// The services SageMaker Unified Studio's execution roles trust.
const SAGEMAKER_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["sagemaker.amazonaws.com","scheduler.amazonaws.com","bedrock.amazonaws.com","datazone.amazonaws.com","lakeformation.amazonaws.com","airflow-serverless.amazonaws.com","emr-serverless.amazonaws.com","redshift.amazonaws.com","glue.amazonaws.com","athena.amazonaws.com"]},"Action":["sts:AssumeRole","sts:TagSession","sts:SetContext","sts:SetSourceIdentity"],"Condition":{"StringEquals":{"aws:SourceAccount":"@{accountId}"}}}]}"#;

const CMK_ENABLED: &str = "An indicator on whether a custom KMS key is used. Must be True or False";

/// Every published template, sorted by ARN (byte order).
pub(crate) static ROLE_TEMPLATES: &[RoleTemplate] = &[
    RoleTemplate {
        arn: "arn:aws:iam::aws:role-template/backup.amazonaws.com/AWSBackupDefaultServiceRoleTemplate:1",
        name: "AWSBackupDefaultServiceRoleTemplate",
        version_id: "AVTAZKAPJZG4ILRKDYSS2",
        description: "Create a role that grants AWS Backup the permissions it needs to protect your resources, including creating and managing backups for DynamoDB, RDS, EC2 EBS volumes, EFS file systems, and Storage Gateway volumes. This is the standard service role used by AWS Backup when performing backup and restore jobs.",
        major_version: 1,
        minor_version: 0,
        managed_by: "backup.amazonaws.com",
        role_name_pattern: "@{RoleName}",
        role_path_pattern: Some("/service-role/"),
        role_description_pattern: "Standard service role the provides AWS Backup service permission to create and restore backups on your behalf across AWS services",
        trust_policy: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"backup.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"@{accountId}"}}}]}"#,
        inline_policies: &[],
        managed_policy_arns: &[
            "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
            "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
        ],
        parameters: &[
            required("accountId", Some("Account id of the target account")),
            optional(
                "RoleName",
                "AWSBackupDefaultServiceRole",
                Some("Custom name for the role"),
            ),
        ],
        max_session_duration: 3600,
        created_at: 1_783_610_832, // 2026-07-09T15:27:12Z
    },
    RoleTemplate {
        arn: "arn:aws:iam::aws:role-template/datazone.amazonaws.com/AmazonSageMakerAdminIAMPermissiveExecutionRoleTemplate:1",
        name: "AmazonSageMakerAdminIAMPermissiveExecutionRoleTemplate",
        version_id: "AVTAZKAPJZG4OFOHF2FKU",
        description: "Creates a role that provides full administrative control over the Amazon SageMaker Unified Studio domain, and broad permissions to your account's data and AWS services to execute operations within Amazon SageMaker Unified Studio.",
        major_version: 1,
        minor_version: 0,
        managed_by: "datazone.amazonaws.com",
        role_name_pattern: "@{RoleName}",
        role_path_pattern: None,
        role_description_pattern: "Administrative role that provides full administrative control over the Amazon SageMaker Unified Studio domain, and broad permissions to your account's data and AWS services to execute operations within Amazon SageMaker Unified Studio.",
        trust_policy: SAGEMAKER_TRUST,
        inline_policies: &[(
            "CustomKMSKeyPolicy",
            r#"{"Version":"2012-10-17","Statement":[{"@Enabled":"CMK_ENABLED","Sid":"KMSDescribePermissions","Effect":"Allow","Action":"kms:DescribeKey","Resource":["arn:aws:kms:@{keyRegion}:@{keyAccountId}:key/@{kmsKeyId}"]},{"@Enabled":"CMK_ENABLED","Sid":"KMSPermissions","Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":["arn:aws:kms:@{keyRegion}:@{keyAccountId}:key/@{kmsKeyId}"],"Condition":{"ForAnyValue:StringEquals":{"kms:EncryptionContextKeys":"aws:datazone:domainId"}}}]}"#,
        )],
        managed_policy_arns: &["arn:aws:iam::aws:policy/SageMakerStudioAdminIAMPermissiveExecutionPolicy"],
        parameters: &[
            optional("CMK_ENABLED", "False", Some(CMK_ENABLED)),
            optional("RoleName", "AmazonSageMakerAdminIAMExecutionRole", None),
            required("accountId", None),
            required("keyAccountId", None),
            required("keyRegion", None),
            required("kmsKeyId", None),
        ],
        max_session_duration: 3600,
        created_at: 1_783_548_734, // 2026-07-08T22:12:14Z
    },
    RoleTemplate {
        arn: "arn:aws:iam::aws:role-template/datazone.amazonaws.com/AmazonSageMakerUserIAMPermissiveExecutionRoleTemplate:1",
        name: "AmazonSageMakerUserIAMPermissiveExecutionRoleTemplate",
        version_id: "AVTAZKAPJZG4HTC3G2PFY",
        description: "User role that provides broad permissions to your account's data and AWS services to execute operations within Amazon SageMaker Unified Studio.",
        major_version: 1,
        minor_version: 0,
        managed_by: "datazone.amazonaws.com",
        role_name_pattern: "@{RoleName}",
        role_path_pattern: None,
        role_description_pattern: "User role that provides broad permissions to your account's data and AWS services to execute operations within Amazon SageMaker Unified Studio.",
        trust_policy: SAGEMAKER_TRUST,
        inline_policies: &[],
        managed_policy_arns: &["arn:aws:iam::aws:policy/SageMakerStudioUserIAMPermissiveExecutionPolicy"],
        parameters: &[
            optional("RoleName", "AmazonSageMakerUserIAMExecutionRole", None),
            required("accountId", None),
        ],
        max_session_duration: 3600,
        created_at: 1_783_548_737, // 2026-07-08T22:12:17Z
    },
    RoleTemplate {
        arn: "arn:aws:iam::aws:role-template/iam.amazonaws.com/PowerUserRoleTemplate:1",
        name: "PowerUserRoleTemplate",
        version_id: "AVTAZKAPJZG4N6BGA67NU",
        description: "Creates a role that grants PowerUser permissions to the calling AWS service, allowing it to create and manage most AWS resources on your behalf. Intended for services that require wide-ranging permissions. The trusted service is configurable via the AWSServiceName parameter.",
        major_version: 1,
        minor_version: 0,
        managed_by: "iam.amazonaws.com",
        role_name_pattern: "@{RoleName}",
        role_path_pattern: None,
        role_description_pattern: "Power user role for @{AWSServiceName}",
        trust_policy: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"@{AWSServiceName}"},"Action":"sts:AssumeRole"}]}"#,
        inline_policies: &[],
        managed_policy_arns: &["arn:aws:iam::aws:policy/PowerUserAccess"],
        parameters: &[
            required("AWSServiceName", Some("Service principal of the service")),
            optional("RoleName", "PowerUserRole", Some("Customized name for the role")),
        ],
        max_session_duration: 3600,
        created_at: 1_781_233_028, // 2026-06-12T02:57:08Z
    },
    RoleTemplate {
        arn: "arn:aws:iam::aws:role-template/secretsmanager.amazonaws.com/AWSSecretsManagerRotationRoleTemplate:1",
        name: "AWSSecretsManagerRotationRoleTemplate",
        version_id: "AVTAZKAPJZG4PCYR454GW",
        description: "Creates a role that allows AWS Secrets Manager to perform secret rotation by accessing and updating secret values",
        major_version: 1,
        minor_version: 0,
        managed_by: "secretsmanager.amazonaws.com",
        role_name_pattern: "@{RoleName}",
        role_path_pattern: Some("/service-role/"),
        role_description_pattern: "Allows AWS Secrets Manager to perform secret rotation by accessing and updating secret values",
        trust_policy: r#"{"Version":"2012-10-17","Statement":[{"Sid":"SecretsManagerPrincipalAccess","Effect":"Allow","Principal":{"Service":"secretsmanager.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"@{accountId}"}}}]}"#,
        inline_policies: &[(
            "SecretRotationPermissionPolicy",
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowRotationAccessGeneric","Effect":"Allow","Action":["secretsmanager:DescribeSecret","secretsmanager:GetSecretValue","secretsmanager:PutSecretValue","secretsmanager:UpdateSecretVersionStage"],"Resource":"arn:aws:secretsmanager:@{region}:@{accountId}:secret:*","Condition":{"StringEquals":{"secretsmanager:resource/Type":"@{resourceType}"}}},{"Effect":"Allow","Sid":"AllowPasswordGenerationAccessAdmin","Action":["secretsmanager:GetRandomPassword"],"Resource":"*"},{"@Enabled":"ADMIN_RESOURCE_ENABLED","Sid":"AllowRotationAccess","Action":["secretsmanager:GetSecretValue"],"Resource":"arn:aws:secretsmanager:@{region}:@{accountId}:secret:*","Effect":"Allow","Condition":{"StringEquals":{"secretsmanager:resource/Type":"@{adminType}"}}},{"@Enabled":"CMK_ENABLED","Sid":"KMSAccessForCustomerSecret","Effect":"Allow","Action":["kms:Decrypt","kms:DescribeKey","kms:GenerateDataKey"],"Resource":"@{kmsKeyArn}","Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.@{region}.amazonaws.com"}}}]}"#,
        )],
        managed_policy_arns: &[],
        parameters: &[
            optional("ADMIN_RESOURCE_ENABLED", "False", None),
            optional("CMK_ENABLED", "False", None),
            optional("RoleName", "AWSSecretsManagerSecretRotationRole", None),
            required("accountId", None),
            required("adminType", None),
            TemplateParameter {
                name: "kmsKeyArn",
                kind: "StringList",
                required: true,
                default: None,
                description: None,
            },
            required("region", None),
            required("resourceType", None),
        ],
        max_session_duration: 3600,
        created_at: 1_783_610_847, // 2026-07-09T15:27:27Z
    },
];
