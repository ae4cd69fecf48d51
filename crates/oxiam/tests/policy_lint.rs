//! `oxiam policy lint` as a command: the findings of each file in the three formats, and exit
//! codes that fit CI (0 clean, 1 a finding at or above --fail-on, 2 a file that cannot be read).

use std::process::{Command, Output};

fn lint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oxiam"))
        .args(["policy", "lint"])
        .args(args)
        .output()
        .unwrap()
}

fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

const CLEAN: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
const SUGGESTION_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
const BROKEN: &str = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:Frob\", \"Resource\": \"*\"}]\n}\n";

#[test]
fn exit_codes_follow_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    let clean = file(&dir, "clean.json", CLEAN);
    let suggestion = file(&dir, "suggestion.json", SUGGESTION_ONLY);
    let out = lint(&[&clean]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(out.stdout.is_empty());
    // A suggestion prints, and fails only when suggestions are asked to.
    let out = lint(&[&suggestion]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("SUGGESTION EMPTY_SID_VALUE"));
    assert_eq!(lint(&["--fail-on", "suggestion", &suggestion]).status.code(), Some(1));
    // An unreadable file is no finding: 2, after the others' findings.
    let out = lint(&["/no/such/policy.json", &suggestion]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/policy.json"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("EMPTY_SID_VALUE"));
}

/// `--resource-type`: a bucket policy read as one, with Access Analyzer's type names; a type
/// it does not validate for, or one given for an identity policy, is a usage error (2).
#[test]
fn resource_type_checks_a_bucket_policy_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let policy = file(
        &dir,
        "bucket.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:Decrypt","Resource":"arn:aws:s3:::b/*"}]}"#,
    );
    let out = lint(&["--policy-type", "resource", &policy]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let out = lint(&[
        "--policy-type",
        "resource",
        "--resource-type",
        "AWS::S3::Bucket",
        &policy,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "ERROR UNSUPPORTED_ACTION_IN_POLICY: The action kms:Decrypt is not supported for the resource-based \
             policy attached to the resource type S3 Bucket."
        ),
        "{stdout}"
    );
    assert_eq!(
        lint(&["--policy-type", "resource", "--resource-type", "AWS::KMS::Key", &policy])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        lint(&["--resource-type", "AWS::S3::Bucket", &policy]).status.code(),
        Some(2)
    );
}

/// `--account`: a resource policy's grant to another account is a security warning.
#[test]
fn account_reports_grants_to_other_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let policy = file(
        &dir,
        "bucket.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
    );
    let out = lint(&["--policy-type", "resource", "--account", "123456789012", &policy]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("SECURITY_WARNING OXIAM_CROSS_ACCOUNT_ACCESS"),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(0), "a warning is below --fail-on error");
    let own = lint(&["--policy-type", "resource", "--account", "111122223333", &policy]);
    assert!(own.stdout.is_empty(), "{}", String::from_utf8_lossy(&own.stdout));
    assert_eq!(
        lint(&["--policy-type", "resource", "--account", "12345", &policy])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn text_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let broken = file(&dir, "broken.json", BROKEN);
    let out = lint(&[&broken]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Line 3; the action's opening quote is the 47th character of it.
    assert!(
        stdout.contains(&format!(
            "{broken}:3:47: ERROR INVALID_ACTION: The action s3:Frob does not exist."
        )),
        "{stdout}"
    );
}

#[test]
fn json_is_validate_policy_findings_and_sarif_is_sarif() {
    let dir = tempfile::tempdir().unwrap();
    let broken = file(&dir, "broken.json", BROKEN);
    let out = lint(&["--format", "json", &broken]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let finding = report[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["issueCode"] == "INVALID_ACTION")
        .unwrap();
    assert_eq!(finding["findingType"], "ERROR");
    let location = &finding["locations"][0];
    assert_eq!(
        location["path"],
        serde_json::json!([{"value": "Statement"}, {"index": 0}, {"value": "Action"}])
    );
    assert_eq!(
        location["span"]["start"],
        serde_json::json!({"line": 3, "column": 46, "offset": 75})
    );
    let offset = location["span"]["start"]["offset"].as_u64().unwrap() as usize;
    assert_eq!(&BROKEN[offset..offset + 9], "\"s3:Frob\"");

    let out = lint(&["--format", "sarif", &broken]);
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "INVALID_ACTION");
    assert_eq!(result["level"], "error");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startColumn"], 47,
        "SARIF columns count from 1"
    );
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().any(|r| r["id"] == "INVALID_ACTION"));
}

/// `oxiam policy diff OLD NEW`: exit 0 with no new access, 1 with a witness it prints, 3
/// when neither can be shown, 2 when a file cannot be read.
#[test]
fn diff_exit_codes_and_witness() {
    let diff = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_oxiam"))
            .args(["policy", "diff"])
            .args(args)
            .output()
            .unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let old = file(&dir, "old.json", CLEAN);
    let wider = file(
        &dir,
        "wider.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::*"}]}"#,
    );
    let variable = file(
        &dir,
        "variable.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:userid}"}]}"#,
    );
    let out = diff(&[&old, &old]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("no new access"));
    let out = diff(&[&old, &wider]);
    let printed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert!(printed.contains("allows s3:GetObject on arn:aws:s3:::x"), "{printed}");
    // Within b/*, but a variable no proof reads, and no request the search builds tells.
    let out = diff(&[&old, &variable]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(diff(&[&old, "/no/such/policy.json"]).status.code(), Some(2));
}
