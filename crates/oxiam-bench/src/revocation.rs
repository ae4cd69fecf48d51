//! The revocation window between two servers sharing a database: how long after one server
//! acknowledges taking a permission away the other still grants it.
//!
//! An IAM user (made for the run) may `iam:GetUser`. Each round grants again on the writer,
//! waits until the observer serves the user, then revokes on the writer and asks the
//! observer, as fast as one client can, until it refuses. The window is the time from the
//! writer's acknowledgment to the first refusal; each round revokes both ways in turn: the
//! key deactivated, and the inline policy deleted.

use std::time::{Duration, Instant};

use crate::client::{Connection, Endpoint, Error, Key};

const POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}"#;

/// How long the observer may go on granting before the round counts as failed.
const GIVE_UP: Duration = Duration::from_secs(10);

pub struct Setup {
    pub writer: Endpoint,
    pub observer: Endpoint,
    pub root: Key,
    pub rounds: usize,
}

async fn ok(connection: &mut Connection, key: &Key, action: &str, params: &[(&str, &str)]) -> Result<String, Error> {
    let reply = connection.query(key, "iam", action, params).await?;
    if !reply.ok() {
        return Err(format!("{action}: {} {}", reply.status, reply.text()).into());
    }
    Ok(reply.text())
}

/// Asks the observer as the user until `granted` is what it answers; returns when.
async fn until(observer: &mut Connection, user: &Key, granted: bool) -> Result<Instant, Error> {
    let began = Instant::now();
    loop {
        let reply = observer.query(user, "iam", "GetUser", &[]).await?;
        if reply.ok() == granted {
            return Ok(Instant::now());
        }
        if began.elapsed() > GIVE_UP {
            let wanted = if granted { "granted" } else { "refused" };
            return Err(format!("the observer had not {wanted} after {GIVE_UP:?}: {}", reply.text()).into());
        }
    }
}

/// Runs the rounds; prints each kind's windows (milliseconds) as percentiles.
pub async fn measure(setup: Setup) -> Result<(), Error> {
    let Setup {
        writer,
        observer,
        root,
        rounds,
    } = setup;
    let (writer, observer) = (&mut writer.connection(), &mut observer.connection());
    let name = format!("bench-revocation-{}", std::process::id());
    ok(writer, &root, "CreateUser", &[("UserName", &name)]).await?;
    let policy = [
        ("UserName", name.as_str()),
        ("PolicyName", "p"),
        ("PolicyDocument", POLICY),
    ];
    ok(writer, &root, "PutUserPolicy", &policy).await?;
    let created = writer
        .query(&root, "iam", "CreateAccessKey", &[("UserName", &name)])
        .await?;
    let (Some(id), Some(secret)) = (created.field("AccessKeyId"), created.field("SecretAccessKey")) else {
        return Err(format!("CreateAccessKey: {}", created.text()).into());
    };
    let user = Key::new(&id, &secret);
    let (mut key_windows, mut policy_windows) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        // The key deactivated.
        until(observer, &user, true).await?;
        let key_params = [("UserName", name.as_str()), ("AccessKeyId", id.as_str())];
        ok(
            writer,
            &root,
            "UpdateAccessKey",
            &[key_params[0], key_params[1], ("Status", "Inactive")],
        )
        .await?;
        let acknowledged = Instant::now();
        key_windows.push(until(observer, &user, false).await? - acknowledged);
        ok(
            writer,
            &root,
            "UpdateAccessKey",
            &[key_params[0], key_params[1], ("Status", "Active")],
        )
        .await?;

        // The policy deleted.
        until(observer, &user, true).await?;
        ok(
            writer,
            &root,
            "DeleteUserPolicy",
            &[("UserName", &name), ("PolicyName", "p")],
        )
        .await?;
        let acknowledged = Instant::now();
        policy_windows.push(until(observer, &user, false).await? - acknowledged);
        ok(writer, &root, "PutUserPolicy", &policy).await?;
    }
    ok(
        writer,
        &root,
        "DeleteAccessKey",
        &[("UserName", &name), ("AccessKeyId", &id)],
    )
    .await?;
    ok(
        writer,
        &root,
        "DeleteUserPolicy",
        &[("UserName", &name), ("PolicyName", "p")],
    )
    .await?;
    ok(writer, &root, "DeleteUser", &[("UserName", &name)]).await?;
    println!("| revoked by | rounds | p50 ms | p90 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (kind, windows) in [
        ("UpdateAccessKey Inactive", &mut key_windows),
        ("DeleteUserPolicy", &mut policy_windows),
    ] {
        windows.sort();
        let at = |q: f64| {
            let i = ((windows.len() as f64 * q).ceil() as usize).clamp(1, windows.len()) - 1;
            windows[i].as_secs_f64() * 1000.0
        };
        println!(
            "| {kind} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
            windows.len(),
            at(0.5),
            at(0.9),
            at(0.99),
            at(1.0)
        );
    }
    Ok(())
}
