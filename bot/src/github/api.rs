//! The REST calls the bot makes, typed to what it reads from each answer.

use super::{As, GitHub, GithubError};
use reqwest::Method;
use serde_json::Value;

/// A repository the App is installed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub full_name: String,
    pub clone_url: String,
    pub default_branch: String,
}

/// A pull request, as the bot needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pull {
    pub number: u64,
    pub open: bool,
    pub draft: bool,
    pub author: String,
    pub head_sha: String,
    pub head_ref: String,
    pub base_ref: String,
    pub base_sha: String,
    pub repository: Repository,
}

/// A submitted review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub reviewer: String,
    pub state: String,
    pub commit_id: String,
    pub submitted_at: String,
}

/// A check run's state on a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRunState {
    pub id: i64,
    pub status: String,
    pub conclusion: Option<String>,
}

fn decode(path: &str, message: impl Into<String>) -> GithubError {
    GithubError::Decode {
        method: "GET".into(),
        path: path.split('?').next().unwrap_or(path).into(),
        message: message.into(),
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// A path segment with `/`, `?`, `#`, `%` and spaces escaped.
pub fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `owner/name` with each half escaped.
fn repo_path(full_name: &str) -> String {
    match full_name.split_once('/') {
        Some((o, n)) => format!("{}/{}", segment(o), segment(n)),
        None => segment(full_name),
    }
}

fn repository(v: &Value, path: &str) -> Result<Repository, GithubError> {
    Ok(Repository {
        full_name: str_at(v, "/full_name")
            .ok_or_else(|| decode(path, "repository without full_name"))?
            .to_string(),
        clone_url: str_at(v, "/clone_url")
            .ok_or_else(|| decode(path, "repository without clone_url"))?
            .to_string(),
        default_branch: str_at(v, "/default_branch").unwrap_or("main").to_string(),
    })
}

fn pull(v: &Value, path: &str) -> Result<Pull, GithubError> {
    let need = |p: &str| {
        str_at(v, p)
            .map(str::to_string)
            .ok_or_else(|| decode(path, format!("pull request without {p}")))
    };
    let repo = v
        .pointer("/base/repo")
        .ok_or_else(|| decode(path, "pull request without base.repo"))?;
    Ok(Pull {
        number: v
            .get("number")
            .and_then(Value::as_u64)
            .ok_or_else(|| decode(path, "pull request without number"))?,
        open: str_at(v, "/state") == Some("open"),
        draft: v.get("draft").and_then(Value::as_bool).unwrap_or(false),
        author: need("/user/login")?,
        head_sha: need("/head/sha")?,
        head_ref: need("/head/ref")?,
        base_ref: need("/base/ref")?,
        base_sha: need("/base/sha")?,
        repository: repository(repo, path)?,
    })
}

impl GitHub {
    async fn get(&self, path: &str, who: As) -> Result<Value, GithubError> {
        Ok(self.request(Method::GET, path, who, None).await?.body)
    }

    /// Every page of a list (100 a page). `key` names the array inside an object answer.
    async fn get_all(
        &self,
        path: &str,
        who: As,
        key: Option<&str>,
    ) -> Result<Vec<Value>, GithubError> {
        let mut out = Vec::new();
        let sep = if path.contains('?') { '&' } else { '?' };
        for page in 1..=100 {
            let url = format!("{path}{sep}per_page=100&page={page}");
            let body = self.get(&url, who).await?;
            let items = match key {
                Some(k) => body.get(k).cloned().unwrap_or(Value::Null),
                None => body,
            };
            let Value::Array(items) = items else {
                return Err(decode(path, "expected a list"));
            };
            let n = items.len();
            out.extend(items);
            if n < 100 {
                break;
            }
        }
        Ok(out)
    }

    /// The installations of this App.
    pub async fn installations(&self) -> Result<Vec<i64>, GithubError> {
        let items = self.get_all("/app/installations", As::App, None).await?;
        Ok(items.iter().filter_map(|i| i.get("id")?.as_i64()).collect())
    }

    /// The repositories an installation covers.
    pub async fn installation_repositories(
        &self,
        installation: i64,
    ) -> Result<Vec<Repository>, GithubError> {
        let path = "/installation/repositories";
        let items = self
            .get_all(path, As::Installation(installation), Some("repositories"))
            .await?;
        items.iter().map(|r| repository(r, path)).collect()
    }

    pub async fn repository(
        &self,
        installation: i64,
        full_name: &str,
    ) -> Result<Repository, GithubError> {
        let path = format!("/repos/{}", repo_path(full_name));
        let v = self.get(&path, As::Installation(installation)).await?;
        repository(&v, &path)
    }

    pub async fn pull(
        &self,
        installation: i64,
        full_name: &str,
        number: u64,
    ) -> Result<Pull, GithubError> {
        let path = format!("/repos/{}/pulls/{number}", repo_path(full_name));
        let v = self.get(&path, As::Installation(installation)).await?;
        pull(&v, &path)
    }

    pub async fn open_pulls(
        &self,
        installation: i64,
        full_name: &str,
    ) -> Result<Vec<Pull>, GithubError> {
        let path = format!("/repos/{}/pulls?state=open", repo_path(full_name));
        let items = self
            .get_all(&path, As::Installation(installation), None)
            .await?;
        items.iter().map(|p| pull(p, &path)).collect()
    }

    pub async fn reviews(
        &self,
        installation: i64,
        full_name: &str,
        number: u64,
    ) -> Result<Vec<Review>, GithubError> {
        let path = format!("/repos/{}/pulls/{number}/reviews", repo_path(full_name));
        let items = self
            .get_all(&path, As::Installation(installation), None)
            .await?;
        Ok(items
            .iter()
            .filter_map(|r| {
                Some(Review {
                    // A review by a deleted account has no user; it can approve nothing.
                    reviewer: str_at(r, "/user/login")?.to_string(),
                    state: str_at(r, "/state")?.to_string(),
                    commit_id: str_at(r, "/commit_id").unwrap_or_default().to_string(),
                    submitted_at: str_at(r, "/submitted_at").unwrap_or_default().to_string(),
                })
            })
            .collect())
    }

    /// (login, e-mail) pairs GitHub linked for the pull request's commits: each commit's author
    /// and committer e-mail, where GitHub matched it to an account.
    pub async fn commit_logins(
        &self,
        installation: i64,
        full_name: &str,
        number: u64,
    ) -> Result<Vec<(String, String)>, GithubError> {
        let path = format!("/repos/{}/pulls/{number}/commits", repo_path(full_name));
        let items = self
            .get_all(&path, As::Installation(installation), None)
            .await?;
        let mut out = Vec::new();
        for c in &items {
            for who in ["author", "committer"] {
                if let (Some(login), Some(email)) = (
                    str_at(c, &format!("/{who}/login")),
                    str_at(c, &format!("/commit/{who}/email")),
                ) {
                    out.push((login.to_string(), email.to_string()));
                }
            }
        }
        Ok(out)
    }

    /// A user's permission on the repository; `None` when they have none.
    pub async fn permission(
        &self,
        installation: i64,
        full_name: &str,
        login: &str,
    ) -> Result<Option<String>, GithubError> {
        let path = format!(
            "/repos/{}/collaborators/{}/permission",
            repo_path(full_name),
            segment(login)
        );
        match self.get(&path, As::Installation(installation)).await {
            Ok(v) => Ok(str_at(&v, "/permission").map(str::to_string)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A team's members; `None` when the team does not exist (or the App cannot see it).
    pub async fn team_members(
        &self,
        installation: i64,
        org: &str,
        slug: &str,
    ) -> Result<Option<Vec<String>>, GithubError> {
        let path = format!("/orgs/{}/teams/{}/members", segment(org), segment(slug));
        match self
            .get_all(&path, As::Installation(installation), None)
            .await
        {
            Ok(items) => Ok(Some(
                items
                    .iter()
                    .filter_map(|m| Some(str_at(m, "/login")?.to_string()))
                    .collect(),
            )),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Who force-pushed the pull request's head, oldest first, from its timeline.
    pub async fn force_pushers(
        &self,
        installation: i64,
        full_name: &str,
        number: u64,
    ) -> Result<Vec<String>, GithubError> {
        let path = format!("/repos/{}/issues/{number}/timeline", repo_path(full_name));
        let items = self
            .get_all(&path, As::Installation(installation), None)
            .await?;
        Ok(items
            .iter()
            .filter(|e| str_at(e, "/event") == Some("head_ref_force_pushed"))
            .filter_map(|e| Some(str_at(e, "/actor/login")?.to_string()))
            .collect())
    }

    /// Create a check run; its id.
    pub async fn create_check_run(
        &self,
        installation: i64,
        full_name: &str,
        body: &Value,
    ) -> Result<i64, GithubError> {
        let path = format!("/repos/{}/check-runs", repo_path(full_name));
        let answer = self
            .request(
                Method::POST,
                &path,
                As::Installation(installation),
                Some(body),
            )
            .await?;
        answer
            .body
            .get("id")
            .and_then(Value::as_i64)
            .ok_or_else(|| decode(&path, "check run without id"))
    }

    pub async fn update_check_run(
        &self,
        installation: i64,
        full_name: &str,
        id: i64,
        body: &Value,
    ) -> Result<(), GithubError> {
        let path = format!("/repos/{}/check-runs/{id}", repo_path(full_name));
        self.request(
            Method::PATCH,
            &path,
            As::Installation(installation),
            Some(body),
        )
        .await?;
        Ok(())
    }

    /// The check runs called `name` on a commit.
    pub async fn check_runs(
        &self,
        installation: i64,
        full_name: &str,
        sha: &str,
        name: &str,
    ) -> Result<Vec<CheckRunState>, GithubError> {
        let path = format!(
            "/repos/{}/commits/{}/check-runs?check_name={}",
            repo_path(full_name),
            segment(sha),
            segment(name)
        );
        let items = self
            .get_all(&path, As::Installation(installation), Some("check_runs"))
            .await?;
        Ok(items
            .iter()
            .filter_map(|c| {
                Some(CheckRunState {
                    id: c.get("id")?.as_i64()?,
                    status: str_at(c, "/status")?.to_string(),
                    conclusion: str_at(c, "/conclusion").map(str::to_string),
                })
            })
            .collect())
    }
}
