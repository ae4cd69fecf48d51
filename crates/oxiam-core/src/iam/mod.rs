//! The IAM operations (what each is authorized on comes from the action catalogue: see
//! `crate::access`). Every operation of the model is served; a few members of some answer
//! `NotImplemented` where oxiam lacks what they need (docs/differences.md).

mod access_advisor;
mod access_keys;
mod account;
mod account_properties;
mod attachments;
mod authorization_details;
mod boundaries;
mod certificates;
mod delegation_requests;
mod groups;
mod instance_profiles;
mod login_profiles;
mod mfa_devices;
mod oidc_providers;
mod organizations_access_report;
mod organizations_features;
mod policies;
mod role_templates;
mod roles;
mod saml_providers;
mod service_access;
mod service_credentials;
mod service_linked_roles;
mod simulation_options;
mod simulator;
mod ssh_public_keys;
mod tagging;
mod users;

use oxiam_protocol::ServiceError;
use oxiam_protocol::iam::{
    GetGroupPolicyResponse, GetRolePolicyResponse, GetUserPolicyResponse, ListAttachedGroupPoliciesResponse,
    ListAttachedRolePoliciesResponse, ListAttachedUserPoliciesResponse, ListGroupPoliciesResponse,
    ListRolePoliciesResponse, ListUserPoliciesResponse, Operation, Request, Response,
};
use oxiam_store::{EntityKind, TagOwner};

use crate::{Oxiam, Principal};

pub(crate) use account_properties::account_property_namespace;
pub use delegation_requests::DefaultGrant;
pub(crate) use delegation_requests::delegation_request_arn;
pub(crate) use mfa_devices::UNABLE_TO_VALIDATE as MFA_UNABLE_TO_VALIDATE;
pub(crate) use oidc_providers::provider_arn as oidc_provider_arn;
pub(crate) use role_templates::{RenderedRole, render as render_role_template};
pub(crate) use saml_providers::decryption_key as saml_decryption_key;
pub(crate) use saml_providers::provider_arn as saml_provider_arn;
pub(crate) use service_linked_roles::{SERVICE_ROLE_PATH, role_name as service_linked_role_name};

/// Wrong guesses at a secret (an MFA code in STS, an old password in ChangePassword) taken
/// before the device or profile takes none for [`BLOCK_SECONDS`]: a 6-digit code or a
/// password must not be found by asking enough (RFC 4226 section 7.3). With 3 time steps
/// checked per code, 5 tries every 5 minutes give a guesser about 1 chance in 230 a day.
const GUESSES_BEFORE_BLOCK: i64 = 5;

/// How long a device or profile that was guessed at takes no guess.
const BLOCK_SECONDS: i64 = 300;

/// `MaxItems` when a request gives none, as in AWS.
const DEFAULT_MAX_ITEMS: usize = 100;

/// Every IAM operation oxiam implements, sorted by name: all of the model's (tests send each,
/// raw and through boto3, and find none answering `NotImplemented`).
pub const IMPLEMENTED: &[Operation] = &[
    Operation::AcceptDelegationRequest,
    Operation::AcquireRole,
    Operation::AddClientIDToOpenIDConnectProvider,
    Operation::AddRoleToInstanceProfile,
    Operation::AddUserToGroup,
    Operation::AssociateDelegationRequest,
    Operation::AttachGroupPolicy,
    Operation::AttachRolePolicy,
    Operation::AttachUserPolicy,
    Operation::ChangePassword,
    Operation::CreateAccessKey,
    Operation::CreateAccountAlias,
    Operation::CreateDelegationRequest,
    Operation::CreateGroup,
    Operation::CreateInstanceProfile,
    Operation::CreateLoginProfile,
    Operation::CreateOpenIDConnectProvider,
    Operation::CreatePolicy,
    Operation::CreatePolicyVersion,
    Operation::CreateRole,
    Operation::CreateSAMLProvider,
    Operation::CreateServiceLinkedRole,
    Operation::CreateServiceSpecificCredential,
    Operation::CreateUser,
    Operation::CreateVirtualMFADevice,
    Operation::DeactivateMFADevice,
    Operation::DeleteAccessKey,
    Operation::DeleteAccountAlias,
    Operation::DeleteAccountPasswordPolicy,
    Operation::DeleteGroup,
    Operation::DeleteGroupPolicy,
    Operation::DeleteInstanceProfile,
    Operation::DeleteLoginProfile,
    Operation::DeleteOpenIDConnectProvider,
    Operation::DeletePolicy,
    Operation::DeletePolicyVersion,
    Operation::DeleteRole,
    Operation::DeleteRolePermissionsBoundary,
    Operation::DeleteRolePolicy,
    Operation::DeleteSAMLProvider,
    Operation::DeleteSSHPublicKey,
    Operation::DeleteServerCertificate,
    Operation::DeleteServiceLinkedRole,
    Operation::DeleteServiceSpecificCredential,
    Operation::DeleteSigningCertificate,
    Operation::DeleteUser,
    Operation::DeleteUserPermissionsBoundary,
    Operation::DeleteUserPolicy,
    Operation::DeleteVirtualMFADevice,
    Operation::DetachGroupPolicy,
    Operation::DetachRolePolicy,
    Operation::DetachUserPolicy,
    Operation::DisableOrganizationsRootCredentialsManagement,
    Operation::DisableOrganizationsRootSessions,
    Operation::DisableOutboundWebIdentityFederation,
    Operation::EnableMFADevice,
    Operation::EnableOrganizationsRootCredentialsManagement,
    Operation::EnableOrganizationsRootSessions,
    Operation::EnableOutboundWebIdentityFederation,
    Operation::GenerateCredentialReport,
    Operation::GenerateOrganizationsAccessReport,
    Operation::GenerateServiceLastAccessedDetails,
    Operation::GetAccessKeyLastUsed,
    Operation::GetAccountAuthorizationDetails,
    Operation::GetAccountPasswordPolicy,
    Operation::GetAccountProperties,
    Operation::GetAccountSummary,
    Operation::GetContextKeysForCustomPolicy,
    Operation::GetContextKeysForPrincipalPolicy,
    Operation::GetCredentialReport,
    Operation::GetDelegationRequest,
    Operation::GetGroup,
    Operation::GetGroupPolicy,
    Operation::GetHumanReadableSummary,
    Operation::GetInstanceProfile,
    Operation::GetLoginProfile,
    Operation::GetMFADevice,
    Operation::GetOpenIDConnectProvider,
    Operation::GetOrganizationsAccessReport,
    Operation::GetOutboundWebIdentityFederationInfo,
    Operation::GetPolicy,
    Operation::GetPolicyVersion,
    Operation::GetRole,
    Operation::GetRolePolicy,
    Operation::GetRoleTemplateVersion,
    Operation::GetSAMLProvider,
    Operation::GetSSHPublicKey,
    Operation::GetServerCertificate,
    Operation::GetServiceLastAccessedDetails,
    Operation::GetServiceLastAccessedDetailsWithEntities,
    Operation::GetServiceLinkedRoleDeletionStatus,
    Operation::GetUser,
    Operation::GetUserPolicy,
    Operation::ListAccessKeys,
    Operation::ListAccountAliases,
    Operation::ListAttachedGroupPolicies,
    Operation::ListAttachedRolePolicies,
    Operation::ListAttachedUserPolicies,
    Operation::ListDelegationRequests,
    Operation::ListEntitiesForPolicy,
    Operation::ListGroupPolicies,
    Operation::ListGroups,
    Operation::ListGroupsForUser,
    Operation::ListInstanceProfileTags,
    Operation::ListInstanceProfiles,
    Operation::ListInstanceProfilesForRole,
    Operation::ListMFADeviceTags,
    Operation::ListMFADevices,
    Operation::ListOpenIDConnectProviderTags,
    Operation::ListOpenIDConnectProviders,
    Operation::ListOrganizationsFeatures,
    Operation::ListPolicies,
    Operation::ListPoliciesGrantingServiceAccess,
    Operation::ListPolicyTags,
    Operation::ListPolicyVersions,
    Operation::ListRolePolicies,
    Operation::ListRoleTags,
    Operation::ListRoles,
    Operation::ListSAMLProviderTags,
    Operation::ListSAMLProviders,
    Operation::ListSSHPublicKeys,
    Operation::ListServerCertificateTags,
    Operation::ListServerCertificates,
    Operation::ListServiceSpecificCredentials,
    Operation::ListSigningCertificates,
    Operation::ListUserPolicies,
    Operation::ListUserTags,
    Operation::ListUsers,
    Operation::ListVirtualMFADevices,
    Operation::PutAccountProperties,
    Operation::PutGroupPolicy,
    Operation::PutRolePermissionsBoundary,
    Operation::PutRolePolicy,
    Operation::PutUserPermissionsBoundary,
    Operation::PutUserPolicy,
    Operation::RejectDelegationRequest,
    Operation::RemoveClientIDFromOpenIDConnectProvider,
    Operation::RemoveRoleFromInstanceProfile,
    Operation::RemoveUserFromGroup,
    Operation::ResetServiceSpecificCredential,
    Operation::ResyncMFADevice,
    Operation::SendDelegationToken,
    Operation::SetDefaultPolicyVersion,
    Operation::SetSecurityTokenServicePreferences,
    Operation::SimulateCustomPolicy,
    Operation::SimulatePrincipalPolicy,
    Operation::TagInstanceProfile,
    Operation::TagMFADevice,
    Operation::TagOpenIDConnectProvider,
    Operation::TagPolicy,
    Operation::TagRole,
    Operation::TagSAMLProvider,
    Operation::TagServerCertificate,
    Operation::TagUser,
    Operation::UntagInstanceProfile,
    Operation::UntagMFADevice,
    Operation::UntagOpenIDConnectProvider,
    Operation::UntagPolicy,
    Operation::UntagRole,
    Operation::UntagSAMLProvider,
    Operation::UntagServerCertificate,
    Operation::UntagUser,
    Operation::UpdateAccessKey,
    Operation::UpdateAccountPasswordPolicy,
    Operation::UpdateAssumeRolePolicy,
    Operation::UpdateDelegationRequest,
    Operation::UpdateGroup,
    Operation::UpdateLoginProfile,
    Operation::UpdateOpenIDConnectProvider,
    Operation::UpdateOpenIDConnectProviderThumbprint,
    Operation::UpdateRole,
    Operation::UpdateRoleDescription,
    Operation::UpdateSAMLProvider,
    Operation::UpdateSSHPublicKey,
    Operation::UpdateServerCertificate,
    Operation::UpdateServiceSpecificCredential,
    Operation::UpdateSigningCertificate,
    Operation::UpdateUser,
    Operation::UploadSSHPublicKey,
    Operation::UploadServerCertificate,
    Operation::UploadSigningCertificate,
];

impl Oxiam {
    /// Runs one authorized IAM request.
    pub async fn execute_iam(&self, caller: &Principal, request: Request, now: i64) -> Result<Response, ServiceError> {
        self.execute_iam_with(caller, request, now, None).await
    }

    /// Runs one authorized IAM request, given the facts it was authorized on: an operation
    /// that finds, when it runs, that it must do more than was authorized (AcquireRole, whose
    /// role went away in between) asks for that too.
    pub async fn execute_iam_with(
        &self,
        caller: &Principal,
        request: Request,
        now: i64,
        facts: Option<&crate::authz::RequestFacts>,
    ) -> Result<Response, ServiceError> {
        use EntityKind::{Group, Role, User};
        use Request as R;
        use Response as S;
        if let Some(role_name) = service_linked_roles::protected_role_change(&request) {
            self.refuse_service_linked_role(caller, role_name).await?;
        }
        Ok(match request {
            // users and keys
            R::CreateUser(i) => S::CreateUser(self.create_user(caller, i, now).await?),
            R::GetUser(i) => S::GetUser(self.get_user(caller, i).await?),
            R::ListUsers(i) => S::ListUsers(self.list_users(caller, i).await?),
            R::UpdateUser(i) => self.update_user(caller, i).await.map(|()| S::UpdateUser)?,
            R::DeleteUser(i) => self.delete_user(caller, i).await.map(|()| S::DeleteUser)?,
            R::CreateAccessKey(i) => S::CreateAccessKey(self.create_access_key(caller, i, now).await?),
            R::ListAccessKeys(i) => S::ListAccessKeys(self.list_access_keys(caller, i).await?),
            R::UpdateAccessKey(i) => self.update_access_key(caller, i).await.map(|()| S::UpdateAccessKey)?,
            R::DeleteAccessKey(i) => self.delete_access_key(caller, i).await.map(|()| S::DeleteAccessKey)?,
            R::GetAccessKeyLastUsed(i) => S::GetAccessKeyLastUsed(self.get_access_key_last_used(caller, i).await?),
            // managed policies
            R::CreatePolicy(i) => S::CreatePolicy(self.create_policy(caller, i, now).await?),
            R::GetPolicy(i) => S::GetPolicy(self.get_policy(caller, i).await?),
            R::ListPolicies(i) => S::ListPolicies(self.list_policies(caller, i).await?),
            R::DeletePolicy(i) => self.delete_policy(caller, i).await.map(|()| S::DeletePolicy)?,
            R::CreatePolicyVersion(i) => S::CreatePolicyVersion(self.create_policy_version(caller, i, now).await?),
            R::GetPolicyVersion(i) => S::GetPolicyVersion(self.get_policy_version(caller, i).await?),
            R::ListPolicyVersions(i) => S::ListPolicyVersions(self.list_policy_versions(caller, i).await?),
            R::SetDefaultPolicyVersion(i) => self
                .set_default_policy_version(caller, i, now)
                .await
                .map(|()| S::SetDefaultPolicyVersion)?,
            R::DeletePolicyVersion(i) => self
                .delete_policy_version(caller, i)
                .await
                .map(|()| S::DeletePolicyVersion)?,
            R::ListEntitiesForPolicy(i) => S::ListEntitiesForPolicy(self.list_entities_for_policy(caller, i).await?),
            R::ListPolicyTags(i) => S::ListPolicyTags(self.list_policy_tags(caller, i).await?),
            R::GenerateOrganizationsAccessReport(i) => {
                S::GenerateOrganizationsAccessReport(self.generate_organizations_access_report(caller, i, now).await?)
            }
            R::GetOrganizationsAccessReport(i) => {
                S::GetOrganizationsAccessReport(self.get_organizations_access_report(caller, i, now).await?)
            }
            R::GenerateServiceLastAccessedDetails(i) => S::GenerateServiceLastAccessedDetails(
                self.generate_service_last_accessed_details(caller, i, now).await?,
            ),
            R::GetServiceLastAccessedDetails(i) => {
                S::GetServiceLastAccessedDetails(self.get_service_last_accessed_details(caller, i, now).await?)
            }
            R::GetServiceLastAccessedDetailsWithEntities(i) => S::GetServiceLastAccessedDetailsWithEntities(
                self.get_service_last_accessed_details_with_entities(caller, i, now)
                    .await?,
            ),
            R::ListPoliciesGrantingServiceAccess(i) => {
                S::ListPoliciesGrantingServiceAccess(self.list_policies_granting_service_access(caller, i).await?)
            }
            // roles
            R::CreateRole(i) => S::CreateRole(self.create_role(caller, i, now).await?),
            R::GetRole(i) => S::GetRole(self.get_role(caller, i).await?),
            R::ListRoles(i) => S::ListRoles(self.list_roles(caller, i).await?),
            R::UpdateRole(i) => S::UpdateRole(self.update_role(caller, i).await?),
            R::UpdateRoleDescription(i) => S::UpdateRoleDescription(self.update_role_description(caller, i).await?),
            R::UpdateAssumeRolePolicy(i) => self
                .update_assume_role_policy(caller, i)
                .await
                .map(|()| S::UpdateAssumeRolePolicy)?,
            R::DeleteRole(i) => self.delete_role(caller, i).await.map(|()| S::DeleteRole)?,
            R::ListRoleTags(i) => S::ListRoleTags(self.list_role_tags(caller, i).await?),
            R::GetRoleTemplateVersion(i) => S::GetRoleTemplateVersion(self.get_role_template_version(i)?),
            R::AcquireRole(i) => S::AcquireRole(self.acquire_role(caller, i, now, facts).await?),
            // instance profiles
            R::CreateInstanceProfile(i) => {
                S::CreateInstanceProfile(self.create_instance_profile(caller, i, now).await?)
            }
            R::GetInstanceProfile(i) => S::GetInstanceProfile(self.get_instance_profile(caller, i).await?),
            R::ListInstanceProfiles(i) => S::ListInstanceProfiles(self.list_instance_profiles(caller, i).await?),
            R::ListInstanceProfilesForRole(i) => {
                S::ListInstanceProfilesForRole(self.list_instance_profiles_for_role(caller, i).await?)
            }
            R::AddRoleToInstanceProfile(i) => self
                .add_role_to_instance_profile(caller, i, now)
                .await
                .map(|()| S::AddRoleToInstanceProfile)?,
            R::RemoveRoleFromInstanceProfile(i) => self
                .remove_role_from_instance_profile(caller, i)
                .await
                .map(|()| S::RemoveRoleFromInstanceProfile)?,
            R::DeleteInstanceProfile(i) => self
                .delete_instance_profile(caller, i)
                .await
                .map(|()| S::DeleteInstanceProfile)?,
            R::ListInstanceProfileTags(i) => {
                S::ListInstanceProfileTags(self.list_instance_profile_tags(caller, i).await?)
            }
            // OpenID Connect providers
            R::CreateOpenIDConnectProvider(i) => {
                S::CreateOpenIDConnectProvider(self.create_oidc_provider(caller, i, now).await?)
            }
            R::GetOpenIDConnectProvider(i) => S::GetOpenIDConnectProvider(self.get_oidc_provider(caller, i).await?),
            R::ListOpenIDConnectProviders(_) => S::ListOpenIDConnectProviders(self.list_oidc_providers(caller).await?),
            R::DeleteOpenIDConnectProvider(i) => self
                .delete_oidc_provider(caller, i)
                .await
                .map(|()| S::DeleteOpenIDConnectProvider)?,
            R::AddClientIDToOpenIDConnectProvider(i) => self
                .add_oidc_client_id(caller, i)
                .await
                .map(|()| S::AddClientIDToOpenIDConnectProvider)?,
            R::RemoveClientIDFromOpenIDConnectProvider(i) => self
                .remove_oidc_client_id(caller, i)
                .await
                .map(|()| S::RemoveClientIDFromOpenIDConnectProvider)?,
            R::UpdateOpenIDConnectProvider(i) => self
                .update_oidc_provider(caller, i)
                .await
                .map(|()| S::UpdateOpenIDConnectProvider)?,
            R::UpdateOpenIDConnectProviderThumbprint(i) => self
                .update_oidc_thumbprints(caller, i)
                .await
                .map(|()| S::UpdateOpenIDConnectProviderThumbprint)?,
            R::ListOpenIDConnectProviderTags(i) => {
                S::ListOpenIDConnectProviderTags(self.list_oidc_provider_tags(caller, i).await?)
            }
            R::TagOpenIDConnectProvider(i) => self
                .change_tags(
                    caller,
                    TagOwner::OidcProvider,
                    &i.open_id_connect_provider_arn,
                    i.tags,
                    Vec::new(),
                )
                .await
                .map(|()| S::TagOpenIDConnectProvider)?,
            R::UntagOpenIDConnectProvider(i) => self
                .change_tags(
                    caller,
                    TagOwner::OidcProvider,
                    &i.open_id_connect_provider_arn,
                    Vec::new(),
                    i.tag_keys,
                )
                .await
                .map(|()| S::UntagOpenIDConnectProvider)?,
            // login profiles and the password policy
            R::CreateLoginProfile(i) => S::CreateLoginProfile(self.create_login_profile(caller, i, now).await?),
            R::GetLoginProfile(i) => S::GetLoginProfile(self.get_login_profile(caller, i).await?),
            R::UpdateLoginProfile(i) => self
                .update_login_profile(caller, i, now)
                .await
                .map(|()| S::UpdateLoginProfile)?,
            R::DeleteLoginProfile(i) => self
                .delete_login_profile(caller, i)
                .await
                .map(|()| S::DeleteLoginProfile)?,
            R::ChangePassword(i) => self.change_password(caller, i, now).await.map(|()| S::ChangePassword)?,
            R::UpdateAccountPasswordPolicy(i) => self
                .update_password_policy(caller, i)
                .await
                .map(|()| S::UpdateAccountPasswordPolicy)?,
            R::GetAccountPasswordPolicy => S::GetAccountPasswordPolicy(self.get_password_policy(caller).await?),
            R::DeleteAccountPasswordPolicy => self
                .delete_password_policy(caller)
                .await
                .map(|()| S::DeleteAccountPasswordPolicy)?,
            // SSH public keys and service-specific credentials
            R::UploadSSHPublicKey(i) => S::UploadSSHPublicKey(self.upload_ssh_public_key(caller, i, now).await?),
            R::GetSSHPublicKey(i) => S::GetSSHPublicKey(self.get_ssh_public_key(caller, i).await?),
            R::ListSSHPublicKeys(i) => S::ListSSHPublicKeys(self.list_ssh_public_keys(caller, i).await?),
            R::UpdateSSHPublicKey(i) => self
                .update_ssh_public_key(caller, i)
                .await
                .map(|()| S::UpdateSSHPublicKey)?,
            R::DeleteSSHPublicKey(i) => self
                .delete_ssh_public_key(caller, i)
                .await
                .map(|()| S::DeleteSSHPublicKey)?,
            R::CreateServiceSpecificCredential(i) => {
                S::CreateServiceSpecificCredential(self.create_service_specific_credential(caller, i, now).await?)
            }
            R::ListServiceSpecificCredentials(i) => {
                S::ListServiceSpecificCredentials(self.list_service_specific_credentials(caller, i, now).await?)
            }
            R::ResetServiceSpecificCredential(i) => {
                S::ResetServiceSpecificCredential(self.reset_service_specific_credential(caller, i, now).await?)
            }
            R::UpdateServiceSpecificCredential(i) => self
                .update_service_specific_credential(caller, i)
                .await
                .map(|()| S::UpdateServiceSpecificCredential)?,
            R::DeleteServiceSpecificCredential(i) => self
                .delete_service_specific_credential(caller, i)
                .await
                .map(|()| S::DeleteServiceSpecificCredential)?,
            // delegation requests
            R::CreateDelegationRequest(i) => {
                S::CreateDelegationRequest(self.create_delegation_request(caller, i, now).await?)
            }
            R::GetDelegationRequest(i) => S::GetDelegationRequest(self.get_delegation_request(i, now).await?),
            R::ListDelegationRequests(i) => {
                S::ListDelegationRequests(self.list_delegation_requests(caller, i, now).await?)
            }
            R::AssociateDelegationRequest(i) => self
                .associate_delegation_request(caller, &i.delegation_request_id, now)
                .await
                .map(|()| S::AssociateDelegationRequest)?,
            R::UpdateDelegationRequest(i) => self
                .update_delegation_request(&i.delegation_request_id, i.notes, now)
                .await
                .map(|()| S::UpdateDelegationRequest)?,
            R::AcceptDelegationRequest(i) => self
                .accept_delegation_request(caller, &i.delegation_request_id, now)
                .await
                .map(|()| S::AcceptDelegationRequest)?,
            R::RejectDelegationRequest(i) => self
                .reject_delegation_request(&i.delegation_request_id, i.notes, now)
                .await
                .map(|()| S::RejectDelegationRequest)?,
            R::SendDelegationToken(i) => self
                .send_delegation_token(caller, &i.delegation_request_id, now)
                .await
                .map(|()| S::SendDelegationToken)?,
            R::GetHumanReadableSummary(i) => S::GetHumanReadableSummary(self.get_human_readable_summary(i, now).await?),
            R::GetAccountProperties(_) => S::GetAccountProperties(self.get_account_properties(caller).await?),
            R::PutAccountProperties(i) => self
                .put_account_properties(caller, i)
                .await
                .map(|()| S::PutAccountProperties(oxiam_protocol::iam::PutAccountPropertiesResponse {}))?,
            R::SetSecurityTokenServicePreferences(i) => self
                .set_security_token_service_preferences(caller, i)
                .await
                .map(|()| S::SetSecurityTokenServicePreferences)?,
            // SAML providers
            R::CreateSAMLProvider(i) => S::CreateSAMLProvider(self.create_saml_provider(caller, i, now).await?),
            R::GetSAMLProvider(i) => S::GetSAMLProvider(self.get_saml_provider(caller, i).await?),
            R::ListSAMLProviders(_) => S::ListSAMLProviders(self.list_saml_providers(caller).await?),
            R::UpdateSAMLProvider(i) => S::UpdateSAMLProvider(self.update_saml_provider(caller, i, now).await?),
            R::DeleteSAMLProvider(i) => self
                .delete_saml_provider(caller, i)
                .await
                .map(|()| S::DeleteSAMLProvider)?,
            R::ListSAMLProviderTags(i) => S::ListSAMLProviderTags(self.list_saml_provider_tags(caller, i).await?),
            R::TagSAMLProvider(i) => self
                .change_tags(caller, TagOwner::SamlProvider, &i.saml_provider_arn, i.tags, Vec::new())
                .await
                .map(|()| S::TagSAMLProvider)?,
            R::UntagSAMLProvider(i) => self
                .change_tags(
                    caller,
                    TagOwner::SamlProvider,
                    &i.saml_provider_arn,
                    Vec::new(),
                    i.tag_keys,
                )
                .await
                .map(|()| S::UntagSAMLProvider)?,
            // service-linked roles
            R::CreateServiceLinkedRole(i) => {
                S::CreateServiceLinkedRole(self.create_service_linked_role(caller, i, now).await?)
            }
            R::DeleteServiceLinkedRole(i) => {
                S::DeleteServiceLinkedRole(self.delete_service_linked_role(caller, i, now).await?)
            }
            R::GetServiceLinkedRoleDeletionStatus(i) => {
                S::GetServiceLinkedRoleDeletionStatus(self.get_service_linked_role_deletion_status(caller, i).await?)
            }
            // certificates
            R::UploadSigningCertificate(i) => {
                S::UploadSigningCertificate(self.upload_signing_certificate(caller, i, now).await?)
            }
            R::ListSigningCertificates(i) => {
                S::ListSigningCertificates(self.list_signing_certificates(caller, i).await?)
            }
            R::UpdateSigningCertificate(i) => self
                .update_signing_certificate(caller, i)
                .await
                .map(|()| S::UpdateSigningCertificate)?,
            R::DeleteSigningCertificate(i) => self
                .delete_signing_certificate(caller, i)
                .await
                .map(|()| S::DeleteSigningCertificate)?,
            R::UploadServerCertificate(i) => {
                S::UploadServerCertificate(self.upload_server_certificate(caller, i, now).await?)
            }
            R::GetServerCertificate(i) => S::GetServerCertificate(self.get_server_certificate(caller, i).await?),
            R::ListServerCertificates(i) => S::ListServerCertificates(self.list_server_certificates(caller, i).await?),
            R::UpdateServerCertificate(i) => self
                .update_server_certificate(caller, i)
                .await
                .map(|()| S::UpdateServerCertificate)?,
            R::DeleteServerCertificate(i) => self
                .delete_server_certificate(caller, i)
                .await
                .map(|()| S::DeleteServerCertificate)?,
            R::ListServerCertificateTags(i) => {
                S::ListServerCertificateTags(self.list_server_certificate_tags(caller, i).await?)
            }
            R::TagServerCertificate(i) => self
                .change_tags(
                    caller,
                    TagOwner::ServerCertificate,
                    &i.server_certificate_name,
                    i.tags,
                    Vec::new(),
                )
                .await
                .map(|()| S::TagServerCertificate)?,
            R::UntagServerCertificate(i) => self
                .change_tags(
                    caller,
                    TagOwner::ServerCertificate,
                    &i.server_certificate_name,
                    Vec::new(),
                    i.tag_keys,
                )
                .await
                .map(|()| S::UntagServerCertificate)?,
            // virtual MFA devices
            R::CreateVirtualMFADevice(i) => {
                S::CreateVirtualMFADevice(self.create_virtual_mfa_device(caller, i, now).await?)
            }
            R::EnableMFADevice(i) => self
                .enable_mfa_device(caller, i, now)
                .await
                .map(|()| S::EnableMFADevice)?,
            R::ResyncMFADevice(i) => self
                .resync_mfa_device(caller, i, now)
                .await
                .map(|()| S::ResyncMFADevice)?,
            R::DeactivateMFADevice(i) => self
                .deactivate_mfa_device(caller, i)
                .await
                .map(|()| S::DeactivateMFADevice)?,
            R::DeleteVirtualMFADevice(i) => self
                .delete_virtual_mfa_device(caller, i)
                .await
                .map(|()| S::DeleteVirtualMFADevice)?,
            R::ListMFADevices(i) => S::ListMFADevices(self.list_mfa_devices(caller, i).await?),
            R::ListVirtualMFADevices(i) => S::ListVirtualMFADevices(self.list_virtual_mfa_devices(caller, i).await?),
            R::GetMFADevice(i) => S::GetMFADevice(self.get_mfa_device(caller, i).await?),
            R::ListMFADeviceTags(i) => S::ListMFADeviceTags(self.list_mfa_device_tags(caller, i).await?),
            R::TagMFADevice(i) => self
                .change_tags(caller, TagOwner::MfaDevice, &i.serial_number, i.tags, Vec::new())
                .await
                .map(|()| S::TagMFADevice)?,
            R::UntagMFADevice(i) => self
                .change_tags(caller, TagOwner::MfaDevice, &i.serial_number, Vec::new(), i.tag_keys)
                .await
                .map(|()| S::UntagMFADevice)?,
            // groups
            R::CreateGroup(i) => S::CreateGroup(self.create_group(caller, i, now).await?),
            R::GetGroup(i) => S::GetGroup(self.get_group(caller, i).await?),
            R::ListGroups(i) => S::ListGroups(self.list_groups(caller, i).await?),
            R::ListGroupsForUser(i) => S::ListGroupsForUser(self.list_groups_for_user(caller, i).await?),
            R::AddUserToGroup(i) => self
                .add_user_to_group(caller, i, now)
                .await
                .map(|()| S::AddUserToGroup)?,
            R::RemoveUserFromGroup(i) => self
                .remove_user_from_group(caller, i)
                .await
                .map(|()| S::RemoveUserFromGroup)?,
            R::UpdateGroup(i) => self.update_group(caller, i).await.map(|()| S::UpdateGroup)?,
            R::DeleteGroup(i) => self.delete_group(caller, i).await.map(|()| S::DeleteGroup)?,
            // attached managed policies
            R::AttachUserPolicy(i) => self
                .attach_policy(caller, User, &i.user_name, &i.policy_arn, now)
                .await
                .map(|()| S::AttachUserPolicy)?,
            R::AttachGroupPolicy(i) => self
                .attach_policy(caller, Group, &i.group_name, &i.policy_arn, now)
                .await
                .map(|()| S::AttachGroupPolicy)?,
            R::AttachRolePolicy(i) => self
                .attach_policy(caller, Role, &i.role_name, &i.policy_arn, now)
                .await
                .map(|()| S::AttachRolePolicy)?,
            R::DetachUserPolicy(i) => self
                .detach_policy(caller, User, &i.user_name, &i.policy_arn)
                .await
                .map(|()| S::DetachUserPolicy)?,
            R::DetachGroupPolicy(i) => self
                .detach_policy(caller, Group, &i.group_name, &i.policy_arn)
                .await
                .map(|()| S::DetachGroupPolicy)?,
            R::DetachRolePolicy(i) => self
                .detach_policy(caller, Role, &i.role_name, &i.policy_arn)
                .await
                .map(|()| S::DetachRolePolicy)?,
            R::ListAttachedUserPolicies(i) => {
                let (attached_policies, truncated, marker) = self
                    .list_attached_policies(
                        caller,
                        User,
                        &i.user_name,
                        i.path_prefix.as_deref(),
                        i.marker.as_deref(),
                        i.max_items,
                    )
                    .await?;
                S::ListAttachedUserPolicies(ListAttachedUserPoliciesResponse {
                    attached_policies: Some(attached_policies),
                    is_truncated: Some(truncated),
                    marker,
                })
            }
            R::ListAttachedGroupPolicies(i) => {
                let (attached_policies, truncated, marker) = self
                    .list_attached_policies(
                        caller,
                        Group,
                        &i.group_name,
                        i.path_prefix.as_deref(),
                        i.marker.as_deref(),
                        i.max_items,
                    )
                    .await?;
                S::ListAttachedGroupPolicies(ListAttachedGroupPoliciesResponse {
                    attached_policies: Some(attached_policies),
                    is_truncated: Some(truncated),
                    marker,
                })
            }
            R::ListAttachedRolePolicies(i) => {
                let (attached_policies, truncated, marker) = self
                    .list_attached_policies(
                        caller,
                        Role,
                        &i.role_name,
                        i.path_prefix.as_deref(),
                        i.marker.as_deref(),
                        i.max_items,
                    )
                    .await?;
                S::ListAttachedRolePolicies(ListAttachedRolePoliciesResponse {
                    attached_policies: Some(attached_policies),
                    is_truncated: Some(truncated),
                    marker,
                })
            }
            // inline policies
            R::PutUserPolicy(i) => self
                .put_inline_policy(caller, User, &i.user_name, &i.policy_name, &i.policy_document)
                .await
                .map(|()| S::PutUserPolicy)?,
            R::PutGroupPolicy(i) => self
                .put_inline_policy(caller, Group, &i.group_name, &i.policy_name, &i.policy_document)
                .await
                .map(|()| S::PutGroupPolicy)?,
            R::PutRolePolicy(i) => self
                .put_inline_policy(caller, Role, &i.role_name, &i.policy_name, &i.policy_document)
                .await
                .map(|()| S::PutRolePolicy)?,
            R::GetUserPolicy(i) => {
                let (entity, policy) = self
                    .get_inline_policy(caller, User, &i.user_name, &i.policy_name)
                    .await?;
                S::GetUserPolicy(GetUserPolicyResponse {
                    user_name: entity.name,
                    policy_name: policy.name,
                    policy_document: policy.document,
                })
            }
            R::GetGroupPolicy(i) => {
                let (entity, policy) = self
                    .get_inline_policy(caller, Group, &i.group_name, &i.policy_name)
                    .await?;
                S::GetGroupPolicy(GetGroupPolicyResponse {
                    group_name: entity.name,
                    policy_name: policy.name,
                    policy_document: policy.document,
                })
            }
            R::GetRolePolicy(i) => {
                let (entity, policy) = self
                    .get_inline_policy(caller, Role, &i.role_name, &i.policy_name)
                    .await?;
                S::GetRolePolicy(GetRolePolicyResponse {
                    role_name: entity.name,
                    policy_name: policy.name,
                    policy_document: policy.document,
                })
            }
            R::ListUserPolicies(i) => {
                let (policy_names, truncated, marker) = self
                    .list_inline_policies(caller, User, &i.user_name, i.marker.as_deref(), i.max_items)
                    .await?;
                S::ListUserPolicies(ListUserPoliciesResponse {
                    policy_names,
                    is_truncated: Some(truncated),
                    marker,
                })
            }
            R::ListGroupPolicies(i) => {
                let (policy_names, truncated, marker) = self
                    .list_inline_policies(caller, Group, &i.group_name, i.marker.as_deref(), i.max_items)
                    .await?;
                S::ListGroupPolicies(ListGroupPoliciesResponse {
                    policy_names,
                    is_truncated: Some(truncated),
                    marker,
                })
            }
            R::ListRolePolicies(i) => {
                let (policy_names, truncated, marker) = self
                    .list_inline_policies(caller, Role, &i.role_name, i.marker.as_deref(), i.max_items)
                    .await?;
                S::ListRolePolicies(ListRolePoliciesResponse {
                    policy_names,
                    is_truncated: Some(truncated),
                    marker,
                })
            }
            R::DeleteUserPolicy(i) => self
                .delete_inline_policy(caller, User, &i.user_name, &i.policy_name)
                .await
                .map(|()| S::DeleteUserPolicy)?,
            R::DeleteGroupPolicy(i) => self
                .delete_inline_policy(caller, Group, &i.group_name, &i.policy_name)
                .await
                .map(|()| S::DeleteGroupPolicy)?,
            R::DeleteRolePolicy(i) => self
                .delete_inline_policy(caller, Role, &i.role_name, &i.policy_name)
                .await
                .map(|()| S::DeleteRolePolicy)?,
            // permissions boundaries
            R::PutUserPermissionsBoundary(i) => self
                .put_boundary(caller, User, &i.user_name, &i.permissions_boundary)
                .await
                .map(|()| S::PutUserPermissionsBoundary)?,
            R::PutRolePermissionsBoundary(i) => self
                .put_boundary(caller, Role, &i.role_name, &i.permissions_boundary)
                .await
                .map(|()| S::PutRolePermissionsBoundary)?,
            R::DeleteUserPermissionsBoundary(i) => self
                .delete_boundary(caller, User, &i.user_name)
                .await
                .map(|()| S::DeleteUserPermissionsBoundary)?,
            R::DeleteRolePermissionsBoundary(i) => self
                .delete_boundary(caller, Role, &i.role_name)
                .await
                .map(|()| S::DeleteRolePermissionsBoundary)?,
            // tags
            R::TagUser(i) => self
                .change_tags(caller, TagOwner::User, &i.user_name, i.tags, Vec::new())
                .await
                .map(|()| S::TagUser)?,
            R::UntagUser(i) => self
                .change_tags(caller, TagOwner::User, &i.user_name, Vec::new(), i.tag_keys)
                .await
                .map(|()| S::UntagUser)?,
            R::TagRole(i) => self
                .change_tags(caller, TagOwner::Role, &i.role_name, i.tags, Vec::new())
                .await
                .map(|()| S::TagRole)?,
            R::UntagRole(i) => self
                .change_tags(caller, TagOwner::Role, &i.role_name, Vec::new(), i.tag_keys)
                .await
                .map(|()| S::UntagRole)?,
            R::TagPolicy(i) => self
                .change_tags(caller, TagOwner::Policy, &i.policy_arn, i.tags, Vec::new())
                .await
                .map(|()| S::TagPolicy)?,
            R::UntagPolicy(i) => self
                .change_tags(caller, TagOwner::Policy, &i.policy_arn, Vec::new(), i.tag_keys)
                .await
                .map(|()| S::UntagPolicy)?,
            R::TagInstanceProfile(i) => self
                .change_tags(
                    caller,
                    TagOwner::InstanceProfile,
                    &i.instance_profile_name,
                    i.tags,
                    Vec::new(),
                )
                .await
                .map(|()| S::TagInstanceProfile)?,
            R::UntagInstanceProfile(i) => self
                .change_tags(
                    caller,
                    TagOwner::InstanceProfile,
                    &i.instance_profile_name,
                    Vec::new(),
                    i.tag_keys,
                )
                .await
                .map(|()| S::UntagInstanceProfile)?,
            R::ListUserTags(i) => S::ListUserTags(self.list_user_tags(caller, i).await?),
            // the policy simulator
            R::SimulatePrincipalPolicy(i) => {
                S::SimulatePrincipalPolicy(self.simulate_principal_policy(caller, i).await?)
            }
            R::SimulateCustomPolicy(i) => S::SimulateCustomPolicy(self.simulate_custom_policy(caller, i).await?),
            R::GetContextKeysForPrincipalPolicy(i) => {
                S::GetContextKeysForPrincipalPolicy(self.context_keys_for_principal(caller, i).await?)
            }
            R::GetContextKeysForCustomPolicy(i) => S::GetContextKeysForCustomPolicy(Self::context_keys_for_custom(i)?),
            // the account
            R::CreateAccountAlias(i) => self
                .create_account_alias(caller, i)
                .await
                .map(|()| S::CreateAccountAlias)?,
            R::ListAccountAliases(i) => S::ListAccountAliases(self.list_account_aliases(caller, i).await?),
            R::DeleteAccountAlias(i) => self
                .delete_account_alias(caller, i)
                .await
                .map(|()| S::DeleteAccountAlias)?,
            R::GetAccountSummary => S::GetAccountSummary(self.get_account_summary(caller).await?),
            R::GenerateCredentialReport => {
                S::GenerateCredentialReport(self.generate_credential_report(caller, now).await?)
            }
            R::GetCredentialReport => S::GetCredentialReport(self.get_credential_report(caller, now).await?),
            R::GetAccountAuthorizationDetails(i) => {
                S::GetAccountAuthorizationDetails(self.get_account_authorization_details(caller, i).await?)
            }
            // the organization's centralized root access
            R::ListOrganizationsFeatures(_)
            | R::EnableOrganizationsRootCredentialsManagement(_)
            | R::DisableOrganizationsRootCredentialsManagement(_)
            | R::EnableOrganizationsRootSessions(_)
            | R::DisableOrganizationsRootSessions(_) => self.root_access_features(caller, request.operation()).await?,
            // outbound identity federation
            R::EnableOutboundWebIdentityFederation => {
                S::EnableOutboundWebIdentityFederation(self.enable_outbound_web_identity_federation(caller, now).await?)
            }
            R::DisableOutboundWebIdentityFederation => self
                .disable_outbound_web_identity_federation(caller)
                .await
                .map(|()| S::DisableOutboundWebIdentityFederation)?,
            R::GetOutboundWebIdentityFederationInfo => {
                S::GetOutboundWebIdentityFederationInfo(self.get_outbound_web_identity_federation_info(caller).await?)
            }
        })
    }
}

/// `MaxItems`, defaulted.
/// A credential's status as the API shows it (SSH keys, signing certificates): Active or
/// Inactive.
fn status_of(active: bool) -> oxiam_protocol::iam::StatusType {
    if active {
        oxiam_protocol::iam::StatusType::Active
    } else {
        oxiam_protocol::iam::StatusType::Inactive
    }
}

/// Whether an Update… operation's `Status` makes a credential active: `Expired` is a status
/// only read (a key past its expiry), never set.
fn settable_active(status: oxiam_protocol::iam::StatusType) -> Result<bool, ServiceError> {
    use oxiam_protocol::iam::StatusType;
    match status {
        StatusType::Active => Ok(true),
        StatusType::Inactive => Ok(false),
        StatusType::Expired => Err(ServiceError::new(
            oxiam_protocol::iam::errors::INVALID_INPUT,
            "Status Expired cannot be set.",
        )),
    }
}

fn page_size(max_items: Option<i32>) -> usize {
    max_items.map_or(DEFAULT_MAX_ITEMS, |n| n.max(1) as usize)
}

/// The sort key a `Marker` resumes after; a marker oxiam did not issue is a bad request.
fn resume_after(marker: Option<&str>) -> Result<Option<String>, ServiceError> {
    marker
        .map(|m| oxiam_store::marker::decode(m).ok_or_else(invalid_marker))
        .transpose()
}

fn invalid_marker() -> ServiceError {
    ServiceError::new(oxiam_protocol::iam::errors::INVALID_INPUT, "Invalid Marker.")
}

/// One page of an entity's tags, by key (List…Tags: ListPolicyTags, ListInstanceProfileTags,
/// ListOpenIDConnectProviderTags).
fn tag_page(
    tags: &[(String, String)],
    marker: Option<&str>,
    max_items: Option<i32>,
) -> Result<(Vec<oxiam_protocol::iam::Tag>, bool, Option<String>), ServiceError> {
    let keyed = tags
        .iter()
        .map(|(key, value)| {
            let tag = oxiam_protocol::iam::Tag {
                key: key.clone(),
                value: value.clone(),
            };
            (key.clone(), tag)
        })
        .collect();
    page(keyed, marker, page_size(max_items))
}

/// One page of an in-memory listing: the items whose key sorts after the marker's key,
/// whether more follow, and the marker for the next page. Sorting here (not trusting the
/// caller's order) is what keeps each item on exactly one page. Used where the whole list
/// is small by quota (a user's keys, an entity's policies, a group's members).
fn page<T>(
    mut keyed: Vec<(String, T)>,
    marker: Option<&str>,
    size: usize,
) -> Result<(Vec<T>, bool, Option<String>), ServiceError> {
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let after = resume_after(marker)?;
    let mut rest = keyed
        .into_iter()
        .filter(|(key, _)| after.as_ref().is_none_or(|a| key > a))
        .peekable();
    let mut items = Vec::new();
    let mut last = None;
    while items.len() < size {
        match rest.next() {
            Some((key, item)) => {
                last = Some(key);
                items.push(item);
            }
            None => break,
        }
    }
    let truncated = rest.peek().is_some();
    Ok((
        items,
        truncated,
        if truncated {
            last.map(|k| oxiam_store::marker::encode(&k))
        } else {
            None
        },
    ))
}
