//! `vouch owners`: CODEOWNERS. (Owned by the review work.)

use crate::exit::{Outcome, UsageError};
use crate::output::Output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Paths.
    pub paths: Vec<std::path::PathBuf>,
}

pub fn run(_args: Args, _out: &Output) -> anyhow::Result<Outcome> {
    Err(UsageError::new("`vouch owners` is being built").into())
}
