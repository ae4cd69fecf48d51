//! Access advisor: GenerateServiceLastAccessedDetails and the two reads of its report.
//!
//! A report is about a user, group, role or managed policy (the subject). It lists every
//! service the subject's own permissions policies allow (a user's groups' included;
//! boundaries, resource policies, SCPs and session policies are not looked at, as AWS
//! documents) and, for each, when the entities it covers last attempted it: the user or role
//! itself, a group's members, or the users and roles a policy is attached to (directly or
//! through a group). At `ACTION_LEVEL`, each tracked action the policies allow is listed too
//! (see `usage::tracked_action`). Attempts are recorded by [`crate::usage`] whether they were
//! allowed or not.
//!
//! A report is a snapshot taken when it is generated — AWS's advice is to generate a new one
//! to see newer data — so oxiam computes it at once and answers `COMPLETED` on the first read.
//! Only the principal that generated a report may read it (a role: the same session).

use std::collections::HashMap;

use oxiam_policy::{Policy, PolicyKind};
use oxiam_protocol::ServiceError;
use oxiam_protocol::Timestamp;
use oxiam_protocol::common_errors::VALIDATION_ERROR;
use oxiam_protocol::iam::{
    AccessAdvisorUsageGranularityType as Granularity, EntityDetails, EntityInfo,
    GenerateServiceLastAccessedDetailsRequest, GenerateServiceLastAccessedDetailsResponse,
    GetServiceLastAccessedDetailsRequest, GetServiceLastAccessedDetailsResponse,
    GetServiceLastAccessedDetailsWithEntitiesRequest, GetServiceLastAccessedDetailsWithEntitiesResponse, JobStatusType,
    PolicyOwnerEntityType, ServiceLastAccessed, TrackedActionLastAccessed, errors as iam_errors,
};
use oxiam_store::{AccessReportRow, EntityKind, StoreError, StoredPolicy};
use serde::{Deserialize, Serialize};

use crate::{Oxiam, Principal, errors, ids};

/// How long a generated report can be read. AWS documents no limit; oxiam forgets a report
/// after 30 days, and an account's oldest beyond its latest [`REPORTS_KEPT`], so that a
/// principal generating in a loop (a read action, in ReadOnlyAccess) cannot fill the disk.
const REPORT_LIFETIME_SECONDS: i64 = 30 * 24 * 3600;

/// How many reports an account keeps at most (see [`REPORT_LIFETIME_SECONDS`]).
const REPORTS_KEPT: i64 = 1000;

/// A report as stored (`access_reports.report`): a job id answers only the Get of its kind.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum StoredReport {
    /// GenerateServiceLastAccessedDetails'.
    Services(Report),
    /// GenerateOrganizationsAccessReport's.
    Organizations(super::organizations_access_report::OrgReport),
}

/// A service last accessed report.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Report {
    /// Generated at `ACTION_LEVEL`.
    action_level: bool,
    /// The users and roles the report covers.
    entities: Vec<Entity>,
    /// Every service the subject's policies allow, by namespace.
    services: Vec<Service>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entity {
    arn: String,
    name: String,
    /// `USER` or `ROLE`.
    role: bool,
    id: String,
    path: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Service {
    namespace: String,
    name: String,
    /// The entity (an index into `entities`) that last attempted the service, when, where.
    last: Option<Use>,
    /// Per entity (index), when it last attempted the service.
    used_by: Vec<(usize, i64)>,
    /// At `ACTION_LEVEL`, for a service whose actions are tracked: each tracked action the
    /// policies allow, with its last attempt.
    actions: Option<Vec<(String, Option<Use>)>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Use {
    entity: usize,
    at: i64,
    region: String,
}

impl Oxiam {
    pub(super) async fn generate_service_last_accessed_details(
        &self,
        caller: &Principal,
        input: GenerateServiceLastAccessedDetailsRequest,
        now: i64,
    ) -> Result<GenerateServiceLastAccessedDetailsResponse, ServiceError> {
        let granularity = input.granularity.unwrap_or(Granularity::SERVICELEVEL);
        let (policies, entities) = self.report_subject(caller, &input.arn).await?;
        self.flush_usage_before_read().await;
        let ids: Vec<&str> = entities.iter().map(|e| e.id.as_str()).collect();
        let uses = self
            .store
            .service_uses(&caller.account_id, &ids)
            .await
            .map_err(errors::store)?;
        let report = report(granularity, &policies, entities, &uses);
        let job_id = self.store_report(caller, StoredReport::Services(report), now).await?;
        Ok(GenerateServiceLastAccessedDetailsResponse { job_id: Some(job_id) })
    }

    /// Stores a generated report for `caller` to read; answers its job id.
    pub(super) async fn store_report(
        &self,
        caller: &Principal,
        report: StoredReport,
        now: i64,
    ) -> Result<String, ServiceError> {
        let row = AccessReportRow {
            job_id: ids::uuid(),
            account_id: caller.account_id.clone(),
            owner: report_owner(caller),
            created_at: now,
            report: serde_json::to_string(&report)
                .map_err(|e| errors::service_failure(&format_args!("an access report: {e}")))?,
        };
        self.store
            .insert_access_report(&row, now - REPORT_LIFETIME_SECONDS, REPORTS_KEPT)
            .await
            .map_err(errors::store)?;
        Ok(row.job_id)
    }

    pub(super) async fn get_service_last_accessed_details(
        &self,
        caller: &Principal,
        input: GetServiceLastAccessedDetailsRequest,
        now: i64,
    ) -> Result<GetServiceLastAccessedDetailsResponse, ServiceError> {
        let (row, report) = self.read_service_report(caller, &input.job_id, now).await?;
        let rows = report
            .services
            .iter()
            .map(|s| service_last_accessed(&report, s))
            .collect();
        let (services, truncated, marker) = job_page(
            &input.job_id,
            "services",
            rows,
            input.marker.as_deref(),
            input.max_items,
        )?;
        Ok(GetServiceLastAccessedDetailsResponse {
            job_status: JobStatusType::COMPLETED,
            job_type: Some(if report.action_level {
                Granularity::ACTIONLEVEL
            } else {
                Granularity::SERVICELEVEL
            }),
            job_creation_date: Timestamp(row.created_at),
            services_last_accessed: services,
            job_completion_date: Timestamp(row.created_at),
            is_truncated: Some(truncated),
            marker,
            error: None,
        })
    }

    pub(super) async fn get_service_last_accessed_details_with_entities(
        &self,
        caller: &Principal,
        input: GetServiceLastAccessedDetailsWithEntitiesRequest,
        now: i64,
    ) -> Result<GetServiceLastAccessedDetailsWithEntitiesResponse, ServiceError> {
        let (row, report) = self.read_service_report(caller, &input.job_id, now).await?;
        let unsupported = || {
            ServiceError::new(
                iam_errors::INVALID_INPUT,
                // Sic: AWS's message spells it "namepace".
                format!(
                    "Service namepace {} is either invalid or unsupported.",
                    input.service_namespace
                ),
            )
        };
        let service = report
            .services
            .iter()
            .find(|s| s.namespace == input.service_namespace)
            .ok_or_else(unsupported)?;
        let used: HashMap<usize, i64> = service.used_by.iter().copied().collect();
        // Most recent first, then those that never attempted the service; ties by ARN. The
        // marker resumes after a position in that order.
        let mut ordered: Vec<(usize, Option<i64>)> =
            (0..report.entities.len()).map(|i| (i, used.get(&i).copied())).collect();
        ordered.sort_by(|a, b| {
            b.1.unwrap_or(i64::MIN)
                .cmp(&a.1.unwrap_or(i64::MIN))
                .then_with(|| report.entities[a.0].arn.cmp(&report.entities[b.0].arn))
        });
        let rows = ordered
            .into_iter()
            .map(|(entity, at)| {
                let e = &report.entities[entity];
                EntityDetails {
                    entity_info: EntityInfo {
                        arn: e.arn.clone(),
                        name: e.name.clone(),
                        r#type: if e.role {
                            PolicyOwnerEntityType::ROLE
                        } else {
                            PolicyOwnerEntityType::USER
                        },
                        id: e.id.clone(),
                        path: Some(e.path.clone()),
                    },
                    last_authenticated: at.map(Timestamp),
                }
            })
            .collect();
        let listing = format!("entities/{}", input.service_namespace);
        let (entities, truncated, marker) =
            job_page(&input.job_id, &listing, rows, input.marker.as_deref(), input.max_items)?;
        Ok(GetServiceLastAccessedDetailsWithEntitiesResponse {
            job_status: JobStatusType::COMPLETED,
            job_creation_date: Timestamp(row.created_at),
            job_completion_date: Timestamp(row.created_at),
            entity_details_list: entities,
            is_truncated: Some(truncated),
            marker,
            error: None,
        })
    }

    /// The report `job_id`, if the caller generated it.
    pub(super) async fn read_report(
        &self,
        caller: &Principal,
        job_id: &str,
        now: i64,
    ) -> Result<(AccessReportRow, StoredReport), ServiceError> {
        let row = self
            .store
            .access_report(&caller.account_id, job_id)
            .await
            .map_err(errors::store)?
            .filter(|row| row.owner == report_owner(caller) && row.created_at >= now - REPORT_LIFETIME_SECONDS)
            .ok_or_else(|| no_such_job(job_id))?;
        let report = serde_json::from_str(&row.report)
            .map_err(|e| errors::service_failure(&format_args!("access report {job_id} does not read: {e}")))?;
        Ok((row, report))
    }

    async fn read_service_report(
        &self,
        caller: &Principal,
        job_id: &str,
        now: i64,
    ) -> Result<(AccessReportRow, Report), ServiceError> {
        match self.read_report(caller, job_id, now).await? {
            (row, StoredReport::Services(report)) => Ok((row, report)),
            _ => Err(no_such_job(job_id)),
        }
    }

    /// The permissions policies of the user, group, role or managed policy `arn` names, and
    /// the users and roles a report on it covers.
    async fn report_subject(&self, caller: &Principal, arn: &str) -> Result<(Vec<Policy>, Vec<Entity>), ServiceError> {
        errors::iam_arn_scope(arn)?;
        let Some([_, _, _, _, account, resource]) = oxiam_policy::split_arn(arn) else {
            return Err(ServiceError::new(VALIDATION_ERROR, "Invalid ARN"));
        };
        let no_such = || ServiceError::new(iam_errors::NO_SUCH_ENTITY, format!("ARN {arn} does not exist."));
        let unsupported = || {
            ServiceError::new(
                iam_errors::INVALID_INPUT,
                format!("Invalid Entity Arn: {arn} is not supported."),
            )
        };
        if resource.starts_with("policy/") {
            if account != "aws" && account != caller.account_id {
                return Err(no_such());
            }
            let document = match self.managed_document(caller, arn).await {
                Err(e) if e.kind == iam_errors::NO_SUCH_ENTITY => return Err(no_such()),
                other => other?,
            };
            // The account's users, groups and roles it is attached to (an AWS managed
            // policy's too: only where this account attached it).
            let mut entities = Vec::new();
            for holder in self
                .store
                .policy_entities(&caller.account_id, arn)
                .await
                .map_err(errors::store)?
            {
                self.push_covered(caller, holder, &mut entities).await?;
            }
            return Ok((vec![parse_stored(&document)?], entities));
        }
        if account != caller.account_id {
            return Err(no_such());
        }
        if !["user/", "group/", "role/"]
            .iter()
            .any(|kind| resource.starts_with(kind))
        {
            return Err(unsupported());
        }
        let (_, entity, stored) = self.policies_of(caller, arn, no_such()).await?;
        let mut policies = Vec::with_capacity(stored.len());
        for policy in stored {
            let document = match policy {
                StoredPolicy::Inline { document, .. } => document,
                StoredPolicy::Managed {
                    document: Some(document),
                    ..
                } => document,
                StoredPolicy::Managed { arn, document: None } => self.managed_document(caller, &arn).await?,
            };
            policies.push(parse_stored(&document)?);
        }
        let mut entities = Vec::new();
        self.push_covered(caller, entity, &mut entities).await?;
        Ok((policies, entities))
    }

    /// Adds the users and roles `holder` stands for (a group: its members), each once.
    async fn push_covered(
        &self,
        caller: &Principal,
        holder: oxiam_store::EntityRef,
        out: &mut Vec<Entity>,
    ) -> Result<(), ServiceError> {
        let account = &caller.account_id;
        let mut push = |entity: Entity| {
            if !out.iter().any(|e| e.id == entity.id) {
                out.push(entity);
            }
        };
        match holder.kind {
            EntityKind::User => push(Entity {
                arn: ids::user_arn(account, &holder.path, &holder.name),
                name: holder.name,
                role: false,
                id: holder.id,
                path: holder.path,
            }),
            EntityKind::Role => push(Entity {
                arn: ids::role_arn(account, &holder.path, &holder.name),
                name: holder.name,
                role: true,
                id: holder.id,
                path: holder.path,
            }),
            EntityKind::Group => {
                let members = match self.store.group_members(&holder.id).await {
                    Ok(members) => members,
                    // Deleted meanwhile: it covers nobody.
                    Err(StoreError::NotFound { .. }) => Vec::new(),
                    Err(e) => return Err(errors::store(e)),
                };
                for user in members {
                    push(Entity {
                        arn: ids::user_arn(account, &user.path, &user.name),
                        name: user.name,
                        role: false,
                        id: user.user_id,
                        path: user.path,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Who may read a report: the one that generated it, as AWS tells them apart — a user
/// whichever of its keys it signs with (or its GetSessionToken credentials), a role session
/// (or a federated user's, or a root session's) only that very session, never another of the
/// same role and name; the root. Ids, not names: a user or role deleted and made again under
/// the same name is someone else.
fn report_owner(caller: &Principal) -> String {
    use crate::{PrincipalKind, SessionIssuer};
    let issued_by = caller.session.as_ref().map(|s| &s.issued_by);
    match (&caller.kind, issued_by) {
        (PrincipalKind::User { user_id, .. }, _) => user_id.clone(),
        (PrincipalKind::Root, None | Some(SessionIssuer::GetSessionToken)) => format!("{}:root", caller.account_id),
        _ => format!("session:{}", caller.access_key_id),
    }
}

/// One page of a report's rows, in the order given (`keyed` by position). A marker names
/// the job (and the order) it was issued for: one from another job, or another listing of
/// this one, is refused as AWS refuses it.
pub(super) fn job_page<T>(
    job_id: &str,
    listing: &str,
    rows: Vec<T>,
    marker: Option<&str>,
    max_items: Option<i32>,
) -> Result<(Vec<T>, bool, Option<String>), ServiceError> {
    let tag = format!("{job_id}/{listing}/");
    if let Some(marker) = marker {
        let resumes = oxiam_store::marker::decode(marker).ok_or_else(super::invalid_marker)?;
        if !resumes.starts_with(&tag) {
            return Err(ServiceError::new(
                iam_errors::INVALID_INPUT,
                "The marker passed in the request was invalid.",
            ));
        }
    }
    let keyed = rows
        .into_iter()
        .enumerate()
        .map(|(position, row)| (format!("{tag}{position:08}"), row))
        .collect();
    super::page(keyed, marker, super::page_size(max_items))
}

/// An unknown job, one another principal generated, or one of the other kind.
pub(super) fn no_such_job(job_id: &str) -> ServiceError {
    ServiceError::new(iam_errors::NO_SUCH_ENTITY, format!("Job {job_id} does not exist."))
}

/// A stored document, parsed (documents are validated on write: one that no longer parses
/// is a fault).
fn parse_stored(document: &str) -> Result<Policy, ServiceError> {
    oxiam_policy::parse(document, PolicyKind::Identity)
        .map_err(|e| errors::service_failure(&format_args!("a stored policy does not parse: {}", e.message)))
}

/// The report on `entities` under `policies`, from their recorded uses.
fn report(
    granularity: Granularity,
    policies: &[Policy],
    entities: Vec<Entity>,
    uses: &[oxiam_store::ServiceUseRow],
) -> Report {
    let index: HashMap<&str, usize> = entities.iter().enumerate().map(|(i, e)| (e.id.as_str(), i)).collect();
    // (service, action) → per entity its last use; action "" is the service as a whole.
    let mut by_key: HashMap<(&str, &str), Vec<Use>> = HashMap::new();
    for u in uses {
        if let Some(&entity) = index.get(u.entity_id.as_str()) {
            by_key.entry((&u.service, &u.action)).or_default().push(Use {
                entity,
                at: u.at,
                region: u.region.clone(),
            });
        }
    }
    let latest = |uses: Option<&Vec<Use>>| -> Option<Use> {
        uses?
            .iter()
            .max_by(|a, b| {
                a.at.cmp(&b.at)
                    .then_with(|| entities[b.entity].arn.cmp(&entities[a.entity].arn))
            })
            .cloned()
    };
    let services = oxiam_catalogue::service_names()
        .iter()
        .filter(|s| policies.iter().any(|p| oxiam_policy::allows_service(p, s.prefix)))
        .map(|s| {
            let uses = by_key.get(&(s.prefix, ""));
            let actions = (granularity == Granularity::ACTIONLEVEL)
                .then(|| oxiam_catalogue::service(s.prefix))
                .flatten()
                .map(|served| {
                    served
                        .actions
                        .iter()
                        .filter(|a| crate::usage::tracked_action(s.prefix, a.name).is_some())
                        .filter(|a| {
                            let qualified = format!("{}:{}", s.prefix, a.name);
                            policies.iter().any(|p| oxiam_policy::allows_action(p, &qualified))
                        })
                        .map(|a| (a.name.to_owned(), latest(by_key.get(&(s.prefix, a.name)))))
                        .collect::<Vec<_>>()
                })
                .filter(|actions| !actions.is_empty());
            Service {
                namespace: s.prefix.to_owned(),
                name: s.title.to_owned(),
                last: latest(uses),
                used_by: uses
                    .map(|u| u.iter().map(|u| (u.entity, u.at)).collect())
                    .unwrap_or_default(),
                actions,
            }
        })
        .collect();
    Report {
        action_level: granularity == Granularity::ACTIONLEVEL,
        entities,
        services,
    }
}

/// One service of a report, as GetServiceLastAccessedDetails answers it.
fn service_last_accessed(report: &Report, s: &Service) -> ServiceLastAccessed {
    let arn = |u: &Use| report.entities[u.entity].arn.clone();
    ServiceLastAccessed {
        service_name: s.name.clone(),
        last_authenticated: s.last.as_ref().map(|u| Timestamp(u.at)),
        service_namespace: s.namespace.clone(),
        last_authenticated_entity: s.last.as_ref().map(arn),
        last_authenticated_region: s.last.as_ref().map(|u| u.region.clone()),
        total_authenticated_entities: Some(s.used_by.len() as i32),
        tracked_actions_last_accessed: s.actions.as_ref().map(|actions| {
            actions
                .iter()
                .map(|(name, last)| TrackedActionLastAccessed {
                    action_name: Some(name.clone()),
                    last_accessed_entity: last.as_ref().map(arn),
                    last_accessed_time: last.as_ref().map(|u| Timestamp(u.at)),
                    last_accessed_region: last.as_ref().map(|u| u.region.clone()),
                })
                .collect()
        }),
    }
}
