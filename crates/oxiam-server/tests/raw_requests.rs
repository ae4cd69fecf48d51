//! Requests built and signed by hand (with `aws-sigv4`, the SDK's signer) and sent over a
//! plain TCP connection: every operation of both models, and the authentication errors an
//! SDK would never provoke on purpose.

use crate::common;

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::SignatureLocation;
use common::raw::{call, send, signed_post};
use common::{Backend, ROOT_KEY, ROOT_SECRET, TestServer};
use oxiam_protocol::{iam, sts};

#[tokio::test]
async fn every_operation_of_both_models_gets_a_protocol_answer() {
    let server = TestServer::start(Backend::Sqlite).await;
    let (mut not_implemented, mut invalid, mut answered) = (0, 0, 0);
    let ops = iam::Operation::ALL
        .iter()
        .map(|op| {
            (
                op.name(),
                iam::API_VERSION,
                "iam",
                oxiam_core::iam::IMPLEMENTED.contains(op),
            )
        })
        .chain(sts::Operation::ALL.iter().map(|op| {
            (
                op.name(),
                sts::API_VERSION,
                "sts",
                oxiam_core::sts::IMPLEMENTED.contains(op),
            )
        }));
    for (name, version, service, implemented) in ops {
        let reply = call(&server, &format!("Action={name}&Version={version}"), service).await;
        // The list of implemented operations tells the truth (those with required members
        // are answered with real input by the condition-key table in condition_keys.rs).
        assert_eq!(
            reply.status == 501,
            !implemented && reply.status != 400,
            "{name}: implemented={implemented}, answered {}",
            reply.body
        );
        // Never a server fault: an answer, a validation error, or NotImplemented naming it.
        match reply.status {
            200 => {
                assert!(
                    reply.body.contains(&format!("<{name}Response")),
                    "{name}: {}",
                    reply.body
                );
                answered += 1;
            }
            501 => {
                assert_eq!(reply.code(), "NotImplemented", "{name}");
                assert!(reply.message().contains(name), "{name}: {}", reply.message());
                not_implemented += 1;
            }
            // An operation with no required member, on what a new account does not have
            // (GetAccountPasswordPolicy, DeleteAccountPasswordPolicy): its NoSuchEntity.
            404 if reply.code() == "NoSuchEntity" && implemented => {
                answered += 1;
            }
            // Outbound identity federation, off in a new account (Get/Disable…).
            404 if reply.code() == "FeatureDisabled" && implemented => {
                answered += 1;
            }
            // GetScopedCredentials, signed with the root's long-term key: no session to scope.
            400 if reply.code() == "InvalidSubjectCredentials" && implemented => {
                answered += 1;
            }
            // The organization features, for an account in no organization.
            400 if reply.code() == "OrganizationNotFoundException" && implemented => {
                answered += 1;
            }
            // Without its required members an operation is a ValidationError naming them.
            400 if reply.code() == "ValidationError" => {
                assert!(
                    reply.message().contains("Member must not be null"),
                    "{name}: {}",
                    reply.message()
                );
                invalid += 1;
            }
            other => panic!("{name} answered HTTP {other}: {}", reply.body),
        }
    }
    assert_eq!(
        not_implemented + invalid + answered,
        iam::Operation::ALL.len() + sts::Operation::ALL.len()
    );

    // Every operation of both models is served.
    assert_eq!(not_implemented, 0);
    assert_eq!(
        oxiam_core::iam::IMPLEMENTED.len() + oxiam_core::sts::IMPLEMENTED.len(),
        iam::Operation::ALL.len() + sts::Operation::ALL.len()
    );

    server.stop().await;
}

/// ValidationError texts as IAM writes them: a broken value is quoted, except a tag key's
/// or value's, which IAM leaves out (`Value at 'tags.1.member.key' …`).
#[tokio::test]
async fn validation_messages_quote_values_but_not_tags() {
    let server = TestServer::start(Backend::Sqlite).await;
    let long_key = "k".repeat(129);
    for (body, message) in [
        (
            format!(
                "Action=TagUser&UserName=carol&Tags.member.1.Key={long_key}&Tags.member.1.Value=v&Version=2010-05-08"
            ),
            "1 validation error detected: Value at 'tags.1.member.key' failed to satisfy constraint: \
             Member must have length less than or equal to 128"
                .to_owned(),
        ),
        (
            "Action=CreateUser&UserName=carol%21&Version=2010-05-08".to_owned(),
            "1 validation error detected: Value 'carol!' at 'userName' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [\\w+=,.@-]+"
                .to_owned(),
        ),
    ] {
        let reply = call(&server, &body, "iam").await;
        assert_eq!((reply.status, reply.code()), (400, "ValidationError"), "{}", reply.body);
        assert_eq!(reply.message(), message);
    }
    server.stop().await;
}

#[tokio::test]
async fn wrong_action_version_and_service_are_invalid_actions() {
    let server = TestServer::start(Backend::Sqlite).await;
    let reply = call(&server, "Action=NoSuchThing&Version=2010-05-08", "iam").await;
    assert_eq!((reply.status, reply.code()), (400, "InvalidAction"));
    assert_eq!(
        reply.message(),
        "Could not find operation NoSuchThing for version 2010-05-08"
    );
    let reply = call(&server, "Action=GetCallerIdentity&Version=2011-06-15", "iam").await;
    assert_eq!(
        (reply.status, reply.code()),
        (400, "InvalidAction"),
        "an STS action signed for IAM"
    );
    let reply = call(&server, "Action=ListUsers&Version=2099-01-01", "iam").await;
    assert_eq!((reply.status, reply.code()), (400, "InvalidAction"));
    let reply = call(&server, "Version=2010-05-08", "iam").await;
    assert_eq!((reply.status, reply.code()), (400, "MissingAction"));
    let reply = call(&server, "Action=ListUsers&UserName=%zz", "iam").await;
    assert_eq!((reply.status, reply.code()), (400, "MalformedQueryString"));
    server.stop().await;
}

#[tokio::test]
async fn authentication_errors_match_aws() {
    let server = TestServer::start(Backend::Sqlite).await;
    let host = server.server.as_ref().unwrap().local_addr.to_string();
    let body = "Action=GetCallerIdentity&Version=2011-06-15";

    let plain = [
        ("host".to_owned(), host.clone()),
        (
            "content-type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        ),
    ];
    let reply = send(&server, "POST", "/", &plain, body).await;
    assert_eq!((reply.status, reply.code()), (403, "MissingAuthenticationToken"));
    assert_eq!(reply.message(), "Request is missing Authentication Token");

    let past = SystemTime::now() - Duration::from_secs(20 * 60);
    let (target, headers) = signed_post(
        &host,
        body,
        "sts",
        ROOT_KEY,
        ROOT_SECRET,
        past,
        SignatureLocation::Headers,
    );
    let reply = send(&server, "POST", &target, &headers, body).await;
    assert_eq!((reply.status, reply.code()), (403, "SignatureDoesNotMatch"));
    assert!(
        reply.message().starts_with("Signature expired: "),
        "{}",
        reply.message()
    );
    assert!(reply.message().ends_with(" - 15 min.)"), "{}", reply.message());

    let future = SystemTime::now() + Duration::from_secs(20 * 60);
    let (target, headers) = signed_post(
        &host,
        body,
        "sts",
        ROOT_KEY,
        ROOT_SECRET,
        future,
        SignatureLocation::Headers,
    );
    let reply = send(&server, "POST", &target, &headers, body).await;
    assert_eq!((reply.status, reply.code()), (403, "SignatureDoesNotMatch"));
    assert!(
        reply.message().starts_with("Signature not yet current: "),
        "{}",
        reply.message()
    );

    // Presigned: the signature travels in the query string; the body is still hashed.
    let (target, headers) = signed_post(
        &host,
        body,
        "sts",
        ROOT_KEY,
        ROOT_SECRET,
        SystemTime::now(),
        SignatureLocation::QueryParams,
    );
    let reply = send(&server, "POST", &target, &headers, body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("<Arn>arn:aws:iam::123456789012:root</Arn>"));

    let (target, headers) = signed_post(
        &host,
        body,
        "sts",
        ROOT_KEY,
        "wrong",
        SystemTime::now(),
        SignatureLocation::QueryParams,
    );
    let reply = send(&server, "POST", &target, &headers, body).await;
    assert_eq!((reply.status, reply.code()), (403, "SignatureDoesNotMatch"));

    // The error envelope carries the request id that the header names.
    assert!(reply.body.contains("<RequestId>"));
    server.stop().await;
}
