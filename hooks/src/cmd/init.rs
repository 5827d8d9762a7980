//! `vouch init`: start protecting a repository — a commented default policy, an allowed-signers
//! file, and the local hooks.

use crate::exit::{Outcome, UsageError};
use crate::output::Output;
use anyhow::Context as _;
use vouch_rules::policy::{DEFAULT_POLICY_TOML, POLICY_PATH};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Overwrite an existing .vouch/policy.toml.
    #[arg(long)]
    pub force: bool,
    /// Write the policy only; do not install hooks.
    #[arg(long)]
    pub no_hooks: bool,
}

const ALLOWED_SIGNERS_HEADER: &str = "\
# Trusted SSH signers, in git's allowed-signers format (man ssh-keygen, ALLOWED SIGNERS):
#   <e-mail>[,<e-mail>…] [namespaces=\"git\"] [valid-after=YYYYMMDD] [valid-before=YYYYMMDD] <key-type> <public-key>
# Add one with `vouch keys add ~/.ssh/id_ed25519.pub --identity you@example.com`.
";

pub fn run(args: Args, out: &Output) -> anyhow::Result<Outcome> {
    let repo = super::open_repo()?;
    let Some(root) = repo.workdir().map(std::path::Path::to_path_buf) else {
        return Err(UsageError::new("`vouch init` needs a working tree")
            .hint("for a bare server repository use `vouch install --server <repo>`")
            .into());
    };
    let policy = root.join(POLICY_PATH);
    if policy.exists() && !args.force {
        eprintln!("vouch: {POLICY_PATH} exists; keeping it (use --force to replace it)");
    } else {
        if let Some(dir) = policy.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&policy, DEFAULT_POLICY_TOML)
            .with_context(|| format!("cannot write {}", policy.display()))?;
        eprintln!("vouch: wrote {POLICY_PATH}");
    }
    let signers = root.join(".vouch/allowed_signers");
    if !signers.exists() {
        std::fs::write(&signers, ALLOWED_SIGNERS_HEADER)
            .with_context(|| format!("cannot write {}", signers.display()))?;
        eprintln!("vouch: wrote .vouch/allowed_signers");
    }
    if !args.no_hooks {
        super::install::install(
            super::install::InstallArgs {
                server: None,
                server_hook: super::install::ServerHook::PreReceive,
                binary: None,
            },
            out,
        )?;
    }
    eprintln!(
        "vouch: next: add your signing key (`vouch keys add …`), review {POLICY_PATH}, then commit .vouch/ — \
         the policy takes effect for a branch once it is committed there"
    );
    Ok(Outcome::Pass)
}
