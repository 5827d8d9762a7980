//! Who is who on a pull request: logins behind commit e-mails, team members, permissions, and
//! who is not independent of the change (author, committers, co-authors, last pusher).

use super::{at, list, short, Facts};
use crate::change::PullRequest;
use crate::codeowners::{Owner, OwnerKind, Rule};
use crate::finding::{Finding, Location};
use crate::policy::{Involvement, Permission, ReviewPolicy};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The people facts of a pull request, lower-cased for comparison (logins, teams and e-mail
/// addresses are case-insensitive on the forge).
pub(super) struct People {
    email_to_logins: HashMap<String, Vec<String>>,
    login_emails: HashMap<String, BTreeSet<String>>,
    teams: HashMap<String, BTreeSet<String>>,
    pub(super) permissions: HashMap<String, Permission>,
}

impl People {
    pub(super) fn new(pr: &PullRequest) -> People {
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

    /// The logins an e-mail address belongs to.
    pub(super) fn logins(&self, email: &str) -> BTreeSet<String> {
        self.email_to_logins
            .get(&email.to_lowercase())
            .map(|l| l.iter().cloned().collect())
            .unwrap_or_default()
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

    pub(super) fn owns(&self, rule: &Rule, login: &str) -> bool {
        rule.owners.iter().any(|o| self.is_owner(o, login))
    }
}

/// Who is not independent of the pull request, and why (`co-authored 3f2a1c9`).
pub(super) fn involvement(
    policy: &ReviewPolicy,
    facts: &Facts<'_>,
    people: &People,
    findings: &mut Vec<Finding>,
) -> BTreeMap<String, Vec<String>> {
    let pr = facts.pr;
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
    for commit in &facts.commits {
        let id = short(commit.id);
        let verified_signer = commit.verified_signer.as_deref();
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
                .at(Location::commit(commit.id)),
            );
            continue;
        }
        let claims_bot = [commit.author, commit.committer]
            .iter()
            .flat_map(|i| people.logins(&i.email))
            .any(|l| bot_logins.contains(&l));
        if claims_bot {
            findings.push(
                Finding::note(
                    "review.bot-commit-unverified",
                    format!(
                        "commit {id} names a bot but its signature is not verified by that bot's signer: it counts like any other commit"
                    ),
                )
                .at(Location::commit(commit.id)),
            );
        }
        let mut people_of = |name: &str, email: &str, role: Involvement, verb: &str| {
            if !roles.contains(&role) {
                return;
            }
            let logins = people.logins(email);
            if logins.is_empty() {
                unmatched.push(format!("{name} <{email}> ({verb} {id})"));
            }
            for login in logins {
                if !bot_logins.contains(&login) {
                    note(login, format!("{verb} {id}"));
                }
            }
        };
        let (a, c) = (commit.author, commit.committer);
        people_of(&a.name, &a.email, Involvement::Authors, "authored");
        people_of(&c.name, &c.email, Involvement::Committers, "committed");
        for co in commit.co_authors {
            people_of(&co.name, &co.email, Involvement::CoAuthors, "co-authored");
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
            .hint("list each contributor's e-mail addresses under `emails` (login → addresses) in the pull request facts"),
        );
    }
    involved
}
