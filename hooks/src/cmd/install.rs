//! `vouch install` / `vouch uninstall`.

use crate::exit::{Outcome, UsageError};
use crate::output::Output;

#[derive(Debug, clap::Args)]
pub struct InstallArgs {}

#[derive(Debug, clap::Args)]
pub struct UninstallArgs {}

pub fn install(_a: InstallArgs, _out: &Output) -> anyhow::Result<Outcome> {
    Err(UsageError::new("`vouch install` is being built").into())
}

pub fn uninstall(_a: UninstallArgs, _out: &Output) -> anyhow::Result<Outcome> {
    Err(UsageError::new("`vouch uninstall` is being built").into())
}
