//! Who can reach the repository: the organisation's 2FA requirement and members without 2FA,
//! outside collaborators, the number of admins, each person's and team's permission against
//! their `[roles]` maximum, deploy keys and fine-grained token lifetimes.

use super::{setting, unreadable, ORG_OWNER, REPO_ADMIN};
use crate::change::posture::{Fact, Grant, Posture};
use crate::finding::Finding;
use crate::policy::{Member, OutsideCollaborators, Permission, Policy, RolesPolicy};

const DAY: i64 = 86_400;

pub(crate) fn judge(policy: &Policy, posture: &Posture, now: i64) -> Vec<Finding> {
    let mut out = Vec::new();
    let access = &policy.access;
    let repo = &posture.repo;
    if access.require_2fa && posture.owner_is_org {
        match &posture.org_requires_2fa {
            Some(Fact::Known(true)) => {}
            Some(Fact::Known(false)) => out.push(
                setting(
                    "posture.2fa-required",
                    format!("the organisation owning {repo} does not require two-factor authentication"),
                    "organisation: Require two-factor authentication",
                    "off",
                    "on",
                    ORG_OWNER,
                )
                .hint("an organisation owner turns it on under Settings → Authentication security (the API cannot)"),
            ),
            Some(Fact::Unknown(why)) => out.push(unreadable("the organisation requires 2FA", why, ORG_OWNER)),
            None => out.push(unreadable("the organisation requires 2FA", "the audit did not read it", ORG_OWNER)),
        }
        match &posture.members_without_2fa {
            Some(Fact::Known(members)) => {
                for m in members {
                    out.push(
                        setting(
                            "posture.member-without-2fa",
                            format!("organisation member {m} has no two-factor authentication"),
                            &format!("member {m}: two-factor authentication"),
                            "off",
                            "on",
                            &format!("{m} (or an {ORG_OWNER}, who may remove them)"),
                        )
                        .hint(format!("{m} enables 2FA in their account settings; requiring 2FA in the organisation removes members without it"))
                        .property("login", m.clone()),
                    );
                }
            }
            Some(Fact::Unknown(why)) => {
                out.push(unreadable("every member has 2FA", why, ORG_OWNER))
            }
            None => out.push(unreadable(
                "every member has 2FA",
                "the audit did not read it",
                ORG_OWNER,
            )),
        }
    }
    if let Some(outside) = &posture.outside_collaborators {
        let max = match access.outside_collaborators {
            OutsideCollaborators::Read => Permission::Read,
            OutsideCollaborators::None => Permission::None,
        };
        match outside {
            Fact::Known(grants) => {
                for g in grants.iter().filter(|g| g.permission > max) {
                    out.push(
                        setting(
                            "posture.outside-collaborator",
                            format!(
                                "outside collaborator {} holds {} on {repo}; the policy allows {}",
                                g.name,
                                g.permission.as_str(),
                                max.as_str()
                            ),
                            &format!("collaborator {}: permission", g.name),
                            g.permission.as_str(),
                            &format!("at most {}", max.as_str()),
                            REPO_ADMIN,
                        )
                        .hint("`vouch audit --fix` lowers it (or removes the collaborator when the policy allows none)")
                        .property("login", g.name.clone())
                        .property("max", max.as_str()),
                    );
                }
            }
            Fact::Unknown(why) => out.push(unreadable(
                "outside collaborators stay within `[access] outside_collaborators`",
                why,
                ORG_OWNER,
            )),
        }
    }
    match &posture.collaborators {
        Fact::Known(grants) => {
            if let Some(max) = policy.access.max_admins {
                let admins: Vec<&str> = grants
                    .iter()
                    .filter(|g| g.permission == Permission::Admin)
                    .map(|g| g.name.as_str())
                    .collect();
                if admins.len() as u32 > max {
                    out.push(
                        setting(
                            "posture.admin-count",
                            format!(
                                "{} people hold admin on {repo} ({}); the policy allows {max}",
                                admins.len(),
                                admins.join(", ")
                            ),
                            "repository: people with admin",
                            &admins.len().to_string(),
                            &format!("at most {max}"),
                            REPO_ADMIN,
                        )
                        .hint("lower the others to maintain, or raise `[access] max_admins`"),
                    );
                }
            }
            if let Some(roles) = &policy.roles {
                out.extend(people(roles, posture, grants));
            }
        }
        Fact::Unknown(why) => {
            if policy.access.max_admins.is_some() || policy.roles.is_some() {
                out.push(unreadable(
                    "collaborators' permissions stay within `[roles]` and `[access] max_admins`",
                    why,
                    REPO_ADMIN,
                ));
            }
        }
    }
    if let Some(roles) = &policy.roles {
        match &posture.teams {
            Fact::Known(teams) => {
                for t in teams {
                    let member = Member::Team(t.name.to_ascii_lowercase());
                    let max = max_for(roles, &[member]);
                    if t.permission > max {
                        out.push(too_much(
                            &format!("team {}", t.name),
                            &t.name,
                            t,
                            max,
                            roles,
                            true,
                        ));
                    }
                }
            }
            Fact::Unknown(why) => out.push(unreadable(
                "teams' permissions stay within `[roles]`",
                why,
                REPO_ADMIN,
            )),
        }
    }
    match &posture.deploy_keys {
        Fact::Known(keys) => {
            for k in keys {
                if access.forbid_deploy_keys_with_write && !k.read_only {
                    out.push(
                        setting(
                            "posture.deploy-key-write",
                            format!("deploy key {:?} (id {}) can write to {repo}", k.title, k.id),
                            &format!("deploy key {:?}: read_only", k.title),
                            "false (read-write)",
                            "true",
                            REPO_ADMIN,
                        )
                        .hint("the API cannot make a key read-only: add a read-only key in its place and delete this one")
                        .property("key_id", k.id.to_string()),
                    );
                }
                if let Some(days) = access.max_deploy_key_age_days {
                    let age = (now - k.created_at) / DAY;
                    if age > i64::from(days) {
                        out.push(
                            setting(
                                "posture.deploy-key-age",
                                format!("deploy key {:?} (id {}) is {age} days old; the policy allows {days}", k.title, k.id),
                                &format!("deploy key {:?}: age", k.title),
                                &format!("{age} days"),
                                &format!("at most {days} days"),
                                REPO_ADMIN,
                            )
                            .hint("rotate it: add a new key, switch its user over, delete this one")
                            .property("key_id", k.id.to_string()),
                        );
                    }
                }
            }
        }
        Fact::Unknown(why) => {
            if access.forbid_deploy_keys_with_write || access.max_deploy_key_age_days.is_some() {
                out.push(unreadable("deploy keys meet `[access]`", why, REPO_ADMIN));
            }
        }
    }
    if let (Some(days), true) = (access.max_pat_lifetime_days, posture.owner_is_org) {
        match &posture.token_grants {
            Some(Fact::Known(grants)) => {
                for g in grants {
                    let lifetime = g.expires_at.map(|e| (e - g.granted_at) / DAY);
                    if lifetime.is_none_or(|l| l > i64::from(days)) {
                        let current = match lifetime {
                            Some(l) => format!("{l} days"),
                            None => "never expires".into(),
                        };
                        out.push(
                            setting(
                                "posture.pat-lifetime",
                                format!("a fine-grained token of {} (grant {}) lives {current}; the policy allows {days} days", g.owner, g.id),
                                &format!("fine-grained token grant {}: lifetime", g.id),
                                &current,
                                &format!("at most {days} days"),
                                ORG_OWNER,
                            )
                            .hint("an organisation owner revokes the grant and sets a maximum token lifetime in the organisation's personal access token policy"),
                        );
                    }
                }
            }
            Some(Fact::Unknown(why)) => out.push(unreadable(
                "token lifetimes meet `[access] max_pat_lifetime_days`",
                why,
                ORG_OWNER,
            )),
            None => out.push(unreadable(
                "token lifetimes meet `[access] max_pat_lifetime_days`",
                "the audit did not read the organisation's token grants",
                ORG_OWNER,
            )),
        }
    }
    out
}

/// The most anyone who is all of `members` may hold: the highest of their roles' maxima.
fn max_for(roles: &RolesPolicy, members: &[Member]) -> Permission {
    members
        .iter()
        .flat_map(|m| roles.roles_of(m))
        .map(|r| roles.max_of(r))
        .max()
        .unwrap_or(roles.unlisted)
}

fn too_much(
    who: &str,
    name: &str,
    g: &Grant,
    max: Permission,
    roles: &RolesPolicy,
    team: bool,
) -> Finding {
    let member = if team {
        Member::Team(name.to_ascii_lowercase())
    } else {
        Member::Person(name.to_ascii_lowercase())
    };
    let in_roles: Vec<&str> = roles.roles_of(&member).iter().map(|r| r.key()).collect();
    let role = if in_roles.is_empty() {
        "no role".to_string()
    } else {
        in_roles.join(", ")
    };
    setting(
        "posture.role-permission",
        format!(
            "{who} ({role}) holds {} ; `[roles]` allows at most {}",
            g.permission.as_str(),
            max.as_str()
        )
        .replace(" ;", ";"),
        &format!("{who}: permission"),
        g.permission.as_str(),
        &format!("at most {}", max.as_str()),
        REPO_ADMIN,
    )
    .hint("`vouch audit --fix` lowers it; or add them to a role that allows it in `[roles]`")
    .property(if team { "team" } else { "login" }, name.to_string())
    .property("max", max.as_str())
}

/// Each person's permission against the roles they are in, directly or through a team.
fn people(roles: &RolesPolicy, posture: &Posture, grants: &[Grant]) -> Vec<Finding> {
    let mut out = Vec::new();
    for g in grants {
        let login = g.name.to_ascii_lowercase();
        let mut members = vec![Member::Person(login.clone())];
        let mut unknown = Vec::new();
        for (team, ms) in &posture.team_members {
            match ms {
                Fact::Known(ms) if ms.iter().any(|m| m.eq_ignore_ascii_case(&login)) => {
                    members.push(Member::Team(team.to_ascii_lowercase()))
                }
                Fact::Known(_) => {}
                Fact::Unknown(why) => unknown.push(format!("{team}: {why}")),
            }
        }
        let max = max_for(roles, &members);
        if g.permission <= max {
            continue;
        }
        if !unknown.is_empty() {
            out.push(unreadable(
                &format!("{} may hold {}", g.name, g.permission.as_str()),
                &format!(
                    "the members of teams in `[roles]` are unknown ({})",
                    unknown.join("; ")
                ),
                super::ORG_OWNER,
            ));
            continue;
        }
        out.push(too_much(
            &format!("collaborator {}", g.name),
            &g.name,
            g,
            max,
            roles,
            false,
        ));
    }
    out
}
