//! End to end: access advisor (GenerateServiceLastAccessedDetails, GetServiceLastAccessedDetails
//! and …WithEntities) with the AWS SDK for Rust — what users and role sessions really attempted,
//! allowed or not, reported per service and per tracked action for a user, a group, a role and a
//! managed policy; reports readable only by the principal that generated them.

use crate::common;

use aws_sdk_iam::types::{AccessAdvisorUsageGranularityType as Granularity, JobStatusType, ServiceLastAccessed};
use common::{ACCOUNT, TestServer, code, message};

on_both_backends!(
    a_user_report_lists_the_services_its_policies_allow_with_what_it_attempted,
    group_role_and_policy_reports_cover_the_members_sessions_and_holders,
    a_report_is_read_only_by_whoever_generated_it,
    bad_subjects_and_jobs_get_aws_errors,
);

fn allow(actions: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":{actions},"Resource":"*"}}]}}"#)
}

fn user_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/{name}")
}

async fn generate(iam: &aws_sdk_iam::Client, arn: &str, granularity: Granularity) -> String {
    iam.generate_service_last_accessed_details()
        .arn(arn)
        .granularity(granularity)
        .send()
        .await
        .unwrap()
        .job_id
        .unwrap()
}

async fn services(iam: &aws_sdk_iam::Client, job: &str) -> Vec<ServiceLastAccessed> {
    let out = iam
        .get_service_last_accessed_details()
        .job_id(job)
        .send()
        .await
        .unwrap();
    assert_eq!(out.job_status, JobStatusType::Completed);
    assert!(out.job_completion_date >= out.job_creation_date);
    assert!(!out.is_truncated);
    out.services_last_accessed
}

fn service<'a>(services: &'a [ServiceLastAccessed], namespace: &str) -> &'a ServiceLastAccessed {
    services
        .iter()
        .find(|s| s.service_namespace == namespace)
        .unwrap_or_else(|| panic!("{namespace} is not in the report"))
}

async fn a_user_report_lists_the_services_its_policies_allow_with_what_it_attempted(s: &TestServer) {
    let root = s.root_iam();
    let (key, secret) = s
        .user_with_inline_policy("dev", Some(&allow(r#"["s3:*","iam:GetUser","iam:ListUsers"]"#)))
        .await;
    // Attempts from the user, in eu-west-1: allowed ones, and one its policies deny.
    let iam = s.iam_as(&key, &secret, "eu-west-1");
    iam.get_user().send().await.unwrap();
    let denied = iam.create_user().user_name("nope").send().await.unwrap_err();
    assert_eq!(code(&denied), "AccessDenied");
    let s3 = s.s3_as(&key, &secret, None);
    s3.list_buckets().send().await.unwrap();
    s3.get_object()
        .bucket("no-such-bucket")
        .key("k")
        .send()
        .await
        .unwrap_err();

    let job = generate(&root, &user_arn("dev"), Granularity::ServiceLevel).await;
    let report = services(&root, &job).await;
    let namespaces: Vec<&str> = report.iter().map(|s| s.service_namespace.as_str()).collect();
    assert_eq!(
        namespaces,
        ["iam", "s3"],
        "the allowed services, by namespace, and no other"
    );
    let iam_row = service(&report, "iam");
    assert_eq!(iam_row.service_name, "AWS Identity and Access Management (IAM)");
    assert_eq!(
        iam_row.last_authenticated_entity.as_deref(),
        Some(user_arn("dev").as_str())
    );
    assert_eq!(iam_row.last_authenticated_region.as_deref(), Some("eu-west-1"));
    assert_eq!(iam_row.total_authenticated_entities, Some(1));
    assert!(iam_row.last_authenticated.is_some());
    assert!(
        iam_row.tracked_actions_last_accessed.is_none(),
        "SERVICE_LEVEL lists no actions"
    );
    assert_eq!(service(&report, "s3").total_authenticated_entities, Some(1));

    let job = generate(&root, &user_arn("dev"), Granularity::ActionLevel).await;
    let out = root
        .get_service_last_accessed_details()
        .job_id(&job)
        .send()
        .await
        .unwrap();
    assert_eq!(out.job_type, Some(Granularity::ActionLevel));
    let actions = |namespace: &str| -> Vec<(String, bool)> {
        service(&out.services_last_accessed, namespace)
            .tracked_actions_last_accessed()
            .iter()
            .map(|a| (a.action_name().unwrap().to_owned(), a.last_accessed_time.is_some()))
            .collect()
    };
    // The tracked actions the policies allow, used or not; the denied CreateUser is no
    // allowed action, though it counts as an attempt of the service.
    assert_eq!(
        actions("iam"),
        [("GetUser".to_owned(), true), ("ListUsers".to_owned(), false)]
    );
    let s3_actions = actions("s3");
    assert!(
        s3_actions.contains(&("ListAllMyBuckets".to_owned(), true)),
        "{s3_actions:?}"
    );
    assert!(s3_actions.contains(&("CreateBucket".to_owned(), false)));
    assert!(
        !s3_actions
            .iter()
            .any(|(name, _)| name == "GetObject" || name == "ListBucket"),
        "object-level actions and listings are data events, not tracked: {s3_actions:?}"
    );

    // Nothing attempted yet by a new user: its allowed services are listed without dates.
    s.user_with_inline_policy("idle", Some(&allow(r#""ec2:Describe*""#)))
        .await;
    let job = generate(&root, &user_arn("idle"), Granularity::ServiceLevel).await;
    let report = services(&root, &job).await;
    assert_eq!(report.len(), 1);
    assert_eq!(report[0].service_namespace, "ec2");
    assert_eq!(report[0].service_name, "Amazon EC2");
    assert!(report[0].last_authenticated.is_none() && report[0].last_authenticated_entity.is_none());
    assert_eq!(report[0].total_authenticated_entities, Some(0));
}

async fn group_role_and_policy_reports_cover_the_members_sessions_and_holders(s: &TestServer) {
    let root = s.root_iam();
    let reader = root
        .create_policy()
        .policy_name("reader")
        .policy_document(allow(r#"["s3:ListAllMyBuckets","sts:GetCallerIdentity"]"#))
        .send()
        .await
        .unwrap()
        .policy
        .unwrap()
        .arn
        .unwrap();
    root.create_group().group_name("ops").send().await.unwrap();
    root.attach_group_policy()
        .group_name("ops")
        .policy_arn(&reader)
        .send()
        .await
        .unwrap();
    let (key, secret) = s
        .user_with_inline_policy("active", Some(&allow(r#""sts:AssumeRole""#)))
        .await;
    s.user_with_inline_policy("quiet", None).await;
    for user in ["active", "quiet"] {
        root.add_user_to_group()
            .group_name("ops")
            .user_name(user)
            .send()
            .await
            .unwrap();
    }
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"sts:AssumeRole"}}]}}"#,
        user_arn("active")
    );
    root.create_role()
        .role_name("deployer")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    root.attach_role_policy()
        .role_name("deployer")
        .policy_arn(&reader)
        .send()
        .await
        .unwrap();

    s.s3_as(&key, &secret, None).list_buckets().send().await.unwrap();
    let session = s
        .sts_as(&key, &secret, "us-west-2")
        .assume_role()
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/deployer"))
        .role_session_name("ci")
        .send()
        .await
        .unwrap()
        .credentials
        .unwrap();
    s.s3_as_session(&session).list_buckets().send().await.unwrap();

    // AssumeRole is decided with the role's trust policy, not by `authorize`: an attempt
    // of STS all the same.
    let job = generate(&root, &user_arn("active"), Granularity::ServiceLevel).await;
    let sts = services(&root, &job).await;
    let sts = service(&sts, "sts");
    assert_eq!(sts.last_authenticated_region.as_deref(), Some("us-west-2"));
    assert_eq!(sts.total_authenticated_entities, Some(1));

    // The group: its members' attempts; the one who attempted first in WithEntities.
    let job = generate(
        &root,
        &format!("arn:aws:iam::{ACCOUNT}:group/ops"),
        Granularity::ServiceLevel,
    )
    .await;
    let report = services(&root, &job).await;
    let namespaces: Vec<&str> = report.iter().map(|s| s.service_namespace.as_str()).collect();
    assert_eq!(namespaces, ["s3", "sts"]);
    assert_eq!(service(&report, "s3").total_authenticated_entities, Some(1));
    assert_eq!(
        service(&report, "s3").last_authenticated_entity.as_deref(),
        Some(user_arn("active").as_str())
    );
    let entities = root
        .get_service_last_accessed_details_with_entities()
        .job_id(&job)
        .service_namespace("s3")
        .send()
        .await
        .unwrap()
        .entity_details_list;
    let listed: Vec<(&str, bool)> = entities
        .iter()
        .map(|e| (e.entity_info().unwrap().name(), e.last_authenticated.is_some()))
        .collect();
    assert_eq!(listed, [("active", true), ("quiet", false)]);

    // The role: its sessions' attempts, in the session's region.
    let job = generate(
        &root,
        &format!("arn:aws:iam::{ACCOUNT}:role/deployer"),
        Granularity::ServiceLevel,
    )
    .await;
    let report = services(&root, &job).await;
    let s3 = service(&report, "s3");
    assert_eq!(
        s3.last_authenticated_entity.as_deref(),
        Some(format!("arn:aws:iam::{ACCOUNT}:role/deployer").as_str())
    );
    assert_eq!(s3.total_authenticated_entities, Some(1));

    // The policy: every user and role holding it, directly or through a group.
    let job = generate(&root, &reader, Granularity::ServiceLevel).await;
    let report = services(&root, &job).await;
    assert_eq!(service(&report, "s3").total_authenticated_entities, Some(2));
    let entities = root
        .get_service_last_accessed_details_with_entities()
        .job_id(&job)
        .service_namespace("s3")
        .max_items(2)
        .send()
        .await
        .unwrap();
    assert!(entities.is_truncated);
    let next = root
        .get_service_last_accessed_details_with_entities()
        .job_id(&job)
        .service_namespace("s3")
        .marker(entities.marker.unwrap())
        .send()
        .await
        .unwrap();
    let mut names: Vec<&str> = entities
        .entity_details_list
        .iter()
        .chain(&next.entity_details_list)
        .map(|e| e.entity_info().unwrap().name())
        .collect();
    assert_eq!(next.entity_details_list.len(), 1);
    assert!(
        next.entity_details_list[0].last_authenticated.is_none(),
        "the quiet member last"
    );
    names.sort_unstable();
    assert_eq!(names, ["active", "deployer", "quiet"]);
}

async fn a_report_is_read_only_by_whoever_generated_it(s: &TestServer) {
    let root = s.root_iam();
    let advisor = allow(r#"["iam:GenerateServiceLastAccessedDetails","iam:GetServiceLastAccessedDetails*"]"#);
    let (key, secret) = s.user_with_inline_policy("auditor", Some(&advisor)).await;
    let auditor = s.iam_as(&key, &secret, "us-east-1");
    let roots_job = generate(&root, &user_arn("auditor"), Granularity::ServiceLevel).await;
    let err = auditor
        .get_service_last_accessed_details()
        .job_id(&roots_job)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    assert_eq!(message(&err), format!("Job {roots_job} does not exist."));
    let err = auditor
        .get_service_last_accessed_details_with_entities()
        .job_id(&roots_job)
        .service_namespace("iam")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    // Its own report it reads, and it lists the auditor's own attempts.
    let own = generate(&auditor, &user_arn("auditor"), Granularity::ServiceLevel).await;
    let report = services(&auditor, &own).await;
    assert!(service(&report, "iam").last_authenticated.is_some());

    // A role session's report is that session's: another session of the same role, under
    // the same session name, gets NoSuchEntity.
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    root.create_role()
        .role_name("advisor")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    root.put_role_policy()
        .role_name("advisor")
        .policy_name("advisor")
        .policy_document(&advisor)
        .send()
        .await
        .unwrap();
    let assumer = allow(r#""sts:AssumeRole""#);
    let (key, secret) = s.user_with_inline_policy("assumer", Some(&assumer)).await;
    let sts = s.sts_as(&key, &secret, "us-east-1");
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let credentials = sts
            .assume_role()
            .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/advisor"))
            .role_session_name("same-name")
            .send()
            .await
            .unwrap()
            .credentials
            .unwrap();
        sessions.push(s.iam_as_session(&credentials));
    }
    let job = generate(&sessions[0], &user_arn("auditor"), Granularity::ServiceLevel).await;
    services(&sessions[0], &job).await;
    let err = sessions[1]
        .get_service_last_accessed_details()
        .job_id(&job)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    // A user whose policies do not allow Generate on the subject is refused before anything.
    let (key, secret) = s.user_with_inline_policy("nobody", None).await;
    let err = s
        .iam_as(&key, &secret, "us-east-1")
        .generate_service_last_accessed_details()
        .arn(user_arn("auditor"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
}

async fn bad_subjects_and_jobs_get_aws_errors(s: &TestServer) {
    let root = s.root_iam();
    let generate_err = |arn: String| {
        let root = root.clone();
        async move {
            root.generate_service_last_accessed_details()
                .arn(arn)
                .send()
                .await
                .unwrap_err()
        }
    };
    let missing = user_arn("ghost");
    let err = generate_err(missing.clone()).await;
    assert_eq!(
        (code(&err), message(&err)),
        ("NoSuchEntity".into(), format!("ARN {missing} does not exist."))
    );
    let policy = format!("arn:aws:iam::{ACCOUNT}:policy/ghost");
    let err = generate_err(policy.clone()).await;
    assert_eq!(
        (code(&err), message(&err)),
        ("NoSuchEntity".into(), format!("ARN {policy} does not exist."))
    );
    let root_arn = format!("arn:aws:iam::{ACCOUNT}:root");
    let err = generate_err(root_arn.clone()).await;
    assert_eq!(
        (code(&err), message(&err)),
        (
            "InvalidInput".into(),
            format!("Invalid Entity Arn: {root_arn} is not supported.")
        )
    );
    let err = generate_err(format!("arn:aws:s3:::{ACCOUNT}-bucket-name")).await;
    assert_eq!(
        (code(&err), message(&err)),
        ("ValidationError".into(), "Invalid service in ARN".into())
    );
    let err = generate_err(format!("arn:aws-cn:iam::{ACCOUNT}:user/dev")).await;
    assert_eq!(
        (code(&err), message(&err)),
        ("ValidationError".into(), "Invalid ARN partition".into())
    );

    let unknown = "00000000-0000-0000-0000-000000000000";
    let err = root
        .get_service_last_accessed_details()
        .job_id(unknown)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (code(&err), message(&err)),
        ("NoSuchEntity".into(), format!("Job {unknown} does not exist."))
    );
    // An AWS managed policy's report: only this account's holders (none here).
    // Pages of 100 by default, in namespace order across pages.
    let job = generate(
        &root,
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        Granularity::ServiceLevel,
    )
    .await;
    let first = root
        .get_service_last_accessed_details()
        .job_id(&job)
        .send()
        .await
        .unwrap();
    assert_eq!(first.services_last_accessed.len(), 100);
    assert!(first.is_truncated);
    let rest = root
        .get_service_last_accessed_details()
        .job_id(&job)
        .marker(first.marker.unwrap())
        .max_items(1000)
        .send()
        .await
        .unwrap();
    assert!(!rest.is_truncated);
    let report: Vec<_> = first
        .services_last_accessed
        .into_iter()
        .chain(rest.services_last_accessed)
        .collect();
    assert!(
        report.len() > 300,
        "ReadOnlyAccess reaches most services: {}",
        report.len()
    );
    assert!(
        report
            .windows(2)
            .all(|w| w[0].service_namespace < w[1].service_namespace)
    );
    assert!(report.iter().all(|s| s.total_authenticated_entities == Some(0)));
    let err = root
        .get_service_last_accessed_details_with_entities()
        .job_id(&job)
        .service_namespace("no-such-service")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (code(&err), message(&err)),
        (
            "InvalidInput".into(),
            "Service namepace no-such-service is either invalid or unsupported.".into()
        )
    );
    let err = root
        .get_service_last_accessed_details()
        .job_id(&job)
        .marker("not-a-marker")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidInput");
    // A marker is good only for the job and the listing it came from.
    let marker = root
        .get_service_last_accessed_details()
        .job_id(&job)
        .max_items(1)
        .send()
        .await
        .unwrap()
        .marker
        .unwrap();
    let other_job = generate(
        &root,
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        Granularity::ServiceLevel,
    )
    .await;
    let err = root
        .get_service_last_accessed_details()
        .job_id(&other_job)
        .marker(&marker)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (code(&err), message(&err)),
        (
            "InvalidInput".into(),
            "The marker passed in the request was invalid.".into()
        )
    );
    let err = root
        .get_service_last_accessed_details_with_entities()
        .job_id(&job)
        .service_namespace("s3")
        .marker(&marker)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidInput");
}
