//! Four-eyes review of a pull request: enough independent approvals on the current head, an
//! approval from a code owner of every owned path group, and no blocking change request.
//!
//! Who is *not independent* comes from the policy (`[review] not_independent`): by default the
//! pull request's author, every commit's author, committer and co-author, and the last pusher.
//! Commits signed by a bot's trusted signer (`[[review.bots]]`), such as update merges, do not
//! count against anyone. Ownership comes from the *target branch's* CODEOWNERS (the policy
//! snapshot), never the pull request's, and a change to `.vouch/` or CODEOWNERS always needs its
//! owners' approval under it. Findings name who must still approve, who approved, and who was
//! excluded and why.

pub mod input;

pub use input::{
    Identity, PrCommit, PullRequest, Review as SubmittedReview, ReviewState, SignatureVerdict,
};

use crate::change::Change;
use crate::check::{Check, CheckError};
use crate::codeowners::{CodeOwners, Owner, OwnerKind, Rule};
use crate::finding::{Finding, Location};
use crate::policy::{Involvement, Permission, Policy, ReviewPolicy, CODEOWNERS_PATHS, VOUCH_DIR};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The review check.
#[derive(Debug, Clone, Copy, Default)]
pub struct Review;

impl Check for Review {
    fn id(&self) -> &'static str {
        "review"
    }

    fn skip_reason(&self, _policy: &Policy, change: &Change) -> Option<String> {
        if change.pull_request.is_none() {
            return Some(
                "no pull request to judge: four-eyes review applies to pull requests (the bot, `vouch review --input`)"
                    .into(),
            );
        }
        None
    }

    fn run(&self, policy: &Policy, change: &Change) -> Result<Vec<Finding>, CheckError> {
        let Some(pr) = &change.pull_request else {
            return Ok(Vec::new());
        };
        let owners = crate::codeowners::load(policy)
            .map_err(|e| CheckError(format!("cannot load CODEOWNERS: {e}")))?;
        Ok(evaluate(&policy.review, owners.as_ref(), pr))
    }
}

/// A commit id as people quote it in review messages.
fn short(id: &str) -> &str {
    id.get(..7).unwrap_or(id)
}

fn at(login: &str) -> String {
    format!("@{login}")
}

fn list(items: &[String]) -> String {
    const SHOWN: usize = 5;
    if items.len() <= SHOWN {
        items.join(", ")
    } else {
        format!(
            "{} and {} more",
            items[..SHOWN].join(", "),
            items.len() - SHOWN
        )
    }
}

/// A changed path as CODEOWNERS sees it: from the root, without empty or `.` parts.
fn clean_path(path: &str) -> String {
    path.split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// True for paths whose change needs their owners' approval whatever the policy says.
pub fn is_policy_path(path: &str) -> bool {
    path.starts_with(&format!("{VOUCH_DIR}/")) || CODEOWNERS_PATHS.contains(&path)
}

/// The people facts of a pull request, lower-cased for comparison (logins, teams and e-mail
/// addresses are case-insensitive on the forge).
struct People {
    email_to_logins: HashMap<String, Vec<String>>,
    login_emails: HashMap<String, BTreeSet<String>>,
    teams: HashMap<String, BTreeSet<String>>,
    permissions: HashMap<String, Permission>,
}

impl People {
    fn new(pr: &PullRequest) -> People {
        let mut email_to_logins: HashMap<String, Vec<String>> = HashMap::new();
        let mut login_emails: HashMap<String, BTreeSet<String>> = HashMap::new();
        for (login, emails) in &pr.emails {
            let login = login.to_lowercase();
            for email in emails {
                let email = email.to_lowercase();
                email_to_logins
                    .entry(email.clone())
                    .or_default()
                    .push(login.clone());
                login_emails.entry(login.clone()).or_default().insert(email);
            }
        }
        People {
            email_to_logins,
            login_emails,
            teams: pr
                .teams
                .iter()
                .map(|(t, m)| {
                    (
                        t.trim_start_matches('@').to_lowercase(),
                        m.iter().map(|l| l.to_lowercase()).collect(),
                    )
                })
                .collect(),
            permissions: pr
                .permissions
                .iter()
                .map(|(l, p)| (l.to_lowercase(), *p))
                .collect(),
        }
    }

    /// The logins an identity belongs to: its own login, and those its e-mail is linked to.
    fn logins(&self, identity: &Identity) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        if let Some(login) = &identity.login {
            out.insert(login.to_lowercase());
        }
        if let Some(logins) = self.email_to_logins.get(&identity.email.to_lowercase()) {
            out.extend(logins.iter().cloned());
        }
        out
    }

    fn is_owner(&self, owner: &Owner, login: &str) -> bool {
        let key = owner.key();
        match owner.kind {
            OwnerKind::User => key == login,
            OwnerKind::Team => self.teams.get(&key).is_some_and(|m| m.contains(login)),
            OwnerKind::Email => self
                .login_emails
                .get(login)
                .is_some_and(|e| e.contains(&key)),
        }
    }

    fn owns(&self, rule: &Rule, login: &str) -> bool {
        rule.owners.iter().any(|o| self.is_owner(o, login))
    }
}

/// A reviewer's standing: their latest APPROVED or CHANGES_REQUESTED review.
struct Standing<'a> {
    review: &'a SubmittedReview,
}

/// Judge the pull request's reviews. `owners` is the target branch's CODEOWNERS.
pub fn evaluate(
    policy: &ReviewPolicy,
    owners: Option<&CodeOwners>,
    pr: &PullRequest,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let people = People::new(pr);
    let changed: Vec<String> = pr.changed_paths.iter().map(|p| clean_path(p)).collect();
    let head = pr.head_sha.to_lowercase();

    let involved = involvement(policy, pr, &people, &mut findings);
    let standings = standings(pr, &mut findings);

    // Approvals that count, and those that do not with the reason.
    let mut approved: Vec<String> = Vec::new();
    let mut excluded: Vec<(String, String)> = Vec::new();
    for (login, standing) in &standings {
        let review = standing.review;
        if review.state != ReviewState::Approved {
            continue;
        }
        let who = at(&review.reviewer);
        if policy.current_head_only && review.commit_id.to_lowercase() != head {
            excluded.push((
                login.clone(),
                format!(
                    "{who} approved {} but the head is now {}",
                    short(&review.commit_id),
                    short(&pr.head_sha)
                ),
            ));
            continue;
        }
        if let Some(reasons) = involved.get(login) {
            excluded.push((
                login.clone(),
                format!("{who} approved but {}", reasons.join(", ")),
            ));
            continue;
        }
        let permission = people.permissions.get(login).copied();
        if permission.is_none_or(|p| p < policy.min_permission) {
            let has = permission.map_or("no known".to_string(), |p| permission_name(p).to_string());
            excluded.push((
                login.clone(),
                format!(
                    "{who} approved but has {has} permission on the repository; `{}` is needed",
                    permission_name(policy.min_permission)
                ),
            ));
            continue;
        }
        approved.push(login.clone());
    }
    let approved_text: Vec<String> = approved.iter().map(|l| at(l)).collect();
    let excluded_text: Vec<String> = excluded.iter().map(|(_, r)| r.clone()).collect();

    let required = policy.required_approvals as usize;
    let mut general = if approved.len() < required {
        Finding::error(
            "review.approvals",
            format!(
                "{} of {required} required independent approval{} on head {}{}{}",
                approved.len(),
                if required == 1 { "" } else { "s" },
                short(&pr.head_sha),
                if approved.is_empty() { String::new() } else { format!("; approved by {}", list(&approved_text)) },
                if excluded_text.is_empty() { String::new() } else { format!("; not counted: {}", excluded_text.join("; ")) },
            ),
        )
        .hint(format!(
            "ask {} more reviewer{} with `{}` permission who did not open, author, commit, co-author or push this pull request to approve {}",
            required - approved.len(),
            if required - approved.len() == 1 { "" } else { "s" },
            permission_name(policy.min_permission),
            short(&pr.head_sha)
        ))
    } else {
        Finding::note(
            "review.approvals",
            format!(
                "{} independent approval{} (required {required}){}",
                approved.len(),
                if approved.len() == 1 { "" } else { "s" },
                if approved.is_empty() {
                    String::new()
                } else {
                    format!(": {}", list(&approved_text))
                },
            ),
        )
    };
    general = general.property("required", required.to_string());
    if !approved_text.is_empty() {
        general = general.property("approved", approved_text.join(" "));
    }
    if !excluded_text.is_empty() {
        general = general.property("excluded", excluded_text.join("; "));
    }
    findings.push(general);

    let Some(owners) = owners else {
        if policy.require_code_owners {
            findings.push(Finding::note(
                "review.no-codeowners",
                "the target branch has no CODEOWNERS: no path has a code owner, only the general approvals apply",
            ));
        }
        if let Some(path) = changed.iter().find(|p| is_policy_path(p)) {
            findings.push(policy_without_owner(path, None));
        }
        return findings;
    };
    for e in owners.errors() {
        findings.push(
            Finding::warning(
                "review.codeowners-line-skipped",
                format!(
                    "{} on line {} of CODEOWNERS, skipped as GitHub skips it: {}",
                    e.kind, e.line, e.message
                ),
            )
            .at(Location::file(&owners.display, Some(e.line)))
            .hint(
                e.suggestion
                    .clone()
                    .unwrap_or_else(|| "fix the line (`vouch owners --check`)".into()),
            ),
        );
    }

    // Group changed paths by the CODEOWNERS line that decides them.
    let mut groups: BTreeMap<u32, (&Rule, Vec<String>)> = BTreeMap::new();
    let mut unowned = Vec::new();
    for path in &changed {
        match owners.decide(path) {
            Some(d) if !d.owners().is_empty() => {
                groups
                    .entry(d.rule.line)
                    .or_insert_with(|| (d.rule, Vec::new()))
                    .1
                    .push(path.clone());
            }
            _ => {
                if is_policy_path(path) {
                    findings.push(policy_without_owner(path, Some(owners)));
                }
                unowned.push(path.clone());
            }
        }
    }

    for (rule, paths) in groups.values() {
        let guards_policy = paths.iter().any(|p| is_policy_path(p));
        if !policy.require_code_owners && !guards_policy {
            continue;
        }
        let owner_text: Vec<String> = rule.owners.iter().map(|o| o.text.clone()).collect();
        let by_owner: Vec<String> = approved
            .iter()
            .filter(|l| people.owns(rule, l))
            .map(|l| at(l))
            .collect();
        let owner_excluded: Vec<String> = excluded
            .iter()
            .filter(|(l, _)| people.owns(rule, l))
            .map(|(_, r)| r.clone())
            .collect();
        let what = format!(
            "{} path{} matching `{}` ({}:{})",
            paths.len(),
            if paths.len() == 1 { "" } else { "s" },
            rule.pattern,
            owners.display,
            rule.line
        );
        let location = Location::file(&owners.path, Some(rule.line));
        let finding = if by_owner.is_empty() {
            Finding::error(
                "review.code-owner-approval",
                format!(
                    "{what} need{} approval from one of {}{}{}",
                    if paths.len() == 1 { "s" } else { "" },
                    owner_text.join(", "),
                    if guards_policy { " (they guard vouch's policy, judged by the target branch's CODEOWNERS)" } else { "" },
                    if owner_excluded.is_empty() { String::new() } else { format!("; not counted: {}", owner_excluded.join("; ")) },
                ),
            )
            .hint(format!(
                "ask one of {} to approve {}; an owner who authored, committed, co-authored or pushed the change cannot",
                owner_text.join(", "),
                short(&pr.head_sha)
            ))
        } else {
            Finding::note(
                "review.code-owner-approval",
                format!("{what} approved by code owner {}", list(&by_owner)),
            )
        };
        let mut finding = finding
            .at(location)
            .property("paths", list(paths))
            .property("owners", owner_text.join(" "));
        if !by_owner.is_empty() {
            finding = finding.property("approved", by_owner.join(" "));
        }
        if !owner_excluded.is_empty() {
            finding = finding.property("excluded", owner_excluded.join("; "));
        }
        findings.push(finding);
    }

    // Change requests: an owner's blocks until dismissed or superseded by their approval.
    for (login, standing) in &standings {
        let review = standing.review;
        if review.state != ReviewState::ChangesRequested {
            continue;
        }
        let owned: Vec<&Rule> = groups
            .values()
            .map(|(r, _)| *r)
            .filter(|r| people.owns(r, login))
            .collect();
        let who = at(&review.reviewer);
        if owned.is_empty() || !policy.owner_change_request_blocks {
            findings.push(Finding::warning(
                "review.changes-requested",
                format!(
                    "{who} requested changes on {}{}",
                    short(&review.commit_id),
                    if owned.is_empty() {
                        " (not a code owner of the changed paths: does not block)"
                    } else {
                        " (owner change requests do not block under this policy)"
                    }
                ),
            ));
            continue;
        }
        let of: Vec<String> = owned
            .iter()
            .map(|r| format!("`{}` (line {})", r.pattern, r.line))
            .collect();
        findings.push(
            Finding::error(
                "review.changes-requested",
                format!(
                    "{who}, code owner of {}, requested changes on {}; this blocks until the review is dismissed or {who} approves",
                    list(&of),
                    short(&review.commit_id)
                ),
            )
            .hint(format!("address {who}'s review and ask them to approve, or have a maintainer dismiss it")),
        );
    }

    if policy.require_code_owners && !unowned.is_empty() {
        findings.push(
            Finding::note(
                "review.unowned",
                format!(
                    "{} changed path{} no code owner: only the general independent approvals apply to {}",
                    unowned.len(),
                    if unowned.len() == 1 { " has" } else { "s have" },
                    if unowned.len() == 1 { "it" } else { "them" }
                ),
            )
            .property("paths", list(&unowned)),
        );
    }
    findings
}

fn policy_without_owner(path: &str, owners: Option<&CodeOwners>) -> Finding {
    let place = owners.map_or("the target branch has no CODEOWNERS".to_string(), |o| {
        format!("{} names no owner for it", o.display)
    });
    Finding::error(
        "review.policy-owner-missing",
        format!("the pull request changes {path}, which needs a code owner's approval, but {place}"),
    )
    .at(Location::file(path, None))
    .hint("on the target branch, give vouch's files owners in CODEOWNERS, e.g. `/.vouch/ @org/security` and `/.github/CODEOWNERS @org/security`")
}

fn permission_name(p: Permission) -> &'static str {
    match p {
        Permission::None => "none",
        Permission::Read => "read",
        Permission::Triage => "triage",
        Permission::Write => "write",
        Permission::Maintain => "maintain",
        Permission::Admin => "admin",
    }
}

/// Who is not independent of the pull request, and why (`co-authored 3f2a1c9`).
fn involvement(
    policy: &ReviewPolicy,
    pr: &PullRequest,
    people: &People,
    findings: &mut Vec<Finding>,
) -> BTreeMap<String, Vec<String>> {
    let roles = &policy.not_independent;
    let mut involved: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut note = |login: String, why: String| {
        let reasons = involved.entry(login).or_default();
        if !reasons.contains(&why) {
            reasons.push(why);
        }
    };
    if roles.contains(&Involvement::PrAuthor) {
        note(pr.author.to_lowercase(), "opened the pull request".into());
    }
    if roles.contains(&Involvement::LastPusher) {
        note(pr.last_pusher.to_lowercase(), "pushed last".into());
    }
    let bot_logins: BTreeSet<String> = policy.bots.iter().map(|b| b.login.to_lowercase()).collect();
    let mut unmatched: Vec<String> = Vec::new();
    for commit in &pr.commits {
        let id = short(&commit.sha);
        let verified_signer = commit
            .signature
            .as_ref()
            .filter(|s| s.verified)
            .and_then(|s| s.signer.as_deref());
        if let Some(bot) = policy
            .bots
            .iter()
            .find(|b| Some(b.signer.as_str()) == verified_signer)
        {
            findings.push(
                Finding::note(
                    "review.bot-commit",
                    format!(
                        "commit {id} is signed by bot {}'s trusted signer `{}`: it does not count against anyone's independence",
                        at(&bot.login),
                        bot.signer
                    ),
                )
                .at(Location::commit(&commit.sha)),
            );
            continue;
        }
        let claims_bot = [&commit.author, &commit.committer]
            .iter()
            .flat_map(|i| people.logins(i))
            .any(|l| bot_logins.contains(&l));
        if claims_bot {
            findings.push(
                Finding::note(
                    "review.bot-commit-unverified",
                    format!(
                        "commit {id} names a bot but its signature is not verified by that bot's signer: it counts like any other commit"
                    ),
                )
                .at(Location::commit(&commit.sha)),
            );
        }
        let mut people_of = |identity: &Identity, role: Involvement, verb: &str| {
            if !roles.contains(&role) {
                return;
            }
            let logins = people.logins(identity);
            if logins.is_empty() {
                unmatched.push(format!(
                    "{} <{}> ({verb} {id})",
                    identity.name, identity.email
                ));
            }
            for login in logins {
                if !bot_logins.contains(&login) {
                    note(login, format!("{verb} {id}"));
                }
            }
        };
        people_of(&commit.author, Involvement::Authors, "authored");
        people_of(&commit.committer, Involvement::Committers, "committed");
        for co in &commit.co_authors {
            people_of(co, Involvement::CoAuthors, "co-authored");
        }
    }
    unmatched.sort();
    unmatched.dedup();
    if !unmatched.is_empty() {
        findings.push(
            Finding::warning(
                "review.unmatched-identity",
                format!(
                    "{} commit identit{} not linked to any login, so no reviewer can be excluded for {}: {}",
                    unmatched.len(),
                    if unmatched.len() == 1 { "y is" } else { "ies are" },
                    if unmatched.len() == 1 { "it" } else { "them" },
                    list(&unmatched)
                ),
            )
            .hint("list each contributor's e-mail addresses under `emails` (login → addresses) in the input"),
        );
    }
    involved
}

/// Each reviewer's standing: their latest review that is not COMMENTED; DISMISSED clears it.
fn standings<'a>(
    pr: &'a PullRequest,
    findings: &mut Vec<Finding>,
) -> BTreeMap<String, Standing<'a>> {
    let mut timed = Vec::new();
    for (i, review) in pr.reviews.iter().enumerate() {
        match crate::policy::parse_time(&review.submitted_at) {
            Some(t) => timed.push((t, i, review)),
            None => findings.push(
                Finding::error(
                    "review.bad-input",
                    format!(
                        "review by {} has an unreadable submitted_at {:?}; it is ignored",
                        at(&review.reviewer),
                        review.submitted_at
                    ),
                )
                .hint("give submitted_at as an RFC 3339 time, e.g. \"2026-11-25T10:00:00Z\""),
            ),
        }
    }
    timed.sort_by_key(|(t, i, _)| (*t, *i));
    let mut out = BTreeMap::new();
    for (_, _, review) in timed {
        let login = review.reviewer.to_lowercase();
        match review.state {
            ReviewState::Commented => {}
            ReviewState::Dismissed => {
                out.remove(&login);
            }
            ReviewState::Approved | ReviewState::ChangesRequested => {
                out.insert(login, Standing { review });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_paths() {
        assert!(is_policy_path(".vouch/policy.toml"));
        assert!(is_policy_path(".github/CODEOWNERS"));
        assert!(is_policy_path("docs/CODEOWNERS"));
        assert!(!is_policy_path("src/CODEOWNERS"));
        assert!(!is_policy_path(".vouchx/a"));
        assert!(is_policy_path(&clean_path("/./.vouch//policy.toml")));
    }
}
