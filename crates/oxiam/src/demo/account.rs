//! The account: its alias, the credential report, the account summary and the authorization
//! details (the seed's `account_wrapper`), and scenario 5, "manage the account".

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_iam::Client;
use aws_sdk_iam::types::{GroupDetail, ManagedPolicyDetail, ReportStateType, RoleDetail, UserDetail};

use super::{Clients, Error, Result, Tidy, aws, step, unique_suffix};

/// ListAccountAliases (an account has at most one).
pub async fn list_aliases(iam: &Client) -> Result<Vec<String>> {
    let out = iam
        .list_account_aliases()
        .send()
        .await
        .map_err(aws("ListAccountAliases"))?;
    Ok(out.account_aliases)
}

/// CreateAccountAlias (it replaces the alias the account had, if any).
pub async fn create_alias(iam: &Client, alias: &str) -> Result<()> {
    iam.create_account_alias()
        .account_alias(alias)
        .send()
        .await
        .map_err(aws(format!("CreateAccountAlias {alias}")))?;
    Ok(())
}

/// DeleteAccountAlias.
pub async fn delete_alias(iam: &Client, alias: &str) -> Result<()> {
    iam.delete_account_alias()
        .account_alias(alias)
        .send()
        .await
        .map_err(aws(format!("DeleteAccountAlias {alias}")))?;
    Ok(())
}

/// GenerateCredentialReport until its State is `COMPLETE`; returns the states seen.
pub async fn generate_credential_report(iam: &Client) -> Result<Vec<ReportStateType>> {
    let mut states = Vec::new();
    let mut delay = Duration::from_millis(100);
    for _ in 0..30 {
        let out = iam
            .generate_credential_report()
            .send()
            .await
            .map_err(aws("GenerateCredentialReport"))?;
        let state = out.state.unwrap_or(ReportStateType::Started);
        states.push(state.clone());
        if state == ReportStateType::Complete {
            return Ok(states);
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
    Err(Error::new(
        "GenerateCredentialReport",
        "the report did not complete in time",
    ))
}

/// GetCredentialReport: the CSV (the SDK decodes the base64 of the wire format).
pub async fn get_credential_report(iam: &Client) -> Result<String> {
    let out = iam
        .get_credential_report()
        .send()
        .await
        .map_err(aws("GetCredentialReport"))?;
    let content = out
        .content
        .ok_or_else(|| Error::new("GetCredentialReport", "the answer holds no report"))?;
    String::from_utf8(content.into_inner()).map_err(|e| Error::new("GetCredentialReport", e.to_string()))
}

/// GetAccountSummary: the SummaryMap of counts and quotas, by name.
pub async fn account_summary(iam: &Client) -> Result<BTreeMap<String, i32>> {
    let out = iam
        .get_account_summary()
        .send()
        .await
        .map_err(aws("GetAccountSummary"))?;
    Ok(out
        .summary_map
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k.as_str().to_owned(), v))
        .collect())
}

/// Everything GetAccountAuthorizationDetails answers, all pages together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthorizationDetails {
    /// Users, with their groups and policies.
    pub users: Vec<UserDetail>,
    /// Groups, with their policies.
    pub groups: Vec<GroupDetail>,
    /// Roles, with their trust and permission policies.
    pub roles: Vec<RoleDetail>,
    /// Managed policies, with their versions.
    pub policies: Vec<ManagedPolicyDetail>,
}

/// GetAccountAuthorizationDetails with no filter, every page.
pub async fn authorization_details(iam: &Client) -> Result<AuthorizationDetails> {
    let mut details = AuthorizationDetails::default();
    let mut marker = None;
    loop {
        let out = iam
            .get_account_authorization_details()
            .set_marker(marker.take())
            .send()
            .await
            .map_err(aws("GetAccountAuthorizationDetails"))?;
        details.users.extend(out.user_detail_list.unwrap_or_default());
        details.groups.extend(out.group_detail_list.unwrap_or_default());
        details.roles.extend(out.role_detail_list.unwrap_or_default());
        details.policies.extend(out.policies.unwrap_or_default());
        match (out.is_truncated, out.marker) {
            (true, Some(next)) => marker = Some(next),
            _ => return Ok(details),
        }
    }
}

/// The first `n` comma-separated columns of a CSV line (the report quotes nothing).
pub fn first_columns(line: &str, n: usize) -> Vec<String> {
    line.split(',').take(n).map(str::to_owned).collect()
}

/// What the account demo saw.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountOutcome {
    /// The alias the account had before the demo (and has again after it).
    pub alias_before: Option<String>,
    /// The aliases listed after the second CreateAccountAlias (only the second one).
    pub aliases_after_second_create: Vec<String>,
    /// The alias the account has at the end.
    pub alias_after: Option<String>,
    /// The states GenerateCredentialReport answered, ending with `COMPLETE`.
    pub report_states: Vec<String>,
    /// The first three columns of every line of the credential report, header first.
    pub report_columns: Vec<Vec<String>>,
    /// The account summary.
    pub summary: BTreeMap<String, i32>,
    /// The names of the users, groups, roles and managed policies in the authorization details.
    pub detail_names: [Vec<String>; 4],
}

/// Scenario 5: replace the account alias twice and restore it; generate and read the
/// credential report; read the account summary and the authorization details.
pub async fn run(admin: &Clients) -> Result<AccountOutcome> {
    let iam = &admin.iam;
    let mut original = None;
    let outcome = scenario(iam, &mut original).await;
    let mut tidy = Tidy::default();
    // Whatever happened, leave the alias as the demo found it.
    if let Some(original) = original {
        let current = list_aliases(iam).await.map(|a| a.into_iter().next());
        match current {
            Ok(current) if current == original => {}
            Ok(current) => {
                step("Cleaning up: restoring the account alias");
                if let Some(current) = current {
                    tidy.check(delete_alias(iam, &current).await);
                }
                if let Some(original) = original {
                    tidy.check(create_alias(iam, &original).await);
                }
            }
            Err(e) => {
                tidy.check::<()>(Err(e));
            }
        }
    }
    tidy.settle(outcome)
}

fn show_alias(aliases: &[String]) -> String {
    match aliases.first() {
        Some(alias) => format!("the alias {alias}"),
        None => "no alias".to_owned(),
    }
}

async fn scenario(iam: &Client, original: &mut Option<Option<String>>) -> Result<AccountOutcome> {
    step("The account's alias (ListAccountAliases)");
    let before = list_aliases(iam).await?;
    *original = Some(before.first().cloned());
    println!("   The account has {}.", show_alias(&before));

    let suffix = unique_suffix();
    let first = format!("oxiam-demo-{suffix}");
    let second = format!("oxiam-demo-{suffix}-2");
    step("Creating two aliases in turn (CreateAccountAlias): an account has at most one");
    create_alias(iam, &first).await?;
    println!("   Created the alias {first}.");
    create_alias(iam, &second).await?;
    println!("   Created the alias {second}, replacing {first}.");
    let listed = list_aliases(iam).await?;
    println!("   The account now has {}.", show_alias(&listed));
    delete_alias(iam, &second).await?;
    println!("   Deleted the alias {second}.");
    if let Some(Some(old)) = original.as_ref() {
        create_alias(iam, old).await?;
        println!("   Restored the alias {old}.");
    }
    let after = list_aliases(iam).await?;
    println!("   The account has {} again.", show_alias(&after));

    step("The credential report (GenerateCredentialReport until COMPLETE, then GetCredentialReport)");
    let states: Vec<String> = generate_credential_report(iam)
        .await?
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    println!("   GenerateCredentialReport answered {}.", states.join(", then "));
    let report = get_credential_report(iam).await?;
    let report_columns: Vec<Vec<String>> = report
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| first_columns(l, 3))
        .collect();
    println!("   Its first three columns:");
    for columns in &report_columns {
        println!("     {}", columns.join(" | "));
    }

    step("The account summary (GetAccountSummary)");
    let summary = account_summary(iam).await?;
    let width = summary.keys().map(String::len).max().unwrap_or(0);
    for (key, value) in &summary {
        println!("   {key:<width$}  {value}");
    }

    step("The authorization details (GetAccountAuthorizationDetails)");
    let details = authorization_details(iam).await?;
    for user in &details.users {
        let attached: Vec<&str> = user
            .attached_managed_policies()
            .iter()
            .filter_map(|p| p.policy_name())
            .collect();
        let inline: Vec<&str> = user.user_policy_list().iter().filter_map(|p| p.policy_name()).collect();
        println!(
            "   User {}: groups [{}], attached [{}], inline [{}]",
            user.user_name().unwrap_or("?"),
            user.group_list().join(", "),
            attached.join(", "),
            inline.join(", ")
        );
    }
    for group in &details.groups {
        let attached: Vec<&str> = group
            .attached_managed_policies()
            .iter()
            .filter_map(|p| p.policy_name())
            .collect();
        println!(
            "   Group {}: attached [{}]",
            group.group_name().unwrap_or("?"),
            attached.join(", ")
        );
    }
    for role in &details.roles {
        let attached: Vec<&str> = role
            .attached_managed_policies()
            .iter()
            .filter_map(|p| p.policy_name())
            .collect();
        println!(
            "   Role {}: attached [{}]",
            role.role_name().unwrap_or("?"),
            attached.join(", ")
        );
    }
    for policy in &details.policies {
        let statements = policy
            .policy_version_list()
            .iter()
            .find(|v| v.is_default_version())
            .and_then(|v| v.document())
            .and_then(|d| super::decode_document(d).ok())
            .and_then(|d| d.get("Statement").map(|s| s.to_string()))
            .unwrap_or_default();
        println!(
            "   Policy {} (attached {} times): {}",
            policy.policy_name().unwrap_or("?"),
            policy.attachment_count().unwrap_or(0),
            statements
        );
    }
    if details.users.is_empty() && details.groups.is_empty() && details.roles.is_empty() && details.policies.is_empty()
    {
        println!("   (no users, groups, roles or policies of the account's own)");
    }
    let names = |it: &mut dyn Iterator<Item = Option<&str>>| it.map(|n| n.unwrap_or("?").to_owned()).collect();
    let detail_names = [
        names(&mut details.users.iter().map(|u| u.user_name())),
        names(&mut details.groups.iter().map(|g| g.group_name())),
        names(&mut details.roles.iter().map(|r| r.role_name())),
        names(&mut details.policies.iter().map(|p| p.policy_name())),
    ];

    Ok(AccountOutcome {
        alias_before: before.first().cloned(),
        aliases_after_second_create: listed,
        alias_after: after.first().cloned(),
        report_states: states,
        report_columns,
        summary,
        detail_names,
    })
}
