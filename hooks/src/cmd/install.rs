//! `vouch install` / `vouch uninstall`: put vouch's hooks into a repository (or a bare server
//! repository) and take them out again, keeping any hook that was there before.
//!
//! The hooks folder is the one git itself uses (`git rev-parse --git-path hooks`), so
//! `core.hooksPath` and linked worktrees are honoured. An existing hook is renamed to
//! `<hook>.vouch-chained` and run first by vouch's shim; uninstall renames it back untouched.

use crate::exit::{Outcome, UsageError};
use crate::output::Output;
use crate::shim;
use anyhow::Context as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The hooks a developer's repository gets.
pub const LOCAL_HOOKS: [&str; 3] = ["pre-commit", "commit-msg", "pre-push"];

#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// Install the server hook into this bare repository instead of the local hooks.
    #[arg(long, value_name = "BARE_REPO")]
    pub server: Option<PathBuf>,
    /// Which server hook to install: pre-receive (all refs of a push judged together) or update
    /// (for servers that only run per-ref hooks).
    #[arg(
        long,
        value_name = "HOOK",
        default_value = "pre-receive",
        requires = "server"
    )]
    pub server_hook: ServerHook,
    /// The vouch binary the hooks call (default: this one).
    #[arg(long, value_name = "PATH")]
    pub binary: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ServerHook {
    PreReceive,
    Update,
}

#[derive(Debug, clap::Args)]
pub struct UninstallArgs {
    /// Remove the server hooks from this bare repository.
    #[arg(long, value_name = "BARE_REPO")]
    pub server: Option<PathBuf>,
}

/// Ask git where hooks live for the repository at `dir` (or the current one).
pub fn hooks_dir(dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    let mut cmd = Command::new("git");
    if let Some(d) = dir {
        cmd.arg("-C").arg(d);
    }
    let out = cmd
        .args(["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
        .output()
        .context("cannot run git (is it installed?)")?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        let place = dir.map_or_else(|| "here".to_string(), |d| d.display().to_string());
        return Err(
            UsageError::new(format!("not a git repository ({place}): {err}"))
                .hint("run inside a repository, or pass the bare repository's path to --server")
                .into(),
        );
    }
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok(PathBuf::from(path))
}

fn binary(args_binary: Option<PathBuf>) -> anyhow::Result<String> {
    let path = match args_binary {
        Some(p) => p,
        None => std::env::current_exe().context("cannot tell where the vouch binary is")?,
    };
    let path = path.canonicalize().unwrap_or(path);
    path.to_str().map(str::to_string).ok_or_else(|| {
        UsageError::new(format!(
            "the vouch binary's path is not UTF-8: {}",
            path.display()
        ))
        .into()
    })
}

/// What installing one hook did.
#[derive(Debug, PartialEq, Eq)]
enum Installed {
    New,
    Chained,
    Updated,
    Unchanged,
}

fn install_one(dir: &Path, hook: &str, bin: &str) -> anyhow::Result<Installed> {
    let path = dir.join(hook);
    let chained = dir.join(format!("{hook}{}", shim::CHAINED_SUFFIX));
    let wanted = shim::script(hook, bin);
    let mut result = Installed::New;
    match std::fs::read(&path) {
        Ok(existing) if shim::is_ours(&existing) => {
            if existing == wanted.as_bytes() {
                return Ok(Installed::Unchanged);
            }
            result = Installed::Updated;
        }
        Ok(_) => {
            if chained.exists() {
                return Err(UsageError::new(format!(
                    "{} exists and so does {}: vouch will not overwrite either",
                    path.display(),
                    chained.display()
                ))
                .hint("merge the two hooks by hand, remove one, then run `vouch install` again")
                .into());
            }
            std::fs::rename(&path, &chained)
                .with_context(|| format!("cannot move {} aside", path.display()))?;
            result = Installed::Chained;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    write_executable(&path, wanted.as_bytes())?;
    Ok(result)
}

fn write_executable(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("vouch-tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make {} executable", tmp.display()))?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// What removing one hook did.
#[derive(Debug, PartialEq, Eq)]
enum Removal {
    Deleted,
    Restored,
    NotOurs,
    Absent,
}

fn uninstall_one(dir: &Path, hook: &str) -> anyhow::Result<Removal> {
    let path = dir.join(hook);
    let chained = dir.join(format!("{hook}{}", shim::CHAINED_SUFFIX));
    match std::fs::read(&path) {
        Ok(existing) if shim::is_ours(&existing) => {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
            if chained.exists() {
                std::fs::rename(&chained, &path)
                    .with_context(|| format!("cannot restore {}", path.display()))?;
                return Ok(Removal::Restored);
            }
            Ok(Removal::Deleted)
        }
        Ok(_) => Ok(Removal::NotOurs),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Removal::Absent),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Install hooks in `dir` (a hooks folder), saying what happened on stderr.
pub fn install_hooks(dir: &Path, hooks: &[&str], bin: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for hook in hooks {
        let what = match install_one(dir, hook, bin)? {
            Installed::New => "installed",
            Installed::Chained => {
                "installed (runs the existing hook first, kept as .vouch-chained)"
            }
            Installed::Updated => "updated",
            Installed::Unchanged => "already installed",
        };
        eprintln!("vouch: {hook}: {what}");
    }
    eprintln!("vouch: hooks in {} call {}", dir.display(), bin);
    Ok(())
}

pub fn install(args: InstallArgs, _out: &Output) -> anyhow::Result<Outcome> {
    let bin = binary(args.binary)?;
    match &args.server {
        Some(bare) => {
            // A repository vouch cannot read gets no hook that would refuse every push.
            super::open_repo_at(bare)?;
            let dir = hooks_dir(Some(bare))?;
            let hook = match args.server_hook {
                ServerHook::PreReceive => "pre-receive",
                ServerHook::Update => "update",
            };
            install_hooks(&dir, &[hook], &bin)?;
            eprintln!(
                "vouch: pushes to {} are now judged by the policy on the branch they enter; the pusher's name is read from GL_USERNAME, GITHUB_USER_LOGIN, GITEA_PUSHER_NAME or REMOTE_USER (or [server] pusher_env)",
                bare.display()
            );
        }
        None => {
            super::open_repo()?;
            install_hooks(&hooks_dir(None)?, &LOCAL_HOOKS, &bin)?
        }
    }
    Ok(Outcome::Pass)
}

pub fn uninstall(args: UninstallArgs, _out: &Output) -> anyhow::Result<Outcome> {
    let (dir, hooks): (PathBuf, &[&str]) = match &args.server {
        Some(bare) => (hooks_dir(Some(bare))?, &["pre-receive", "update"]),
        None => (hooks_dir(None)?, &LOCAL_HOOKS),
    };
    for hook in hooks {
        let what = match uninstall_one(&dir, hook)? {
            Removal::Deleted => "removed",
            Removal::Restored => "removed; the earlier hook is restored",
            Removal::NotOurs => "left alone (not vouch's)",
            Removal::Absent => continue,
        };
        eprintln!("vouch: {hook}: {what}");
    }
    Ok(Outcome::Pass)
}
