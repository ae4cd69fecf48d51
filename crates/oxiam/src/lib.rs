//! The `oxiam` command's library: the seed's scenarios (`SCENARIOS.md`) as demos performed
//! with the AWS SDK for Rust, usable as examples in their own right. See [`demo`].

pub mod demo;
