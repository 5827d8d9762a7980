//! `vouch baseline create|update`. (Owned by the secrets work.)

use crate::exit::{Outcome, UsageError};
use crate::output::Output;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a baseline.
    Create,
}

pub fn run(_c: Command, _out: &Output) -> anyhow::Result<Outcome> {
    Err(UsageError::new("`vouch baseline` is being built").into())
}
