//! The hot path allocates nothing: evaluating compiled policies (wildcards, conditions, policy
//! variables of the common `prefix/${var}/*` shape) performs no heap allocation.
#![allow(
    unsafe_code,
    reason = "counting allocations needs a global allocator, which only unsafe code can be"
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use oxiam_policy::{Context, PolicyKind, PolicySet, Principal, Request, Value, compile, evaluate};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn evaluation_does_not_allocate() {
    let doc = r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"Home","Effect":"Allow","Action":["s3:Get*","s3:PutObject"],"Resource":"arn:aws:s3:::data/home/${aws:username}/*",
         "Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"},"Bool":{"aws:SecureTransport":"true"}}},
        {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::data",
         "Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*","public/*"]}}},
        {"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::111122223333:user/${aws:username}"},
        {"Effect":"Deny","NotAction":["iam:*","sts:*","s3:*"],"Resource":"*",
         "Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}},
        {"Effect":"Allow","Action":"ec2:Describe*","Resource":"*",
         "Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}}
    ]}"#;
    let p = Arc::new(compile("p", doc, PolicyKind::Identity).unwrap());
    let boundary = compile(
        "pb",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
        PolicyKind::Boundary,
    )
    .unwrap();
    let identity = [p];
    let set = PolicySet {
        identity: &identity,
        boundary: Some(&boundary),
        ..PolicySet::default()
    };
    let ctx = Context::builder()
        .set("aws:username", "alice")
        .set("aws:SourceIp", Ipv4Addr::new(203, 0, 113, 9))
        .set("aws:SecureTransport", true)
        .set("aws:CurrentTime", Value::date_epoch_seconds(1_700_000_000))
        .set("aws:RequestedRegion", "eu-west-1")
        .set_all("aws:TagKeys", ["a"])
        .set("s3:prefix", "home/alice/docs/")
        .build();
    let user = Principal::user("arn:aws:iam::111122223333:user/alice", "111122223333");
    let requests = [
        ("s3:GetObject", "arn:aws:s3:::data/home/alice/report.csv", true),
        ("s3:GetObject", "arn:aws:s3:::data/home/bob/report.csv", false),
        ("s3:ListBucket", "arn:aws:s3:::data", true),
        ("iam:CreateAccessKey", "arn:aws:iam::111122223333:user/alice", true),
        ("ec2:DescribeInstances", "*", true),
        ("sqs:SendMessage", "*", false),
    ];
    for (action, resource, want) in requests {
        let req = Request::new(user, action, resource, &ctx);
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        let decision = evaluate(&req, &set);
        let after = ALLOCATIONS.load(Ordering::Relaxed);
        assert_eq!(decision.allowed, want, "{action} {resource}");
        assert_eq!(after - before, 0, "{action} {resource} allocated");
    }
}
