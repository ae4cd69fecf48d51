//! `oxiam policy eval` decides from files with the server's engine, says why, and tells
//! scripts the answer by its exit code (0 allowed, 2 denied, 1 unusable input).

use std::process::Command;

fn eval(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_oxiam"))
        .current_dir(dir)
        .arg("policy")
        .arg("eval")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn allows_denies_and_explains() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("read.json"),
        r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
            {"Sid":"NoSecrets","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::b/secret/*"}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("boundary.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:List*","Resource":"*"}]}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.json"), r#"{"Version":"2012-10-17"}"#).unwrap();

    let (code, out) = eval(
        dir.path(),
        &[
            "--policy",
            "read.json",
            "--action",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::b/k",
            "--context",
            "aws:SourceIp=10.1.2.3",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("Allowed: s3:GetObject on arn:aws:s3:::b/k by statement 1 (Sid Read) of read.json"),
        "{out}"
    );

    let (code, out) = eval(
        dir.path(),
        &[
            "--policy",
            "read.json",
            "--action",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::b/k",
        ],
    );
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("because no identity-based policy allows the s3:GetObject action"),
        "{out}"
    );

    let (code, out) = eval(
        dir.path(),
        &[
            "--policy",
            "read.json",
            "--action",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::b/secret/x",
            "--context",
            "aws:SourceIp=10.1.2.3",
        ],
    );
    assert_eq!(code, 2, "{out}");
    assert!(
        out.starts_with("ExplicitDeny: statement 2 (Sid NoSecrets) of read.json"),
        "{out}"
    );

    let (code, out) = eval(
        dir.path(),
        &[
            "--policy",
            "read.json",
            "--boundary",
            "boundary.json",
            "--action",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::b/k",
            "--context",
            "aws:SourceIp=10.1.2.3",
        ],
    );
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("because no permissions boundary allows the s3:GetObject action"),
        "{out}"
    );

    let (code, out) = eval(dir.path(), &["--policy", "broken.json", "--action", "s3:GetObject"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("MalformedPolicyDocument"), "{out}");
}

/// The principal's own keys come from `--principal` as the server sets them: a
/// `${aws:username}` policy the server allows is allowed here without `--context`, and
/// GetCallerIdentity is allowed whatever the policies say, as on the server.
#[test]
fn the_principal_brings_its_own_keys() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("home.json"),
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"},
            {"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalType":"AssumedRole","aws:PrincipalArn":"arn:aws:iam::123456789012:role/ops"}}},
            {"Effect":"Deny","Action":"sts:*","Resource":"*"}]}"#,
    )
    .unwrap();
    let user = "arn:aws:iam::123456789012:user/team/alice";
    let (code, out) = eval(
        dir.path(),
        &[
            "--policy",
            "home.json",
            "--principal",
            user,
            "--action",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::home/alice/x",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = eval(
        dir.path(),
        &[
            "--policy",
            "home.json",
            "--principal",
            user,
            "--action",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::home/bob/x",
        ],
    );
    assert_eq!(code, 2, "{out}");
    let session = "arn:aws:sts::123456789012:assumed-role/ops/s1";
    let (code, out) = eval(
        dir.path(),
        &[
            "--policy",
            "home.json",
            "--principal",
            session,
            "--action",
            "s3:ListBucket",
            "--resource",
            "arn:aws:s3:::home",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = eval(
        dir.path(),
        &[
            "--policy",
            "home.json",
            "--principal",
            user,
            "--action",
            "sts:GetCallerIdentity",
            "--resource",
            "*",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = eval(
        dir.path(),
        &[
            "--policy",
            "home.json",
            "--principal",
            user,
            "--action",
            "sts:AssumeRole",
            "--resource",
            "*",
        ],
    );
    assert_eq!(code, 2, "{out}");
}
