//! `vouch scan`: secrets in files and folders, in the staged changes, or in git history.
//!
//! Outside a repository with a policy the built-in defaults apply; inside, the policy committed
//! on HEAD's branch (or the default branch's) does — never the working tree's.

use crate::exit::{Outcome, UsageError};
use crate::output::Output;
use anyhow::Context as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use vouch_rules::change::git::Gatherer;
use vouch_rules::change::range::Revisions;
use vouch_rules::finding::{Finding, Location};
use vouch_rules::policy::{resolve, Policy};
use vouch_rules::secrets::report::{broken_rule, not_scanned, Allowed, Located};
use vouch_rules::secrets::{self, history, Baseline, FileScan, Scanner};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or folders to scan (default: the current folder). .gitignore is honoured.
    pub paths: Vec<PathBuf>,
    /// Scan exactly what is staged (the index against HEAD), not the working tree.
    #[arg(long, conflicts_with_all = ["paths", "git"])]
    pub staged: bool,
    /// Scan the secrets each commit in RANGE added (`main..topic`, `HEAD~10..`, a single
    /// revision for it and its ancestors); with --all, the history of every ref.
    #[arg(long, value_name = "RANGE", num_args = 0..=1, default_missing_value = "", conflicts_with = "paths")]
    pub git: Option<String>,
    /// With --git: scan the whole history of all refs.
    #[arg(long, requires = "git")]
    pub all: bool,
    /// Scan files .gitignore and .ignore exclude, too.
    #[arg(long)]
    pub no_ignore: bool,
    /// Also report findings accepted by `vouch:allow` comments or the baseline, as notes.
    #[arg(long)]
    pub show_allowed: bool,
    /// Accepted findings (default: the policy's `.vouch/baseline.json`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
}

/// The repository (if any), its working tree, and the policy that applies.
pub struct Context {
    pub repo: Option<git2::Repository>,
    pub policy: Policy,
}

impl Context {
    /// Find the repository around the current folder and the policy of HEAD's branch.
    pub fn here() -> anyhow::Result<Context> {
        let Some(repo) = super::try_open_repo()? else {
            return Ok(Context {
                repo: None,
                policy: Policy::builtin(),
            });
        };
        let target = resolve::head_branch(&repo).unwrap_or_else(|| "HEAD".to_string());
        let policy = resolve::for_target(&repo, &target)?;
        Ok(Context {
            repo: Some(repo),
            policy,
        })
    }

    pub fn repo(&self) -> anyhow::Result<&git2::Repository> {
        self.repo.as_ref().ok_or_else(|| {
            UsageError::new("not in a git repository")
                .hint("run vouch inside a git repository, or pass -C <dir>")
                .into()
        })
    }

    pub fn workdir(&self) -> Option<&Path> {
        self.repo.as_ref().and_then(|r| r.workdir())
    }
}

pub fn run(args: Args, out: &Output) -> anyhow::Result<Outcome> {
    let ctx = Context::here()?;
    let scanner = secrets::load(&ctx.policy)?;
    let baseline = match &args.baseline {
        Some(file) => {
            let bytes = std::fs::read(file)
                .with_context(|| format!("cannot read the baseline {}", file.display()))?;
            Baseline::parse(&bytes, &file.display().to_string())?
        }
        None => secrets::load_baseline(&ctx.policy)?,
    };
    let started = std::time::Instant::now();
    let (found, other, stats) = if args.staged {
        scan_staged(&ctx, &scanner)?
    } else if let Some(range) = &args.git {
        scan_history(&ctx, &scanner, range, args.all)?
    } else {
        scan_paths(&ctx, &scanner, &args.paths, args.no_ignore)
    };
    let allowed = if args.show_allowed {
        Allowed::Show
    } else {
        Allowed::Hide
    };
    if out.verbose {
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "vouch: scanned {} in {:.3} s ({:.0} MB/s)",
            stats,
            secs,
            stats.bytes as f64 / 1e6 / secs.max(1e-9)
        );
    }
    let verdict = secrets::scan_verdict(
        &ctx.policy,
        found,
        other,
        &baseline,
        allowed,
        vouch_rules::time::unix_now(),
    );
    Ok(out.emit(&verdict))
}

/// What a scan covered, for `-v`.
#[derive(Debug, Default)]
pub struct Stats {
    pub files: u64,
    pub commits: u64,
    pub bytes: u64,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.commits > 0 {
            write!(f, "{} commits, ", self.commits)?;
        }
        write!(f, "{} files, {} bytes", self.files, self.bytes)
    }
}

type Scanned = (Vec<Located>, Vec<Finding>, Stats);

fn scan_staged(ctx: &Context, scanner: &Scanner) -> anyhow::Result<Scanned> {
    let repo = ctx.repo()?;
    let staged = Gatherer::new(repo).staged()?;
    let mut found = Vec::new();
    let mut other = Vec::new();
    let mut stats = Stats::default();
    for file in &staged {
        stats.files += 1;
        stats.bytes += file.hunks.iter().map(|h| h.text.len() as u64).sum::<u64>();
        secrets::scan_file_change(scanner, file, Location::default(), &mut found, &mut other);
    }
    Ok((found, other, stats))
}

fn scan_history(
    ctx: &Context,
    scanner: &Scanner,
    range: &str,
    all: bool,
) -> anyhow::Result<Scanned> {
    let repo = ctx.repo()?;
    let commits = match (range.is_empty(), all) {
        (_, true) if !range.is_empty() => {
            return Err(
                UsageError::new("give either --git RANGE or --git --all, not both")
                    .hint("`vouch scan --git --all` scans every ref's history")
                    .into(),
            )
        }
        (_, true) => history::all_commits(repo)?,
        (true, false) => {
            return Err(UsageError::new("--git needs a RANGE, or --all")
                .hint("e.g. `vouch scan --git origin/main..HEAD` or `vouch scan --git --all`")
                .into())
        }
        (false, false) => Revisions::parse(repo, range)
            .and_then(|r| r.commits(repo))
            .map_err(|e| {
                UsageError::new(e.to_string())
                    .hint("give a range git understands, e.g. `origin/main..HEAD` or `v1.0`")
            })?,
    };
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} scanning blobs {pos}/{len} {bar:30} {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let progress = |done: u64, total: u64| {
        if bar.length() != Some(total) {
            bar.set_length(total);
        }
        bar.set_position(done);
    };
    let scan = history::scan_commits(repo.path(), &commits, scanner, Some(&progress))?;
    bar.finish_and_clear();
    let stats = Stats {
        files: scan.blobs as u64,
        commits: scan.commits as u64,
        bytes: scan.bytes,
    };
    Ok((scan.found, scan.findings, stats))
}

/// A root to walk, and how to name what is under it.
struct Root {
    path: PathBuf,
    /// The root's name as reported: relative to the repository's working tree when inside it.
    shown: String,
}

fn root(path: &Path, workdir: Option<&Path>) -> Root {
    let given = path.to_string_lossy().replace('\\', "/");
    let mut shown = given.trim_start_matches("./").to_string();
    if let (Some(wd), Ok(abs)) = (workdir, path.canonicalize()) {
        if let Ok(wd) = wd.canonicalize() {
            if let Ok(rel) = abs.strip_prefix(&wd) {
                shown = rel.to_string_lossy().replace('\\', "/");
            }
        }
    }
    if shown == "." {
        shown.clear();
    }
    Root {
        path: path.to_path_buf(),
        shown,
    }
}

fn display(roots: &[Root], path: &Path) -> String {
    for r in roots {
        if let Ok(rest) = path.strip_prefix(&r.path) {
            let rest = rest.to_string_lossy().replace('\\', "/");
            return match (r.shown.is_empty(), rest.is_empty()) {
                (true, _) => rest,
                (false, true) => r.shown.clone(),
                (false, false) => format!("{}/{rest}", r.shown),
            };
        }
    }
    path.to_string_lossy().replace('\\', "/")
}

/// Walk files and folders in parallel (honouring ignore files unless `no_ignore`) and scan them.
pub fn scan_paths(ctx: &Context, scanner: &Scanner, paths: &[PathBuf], no_ignore: bool) -> Scanned {
    let defaults = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &defaults[..]
    } else {
        paths
    };
    let roots: Vec<Root> = paths.iter().map(|p| root(p, ctx.workdir())).collect();
    let mut builder = ignore::WalkBuilder::new(&paths[0]);
    for p in &paths[1..] {
        builder.add(p);
    }
    builder
        .hidden(false)
        .git_ignore(!no_ignore)
        .git_exclude(!no_ignore)
        .git_global(!no_ignore)
        .ignore(!no_ignore)
        .parents(!no_ignore)
        .filter_entry(|e| e.file_name() != ".git");
    let found = Mutex::new(Vec::new());
    let other = Mutex::new(Vec::new());
    let stats = Mutex::new(Stats::default());
    builder.build_parallel().run(|| {
        let mut worker = Worker {
            scanner,
            roots: &roots,
            buf: Vec::new(),
            found: Vec::new(),
            other: Vec::new(),
            stats: Stats::default(),
            into: (&found, &other, &stats),
        };
        Box::new(move |entry| {
            worker.visit(entry);
            ignore::WalkState::Continue
        })
    });
    (
        found.into_inner().unwrap_or_default(),
        other.into_inner().unwrap_or_default(),
        stats.into_inner().unwrap_or_default(),
    )
}

/// One walker thread's state; hands its results over when the walk drops it.
struct Worker<'a> {
    scanner: &'a Scanner,
    roots: &'a [Root],
    buf: Vec<u8>,
    found: Vec<Located>,
    other: Vec<Finding>,
    stats: Stats,
    into: (
        &'a Mutex<Vec<Located>>,
        &'a Mutex<Vec<Finding>>,
        &'a Mutex<Stats>,
    ),
}

impl Worker<'_> {
    fn visit(&mut self, entry: Result<ignore::DirEntry, ignore::Error>) {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                self.other.push(secrets::unreadable(None, &e.to_string()));
                return;
            }
        };
        // Links are never followed (one could lead outside the repository); git stores a link
        // as its target's name, and that is what the hooks scan. A link named on the command
        // line is said to be left alone, so nobody takes it as scanned.
        // The walker follows a link given as a root; look at the root itself.
        let root_link = entry.depth() == 0
            && std::fs::symlink_metadata(entry.path()).is_ok_and(|m| m.file_type().is_symlink());
        if entry.path_is_symlink() || root_link {
            if entry.depth() == 0 {
                let shown = display(self.roots, entry.path());
                self.other.push(
                    Finding::note(
                        "secrets.symlink-not-followed",
                        "a symbolic link: not followed, so what it points at was not scanned",
                    )
                    .at(Location::file(shown, None))
                    .hint("scan the file it points at by its own path, if that is meant"),
                );
            }
            return;
        }
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            return;
        }
        let shown = display(self.roots, entry.path());
        if self.scanner.path_allowed(&shown) {
            return;
        }
        scan_one(
            self.scanner,
            entry.path(),
            shown,
            &mut self.buf,
            &mut self.found,
            &mut self.other,
            &mut self.stats,
        );
    }
}

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        if let Ok(mut f) = self.into.0.lock() {
            f.append(&mut self.found);
        }
        if let Ok(mut o) = self.into.1.lock() {
            o.append(&mut self.other);
        }
        if let Ok(mut s) = self.into.2.lock() {
            s.files += self.stats.files;
            s.bytes += self.stats.bytes;
        }
    }
}

fn scan_one(
    scanner: &Scanner,
    path: &Path,
    shown: String,
    buf: &mut Vec<u8>,
    found: &mut Vec<Located>,
    other: &mut Vec<Finding>,
    stats: &mut Stats,
) {
    let location = Location::file(shown.clone(), None);
    match scanner.scan_path(path, buf) {
        Ok(FileScan::Scanned(scan)) => {
            stats.files += 1;
            stats.bytes += scan.bytes;
            other.extend(scan.broken_rules.iter().map(|r| broken_rule(r)));
            found.extend(scan.matches.into_iter().map(|m| Located {
                found: m,
                location: location.clone(),
            }));
        }
        Ok(FileScan::Binary) => stats.files += 1,
        Ok(FileScan::TooLarge { size }) => {
            other.push(not_scanned(
                location,
                size,
                scanner.settings().max_file_bytes,
                scanner.settings().oversize,
            ));
        }
        Err(e) => other.push(secrets::unreadable(Some(shown), &e.to_string())),
    }
}
