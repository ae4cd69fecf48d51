//! `oxiam audit`: the events of an audit trail (`serve --audit-log`) that match, printed as
//! they are (one JSON object per line), for people who would rather not write jq.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// `oxiam audit`'s arguments.
#[derive(clap::Args)]
pub struct AuditArgs {
    /// The trail to read (`-`: standard input).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Events of this caller only (its ARN, exactly).
    #[arg(long, value_name = "ARN")]
    principal: Option<String>,
    /// Events that asked this action (`s3:GetObject`, regardless of case) or are this
    /// operation (`GetObject`).
    #[arg(long)]
    action: Option<String>,
    /// Events decided so: Allowed, ImplicitDeny or ExplicitDeny.
    #[arg(long)]
    decision: Option<String>,
    /// Events at or after this time (`2026-12-03T10:00:00Z`).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Events before this time.
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
}

impl AuditArgs {
    fn keeps(&self, event: &Value) -> bool {
        let text = |v: &Value| v.as_str().map(str::to_owned);
        if let Some(principal) = &self.principal
            && text(&event["userIdentity"]["arn"]).as_deref() != Some(principal.as_str())
        {
            return false;
        }
        if let Some(action) = &self.action {
            let asked = event["oxiam"]["verdicts"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v["action"].as_str())
                .any(|a| a.eq_ignore_ascii_case(action));
            let named = text(&event["eventName"]).is_some_and(|n| n.eq_ignore_ascii_case(action));
            if !asked && !named {
                return false;
            }
        }
        if let Some(decision) = &self.decision
            && !event["oxiam"]["decision"]
                .as_str()
                .is_some_and(|d| d.eq_ignore_ascii_case(decision))
        {
            return false;
        }
        // The trail's times are ISO 8601 in UTC with whole seconds: they sort as text.
        let time = text(&event["eventTime"]).unwrap_or_default();
        if self.since.as_ref().is_some_and(|since| time.as_str() < since.as_str()) {
            return false;
        }
        if self.until.as_ref().is_some_and(|until| time.as_str() >= until.as_str()) {
            return false;
        }
        true
    }
}

/// Whether `time` is written as the trail writes times (`2026-12-03T10:00:00Z`), so that
/// comparing them as text compares the times.
pub(crate) fn is_trail_time(time: &str) -> bool {
    let b = time.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// Prints the matching events; how many matched.
pub fn run(args: &AuditArgs) -> Result<usize, String> {
    for time in [&args.since, &args.until].into_iter().flatten() {
        if !is_trail_time(time) {
            return Err(format!(
                "{time}: write times as the trail does, e.g. 2026-12-03T10:00:00Z"
            ));
        }
    }
    let mut out = std::io::stdout().lock();
    let mut matched = 0;
    read_trail(&args.file, |event, line| {
        if args.keeps(event) {
            matched += 1;
            writeln!(out, "{line}").map_err(|e| e.to_string())?;
        }
        Ok(())
    })?;
    Ok(matched)
}

/// Each event of an audit trail (`-`: standard input), with its line, in order. A line the
/// server could not finish (a full disk) is skipped, and said; a file of nothing but such
/// lines is no trail.
pub(crate) fn read_trail(file: &Path, mut each: impl FnMut(&Value, &str) -> Result<(), String>) -> Result<(), String> {
    let input: Box<dyn BufRead> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let opened = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
        Box::new(std::io::BufReader::new(opened))
    };
    let (mut read, mut skipped) = (0, 0);
    for (n, line) in input.lines().enumerate() {
        let line = line.map_err(|e| format!("{}: {e}", file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let Ok(event) = serde_json::from_str::<Value>(&line) else {
            eprintln!("oxiam: {} line {}: not an audit event, skipped", file.display(), n + 1);
            skipped += 1;
            continue;
        };
        read += 1;
        each(&event, &line)?;
    }
    if read == 0 && skipped > 0 {
        return Err(format!("{}: not an audit trail", file.display()));
    }
    Ok(())
}
