//! Property tests: whatever a client sends, decoding answers with a value or an error,
//! never a panic.

use oxiam_protocol::query::QueryParams;
use oxiam_protocol::{iam, sts};
use proptest::prelude::*;

/// Keys shaped like the ones the models use, so decoding gets deep into structures.
fn key() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        Just("UserName".to_owned()),
        Just("Tags".to_owned()),
        Just("member".to_owned()),
        Just("entry".to_owned()),
        Just("Key".to_owned()),
        Just("Value".to_owned()),
        Just("PolicyArns".to_owned()),
        Just("arn".to_owned()),
        Just("MaxItems".to_owned()),
        Just("ContextEntries".to_owned()),
        "[0-9]{1,3}",
        "[A-Za-z%+.]{0,6}",
    ];
    prop::collection::vec(segment, 1..6).prop_map(|s| s.join("."))
}

fn form() -> impl Strategy<Value = String> {
    prop::collection::vec((key(), "[ -~]{0,20}|%[0-9A-Fa-f]{2}|\\PC{0,4}"), 0..12).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_forms_decode_or_fail_cleanly(body in form(), raw in "\\PC{0,64}") {
        for text in [body.as_str(), raw.as_str()] {
            if let Ok(params) = QueryParams::parse(&[text]) {
                for op in iam::Operation::ALL {
                    let _ = iam::decode(*op, &params);
                }
                for op in sts::Operation::ALL {
                    let _ = sts::decode(*op, &params);
                }
            }
        }
    }
}
