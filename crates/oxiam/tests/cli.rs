//! `oxiam demo` as a command: on its own embedded server, or pointed at a running one with
//! the usual AWS environment variables; a failed step exits non-zero with AWS's error.

use crate::common;

use std::process::{Command, Output};

use oxiam::demo::{self, Clients, Embedded};

/// Runs `oxiam ARGS` with only the AWS environment given (none of the caller's own).
async fn oxiam(args: &[&str], env: &[(&str, &str)]) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    tokio::task::spawn_blocking(move || {
        let home = tempfile::tempdir().unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_oxiam"));
        command.args(&args);
        for (key, _) in std::env::vars() {
            if key.starts_with("AWS_") || key == "OXIAM_LOG" {
                command.env_remove(key);
            }
        }
        command
            .env("HOME", home.path())
            .env("AWS_CONFIG_FILE", home.path().join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", home.path().join("credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .envs(env);
        command.output().unwrap()
    })
    .await
    .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_on_an_embedded_server_needs_nothing_else() {
    let out = oxiam(&["demo", "policies"], &[]).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains("Started an embedded oxiam at http://127.0.0.1:"),
        "{stdout}"
    );
    assert!(stdout.contains("Acting as arn:aws:iam::123456789012:root"), "{stdout}");
    assert!(stdout.contains("v1 is the default again; deleted v2."), "{stdout}");
    assert!(stdout.contains("\"Action\": \"s3:ListObjects\""), "{stdout}");
    assert!(stdout.contains("Stopped the embedded oxiam and removed its data directory."));
    let dir = stdout
        .split("data in ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .map(|line| line.trim_end_matches('.'))
        .expect("the data directory is named");
    assert!(!std::path::Path::new(dir).exists(), "{dir} is removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_against_a_running_server_with_environment_credentials() {
    let server = Embedded::start().await.unwrap();
    let root = Clients::new(&server.sdk_config("us-east-1"));
    let endpoint = server.endpoint_url();
    let out = oxiam(
        &["demo", "keys", "--endpoint-url", &endpoint],
        &[
            ("AWS_ACCESS_KEY_ID", Embedded::ROOT_ACCESS_KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", Embedded::ROOT_SECRET_ACCESS_KEY),
            ("AWS_REGION", "eu-west-3"),
        ],
    )
    .await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(!stdout.contains("embedded"), "{stdout}");
    assert!(stdout.contains(&format!("on {endpoint}, in eu-west-3")), "{stdout}");
    assert!(stdout.contains("Region:       eu-west-3"), "{stdout}");
    // It worked on that server, and left nothing behind there.
    assert!(demo::users::list_users(&root.iam).await.unwrap().is_empty());
    let summary = demo::account::account_summary(&root.iam).await.unwrap();
    assert_eq!(summary.get("Users"), Some(&0));
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_step_exits_non_zero_with_the_error_and_cleans_up() {
    let server = Embedded::start().await.unwrap();
    let root = Clients::new(&server.sdk_config("us-east-1"));
    // A user who may create and delete roles, but not attach policies to them.
    demo::users::create_user(&root.iam, "role-clerk").await.unwrap();
    let document = demo::allow(
        &[
            "iam:CreateRole",
            "iam:GetRole",
            "iam:DeleteRole",
            "iam:ListAttachedRolePolicies",
            "iam:ListRolePolicies",
            "iam:DetachRolePolicy",
            "sts:GetCallerIdentity",
        ],
        &["*"],
    );
    demo::users::put_inline_policy(&root.iam, "role-clerk", "only-these", &document.to_string())
        .await
        .unwrap();
    let key = demo::keys::create_key(&root.iam, "role-clerk").await.unwrap();

    let endpoint = server.endpoint_url();
    let out = oxiam(
        &["demo", "roles", "--endpoint-url", &endpoint],
        &[
            ("AWS_ACCESS_KEY_ID", key.access_key_id()),
            ("AWS_SECRET_ACCESS_KEY", key.secret_access_key()),
        ],
    )
    .await;
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(
        stderr.contains("oxiam: demo roles failed: AttachRolePolicy arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"),
        "{stderr}"
    );
    assert!(stderr.contains("AccessDenied"), "{stderr}");
    assert!(stderr.contains("iam:AttachRolePolicy"), "{stderr}");
    // The role it had created is gone.
    let roles = root.iam.list_roles().send().await.unwrap();
    assert!(roles.roles().is_empty(), "{roles:?}");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_key_exits_non_zero_with_the_error() {
    let server = Embedded::start().await.unwrap();
    let endpoint = server.endpoint_url();
    let out = oxiam(
        &["demo", "account", "--endpoint-url", &endpoint],
        &[
            ("AWS_ACCESS_KEY_ID", "AKIAUNKNOWNKEY000000"),
            ("AWS_SECRET_ACCESS_KEY", "nope"),
        ],
    )
    .await;
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("GetCallerIdentity: InvalidClientTokenId"), "{stderr}");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_all_on_an_embedded_server() {
    let out = oxiam(&["demo", "all"], &[]).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    for title in oxiam::demo::Scenario::ALL.map(|s| s.title()) {
        assert!(stdout.contains(title), "{title}");
    }
}

/// `oxiam serve` keeps its data private: the data directory 0700, the database, its WAL and
/// S3 objects 0600, whatever the caller's umask; a looser directory is tightened at start.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_files_are_private() {
    use std::os::unix::fs::PermissionsExt as _;

    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (child, address, stderr) = serve(&dir, &[]).await;
    // Keep reading the log so the server never blocks on a full pipe.
    let drain = tokio::task::spawn_blocking(move || stderr.for_each(drop));

    let config = root_config(&address);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket().bucket("private").send().await.unwrap();
    s3.put_object()
        .bucket("private")
        .key("secret.txt")
        .body(b"s3cr3t".to_vec().into())
        .send()
        .await
        .unwrap();

    let mut checked = 0;
    let mut stack = vec![dir.clone()];
    while let Some(path) = stack.pop() {
        let meta = std::fs::metadata(&path).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} is {mode:o}", path.display());
        checked += 1;
        if meta.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        }
    }
    assert!(checked > 5, "only {checked} files seen");
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);

    stop(child).await;
    drain.await.unwrap();
}

use common::LogLines;

/// A running `oxiam serve`, killed if a failing test drops it (so that the test fails
/// instead of waiting for ever on its log).
struct Served(Option<std::process::Child>);

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `oxiam serve` on a free port with `dir` and `extra` arguments, its address, and its log.
async fn serve(dir: &std::path::Path, extra: &[&str]) -> (Served, String, LogLines) {
    let (child, address, lines) = common::start_serve(dir, extra, &[]).await;
    (Served(Some(child)), address, lines)
}

fn root_config(address: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(format!("http://{address}"))
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new(
                Embedded::ROOT_ACCESS_KEY_ID,
                Embedded::ROOT_SECRET_ACCESS_KEY,
                None,
                None,
                "test",
            ),
        ))
        .build()
}

/// Stops the server as an operator would, and expects a clean exit.
async fn stop(mut served: Served) {
    let mut child = served.0.take().expect("running");
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
}

/// With `--log-format json` every log line is a JSON object, the request's among them with
/// its fields; with `--audit-log` each request is one JSON line in a private file. Neither
/// holds a secret.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_and_the_audit_trail() {
    use std::os::unix::fs::PermissionsExt as _;
    let data = tempfile::tempdir().unwrap();
    let audit = data.path().join("audit.jsonl");
    let audit_arg = audit.to_str().unwrap().to_owned();
    let (child, address, stderr) = serve(
        &data.path().join("data"),
        &["--log-format", "json", "--audit-log", &audit_arg],
    )
    .await;
    let sts = aws_sdk_sts::Client::new(&root_config(&address));
    let who = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(who.account(), Some("123456789012"));
    let iam = aws_sdk_iam::Client::new(&root_config(&address));
    iam.get_user().user_name("nobody").send().await.unwrap_err();
    stop(child).await;

    let log: Vec<String> = tokio::task::spawn_blocking(move || stderr.map(Result::unwrap).collect())
        .await
        .unwrap();
    let mut requests = Vec::new();
    for line in &log {
        let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if value["fields"]["message"] == "request" {
            requests.push(value["fields"].clone());
        }
        assert!(
            !line.contains(Embedded::ROOT_SECRET_ACCESS_KEY),
            "a secret in the log: {line}"
        );
    }
    assert_eq!(requests.len(), 2, "{log:#?}");
    assert_eq!(requests[0]["operation"], "GetCallerIdentity");
    assert_eq!(requests[0]["decided_by"], "no permission required");
    assert_eq!(requests[1]["error_code"], "NoSuchEntity");

    let trail = std::fs::read_to_string(&audit).unwrap();
    assert!(
        !trail.contains(Embedded::ROOT_SECRET_ACCESS_KEY),
        "a secret in the audit trail"
    );
    let events: Vec<serde_json::Value> = trail.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), 2, "{trail}");
    assert_eq!(events[0]["eventSource"], "sts.amazonaws.com");
    assert_eq!(events[0]["eventName"], "GetCallerIdentity");
    assert_eq!(events[0]["userIdentity"]["accessKeyId"], Embedded::ROOT_ACCESS_KEY_ID);
    assert_eq!(events[0]["userIdentity"]["arn"], "arn:aws:iam::123456789012:root");
    assert_eq!(events[0]["userIdentity"]["type"], "Root");
    assert_eq!(events[0]["awsRegion"], "us-east-1");
    assert_eq!(events[1]["eventName"], "GetUser");
    assert_eq!(events[1]["errorCode"], "NoSuchEntity");
    assert_eq!(events[1]["readOnly"], true);
    assert_eq!(events[1]["oxiam"]["httpStatus"], 404);
    assert_eq!(events[1]["oxiam"]["verdicts"][0]["decidedBy"], "account root");
    assert_eq!(std::fs::metadata(&audit).unwrap().permissions().mode() & 0o777, 0o600);
}

/// A request whose audit event cannot be written fails (500) rather than go unrecorded,
/// on IAM, STS and S3 alike.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_cannot_be_audited_fails() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data");
    // Every write to /dev/full fails with ENOSPC.
    let (child, address, stderr) = serve(&dir, &["--audit-log", "/dev/full"]).await;
    let drain = tokio::task::spawn_blocking(move || stderr.for_each(drop));
    let config = root_config(&address);
    let iam = aws_sdk_iam::Client::new(&config);
    // The first request runs, then fails for want of its event; from then on nothing runs.
    let e = iam.create_user().user_name("first").send().await.unwrap_err();
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(500), "{e:?}");
    let e = iam.create_user().user_name("second").send().await.unwrap_err();
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(500), "{e:?}");
    let e = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    let raw = e.raw_response().map(|r| r.status().as_u16());
    assert_eq!(raw, Some(500), "{e:?}");
    let e = aws_sdk_iam::Client::new(&config).list_users().send().await.unwrap_err();
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(500), "{e:?}");
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    let e = s3.list_buckets().send().await.unwrap_err();
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(500), "{e:?}");
    stop(child).await;
    drain.await.unwrap();

    // Started again without the trail: only the first CreateUser ever ran.
    let (child, address, stderr) = serve(&dir, &[]).await;
    let drain = tokio::task::spawn_blocking(move || stderr.for_each(drop));
    let users = aws_sdk_iam::Client::new(&root_config(&address))
        .list_users()
        .send()
        .await
        .unwrap();
    let names: Vec<_> = users.users().iter().map(|u| u.user_name()).collect();
    assert_eq!(names, ["first"]);
    stop(child).await;
    drain.await.unwrap();
}

/// `--version` names the git revision of the build (this test runs in a checkout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_version_names_its_revision() {
    let out = oxiam(&["--version"], &[]).await;
    let version = text(&out.stdout);
    assert!(out.status.success());
    let revision = version
        .trim()
        .strip_prefix(concat!("oxiam ", env!("CARGO_PKG_VERSION"), " ("))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{version}"));
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match head {
        // Built from this checkout (cargo rebuilds when HEAD moves).
        Some(head) => assert_eq!(revision.trim_end_matches("-modified"), head, "{version}"),
        None => assert!(!revision.is_empty(), "{version}"),
    }
}

/// `--audit-log -` writes the events to standard output, one JSON object per line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_trail_can_go_to_standard_output() {
    use std::io::BufRead as _;
    let data = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_oxiam"))
        .args(["serve", "--listen", "127.0.0.1:0", "--audit-log", "-", "--data-dir"])
        .arg(data.path().join("data"))
        .env("OXIAM_ACCOUNT_ID", "123456789012")
        .env("OXIAM_ROOT_ACCESS_KEY_ID", Embedded::ROOT_ACCESS_KEY_ID)
        .env("OXIAM_ROOT_SECRET_ACCESS_KEY", Embedded::ROOT_SECRET_ACCESS_KEY)
        .env("OXIAM_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let served = Served(Some(child));
    let address = tokio::task::spawn_blocking(move || {
        let mut lines = std::io::BufReader::new(stderr).lines();
        let address = loop {
            let line = lines.next().expect("the server logs where it listens").unwrap();
            if let Some(rest) = line.split("address=").nth(1) {
                break rest.split(' ').next().unwrap().to_owned();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        address
    })
    .await
    .unwrap();
    let sts = aws_sdk_sts::Client::new(&root_config(&address));
    sts.get_caller_identity().send().await.unwrap();
    stop(served).await;
    let events: Vec<serde_json::Value> = std::io::BufReader::new(stdout)
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["eventName"], "GetCallerIdentity");
}

/// `oxiam audit` prints the events that match, by caller, action, decision and time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_trail_filters() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("audit.jsonl");
    let event = |time: &str, arn: &str, name: &str, action: &str, decision: &str| {
        format!(
            r#"{{"eventTime":"{time}","eventName":"{name}","userIdentity":{{"arn":"{arn}"}},"oxiam":{{"decision":"{decision}","verdicts":[{{"action":"{action}","decision":"{decision}"}}]}}}}"#
        )
    };
    let alice = "arn:aws:iam::123456789012:user/alice";
    let bob = "arn:aws:iam::123456789012:user/bob";
    let lines = [
        event("2026-12-03T10:00:00Z", alice, "GetUser", "iam:GetUser", "Allowed"),
        event("2026-12-03T11:00:00Z", bob, "GetObject", "s3:GetObject", "ExplicitDeny"),
        event(
            "2026-12-03T12:00:00Z",
            alice,
            "GetObject",
            "s3:GetObject",
            "ImplicitDeny",
        ),
    ];
    std::fs::write(&trail, lines.join("\n") + "\n").unwrap();
    let file = trail.to_str().unwrap();
    let matching = |args: &'static [&'static str]| {
        let file = file.to_owned();
        async move {
            let mut all = vec!["audit", file.as_str()];
            all.extend_from_slice(args);
            let out = oxiam(&all, &[]).await;
            (out.status.code(), text(&out.stdout).lines().count())
        }
    };
    assert_eq!(
        matching(&["--principal", "arn:aws:iam::123456789012:user/alice"]).await,
        (Some(0), 2)
    );
    assert_eq!(matching(&["--action", "S3:GetObject"]).await, (Some(0), 2));
    assert_eq!(matching(&["--action", "GetUser"]).await, (Some(0), 1));
    assert_eq!(matching(&["--decision", "explicitdeny"]).await, (Some(0), 1));
    assert_eq!(
        matching(&["--since", "2026-12-03T11:00:00Z", "--until", "2026-12-03T12:00:00Z"]).await,
        (Some(0), 1)
    );
    assert_eq!(
        matching(&["--principal", "arn:aws:iam::123456789012:user/carol"]).await,
        (Some(1), 0)
    );
    assert_eq!(
        matching(&["--since", "yesterday"]).await.0,
        Some(2),
        "times as the trail writes them"
    );
    // A line the server could not finish is skipped; the rest still counts.
    std::fs::write(&trail, lines.join("\n") + "\n{\"eventTi\n").unwrap();
    assert_eq!(matching(&[]).await, (Some(0), 3));
    std::fs::write(&trail, "not json\n").unwrap();
    assert_eq!(matching(&[]).await.0, Some(2), "a file that is not a trail is an error");
}

/// `oxiam account create` on a stopped server's data directory makes an account whose root
/// key the server then accepts; `--json` prints exactly one object; a taken id, and a
/// database a running server holds, are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_made_by_the_operator_are_served() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap().to_owned();
    // A new database's first account is the server's to make (with its OXIAM_* variables).
    let first = oxiam(&["account", "create", "--data-dir", &dir], &[]).await;
    assert!(!first.status.success());
    assert!(
        text(&first.stderr).contains("start `oxiam serve`"),
        "{}",
        text(&first.stderr)
    );
    let (served, _address, _log) = serve(data.path(), &[]).await;
    // The running server holds the database: the command must not write beside it.
    let busy = oxiam(&["account", "create", "--data-dir", &dir], &[]).await;
    assert!(!busy.status.success(), "{}", text(&busy.stdout));
    stop(served).await;

    let made = oxiam(
        &[
            "account",
            "create",
            "--account-id",
            "210987654321",
            "--json",
            "--data-dir",
            &dir,
        ],
        &[],
    )
    .await;
    assert!(made.status.success(), "{}", text(&made.stderr));
    let object: serde_json::Value = serde_json::from_slice(&made.stdout).unwrap();
    let object = object.as_object().unwrap();
    assert_eq!(
        object.keys().map(String::as_str).collect::<Vec<_>>(),
        ["AccessKeyId", "AccountId", "SecretAccessKey"]
    );
    assert_eq!(object["AccountId"], "210987654321");
    let again = oxiam(
        &["account", "create", "--account-id", "210987654321", "--data-dir", &dir],
        &[],
    )
    .await;
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("already exists"),
        "{}",
        text(&again.stderr)
    );
    let listed = oxiam(&["account", "list", "--json", "--data-dir", &dir], &[]).await;
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let ids: Vec<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["AccountId"].as_str().unwrap().to_owned(),
                a["Bootstrap"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        [("123456789012".to_owned(), true), ("210987654321".to_owned(), false)]
    );

    let (served, address_again, _log) = serve(data.path(), &[]).await;
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(format!("http://{address_again}"))
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new(
                object["AccessKeyId"].as_str().unwrap(),
                object["SecretAccessKey"].as_str().unwrap(),
                None,
                None,
                "test",
            ),
        ))
        .build();
    let who = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(who.arn(), Some("arn:aws:iam::210987654321:root"));
    // The bootstrap account is still the one the server starts with.
    let root = aws_sdk_sts::Client::new(&root_config(&address_again))
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(root.account(), Some("123456789012"));
    stop(served).await;
}

/// The configured root key belongs to the bootstrap account: a restart that gives its id
/// with another secret is refused before anything is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_root_key_id_with_another_secret_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap().to_owned();
    let (served, _address, _log) = serve(data.path(), &[]).await;
    stop(served).await;
    let restart = std::process::Command::new(env!("CARGO_BIN_EXE_oxiam"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", &dir])
        .env("OXIAM_ACCOUNT_ID", "123456789012")
        .env("OXIAM_ROOT_ACCESS_KEY_ID", Embedded::ROOT_ACCESS_KEY_ID)
        .env(
            "OXIAM_ROOT_SECRET_ACCESS_KEY",
            "not-the-secret-it-was-made-with-0000000000",
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Killed if it serves after all (the guard), rather than waited on for ever.
    let mut restart = Served(Some(restart));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while restart.0.as_mut().unwrap().try_wait().unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "the server started");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let refused = restart.0.take().unwrap().wait_with_output().unwrap();
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("already exists with a different secret or owner"),
        "{}",
        text(&refused.stderr)
    );
}

/// `--workers N` sets how many threads answer: one serves; none is refused before anything
/// starts, in clap's words naming the flag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_answers_on_the_workers_it_is_given() {
    let data = tempfile::tempdir().unwrap();
    let (served, address, _log) = serve(data.path(), &["--workers", "1"]).await;
    let iam = aws_sdk_iam::Client::new(&root_config(&address));
    let root = iam.get_user().send().await.unwrap();
    assert_eq!(root.user().map(|u| u.arn()), Some("arn:aws:iam::123456789012:root"));
    stop(served).await;

    let dir = data.path().to_str().unwrap();
    let none = oxiam(
        &["serve", "--listen", "127.0.0.1:0", "--workers", "0", "--data-dir", dir],
        &[],
    )
    .await;
    // clap's exit code for a usage error, before any runtime starts.
    assert_eq!(none.status.code(), Some(2), "{}", text(&none.stderr));
    assert!(text(&none.stderr).contains("--workers"), "{}", text(&none.stderr));
}

/// `oxiam account … --endpoint-url` asks a running server, signed as the bootstrap
/// account's root: the account it makes is served at once; anyone else is refused, an
/// unsigned request and another account's root included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_made_by_a_running_server_for_the_bootstrap_root_alone() {
    let data = tempfile::tempdir().unwrap();
    let (served, address, _log) = serve(data.path(), &[]).await;
    let endpoint = format!("http://{address}");
    let root = [
        ("AWS_ACCESS_KEY_ID", Embedded::ROOT_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", Embedded::ROOT_SECRET_ACCESS_KEY),
        ("AWS_REGION", "us-east-1"),
    ];
    let made = oxiam(&["account", "create", "--json", "--endpoint-url", &endpoint], &root).await;
    assert!(made.status.success(), "{}", text(&made.stderr));
    let object: serde_json::Value = serde_json::from_slice(&made.stdout).unwrap();
    let (id, key, secret) = (
        object["AccountId"].as_str().unwrap(),
        object["AccessKeyId"].as_str().unwrap(),
        object["SecretAccessKey"].as_str().unwrap(),
    );
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(&endpoint)
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new(key, secret, None, None, "test"),
        ))
        .build();
    let who = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(who.account(), Some(id));
    let listed = oxiam(&["account", "list", "--json", "--endpoint-url", &endpoint], &root).await;
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["AccountId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["123456789012", id]);

    // The new account's own root may not make accounts; nor may a wrong secret.
    let other = [
        ("AWS_ACCESS_KEY_ID", key),
        ("AWS_SECRET_ACCESS_KEY", secret),
        ("AWS_REGION", "us-east-1"),
    ];
    let refused = oxiam(&["account", "create", "--endpoint-url", &endpoint], &other).await;
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("AccessDenied"),
        "{}",
        text(&refused.stderr)
    );
    // Nor the bootstrap root's own temporary credentials: only its long-term key.
    let root_sts = aws_sdk_sts::Client::new(&root_config(&address));
    let session = root_sts.get_session_token().send().await.unwrap();
    let session = session.credentials().unwrap();
    let temporary = [
        ("AWS_ACCESS_KEY_ID", session.access_key_id()),
        ("AWS_SECRET_ACCESS_KEY", session.secret_access_key()),
        ("AWS_SESSION_TOKEN", session.session_token()),
        ("AWS_REGION", "us-east-1"),
    ];
    let refused = oxiam(&["account", "create", "--endpoint-url", &endpoint], &temporary).await;
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("AccessDenied"),
        "{}",
        text(&refused.stderr)
    );
    let forged = [
        ("AWS_ACCESS_KEY_ID", Embedded::ROOT_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", "not-the-secret"),
        ("AWS_REGION", "us-east-1"),
    ];
    let refused = oxiam(&["account", "list", "--endpoint-url", &endpoint], &forged).await;
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("SignatureDoesNotMatch"),
        "{}",
        text(&refused.stderr)
    );
    let unsigned = {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        let request = format!(
            "POST /_oxiam/accounts HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer
    };
    assert!(unsigned.starts_with("HTTP/1.1 403"), "{unsigned}");
    assert!(unsigned.contains("MissingAuthenticationToken"), "{unsigned}");
    let taken = oxiam(
        &["account", "create", "--account-id", id, "--endpoint-url", &endpoint],
        &root,
    )
    .await;
    assert!(
        text(&taken.stderr).contains("already exists"),
        "{}",
        text(&taken.stderr)
    );
    stop(served).await;
}

/// `oxiam serve --help` names every `OXIAM_*` variable the server's source reads (the
/// build's own `OXIAM_GIT_REVISION` aside), so that none goes undocumented.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_help_names_every_variable_the_server_reads() {
    let out = oxiam(&["serve", "--help"], &[]).await;
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(help.contains("IAM, STS and S3"), "{help}");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut sources = vec![root.join("oxiam/src/main.rs")];
    for dir in ["oxiam-server/src", "oxiam-core/src", "oxiam-store/src"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                sources.push(path);
            }
        }
    }
    let mut named = std::collections::BTreeSet::new();
    for source in sources {
        let text = std::fs::read_to_string(&source).unwrap();
        for piece in text.split("\"OXIAM_").skip(1) {
            let name: String = piece
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if piece[name.len()..].starts_with('"') && name != "GIT_REVISION" {
                named.insert(format!("OXIAM_{name}"));
            }
        }
    }
    assert!(named.len() >= 19, "{named:?}");
    let missing: Vec<&String> = named.iter().filter(|n| !help.contains(n.as_str())).collect();
    assert!(missing.is_empty(), "not in `oxiam serve --help`: {missing:?}");
}

/// The soft-mode workflow: an application runs as a user with no policy under
/// `--enforcement log`, its requests recorded; `oxiam policy suggest --verify` reads the trail
/// and writes the least-privilege policy; under `enforce`, a user holding only that policy
/// makes the same requests, and nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggest_writes_the_policy_an_application_needs() {
    let data = tempfile::tempdir().unwrap();
    let audit = data.path().join("audit.jsonl");
    let audit_arg = audit.to_str().unwrap().to_owned();
    let (served, address, _log) = serve(data.path(), &["--enforcement", "log", "--audit-log", &audit_arg]).await;
    let root = root_config(&address);
    let iam = aws_sdk_iam::Client::new(&root);
    iam.create_user().user_name("app").send().await.unwrap();
    let key = user_key(&iam, "app").await;
    // What the application does.
    run_the_application(&config_of(&address, &key), "app-data").await;
    stop(served).await;

    let policy_file = data.path().join("app-policy.json");
    let out = suggest_for_app(&audit_arg, &["--out", policy_file.to_str().unwrap(), "--verify"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    // A time the trail's text cannot be compared with is refused, not misread.
    let refused = suggest_for_app(&audit_arg, &["--since", "2026-12-03 10:00:00"]).await;
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    let stderr = text(&out.stderr);
    let verified = stderr
        .lines()
        .find(|l| l.starts_with("verify: "))
        .expect("a verify line");
    let counts: Vec<&str> = verified
        .split_whitespace()
        .filter(|w| w.parse::<u32>().is_ok())
        .collect();
    assert!(
        counts.len() == 2 && counts[0] == counts[1] && counts[0] != "0",
        "{stderr}"
    );
    let policy: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&policy_file).unwrap()).unwrap();
    let granted: Vec<(String, serde_json::Value)> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["Action"].to_string(), s["Resource"].clone()))
        .collect();
    assert_eq!(
        granted,
        [
            (
                "\"iam:GetUser\"".to_owned(),
                serde_json::json!("arn:aws:iam::123456789012:user/app")
            ),
            (
                "\"s3:CreateBucket\"".to_owned(),
                serde_json::json!("arn:aws:s3:::app-data")
            ),
            (
                "\"s3:PutObject\"".to_owned(),
                serde_json::json!("arn:aws:s3:::app-data/report.csv")
            ),
        ]
    );
    assert!(std::fs::metadata(format!("{}.keys.txt", policy_file.display())).is_ok());
    // Against what the application holds today: the rest, the most powerful first.
    let current = data.path().join("current.json");
    std::fs::write(
        &current,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:GetObject","iam:AttachUserPolicy","iam:GetUser"],"Resource":"*"}]}"#,
    )
    .unwrap();
    let out = suggest_for_app(&audit_arg, &["--current-policy", current.to_str().unwrap()]).await;
    let beyond: Vec<String> = text(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("beyond: "))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        beyond,
        [
            "beyond: 2 actions the current policies may allow are not in the suggestion",
            "beyond: Permissions management: iam:AttachUserPolicy",
            "beyond: Read: s3:GetObject",
        ],
        "{}",
        text(&out.stderr)
    );
    // Enforced, a user with only the suggestion does the same, and is refused the rest.
    let (served, address, _log) = serve(data.path(), &[]).await;
    let iam = aws_sdk_iam::Client::new(&root_config(&address));
    iam.create_user().user_name("app2").send().await.unwrap();
    iam.put_user_policy()
        .user_name("app2")
        .policy_name("suggested")
        .policy_document(
            std::fs::read_to_string(&policy_file)
                .unwrap()
                .replace("user/app\"", "user/app2\"")
                .replace("app-data", "app-data-2"),
        )
        .send()
        .await
        .unwrap();
    let key = user_key(&iam, "app2").await;
    let s3 = run_the_application(&config_of(&address, &key), "app-data-2").await;
    let refused = s3.get_object().bucket("app-data-2").key("report.csv").send().await;
    assert!(refused.is_err(), "GetObject was never recorded, so never suggested");
    stop(served).await;
}

/// The issue's round trip: `oxiam demo all` runs as an administrator with the audit trail on;
/// `policy suggest --generalize ids --verify` reads what it did; a user holding only the
/// suggestion runs `demo all` again (every resource named afresh) and it passes, while a user
/// the demo never names is refused to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggest_from_demo_all_lets_the_demo_run_again() {
    let data = tempfile::tempdir().unwrap();
    let audit = data.path().join("audit.jsonl");
    let audit_arg = audit.to_str().unwrap().to_owned();
    let (served, address, log) = serve(data.path(), &["--audit-log", &audit_arg]).await;
    // A line per request: read, lest the pipe fill and the server wait on it.
    let drain = tokio::task::spawn_blocking(move || log.for_each(drop));
    let iam = aws_sdk_iam::Client::new(&root_config(&address));
    let key = user_holding(&iam, "runner", "arn:aws:iam::aws:policy/AdministratorAccess").await;
    let first = demo_all_as(&address, &key).await;
    assert!(first.status.success(), "{}", text(&first.stderr));
    // Stopped, the server has written its whole trail.
    stop(served).await;
    drain.await.unwrap();

    let policy_file = data.path().join("demo-policy.json");
    let out = oxiam(
        &[
            "policy",
            "suggest",
            "--audit-log",
            &audit_arg,
            "--principal",
            "arn:aws:iam::123456789012:user/runner",
            "--generalize",
            "ids",
            "--verify",
            "--out",
            policy_file.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let policy = std::fs::read_to_string(&policy_file).unwrap();
    // The run's own names (a nanosecond timestamp in each) are generalized away.
    let longest_digits = policy
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert_eq!(longest_digits, 12, "only the account's twelve digits: {policy}");

    let (served, address, log) = serve(data.path(), &[]).await;
    let drain = tokio::task::spawn_blocking(move || log.for_each(drop));
    let iam = aws_sdk_iam::Client::new(&root_config(&address));
    // A managed policy (6,144 characters), as an inline user policy's 2,048 would not hold it.
    iam.create_policy()
        .policy_name("suggested")
        .policy_document(&policy)
        .send()
        .await
        .unwrap();
    let key = user_holding(&iam, "runner2", "arn:aws:iam::123456789012:policy/suggested").await;
    let second = demo_all_as(&address, &key).await;
    assert!(second.status.success(), "{}", text(&second.stdout));
    // The suggestion is not the administrator's policy again.
    let runner2 = aws_sdk_iam::Client::new(&config_of(&address, &key));
    let refused = runner2.create_user().user_name("intruder").send().await.unwrap_err();
    assert_eq!(refused.into_service_error().meta().code(), Some("AccessDenied"));
    stop(served).await;
    drain.await.unwrap();
}

/// `suggest --endpoint-url`: the principal's current policies read from the server (inline,
/// attached, its groups'; a role session's role's), and what they allow beyond the suggestion
/// listed by access level.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggest_reads_the_current_policies_from_the_server() {
    let data = tempfile::tempdir().unwrap();
    let audit = data.path().join("audit.jsonl");
    let audit_arg = audit.to_str().unwrap().to_owned();
    let (served, address, log) = serve(data.path(), &["--audit-log", &audit_arg]).await;
    let drain = tokio::task::spawn_blocking(move || log.for_each(drop));
    let iam = aws_sdk_iam::Client::new(&root_config(&address));
    let allow = |actions: &[&str], resource: &str| {
        serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": actions, "Resource": resource}]})
        .to_string()
    };
    iam.create_user().user_name("app").send().await.unwrap();
    iam.put_user_policy()
        .user_name("app")
        .policy_name("own")
        .policy_document(allow(&["iam:GetUser", "s3:GetObject", "sts:AssumeRole"], "*"))
        .send()
        .await
        .unwrap();
    iam.create_policy()
        .policy_name("attach")
        .policy_document(allow(&["iam:AttachUserPolicy"], "*"))
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name("app")
        .policy_arn("arn:aws:iam::123456789012:policy/attach")
        .send()
        .await
        .unwrap();
    iam.create_group().group_name("senders").send().await.unwrap();
    iam.put_group_policy()
        .group_name("senders")
        .policy_name("send")
        .policy_document(allow(&["sqs:SendMessage"], "*"))
        .send()
        .await
        .unwrap();
    iam.add_user_to_group()
        .group_name("senders")
        .user_name("app")
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("app-role")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("app-role")
        .policy_name("role-own")
        .policy_document(allow(&["sts:GetCallerIdentity", "s3:ListAllMyBuckets"], "*"))
        .send()
        .await
        .unwrap();
    let key = user_key(&iam, "app").await;
    let app = config_of(&address, &key);
    aws_sdk_iam::Client::new(&app).get_user().send().await.unwrap();
    let session = aws_sdk_sts::Client::new(&app)
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/app-role")
        .role_session_name("s1")
        .send()
        .await
        .unwrap()
        .credentials
        .unwrap();
    let in_session = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(format!("http://{address}"))
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new(
                session.access_key_id(),
                session.secret_access_key(),
                Some(session.session_token().to_owned()),
                None,
                "t",
            ),
        ))
        .build();
    aws_sdk_sts::Client::new(&in_session)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    // Stopped, the server has written its whole trail; started again, it answers IAM.
    stop(served).await;
    drain.await.unwrap();
    let (served, address, log) = serve(data.path(), &[]).await;
    let drain = tokio::task::spawn_blocking(move || log.for_each(drop));
    let endpoint = format!("http://{address}");
    let suggest = |principal: &'static str| {
        let (audit, endpoint) = (audit_arg.clone(), endpoint.clone());
        async move {
            oxiam(
                &[
                    "policy",
                    "suggest",
                    "--audit-log",
                    &audit,
                    "--principal",
                    principal,
                    "--endpoint-url",
                    &endpoint,
                ],
                &[
                    ("AWS_ACCESS_KEY_ID", Embedded::ROOT_ACCESS_KEY_ID),
                    ("AWS_SECRET_ACCESS_KEY", Embedded::ROOT_SECRET_ACCESS_KEY),
                ],
            )
            .await
        }
    };
    let lines = |out: &Output, prefix: &str| -> Vec<String> {
        text(&out.stderr)
            .lines()
            .filter(|l| l.starts_with(prefix))
            .map(str::to_owned)
            .collect()
    };
    let out = suggest("arn:aws:iam::123456789012:user/app").await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        lines(&out, "current: "),
        [
            "current: user app: inline own",
            "current: group senders: inline send",
            "current: user app: arn:aws:iam::123456789012:policy/attach",
        ],
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        lines(&out, "beyond: "),
        // What the user did (GetUser, AssumeRole) is in the suggestion; the rest is beyond.
        [
            "beyond: 3 actions the current policies may allow are not in the suggestion",
            "beyond: Permissions management: iam:AttachUserPolicy",
            "beyond: Write: sqs:SendMessage",
            "beyond: Read: s3:GetObject",
        ],
        "{}",
        text(&out.stderr)
    );
    // A role session's policies are its role's.
    let out = suggest("arn:aws:sts::123456789012:assumed-role/app-role/*").await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        lines(&out, "current: "),
        ["current: role app-role: inline role-own"],
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        lines(&out, "beyond: "),
        [
            "beyond: 1 actions the current policies may allow are not in the suggestion",
            "beyond: List: s3:ListAllMyBuckets",
        ],
        "{}",
        text(&out.stderr)
    );
    stop(served).await;
    drain.await.unwrap();
}

/// `oxiam demo all` against the server at `address`, as the owner of `key`.
async fn demo_all_as(address: &str, key: &aws_sdk_iam::types::AccessKey) -> Output {
    let endpoint = format!("http://{address}");
    oxiam(
        &["demo", "all", "--endpoint-url", &endpoint],
        &[
            ("AWS_ACCESS_KEY_ID", key.access_key_id()),
            ("AWS_SECRET_ACCESS_KEY", key.secret_access_key()),
            ("AWS_REGION", "us-east-1"),
        ],
    )
    .await
}

/// `oxiam policy suggest` for the suggest test's application user, from `audit`.
async fn suggest_for_app(audit: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "policy",
        "suggest",
        "--audit-log",
        audit,
        "--principal",
        "arn:aws:iam::123456789012:user/app",
    ];
    args.extend_from_slice(extra);
    oxiam(&args, &[]).await
}

/// A new user holding the managed policy `policy_arn`, and a new access key of it.
async fn user_holding(iam: &aws_sdk_iam::Client, user: &str, policy_arn: &str) -> aws_sdk_iam::types::AccessKey {
    iam.create_user().user_name(user).send().await.unwrap();
    iam.attach_user_policy()
        .user_name(user)
        .policy_arn(policy_arn)
        .send()
        .await
        .unwrap();
    user_key(iam, user).await
}

/// A new access key of `user`.
async fn user_key(iam: &aws_sdk_iam::Client, user: &str) -> aws_sdk_iam::types::AccessKey {
    iam.create_access_key()
        .user_name(user)
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap()
}

/// The application of the suggest test: a bucket of its own, an object in it, and who it is.
async fn run_the_application(app: &aws_config::SdkConfig, bucket: &str) -> aws_sdk_s3::Client {
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(app).force_path_style(true).build());
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    s3.put_object()
        .bucket(bucket)
        .key("report.csv")
        .body(b"a,b".to_vec().into())
        .send()
        .await
        .unwrap();
    aws_sdk_iam::Client::new(app).get_user().send().await.unwrap();
    s3
}

/// An SDK configuration for `address`, signing with a user's access key.
fn config_of(address: &str, key: &aws_sdk_iam::types::AccessKey) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(format!("http://{address}"))
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new(key.access_key_id(), key.secret_access_key(), None, None, "t"),
        ))
        .build()
}

/// The CPUs in a `Cpus_allowed_list` line's value (`0-1,3`).
#[cfg(target_os = "linux")]
fn cpu_list(text: &str) -> std::collections::BTreeSet<u32> {
    let mut cpus = std::collections::BTreeSet::new();
    for range in text.trim().split(',').filter(|r| !r.is_empty()) {
        let (first, last) = range.split_once('-').unwrap_or((range, range));
        cpus.extend(first.parse::<u32>().unwrap()..=last.parse::<u32>().unwrap());
    }
    cpus
}

/// A thread of a process: its id, name and the CPUs it may run on.
#[cfg(target_os = "linux")]
type ThreadCpus = (u32, String, std::collections::BTreeSet<u32>);

/// Each thread of process `pid` that may not run on every CPU in `all`.
#[cfg(target_os = "linux")]
fn narrowed_threads(pid: u32, all: &std::collections::BTreeSet<u32>) -> Vec<ThreadCpus> {
    let mut narrowed = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let path = task.unwrap().path();
        let tid = path.file_name().unwrap().to_str().unwrap().parse().unwrap();
        // A thread that exits between the listing and the read is no longer there to check.
        let (Ok(name), Ok(status)) = (
            std::fs::read_to_string(path.join("comm")),
            std::fs::read_to_string(path.join("status")),
        ) else {
            continue;
        };
        let cpus = cpus_allowed(&status);
        if &cpus != all {
            narrowed.push((tid, name.trim().to_owned(), cpus));
        }
    }
    narrowed.sort();
    narrowed
}

/// The CPUs in a `/proc/…/status` file's `Cpus_allowed_list`.
#[cfg(target_os = "linux")]
fn cpus_allowed(status: &str) -> std::collections::BTreeSet<u32> {
    cpu_list(
        status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .unwrap(),
    )
}

/// The CPUs this test may run on (and the server it starts, which inherits them), if there
/// are two or more: on one, a pinned thread looks like any other.
#[cfg(target_os = "linux")]
fn several_own_cpus() -> Option<std::collections::BTreeSet<u32>> {
    let all = cpus_allowed(&std::fs::read_to_string("/proc/self/status").unwrap());
    if all.len() < 2 {
        eprintln!("one CPU: a pinned thread would look like any other");
        return None;
    }
    Some(all)
}

/// With one worker per CPU (the default count where no CPU quota is set; given here, as is
/// `auto`, so that neither the machine's quota nor the environment decides), each worker runs
/// on a CPU of its own and every other thread on all of them: also after a policy check has
/// run in `block_in_place` (`--lint-policies`, which may hand a worker's place to another
/// thread) and a password has been hashed on the blocking pool, whose threads a pinned worker
/// starts.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_worker_runs_on_a_cpu_of_its_own() {
    let Some(all) = several_own_cpus() else { return };
    let data = tempfile::tempdir().unwrap();
    let workers = all.len().to_string();
    let flags = [
        "--lint-policies",
        "deny",
        "--workers",
        &workers,
        "--pin-workers",
        "auto",
    ];
    let (served, address, log) = serve(data.path(), &flags).await;
    // Read, so that a long wait never fills the pipe and stalls the server's logging.
    let drain = tokio::task::spawn_blocking(move || log.for_each(drop));
    let pid = served.0.as_ref().unwrap().id();
    let config = root_config(&address);
    let iam = aws_sdk_iam::Client::new(&config);
    let sts = aws_sdk_sts::Client::new(&config);
    let document =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    iam.create_policy()
        .policy_name("checked")
        .policy_document(document)
        .send()
        .await
        .unwrap();
    iam.create_user().user_name("hashed").send().await.unwrap();
    iam.create_login_profile()
        .user_name("hashed")
        .password("Correct-Horse-9-battery!")
        .send()
        .await
        .unwrap();
    // A worker takes its CPU as it parks, strays are released once a second: requests go on
    // until the same threads have been seen so for over a second (a blocking-pool thread is
    // named as a worker is, and one left pinned would not stay so past a release).
    let mut narrowed = Vec::new();
    let mut settled_since: Option<(Vec<ThreadCpus>, std::time::Instant)> = None;
    for _ in 0..200 {
        sts.get_caller_identity().send().await.unwrap();
        narrowed = narrowed_threads(pid, &all);
        let pinned_workers: Vec<u32> = narrowed
            .iter()
            .filter(|(_, name, cpus)| name == "tokio-rt-worker" && cpus.len() == 1)
            .flat_map(|(_, _, cpus)| cpus.iter().copied())
            .collect();
        let each_cpu_once = pinned_workers.len() == all.len()
            && pinned_workers
                .iter()
                .copied()
                .collect::<std::collections::BTreeSet<_>>()
                == all;
        if narrowed.len() == all.len() && each_cpu_once {
            match &settled_since {
                Some((seen, since)) if *seen == narrowed => {
                    if since.elapsed() > std::time::Duration::from_millis(1100) {
                        stop(served).await;
                        drain.await.unwrap();
                        return;
                    }
                }
                _ => settled_since = Some((narrowed.clone(), std::time::Instant::now())),
            }
        } else {
            settled_since = None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("threads not settled on every CPU within 10 s: {narrowed:?} (expected one worker on each of {all:?})");
}

/// `--pin-workers off`, or a worker count other than the CPUs' with `auto`, leaves every
/// thread on every CPU (looked at for two seconds of requests).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_unpinned_when_told_or_not_one_per_cpu() {
    let Some(all) = several_own_cpus() else { return };
    let workers = all.len().to_string();
    let off = ["--pin-workers", "off", "--workers", &workers];
    for extra in [&off[..], &["--pin-workers", "auto", "--workers", "1"][..]] {
        let data = tempfile::tempdir().unwrap();
        let (served, address, log) = serve(data.path(), extra).await;
        let drain = tokio::task::spawn_blocking(move || log.for_each(drop));
        let pid = served.0.as_ref().unwrap().id();
        let sts = aws_sdk_sts::Client::new(&root_config(&address));
        for _ in 0..40 {
            sts.get_caller_identity().send().await.unwrap();
            assert_eq!(narrowed_threads(pid, &all), vec![], "{extra:?}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        stop(served).await;
        drain.await.unwrap();
    }
}
