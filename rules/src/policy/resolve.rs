//! Which policy judges a change: the one committed on the branch the change goes into.
//!
//! The working tree is never trusted. When the target has no policy (a new branch, or a branch
//! from before vouch), the repository's default branch's policy applies; when no branch has one,
//! the built-in bootstrap policy does. The verdict always says which.

use super::{Origin, Policy, PolicyError, PolicyFiles};
use git2::Repository;

/// The policy committed at `refname` (a branch or any ref that peels to a commit), if any.
pub fn at_ref(repo: &Repository, refname: &str) -> Result<Option<Policy>, PolicyError> {
    let Ok(reference) = repo.find_reference(refname) else {
        return Ok(None);
    };
    let tree = reference
        .peel_to_tree()
        .map_err(|e| PolicyError::Unreadable {
            file: refname.to_string(),
            reason: e.message().to_string(),
        })?;
    Policy::load(PolicyFiles::from_tree(repo, &tree, refname)?)
}

/// The policy committed in `commit`'s tree, if any (for auditing history, `--trust-root`).
pub fn at_commit(repo: &Repository, commit: git2::Oid) -> Result<Option<Policy>, PolicyError> {
    let unreadable = |e: git2::Error| PolicyError::Unreadable {
        file: commit.to_string(),
        reason: e.message().to_string(),
    };
    let tree = repo
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(unreadable)?;
    Policy::load(PolicyFiles::from_tree(repo, &tree, commit.to_string())?)
}

/// The branch `HEAD` points at (a full ref name), if it points at one.
pub fn head_branch(repo: &Repository) -> Option<String> {
    symbolic(repo, "HEAD")
}

/// The default branch of `remote` as this clone last heard it (`refs/remotes/<remote>/HEAD`).
pub fn remote_default_branch(repo: &Repository, remote: &str) -> Option<String> {
    symbolic(repo, &format!("refs/remotes/{remote}/HEAD"))
}

fn symbolic(repo: &Repository, name: &str) -> Option<String> {
    repo.find_reference(name)
        .ok()
        .and_then(|r| r.symbolic_target().ok().flatten().map(str::to_string))
}

/// The repository's default branch: where `HEAD` points in a bare repository (a server), or
/// `refs/remotes/origin/HEAD`'s target in a clone, else `HEAD`'s branch.
pub fn default_branch(repo: &Repository) -> Option<String> {
    if !repo.is_bare() {
        if let Some(target) = remote_default_branch(repo, "origin") {
            return Some(target);
        }
    }
    head_branch(repo)
}

/// The policy that judges changes to `target` (a full ref name). Only a branch carries a policy
/// of its own (a local or remote-tracking branch); tags, notes and other refs are judged by the default branch's policy (a tag's tree
/// is whatever commit it points at, which is no authority).
pub fn for_target(repo: &Repository, target: &str) -> Result<Policy, PolicyError> {
    if target.starts_with("refs/heads/") || target.starts_with("refs/remotes/") || target == "HEAD"
    {
        if let Some(policy) = at_ref(repo, target)? {
            return Ok(policy);
        }
    }
    match default_branch(repo) {
        Some(default) if default != target => standing_in(repo, &default, target),
        _ => Ok(Policy::builtin()),
    }
}

/// The policy of `default` (the default branch) judging `target`, which has none of its own;
/// the bootstrap default when the default branch has none either. The verdict says which.
fn standing_in(repo: &Repository, default: &str, target: &str) -> Result<Policy, PolicyError> {
    let Some(mut policy) = at_ref(repo, default)? else {
        return Ok(Policy::builtin());
    };
    if let Origin::File { origin } = &policy.origin {
        policy.origin = Origin::DefaultBranch {
            origin: origin.clone(),
            target: target.to_string(),
        };
    }
    Ok(policy)
}

/// The policy a remote will judge a push to `target` with, as far as this clone knows: the
/// remote-tracking copy of the target branch, else of the remote's default branch, else the
/// bootstrap default. Never a local branch: what is being pushed cannot vouch for itself.
pub fn for_remote_target(
    repo: &Repository,
    remote: &str,
    target: &str,
) -> Result<Policy, PolicyError> {
    if let Some(short) = target.strip_prefix("refs/heads/") {
        if let Some(policy) = at_ref(repo, &format!("refs/remotes/{remote}/{short}"))? {
            return Ok(policy);
        }
    }
    match remote_default_branch(repo, remote) {
        Some(default) => standing_in(repo, &default, target),
        None => Ok(Policy::builtin()),
    }
}
