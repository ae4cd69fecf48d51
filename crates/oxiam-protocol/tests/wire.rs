//! Decoding and encoding through the generated IAM and STS layers.

use oxiam_protocol::iam::{self, Operation, Request};
use oxiam_protocol::query::QueryParams;
use oxiam_protocol::{ServiceError, encode_error, encode_response, sts};

fn decode(body: &str) -> Result<Request, String> {
    let q = QueryParams::parse(&[body]).map_err(|e| e.message)?;
    let op = Operation::from_action(q.get("Action").unwrap()).unwrap();
    iam::decode(op, &q).map_err(|e| e.message)
}

#[test]
fn every_operation_round_trips_its_name() {
    assert_eq!(iam::Operation::ALL.len(), 181);
    assert_eq!(sts::Operation::ALL.len(), 12);
    for op in iam::Operation::ALL {
        assert_eq!(iam::Operation::from_action(op.name()), Some(*op));
    }
    assert_eq!(
        iam::Operation::from_action("createuser"),
        None,
        "actions are case-sensitive"
    );
}

#[test]
fn decodes_nested_lists_of_structures() {
    let req = decode(
        "Action=CreateUser&Version=2010-05-08&UserName=alice&Path=%2Fteam%2F\
         &Tags.member.1.Key=env&Tags.member.1.Value=dev&Tags.member.2.Key=team&Tags.member.2.Value=a+b",
    )
    .unwrap();
    let Request::CreateUser(input) = req else {
        panic!("wrong request {req:?}")
    };
    assert_eq!(input.user_name, "alice");
    assert_eq!(input.path.as_deref(), Some("/team/"));
    let tags: Vec<_> = input.tags.unwrap().into_iter().map(|t| (t.key, t.value)).collect();
    assert_eq!(tags, [("env".into(), "dev".into()), ("team".into(), "a b".into())]);
}

#[test]
fn an_explicitly_empty_list_is_empty_not_absent() {
    let Request::CreateUser(input) = decode("Action=CreateUser&UserName=a&Tags=").unwrap() else {
        panic!()
    };
    assert_eq!(input.tags, Some(vec![]));
}

#[test]
fn validation_messages_read_as_iam_writes_them() {
    assert_eq!(
        decode("Action=CreateUser").unwrap_err(),
        "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null"
    );
    let long = "a".repeat(65);
    assert_eq!(
        decode(&format!("Action=CreateUser&UserName={long}")).unwrap_err(),
        format!(
            "1 validation error detected: Value '{long}' at 'userName' failed to satisfy constraint: \
             Member must have length less than or equal to 64"
        )
    );
    assert_eq!(
        decode("Action=CreateUser&UserName=bad%2Fname&Path=nopath").unwrap_err(),
        "2 validation errors detected: Value 'nopath' at 'path' failed to satisfy constraint: Member must satisfy \
         regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F); Value 'bad/name' at 'userName' \
         failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"
    );
    assert_eq!(
        decode("Action=UpdateAccessKey&AccessKeyId=AKIAIOSFODNN7EXAMPLE&Status=Enabled").unwrap_err(),
        "1 validation error detected: Value 'Enabled' at 'status' failed to satisfy constraint: \
         Member must satisfy enum value set: [Active, Inactive, Expired]"
    );
    assert_eq!(
        decode("Action=ListUsers&MaxItems=0").unwrap_err(),
        "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: \
         Member must have value greater than or equal to 1"
    );
    assert!(
        decode("Action=CreateUser&UserName=a&Tags.member.1.Key=k")
            .unwrap_err()
            .contains("'tags.1.member.value'"),
        "nested paths name the list index"
    );
}

#[test]
fn every_model_pattern_compiles() {
    iam::compile_all_patterns().unwrap();
    sts::compile_all_patterns().unwrap();
    let alias = |a: &str| decode(&format!("Action=CreateAccountAlias&AccountAlias={a}"));
    assert!(alias("my-alias-1").is_ok());
    assert!(
        alias("my--alias").is_err(),
        "the model's lookahead forbids double hyphens"
    );
    assert!(alias("-alias").is_err());
}

#[test]
fn success_envelope_puts_result_first_and_metadata_after() {
    let response = iam::Response::GetUser(iam::GetUserResponse {
        user: iam::User {
            path: "/".into(),
            user_name: "a<b".into(),
            user_id: "AIDAEXAMPLE".into(),
            arn: "arn:aws:iam::123456789012:user/a<b".into(),
            create_date: oxiam_protocol::Timestamp(1_700_000_000),
            password_last_used: None,
            permissions_boundary: None,
            tags: Some(vec![]),
        },
    });
    let xml = encode_response(iam::XML_NAMESPACE, "GetUser", true, "req-1", |w| {
        response.write_result(w)
    });
    assert_eq!(
        xml,
        "<GetUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><GetUserResult><User><Path>/</Path>\
         <UserName>a&lt;b</UserName><UserId>AIDAEXAMPLE</UserId><Arn>arn:aws:iam::123456789012:user/a&lt;b</Arn>\
         <CreateDate>2023-11-14T22:13:20Z</CreateDate><Tags></Tags></User></GetUserResult>\
         <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetUserResponse>"
    );
    let none = encode_response(iam::XML_NAMESPACE, "DeleteUser", false, "r", |_| {});
    assert_eq!(
        none,
        "<DeleteUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ResponseMetadata>\
         <RequestId>r</RequestId></ResponseMetadata></DeleteUserResponse>"
    );
}

#[test]
fn policy_documents_are_percent_encoded() {
    let response = iam::Response::GetUserPolicy(iam::GetUserPolicyResponse {
        user_name: "u".into(),
        policy_name: "p".into(),
        policy_document: "{\"Version\": \"2012-10-17\"}".into(),
    });
    let xml = encode_response(iam::XML_NAMESPACE, "GetUserPolicy", true, "r", |w| {
        response.write_result(w)
    });
    assert!(
        xml.contains("<PolicyDocument>%7B%22Version%22%3A%20%222012-10-17%22%7D</PolicyDocument>"),
        "{xml}"
    );
}

#[test]
fn error_envelope_names_code_type_and_request_id() {
    let err = ServiceError::new(iam::errors::NO_SUCH_ENTITY, "The user with name bob cannot be found.");
    assert_eq!(err.kind.status, 404);
    assert_eq!(
        encode_error(iam::XML_NAMESPACE, &err, "id-9"),
        "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>\
         <Code>NoSuchEntity</Code><Message>The user with name bob cannot be found.</Message></Error>\
         <RequestId>id-9</RequestId></ErrorResponse>"
    );
    assert_eq!(iam::errors::LIMIT_EXCEEDED.status, 409);
    assert_eq!(
        iam::errors::SERVICE_FAILURE,
        oxiam_protocol::ErrorKind {
            code: "ServiceFailure",
            status: 500,
            sender: false
        }
    );
}

#[test]
fn sensitive_members_never_print() {
    let Request::CreateLoginProfile(input) =
        decode("Action=CreateLoginProfile&UserName=a&Password=hunter2hunter2").unwrap()
    else {
        panic!()
    };
    assert!(!format!("{input:?}").contains("hunter2"));
}
