//! End to end: IAM's organizations access report (GenerateOrganizationsAccessReport,
//! GetOrganizationsAccessReport) with the AWS SDK for Rust — the services the SCPs over an OU
//! allow, and when a member account under it last attempted each; one SCP alone; the
//! management account's own path; who may ask; and a Deny on `iam:OrganizationsPolicyId`.

use crate::common;

use aws_sdk_iam::types::{AccessDetail, JobStatusType, SortKeyType};
use aws_sdk_organizations::types::PolicyType;
use common::{ACCOUNT, Backend, TestServer, attached_policy, code, message};

per_backend!(
    the_report_lists_what_the_scps_allow_and_what_members_attempted,
    only_the_management_account_asks_about_its_own_organization,
);

const FULL_AWS_ACCESS: &str = "p-FullAWSAccess";

async fn get_all(iam: &aws_sdk_iam::Client, job: &str, sort: Option<SortKeyType>) -> (Vec<AccessDetail>, i32, i32) {
    let out = iam
        .get_organizations_access_report()
        .job_id(job)
        .set_sort_key(sort)
        .max_items(1000)
        .send()
        .await
        .unwrap();
    assert_eq!(out.job_status, JobStatusType::Completed);
    (
        out.access_details.unwrap(),
        out.number_of_services_accessible.unwrap(),
        out.number_of_services_not_accessed.unwrap(),
    )
}

/// An OU `engineering` holding the member, governed by one SCP allowing IAM, S3 and STS
/// (FullAWSAccess detached from it): (organization id, root id, OU id, member, SCP id).
async fn governed_member(s: &TestServer) -> (String, String, String, String, String) {
    let (org_id, root_id, member) = s.organization_with_member().await;
    let orgs = s.root_organizations();
    let ou_id = s.move_into_new_ou(&root_id, &member, "engineering").await;
    let scp = attached_policy(
        &orgs,
        PolicyType::ServiceControlPolicy,
        "CoreServices",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","s3:*","sts:*"],"Resource":"*"}]}"#,
        &ou_id,
    )
    .await;
    orgs.detach_policy()
        .policy_id(FULL_AWS_ACCESS)
        .target_id(&ou_id)
        .send()
        .await
        .unwrap();
    (org_id, root_id, ou_id, member, scp)
}

async fn the_report_lists_what_the_scps_allow_and_what_members_attempted(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (org_id, root_id, ou_id, member, scp) = governed_member(&s).await;
    let inside = s.enter_member_account(&member).await;
    s.s3_as_session(&inside).list_buckets().send().await.unwrap();
    // The management account's own attempts do not count for the OU (its S3 use here).
    s.s3_as("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None)
        .list_buckets()
        .send()
        .await
        .unwrap();

    let iam = s.root_iam();
    let ou_path = format!("{org_id}/{root_id}/{ou_id}");
    let job = iam
        .generate_organizations_access_report()
        .entity_path(&ou_path)
        .send()
        .await
        .unwrap()
        .job_id
        .unwrap();
    let (details, accessible, not_accessed) = get_all(&iam, &job, None).await;
    let namespaces: Vec<&str> = details.iter().map(|d| d.service_namespace()).collect();
    assert_eq!(
        namespaces,
        ["iam", "s3", "sts"],
        "what every level from the root down allows"
    );
    assert_eq!((accessible, not_accessed), (3, 2));
    let s3 = &details[1];
    assert_eq!(s3.service_name(), "Amazon S3");
    assert_eq!(
        s3.entity_path(),
        Some(format!("{org_id}/{root_id}/{ou_id}/{member}").as_str())
    );
    assert_eq!(s3.total_authenticated_entities, Some(1));
    assert!(s3.last_authenticated_time.is_some() && s3.region.is_some());
    assert!(details[0].last_authenticated_time.is_none() && details[0].total_authenticated_entities.is_none());

    let (sorted, ..) = get_all(&iam, &job, Some(SortKeyType::LastAuthenticatedTimeDescending)).await;
    assert_eq!(sorted[0].service_namespace(), "s3", "the attempted service first");
    let (sorted, ..) = get_all(&iam, &job, Some(SortKeyType::ServiceNamespaceDescending)).await;
    let namespaces: Vec<&str> = sorted.iter().map(|d| d.service_namespace()).collect();
    assert_eq!(namespaces, ["sts", "s3", "iam"]);

    // One SCP alone, wherever it is attached; FullAWSAccess reaches every service.
    let only = |policy: &str| {
        let (iam, path, policy) = (iam.clone(), ou_path.clone(), policy.to_owned());
        async move {
            iam.generate_organizations_access_report()
                .entity_path(path)
                .organizations_policy_id(policy)
                .send()
                .await
                .unwrap()
                .job_id
                .unwrap()
        }
    };
    let (details, accessible, _) = get_all(&iam, &only(&scp).await, None).await;
    assert_eq!((details.len(), accessible), (3, 3));
    let (_, accessible, not_accessed) = get_all(&iam, &only(FULL_AWS_ACCESS).await, None).await;
    assert!(accessible > 400, "{accessible}");
    assert_eq!(not_accessed, accessible - 1, "S3 alone was attempted in the OU");

    // The management account's path: every service, its own attempts alone.
    let job = iam
        .generate_organizations_access_report()
        .entity_path(format!("{org_id}/{root_id}/{ACCOUNT}"))
        .send()
        .await
        .unwrap()
        .job_id
        .unwrap();
    let first = iam.get_organizations_access_report().job_id(&job).send().await.unwrap();
    assert_eq!(first.access_details().len(), 100, "pages of 100 by default");
    assert!(first.is_truncated);
    let (details, accessible, _) = get_all(&iam, &job, None).await;
    assert!(accessible > 400);
    let s3 = details.iter().find(|d| d.service_namespace() == "s3").unwrap();
    assert_eq!(s3.entity_path(), Some(format!("{org_id}/{root_id}/{ACCOUNT}").as_str()));
}

async fn only_the_management_account_asks_about_its_own_organization(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (org_id, root_id, ou_id, member, scp) = governed_member(&s).await;
    let iam = s.root_iam();
    let generate = |path: String| {
        let iam = iam.clone();
        async move {
            iam.generate_organizations_access_report()
                .entity_path(path)
                .send()
                .await
                .unwrap_err()
        }
    };
    // A path that is not where the entity is.
    let err = generate(format!("{org_id}/{root_id}/{member}")).await;
    assert_eq!(code(&err), "NoSuchEntity", "{}", message(&err));
    let err = generate(format!("{org_id}/{root_id}/ou-abcd-zzzzzzzz")).await;
    assert_eq!(code(&err), "NoSuchEntity");
    let err = generate(format!("o-zzzzzzzzzz/{root_id}/{ou_id}")).await;
    assert_eq!(code(&err), "AccessDenied");
    // The path as authorized names the entity, or nothing: a trailing `/` is no way around
    // a Deny on the exact report ARN.
    let err = generate(format!("{org_id}/{root_id}/{ou_id}/")).await;
    assert_eq!(code(&err), "NoSuchEntity");
    // A member account may not ask, however much its own policies allow.
    let inside = s.enter_member_account(&member).await;
    let err = s
        .iam_as_session(&inside)
        .generate_organizations_access_report()
        .entity_path(format!("{org_id}/{root_id}/{ou_id}"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    // A service report's job is no organizations report.
    let service_job = iam
        .generate_service_last_accessed_details()
        .arn(format!("arn:aws:iam::{ACCOUNT}:user/operator"))
        .send()
        .await
        .unwrap()
        .job_id
        .unwrap();
    let err = iam
        .get_organizations_access_report()
        .job_id(&service_job)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (code(&err), message(&err)),
        ("NoSuchEntity".to_owned(), format!("Job {service_job} does not exist."))
    );

    // A Deny on iam:OrganizationsPolicyId refuses a report on that SCP alone, and only that.
    let auditor = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Action":"iam:*OrganizationsAccessReport","Resource":"*"}},
            {{"Effect":"Deny","Action":"iam:GenerateOrganizationsAccessReport","Resource":"*",
              "Condition":{{"StringEquals":{{"iam:OrganizationsPolicyId":"{scp}"}}}}}}]}}"#
    );
    let (key, secret) = s.user_with_inline_policy("auditor", Some(&auditor)).await;
    let auditor = s.iam_as(&key, &secret, "us-east-1");
    let path = format!("{org_id}/{root_id}/{ou_id}");
    let err = auditor
        .generate_organizations_access_report()
        .entity_path(&path)
        .organizations_policy_id(&scp)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    assert!(message(&err).contains("explicit deny"), "{}", message(&err));
    assert!(
        message(&err).contains(&format!("arn:aws:iam::{ACCOUNT}:access-report/{path}")),
        "authorized on the report's ARN: {}",
        message(&err)
    );
    let job = auditor
        .generate_organizations_access_report()
        .entity_path(&path)
        .organizations_policy_id(FULL_AWS_ACCESS)
        .send()
        .await
        .unwrap()
        .job_id
        .unwrap();
    get_all(&auditor, &job, None).await;
}
