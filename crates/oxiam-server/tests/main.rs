//! Every integration test of this crate, as modules of one test binary: a binary per file
//! linked the crate and all it depends on once per file, most of the tests' build time.
//! `crates/oxiam/tests/tidy.rs` checks that every file here is listed.

#[macro_use]
mod common;

mod access_advisor;
mod access_analyzer;
mod accounts;
mod assume_role;
mod assume_root;
mod certificates;
mod condition_keys;
mod delegation_requests;
mod enforcement;
mod federation_token;
mod front_door;
mod iam_surface;
mod instance_profiles;
mod lint_policies;
mod login_profiles;
mod mfa;
mod oidc_providers;
mod organizations;
mod organizations_access_report;
mod outbound_federation;
mod raw_requests;
mod records;
mod replicas;
mod reset;
mod s3_condition_keys;
mod s3_scenarios;
mod s3_sigv2;
mod saml_federation;
mod saml_providers;
mod service_access;
mod service_linked_roles;
mod simulator;
mod tls;
mod user_credentials;
mod users_and_keys;
mod web_identity;
