//! What the fake knows: the scenario a test set up, the tokens it minted, the check runs the
//! client left, and its record of requests and violations. Logins, owners and repository
//! names are case-insensitive, as on GitHub, so keys are lower case.

use crate::{CheckRun, Pull, RecordedRequest, Review};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone)]
pub(crate) struct Installation {
    pub(crate) account: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Repo {
    pub(crate) id: i64,
    pub(crate) installation: i64,
    pub(crate) owner: String,
    pub(crate) name: String,
    pub(crate) bare_dir: PathBuf,
    pub(crate) default_branch: String,
}

impl Repo {
    pub(crate) fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ForcePush {
    pub(crate) id: i64,
    pub(crate) actor: String,
    pub(crate) sha: String,
    pub(crate) at: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) installation: i64,
    pub(crate) expires: SystemTime,
    pub(crate) revoked: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) method: String,
    pub(crate) prefix: String,
    pub(crate) left: usize,
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Option<String>,
}

/// A key for `owner/name`.
pub(crate) fn repo_key(owner: &str, name: &str) -> String {
    format!(
        "{}/{}",
        owner.to_ascii_lowercase(),
        name.to_ascii_lowercase()
    )
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) token_ttl: Duration,
    pub(crate) started: i64,
    pub(crate) installations: BTreeMap<i64, Installation>,
    pub(crate) repos: BTreeMap<String, Repo>,
    pub(crate) pulls: BTreeMap<(String, u64), Pull>,
    pub(crate) reviews: HashMap<(String, u64), Vec<Review>>,
    pub(crate) force_pushes: HashMap<(String, u64), Vec<ForcePush>>,
    /// (repo key, login lower case) → role.
    pub(crate) permissions: HashMap<(String, String), String>,
    /// (org lower case, slug lower case) → members.
    pub(crate) teams: HashMap<(String, String), Vec<String>>,
    pub(crate) tokens: HashMap<String, Token>,
    pub(crate) tokens_minted: usize,
    pub(crate) check_runs: Vec<CheckRun>,
    pub(crate) failures: Vec<Failure>,
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) violations: Vec<String>,
    /// Requests counted against each credential's hourly limit.
    pub(crate) used: HashMap<String, i64>,
    next_id: i64,
}

impl State {
    pub(crate) fn new(token_ttl: Duration) -> State {
        State {
            token_ttl,
            started: vouch_rules::time::unix_now(),
            installations: BTreeMap::new(),
            repos: BTreeMap::new(),
            pulls: BTreeMap::new(),
            reviews: HashMap::new(),
            force_pushes: HashMap::new(),
            permissions: HashMap::new(),
            teams: HashMap::new(),
            tokens: HashMap::new(),
            tokens_minted: 0,
            check_runs: Vec::new(),
            failures: Vec::new(),
            requests: Vec::new(),
            violations: Vec::new(),
            used: HashMap::new(),
            next_id: 1000,
        }
    }

    /// A fresh id for a repository, check run or timeline event.
    pub(crate) fn next_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    pub(crate) fn add_installation(&mut self, id: i64, account: &str) {
        self.installations.insert(
            id,
            Installation {
                account: account.to_string(),
            },
        );
    }

    pub(crate) fn add_repo(
        &mut self,
        installation: i64,
        owner: &str,
        name: &str,
        bare_dir: &Path,
        default_branch: &str,
    ) {
        let id = self.next_id();
        self.repos.insert(
            repo_key(owner, name),
            Repo {
                id,
                installation,
                owner: owner.to_string(),
                name: name.to_string(),
                bare_dir: bare_dir.to_path_buf(),
                default_branch: default_branch.to_string(),
            },
        );
    }

    /// Store the pull request; the bare repository to point its ref in, if the repo is known.
    pub(crate) fn set_pull(&mut self, owner: &str, name: &str, pull: Pull) -> Option<PathBuf> {
        let key = repo_key(owner, name);
        self.pulls.insert((key.clone(), pull.number), pull);
        self.repos.get(&key).map(|r| r.bare_dir.clone())
    }

    pub(crate) fn add_review(&mut self, owner: &str, name: &str, number: u64, review: Review) {
        self.reviews
            .entry((repo_key(owner, name), number))
            .or_default()
            .push(review);
    }

    pub(crate) fn set_permission(
        &mut self,
        owner: &str,
        name: &str,
        login: &str,
        permission: &str,
    ) {
        self.permissions.insert(
            (repo_key(owner, name), login.to_ascii_lowercase()),
            permission.to_string(),
        );
    }

    pub(crate) fn set_team(&mut self, org: &str, slug: &str, members: &[&str]) {
        self.teams.insert(
            (org.to_ascii_lowercase(), slug.to_ascii_lowercase()),
            members.iter().map(|m| m.to_string()).collect(),
        );
    }

    pub(crate) fn add_force_push(
        &mut self,
        owner: &str,
        name: &str,
        number: u64,
        actor: &str,
        sha: &str,
    ) {
        let id = self.next_id();
        self.force_pushes
            .entry((repo_key(owner, name), number))
            .or_default()
            .push(ForcePush {
                id,
                actor: actor.to_string(),
                sha: sha.to_string(),
                at: vouch_rules::time::unix_now(),
            });
    }

    pub(crate) fn fail_next(
        &mut self,
        method: &str,
        prefix: &str,
        count: usize,
        status: u16,
        headers: Vec<(String, String)>,
        body: Option<String>,
    ) {
        self.failures.push(Failure {
            method: method.to_ascii_uppercase(),
            prefix: prefix.to_string(),
            left: count,
            status,
            headers,
            body,
        });
    }

    /// The failure planned for this request, if any (counting it as used).
    pub(crate) fn take_failure(&mut self, method: &str, path_and_query: &str) -> Option<Failure> {
        let f = self.failures.iter_mut().find(|f| {
            f.left > 0
                && (f.method == "*" || f.method == method)
                && path_and_query.starts_with(&f.prefix)
        })?;
        f.left -= 1;
        let out = f.clone();
        self.failures.retain(|f| f.left > 0);
        Some(out)
    }

    pub(crate) fn expire_tokens(&mut self) {
        for t in self.tokens.values_mut() {
            t.revoked = true;
        }
    }

    /// A new installation token and its expiry (unix seconds, rounded down).
    pub(crate) fn mint(&mut self, installation: i64) -> (String, i64) {
        self.tokens_minted += 1;
        let mut h = Sha256::new();
        h.update(self.tokens_minted.to_le_bytes());
        h.update(installation.to_le_bytes());
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        h.update(nanos.to_le_bytes());
        h.update(std::process::id().to_le_bytes());
        let token = format!("ghs_{}", &hex::encode(h.finalize())[..36]);
        let expires = SystemTime::now() + self.token_ttl;
        let expires_unix = expires
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        self.tokens.insert(
            token.clone(),
            Token {
                installation,
                expires,
                revoked: false,
            },
        );
        (token, expires_unix)
    }

    pub(crate) fn violation(&mut self, text: String) {
        self.violations.push(text);
    }

    /// Count a request against `who`'s limit; what is left of 5000.
    pub(crate) fn count_request(&mut self, who: &str) -> i64 {
        let used = self.used.entry(who.to_string()).or_insert(0);
        *used += 1;
        (5000 - *used).max(0)
    }

    pub(crate) fn repo(&self, owner: &str, name: &str) -> Option<&Repo> {
        self.repos.get(&repo_key(owner, name))
    }
}
