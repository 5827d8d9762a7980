//! `vouch owners` and `vouch review`, run as the real binary on real repositories and the
//! shipped examples.

use std::path::{Path, PathBuf};
use std::process::Output;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/review")
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn from(out: Output, what: &str) -> Run {
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        eprintln!(
            "$ {what}\n--- exit {}\n--- stdout\n{}--- stderr\n{}",
            run.code, run.stdout, run.stderr
        );
        run
    }
}

fn vouch(dir: &Path, args: &[&str]) -> Run {
    let home = vouch_testkit::Home::new();
    let out = home
        .command(env!("CARGO_BIN_EXE_vouch"), dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("GIT_DIR")
        .output()
        .expect("run vouch");
    Run::from(out, &format!("vouch {}", args.join(" ")))
}

/// A real git repository in a temporary folder, isolated from the user's git configuration.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let repo = Repo {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) {
        vouch_testkit::git(self.path(), args);
    }

    fn write(&self, path: &str, text: &str) {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, text).expect("write");
    }

    fn commit_all(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }
}

const CODEOWNERS: &str = "\
* @acme/all
/src/ @sam
/src/gen/
*.md docs@acme.example
";

fn owned_repo() -> Repo {
    let repo = Repo::new();
    repo.write(".github/CODEOWNERS", CODEOWNERS);
    repo.write("src/main.rs", "fn main() {}\n");
    repo.write("src/gen/out.rs", "\n");
    repo.write("src/gen/README.md", "\n");
    repo.write("Cargo.toml", "\n");
    repo.commit_all("initial");
    repo
}

#[test]
fn owners_names_owners_and_the_deciding_line() {
    let repo = owned_repo();
    let run = vouch(
        repo.path(),
        &[
            "owners",
            "src/main.rs",
            "src/gen/out.rs",
            "Cargo.toml",
            "src/gen/README.md",
        ],
    );
    assert_eq!(run.code, 0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "src/main.rs: @sam (refs/heads/main:.github/CODEOWNERS:2 `/src/`)",
            "src/gen/out.rs: no owner (un-assigned by refs/heads/main:.github/CODEOWNERS:3 `/src/gen/`)",
            "Cargo.toml: @acme/all (refs/heads/main:.github/CODEOWNERS:1 `*`)",
            "src/gen/README.md: docs@acme.example (refs/heads/main:.github/CODEOWNERS:4 `*.md`)",
        ]
    );

    // Paths are relative to the current directory.
    let run = vouch(&repo.path().join("src"), &["owners", "main.rs"]);
    assert!(
        run.stdout.starts_with("src/main.rs: @sam"),
        "{}",
        run.stdout
    );

    let run = vouch(
        repo.path(),
        &["owners", "--format", "json", "src/main.rs", "nowhere/x"],
    );
    let rows: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(rows[0]["owners"][0], "@sam");
    assert_eq!(rows[0]["line"], 2);
    assert_eq!(rows[0]["pattern"], "/src/");
    assert_eq!(rows[1]["owners"][0], "@acme/all");
}

#[test]
fn owners_lists_unowned_tracked_files() {
    let repo = owned_repo();
    let run = vouch(repo.path(), &["owners", "--unowned"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout.trim(), "src/gen/out.rs");
    let run = vouch(repo.path(), &["owners", "--unowned", "--format", "json"]);
    let body: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(body["unowned"], serde_json::json!(["src/gen/out.rs"]));
    assert_eq!(body["tracked"], 5);
}

#[test]
fn owners_reads_the_commit_unless_told_to_read_the_working_tree() {
    let repo = owned_repo();
    repo.write(".github/CODEOWNERS", "* @new-owner\n");
    let committed = vouch(repo.path(), &["owners", "src/main.rs"]);
    assert!(committed.stdout.contains("@sam"), "{}", committed.stdout);
    let working = vouch(repo.path(), &["owners", "--working-tree", "src/main.rs"]);
    assert!(working.stdout.contains("@new-owner"), "{}", working.stdout);
}

#[test]
fn owners_check_reports_every_invalid_line() {
    let repo = owned_repo();
    let run = vouch(repo.path(), &["owners", "--check"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("ok (4 rules)"), "{}", run.stdout);

    repo.write(".github/CODEOWNERS", "* @a\n!*.js @b\n*.txt docs@\n/ @c\n");
    repo.commit_all("broken owners");
    let run = vouch(repo.path(), &["owners", "--check"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains(".github/CODEOWNERS:2:1: Unsupported syntax"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(".github/CODEOWNERS:3:7: Invalid owner"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(".github/CODEOWNERS:4:1: Invalid pattern"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("did you mean `*` instead?"),
        "{}",
        run.stdout
    );
    let run = vouch(repo.path(), &["owners", "--check", "--format", "json"]);
    assert_eq!(run.code, 1);
    let body: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(3));
    assert_eq!(body["errors"][1]["kind"], "Invalid owner");
    assert_eq!(body["errors"][1]["line"], 3);

    // Looking up paths still works, skipping the bad lines, and says so.
    let run = vouch(repo.path(), &["owners", "x.js"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("x.js: @a"), "{}", run.stdout);
    assert!(run.stderr.contains("3 invalid lines"), "{}", run.stderr);
}

#[test]
fn owners_without_codeowners_is_a_usage_error() {
    let repo = Repo::new();
    repo.write("a.txt", "\n");
    repo.commit_all("no owners");
    let run = vouch(repo.path(), &["owners", "a.txt"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no CODEOWNERS in refs/heads/main"),
        "{}",
        run.stderr
    );
}

/// Run `examples/review/demo.sh CASE` (which builds the example's commits in `work`) with this
/// build's vouch; also return the pull request's first commit and head.
fn demo(case: &str, work: &Path, options: &[&str]) -> (Run, String, String) {
    let script = examples().join("demo.sh");
    let home = vouch_testkit::Home::new();
    let out = home
        .command("bash", work.parent().expect("parent"))
        .arg(&script)
        .arg(case)
        .arg(work)
        .arg("--")
        .args(options)
        .env("VOUCH", env!("CARGO_BIN_EXE_vouch"))
        .env("NO_COLOR", "1")
        .env_remove("GIT_DIR")
        .output()
        .expect("run demo.sh");
    let run = Run::from(out, &format!("demo.sh {case} {}", options.join(" ")));
    let rev = |spec: &str| vouch_testkit::git(&work.join("repo"), &["rev-parse", spec]);
    (run, rev("topic~1"), rev("topic"))
}

#[test]
fn review_judges_the_shipped_examples() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (run, _, _) = demo("pass", &tmp.path().join("pass"), &[]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("vouch: passed"), "{}", run.stdout);

    let work = tmp.path().join("fail");
    let (run, first, head) = demo("fail", &work, &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains(&format!("@bob approved but co-authored {}", &first[..7])),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "@erin approved {} but the head is now {}",
            &first[..7],
            &head[..7]
        )),
        "{}",
        run.stdout
    );
    // The unsigned commit that names the bot counts like anyone's: carol committed it.
    assert!(
        run.stdout
            .contains("names a bot but its signature is not verified"),
        "{}",
        run.stdout
    );

    let (run, _, _) = demo(
        "fail",
        &tmp.path().join("fail-md"),
        &["--format", "markdown"],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.starts_with("## ❌ vouch: failed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("review.changes-requested"),
        "{}",
        run.stdout
    );

    let (run, _, _) = demo("fail", &tmp.path().join("fail-json"), &["--format", "json"]);
    let body: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(body["checks"][0]["check"], "review");
    assert_eq!(body["checks"][0]["status"], "fail");
    let approvals = body["evidence"]["review"]["approvals"]
        .as_array()
        .expect("approvals recorded");
    assert!(approvals
        .iter()
        .any(|a| a["reviewer"] == "erin" && a["counted"] == false));
}

#[test]
fn review_uses_the_base_branchs_codeowners_not_the_working_copy() {
    let repo = Repo::new();
    repo.write(".vouch/policy.toml", "[review]\nrequired_approvals = 1\n");
    repo.write(
        ".github/CODEOWNERS",
        "/src/ @sam\n/.vouch/ @sec\n/.github/CODEOWNERS @sec\n",
    );
    repo.commit_all("policy");
    // The pull request's version would hand src/ to @bob; only main's CODEOWNERS counts.
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.write(".github/CODEOWNERS", "/src/ @bob\n");
    repo.write("src/lib.rs", "pub fn f() {}\n");
    repo.commit_all("hand src to bob");
    let head = vouch_testkit::git(repo.path(), &["rev-parse", "HEAD"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.write(".github/CODEOWNERS", "/src/ @bob\n");
    let pr = serde_json::json!({
        "number": 1,
        "author": "alice",
        "base": "main",
        "head_sha": head,
        "last_pusher": "alice",
        "reviews": [{"reviewer": "bob", "state": "APPROVED",
                     "commit_id": head,
                     "submitted_at": "2026-11-25T10:00:00Z"}],
        "permissions": {"bob": "write"}
    });
    repo.write("pr.json", &pr.to_string());
    let run = vouch(repo.path(), &["review", "--input", "pr.json"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("needs approval from one of @sam"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("needs approval from one of @sec"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("refs/heads/main:.github/CODEOWNERS"),
        "{}",
        run.stdout
    );
}

#[test]
fn review_rejects_bad_input_with_its_position() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        tmp.path().join("pr.json"),
        "{\"number\": 1,\n \"author\": 5}",
    )
    .expect("write");
    let policy = examples().to_string_lossy().into_owned();
    let run = vouch(
        tmp.path(),
        &["review", "--input", "pr.json", "--policy", &policy],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("pr.json:2:"), "{}", run.stderr);
    assert!(run.stderr.contains("docs/review.md"), "{}", run.stderr);
}
