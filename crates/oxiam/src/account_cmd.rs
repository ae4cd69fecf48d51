//! `oxiam account`: accounts beside the bootstrap one, each with its own root key, made
//! and listed by an operator on the server's database while the server is stopped (on
//! SQLite the database's lock file refuses a second process).

#[derive(clap::Subcommand)]
pub enum AccountCommand {
    /// Create an account with a root access key, and print them once (the secret cannot be
    /// read back). The database must hold its bootstrap account already: start `oxiam
    /// serve` on it once first.
    Create(CreateArgs),
    /// List the accounts, the bootstrap account first.
    List(ListArgs),
}

/// Where the (stopped) server's database is, as `oxiam serve` is told, and how to print.
#[derive(clap::Args)]
pub struct DatabaseArgs {
    #[command(flatten)]
    store: crate::StoreArgs,
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

pub async fn run(command: AccountCommand) -> Result<(), String> {
    let database = command.database();
    let store = &database.store;
    let oxiam = oxiam_server::open(&store.data_dir, store.database_url.as_deref(), store.master_key()?)
        .await
        .map_err(|e| e.to_string())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    match &command {
        AccountCommand::Create(args) => {
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
            let made = oxiam
                .create_account(args.account_id.as_deref(), now)
                .await
                .map_err(|e| e.to_string())?;
            if database.json {
                let object = serde_json::json!({
                    "AccountId": made.account_id,
                    "AccessKeyId": made.access_key_id,
                    "SecretAccessKey": made.secret_access_key.0,
                });
                println!("{object}");
            } else {
                println!(
                    "Created account {} with a root access key:\n  AWS_ACCESS_KEY_ID={}\n  AWS_SECRET_ACCESS_KEY={}\n\
                     Keep it now; oxiam will not show the secret again.",
                    made.account_id, made.access_key_id, made.secret_access_key.0
                );
            }
        }
        AccountCommand::List(_) => {
            let accounts = oxiam.accounts().await.map_err(|e| e.to_string())?;
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
                    let how = if a.origin == "bootstrap" { " (bootstrap)" } else { "" };
                    println!("{}{how}", a.account_id);
                }
            }
        }
    }
    Ok(())
}
