//! Commit-message rules: DCO sign-off, subject length, and no autosquash commits on protected
//! branches. The commit-msg hook judges the message being written; pushes judge every new commit.

use crate::change::{Change, Stage};
use crate::check::{Check, CheckError};
use crate::finding::{Finding, Location};
use crate::policy::{CommitMessagePolicy, Policy};
use crate::verdict::Evidence;

/// The commit-message check.
#[derive(Debug, Clone, Copy, Default)]
pub struct CommitMessage;

impl Check for CommitMessage {
    fn id(&self) -> &'static str {
        "commit-message"
    }

    fn skip_reason(&self, policy: &Policy, change: &Change) -> Option<String> {
        let p = &policy.commit_message;
        if !p.require_signoff && p.max_subject_length.is_none() && !p.forbid_autosquash {
            return Some("the policy sets no [commit_message] rule".into());
        }
        if change.stage == Stage::Commit {
            return Some("judged by the commit-msg hook".into());
        }
        None
    }

    fn run(
        &self,
        policy: &Policy,
        change: &Change,
        _evidence: &mut Evidence,
    ) -> Result<Vec<Finding>, CheckError> {
        let mut findings = Vec::new();
        if let Some(pending) = &change.message {
            let protected = pending
                .branch
                .as_deref()
                .is_some_and(|b| policy.rules_for(b).next().is_some());
            findings.extend(judge_message(
                &policy.commit_message,
                &pending.text,
                &pending.author_email,
                protected,
            ));
        }
        for (update, commit) in change.commits() {
            let protected = policy.rules_for(&update.name).next().is_some();
            let location = Location::commit(&commit.id).with_ref(&update.name);
            findings.extend(
                judge_message(
                    &policy.commit_message,
                    &commit.message,
                    &commit.author.email,
                    protected,
                )
                .into_iter()
                .map(|f| f.at(location.clone())),
            );
        }
        Ok(findings)
    }
}

/// Judge one message. `author_email` is who must have signed off; `protected` is whether the
/// commit is headed for a protected branch (where autosquash commits are refused).
pub fn judge_message(
    policy: &CommitMessagePolicy,
    message: &str,
    author_email: &str,
    protected: bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let message = strip_comments(message);
    let subject = message.lines().next().unwrap_or("").trim_end();
    if subject.trim().is_empty() {
        findings.push(
            Finding::error(
                "commit-message.empty",
                "the commit message has no subject line",
            )
            .hint("write a one-line summary of the change as the first line"),
        );
    }
    if let Some(max) = policy.max_subject_length {
        let len = subject.chars().count();
        if len > max {
            findings.push(
                Finding::error(
                    "commit-message.subject-length",
                    format!("the subject line is {len} characters; the policy allows {max}"),
                )
                .hint("shorten the first line and move detail to the body"),
            );
        }
    }
    if policy.require_signoff {
        let signed = message.lines().any(|line| {
            line.trim()
                .strip_prefix("Signed-off-by:")
                .and_then(|v| v.rsplit_once('<'))
                .is_some_and(|(_, rest)| {
                    rest.trim_end()
                        .trim_end_matches('>')
                        .eq_ignore_ascii_case(author_email)
                })
        });
        if !signed {
            findings.push(
                Finding::error(
                    "commit-message.signoff",
                    format!("no `Signed-off-by:` trailer for the author <{author_email}>"),
                )
                .hint("certify the Developer Certificate of Origin with `git commit --amend --signoff`"),
            );
        }
    }
    if policy.forbid_autosquash && protected {
        for prefix in ["fixup!", "squash!", "amend!"] {
            if subject.starts_with(prefix) {
                findings.push(
                    Finding::error(
                        "commit-message.autosquash",
                        format!("a `{prefix}` commit is headed for a protected branch"),
                    )
                    .hint("squash it first: `git rebase -i --autosquash`"),
                );
            }
        }
    }
    findings
}

/// Drop the `#` comment lines git strips from an edited message.
fn strip_comments(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for line in message.lines() {
        // Everything below git's scissors line is discarded.
        if line.starts_with("# ------------------------ >8 ------------------------") {
            break;
        }
        if line.starts_with('#') {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_start_matches('\n').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(signoff: bool, max: Option<usize>, autosquash: bool) -> CommitMessagePolicy {
        CommitMessagePolicy {
            require_signoff: signoff,
            max_subject_length: max,
            forbid_autosquash: autosquash,
        }
    }

    #[test]
    fn table() {
        let cases: [(&str, CommitMessagePolicy, &str, bool, &[&str]); 7] = [
            (
                "fix: x\n\nSigned-off-by: A <a@x.org>\n",
                policy(true, None, false),
                "a@x.org",
                false,
                &[],
            ),
            (
                "fix: x\n",
                policy(true, None, false),
                "a@x.org",
                false,
                &["commit-message.signoff"],
            ),
            (
                "fix: x\n\nSigned-off-by: B <b@x.org>\n",
                policy(true, None, false),
                "a@x.org",
                false,
                &["commit-message.signoff"],
            ),
            (
                "a very long subject line indeed\n",
                policy(false, Some(10), false),
                "a@x.org",
                false,
                &["commit-message.subject-length"],
            ),
            (
                "fixup! earlier\n",
                policy(false, None, true),
                "a@x.org",
                true,
                &["commit-message.autosquash"],
            ),
            (
                "fixup! earlier\n",
                policy(false, None, true),
                "a@x.org",
                false,
                &[],
            ),
            (
                "# only a comment\n",
                policy(false, None, false),
                "a@x.org",
                false,
                &["commit-message.empty"],
            ),
        ];
        for (message, p, email, protected, want) in cases {
            let got: Vec<String> = judge_message(&p, message, email, protected)
                .into_iter()
                .map(|f| f.rule)
                .collect();
            assert_eq!(got, want, "{message:?}");
        }
    }
}
