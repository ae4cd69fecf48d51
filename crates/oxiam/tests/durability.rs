//! Group commit as an operator relies on it, with real `oxiam serve` processes on SQLite
//! and on PostgreSQL: writers create users as fast as they can, the server is killed
//! (SIGKILL) with writes in flight, and after a restart every acknowledged user is there;
//! what was cut short was either committed whole or not at all.

use crate::common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use oxiam::demo::Embedded;

fn iam(address: &str) -> aws_sdk_iam::Client {
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
        .region(aws_sdk_iam::config::Region::new("us-east-1"))
        .endpoint_url(format!("http://{address}"))
        .credentials_provider(aws_credential_types::Credentials::new(
            Embedded::ROOT_ACCESS_KEY_ID,
            Embedded::ROOT_SECRET_ACCESS_KEY,
            None,
            None,
            "test",
        ))
        .build();
    aws_sdk_iam::Client::from_conf(config)
}

const WRITERS: usize = 16;

async fn a_kill_under_load_loses_no_acknowledged_write(extra: &[&str]) {
    let data = tempfile::tempdir().unwrap();
    let first = common::serve(data.path(), extra, &[]).await;
    let client = iam(&first.address);
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let (client, acknowledged) = (client.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            for n in 0.. {
                let name = format!("w{writer}-{n}");
                match client
                    .create_user()
                    .user_name(&name)
                    .tags(
                        aws_sdk_iam::types::Tag::builder()
                            .key("n")
                            .value(n.to_string())
                            .build()
                            .unwrap(),
                    )
                    .send()
                    .await
                {
                    Ok(_) => acknowledged.lock().unwrap().push(name),
                    Err(_) => return,
                }
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    drop(first);
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() > WRITERS, "only {} acknowledged", acknowledged.len());

    let second = common::serve(data.path(), extra, &[]).await;
    let client = iam(&second.address);
    let mut listed = BTreeSet::new();
    let mut marker = None;
    loop {
        let page = client
            .list_users()
            .set_marker(marker)
            .max_items(1000)
            .send()
            .await
            .unwrap();
        listed.extend(page.users().iter().map(|u| u.user_name().to_owned()));
        marker = page.marker().map(str::to_owned);
        if marker.is_none() {
            break;
        }
    }
    for name in &acknowledged {
        assert!(listed.contains(name), "{name} was acknowledged, and is gone");
    }
    // At most one write per writer was in flight when the server died.
    assert!(
        listed.len() <= acknowledged.len() + WRITERS,
        "{} listed, {} acknowledged",
        listed.len(),
        acknowledged.len()
    );
    // Each one there is whole: its tag came with it.
    for name in listed.iter().filter(|n| !acknowledged.contains(n)) {
        let tags = client.list_user_tags().user_name(name).send().await.unwrap();
        assert_eq!(tags.tags().len(), 1, "{name} is there in part");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite() {
    a_kill_under_load_loses_no_acknowledged_write(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres() {
    let Some(database) = common::FreshDatabase::create().await else {
        return;
    };
    a_kill_under_load_loses_no_acknowledged_write(&["--database-url", database.url.as_str()]).await;
}
