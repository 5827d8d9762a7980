//! `vouch keys add|list|retire|compromise`. (Owned by the signatures work.)

use crate::exit::{Outcome, UsageError};
use crate::output::Output;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List signers.
    List,
}

pub fn run(_c: Command, _out: &Output) -> anyhow::Result<Outcome> {
    Err(UsageError::new("`vouch keys` is being built").into())
}
