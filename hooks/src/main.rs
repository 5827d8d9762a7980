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
    init_tracing(cli.verbose, log_colour(cli.color));
    match cmd::run(cli) {
        Ok(code) => code.into(),
        Err(err) => exit::report(&err).into(),
    }
}

/// Whether log lines on stderr carry colour: the `--color` choice, with `auto` meaning stderr is a
/// terminal and NO_COLOR is unset. Without this, escape codes land in files and CI logs.
fn log_colour(choice: output::ColorArg) -> bool {
    use std::io::IsTerminal;
    match choice {
        output::ColorArg::Always => true,
        output::ColorArg::Never => false,
        output::ColorArg::Auto => {
            std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

fn init_tracing(verbose: u8, ansi: bool) {
    // Hooks run on every commit: skip parsing filter directives unless asked for.
    if verbose == 0 && std::env::var_os("VOUCH_LOG").is_none() {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_ansi(ansi)
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
        .with_ansi(ansi)
        .without_time()
        .init();
}
