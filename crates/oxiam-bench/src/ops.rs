//! The operations of the mix, and the setup (as root, through the API) that they need.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use tokio::task::JoinSet;

use crate::client::{Connection, Endpoint, Error, Key, Reply};

pub const BUCKET: &str = "oxiam-bench";
pub const OBJECT: &str = "object.txt";
pub const CALLER: &str = "bench-caller";
pub const ROLE: &str = "oxiam-bench-role";
pub const ALLOW_POLICY: &str = "oxiam-bench-allow";
pub const ATTACH_POLICY: &str = "oxiam-bench-attach";
/// Users created so that ListUsers has a full page of 100 to return.
pub const LIST_FILLERS: usize = 100;
/// Policies that [`Op::Attach`] attaches to each of its users: IAM's quota of managed
/// policies per user.
pub const ATTACH_POLICIES: u64 = 10;

/// One operation of the mix. Pairs (create then delete) leave the store as they found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    GetUser,
    ListUsers,
    CreateDeleteUser,
    AccessKey,
    AttachDetach,
    GetCallerIdentity,
    S3GetObject,
    AssumeRole,
    /// CreateUser alone (users are kept): durable writes, and the bulk path to N users.
    CreateUser,
    /// AttachUserPolicy alone (attachments are kept): each client attaches the
    /// [`ATTACH_POLICIES`] policies to a user of its own, then creates the next user.
    Attach,
}

impl Op {
    pub const MIX: [Op; 8] = [
        Op::GetUser,
        Op::ListUsers,
        Op::CreateDeleteUser,
        Op::AccessKey,
        Op::AttachDetach,
        Op::GetCallerIdentity,
        Op::S3GetObject,
        Op::AssumeRole,
    ];
    pub const ALL: [Op; 10] = [
        Op::GetUser,
        Op::ListUsers,
        Op::CreateDeleteUser,
        Op::AccessKey,
        Op::AttachDetach,
        Op::GetCallerIdentity,
        Op::S3GetObject,
        Op::AssumeRole,
        Op::CreateUser,
        Op::Attach,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::GetUser => "GetUser",
            Op::ListUsers => "ListUsers",
            Op::CreateDeleteUser => "CreateUser+DeleteUser",
            Op::AccessKey => "CreateAccessKey+DeleteAccessKey",
            Op::AttachDetach => "AttachUserPolicy+DetachUserPolicy",
            Op::GetCallerIdentity => "GetCallerIdentity",
            Op::S3GetObject => "S3 GetObject",
            Op::AssumeRole => "AssumeRole",
            Op::CreateUser => "CreateUser",
            Op::Attach => "AttachUserPolicy",
        }
    }

    pub fn parse(text: &str) -> Option<Op> {
        let short = |op: Op| match op {
            Op::CreateDeleteUser => "CreateDeleteUser",
            Op::AccessKey => "AccessKey",
            Op::AttachDetach => "AttachDetach",
            Op::S3GetObject => "S3GetObject",
            Op::Attach => "Attach",
            other => other.name(),
        };
        Op::ALL
            .into_iter()
            .find(|op| short(*op).eq_ignore_ascii_case(text) || op.name().eq_ignore_ascii_case(text))
    }

    /// AWS refuses AssumeRole to the root user ("Roles may not be assumed by root accounts").
    pub fn allowed_for_root(self) -> bool {
        self != Op::AssumeRole
    }
}

/// What every client needs: the endpoint, the account, and the two keys.
pub struct Ctx {
    pub endpoint: Endpoint,
    pub account: String,
    pub root: Key,
    pub user: Key,
    /// Distinguishes this run's temporary names from any left by an interrupted one.
    pub nonce: String,
}

impl Ctx {
    fn attach_arn(&self) -> String {
        format!("arn:aws:iam::{}:policy/{ATTACH_POLICY}", self.account)
    }
    fn attach_arn_numbered(&self, n: u64) -> String {
        format!("arn:aws:iam::{}:policy/{ATTACH_POLICY}-{n}", self.account)
    }
    fn role_arn(&self) -> String {
        format!("arn:aws:iam::{}:role/{ROLE}", self.account)
    }
}

/// One request's outcome: which request, how long it took, and the reply (or error) if it failed.
pub struct Sample {
    pub request: &'static str,
    pub micros: u64,
    pub failure: Option<String>,
    /// When it ended.
    pub at: Instant,
}

async fn timed(
    out: &mut Vec<Sample>,
    request: &'static str,
    call: impl std::future::Future<Output = Result<Reply, Error>>,
) -> Option<Reply> {
    let start = Instant::now();
    let result = call.await;
    let at = Instant::now();
    let (reply, failure) = match result {
        Ok(reply) if reply.ok() => (Some(reply), None),
        Ok(reply) => (None, Some(format!("HTTP {}: {}", reply.status, reply.text()))),
        Err(error) => (None, Some(format!("transport: {error}"))),
    };
    out.push(Sample {
        request,
        micros: at.duration_since(start).as_micros() as u64,
        failure,
        at,
    });
    reply
}

/// Runs one iteration of `op` as client `client` (its `n`th, on its connection), signed
/// with `key`.
pub async fn run(
    ctx: &Ctx,
    connection: &mut Connection,
    key: &Key,
    op: Op,
    client: usize,
    n: u64,
    out: &mut Vec<Sample>,
) {
    let target = format!("bench-c{client}");
    // Kept names differ between callers too: each caller's phase counts `n` from 0.
    let caller = &key.access_key_id[key.access_key_id.len().saturating_sub(4)..];
    match op {
        Op::GetUser => {
            timed(
                out,
                "GetUser",
                connection.query(key, "iam", "GetUser", &[("UserName", &target)]),
            )
            .await;
        }
        Op::ListUsers => {
            timed(
                out,
                "ListUsers",
                connection.query(key, "iam", "ListUsers", &[("MaxItems", "100")]),
            )
            .await;
        }
        Op::CreateDeleteUser => {
            let name = format!("bench-t{}-{client}-{n}", ctx.nonce);
            let created = timed(
                out,
                "CreateUser",
                connection.query(key, "iam", "CreateUser", &[("UserName", &name)]),
            )
            .await;
            if created.is_some() {
                timed(
                    out,
                    "DeleteUser",
                    connection.query(key, "iam", "DeleteUser", &[("UserName", &name)]),
                )
                .await;
            }
        }
        Op::CreateUser => {
            let name = format!("bench-k{}-{caller}-{client}-{n}", ctx.nonce);
            timed(
                out,
                "CreateUser",
                connection.query(key, "iam", "CreateUser", &[("UserName", &name)]),
            )
            .await;
        }
        Op::Attach => {
            let name = format!("bench-a{}-{caller}-{client}-{}", ctx.nonce, n / ATTACH_POLICIES);
            if n.is_multiple_of(ATTACH_POLICIES) {
                let params = [("UserName", name.as_str())];
                if timed(out, "CreateUser", connection.query(key, "iam", "CreateUser", &params))
                    .await
                    .is_none()
                {
                    return;
                }
            }
            let arn = ctx.attach_arn_numbered(n % ATTACH_POLICIES);
            let params = [("UserName", name.as_str()), ("PolicyArn", arn.as_str())];
            timed(
                out,
                "AttachUserPolicy",
                connection.query(key, "iam", "AttachUserPolicy", &params),
            )
            .await;
        }
        Op::AccessKey => {
            let created = timed(
                out,
                "CreateAccessKey",
                connection.query(key, "iam", "CreateAccessKey", &[("UserName", &target)]),
            )
            .await;
            if let Some(id) = created.and_then(|r| r.field("AccessKeyId")) {
                let params = [("UserName", target.as_str()), ("AccessKeyId", id.as_str())];
                timed(
                    out,
                    "DeleteAccessKey",
                    connection.query(key, "iam", "DeleteAccessKey", &params),
                )
                .await;
            }
        }
        Op::AttachDetach => {
            let arn = ctx.attach_arn();
            let params = [("UserName", target.as_str()), ("PolicyArn", arn.as_str())];
            let attached = timed(
                out,
                "AttachUserPolicy",
                connection.query(key, "iam", "AttachUserPolicy", &params),
            )
            .await;
            if attached.is_some() {
                timed(
                    out,
                    "DetachUserPolicy",
                    connection.query(key, "iam", "DetachUserPolicy", &params),
                )
                .await;
            }
        }
        Op::GetCallerIdentity => {
            timed(
                out,
                "GetCallerIdentity",
                connection.query(key, "sts", "GetCallerIdentity", &[]),
            )
            .await;
        }
        Op::S3GetObject => {
            let path = format!("/{BUCKET}/{OBJECT}");
            timed(out, "GetObject", connection.s3(key, "GET", &path, Bytes::new())).await;
        }
        Op::AssumeRole => {
            let arn = ctx.role_arn();
            let session = format!("bench-{client}");
            let params = [("RoleArn", arn.as_str()), ("RoleSessionName", session.as_str())];
            timed(out, "AssumeRole", connection.query(key, "sts", "AssumeRole", &params)).await;
        }
    }
}

/// Fails unless the reply is a success or says the thing already exists.
fn created_or_exists(what: &str, reply: Reply) -> Result<Reply, Error> {
    let code = reply.code();
    if reply.ok() || code.ends_with("AlreadyExists") || code == "BucketAlreadyOwnedByYou" {
        Ok(reply)
    } else {
        Err(format!("setup: {what}: HTTP {}: {}", reply.status, reply.text()).into())
    }
}

fn must(what: &str, reply: Reply) -> Result<Reply, Error> {
    if reply.ok() {
        Ok(reply)
    } else {
        Err(format!("setup: {what}: HTTP {}: {}", reply.status, reply.text()).into())
    }
}

/// Creates, as root, what the mix needs: the caller user (with a policy allowing every
/// operation of the mix, and a fresh access key), one target user per client, a page of
/// users to list, the policy to attach, the role to assume, and the bucket and object.
pub async fn setup(endpoint: Endpoint, root: Key, clients: usize) -> Result<Ctx, Error> {
    let connection = &mut endpoint.connection();
    let identity = must(
        "GetCallerIdentity",
        connection.query(&root, "sts", "GetCallerIdentity", &[]).await?,
    )?;
    let account = identity
        .field("Account")
        .ok_or("setup: GetCallerIdentity has no Account")?;
    let allow = format!(
        r#"{{"Version":"2012-10-17","Statement":[
{{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}},
{{"Effect":"Allow","Action":["iam:GetUser","iam:CreateUser","iam:DeleteUser","iam:CreateAccessKey","iam:DeleteAccessKey","iam:AttachUserPolicy","iam:DetachUserPolicy"],"Resource":"arn:aws:iam::{account}:user/bench-*"}},
{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{BUCKET}/*"}},
{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::{account}:role/{ROLE}"}}]}}"#
    );
    let attach =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#;
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let numbered = (0..ATTACH_POLICIES).map(|n| (format!("{ATTACH_POLICY}-{n}"), attach));
    let policies = [
        (ALLOW_POLICY.to_owned(), allow.as_str()),
        (ATTACH_POLICY.to_owned(), attach),
    ];
    for (name, doc) in policies.into_iter().chain(numbered) {
        let params = [("PolicyName", name.as_str()), ("PolicyDocument", doc)];
        created_or_exists(&name, connection.query(&root, "iam", "CreatePolicy", &params).await?)?;
    }
    let params = [("RoleName", ROLE), ("AssumeRolePolicyDocument", trust.as_str())];
    created_or_exists(ROLE, connection.query(&root, "iam", "CreateRole", &params).await?)?;

    // The caller: its policy, and a fresh key (its old ones deleted: two at most).
    created_or_exists(
        CALLER,
        connection
            .query(&root, "iam", "CreateUser", &[("UserName", CALLER)])
            .await?,
    )?;
    let allow_arn = format!("arn:aws:iam::{account}:policy/{ALLOW_POLICY}");
    let params = [("UserName", CALLER), ("PolicyArn", allow_arn.as_str())];
    must(
        "attach",
        connection.query(&root, "iam", "AttachUserPolicy", &params).await?,
    )?;
    let keys = must(
        "ListAccessKeys",
        connection
            .query(&root, "iam", "ListAccessKeys", &[("UserName", CALLER)])
            .await?,
    )?;
    for old in keys.text().split("<AccessKeyId>").skip(1) {
        let id = old.split("</AccessKeyId>").next().unwrap_or("");
        let params = [("UserName", CALLER), ("AccessKeyId", id)];
        must(
            "DeleteAccessKey",
            connection.query(&root, "iam", "DeleteAccessKey", &params).await?,
        )?;
    }
    let key = must(
        "CreateAccessKey",
        connection
            .query(&root, "iam", "CreateAccessKey", &[("UserName", CALLER)])
            .await?,
    )?;
    let user = Key::new(
        &key.field("AccessKeyId").ok_or("setup: no AccessKeyId")?,
        &key.field("SecretAccessKey").ok_or("setup: no SecretAccessKey")?,
    );

    // S3: the bucket and a 1 KiB object.
    created_or_exists(
        BUCKET,
        connection.s3(&root, "PUT", &format!("/{BUCKET}"), Bytes::new()).await?,
    )?;
    let body = Bytes::from(vec![b'x'; 1024]);
    must(
        "PutObject",
        connection
            .s3(&root, "PUT", &format!("/{BUCKET}/{OBJECT}"), body)
            .await?,
    )?;

    let nonce = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis()
    );
    let ctx = Arc::new(Ctx {
        endpoint,
        account,
        root,
        user,
        nonce,
    });

    // Users: one target per client, and a full page to list (16 requests at a time).
    let names: Vec<String> = (0..clients)
        .map(|i| format!("bench-c{i}"))
        .chain((0..LIST_FILLERS).map(|i| format!("bench-l{i:03}")))
        .collect();
    let names = Arc::new(names);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    for _ in 0..16 {
        let (ctx, names, next) = (ctx.clone(), names.clone(), next.clone());
        tasks.spawn(async move {
            let mut connection = ctx.endpoint.connection();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(name) = names.get(i) else {
                    return Ok::<_, Error>(());
                };
                let reply = connection
                    .query(&ctx.root, "iam", "CreateUser", &[("UserName", name)])
                    .await?;
                created_or_exists(name, reply)?;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Arc::into_inner(ctx).ok_or_else(|| "setup: context still shared".into())
}
