//! `oxiam policy diff OLD NEW`: does NEW allow anything OLD does not (`oxiam_lint::diff`)?
//! Prints "no new access", a witness request the engine allows under NEW and refuses under
//! OLD, or "unknown" with what kept the proof from going through.

use std::path::PathBuf;

use oxiam_lint::diff::{Verdict, diff};
use oxiam_policy::PolicyKind;

/// The arguments of `oxiam policy diff`.
#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The policy as it is (a JSON file).
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The policy as it would be.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// Identity policies (witnesses are searched for) or resource policies (a proof only).
    #[arg(long, value_enum, default_value = "identity")]
    pub policy_type: DiffPolicyType,
}

/// CheckNoNewAccess's policy types.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum DiffPolicyType {
    Identity,
    Resource,
}

/// What the diff found, as the exit code says it: 0 no new access, 1 new access, 3 unknown.
pub enum Outcome {
    NoNewAccess,
    NewAccess,
    Unknown,
}

pub fn run(args: &DiffArgs) -> Result<Outcome, String> {
    let read = |path: &PathBuf| std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()));
    let (old, new) = (read(&args.old)?, read(&args.new)?);
    let kind = match args.policy_type {
        DiffPolicyType::Identity => PolicyKind::Identity,
        DiffPolicyType::Resource => PolicyKind::Resource,
    };
    match diff(&old, &new, kind).map_err(|e| e.to_string())? {
        Verdict::NoNewAccess => {
            println!(
                "no new access: every request {} allows, {} allows too",
                args.new.display(),
                args.old.display()
            );
            Ok(Outcome::NoNewAccess)
        }
        Verdict::NewAccess(w) => {
            println!(
                "new access: {} allows {} on {} (its statement {}), {} does not",
                args.new.display(),
                w.action,
                w.resource,
                w.statement_index,
                args.old.display()
            );
            if let Some(caller) = &w.caller {
                println!("  by {caller}");
            }
            for (key, value) in &w.context {
                println!("  with {key} = {value}");
            }
            if w.context.is_empty() {
                println!("  with no condition key set");
            }
            Ok(Outcome::NewAccess)
        }
        Verdict::Unknown(why) => {
            println!("unknown: {why}, and no request was found that only the new policy allows");
            Ok(Outcome::Unknown)
        }
    }
}
