//! The rows the tests create, as the store takes them.

use oxiam_store::{AccessKeyRow, NewUser};

pub const ACCOUNT: &str = "123456789012";

/// A user of [`ACCOUNT`] at path `/`, without tags or boundary.
pub fn user<'a>(user_id: &'a str, name: &'a str) -> NewUser<'a> {
    NewUser {
        account_id: ACCOUNT,
        user_id,
        name,
        path: "/",
        created_at: 1,
        tags: &[],
        permissions_boundary: None,
    }
}

/// An active access key of [`ACCOUNT`], the user's (`None`: the root's).
pub fn key(access_key_id: &str, user_id: Option<&str>) -> AccessKeyRow {
    AccessKeyRow {
        access_key_id: access_key_id.to_owned(),
        account_id: ACCOUNT.to_owned(),
        user_id: user_id.map(str::to_owned),
        secret_sealed: "sealed".to_owned(),
        status: "Active".to_owned(),
        created_at: 1,
        last_used: None,
    }
}
