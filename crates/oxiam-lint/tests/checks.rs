//! Every check, from a table: a policy that triggers it and a near miss that does not. The
//! near miss differs as little as possible, so that a check firing on everything, or on
//! nothing, fails here.

use oxiam_lint::{Finding, FindingType, Options, PathElement, PolicyType, ResourceType, validate, validate_for};

struct Case {
    code: &'static str,
    policy_type: PolicyType,
    triggers: &'static str,
    near_miss: &'static str,
}

const ID: PolicyType = PolicyType::Identity;
const RES: PolicyType = PolicyType::Resource;

const CASES: &[Case] = &[
    Case {
        code: "JSON_SYNTAX_ERROR",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
    },
    Case {
        code: "MISSING_VERSION",
        policy_type: ID,
        triggers: r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
    },
    Case {
        code: "INVALID_VERSION",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-18","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
        near_miss: r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
    },
    Case {
        code: "VARIABLE_UNSUPPORTED_IN_VERSION",
        policy_type: ID,
        triggers: r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"}]}"#,
    },
    Case {
        code: "MISSING_STATEMENT",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17"}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[]}"#,
    },
    Case {
        code: "MISSING_EFFECT",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Action":"s3:GetObject","Resource":"*"}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}"#,
    },
    Case {
        code: "INVALID_EFFECT",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Denys","Action":"s3:GetObject","Resource":"*"}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}"#,
    },
    Case {
        code: "MISSING_ACTION",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}"#,
    },
    Case {
        code: "MISSING_RESOURCE",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetObject","NotResource":"arn:aws:s3:::b/*"}]}"#,
    },
    Case {
        code: "UNSUPPORTED_ELEMENT_COMBINATION",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetObject","NotAction":"s3:PutObject","Resource":"*"}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":"s3:PutObject","Resource":"*"}]}"#,
    },
    Case {
        code: "INVALID_SERVICE_IN_ACTION",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s4:GetObject","Resource":"*"}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
    },
    Case {
        code: "INVALID_ACTION",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:DescribeInstances","ec2:Frobnicate*"],"Resource":"*"}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:DescribeInstances","ec2:Describe*"],"Resource":"*"}]}"#,
    },
    Case {
        code: "INVALID_SERVICE",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"s4:prefix":"a"}}}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringEquals":{"s3:prefix":"a"}}}]}"#,
    },
    Case {
        code: "INVALID_SERVICE_CONDITION_KEY",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringEquals":{"s3:prefixes":"a"}}}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringEquals":{"s3:prefix":"a"}}}]}"#,
    },
    Case {
        code: "INVALID_CONDITION_KEY_FORMAT",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringEquals":{"prefix":"a"}}}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringEquals":{"s3:prefix":"a"}}}]}"#,
    },
    Case {
        code: "UNSUPPORTED_ACTION_FOR_CONDITION_KEY",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:ListBucket","s3:GetObject"],"Resource":"*","Condition":{"StringEquals":{"s3:prefix":"a"}}}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:ListBucket","s3:ListBucketVersions"],"Resource":"*","Condition":{"StringEquals":{"s3:prefix":"a"}}}]}"#,
    },
    Case {
        code: "TYPE_MISMATCH",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"DateGreaterThan":{"s3:prefix":"2020-01-01"}}}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringLike":{"s3:prefix":"2020-*"}}}]}"#,
    },
    Case {
        code: "OXIAM_IF_EXISTS_ON_ALWAYS_PRESENT_KEY",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"BoolIfExists":{"aws:SecureTransport":"false"}}}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#,
    },
    Case {
        code: "EMPTY_OBJECT_CONDITION",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{}}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
    },
    Case {
        code: "OXIAM_RESOURCE_MATCHES_NO_RESOURCE_TYPE",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket"}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]}"#,
    },
    Case {
        code: "OXIAM_ALLOW_WITH_NOT_ACTION",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":"iam:*","Resource":"*"}]}"#,
    },
    Case {
        code: "OXIAM_ALLOW_WITH_NOT_RESOURCE",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::secret/*"}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetObject","NotResource":"arn:aws:s3:::secret/*"}]}"#,
    },
    Case {
        code: "PASS_ROLE_WITH_STAR_IN_RESOURCE",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::123456789012:role/app"}]}"#,
    },
    Case {
        code: "PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:Get*","Resource":"*"}]}"#,
    },
    Case {
        code: "REDUNDANT_ACTION",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:GetCredentialReport"],"Resource":"*"}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:*CredentialReport"],"Resource":"*"}]}"#,
    },
    Case {
        code: "REDUNDANT_STATEMENT",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#,
    },
    Case {
        code: "EMPTY_SID_VALUE",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Sid":"","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
    },
    Case {
        code: "UNIQUE_SIDS_REQUIRED",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Sid":"A","Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Sid":"B","Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#,
    },
    Case {
        code: "UNIQUE_SIDS_RECOMMENDED",
        policy_type: RES,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},{"Sid":"A","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},{"Sid":"B","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}]}"#,
    },
    Case {
        code: "OXIAM_WILDCARD_GRANTS_PERMISSIONS_MANAGEMENT",
        policy_type: ID,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:Put*","Resource":"*"}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:PutUserPolicy"],"Resource":"*"}]}"#,
    },
    Case {
        code: "OXIAM_PUBLIC_ACCESS",
        policy_type: RES,
        triggers: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
        near_miss: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abcdefghij"}}}]}"#,
    },
];

/// The checks of a resource policy against the resource it is for (`validatePolicyResourceType`):
/// code, resource type, a policy that triggers it, a near miss.
const RESOURCE_TYPE_CASES: &[(&str, &str, &str, &str)] = &[
    (
        "UNSUPPORTED_ACTION_IN_POLICY",
        "AWS::S3::Bucket",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:Decrypt","Resource":"arn:aws:s3:::b/*"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
    ),
    (
        // S3's own, but of no bucket or object: an account's list of buckets.
        "UNSUPPORTED_ACTION_IN_POLICY",
        "AWS::S3::Bucket",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:ListAllMyBuckets","Resource":"arn:aws:s3:::b"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:List*","Resource":"arn:aws:s3:::b"}]}"#,
    ),
    (
        "UNSUPPORTED_ACTION_IN_POLICY",
        "AWS::IAM::AssumeRolePolicyDocument",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:GetCallerIdentity"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#,
    ),
    (
        "UNSUPPORTED_RESOURCE_ARN_IN_POLICY",
        "AWS::S3::Bucket",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"*"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::*/*"}]}"#,
    ),
    (
        "UNSUPPORTED_RESOURCE_ARN_IN_POLICY",
        "AWS::S3::AccessPoint",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:us-east-1:123456789012:accesspoint/ap/object/*"}]}"#,
    ),
    (
        "UNSUPPORTED_RESOURCE_ARN_IN_POLICY",
        "AWS::DynamoDB::Table",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"dynamodb:GetItem","Resource":"arn:aws:kms:us-east-1:123456789012:key/k"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:us-east-1:123456789012:table/t"}]}"#,
    ),
    (
        "MISSING_RESOURCE",
        "AWS::S3::Bucket",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","NotResource":"arn:aws:s3:::b/public/*"}]}"#,
    ),
    (
        "ROLE_TRUST_POLICY_SYNTAX_ERROR_RESOURCE",
        "AWS::IAM::AssumeRolePolicyDocument",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
    ),
    (
        "ROLE_TRUST_POLICY_SYNTAX_ERROR_NOTPRINCIPAL",
        "AWS::IAM::AssumeRolePolicyDocument",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
    ),
    (
        "ROLE_TRUST_POLICY_UNSUPPORTED_WILDCARD_IN_PRINCIPAL",
        "AWS::IAM::AssumeRolePolicyDocument",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abcdefghij"}}}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abcdefghij"}}}]}"#,
    ),
];

/// Each resource-type check fires on its case and not on the near miss, and only when the
/// resource type is given: a resource policy validated for no type runs the general checks.
#[test]
fn each_resource_type_check_fires_on_its_case_and_not_on_the_near_miss() {
    let mut failures = Vec::new();
    for (code, type_name, triggers, near_miss) in RESOURCE_TYPE_CASES {
        let resource_type = ResourceType::from_name(type_name);
        assert!(resource_type.is_some(), "{type_name}");
        let hit = validate_for(triggers, RES, &with_type(resource_type));
        if !codes(&hit).contains(code) {
            failures.push(format!("{code} ({type_name}): not found in {:?}", codes(&hit)));
        }
        let miss = validate_for(near_miss, RES, &with_type(resource_type));
        if codes(&miss).contains(code) {
            failures.push(format!(
                "{code} ({type_name}): also on the near miss ({:?})",
                codes(&miss)
            ));
        }
        if codes(&validate(triggers, RES)).contains(code) {
            failures.push(format!("{code} ({type_name}): also without the resource type"));
        }
        // With another policy type the resource type is not read.
        if *code != "MISSING_RESOURCE" && codes(&validate_for(triggers, ID, &with_type(resource_type))).contains(code) {
            failures.push(format!("{code} ({type_name}): also for an identity policy"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn a_clean_bucket_policy_and_trust_policy_have_no_finding() {
    let bucket = r#"{"Version":"2012-10-17","Statement":[
      {"Sid":"Read","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/reader"},
       "Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::reports","arn:aws:s3:::reports/*"]}]}"#;
    assert_eq!(
        validate_for(bucket, RES, &with_type(ResourceType::from_name("AWS::S3::Bucket"))),
        Vec::new()
    );
    let trust = r#"{"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#;
    assert_eq!(
        validate_for(
            trust,
            RES,
            &with_type(ResourceType::from_name("AWS::IAM::AssumeRolePolicyDocument"))
        ),
        Vec::new()
    );
}

fn with_type(resource_type: Option<ResourceType>) -> Options<'static> {
    Options {
        resource_type,
        ..Options::default()
    }
}

/// A resource policy's grant to another account is reported when the policy's account is
/// known, at each such principal; the account's own principals, services and `*` (the public
/// check's) are not.
#[test]
fn grants_to_other_accounts_are_reported_when_the_account_is_known() {
    let policy = r#"{"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:root","111122223333",
        "arn:aws:iam::444455556666:role/auditor"],"Service":"logging.s3.amazonaws.com"},
       "Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
      {"Effect":"Deny","Principal":{"AWS":"777788889999"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"}]}"#;
    let own = Options {
        account: Some("123456789012"),
        ..Options::default()
    };
    let found: Vec<(String, Vec<PathElement>)> = validate_for(policy, RES, &own)
        .into_iter()
        .filter(|f| f.issue_code == "OXIAM_CROSS_ACCOUNT_ACCESS")
        .map(|f| (f.details, f.locations[0].path.clone()))
        .collect();
    let at = |i: usize| {
        vec![
            PathElement::Value("Statement".to_owned()),
            PathElement::Index(0),
            PathElement::Value("Principal".to_owned()),
            PathElement::Value("AWS".to_owned()),
            PathElement::Index(i),
        ]
    };
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].0.contains("111122223333") && found[0].1 == at(1), "{found:?}");
    assert!(found[1].0.contains("444455556666") && found[1].1 == at(2), "{found:?}");
    // Not without the account, nor for an identity policy.
    assert!(!codes(&validate(policy, RES)).contains(&"OXIAM_CROSS_ACCOUNT_ACCESS"));
    assert!(!codes(&validate_for(policy, ID, &own)).contains(&"OXIAM_CROSS_ACCOUNT_ACCESS"));
}

fn codes(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.issue_code).collect()
}

#[test]
fn each_check_fires_on_its_case_and_not_on_the_near_miss() {
    let mut failures = Vec::new();
    for case in CASES {
        let hit = validate(case.triggers, case.policy_type);
        if !codes(&hit).contains(&case.code) {
            failures.push(format!("{}: not found in {:?}", case.code, codes(&hit)));
        }
        let miss = validate(case.near_miss, case.policy_type);
        if codes(&miss).contains(&case.code) {
            failures.push(format!("{}: also on the near miss ({:?})", case.code, codes(&miss)));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn a_clean_policy_has_no_finding() {
    let clean = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "List", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::reports",
     "Condition": {"StringLike": {"s3:prefix": "2026/*"}}},
    {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": "arn:aws:s3:::reports/2026/*"}
  ]
}"#;
    assert_eq!(validate(clean, PolicyType::Identity), Vec::new());
}

#[test]
fn a_finding_locates_the_text_it_is_about() {
    // Line 1-based, column and offset 0-based, the span covering the quoted value.
    let doc = "{\n \"Version\": \"2012-10-17\",\n \"Statement\": [{\"Effect\": \"Allow\", \"Action\": [\"s3:GetObject\", \"s3:Frob\"], \"Resource\": \"*\"}]\n}";
    let findings = validate(doc, PolicyType::Identity);
    let invalid = findings.iter().find(|f| f.issue_code == "INVALID_ACTION").unwrap();
    assert_eq!(invalid.finding_type, FindingType::Error);
    assert_eq!(invalid.details, "The action s3:Frob does not exist.");
    assert_eq!(
        invalid.learn_more_link,
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html#access-analyzer-reference-policy-checks-error-invalid-action"
    );
    let location = &invalid.locations[0];
    assert_eq!(
        location.path,
        [
            PathElement::Value("Statement".into()),
            PathElement::Index(0),
            PathElement::Value("Action".into()),
            PathElement::Index(1),
        ]
    );
    let (start, end) = (location.span.start, location.span.end);
    assert_eq!((start.line, end.line), (3, 3));
    let chars: Vec<char> = doc.chars().collect();
    let text: String = chars[start.offset as usize..end.offset as usize].iter().collect();
    assert_eq!(text, "\"s3:Frob\"");
    let line_start = doc.split('\n').take(2).map(|l| l.chars().count() + 1).sum::<usize>();
    assert_eq!(start.column as usize, start.offset as usize - line_start);
}

#[test]
fn the_unsupported_key_finding_names_each_action_and_the_condition() {
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:ListBucket","s3:GetObject","s3:PutObject"],"Resource":"*","Condition":{"StringEquals":{"s3:prefix":"a"}}}]}"#;
    let findings = validate(doc, PolicyType::Identity);
    let f = findings
        .iter()
        .find(|f| f.issue_code == "UNSUPPORTED_ACTION_FOR_CONDITION_KEY")
        .unwrap();
    assert!(f.details.starts_with(
        "The following actions: s3:GetObject, s3:PutObject are not supported by the condition key s3:prefix."
    ));
    assert_eq!(f.locations.len(), 3, "each action, then the condition");
    assert_eq!(
        f.locations[2].path.last(),
        Some(&PathElement::Value("s3:prefix".into()))
    );
}

#[test]
fn size_quotas_count_without_whitespace() {
    let actions: Vec<String> = (0..400).map(|i| format!("\"s3:GetObject{i:04}\"")).collect();
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":[{}],"Resource":"*"}}]}}"#,
        actions.join(",")
    );
    assert!(codes(&validate(&doc, PolicyType::Identity)).contains(&"POLICY_SIZE_EXCEEDS_IDENTITY_POLICY_QUOTA"));
    assert!(codes(&validate(&doc, PolicyType::ServiceControl)).contains(&"POLICY_SIZE_EXCEEDS_SCP_QUOTA"));
    let small = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    let padded = small.replace(',', &format!(",{}", " ".repeat(7000)));
    assert!(
        !codes(&validate(&padded, PolicyType::Identity))
            .iter()
            .any(|c| c.starts_with("POLICY_SIZE"))
    );
}

proptest::proptest! {
    /// No document, however broken, panics the checks.
    #[test]
    fn never_panics(doc in "\\PC{0,200}") {
        let _ = validate(&doc, PolicyType::Identity);
    }

    /// Nor does any well-formed JSON of a policy's shape with arbitrary strings in it.
    #[test]
    fn never_panics_on_policy_shapes(action in "\\PC{0,30}", resource in "\\PC{0,40}", key in "\\PC{0,20}", op in "\\PC{0,20}") {
        let doc = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": [action], "Resource": resource,
                           "Condition": {op: {key: "v"}}}]
        });
        let _ = validate(&doc.to_string(), PolicyType::Identity);
    }

    /// Nor, for every resource type, any resource policy of that shape.
    #[test]
    fn never_panics_for_a_resource_type(action in "\\PC{0,30}", resource in "\\PC{0,40}", principal in "\\PC{0,20}") {
        let doc = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "NotPrincipal": {"AWS": principal},
                           "Action": [action], "Resource": resource}]
        });
        for name in ["AWS::S3::Bucket", "AWS::S3::AccessPoint", "AWS::S3::MultiRegionAccessPoint",
                     "AWS::S3ObjectLambda::AccessPoint", "AWS::IAM::AssumeRolePolicyDocument", "AWS::DynamoDB::Table"] {
            let _ = validate_for(&doc.to_string(), PolicyType::Resource, &with_type(ResourceType::from_name(name)));
        }
    }
}

#[test]
fn trust_policies_of_identity_providers_are_not_errors() {
    // Keys the reference lists under another service (saml:, the OIDC providers under STS),
    // and providers it does not list at all (EKS clusters' issuers).
    for (action, condition) in [
        (
            "sts:AssumeRoleWithWebIdentity",
            r#"{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},"StringLike":{"token.actions.githubusercontent.com:sub":"repo:o/r:*"}}"#,
        ),
        (
            "sts:AssumeRoleWithSAML",
            r#"{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}"#,
        ),
        (
            "sts:AssumeRoleWithWebIdentity",
            r#"{"StringEquals":{"oidc.eks.us-east-1.amazonaws.com/id/ABC:sub":"system:serviceaccount:ns:sa"}}"#,
        ),
    ] {
        let doc = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::123456789012:oidc-provider/x"}},"Action":"{action}","Condition":{condition}}}]}}"#
        );
        let errors: Vec<_> = validate(&doc, PolicyType::Resource)
            .into_iter()
            .filter(|f| f.finding_type == FindingType::Error)
            .collect();
        assert!(errors.is_empty(), "{condition}: {errors:#?}");
    }
    // A provider's key the reference knows is still checked against the actions, as AWS's
    // answer for a Cognito trust policy with sts:TagSession shows.
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":["sts:AssumeRoleWithWebIdentity","sts:TagSession"],"Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":"us-east-1:x"}}}]}"#;
    let findings = validate(doc, PolicyType::Resource);
    let unsupported = findings
        .iter()
        .find(|f| f.issue_code == "UNSUPPORTED_ACTION_FOR_CONDITION_KEY")
        .expect("sts:TagSession does not support the key");
    assert!(
        unsupported
            .details
            .starts_with("The following actions: sts:TagSession are not supported")
    );
}

#[test]
fn redundant_actions_are_judged_on_what_they_match() {
    let codes_for = |actions: &str| {
        let doc = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":{actions},"Resource":"*"}}]}}"#
        );
        validate(&doc, PolicyType::Identity)
            .into_iter()
            .filter(|f| f.issue_code == "REDUNDANT_ACTION")
            .map(|f| f.locations[0].path.last().cloned())
            .collect::<Vec<_>>()
    };
    // `s3:GetObject?*` matches less than `s3:GetObject*` (not GetObject itself).
    assert_eq!(
        codes_for(r#"["s3:GetObject*","s3:GetObject?*"]"#),
        [Some(PathElement::Index(1))]
    );
    // Two entries matching the same actions: only the later one is redundant.
    assert_eq!(codes_for(r#"["s3:Get*","s3:Get**"]"#), [Some(PathElement::Index(1))]);
    assert_eq!(codes_for(r#"["iam:Get*","iam:*CredentialReport"]"#), []);
}

#[test]
fn cross_service_keys_and_two_format_resources_are_not_flagged() {
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"ArnEquals":{"lambda:SourceFunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:f"}}}]}"#;
    assert!(!codes(&validate(doc, PolicyType::Identity)).contains(&"UNSUPPORTED_ACTION_FOR_CONDITION_KEY"));
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"apigateway:SetWebACL","Resource":"arn:aws:apigateway:us-east-1::/restapis/a1b2c3/stages/prod"}]}"#;
    assert!(!codes(&validate(doc, PolicyType::Identity)).contains(&"OXIAM_RESOURCE_MATCHES_NO_RESOURCE_TYPE"));
}

#[test]
fn a_hostile_document_is_answered_quickly_and_briefly() {
    // Many wildcards over one big service, each condition key unsupported by all of them:
    // each action is asked once per key, and the findings are capped.
    let actions: Vec<String> = (0..255)
        .map(|i| format!("\"ec2:{}*\"", ["Describe", "Create", "Delete"][i % 3]))
        .collect();
    let keys: Vec<String> = (0..200)
        .map(|i| format!("\"s3:ExistingObjectTag/k{i}\":\"v\""))
        .collect();
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":[{}],"Resource":"*","Condition":{{"StringEquals":{{{}}}}}}}]}}"#,
        actions.join(","),
        keys.join(",")
    );
    let findings = validate(&doc, PolicyType::Identity);
    assert_eq!(findings.len(), oxiam_lint::MAX_FINDINGS);
    assert!(findings.iter().all(|f| f.locations.len() <= oxiam_lint::MAX_FINDINGS));
}

#[test]
fn locations_of_variables_and_syntax_errors() {
    let doc = r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::a/*","arn:aws:s3:::b/${aws:username}/*"]}]}"#;
    let findings = validate(doc, PolicyType::Identity);
    let f = findings
        .iter()
        .find(|f| f.issue_code == "VARIABLE_UNSUPPORTED_IN_VERSION")
        .unwrap();
    assert_eq!(
        f.locations[0].path.last(),
        Some(&PathElement::Index(1)),
        "the path ends where the span is"
    );
    let start = f.locations[0].span.start.offset as usize;
    assert!(doc[start..].starts_with("\"arn:aws:s3:::b/"));

    let broken = "{\"Version\": \"2012-10-17\",\n \"Statement\": [}";
    let findings = validate(broken, PolicyType::Identity);
    assert_eq!(findings[0].issue_code, "JSON_SYNTAX_ERROR");
    let at = findings[0].locations[0].span.start;
    assert_eq!((at.line, at.column), (2, 15), "where the parser stopped");
}
