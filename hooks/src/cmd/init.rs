//! `vouch init`.

use crate::exit::{Outcome, UsageError};
use crate::output::Output;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, _out: &Output) -> anyhow::Result<Outcome> {
    Err(UsageError::new("`vouch init` is being built").into())
}
