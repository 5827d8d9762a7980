//! How results reach the user: the `--format` and `--color` choices, applied to a verdict.

use crate::exit::Outcome;
use std::io::{IsTerminal, Write};
use vouch_rules::report::{self, Format, TextOptions};
use vouch_rules::Verdict;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
    Sarif,
    Markdown,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Markdown => Format::Markdown,
        }
    }
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

/// What every command needs to know about output.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub format: Format,
    pub color: bool,
    pub verbose: bool,
}

impl Output {
    pub fn new(format: FormatArg, color: ColorArg, verbose: bool) -> Self {
        let color = match color {
            ColorArg::Always => true,
            ColorArg::Never => false,
            ColorArg::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        Output {
            format: format.into(),
            color,
            verbose,
        }
    }

    /// Colour for stderr (hooks report there, since git shows a hook's stderr).
    pub fn color_stderr(&self) -> bool {
        self.color
            || (std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && self.format == Format::Text)
    }

    pub fn render(&self, verdict: &Verdict, color: bool) -> String {
        report::render(
            verdict,
            self.format,
            TextOptions {
                color,
                verbose: self.verbose,
            },
        )
    }

    /// Print the verdict on stdout and return how the process ends.
    pub fn emit(&self, verdict: &Verdict) -> Outcome {
        let text = self.render(verdict, self.color);
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        Outcome::from_verdict(verdict)
    }

    /// Print the verdict on stderr (git hooks): only when something failed or was found, or verbose.
    pub fn emit_hook(&self, verdict: &Verdict) -> Outcome {
        let quiet = verdict.passed() && verdict.findings().next().is_none() && !self.verbose;
        if !quiet {
            let text = self.render(verdict, self.color_stderr());
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
        Outcome::from_verdict(verdict)
    }
}
