//! Every integration test of this crate, as modules of one test binary: a binary per file
//! linked the crate and all it depends on once per file, most of the tests' build time.
//! `crates/oxiam/tests/tidy.rs` checks that every file here is listed.

mod common;

mod cli;
mod demos;
mod durability;
mod policy_eval;
mod policy_lint;
mod s3_store;
mod tidy;
