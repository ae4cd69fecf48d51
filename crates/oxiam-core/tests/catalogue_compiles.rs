//! Every AWS managed policy of the catalogue must compile as an identity policy: an
//! attached policy that does not compile would make every request of its principals fail.

#[test]
fn every_aws_managed_policy_compiles() {
    let mut failures = Vec::new();
    for policy in oxiam_aws_policies::all() {
        if let Err(e) = oxiam_policy::compile(policy.arn, policy.document, oxiam_policy::PolicyKind::Identity) {
            failures.push(format!("{}: {}", policy.name, e.message));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} do not compile:\n{}",
        failures.len(),
        oxiam_aws_policies::all().len(),
        failures.join("\n")
    );
}
