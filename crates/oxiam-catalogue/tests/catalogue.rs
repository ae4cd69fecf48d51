//! The generated tables match their inputs, and lookups find what the reference lists.

use sha2::{Digest, Sha256};

fn workspace_file(path: &str) -> Vec<u8> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../");
    std::fs::read(format!("{root}{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn recorded(header: &str, label: &str) -> String {
    header
        .lines()
        .find_map(|l| l.strip_prefix(&format!("// {label} sha256: ")))
        .unwrap_or_else(|| panic!("generated.rs records no {label} sha256"))
        .to_owned()
}

/// The generated file names the sha256 of the model and of the generator it came from; a
/// change to either without regenerating fails here, in plain `cargo test`.
#[test]
fn generated_tables_record_the_hash_of_their_inputs() {
    let generated = String::from_utf8(workspace_file("crates/oxiam-catalogue/src/generated.rs")).unwrap();
    let model = hex(&Sha256::digest(workspace_file(
        "models/service-authorization/catalogue.json",
    )));
    let script = hex(&Sha256::digest(workspace_file("codegen/gen-catalogue.py")));
    assert_eq!(
        recorded(&generated, "input"),
        model,
        "models/service-authorization/catalogue.json changed: run codegen/gen-catalogue.py"
    );
    assert_eq!(
        recorded(&generated, "generator"),
        script,
        "codegen/gen-catalogue.py changed: run it"
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn actions_are_found_regardless_of_case_and_sorted_for_search() {
    for service in oxiam_catalogue::services() {
        assert!(!service.actions.is_empty(), "{}", service.name);
        for a in service.actions {
            let found = service.action(&a.name.to_ascii_uppercase()).expect(a.name);
            assert_eq!(found.name, a.name);
        }
    }
    assert!(oxiam_catalogue::action("iam", "NoSuchAction").is_none());
    assert!(
        oxiam_catalogue::action("ec2", "RunInstances").is_none(),
        "only served services are compiled in"
    );
    assert_eq!(
        oxiam_catalogue::action_named("STS:assumerole").unwrap().name,
        "AssumeRole"
    );
}

#[test]
fn the_escalation_keys_are_listed_where_aws_lists_them() {
    let iam = oxiam_catalogue::service("iam").unwrap();
    let attach = iam.action("AttachUserPolicy").unwrap();
    assert!(attach.supports_key("iam:PolicyARN"));
    assert!(attach.supports_key("iam:PermissionsBoundary"));
    assert!(
        attach.supports_key("aws:ResourceTag/team"),
        "from the user resource type"
    );
    let create = iam.action("CreateUser").unwrap();
    assert!(create.supports_key("aws:RequestTag/admin"));
    assert!(create.supports_key("aws:TagKeys"));
    assert!(!create.supports_key("iam:PolicyARN"));
    assert_eq!(
        iam.condition_key("aws:tagkeys").unwrap().key_type,
        oxiam_catalogue::KeyType::ArrayOfString
    );
}

#[test]
fn key_patterns_match_their_instances_only() {
    use oxiam_catalogue::key_matches;
    assert!(key_matches("aws:RequestTag/${TagKey}", "aws:requesttag/Team"));
    assert!(!key_matches("aws:RequestTag/${TagKey}", "aws:RequestTag/"));
    assert!(key_matches("s3:ExistingObjectTag/<key>", "s3:ExistingObjectTag/x"));
    assert!(key_matches("iam:PolicyARN", "IAM:policyarn"));
    assert!(!key_matches("iam:PolicyARN", "iam:PolicyARNs"));
}

/// The generator's precomputed key list of every action is exactly the union of the action's
/// own keys and its resource types' keys, each once regardless of case, sorted.
#[test]
fn every_actions_full_key_list_is_the_union_of_its_parts() {
    for service in oxiam_catalogue::services() {
        for action in service.actions {
            let mut expected: Vec<String> = action.condition_keys.iter().map(|k| k.to_ascii_lowercase()).collect();
            for r in action.resource_types {
                expected.extend(r.condition_keys.iter().map(|k| k.to_ascii_lowercase()));
                if let Some(t) = service.resource_type(r.name) {
                    expected.extend(t.condition_keys.iter().map(|k| k.to_ascii_lowercase()));
                }
            }
            expected.sort();
            expected.dedup();
            let listed: Vec<String> = action
                .all_condition_keys()
                .iter()
                .map(|k| k.to_ascii_lowercase())
                .collect();
            assert_eq!(listed, expected, "{}:{}", service.name, action.name);
        }
    }
}

#[test]
fn every_service_of_the_reference_is_named_in_prefix_order() {
    let names = oxiam_catalogue::service_names();
    assert!(names.len() > 400, "the whole reference, not only the served services");
    assert!(names.windows(2).all(|w| w[0].prefix < w[1].prefix));
    let title = |prefix: &str| names.iter().find(|n| n.prefix == prefix).map(|n| n.title);
    assert_eq!(title("s3"), Some("Amazon S3"));
    assert_eq!(title("ec2"), Some("Amazon EC2"));
    for served in oxiam_catalogue::services() {
        assert!(title(served.name).is_some(), "{}", served.name);
    }
}
