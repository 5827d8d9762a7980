//! `vouch scan`: secrets in files, staged changes or history. (Owned by the secrets work.)

use crate::exit::{Outcome, UsageError};
use crate::output::Output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or folders to scan.
    pub paths: Vec<std::path::PathBuf>,
}

pub fn run(_args: Args, _out: &Output) -> anyhow::Result<Outcome> {
    Err(UsageError::new("`vouch scan` is being built").into())
}
