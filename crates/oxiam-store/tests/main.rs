//! Every integration test of this crate, as modules of one test binary: a binary per file
//! linked the crate and all it depends on once per file, most of the tests' build time.
//! `crates/oxiam/tests/tidy.rs` checks that every file here is listed.

mod atomic_creates;
mod group_commit;
mod read_cache;
mod replicas;
mod rows;
