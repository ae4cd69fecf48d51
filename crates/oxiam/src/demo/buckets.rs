//! The few S3 calls the demos make: a bucket, objects in it, emptying and deleting it.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier};

use super::{Error, Result, aws};

/// CreateBucket in `region` (with a LocationConstraint, except in us-east-1, where S3
/// refuses one).
pub async fn create_bucket(s3: &Client, bucket: &str, region: &str) -> Result<()> {
    let mut request = s3.create_bucket().bucket(bucket);
    if region != "us-east-1" {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    request
        .send()
        .await
        .map_err(aws(format!("CreateBucket {bucket} in {region}")))?;
    Ok(())
}

/// ListBuckets: the names of the caller's buckets.
pub async fn list_buckets(s3: &Client) -> Result<Vec<String>> {
    let out = s3.list_buckets().send().await.map_err(aws("ListBuckets"))?;
    Ok(out
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect())
}

/// PutObject.
pub async fn put_object(s3: &Client, bucket: &str, key: &str, body: Vec<u8>) -> Result<()> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(aws(format!("PutObject {bucket}/{key}")))?;
    Ok(())
}

/// GetObject: the object's bytes.
pub async fn get_object(s3: &Client, bucket: &str, key: &str) -> Result<Vec<u8>> {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(aws(format!("GetObject {bucket}/{key}")))?;
    let body = out
        .body
        .collect()
        .await
        .map_err(|e| Error::new(format!("GetObject {bucket}/{key}"), e.to_string()))?;
    Ok(body.into_bytes().to_vec())
}

/// DeleteObject.
pub async fn delete_object(s3: &Client, bucket: &str, key: &str) -> Result<()> {
    s3.delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(aws(format!("DeleteObject {bucket}/{key}")))?;
    Ok(())
}

/// ListObjectsV2: the keys in the bucket, every page.
pub async fn list_keys(s3: &Client, bucket: &str) -> Result<Vec<String>> {
    let pages: Vec<_> = s3
        .list_objects_v2()
        .bucket(bucket)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(aws(format!("ListObjectsV2 {bucket}")))?;
    Ok(pages
        .iter()
        .flat_map(|page| page.contents())
        .filter_map(|object| object.key().map(str::to_owned))
        .collect())
}

/// Deletes every object in the bucket (ListObjectsV2, then DeleteObjects); returns their keys.
pub async fn empty_bucket(s3: &Client, bucket: &str) -> Result<Vec<String>> {
    let keys = list_keys(s3, bucket).await?;
    for chunk in keys.chunks(1000) {
        let objects = chunk
            .iter()
            .map(|key| ObjectIdentifier::builder().key(key).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::new(format!("DeleteObjects {bucket}"), e.to_string()))?;
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(|e| Error::new(format!("DeleteObjects {bucket}"), e.to_string()))?;
        let out = s3
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(aws(format!("DeleteObjects {bucket}")))?;
        if let Some(failed) = out.errors().first() {
            return Err(Error {
                doing: format!("DeleteObjects {bucket}/{}", failed.key().unwrap_or("?")),
                code: failed.code().map(str::to_owned),
                message: failed.message().unwrap_or_default().to_owned(),
            });
        }
    }
    Ok(keys)
}

/// DeleteBucket (it must be empty).
pub async fn delete_bucket(s3: &Client, bucket: &str) -> Result<()> {
    s3.delete_bucket()
        .bucket(bucket)
        .send()
        .await
        .map_err(aws(format!("DeleteBucket {bucket}")))?;
    Ok(())
}
