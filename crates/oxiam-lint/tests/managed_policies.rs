//! The checks against AWS's own managed policies (every one in oxiam's catalogue). AWS writes
//! and maintains them: a structural error found in one is a check gone wrong. What the
//! reference snapshot no longer lists (retired services and actions) may show as unknown; what
//! AWS documents its checks finding in them (AdministratorAccess's PassRole) must show.

use std::collections::BTreeMap;

use oxiam_lint::{PolicyType, validate};

/// Findings that say the policy's text is broken: none of AWS's policies is.
const STRUCTURAL: &[&str] = &[
    "JSON_SYNTAX_ERROR",
    "MISSING_VERSION",
    "INVALID_VERSION",
    "MISSING_STATEMENT",
    "MISSING_EFFECT",
    "INVALID_EFFECT",
    "MISSING_ACTION",
    "MISSING_RESOURCE",
    "UNSUPPORTED_ELEMENT_COMBINATION",
    "INVALID_CONDITION_KEY_FORMAT",
    "VARIABLE_UNSUPPORTED_IN_VERSION",
];

#[test]
fn aws_managed_policies_are_well_formed_and_admin_passes_roles() {
    let mut structural: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut unknown = 0;
    for policy in oxiam_aws_policies::all() {
        for f in validate(policy.document, PolicyType::Identity) {
            if STRUCTURAL.contains(&f.issue_code) {
                structural.entry(f.issue_code).or_default().push(policy.name);
            }
            if f.issue_code.starts_with("INVALID_") {
                unknown += 1;
            }
        }
    }
    assert!(structural.is_empty(), "{structural:#?}");
    // Drift between the catalogue's snapshot and the reference's: a handful, not a flood
    // (a check misreading the reference would flag thousands).
    assert!(unknown < 300, "{unknown} unknown services, actions or keys");

    let admin = oxiam_aws_policies::by_arn("arn:aws:iam::aws:policy/AdministratorAccess").unwrap();
    let codes: Vec<&str> = validate(admin.document, PolicyType::Identity)
        .iter()
        .map(|f| f.issue_code)
        .collect();
    assert_eq!(
        codes,
        [
            "PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE",
            "OXIAM_WILDCARD_GRANTS_PERMISSIONS_MANAGEMENT"
        ]
    );
}
