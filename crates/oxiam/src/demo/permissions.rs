//! Scenario 1, the flagship (`oxiam demo users`): two users with different permissions on
//! one bucket, each allowed exactly what its policy says.

use super::{Clients, Denial, Error, Result, Tidy, buckets, expect_denied, keys, policies, step, unique_suffix, users};

/// What the demo saw.
#[derive(Debug, Clone, PartialEq)]
pub struct PermissionsOutcome {
    /// The bucket the admin created (and deleted).
    pub bucket: String,
    /// The key of the object the writer put.
    pub object_key: String,
    /// The users' ids, writer first (the same before and after the renames).
    pub user_ids: Vec<String>,
    /// The users' names after the renames, as ListUsers found them by id.
    pub renamed_to: Vec<String>,
    /// The policies the demo created (and deleted), write policy first.
    pub policy_arns: Vec<String>,
    /// The bytes the reader got back.
    pub bytes_read: Vec<u8>,
    /// Who was denied what: the writer's GetObject, then the reader's DeleteObject.
    pub denials: Vec<Denial>,
}

/// A user the demo made, as far as it got.
#[derive(Debug, Default)]
struct DemoUser {
    name: String,
    key_id: Option<String>,
    attached: Option<String>,
}

/// Everything the demo made, for the clean-up.
#[derive(Debug, Default)]
struct Made {
    bucket: Option<String>,
    users: Vec<DemoUser>,
    policies: Vec<String>,
}

/// The users' first names, and their names after the rename.
pub const WRITER: (&str, &str) = ("demo-iam-writer", "demo-iam-creator");
/// The reader's names.
pub const READER: (&str, &str) = ("demo-iam-reader", "demo-iam-getter");
/// The policies' names.
pub const POLICIES: (&str, &str) = ("demo-iam-write-policy", "demo-iam-read-policy");

/// Scenario 1, as `admin`: create a bucket, a writer allowed only PutObject and a reader
/// allowed only GetObject in it; show each doing what it may and being denied the rest;
/// clean everything up.
pub async fn run(admin: &Clients) -> Result<PermissionsOutcome> {
    let mut made = Made::default();
    let outcome = scenario(admin, &mut made).await;
    step("Cleaning up: keys, policies, users, then the bucket");
    let mut tidy = Tidy::default();
    for user in &made.users {
        if let Some(key_id) = &user.key_id
            && tidy.check(keys::delete_key(&admin.iam, &user.name, key_id).await)
        {
            println!("   Deleted {}'s key {key_id}.", user.name);
        }
        if let Some(arn) = &user.attached
            && tidy.check(users::detach_policy(&admin.iam, &user.name, arn).await)
        {
            println!("   Detached {arn} from {}.", user.name);
        }
    }
    for arn in &made.policies {
        if tidy.check(policies::delete_policy(&admin.iam, arn).await) {
            println!("   Deleted {arn}.");
        }
    }
    for user in &made.users {
        if tidy.check(users::delete_user(&admin.iam, &user.name).await) {
            println!("   Deleted user {}.", user.name);
        }
    }
    if let Some(bucket) = &made.bucket {
        match buckets::empty_bucket(&admin.s3, bucket).await {
            Ok(keys) => println!("   Emptied {bucket} (deleted {} object(s)).", keys.len()),
            Err(e) => {
                tidy.check::<()>(Err(e));
            }
        }
        if tidy.check(buckets::delete_bucket(&admin.s3, bucket).await) {
            println!("   Deleted the bucket {bucket}.");
        }
    }
    tidy.settle(outcome)
}

async fn scenario(admin: &Clients, made: &mut Made) -> Result<PermissionsOutcome> {
    let suffix = unique_suffix();
    let bucket = format!("demo-iam-bucket-{suffix}");
    let region = admin.region().to_owned();
    step(&format!(
        "The admin creates the bucket {bucket} in {region} (CreateBucket)"
    ));
    buckets::create_bucket(&admin.s3, &bucket, &region).await?;
    made.bucket = Some(bucket.clone());
    println!("   Created {bucket}.");

    step("Creating two users (CreateUser), then renaming them (UpdateUser)");
    let mut ids = Vec::new();
    for (first, _) in [WRITER, READER] {
        let user = users::create_user(&admin.iam, first).await?;
        made.users.push(DemoUser {
            name: user.user_name().to_owned(),
            ..DemoUser::default()
        });
        println!(
            "   Created {} with id {} ({}).",
            user.user_name(),
            user.user_id(),
            user.arn()
        );
        ids.push(user.user_id().to_owned());
    }
    for (i, (first, renamed)) in [WRITER, READER].into_iter().enumerate() {
        users::rename_user(&admin.iam, first, renamed).await?;
        made.users[i].name = renamed.to_owned();
        println!("   Renamed {first} to {renamed}.");
    }
    let mut renamed_to = Vec::new();
    for id in &ids {
        let found = users::find_user_by_id(&admin.iam, id)
            .await?
            .ok_or_else(|| Error::new("ListUsers", format!("no user has the id {id} after the rename")))?;
        println!(
            "   ListUsers finds id {id} as {}: ids survive a rename.",
            found.user_name()
        );
        renamed_to.push(found.user_name().to_owned());
    }

    step("Creating a write policy and a read policy on the bucket's objects (CreatePolicy)");
    let objects = format!("arn:aws:s3:::{bucket}/*");
    let mut policy_arns = Vec::new();
    for (name, action, description) in [
        (POLICIES.0, "s3:PutObject", "Allows PutObject in the demo bucket."),
        (POLICIES.1, "s3:GetObject", "Allows GetObject in the demo bucket."),
    ] {
        let document = super::allow(&[action], &[&objects]);
        let policy = policies::create_policy(&admin.iam, name, description, &document.to_string()).await?;
        let arn = policy.arn().unwrap_or_default().to_owned();
        made.policies.push(arn.clone());
        println!("   Created {arn}: allow {action} on {objects}.");
        policy_arns.push(arn);
    }

    step("Attaching them (AttachUserPolicy) and giving each user an access key (CreateAccessKey)");
    let mut clients = Vec::new();
    for (i, arn) in policy_arns.iter().enumerate() {
        let name = made.users[i].name.clone();
        users::attach_policy(&admin.iam, &name, arn).await?;
        made.users[i].attached = Some(arn.clone());
        println!("   Attached {arn} to {name}.");
        let key = keys::create_key(&admin.iam, &name).await?;
        made.users[i].key_id = Some(key.access_key_id().to_owned());
        println!("   Created {name}'s access key {}.", key.access_key_id());
        clients.push(admin.with_key(&key));
    }
    let (writer, reader) = (&clients[0], &clients[1]);
    let (writer_name, reader_name) = (made.users[0].name.clone(), made.users[1].name.clone());

    let object_key = "demo-object.txt".to_owned();
    let object_arn = format!("arn:aws:s3:::{bucket}/{object_key}");
    let content = format!("Hello from {writer_name}!").into_bytes();
    step(&format!("{writer_name} puts an object, then tries to read it back"));
    super::retry(admin, super::NEW_GRANT_NOT_YET, || {
        buckets::put_object(&writer.s3, &bucket, &object_key, content.clone())
    })
    .await?;
    println!("   {writer_name} put {object_arn} ({} bytes): allowed.", content.len());
    let mut denials = Vec::new();
    let attempt = super::retry(admin, super::NEW_KEY_NOT_YET, || {
        buckets::get_object(&writer.s3, &bucket, &object_key)
    })
    .await;
    let because = format!(
        "{writer_name}'s only policy, {}, allows s3:PutObject and nothing else",
        POLICIES.0
    );
    denials.push(expect_denied(
        &writer_name,
        "s3:GetObject",
        &object_arn,
        &because,
        attempt,
    )?);

    step(&format!("{reader_name} reads the object, then tries to delete it"));
    let bytes_read = super::retry(admin, super::NEW_GRANT_NOT_YET, || {
        buckets::get_object(&reader.s3, &bucket, &object_key)
    })
    .await?;
    println!(
        "   {reader_name} got {object_arn}: {:?}: allowed.",
        String::from_utf8_lossy(&bytes_read)
    );
    if bytes_read != content {
        return Err(Error::new(
            format!("GetObject {bucket}/{object_key}"),
            "the bytes read are not the bytes put",
        ));
    }
    let attempt = super::retry(admin, super::NEW_KEY_NOT_YET, || {
        buckets::delete_object(&reader.s3, &bucket, &object_key)
    })
    .await;
    let because = format!(
        "{reader_name}'s only policy, {}, allows s3:GetObject and nothing else",
        POLICIES.1
    );
    denials.push(expect_denied(
        &reader_name,
        "s3:DeleteObject",
        &object_arn,
        &because,
        attempt,
    )?);

    Ok(PermissionsOutcome {
        bucket,
        object_key,
        user_ids: ids,
        renamed_to,
        policy_arns,
        bytes_read,
        denials,
    })
}
