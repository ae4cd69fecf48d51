//! Replays the fuzz corpus (`fuzz/corpus/parse/`) through the parser on stable Rust, doing what
//! the fuzz target does, so CI exercises every seed and every saved finding.

use std::sync::Arc;

use oxiam_policy::{CompiledPolicy, Context, PolicyKind, PolicySet, Principal, Request, context_keys, evaluate, parse};

const KINDS: [PolicyKind; 6] = [
    PolicyKind::Identity,
    PolicyKind::Resource,
    PolicyKind::Trust,
    PolicyKind::Boundary,
    PolicyKind::Session,
    PolicyKind::Scp,
];

fn exercise(text: &str) -> usize {
    let mut parsed = 0;
    for kind in KINDS {
        if let Ok(policy) = parse(text, kind) {
            parsed += 1;
            let _ = context_keys(&policy);
            let compiled = Arc::new(CompiledPolicy::compile("fuzz", &policy));
            let ctx = Context::builder()
                .set("aws:username", "alice")
                .set("aws:SourceIp", "10.0.0.1")
                .build();
            let ids = [compiled.clone()];
            let set = PolicySet {
                identity: &ids,
                resource: Some(&compiled),
                ..PolicySet::default()
            };
            let user = Principal::user("arn:aws:iam::111122223333:user/alice", "111122223333");
            let _ = evaluate(
                &Request::new(user, "s3:GetObject", "arn:aws:s3:::bucket/alice/key", &ctx),
                &set,
            );
        }
    }
    parsed
}

#[test]
fn replay_parse_corpus() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/parse");
    let mut files = 0;
    let mut accepted = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus directory") {
        let path = entry.expect("corpus entry").path();
        let bytes = std::fs::read(&path).expect("corpus file");
        files += 1;
        if let Ok(text) = std::str::from_utf8(&bytes)
            && exercise(text) > 0
        {
            accepted += 1;
        }
    }
    assert!(files >= 10, "expected the seed corpus in {}", dir.display());
    // The valid seeds parse as at least one kind.
    assert!(accepted >= 7, "{accepted} of {files} corpus files parsed");
}
