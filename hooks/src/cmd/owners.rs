//! `vouch owners`: who owns paths under CODEOWNERS, which files nobody owns, and whether the file
//! is valid. Reads CODEOWNERS from the committed tree of the current branch (what GitHub and the
//! bot will use once it is pushed), or with `--working-tree` from the working copy.

use crate::exit::{Outcome, UsageError};
use crate::output::Output;
use anyhow::Context as _;
use serde_json::json;
use std::path::{Component, Path, PathBuf};
use vouch_rules::codeowners::CodeOwners;
use vouch_rules::policy::{PolicyFiles, CODEOWNERS_PATHS};
use vouch_rules::report::Format;
use vouch_rules::sanitize::for_terminal;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Paths to look up (relative to the current directory).
    pub paths: Vec<PathBuf>,
    /// List tracked files that no CODEOWNERS line assigns an owner.
    #[arg(long, conflicts_with_all = ["check", "paths"])]
    pub unowned: bool,
    /// Validate CODEOWNERS: list every skipped line with its reason; exit 1 if there are any.
    #[arg(long, conflicts_with = "paths")]
    pub check: bool,
    /// Read CODEOWNERS (and, with --unowned, the tracked files) from the working copy and index
    /// instead of the current branch's last commit.
    #[arg(long)]
    pub working_tree: bool,
}

pub fn run(args: Args, out: &Output) -> anyhow::Result<Outcome> {
    if !matches!(out.format, Format::Text | Format::Json) {
        return Err(UsageError::new("`vouch owners` prints text or json")
            .hint("pass --format text or --format json")
            .into());
    }
    if args.paths.is_empty() && !args.unowned && !args.check {
        return Err(UsageError::new("nothing to look up")
            .hint("name paths (`vouch owners src/main.rs`), or pass --unowned or --check")
            .into());
    }
    let repo = super::open_repo()?;
    let (files, origin) = snapshot(&repo, args.working_tree)?;
    let Some(owners) = CodeOwners::from_files(&files)? else {
        return Err(UsageError::new(format!(
            "no CODEOWNERS in {origin} (looked at {})",
            CODEOWNERS_PATHS.join(", ")
        ))
        .hint(if args.working_tree {
            "create .github/CODEOWNERS"
        } else {
            "commit a CODEOWNERS file, or pass --working-tree to read the working copy"
        })
        .into());
    };
    let json = out.format == Format::Json;
    if args.check {
        return Ok(check(&owners, json));
    }
    if !owners.errors().is_empty() && !json {
        eprintln!(
            "vouch: {} invalid line{} in {} skipped, as GitHub skips them (see `vouch owners --check`)",
            owners.errors().len(),
            if owners.errors().len() == 1 { "" } else { "s" },
            for_terminal(&owners.display)
        );
    }
    if args.unowned {
        let tracked = tracked_files(&repo, args.working_tree)?;
        let unowned: Vec<&String> = tracked
            .iter()
            .filter(|p| owners.owners_of(p).is_empty())
            .collect();
        if json {
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "codeowners": owners.display,
                    "tracked": tracked.len(),
                    "unowned": unowned,
                }))?
            );
        } else {
            for path in &unowned {
                println!("{}", for_terminal(path));
            }
        }
        return Ok(Outcome::Pass);
    }
    let mut rows = Vec::new();
    for arg in &args.paths {
        let path = repo_relative(&repo, arg)?;
        let decision = owners.decide(&path);
        if json {
            rows.push(json!({
                "path": path,
                "owners": decision.map_or(Vec::new(), |d| d.owners().iter().map(|o| o.text.clone()).collect()),
                "line": decision.map(|d| d.rule.line),
                "pattern": decision.map(|d| d.rule.pattern.clone()),
                "file": owners.display,
            }));
            continue;
        }
        let line = match decision {
            Some(d) if d.owners().is_empty() => format!(
                "{path}: no owner (un-assigned by {}:{} `{}`)",
                owners.display, d.rule.line, d.rule.pattern
            ),
            Some(d) => format!(
                "{path}: {} ({}:{} `{}`)",
                d.owners()
                    .iter()
                    .map(|o| o.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                owners.display,
                d.rule.line,
                d.rule.pattern
            ),
            None => format!("{path}: no owner (no line matches)"),
        };
        println!("{}", for_terminal(&line));
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    }
    Ok(Outcome::Pass)
}

/// The CODEOWNERS candidates from the current branch's commit or the working copy.
fn snapshot(repo: &git2::Repository, working_tree: bool) -> anyhow::Result<(PolicyFiles, String)> {
    if working_tree {
        let Some(dir) = repo.workdir() else {
            return Err(UsageError::new("a bare repository has no working tree")
                .hint("drop --working-tree")
                .into());
        };
        return Ok((PolicyFiles::from_dir(dir)?, "the working tree".to_string()));
    }
    let head = repo.head().map_err(|e| {
        UsageError::new(format!("cannot read HEAD: {}", e.message()))
            .hint("commit first, or pass --working-tree to read the working copy")
    })?;
    let name = head.name().unwrap_or("HEAD").to_string();
    let tree = head
        .peel_to_tree()
        .with_context(|| format!("cannot read the tree of {name}"))?;
    Ok((PolicyFiles::from_tree(repo, &tree, &name)?, name))
}

/// Every tracked file: the index's (working tree) or the current commit's.
fn tracked_files(repo: &git2::Repository, working_tree: bool) -> anyhow::Result<Vec<String>> {
    let mut paths = Vec::new();
    if working_tree {
        let index = repo.index().context("cannot read the index")?;
        for entry in index.iter() {
            paths.push(String::from_utf8_lossy(&entry.path).into_owned());
        }
        return Ok(paths);
    }
    let tree = repo
        .head()
        .and_then(|h| h.peel_to_tree())
        .context("cannot read the current commit's tree")?;
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob) {
            paths.push(format!(
                "{dir}{}",
                String::from_utf8_lossy(entry.name_bytes())
            ));
        }
        git2::TreeWalkResult::Ok
    })
    .context("cannot walk the current commit's tree")?;
    Ok(paths)
}

/// `path` (relative to the current directory, or absolute) as a path from the repository root.
fn repo_relative(repo: &git2::Repository, path: &Path) -> anyhow::Result<String> {
    let Some(workdir) = repo.workdir() else {
        return Ok(path.to_string_lossy().replace('\\', "/"));
    };
    let workdir = std::fs::canonicalize(workdir).unwrap_or_else(|_| workdir.to_path_buf());
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd);
    let mut full = PathBuf::new();
    for part in cwd.join(path).components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                full.pop();
            }
            other => full.push(other),
        }
    }
    let rel = full.strip_prefix(&workdir).map_err(|_| {
        UsageError::new(format!(
            "{} is outside the repository",
            for_terminal(&path.display().to_string())
        ))
        .hint("name paths inside the repository")
    })?;
    Ok(rel.to_string_lossy().replace('\\', "/"))
}

fn check(owners: &CodeOwners, json: bool) -> Outcome {
    let errors = owners.errors();
    if json {
        let body = json!({ "path": owners.path, "file": owners.display, "errors": errors });
        println!(
            "{}",
            serde_json::to_string_pretty(&body).unwrap_or_else(|_| "{}".into())
        );
    } else {
        for e in errors {
            println!(
                "{}:{}:{}: {}: {}",
                for_terminal(&owners.display),
                e.line,
                e.column,
                e.kind,
                for_terminal(&e.message)
            );
            println!("    {}", for_terminal(&e.source));
            if let Some(s) = &e.suggestion {
                println!("    fix: {}", for_terminal(s));
            }
        }
        if errors.is_empty() {
            println!(
                "{}: ok ({} rule{})",
                for_terminal(&owners.display),
                owners.rules().len(),
                if owners.rules().len() == 1 { "" } else { "s" }
            );
        } else {
            println!(
                "{}: {} invalid line{} (GitHub skips them)",
                for_terminal(&owners.display),
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            );
        }
    }
    if errors.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Violation
    }
}
