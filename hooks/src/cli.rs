//! The command line, as clap parses it. Each command's own arguments live beside its code in `cmd/`.

use crate::cmd;
use crate::output::{ColorArg, FormatArg};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// vouch secures the source stage of a software supply chain: signed commits from trusted keys,
/// secret scanning, four-eyes review and branch protection, from one policy in `.vouch/policy.toml`.
///
/// Exit status: 0 pass, 1 policy violation, 2 usage or configuration error.
#[derive(Debug, Parser)]
#[command(name = "vouch", version, max_term_width = 100)]
pub struct Cli {
    /// Run as if started in DIR.
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Output format for commands that report findings.
    #[arg(long, global = true, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// Colour the text output: auto (a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    /// Say more: list passing checks; -vv for debug logs (or set VOUCH_LOG).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented default policy to .vouch/policy.toml and install the hooks.
    Init(cmd::init::Args),
    /// Install vouch's git hooks (or, with --server, the pre-receive hook into a bare repository).
    Install(cmd::install::InstallArgs),
    /// Remove vouch's hooks, restoring any hook they had wrapped.
    Uninstall(cmd::install::UninstallArgs),
    /// Run a hook: what the installed hook scripts call.
    Hook(cmd::hook::Args),
    /// Validate the policy and the files it points at.
    #[command(subcommand)]
    Policy(cmd::policy::Command),
    /// Judge a change with every check, as the server hook and the bot do.
    Check(cmd::check::Args),
    /// Scan files, staged changes or git history for secrets.
    Scan(cmd::scan::Args),
    /// List or test secret-detection rules.
    #[command(subcommand)]
    Rules(cmd::rules::Command),
    /// Record current secret findings as accepted, so only new ones fail.
    #[command(subcommand)]
    Baseline(cmd::baseline::Command),
    /// Verify commit and tag signatures against the repository's trusted signers.
    Verify(cmd::verify::Args),
    /// Manage trusted signers in .vouch/ (the changes are yours to commit).
    #[command(subcommand)]
    Keys(cmd::keys::Command),
    /// Show who owns paths according to CODEOWNERS.
    Owners(cmd::owners::Args),
    /// Judge a pull request's reviews against the four-eyes policy.
    Review(cmd::review::Args),
    /// Merge a branch into a protected branch: verified, signed by git, attested.
    Merge(cmd::merge::Args),
    /// Show or verify the attestations vouch merge writes as git notes.
    #[command(subcommand)]
    Attest(cmd::attest::Command),
}

pub fn parse() -> Cli {
    Cli::parse()
}
