//! Checks of the generated catalogue as a whole and of a few well-known policies.

use oxiam_aws_policies::{ARN_PREFIX, AwsManagedPolicy, all, by_arn, by_name};
use serde_json::Value;

fn document(p: &AwsManagedPolicy) -> Value {
    serde_json::from_str(p.document).unwrap_or_else(|e| panic!("{}: document is not JSON: {e}", p.name))
}

#[test]
fn catalogue_is_large_sorted_and_unique() {
    let policies = all();
    assert!(policies.len() > 1000, "only {} policies", policies.len());
    for pair in policies.windows(2) {
        assert!(
            pair[0].name.as_bytes() < pair[1].name.as_bytes(),
            "not strictly sorted: {} then {}",
            pair[0].name,
            pair[1].name
        );
    }
    // IAM names are unique without regard to case, and so are ids.
    let mut lower: Vec<String> = policies.iter().map(|p| p.name.to_ascii_lowercase()).collect();
    lower.sort();
    lower.dedup();
    assert_eq!(lower.len(), policies.len());
    let mut ids: Vec<&str> = policies.iter().map(|p| p.policy_id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), policies.len());
}

#[test]
fn every_entry_is_well_formed_and_findable() {
    for p in all() {
        assert_eq!(p.arn, format!("{ARN_PREFIX}{}{}", p.path, p.name));
        assert!(
            p.path.starts_with('/') && p.path.ends_with('/'),
            "{}: path {}",
            p.name,
            p.path
        );
        assert!(!p.name.is_empty() && !p.name.contains('/'), "{}", p.name);
        assert_eq!(p.policy_id.len(), 21, "{}", p.name);
        assert!(p.policy_id.starts_with("ANPA"), "{}", p.name);
        assert!(
            p.policy_id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
            "{}: {}",
            p.name,
            p.policy_id
        );
        let v = p
            .default_version_id
            .strip_prefix('v')
            .expect("version id starts with v");
        assert!(
            v.parse::<u32>().is_ok_and(|n| n >= 1),
            "{}: {}",
            p.name,
            p.default_version_id
        );
        // 2015-01-01 .. 2100-01-01
        assert!(
            p.create_date > 1_420_070_400 && p.create_date < 4_102_444_800,
            "{}",
            p.name
        );
        assert!(p.update_date >= p.create_date, "{}", p.name);
        assert!(p.is_attachable, "{}", p.name);
        assert_eq!(by_name(p.name), Some(p));
        assert_eq!(by_arn(p.arn), Some(p));
    }
}

#[test]
fn every_document_is_a_compact_policy() {
    for p in all() {
        let doc = document(p);
        assert_eq!(doc["Version"], "2012-10-17", "{}", p.name);
        let statement = &doc["Statement"];
        assert!(
            statement.is_array() || statement.is_object(),
            "{}: no Statement",
            p.name
        );
        // Compact: re-serialising (serde_json keeps no whitespace) gives the same length.
        assert_eq!(
            serde_json::to_string(&doc).unwrap().len(),
            p.document.len(),
            "{}",
            p.name
        );
    }
}

#[test]
fn administrator_access() {
    let p = by_name("AdministratorAccess").unwrap();
    assert_eq!(p.path, "/");
    assert_eq!(p.arn, "arn:aws:iam::aws:policy/AdministratorAccess");
    assert_eq!(p.default_version_id, "v1");
    assert_eq!(p.create_date, 1_423_247_986); // 2015-02-06T18:39:46Z
    assert_eq!(
        p.document,
        r#"{"Statement":[{"Action":"*","Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}"#
    );
    assert_eq!(by_arn("arn:aws:iam::aws:policy/AdministratorAccess"), Some(p));
    assert_eq!(by_arn("arn:aws:iam::aws:policy/job-function/AdministratorAccess"), None);
}

#[test]
fn s3_read_only_access() {
    let p = by_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess").unwrap();
    assert_eq!(p.path, "/");
    let doc = document(p);
    let statements = doc["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1);
    let s = &statements[0];
    assert_eq!(s["Effect"], "Allow");
    assert_eq!(s["Resource"], "*");
    let actions: Vec<&str> = s["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "s3:Get*",
            "s3:List*",
            "s3:Describe*",
            "s3-object-lambda:Get*",
            "s3-object-lambda:List*"
        ]
    );
}

#[test]
fn lambda_basic_execution_role_is_a_service_role() {
    let arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
    let p = by_arn(arn).unwrap();
    assert_eq!(p.name, "AWSLambdaBasicExecutionRole");
    assert_eq!(p.path, "/service-role/");
    assert_eq!(p.arn, arn);
    assert_eq!(by_name("AWSLambdaBasicExecutionRole"), Some(p));
    assert_eq!(by_arn("arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole"), None);
    let doc = document(p);
    let actions = &doc["Statement"][0]["Action"];
    assert_eq!(
        actions,
        &serde_json::json!(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"])
    );
}

#[test]
fn unknown_names_and_arns() {
    assert_eq!(by_name("NoSuchPolicy"), None);
    assert_eq!(by_name(""), None);
    assert_eq!(by_name("administratoraccess"), None);
    assert_eq!(by_arn("arn:aws:iam::aws:policy/NoSuchPolicy"), None);
}
