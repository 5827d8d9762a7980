//! `vouch check`.

use crate::exit::{Outcome, UsageError};
use crate::output::Output;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, _out: &Output) -> anyhow::Result<Outcome> {
    Err(UsageError::new("`vouch check` is being built").into())
}
