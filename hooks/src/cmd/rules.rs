//! `vouch rules list|test`. (Owned by the secrets work.)

use crate::exit::{Outcome, UsageError};
use crate::output::Output;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the rules.
    List,
}

pub fn run(_c: Command, _out: &Output) -> anyhow::Result<Outcome> {
    Err(UsageError::new("`vouch rules` is being built").into())
}
