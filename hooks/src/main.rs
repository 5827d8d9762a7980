//! `vouch`: the command-line front of vouch — git hooks, the server hook, scans and verification.
//! A thin shell over `vouch-rules`: parse arguments, gather inputs, render the verdict, exit.

mod cli;
mod cmd;
mod exit;
mod output;
mod shim;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::parse();
    init_tracing(cli.verbose);
    match cmd::run(cli) {
        Ok(code) => code.into(),
        Err(err) => exit::report(&err).into(),
    }
}

fn init_tracing(verbose: u8) {
    // Hooks run on every commit: skip parsing filter directives unless asked for.
    if verbose == 0 && std::env::var_os("VOUCH_LOG").is_none() {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_writer(std::io::stderr)
            .with_target(false)
            .without_time()
            .init();
        return;
    }
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("VOUCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
}
