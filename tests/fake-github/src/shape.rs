//! GitHub's example answers with a scenario written over them: each builder starts from the
//! published example, points its URLs at the fake, and sets the fields the scenario decides.

use crate::fixtures::Fixtures;
use crate::state::{ForcePush, Installation, Repo};
use crate::{CheckRun, Pull, PullCommit, Review};
use serde_json::{json, Value};

/// Replace every `from` in every string inside `v`.
fn rewrite(v: &mut Value, pairs: &[(&str, &str)]) {
    match v {
        Value::String(s) => {
            for (from, to) in pairs {
                if s.contains(from) {
                    *s = s.replace(from, to);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rewrite(i, pairs)),
        Value::Object(map) => map.values_mut().for_each(|i| rewrite(i, pairs)),
        _ => {}
    }
}

/// A stable account id for a login (GitHub's are positive integers).
fn account_id(login: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in login.to_ascii_lowercase().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % 90_000_000) as i64 + 10_000
}

fn set(v: &mut Value, key: &str, value: Value) {
    if let Value::Object(map) = v {
        map.insert(key.to_string(), value);
    }
}

fn remove(v: &mut Value, key: &str) {
    if let Value::Object(map) = v {
        map.remove(key);
    }
}

/// The builders, for one server.
pub(crate) struct Shapes<'a> {
    pub(crate) fx: &'a Fixtures,
    pub(crate) base: &'a str,
    pub(crate) app_id: u64,
}

impl Shapes<'_> {
    fn api(&self, v: &mut Value) {
        rewrite(v, &[("https://api.github.com", self.base)]);
    }

    /// A simple user (`pulls/get.json`'s `user`) for `login`.
    pub(crate) fn user(&self, login: &str) -> Value {
        let mut u = self.fx.get("pulls/get.json")["user"].clone();
        rewrite(&mut u, &[("octocat", login)]);
        self.api(&mut u);
        let id = account_id(login);
        set(&mut u, "login", json!(login));
        set(&mut u, "id", json!(id));
        set(&mut u, "node_id", json!(format!("U_fake{id}")));
        set(
            &mut u,
            "avatar_url",
            json!(format!("https://avatars.githubusercontent.com/u/{id}?v=4")),
        );
        set(&mut u, "type", json!("User"));
        set(&mut u, "site_admin", json!(false));
        u
    }

    pub(crate) fn repo(&self, r: &Repo) -> Value {
        let mut v = self.fx.get("repos/get.json");
        let full = r.full_name();
        rewrite(&mut v, &[("octocat/Hello-World", &full)]);
        self.api(&mut v);
        set(&mut v, "id", json!(r.id));
        set(&mut v, "node_id", json!(format!("R_fake{}", r.id)));
        set(&mut v, "name", json!(r.name));
        set(&mut v, "full_name", json!(full));
        set(&mut v, "owner", self.user(&r.owner));
        set(&mut v, "private", json!(true));
        set(&mut v, "visibility", json!("private"));
        set(&mut v, "fork", json!(false));
        set(
            &mut v,
            "clone_url",
            json!(format!("{}/git/{full}.git", self.base)),
        );
        set(&mut v, "default_branch", json!(r.default_branch));
        set(&mut v, "archived", json!(false));
        set(&mut v, "disabled", json!(false));
        set(
            &mut v,
            "permissions",
            json!({"admin": false, "maintain": false, "push": false, "triage": false, "pull": true}),
        );
        // Only forks have these; the scenario's repositories are not forks.
        for key in [
            "parent",
            "source",
            "template_repository",
            "organization",
            "temp_clone_token",
        ] {
            remove(&mut v, key);
        }
        v
    }

    pub(crate) fn installation(&self, id: i64, i: &Installation) -> Value {
        let mut v = self.fx.first("apps/list-installations.json", None);
        self.api(&mut v);
        rewrite(
            &mut v,
            &[("/installations/1/", &format!("/installations/{id}/"))],
        );
        rewrite(
            &mut v,
            &[("/installations/1", &format!("/installations/{id}"))],
        );
        set(&mut v, "id", json!(id));
        set(&mut v, "account", self.user(&i.account));
        set(&mut v, "app_id", json!(self.app_id));
        set(&mut v, "target_id", json!(account_id(&i.account)));
        set(&mut v, "suspended_at", Value::Null);
        set(&mut v, "suspended_by", Value::Null);
        v
    }

    pub(crate) fn app(&self) -> Value {
        let mut v = self.fx.get("apps/get-authenticated.json");
        self.api(&mut v);
        set(&mut v, "id", json!(self.app_id));
        v
    }

    pub(crate) fn token(&self, token: &str, expires_at: &str) -> Value {
        let mut v = self.fx.get("apps/create-installation-access-token.json");
        set(&mut v, "token", json!(token));
        set(&mut v, "expires_at", json!(expires_at));
        set(
            &mut v,
            "permissions",
            json!({"checks": "write", "contents": "read", "metadata": "read", "pull_requests": "read", "members": "read"}),
        );
        set(&mut v, "repository_selection", json!("all"));
        // GitHub lists repositories only when the request named some.
        remove(&mut v, "repositories");
        v
    }

    pub(crate) fn pull(&self, r: &Repo, p: &Pull, detailed: bool) -> Value {
        let mut v = if detailed {
            self.fx.get("pulls/get.json")
        } else {
            self.fx.first("pulls/list.json", None)
        };
        let full = r.full_name();
        let n = p.number.to_string();
        rewrite(
            &mut v,
            &[
                ("octocat/Hello-World", &full),
                ("/pulls/1347", &format!("/pulls/{n}")),
                ("/pull/1347", &format!("/pull/{n}")),
                ("/issues/1347", &format!("/issues/{n}")),
                ("6dcb09b5b57875f334f61aebed695e2e4193db5e", &p.head_sha),
            ],
        );
        self.api(&mut v);
        let open = p.state != "closed";
        let repo = self.repo(r);
        let owner = self.user(&r.owner);
        set(&mut v, "id", json!(r.id * 100_000 + p.number as i64));
        set(
            &mut v,
            "node_id",
            json!(format!("PR_fake{}_{}", r.id, p.number)),
        );
        set(&mut v, "number", json!(p.number));
        set(&mut v, "state", json!(if open { "open" } else { "closed" }));
        set(&mut v, "locked", json!(false));
        set(&mut v, "active_lock_reason", Value::Null);
        set(&mut v, "title", json!(format!("Pull request #{n}")));
        set(&mut v, "user", self.user(&p.author));
        set(&mut v, "draft", json!(p.draft));
        set(&mut v, "labels", json!([]));
        set(&mut v, "milestone", Value::Null);
        set(&mut v, "assignee", Value::Null);
        set(&mut v, "assignees", json!([]));
        set(&mut v, "requested_reviewers", json!([]));
        set(&mut v, "requested_teams", json!([]));
        set(&mut v, "auto_merge", Value::Null);
        set(&mut v, "merged_at", Value::Null);
        set(&mut v, "merge_commit_sha", Value::Null);
        set(
            &mut v,
            "closed_at",
            if open {
                Value::Null
            } else {
                json!("2011-01-26T19:01:12Z")
            },
        );
        set(&mut v, "author_association", json!("CONTRIBUTOR"));
        set(
            &mut v,
            "head",
            json!({
                "label": format!("{}:{}", r.owner, p.head_ref),
                "ref": p.head_ref,
                "sha": p.head_sha,
                "user": owner,
                "repo": repo,
            }),
        );
        set(
            &mut v,
            "base",
            json!({
                "label": format!("{}:{}", r.owner, p.base),
                "ref": p.base,
                "sha": p.base_sha,
                "user": owner,
                "repo": repo,
            }),
        );
        if detailed {
            set(&mut v, "merged", json!(false));
            set(&mut v, "merged_by", Value::Null);
            set(&mut v, "mergeable", Value::Null);
            set(&mut v, "rebaseable", Value::Null);
            set(&mut v, "mergeable_state", json!("unknown"));
            set(&mut v, "commits", json!(p.commits.len()));
            set(&mut v, "comments", json!(0));
            set(&mut v, "review_comments", json!(0));
        }
        v
    }

    pub(crate) fn commit(&self, r: &Repo, c: &PullCommit) -> Value {
        let mut v = self.fx.first("pulls/list-commits.json", None);
        rewrite(
            &mut v,
            &[
                ("octocat/Hello-World", &r.full_name()),
                ("6dcb09b5b57875f334f61aebed695e2e4193db5e", &c.sha),
            ],
        );
        self.api(&mut v);
        let person = |email: &str, login: &Option<String>| {
            let name = login
                .clone()
                .unwrap_or_else(|| email.split('@').next().unwrap_or(email).to_string());
            json!({ "name": name, "email": email, "date": "2011-04-14T16:00:49Z" })
        };
        set(&mut v, "sha", json!(c.sha));
        set(&mut v, "node_id", json!(format!("C_fake{}", c.sha)));
        if let Some(commit) = v.get_mut("commit") {
            set(commit, "author", person(&c.author_email, &c.author_login));
            set(
                commit,
                "committer",
                person(&c.committer_email, &c.committer_login),
            );
            set(
                commit,
                "message",
                json!(format!("Commit {}", c.sha.get(..7).unwrap_or(&c.sha))),
            );
        }
        let account =
            |login: &Option<String>| login.as_deref().map_or(Value::Null, |l| self.user(l));
        set(&mut v, "author", account(&c.author_login));
        set(&mut v, "committer", account(&c.committer_login));
        set(&mut v, "parents", json!([]));
        v
    }

    pub(crate) fn review(&self, r: &Repo, number: u64, rev: &Review) -> Value {
        let mut v = self.fx.first("pulls/list-reviews.json", None);
        rewrite(
            &mut v,
            &[
                ("octocat/Hello-World", &r.full_name()),
                ("/pulls/12", &format!("/pulls/{number}")),
                (
                    "/pull/12#pullrequestreview-80",
                    &format!("/pull/{number}#pullrequestreview-{}", rev.id),
                ),
            ],
        );
        self.api(&mut v);
        set(&mut v, "id", json!(rev.id));
        set(&mut v, "node_id", json!(format!("PRR_fake{}", rev.id)));
        set(&mut v, "user", self.user(&rev.login));
        set(&mut v, "body", json!(""));
        set(&mut v, "state", json!(rev.state));
        set(&mut v, "commit_id", json!(rev.commit_id));
        if rev.state == "PENDING" {
            remove(&mut v, "submitted_at");
        } else {
            set(&mut v, "submitted_at", json!(rev.submitted_at));
        }
        v
    }

    /// `role` as set by the test; GitHub's `permission` folds maintain and triage.
    pub(crate) fn permission(&self, login: &str, role: &str) -> Value {
        let mut v = self.fx.get("repos/get-collaborator-permission-level.json");
        self.api(&mut v);
        let permission = match role {
            "admin" => "admin",
            "maintain" | "write" | "push" => "write",
            "triage" | "read" | "pull" => "read",
            _ => "none",
        };
        let rank = |r: &str| match r {
            "admin" => 5,
            "maintain" => 4,
            "write" | "push" => 3,
            "triage" => 2,
            "read" | "pull" => 1,
            _ => 0,
        };
        let have = rank(role);
        let mut user = self.user(login);
        set(
            &mut user,
            "permissions",
            json!({
                "admin": have >= 5, "maintain": have >= 4, "push": have >= 3,
                "triage": have >= 2, "pull": have >= 1,
            }),
        );
        set(&mut v, "permission", json!(permission));
        set(&mut v, "role_name", json!(role));
        set(&mut v, "user", user);
        v
    }

    pub(crate) fn team_member(&self, login: &str) -> Value {
        let mut v = self.fx.first("teams/list-members-in-org.json", None);
        let user = self.user(login);
        if let (Value::Object(into), Value::Object(from)) = (&mut v, user) {
            for (k, val) in from {
                into.insert(k, val);
            }
        }
        set(&mut v, "role", json!("member"));
        set(&mut v, "inherited", json!(false));
        v
    }

    /// A timeline `committed` event (GitHub's shape: no actor, the git author and committer).
    pub(crate) fn committed_event(&self, r: &Repo, c: &PullCommit) -> Value {
        let base = self.commit(r, c);
        json!({
            "event": "committed",
            "sha": c.sha,
            "node_id": format!("C_fake{}", c.sha),
            "url": format!("{}/repos/{}/git/commits/{}", self.base, r.full_name(), c.sha),
            "html_url": format!("https://github.com/{}/commit/{}", r.full_name(), c.sha),
            "author": base["commit"]["author"],
            "committer": base["commit"]["committer"],
            "message": base["commit"]["message"],
            "tree": base["commit"]["tree"],
            "parents": [],
            "verification": base["commit"]["verification"],
        })
    }

    /// A timeline `reviewed` event (GitHub's shape: `user`, not `actor`).
    pub(crate) fn reviewed_event(&self, r: &Repo, number: u64, rev: &Review) -> Value {
        let mut v = self.review(r, number, rev);
        set(&mut v, "event", json!("reviewed"));
        set(&mut v, "state", json!(rev.state.to_ascii_lowercase()));
        v
    }

    /// A timeline `head_ref_force_pushed` event.
    pub(crate) fn force_push_event(&self, r: &Repo, f: &ForcePush) -> Value {
        json!({
            "id": f.id,
            "node_id": format!("HRFPE_fake{}", f.id),
            "url": format!("{}/repos/{}/issues/events/{}", self.base, r.full_name(), f.id),
            "actor": self.user(&f.actor),
            "event": "head_ref_force_pushed",
            "commit_id": f.sha,
            "commit_url": format!("{}/repos/{}/commits/{}", self.base, r.full_name(), f.sha),
            "created_at": vouch_rules::time::iso(f.at),
            "performed_via_github_app": Value::Null,
        })
    }

    pub(crate) fn check_run(&self, r: &Repo, c: &CheckRun, pulls: &[&Pull]) -> Value {
        let mut v = self.fx.get("checks/create.json");
        let full = r.full_name();
        rewrite(
            &mut v,
            &[
                ("github/hello-world", &full),
                ("/check-runs/4", &format!("/check-runs/{}", c.id)),
                ("/runs/4", &format!("/runs/{}", c.id)),
            ],
        );
        self.api(&mut v);
        let template = v["pull_requests"].get(0).cloned().unwrap_or(Value::Null);
        let repo_ref =
            json!({ "id": r.id, "url": format!("{}/repos/{full}", self.base), "name": r.name });
        let prs: Vec<Value> = pulls
            .iter()
            .map(|p| {
                let mut pr = template.clone();
                set(
                    &mut pr,
                    "url",
                    json!(format!("{}/repos/{full}/pulls/{}", self.base, p.number)),
                );
                set(&mut pr, "id", json!(r.id * 100_000 + p.number as i64));
                set(&mut pr, "number", json!(p.number));
                set(
                    &mut pr,
                    "head",
                    json!({ "ref": p.head_ref, "sha": p.head_sha, "repo": repo_ref }),
                );
                set(
                    &mut pr,
                    "base",
                    json!({ "ref": p.base, "sha": p.base_sha, "repo": repo_ref }),
                );
                pr
            })
            .collect();
        set(&mut v, "id", json!(c.id));
        set(&mut v, "node_id", json!(format!("CR_fake{}", c.id)));
        set(&mut v, "head_sha", json!(c.head_sha));
        set(&mut v, "name", json!(c.name));
        set(&mut v, "status", json!(c.status));
        set(&mut v, "conclusion", json!(c.conclusion));
        set(
            &mut v,
            "external_id",
            json!(c.external_id.clone().unwrap_or_default()),
        );
        set(
            &mut v,
            "details_url",
            json!(c
                .details_url
                .clone()
                .unwrap_or_else(|| format!("https://github.com/{full}/runs/{}", c.id))),
        );
        set(&mut v, "started_at", json!(c.started_at));
        set(&mut v, "completed_at", json!(c.completed_at));
        set(
            &mut v,
            "output",
            json!({
                "title": c.output_title,
                "summary": c.output_summary,
                "text": c.output_text,
                "annotations_count": c.annotations.len(),
                "annotations_url": format!("{}/repos/{full}/check-runs/{}/annotations", self.base, c.id),
            }),
        );
        set(&mut v, "check_suite", json!({ "id": c.id + 500_000 }));
        if let Some(app) = v.get_mut("app") {
            set(app, "id", json!(self.app_id));
        }
        set(&mut v, "pull_requests", json!(prs));
        v
    }

    /// An annotation as `GET …/annotations` lists it.
    pub(crate) fn annotation(&self, sent: &Value) -> Value {
        let mut v = self.fx.first("checks/list-annotations.json", None);
        for key in [
            "path",
            "start_line",
            "end_line",
            "start_column",
            "end_column",
            "annotation_level",
            "title",
            "message",
            "raw_details",
        ] {
            set(&mut v, key, sent.get(key).cloned().unwrap_or(Value::Null));
        }
        set(
            &mut v,
            "blob_href",
            json!(format!(
                "https://github.com/blob/HEAD/{}",
                sent["path"].as_str().unwrap_or("")
            )),
        );
        v
    }
}
