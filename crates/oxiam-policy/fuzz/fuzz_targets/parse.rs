//! Fuzzes `parse` for every policy kind; whatever parses is also compiled and evaluated.
//! Findings go into `corpus/parse/` so that `tests/fuzz_corpus.rs` replays them on stable.

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use oxiam_policy::{CompiledPolicy, Context, PolicyKind, PolicySet, Principal, Request, context_keys, evaluate, parse};

const KINDS: [PolicyKind; 6] =
    [PolicyKind::Identity, PolicyKind::Resource, PolicyKind::Trust, PolicyKind::Boundary, PolicyKind::Session, PolicyKind::Scp];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for kind in KINDS {
        if let Ok(policy) = parse(text, kind) {
            let _ = context_keys(&policy);
            let compiled = Arc::new(CompiledPolicy::compile("fuzz", &policy));
            let ctx = Context::builder().set("aws:username", "alice").set("aws:SourceIp", "10.0.0.1").build();
            let ids = [compiled.clone()];
            let set = PolicySet { identity: &ids, resource: Some(&compiled), ..PolicySet::default() };
            let user = Principal::user("arn:aws:iam::111122223333:user/alice", "111122223333");
            let _ = evaluate(&Request::new(user, "s3:GetObject", "arn:aws:s3:::bucket/alice/key", &ctx), &set);
        }
    }
});
