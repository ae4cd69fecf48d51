//! Who owns each bucket, where it lives and its policy, as the gate reads them: the
//! `s3_buckets` rows of the database, so that every server sharing it sees the same
//! buckets at once.

use std::sync::Arc;

use oxiam_core::Oxiam;
use oxiam_store::{BucketRow, StoreError};

/// The bucket rows, read through the IAM core's store.
#[derive(Debug)]
pub struct Buckets {
    oxiam: Arc<Oxiam>,
}

impl Buckets {
    pub fn new(oxiam: Arc<Oxiam>) -> Self {
        Self { oxiam }
    }

    /// The bucket named `name`, if there is one.
    pub async fn get(&self, name: &str) -> Result<Option<BucketRow>, StoreError> {
        self.oxiam.store().s3_bucket(name).await
    }
}
