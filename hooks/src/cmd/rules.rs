//! `vouch rules list|test`: the secret-detection rules, and their own examples as tests.

use crate::cmd::scan::Context;
use crate::exit::Outcome;
use crate::output::Output;
use anyhow::Context as _;
use std::path::PathBuf;
use std::sync::Arc;
use vouch_rules::report::Format;
use vouch_rules::sanitize::for_terminal;
use vouch_rules::secrets::{self, builtin, rule::Compile, Rule};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List every rule (built-in and the policy's .vouch/secrets.toml): id, provider,
    /// confidence, checksum and keywords.
    List,
    /// Run every rule's examples (each must produce a finding) and negatives (none may);
    /// the built-in rules when no FILE is given. Exit 1 on any failure.
    Test {
        /// A rule file in the .vouch/secrets.toml format.
        file: Option<PathBuf>,
    },
}

pub fn run(c: Command, out: &Output) -> anyhow::Result<Outcome> {
    match c {
        Command::List => list(out),
        Command::Test { file } => test(file, out),
    }
}

fn list(out: &Output) -> anyhow::Result<Outcome> {
    let ctx = Context::here()?;
    let rules = secrets::all_rules(&ctx.policy)?;
    let enabled = secrets::load(&ctx.policy)?;
    let on = |r: &Rule| enabled.rules().iter().any(|e| e.id == r.id);
    if out.format == Format::Json {
        let list: Vec<serde_json::Value> = rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "description": r.description,
                    "provider": r.provider,
                    "confidence": r.confidence.as_str(),
                    "checksum": r.checksum.map(|c| c.as_str()),
                    "keywords": r.keywords,
                    "enabled": on(r),
                    "defined_at": r.defined_at,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(Outcome::Pass);
    }
    let width = rules.iter().map(|r| r.id.len()).max().unwrap_or(2);
    let pwidth = rules.iter().map(|r| r.provider.len()).max().unwrap_or(8);
    println!(
        "{:width$}  {:pwidth$}  {:10}  {:8}  keywords",
        "id", "provider", "confidence", "checksum"
    );
    for r in &rules {
        let id = if on(r) {
            r.id.clone()
        } else {
            format!("{} (off)", r.id)
        };
        println!(
            "{:width$}  {:pwidth$}  {:10}  {:8}  {}",
            for_terminal(&id),
            for_terminal(&r.provider),
            r.confidence.as_str(),
            r.checksum.map_or("-", |c| c.as_str()),
            for_terminal(&r.keywords.join(", ")),
        );
    }
    println!(
        "{} rules, {} enabled (min_confidence = {})",
        rules.len(),
        enabled.rules().len(),
        ctx.policy.secrets.min_confidence.as_str()
    );
    Ok(Outcome::Pass)
}

fn test(file: Option<PathBuf>, out: &Output) -> anyhow::Result<Outcome> {
    let rules: Vec<Arc<Rule>> = match &file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            secrets::parse_file(&text, &path.display().to_string())?
        }
        None => builtin::parse(Compile::Now)?
            .into_iter()
            .map(Arc::new)
            .collect(),
    };
    let failures = secrets::test_rules(&rules);
    let examples: usize = rules.iter().map(|r| r.examples.len()).sum();
    let negatives: usize = rules.iter().map(|r| r.negatives.len()).sum();
    if out.format == Format::Json {
        let list: Vec<serde_json::Value> = failures
            .iter()
            .map(|f| serde_json::json!({ "rule": f.rule, "defined_at": f.defined_at, "failure": f.what }))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "rules": rules.len(), "examples": examples, "negatives": negatives,
                "passed": failures.is_empty(), "failures": list,
            }))?
        );
    } else {
        for f in &failures {
            println!(
                "FAIL {} ({}): {}",
                for_terminal(&f.rule),
                for_terminal(&f.defined_at),
                for_terminal(&f.what)
            );
        }
        println!(
            "{} rules, {} examples, {} negatives: {}",
            rules.len(),
            examples,
            negatives,
            if failures.is_empty() {
                "all pass".to_string()
            } else {
                format!("{} failures", failures.len())
            }
        );
    }
    Ok(if failures.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Violation
    })
}
