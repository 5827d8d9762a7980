//! Judging one job: the forge's facts from the API, the commits from the mirror, the policy from
//! the base branch, and `rules`' one engine for the verdict. Nothing here decides whether a
//! change is acceptable; it only gathers what the engine needs and hands it over.

use crate::github::api::Pull;
use crate::github::{GitHub, GithubError};
use crate::mirror::{Held, MirrorError, Mirrors};
use crate::queue::{JobKind, NewJob};
use git2::{Oid, Repository};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use vouch_rules::change::forge::{Review, ReviewState};
use vouch_rules::change::git::Gatherer;
use vouch_rules::change::{Change, PullRequest, Stage};
use vouch_rules::codeowners::OwnerKind;
use vouch_rules::policy::{resolve, Permission, Policy};
use vouch_rules::{Engine, Verdict};

/// Why a job could not be judged (yet).
#[derive(Debug, thiserror::Error)]
pub enum JudgeError {
    #[error(transparent)]
    GitHub(#[from] GithubError),
    #[error(transparent)]
    Mirror(#[from] MirrorError),
    #[error("{0}")]
    Git(String),
    #[error("the policy of {branch}: {message}")]
    Policy { branch: String, message: String },
    #[error("internal: {0}")]
    Internal(String),
}

impl JudgeError {
    /// Worth another attempt: the network or GitHub may recover; a broken policy will not.
    pub fn retryable(&self) -> bool {
        match self {
            JudgeError::GitHub(e) => e.retryable(),
            JudgeError::Mirror(_) => true,
            JudgeError::Git(_) | JudgeError::Policy { .. } | JudgeError::Internal(_) => false,
        }
    }
}

/// A job's state before it is judged.
#[derive(Debug)]
pub enum Ready {
    /// Judge this.
    Judge(Box<Prepared>),
    /// The job no longer matches the pull request (new head, new base, closed): nothing to judge
    /// at this head; the pull request's current head has (or will have) its own job.
    Stale { current_head: Option<String> },
}

/// Everything the engine needs, gathered.
#[derive(Debug)]
pub struct Prepared {
    pub facts: Option<PullRequest>,
    pub base_tip: String,
    pub head: String,
    pub base: String,
}

/// The outcome of a judged job.
#[derive(Debug)]
pub struct Judged {
    pub verdict: Verdict,
    pub prepared: Prepared,
}

fn perm(name: &str) -> Option<Permission> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
}

fn review_state(state: &str) -> Option<ReviewState> {
    match state {
        "APPROVED" => Some(ReviewState::Approved),
        "CHANGES_REQUESTED" => Some(ReviewState::ChangesRequested),
        "COMMENTED" => Some(ReviewState::Commented),
        "DISMISSED" => Some(ReviewState::Dismissed),
        // PENDING reviews are drafts nobody submitted.
        _ => None,
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, JudgeError> + Send + 'static,
) -> Result<T, JudgeError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| JudgeError::Internal(format!("evaluation task: {e}")))?
}

fn open(path: &Path) -> Result<Repository, JudgeError> {
    Repository::open_bare(path)
        .map_err(|e| JudgeError::Git(format!("mirror {}: {}", path.display(), e.message())))
}

fn git_id(repo: &Repository, spec: &str) -> Option<Oid> {
    repo.revparse_single(spec)
        .ok()?
        .peel_to_commit()
        .ok()
        .map(|c| c.id())
}

/// The teams (`org/slug`, lower case) the base branch's CODEOWNERS names.
fn code_owner_teams(policy: &Policy) -> Vec<String> {
    let Ok(Some(owners)) = vouch_rules::codeowners::load(policy) else {
        return Vec::new();
    };
    let mut teams = BTreeSet::new();
    for rule in owners.rules() {
        for owner in &rule.owners {
            if owner.kind == OwnerKind::Team {
                teams.insert(owner.key());
            }
        }
    }
    teams.into_iter().collect()
}

/// What the mirror fetch must bring for a job.
fn refspecs(job: &NewJob, default_branch: &str) -> Vec<String> {
    let mut specs = vec![format!("+refs/heads/{0}:refs/heads/{0}", job.base)];
    if default_branch != job.base {
        specs.push(format!("+refs/heads/{0}:refs/heads/{0}", default_branch));
    }
    match job.kind {
        JobKind::Pull => specs.push(format!("+refs/pull/{0}/head:refs/pull/{0}/head", job.pull)),
        JobKind::MergeGroup => specs.push(format!("+{}:refs/vouch/merge-group", job.head_ref)),
        JobKind::Scan => {}
    }
    specs
}

/// Bring the mirror up to date for `job` and point its HEAD at the default branch (the policy of
/// a branch without one of its own is the default branch's).
pub async fn sync_mirror(
    github: &GitHub,
    mirrors: &Mirrors,
    held: &Held,
    job: &NewJob,
    clone_url: &str,
    default_branch: &str,
) -> Result<(), JudgeError> {
    let token = github.installation_token(job.installation).await?;
    mirrors
        .fetch(
            held,
            &job.repo,
            clone_url,
            &token,
            &refspecs(job, default_branch),
        )
        .await?;
    let path = held.path.clone();
    let head = format!("refs/heads/{default_branch}");
    blocking(move || {
        let repo = open(&path)?;
        repo.set_head(&head)
            .map_err(|e| JudgeError::Git(format!("mirror HEAD: {}", e.message())))
    })
    .await
}

/// The pull request's forge facts, for the engine. `pusher` is the login a `synchronize`
/// delivery recorded for this head, if any.
pub async fn pull_facts(
    github: &GitHub,
    job: &NewJob,
    pull: &Pull,
    teams: &[String],
    pusher: Option<(String, String)>,
) -> Result<PullRequest, JudgeError> {
    let installation = job.installation;
    let number = pull.number;
    let reviews = github.reviews(installation, &job.repo, number).await?;
    let logins = github
        .commit_logins(installation, &job.repo, number)
        .await?;
    let force_pushers = github
        .force_pushers(installation, &job.repo, number)
        .await?;
    // Who pushed this head last: the synchronize delivery that brought it, else the latest
    // force-push on the timeline, else whoever committed the head (as GitHub linked it), else
    // the author.
    let last_pusher = pusher
        .filter(|(_, head)| *head == pull.head_sha)
        .map(|(login, _)| login)
        .or_else(|| force_pushers.last().cloned())
        .or_else(|| logins.last().map(|(login, _)| login.clone()))
        .unwrap_or_else(|| pull.author.clone());
    let mut emails: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (login, email) in logins {
        let list = emails.entry(login).or_default();
        if !list.contains(&email) {
            list.push(email);
        }
    }
    let mut permissions = BTreeMap::new();
    let reviewers: BTreeSet<&str> = reviews.iter().map(|r| r.reviewer.as_str()).collect();
    for login in reviewers {
        if let Some(p) = github
            .permission(installation, &job.repo, login)
            .await?
            .as_deref()
            .and_then(perm)
        {
            permissions.insert(login.to_string(), p);
        }
    }
    let mut team_members = BTreeMap::new();
    for team in teams {
        let Some((org, slug)) = team.split_once('/') else {
            continue;
        };
        // A team the App cannot see has no members here: its approvals do not count.
        if let Some(members) = github.team_members(installation, org, slug).await? {
            team_members.insert(team.clone(), members);
        }
    }
    Ok(PullRequest {
        number,
        author: pull.author.clone(),
        base: pull.base_ref.clone(),
        head_sha: pull.head_sha.clone(),
        last_pusher,
        reviews: reviews
            .into_iter()
            .filter_map(|r| {
                Some(Review {
                    state: review_state(&r.state)?,
                    reviewer: r.reviewer,
                    commit_id: r.commit_id,
                    submitted_at: r.submitted_at,
                })
            })
            .collect(),
        teams: team_members,
        permissions,
        emails,
    })
}

/// The base branch's policy and the CODEOWNERS teams it names, read from the mirror.
pub async fn base_policy(held: &Held, base: &str) -> Result<(Policy, Vec<String>), JudgeError> {
    let path = held.path.clone();
    let branch = format!("refs/heads/{base}");
    blocking(move || {
        let repo = open(&path)?;
        let policy = resolve::for_target(&repo, &branch).map_err(|e| JudgeError::Policy {
            branch: branch.clone(),
            message: e.to_string(),
        })?;
        let teams = code_owner_teams(&policy);
        Ok((policy, teams))
    })
    .await
}

/// Judge `head` as the change of `base` from its tip, with the engine, under `policy`.
pub async fn judge(
    held: &Held,
    policy: Policy,
    job: &NewJob,
    facts: Option<PullRequest>,
    now: i64,
) -> Result<Judged, JudgeError> {
    let path = held.path.clone();
    let job = job.clone();
    blocking(move || {
        let repo = open(&path)?;
        let base_ref = format!("refs/heads/{}", job.base);
        let base_tip = if job.base_sha.is_empty() {
            git_id(&repo, &base_ref)
        } else {
            Oid::from_str(&job.base_sha)
                .ok()
                .filter(|id| repo.find_commit(*id).is_ok())
        }
        .ok_or_else(|| {
            JudgeError::Git(format!("the base branch {} is not in the mirror", job.base))
        })?;
        let head = Oid::from_str(&job.head_sha)
            .ok()
            .filter(|id| repo.find_commit(*id).is_ok())
            .ok_or_else(|| {
                JudgeError::Git(format!(
                    "the head {} is not in the mirror after fetching it",
                    job.head_sha
                ))
            })?;
        let gatherer = Gatherer::new(&repo).with_diffs(policy.secrets.enabled);
        let update = gatherer
            .update(&base_ref, Some(base_tip), Some(head), &[base_tip])
            .map_err(|e| JudgeError::Git(e.to_string()))?;
        let mut facts = facts;
        if let Some(f) = facts.as_mut() {
            link_noreply(f, &update);
        }
        let mut change = Change::new(Stage::Push, now);
        change.pusher = facts.as_ref().map(|f| f.last_pusher.clone());
        change.updates.push(update);
        change.pull_request = facts.clone();
        change.merge_group = job.kind == JobKind::MergeGroup;
        let verdict = Engine::new(policy).evaluate(&change);
        Ok(Judged {
            verdict,
            prepared: Prepared {
                facts,
                base_tip: base_tip.to_string(),
                head: head.to_string(),
                base: job.base.clone(),
            },
        })
    })
    .await
}

/// The login a GitHub no-reply address names: `ID+login@users.noreply.github.com` or
/// `login@users.noreply.github.com` (what GitHub puts in commits and suggests for
/// `Co-authored-by:`). These need no API call to link.
pub fn noreply_login(email: &str) -> Option<String> {
    let (local, domain) = email.rsplit_once('@')?;
    if !domain.eq_ignore_ascii_case("users.noreply.github.com") {
        return None;
    }
    let login = match local.split_once('+') {
        Some((id, login)) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => login,
        Some(_) => return None,
        None => local,
    };
    let ok = !login.is_empty()
        && login.len() <= 39
        && !login.starts_with('-')
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then(|| login.to_string())
}

/// Link every no-reply address among the change's authors, committers and co-authors to its
/// login, so a co-author cannot approve their own work by being unknown to the API.
fn link_noreply(facts: &mut PullRequest, update: &vouch_rules::change::RefUpdate) {
    for commit in &update.commits {
        let people = [&commit.author.email, &commit.committer.email]
            .into_iter()
            .chain(commit.co_authors.iter().map(|p| &p.email));
        for email in people {
            if let Some(login) = noreply_login(email) {
                let list = facts.emails.entry(login).or_default();
                if !list.iter().any(|e| e.eq_ignore_ascii_case(email)) {
                    list.push(email.clone());
                }
            }
        }
    }
}

/// Whether `job` still describes `pull` (same head, same target, open).
pub fn current(job: &NewJob, pull: &Pull) -> Ready {
    if !pull.open || pull.head_sha != job.head_sha || pull.base_ref != job.base {
        return Ready::Stale {
            current_head: pull.open.then(|| pull.head_sha.clone()),
        };
    }
    Ready::Judge(Box::new(Prepared {
        facts: None,
        base_tip: String::new(),
        head: pull.head_sha.clone(),
        base: pull.base_ref.clone(),
    }))
}

/// The markdown under a verdict telling how to reproduce it with the CLI.
pub fn reproduce(job: &NewJob, judged: &Judged, judged_at: &str) -> String {
    let p = &judged.prepared;
    let range = format!("{}..{}", p.base_tip, p.head);
    let mut out = String::from("### Reproduce this verdict\n\n");
    match &p.facts {
        Some(facts) => {
            let json = serde_json::to_string_pretty(facts).unwrap_or_default();
            out.push_str(&format!(
                "Save the pull request's facts as `pr.json`, fetch `refs/pull/{}/head`, and run:\n\n\
                 ```\nvouch check --into {} --clock {judged_at} --pull-request pr.json {range}\n```\n\n\
                 <details><summary>pr.json</summary>\n\n```json\n{json}\n```\n\n</details>\n",
                job.pull, p.base
            ));
        }
        None => out.push_str(&format!(
            "Fetch `{}` and run:\n\n```\nvouch check --into {} --clock {judged_at} --merge-group {range}\n```\n",
            job.head_ref, p.base
        )),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::noreply_login;

    #[test]
    fn noreply_addresses_name_their_login() {
        assert_eq!(
            noreply_login("21031067+Codertocat@users.noreply.github.com").as_deref(),
            Some("Codertocat")
        );
        assert_eq!(
            noreply_login("octocat@users.noreply.github.com").as_deref(),
            Some("octocat")
        );
        assert_eq!(noreply_login("octocat@example.com"), None);
        assert_eq!(noreply_login("x+y+z@users.noreply.github.com"), None);
        assert_eq!(noreply_login("12+@users.noreply.github.com"), None);
        assert_eq!(noreply_login("12+a_b@users.noreply.github.com"), None);
    }
}
