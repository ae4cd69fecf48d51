//! `oxiam --version` names the git revision it was built from: `OXIAM_GIT_REVISION` if the
//! builder sets it (a container build without `.git`), else `git rev-parse`, else `unknown`.
//! A checkout with changes not yet committed says so (`-modified`).

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn main() {
    println!("cargo:rerun-if-env-changed=OXIAM_GIT_REVISION");
    let revision = std::env::var("OXIAM_GIT_REVISION").ok().or_else(|| {
        // Rebuild when HEAD moves (a commit, a checkout) or the index changes.
        if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
            println!("cargo:rerun-if-changed={dir}/HEAD");
            println!("cargo:rerun-if-changed={dir}/index");
            if let Some(head) = git(&["symbolic-ref", "-q", "HEAD"]) {
                println!("cargo:rerun-if-changed={dir}/{head}");
            }
        }
        let rev = git(&["rev-parse", "--short=12", "HEAD"])?;
        let modified = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
        Some(if modified { format!("{rev}-modified") } else { rev })
    });
    println!(
        "cargo:rustc-env=OXIAM_GIT_REVISION={}",
        revision.unwrap_or_else(|| "unknown".to_owned())
    );
}
