//! `oxiam account`: accounts beside the bootstrap one, each with its own root key, made
//! and listed by an operator: on the server's database while the server is stopped (on
//! SQLite the database's lock file refuses a second process), or, with `--endpoint-url`, by
//! a running server's accounts endpoint (`/_oxiam/accounts`), signed with the usual AWS
//! credentials, which must be the bootstrap account's root's.

#[derive(clap::Subcommand)]
pub enum AccountCommand {
    /// Create an account with a root access key, and print them once (the secret cannot be
    /// read back). The database must hold its bootstrap account already: start `oxiam
    /// serve` on it once first.
    Create(CreateArgs),
    /// List the accounts, the bootstrap account first.
    List(ListArgs),
}

/// Where the (stopped) server's database is, as `oxiam serve` is told, or which running
/// server to ask; and how to print.
#[derive(clap::Args)]
pub struct DatabaseArgs {
    #[command(flatten)]
    store: crate::StoreArgs,
    /// Ask the running server at this URL (http://…) instead of opening its database,
    /// signing with the usual AWS credentials (those of the bootstrap account's root).
    #[arg(long)]
    endpoint_url: Option<String>,
    /// Print JSON: one object for `create`, an array for `list`.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct CreateArgs {
    /// The new account's id (12 digits; random if unset).
    #[arg(long)]
    account_id: Option<String>,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    database: DatabaseArgs,
}

impl AccountCommand {
    fn database(&self) -> &DatabaseArgs {
        match self {
            AccountCommand::Create(args) => &args.database,
            AccountCommand::List(args) => &args.database,
        }
    }
}

/// An account made: its id and its root key.
struct Made {
    account_id: String,
    access_key_id: String,
    secret_access_key: String,
}

/// An account listed.
struct Listed {
    account_id: String,
    created_at: i64,
    origin: String,
}

pub async fn run(command: AccountCommand) -> Result<(), String> {
    let database = command.database();
    match &command {
        AccountCommand::Create(args) => {
            let made = match &database.endpoint_url {
                Some(endpoint) => {
                    let body = match &args.account_id {
                        Some(id) => serde_json::json!({ "AccountId": id }).to_string(),
                        None => String::new(),
                    };
                    let answer = ask(endpoint, "POST", &body).await?;
                    let field = |name: &str| answer[name].as_str().unwrap_or_default().to_owned();
                    Made {
                        account_id: field("AccountId"),
                        access_key_id: field("AccessKeyId"),
                        secret_access_key: field("SecretAccessKey"),
                    }
                }
                None => create_in_database(&database.store, args.account_id.as_deref()).await?,
            };
            if database.json {
                let object = serde_json::json!({
                    "AccountId": made.account_id,
                    "AccessKeyId": made.access_key_id,
                    "SecretAccessKey": made.secret_access_key,
                });
                println!("{object}");
            } else {
                println!(
                    "Created account {} with a root access key:\n  AWS_ACCESS_KEY_ID={}\n  AWS_SECRET_ACCESS_KEY={}\n\
                     Keep it now; oxiam will not show the secret again.",
                    made.account_id, made.access_key_id, made.secret_access_key
                );
            }
        }
        AccountCommand::List(_) => {
            let accounts = match &database.endpoint_url {
                Some(endpoint) => {
                    let answer = ask(endpoint, "GET", "").await?;
                    answer["Accounts"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| Listed {
                            account_id: a["AccountId"].as_str().unwrap_or_default().to_owned(),
                            created_at: a["CreatedAt"].as_i64().unwrap_or_default(),
                            origin: a["Origin"].as_str().unwrap_or_default().to_owned(),
                        })
                        .collect()
                }
                None => open(&database.store)
                    .await?
                    .accounts()
                    .await
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .map(|a| Listed {
                        account_id: a.account_id,
                        created_at: a.created_at,
                        origin: a.origin,
                    })
                    .collect::<Vec<_>>(),
            };
            if database.json {
                let list: Vec<_> = accounts
                    .iter()
                    .map(|a| {
                        serde_json::json!({
                            "AccountId": a.account_id,
                            "CreatedAt": a.created_at,
                            "Bootstrap": a.origin == "bootstrap",
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(list));
            } else {
                for a in &accounts {
                    let how = match a.origin.as_str() {
                        "bootstrap" => " (bootstrap)",
                        "organization" => " (made by an organization)",
                        _ => "",
                    };
                    println!("{}{how}", a.account_id);
                }
            }
        }
    }
    Ok(())
}

async fn open(store: &crate::StoreArgs) -> Result<oxiam_core::Oxiam, String> {
    oxiam_server::open(&store.data_dir, store.database_url.as_deref(), store.master_key()?)
        .await
        .map_err(|e| e.to_string())
}

async fn create_in_database(store: &crate::StoreArgs, account_id: Option<&str>) -> Result<Made, String> {
    let oxiam = open(store).await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    // The bootstrap account is the server's to make, with its OXIAM_* variables: made
    // here, it would get a random id and a root key nobody was shown.
    let existing = oxiam.accounts().await.map_err(|e| e.to_string())?;
    if !existing.iter().any(|a| a.origin == "bootstrap") {
        return Err(
            "the database holds no account yet: start `oxiam serve` on it once first, \
                    which makes the bootstrap account"
                .to_owned(),
        );
    }
    let made = oxiam.create_account(account_id, now).await.map_err(|e| e.to_string())?;
    Ok(Made {
        account_id: made.account_id,
        access_key_id: made.access_key_id,
        secret_access_key: made.secret_access_key.0,
    })
}

/// One request to a running server's accounts endpoint, signed with SigV4 for the signing
/// name `oxiam` with the usual AWS credentials (environment, profile): its JSON answer, or
/// the server's error in words.
async fn ask(endpoint: &str, method: &str, body: &str) -> Result<serde_json::Value, String> {
    use aws_credential_types::provider::ProvideCredentials as _;
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use http_body_util::BodyExt as _;

    let url = format!("{}/_oxiam/accounts", endpoint.trim_end_matches('/'));
    let uri: http::Uri = url.parse().map_err(|e| format!("--endpoint-url {endpoint}: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err(format!(
            "--endpoint-url {endpoint}: only http:// is spoken here; for a server behind TLS, open its \
             database instead (--data-dir or --database-url)"
        ));
    }
    let authority = uri
        .authority()
        .ok_or_else(|| format!("--endpoint-url {endpoint}: no host"))?
        .clone();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
    let credentials = config
        .credentials_provider()
        .ok_or("no AWS credentials found (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or a profile)")?
        .provide_credentials()
        .await
        .map_err(|e| format!("no AWS credentials: {e}"))?;
    let region = config
        .region()
        .map_or_else(|| "us-east-1".to_owned(), |r| r.to_string());
    let identity: aws_smithy_runtime_api::client::identity::Identity = credentials.into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(&region)
        .name("oxiam")
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let mut headers = vec![
        ("host".to_owned(), authority.to_string()),
        ("content-type".to_owned(), "application/json".to_owned()),
    ];
    let signable = SignableRequest::new(
        method,
        &url,
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(body.as_bytes()),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
    headers.extend(instructions.headers().map(|(n, v)| (n.to_owned(), v.to_owned())));
    let mut request = http::Request::builder().method(method).uri(uri.path());
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    let request = request
        .body(http_body_util::Full::new(hyper::body::Bytes::from(body.to_owned())))
        .map_err(|e| e.to_string())?;
    let port = authority.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((authority.host(), port))
        .await
        .map_err(|e| format!("cannot reach {endpoint}: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .map_err(|e| format!("{endpoint}: {e}"))?;
    tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("{endpoint}: {e}"))?;
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("{endpoint}: {e}"))?
        .to_bytes();
    let answer: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| {
        format!(
            "{endpoint} answered {status} with no JSON: {}",
            String::from_utf8_lossy(&bytes)
        )
    })?;
    if !status.is_success() {
        return Err(format!(
            "{}: {}",
            answer["__type"].as_str().unwrap_or("error"),
            answer["Message"].as_str().unwrap_or_default()
        ));
    }
    Ok(answer)
}
