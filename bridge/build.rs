//! Records the commit the bridge is built from, for `--version` and the
//! `build_info` metric: `REDIS_WS_BRIDGE_COMMIT` if set (a build from a
//! tarball can say), else `git rev-parse` of the checkout, else `unknown`
//! (no git, or no .git: `cargo install` from a copy).

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=REDIS_WS_BRIDGE_COMMIT");
    let commit = std::env::var("REDIS_WS_BRIDGE_COMMIT")
        .ok()
        .filter(|commit| !commit.is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=REDIS_WS_BRIDGE_COMMIT={commit}");
}

/// The short commit of HEAD (uncommitted changes are not marked: cargo
/// does not run this again for them).
fn git_commit() -> Option<String> {
    let git = |args: &[&str]| {
        let output = Command::new("git").args(args).output().ok()?;
        let text = String::from_utf8(output.stdout).ok()?;
        output.status.success().then(|| text.trim().to_owned())
    };
    // Build again when HEAD moves: a commit or a checkout writes its log.
    let git_dir = git(&["rev-parse", "--git-dir"])?;
    for file in ["HEAD", "logs/HEAD"] {
        let path = Path::new(&git_dir).join(file);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    git(&["rev-parse", "--short=12", "HEAD"])
}
