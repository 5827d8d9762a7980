//! `vouch policy check`.

use crate::exit::{Outcome, UsageError};
use crate::output::Output;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Validate.
    Check,
}

pub fn run(_c: Command, _out: &Output) -> anyhow::Result<Outcome> {
    Err(UsageError::new("`vouch policy` is being built").into())
}
