//! Checks of the generated service-linked role catalogue against the policy catalogue and
//! against roles AWS documents.

use oxiam_aws_policies::{by_arn, service_linked_role, service_linked_roles};

#[test]
fn roles_are_sorted_unique_and_attach_packaged_service_role_policies() {
    let roles = service_linked_roles();
    assert!(roles.len() > 100, "only {} roles", roles.len());
    for pair in roles.windows(2) {
        assert!(pair[0].service_principal.as_bytes() < pair[1].service_principal.as_bytes());
    }
    let mut names: Vec<String> = roles.iter().map(|r| r.role_name.to_ascii_lowercase()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), roles.len(), "role names are unique in an account");
    for role in roles {
        assert!(role.service_principal.ends_with(".amazonaws.com"), "{role:?}");
        assert!(role.role_name.starts_with("AWSServiceRoleFor"), "{role:?}");
        assert!(role.role_name.len() <= 64, "{role:?}");
        for arn in role.attached_policies {
            let policy = by_arn(arn).unwrap_or_else(|| panic!("{arn} of {} is not packaged", role.role_name));
            assert_eq!(policy.path, "/aws-service-role/", "{arn}");
        }
    }
}

#[test]
fn well_known_roles_are_as_aws_documents_them() {
    let elb = service_linked_role("elasticloadbalancing.amazonaws.com").unwrap();
    assert_eq!(elb.role_name, "AWSServiceRoleForElasticLoadBalancing");
    assert_eq!(
        elb.attached_policies,
        ["arn:aws:iam::aws:policy/aws-service-role/AWSElasticLoadBalancingServiceRolePolicy"]
    );
    assert!(!elb.custom_suffix_allowed);
    let autoscaling = service_linked_role("autoscaling.amazonaws.com").unwrap();
    assert_eq!(autoscaling.role_name, "AWSServiceRoleForAutoScaling");
    assert!(autoscaling.custom_suffix_allowed);
    assert_eq!(
        service_linked_role("spot.amazonaws.com").unwrap().role_name,
        "AWSServiceRoleForEC2Spot"
    );
    assert!(service_linked_role("ELASTICLOADBALANCING.amazonaws.com").is_none());
    assert!(service_linked_role("nothing.amazonaws.com").is_none());
}
