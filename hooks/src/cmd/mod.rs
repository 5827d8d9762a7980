//! One module per command; `run` dispatches.

pub mod attest;
pub mod baseline;
pub mod check;
pub mod hook;
pub mod init;
pub mod install;
pub mod keys;
pub mod merge;
pub mod owners;
pub mod policy;
pub mod review;
pub mod rules;
pub mod scan;
pub mod verify;

use crate::cli::{Cli, Command};
use crate::exit::Outcome;
use crate::output::Output;
use anyhow::Context as _;

/// Run the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    if let Some(dir) = &cli.dir {
        std::env::set_current_dir(dir)
            .with_context(|| format!("cannot change to {}", dir.display()))?;
    }
    let out = Output::new(cli.format, cli.color, cli.verbose > 0);
    match cli.command {
        Command::Init(a) => init::run(a, &out),
        Command::Install(a) => install::install(a, &out),
        Command::Uninstall(a) => install::uninstall(a, &out),
        Command::Hook(a) => hook::run(a, &out),
        Command::Policy(c) => policy::run(c, &out),
        Command::Check(a) => check::run(a, &out),
        Command::Scan(a) => scan::run(a, &out),
        Command::Rules(c) => rules::run(c, &out),
        Command::Baseline(c) => baseline::run(c, &out),
        Command::Verify(a) => verify::run(a, &out),
        Command::Keys(c) => keys::run(c, &out),
        Command::Owners(a) => owners::run(a, &out),
        Command::Review(a) => review::run(a, &out),
        Command::Merge(a) => merge::run(a, &out),
        Command::Attest(c) => attest::run(c, &out),
    }
}

/// Open the repository around the current directory (honouring GIT_DIR and friends).
pub fn open_repo() -> anyhow::Result<git2::Repository> {
    git2::Repository::open_from_env().map_err(|e| not_opened(&e))
}

/// Open the repository at `path` (a bare server repository).
pub fn open_repo_at(path: &std::path::Path) -> anyhow::Result<git2::Repository> {
    git2::Repository::open(path).map_err(|e| not_opened(&e))
}

/// The repository around the current directory, or `None` when there is none. A repository
/// that is there but cannot be read (a SHA-256 one) is an error, never "no repository".
pub fn try_open_repo() -> anyhow::Result<Option<git2::Repository>> {
    match git2::Repository::open_from_env() {
        Ok(repo) => Ok(Some(repo)),
        Err(e)
            if vouch_rules::change::git::unsupported_format(&e).is_none()
                && e.code() == git2::ErrorCode::NotFound =>
        {
            Ok(None)
        }
        Err(e) => Err(not_opened(&e)),
    }
}

fn not_opened(e: &git2::Error) -> anyhow::Error {
    use crate::exit::UsageError;
    use vouch_rules::change::git::{unsupported_format, GatherError, UNSUPPORTED_FORMAT_HINT};
    match unsupported_format(e) {
        Some(format) => UsageError::new(GatherError::UnsupportedFormat { format }.to_string())
            .hint(UNSUPPORTED_FORMAT_HINT)
            .into(),
        None => UsageError::new(format!("not in a git repository: {}", e.message()))
            .hint("run vouch inside a git repository, or pass -C <dir>")
            .into(),
    }
}

/// Who is pushing, by the policy's rule: the server's variables, then `git config vouch.pusher`.
pub fn pusher(policy: &vouch_rules::Policy, repo: Option<&git2::Repository>) -> Option<String> {
    let configured = repo
        .and_then(|r| r.config().ok())
        .and_then(|c| c.get_string("vouch.pusher").ok());
    policy
        .server
        .pusher(|var| std::env::var(var).ok(), configured)
}
