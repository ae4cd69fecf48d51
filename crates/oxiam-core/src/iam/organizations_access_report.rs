//! GenerateOrganizationsAccessReport and GetOrganizationsAccessReport: for a root, OU or
//! account of the caller's organization (its `EntityPath`), which services the service control
//! policies over it allow, and when any principal of the accounts under it (roots included)
//! last attempted each.
//!
//! As AWS documents: only the management account may ask; the SCPs of every level from the
//! root down to the entity count (a service must be allowed at each level), or only the one
//! policy named by `OrganizationsPolicyId`; identity and resource policies do not. A path
//! that ends at the management account reports every service with that account's attempts
//! alone (SCPs do not govern it); otherwise the management account's attempts are left out.
//! Like the service reports, a report is computed at once and read by whoever generated it.

use std::collections::{HashMap, HashSet};

use oxiam_policy::PolicyKind;
use oxiam_protocol::iam::{
    AccessDetail, GenerateOrganizationsAccessReportRequest, GenerateOrganizationsAccessReportResponse,
    GetOrganizationsAccessReportRequest, GetOrganizationsAccessReportResponse, JobStatusType, SortKeyType,
    errors as iam_errors,
};
use oxiam_protocol::{ServiceError, Timestamp, common_errors};
use serde::{Deserialize, Serialize};

use super::access_advisor::{StoredReport, job_page, no_such_job};
use crate::organizations::state::OrgState;
use crate::{Oxiam, Principal, errors};

/// The policy type whose documents decide what a report lists.
const SCP: &str = "SERVICE_CONTROL_POLICY";

/// An organizations access report as stored.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct OrgReport {
    /// Every service the SCPs allow, by namespace.
    services: Vec<OrgService>,
}

#[derive(Debug, Serialize, Deserialize)]
struct OrgService {
    namespace: String,
    name: String,
    /// The latest attempt, if any: when, from which region, by which account's path.
    last: Option<(i64, String, String)>,
    /// How many accounts attempted it.
    accounts: usize,
}

impl Oxiam {
    pub(super) async fn generate_organizations_access_report(
        &self,
        caller: &Principal,
        input: GenerateOrganizationsAccessReportRequest,
        now: i64,
    ) -> Result<GenerateOrganizationsAccessReportResponse, ServiceError> {
        let state = self.organization(&caller.account_id).await?;
        let state = state
            .filter(|s| s.management_account_id == caller.account_id)
            .ok_or_else(|| {
                ServiceError::new(
                    common_errors::ACCESS_DENIED,
                    "Only the management account of an organization can generate an organizations access report.",
                )
            })?;
        let target = entity_of_path(&state, &input.entity_path)?;
        if !state.type_enabled(SCP) {
            return Err(ServiceError::new(
                iam_errors::INVALID_INPUT,
                "Service control policies are not enabled in the organization's root.",
            ));
        }
        let management = target == state.management_account_id;
        let allows: Box<dyn Fn(&str) -> bool + Send + Sync> = if management {
            Box::new(|_| true)
        } else if let Some(policy_id) = &input.organizations_policy_id {
            let policy = state
                .policy(policy_id)
                .filter(|p| p.policy_type == SCP)
                .ok_or_else(|| {
                    ServiceError::new(
                        iam_errors::NO_SUCH_ENTITY,
                        format!("Policy {policy_id} does not exist in the organization."),
                    )
                })?;
            let parsed = parse_scp(policy.content)?;
            Box::new(move |service| oxiam_policy::allows_service(&parsed, service))
        } else {
            // Each level from the root down to the entity must allow the service.
            let mut levels = Vec::new();
            for node in state.lineage(&target) {
                let level = state
                    .attached(&node, SCP)
                    .iter()
                    .map(|p| parse_scp(p.content))
                    .collect::<Result<Vec<_>, _>>()?;
                levels.push(level);
            }
            Box::new(move |service| {
                levels
                    .iter()
                    .all(|level| level.iter().any(|p| oxiam_policy::allows_service(p, service)))
            })
        };
        // The accounts whose attempts count.
        let accounts: Vec<&str> = if management {
            vec![state.management_account_id.as_str()]
        } else {
            state
                .accounts
                .iter()
                .filter(|a| a.id != state.management_account_id)
                .filter(|a| a.id == target || state.lineage(&a.id).contains(&target))
                .map(|a| a.id.as_str())
                .collect()
        };
        self.flush_usage_before_read().await;
        let uses = self
            .store
            .account_service_uses(&accounts)
            .await
            .map_err(errors::store)?;
        let mut by_service: HashMap<&str, Vec<&oxiam_store::ServiceUseRow>> = HashMap::new();
        for u in &uses {
            by_service.entry(u.service.as_str()).or_default().push(u);
        }
        let services = oxiam_catalogue::service_names()
            .iter()
            .filter(|s| allows(s.prefix))
            .map(|s| {
                let uses = by_service.get(s.prefix).map(Vec::as_slice).unwrap_or_default();
                let last = uses
                    .iter()
                    .max_by(|a, b| a.at.cmp(&b.at).then_with(|| b.account_id.cmp(&a.account_id)))
                    .map(|u| {
                        // AWS writes an entity path without the trailing `/` of org paths.
                        let path = state.path_of(&u.account_id);
                        (u.at, u.region.clone(), path.trim_end_matches('/').to_owned())
                    });
                OrgService {
                    namespace: s.prefix.to_owned(),
                    name: s.title.to_owned(),
                    last,
                    accounts: uses.iter().map(|u| u.account_id.as_str()).collect::<HashSet<_>>().len(),
                }
            })
            .collect();
        let job_id = self
            .store_report(caller, StoredReport::Organizations(OrgReport { services }), now)
            .await?;
        Ok(GenerateOrganizationsAccessReportResponse { job_id: Some(job_id) })
    }

    pub(super) async fn get_organizations_access_report(
        &self,
        caller: &Principal,
        input: GetOrganizationsAccessReportRequest,
        now: i64,
    ) -> Result<GetOrganizationsAccessReportResponse, ServiceError> {
        let (row, StoredReport::Organizations(report)) = self.read_report(caller, &input.job_id, now).await? else {
            return Err(no_such_job(&input.job_id));
        };
        let mut ordered: Vec<&OrgService> = report.services.iter().collect();
        let by_time = |s: &&OrgService| s.last.as_ref().map(|l| l.0);
        let sort_key = input.sort_key.unwrap_or(SortKeyType::SERVICENAMESPACEASCENDING);
        match sort_key {
            SortKeyType::SERVICENAMESPACEASCENDING => {}
            SortKeyType::SERVICENAMESPACEDESCENDING => ordered.reverse(),
            // Services never attempted come last either way; ties by namespace.
            SortKeyType::LASTAUTHENTICATEDTIMEASCENDING => {
                ordered.sort_by_key(|s| (by_time(s).is_none(), by_time(s)));
            }
            SortKeyType::LASTAUTHENTICATEDTIMEDESCENDING => {
                ordered.sort_by_key(|s| (by_time(s).is_none(), std::cmp::Reverse(by_time(s))));
            }
        }
        let rows = ordered
            .iter()
            .map(|s| AccessDetail {
                service_name: s.name.clone(),
                service_namespace: s.namespace.clone(),
                region: s.last.as_ref().map(|l| l.1.clone()),
                entity_path: s.last.as_ref().map(|l| l.2.clone()),
                last_authenticated_time: s.last.as_ref().map(|l| Timestamp(l.0)),
                total_authenticated_entities: s.last.as_ref().map(|_| s.accounts as i32),
            })
            .collect();
        let (details, truncated, marker) = job_page(
            &input.job_id,
            sort_key.as_str(),
            rows,
            input.marker.as_deref(),
            input.max_items,
        )?;
        let accessed = report.services.iter().filter(|s| s.last.is_some()).count();
        Ok(GetOrganizationsAccessReportResponse {
            job_status: JobStatusType::COMPLETED,
            job_creation_date: Timestamp(row.created_at),
            job_completion_date: Some(Timestamp(row.created_at)),
            number_of_services_accessible: Some(report.services.len() as i32),
            number_of_services_not_accessed: Some((report.services.len() - accessed) as i32),
            access_details: Some(details),
            is_truncated: Some(truncated),
            marker,
            error_details: None,
        })
    }
}

/// The root, OU or account an `EntityPath` (`o-…/r-…[/ou-…]…[/ACCOUNT]`) names in `state`,
/// when the path is exactly its place in the organization.
fn entity_of_path(state: &OrgState, path: &str) -> Result<String, ServiceError> {
    // Exactly as written: the request was authorized on this path's ARN, so a variant of it
    // (a trailing `/`) must not name the same entity.
    let mut parts = path.split('/');
    let organization = parts.next().unwrap_or_default();
    if organization != state.id {
        return Err(ServiceError::new(
            common_errors::ACCESS_DENIED,
            format!("The entity path {path} is not in the caller's organization."),
        ));
    }
    let chain: Vec<&str> = parts.collect();
    let target = chain.last().copied().unwrap_or_default();
    if chain.is_empty() || state.node(target).is_none() || state.lineage(target) != chain {
        return Err(ServiceError::new(
            iam_errors::NO_SUCH_ENTITY,
            format!("The entity path {path} does not exist in the organization."),
        ));
    }
    Ok(target.to_owned())
}

fn parse_scp(content: &str) -> Result<oxiam_policy::Policy, ServiceError> {
    oxiam_policy::parse(content, PolicyKind::Scp)
        .map_err(|e| errors::service_failure(&format_args!("a stored SCP does not parse: {}", e.message)))
}
