//! `vouch verify`: signatures. (Owned by the signatures work.)

use crate::exit::{Outcome, UsageError};
use crate::output::Output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Range.
    pub range: Option<String>,
}

pub fn run(_args: Args, _out: &Output) -> anyhow::Result<Outcome> {
    Err(UsageError::new("`vouch verify` is being built").into())
}
