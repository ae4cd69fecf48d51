//! `oxiam_lint::diff` over every AWS managed policy: each against itself (the proof of no new
//! access) and each against itself with one statement added (a witness, usually). The
//! catalogue keeps one version per policy, so the "previous version" is the policy itself.
//! Run: `cargo bench -p oxiam-lint --bench diff`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use oxiam_lint::diff::{Verdict, diff};
use oxiam_policy::PolicyKind;

/// The policies the engine parses as identity policies (all of them, today), with one
/// statement added to each.
fn pairs() -> Vec<(&'static str, String)> {
    oxiam_aws_policies::all()
        .iter()
        .filter(|p| oxiam_policy::parse(p.document, PolicyKind::Identity).is_ok())
        .map(|p| {
            let mut doc: serde_json::Value = serde_json::from_str(p.document).unwrap();
            let added = serde_json::json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::oxiam-bench/*"});
            match doc.get_mut("Statement") {
                Some(serde_json::Value::Array(statements)) => statements.push(added),
                Some(one) => *one = serde_json::json!([one.clone(), added]),
                None => {}
            }
            (p.document, doc.to_string())
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let pairs = pairs();
    // What the runs decide, once, for the record (docs/benchmarks.md).
    let mut counts = [0usize; 3];
    for (old, new) in &pairs {
        let i = match diff(old, new, PolicyKind::Identity).unwrap() {
            Verdict::NoNewAccess => 0,
            Verdict::NewAccess(_) => 1,
            Verdict::Unknown(_) => 2,
        };
        counts[i] += 1;
    }
    eprintln!(
        "{} managed policies, one statement added: {} no new access, {} witnessed, {} unknown",
        pairs.len(),
        counts[0],
        counts[1],
        counts[2]
    );
    let mut group = c.benchmark_group("diff_aws_managed_policies");
    group.sample_size(10);
    group.bench_function("each_against_itself", |b| {
        b.iter(|| {
            for (old, _) in &pairs {
                black_box(diff(old, old, PolicyKind::Identity).unwrap());
            }
        })
    });
    group.bench_function("each_with_one_statement_added", |b| {
        b.iter(|| {
            for (old, new) in &pairs {
                black_box(diff(old, new, PolicyKind::Identity).unwrap());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
