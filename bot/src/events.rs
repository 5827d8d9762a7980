//! What a webhook delivery asks for: the jobs it queues, read from the payload alone (no network,
//! no database), so the webhook answers in microseconds and the mapping is tested on GitHub's own
//! published payloads.

use crate::queue::{JobKind, NewJob};
use serde_json::Value;

/// The check run name for a target branch.
pub fn check_name(base: &str) -> String {
    format!("vouch: {base}")
}

/// What the bot does with a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Queue these jobs (possibly none, when every one is already queued).
    Queue {
        action: String,
        jobs: Vec<NewJob>,
        /// `(repo, pull, login, head_sha)`: who pushed this head (`synchronize`).
        pusher: Option<(String, i64, String, String)>,
    },
    /// Nothing to do; the reason goes into the answer and the log.
    Ignore(String),
}

/// Why a payload cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{event} payload: {message}")]
pub struct PayloadError {
    pub event: String,
    pub message: String,
}

fn text<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)?.as_str()
}

struct Reader<'a> {
    event: &'a str,
    payload: &'a Value,
}

impl<'a> Reader<'a> {
    fn need(&self, pointer: &str) -> Result<&'a str, PayloadError> {
        text(self.payload, pointer)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| self.bad(format!("missing {pointer}")))
    }
    fn number(&self, pointer: &str) -> Result<i64, PayloadError> {
        self.payload
            .pointer(pointer)
            .and_then(Value::as_i64)
            .ok_or_else(|| self.bad(format!("missing number {pointer}")))
    }
    fn bad(&self, message: String) -> PayloadError {
        PayloadError {
            event: self.event.to_string(),
            message,
        }
    }
    fn installation(&self) -> Result<i64, PayloadError> {
        self.number("/installation/id")
    }
    fn repo(&self) -> Result<&'a str, PayloadError> {
        let name = self.need("/repository/full_name")?;
        if valid_full_name(name) {
            Ok(name)
        } else {
            Err(self.bad(format!("/repository/full_name {name:?} is not OWNER/NAME")))
        }
    }
    /// A commit id: 40 (SHA-1) or 64 (SHA-256) hexadecimal digits, nothing git could read as an
    /// option or a revision expression.
    fn sha(&self, pointer: &str) -> Result<&'a str, PayloadError> {
        let id = self.need(pointer)?;
        if valid_sha(id) {
            Ok(id)
        } else {
            Err(self.bad(format!("{pointer} {id:?} is not a commit id")))
        }
    }
    /// A branch name (`main` or `refs/heads/main`) git accepts as a ref name.
    fn branch(&self, pointer: &str) -> Result<&'a str, PayloadError> {
        let name = self.need(pointer)?;
        if valid_branch(name) {
            Ok(name)
        } else {
            Err(self.bad(format!("{pointer} {name:?} is not a branch name")))
        }
    }
}

/// 40 or 64 lowercase or uppercase hexadecimal digits.
pub fn valid_sha(id: &str) -> bool {
    matches!(id.len(), 40 | 64) && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `OWNER/NAME` in the characters GitHub allows in logins and repository names.
pub fn valid_full_name(name: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && !p.starts_with(['-', '.'])
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    matches!(name.split_once('/'), Some((owner, repo)) if part(owner) && part(repo))
}

/// A branch name git accepts (`git check-ref-format`), short or under `refs/heads/`.
pub fn valid_branch(name: &str) -> bool {
    let short = short_branch(name);
    !short.is_empty()
        && !short.starts_with('-')
        && git2::Reference::is_valid_name(&format!("refs/heads/{short}"))
}

fn short_branch(name: &str) -> &str {
    name.strip_prefix("refs/heads/").unwrap_or(name)
}

fn pull_job(installation: i64, repo: &str, pull: i64, head_sha: &str, base: &str) -> NewJob {
    NewJob {
        kind: JobKind::Pull,
        installation,
        repo: repo.to_string(),
        pull,
        head_sha: head_sha.to_string(),
        base: short_branch(base).to_string(),
        head_ref: String::new(),
        base_sha: String::new(),
    }
}

/// A scan of one repository (`repo` non-empty) or a whole installation; with `head_sha`, only the
/// open pull requests at that head, judged again whatever their check says (a re-run).
pub fn scan_job(installation: i64, repo: &str, head_sha: &str) -> NewJob {
    NewJob {
        kind: JobKind::Scan,
        installation,
        repo: repo.to_string(),
        pull: 0,
        head_sha: head_sha.to_string(),
        // One live scan per installation: jobs are unique by (repo, head, base).
        base: if repo.is_empty() {
            format!("installation {installation}")
        } else {
            String::new()
        },
        head_ref: String::new(),
        base_sha: String::new(),
    }
}

/// The merge queue's target branch, from a `gh-readonly-queue/<base>/pr-<n>-<sha>` head branch.
fn queue_base(head_branch: &str) -> Option<&str> {
    let rest = short_branch(head_branch).strip_prefix("gh-readonly-queue/")?;
    let cut = rest.rfind("/pr-")?;
    Some(&rest[..cut]).filter(|b| !b.is_empty())
}

/// The jobs of the pull requests a check run or suite payload lists (`pull_requests`); a scan of
/// the repository at that head when it lists none (pull requests from forks are not listed).
fn from_check(r: &Reader<'_>, object: &str, action: &str) -> Result<Plan, PayloadError> {
    let installation = r.installation()?;
    let repo = r.repo()?;
    let head_sha = r.sha(&format!("/{object}/head_sha"))?;
    let head_branch = text(r.payload, &format!("/{object}/head_branch"))
        .or_else(|| text(r.payload, &format!("/{object}/check_suite/head_branch")))
        .unwrap_or_default();
    if let Some(base) = queue_base(head_branch).filter(|_| valid_branch(head_branch)) {
        return Ok(Plan::Queue {
            action: action.to_string(),
            jobs: vec![NewJob {
                kind: JobKind::MergeGroup,
                installation,
                repo: repo.to_string(),
                pull: 0,
                head_sha: head_sha.to_string(),
                base: base.to_string(),
                head_ref: format!("refs/heads/{}", short_branch(head_branch)),
                base_sha: String::new(),
            }],
            pusher: None,
        });
    }
    let pulls = r
        .payload
        .pointer(&format!("/{object}/pull_requests"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut jobs = Vec::new();
    for p in &pulls {
        let (Some(number), Some(base)) = (
            p.get("number").and_then(Value::as_i64),
            text(p, "/base/ref").filter(|b| valid_branch(b)),
        ) else {
            return Err(r.bad(format!(
                "{object}.pull_requests entry without a number or a valid base.ref"
            )));
        };
        jobs.push(pull_job(installation, repo, number, head_sha, base));
    }
    if jobs.is_empty() {
        jobs.push(scan_job(installation, repo, head_sha));
    }
    Ok(Plan::Queue {
        action: action.to_string(),
        jobs,
        pusher: None,
    })
}

/// Map a delivery to its plan.
pub fn plan(event: &str, payload: &Value) -> Result<Plan, PayloadError> {
    let r = Reader { event, payload };
    let action = text(payload, "/action").unwrap_or_default().to_string();
    let ignore = |why: &str| Ok(Plan::Ignore(format!("{event} {action}: {why}")));
    match event {
        "ping" => ignore("pong"),
        "pull_request" | "pull_request_review" => {
            let wanted = match event {
                "pull_request" => match action.as_str() {
                    "opened" | "synchronize" | "reopened" | "ready_for_review" => true,
                    // Retargeting a pull request changes the policy that judges it.
                    "edited" => payload.pointer("/changes/base").is_some(),
                    _ => false,
                },
                _ => matches!(action.as_str(), "submitted" | "edited" | "dismissed"),
            };
            if !wanted {
                return ignore("nothing to judge");
            }
            if text(payload, "/pull_request/state") == Some("closed") {
                return ignore("the pull request is closed");
            }
            let installation = r.installation()?;
            let repo = r.repo()?;
            let number = r.number("/pull_request/number")?;
            let head = r.sha("/pull_request/head/sha")?;
            let base = r.branch("/pull_request/base/ref")?;
            let pusher = (event == "pull_request" && action == "synchronize")
                .then(|| text(payload, "/sender/login"))
                .flatten()
                .map(|login| {
                    (
                        repo.to_string(),
                        number,
                        login.to_string(),
                        head.to_string(),
                    )
                });
            Ok(Plan::Queue {
                action,
                jobs: vec![pull_job(installation, repo, number, head, base)],
                pusher,
            })
        }
        "check_run" => {
            if action != "rerequested" {
                return ignore("nothing to judge");
            }
            let name = r.need("/check_run/name")?;
            if !name.starts_with("vouch: ") {
                return ignore("another App's check run");
            }
            from_check(&r, "check_run", &action)
        }
        "check_suite" => {
            if !matches!(action.as_str(), "requested" | "rerequested") {
                return ignore("nothing to judge");
            }
            from_check(&r, "check_suite", &action)
        }
        "merge_group" => {
            if action != "checks_requested" {
                return ignore("nothing to judge");
            }
            let base_ref = r.branch("/merge_group/base_ref")?;
            Ok(Plan::Queue {
                action,
                jobs: vec![NewJob {
                    kind: JobKind::MergeGroup,
                    installation: r.installation()?,
                    repo: r.repo()?.to_string(),
                    pull: 0,
                    head_sha: r.sha("/merge_group/head_sha")?.to_string(),
                    base: short_branch(base_ref).to_string(),
                    head_ref: r.branch("/merge_group/head_ref")?.to_string(),
                    base_sha: r.sha("/merge_group/base_sha")?.to_string(),
                }],
                pusher: None,
            })
        }
        "installation" => match action.as_str() {
            "created" | "new_permissions_accepted" | "unsuspend" => Ok(Plan::Queue {
                jobs: vec![scan_job(r.installation()?, "", "")],
                action,
                pusher: None,
            }),
            _ => ignore("nothing to judge"),
        },
        "installation_repositories" => {
            if action != "added" {
                return ignore("nothing to judge");
            }
            let installation = r.installation()?;
            let added = payload
                .get("repositories_added")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut jobs = Vec::new();
            for repo in &added {
                let name = text(repo, "/full_name")
                    .filter(|n| valid_full_name(n))
                    .ok_or_else(|| {
                        r.bad("repositories_added entry without a valid full_name".into())
                    })?;
                jobs.push(scan_job(installation, name, ""));
            }
            Ok(Plan::Queue {
                action,
                jobs,
                pusher: None,
            })
        }
        _ => ignore("event not handled"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(event: &str, file: &str) -> Value {
        let dir = std::env::var_os("VOUCH_FIXTURES")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/github")
            });
        let path = dir.join("webhooks").join(event).join(file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).unwrap()
    }

    fn jobs(plan: Plan) -> Vec<NewJob> {
        match plan {
            Plan::Queue { jobs, .. } => jobs,
            Plan::Ignore(why) => panic!("ignored: {why}"),
        }
    }

    #[test]
    fn synchronize_records_the_sender_as_pusher() {
        let p = fixture("pull_request", "synchronize.payload.json");
        let plan = plan("pull_request", &p).unwrap();
        let Plan::Queue { jobs, pusher, .. } = plan else {
            panic!("ignored")
        };
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].kind, JobKind::Pull);
        assert_eq!(jobs[0].base, "master");
        assert_eq!(
            jobs[0].head_sha,
            p["pull_request"]["head"]["sha"].as_str().unwrap()
        );
        let (_, _, login, head) = pusher.unwrap();
        assert_eq!(login, p["sender"]["login"].as_str().unwrap());
        assert_eq!(head, jobs[0].head_sha);
    }

    #[test]
    fn ids_and_names_git_could_read_as_options_are_refused() {
        let good = fixture("pull_request", "synchronize.payload.json");
        for (pointer, bad) in [
            ("/pull_request/head/sha", "--upload-pack=touch x"),
            ("/pull_request/head/sha", "HEAD~1"),
            ("/pull_request/head/sha", &"g".repeat(40)),
            ("/pull_request/base/ref", "-main"),
            ("/pull_request/base/ref", "main..x"),
            ("/pull_request/base/ref", "ma in"),
            ("/repository/full_name", "../../etc"),
            ("/repository/full_name", "owner"),
            ("/repository/full_name", "-o/name"),
        ] {
            let mut p = good.clone();
            *p.pointer_mut(pointer).unwrap() = Value::String(bad.to_string());
            let err = plan("pull_request", &p).unwrap_err();
            assert!(err.message.contains(pointer), "{pointer}={bad:?}: {err}");
        }
        assert!(valid_sha(
            &"aB3".repeat(13).chars().chain(['0']).collect::<String>()
        ));
        assert!(valid_branch("refs/heads/feature/x") && valid_branch("release-1.0"));
        assert!(valid_full_name("octo-org/hello.world_2"));
    }

    #[test]
    fn unhandled_actions_and_events_are_ignored() {
        let p = fixture("pull_request", "labeled.payload.json");
        assert!(matches!(plan("pull_request", &p).unwrap(), Plan::Ignore(_)));
        let p = fixture("push", "payload.json");
        assert!(matches!(plan("push", &p).unwrap(), Plan::Ignore(_)));
        let mut p = fixture("pull_request", "synchronize.payload.json");
        p["action"] = "edited".into();
        assert!(matches!(plan("pull_request", &p).unwrap(), Plan::Ignore(_)));
        p["changes"] = serde_json::json!({"base": {"ref": {"from": "dev"}}});
        assert_eq!(jobs(plan("pull_request", &p).unwrap()).len(), 1);
    }

    #[test]
    fn merge_group_targets_the_group_head() {
        let mut p = fixture("merge_group", "checks_requested.payload.json");
        p["installation"] = serde_json::json!({"id": 7});
        let j = jobs(plan("merge_group", &p).unwrap());
        assert_eq!(j[0].kind, JobKind::MergeGroup);
        assert_eq!(j[0].head_sha, "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d");
        assert_eq!(j[0].base, "main");
        assert_eq!(j[0].installation, 7);
    }

    #[test]
    fn rerun_of_a_check_without_pull_requests_scans_that_head() {
        let mut p = fixture("check_run", "rerequested.payload.json");
        p["check_run"]["name"] = "vouch: main".into();
        let j = jobs(plan("check_run", &p).unwrap());
        assert_eq!(j[0].kind, JobKind::Scan);
        assert_eq!(j[0].head_sha, p["check_run"]["head_sha"].as_str().unwrap());
        let p = fixture("check_run", "rerequested.payload.json");
        assert!(matches!(plan("check_run", &p).unwrap(), Plan::Ignore(_)));
    }

    #[test]
    fn rerun_of_a_merge_queue_check_judges_the_group() {
        let mut p = fixture("check_run", "rerequested.payload.json");
        p["check_run"]["name"] = "vouch: main".into();
        p["check_run"]["check_suite"]["head_branch"] =
            "gh-readonly-queue/release/v2/pr-12-abc".into();
        let j = jobs(plan("check_run", &p).unwrap());
        assert_eq!(j[0].kind, JobKind::MergeGroup);
        assert_eq!(j[0].base, "release/v2");
    }

    #[test]
    fn installation_events_scan() {
        let p = fixture("installation", "created.payload.json");
        assert_eq!(
            jobs(plan("installation", &p).unwrap())[0].kind,
            JobKind::Scan
        );
        let p = fixture("installation_repositories", "added.payload.json");
        let j = jobs(plan("installation_repositories", &p).unwrap());
        assert_eq!(j[0].repo, "Codertocat/Space");
    }

    #[test]
    fn a_payload_missing_what_it_needs_is_an_error_not_a_panic() {
        let p = serde_json::json!({"action": "opened", "pull_request": {"number": "x"}});
        assert!(plan("pull_request", &p).is_err());
        assert!(plan(
            "merge_group",
            &serde_json::json!({"action": "checks_requested"})
        )
        .is_err());
        assert!(plan("check_suite", &serde_json::json!([1, 2])).is_ok());
    }
}
