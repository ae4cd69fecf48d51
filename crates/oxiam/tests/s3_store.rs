//! The S3 store as an operator relies on it, with real `oxiam serve` processes: an object
//! acknowledged before a `kill -9` is there, whole, after a restart, and nothing half
//! written is ever listed; two servers on one PostgreSQL database (sharing `--s3-dir`) see
//! the same buckets, policies and objects at once.

use crate::common;

use std::sync::{Arc, Mutex};

use aws_sdk_s3::primitives::ByteStream;
use oxiam::demo::Embedded;

fn s3(address: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url(format!("http://{address}"))
        .force_path_style(true)
        .credentials_provider(aws_credential_types::Credentials::new(
            Embedded::ROOT_ACCESS_KEY_ID,
            Embedded::ROOT_SECRET_ACCESS_KEY,
            None,
            None,
            "test",
        ))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// The body the writers put under `key`: 1 to 256 KiB, its bytes derived from the key, so
/// that any object read back can be checked whole without remembering it.
fn body_of(key: &str) -> Vec<u8> {
    let seed = key
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let size = 1024 * (1 + (seed % 256) as usize);
    key.bytes().chain(std::iter::once(b'|')).cycle().take(size).collect()
}

async fn read(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    let got = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{key}: {e:?}"));
    got.body.collect().await.unwrap().into_bytes().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_during_puts_loses_no_acknowledged_object_and_leaves_no_partial_one() {
    let data = tempfile::tempdir().unwrap();
    let first = common::serve(data.path(), &[], &[]).await;
    let client = s3(&first.address);
    client.create_bucket().bucket("durable").send().await.unwrap();

    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for writer in 0..8 {
        let (client, acknowledged) = (client.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            for n in 0.. {
                let key = format!("w{writer}/object-{n}");
                let put = client
                    .put_object()
                    .bucket("durable")
                    .key(&key)
                    .body(ByteStream::from(body_of(&key)))
                    .send()
                    .await;
                match put {
                    Ok(_) => acknowledged.lock().unwrap().push(key),
                    Err(_) => return,
                }
            }
        }));
    }
    // Let the writers get going, then pull the plug with PUTs in flight.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    drop(first);
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 8,
        "only {} PUTs were acknowledged",
        acknowledged.len()
    );

    let second = common::serve(data.path(), &[], &[]).await;
    let client = s3(&second.address);
    for key in &acknowledged {
        assert_eq!(read(&client, "durable", key).await, body_of(key), "{key}");
    }
    // Whatever is listed (acknowledged or caught between its commit and its answer) is
    // whole, with the ETag of its bytes; a PUT cut short left nothing.
    let mut listed = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket("durable")
            .set_continuation_token(token)
            .send()
            .await
            .unwrap();
        listed.extend(
            page.contents()
                .iter()
                .map(|o| (o.key().unwrap().to_owned(), o.e_tag().unwrap().to_owned())),
        );
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert!(listed.len() >= acknowledged.len());
    assert!(listed.len() <= acknowledged.len() + 8, "{} listed", listed.len());
    for (key, etag) in &listed {
        let bytes = read(&client, "durable", key).await;
        assert_eq!(bytes, body_of(key), "{key}");
        let md5 = md5_hex(&bytes);
        assert_eq!(etag.trim_matches('"'), md5, "{key}");
    }
    // Every blob left is one an object names: what the kill left unnamed (renamed but not
    // committed, or freed but not removed) is swept by the new server, in the background.
    let blob_files = || {
        let dirs = std::fs::read_dir(data.path().join("s3").join("blobs")).unwrap();
        dirs.flatten()
            .map(|d| std::fs::read_dir(d.path()).unwrap().count())
            .sum::<usize>()
    };
    let mut waited = 0;
    while blob_files() != listed.len() && waited < 100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    assert_eq!(blob_files(), listed.len());
    // Half-written files do not outlive a restart: what is left under tmp/ is the new
    // server's own (empty) directory.
    let tmp = data.path().join("s3").join("tmp");
    let left: Vec<_> = std::fs::read_dir(tmp).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(std::fs::read_dir(&left[0]).unwrap().count(), 0);
}

fn md5_hex(bytes: &[u8]) -> String {
    let output = std::process::Command::new("md5sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(bytes)?;
            child.wait_with_output()
        })
        .unwrap();
    String::from_utf8(output.stdout)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_share_buckets_policies_and_objects() {
    let Some(database) = common::FreshDatabase::create().await else {
        return;
    };
    let (data_a, data_b, objects) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let objects_dir = objects.path().to_str().unwrap();
    let args = ["--database-url", database.url.as_str(), "--s3-dir", objects_dir];
    let key = [("OXIAM_MASTER_KEY", "11".repeat(32))];
    let env: Vec<(&str, &str)> = key.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let a = common::serve(data_a.path(), &args, &env).await;
    let b = common::serve(data_b.path(), &args, &env).await;
    let (on_a, on_b) = (s3(&a.address), s3(&b.address));

    on_a.create_bucket().bucket("shared").send().await.unwrap();
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::shared"}]}"#;
    on_a.put_bucket_policy()
        .bucket("shared")
        .policy(policy)
        .send()
        .await
        .unwrap();
    on_a.put_object()
        .bucket("shared")
        .key("from-a")
        .body(ByteStream::from_static(b"written on a"))
        .send()
        .await
        .unwrap();

    // B sees the bucket, its policy (and obeys it) and A's object at once.
    on_b.head_bucket().bucket("shared").send().await.unwrap();
    let got = on_b.get_bucket_policy().bucket("shared").send().await.unwrap();
    assert_eq!(got.policy(), Some(policy));
    let refused = on_b.delete_bucket().bucket("shared").send().await.unwrap_err();
    assert_eq!(refused.raw_response().map(|r| r.status().as_u16()), Some(403));
    assert_eq!(read(&on_b, "shared", "from-a").await, b"written on a");
    let listed = on_b.list_objects_v2().bucket("shared").send().await.unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["from-a"]);

    // And the other way round, deletes included.
    on_b.put_object()
        .bucket("shared")
        .key("from-b")
        .body(ByteStream::from_static(b"written on b"))
        .send()
        .await
        .unwrap();
    assert_eq!(read(&on_a, "shared", "from-b").await, b"written on b");
    on_b.delete_object()
        .bucket("shared")
        .key("from-a")
        .send()
        .await
        .unwrap();
    let gone = on_a
        .get_object()
        .bucket("shared")
        .key("from-a")
        .send()
        .await
        .unwrap_err();
    assert_eq!(gone.raw_response().map(|r| r.status().as_u16()), Some(404));
    assert!(
        on_a.list_buckets()
            .send()
            .await
            .unwrap()
            .buckets()
            .iter()
            .any(|b| b.name() == Some("shared"))
    );
    drop((a, b));
}
