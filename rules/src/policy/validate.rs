//! Validating a parsed policy file: [`file::PolicyFile`] (as written) → [`Policy`] (what every
//! check reads), once, section by section; every error points at the offending value.

use super::error::{self, PolicyError, PolicyWarning, Position};
use super::file::{self, PolicyFile, RefRuleSection};
use super::*;
use toml::Spanned;

pub(super) fn toml_error(e: &toml::de::Error, text: &str, file: &str) -> PolicyError {
    let offset = e.span().map_or(0, |s| s.start);
    let at = Position::of(file, text, offset);
    let message = e.message().trim().to_string();
    let mut err = PolicyError::invalid(at, message.clone());
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((unknown, expected)) = rest.split_once('`') {
            let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            err = PolicyError::invalid(
                Position::of(file, text, offset),
                format!("unknown key `{unknown}`"),
            );
            err = match error::did_you_mean(unknown, candidates.iter().copied()) {
                Some(best) => err.with_hint(format!("did you mean `{best}`?")),
                None => err.with_hint(format!("known keys here: {}", candidates.join(", "))),
            };
        }
    }
    err
}

pub(super) struct Validator<'a> {
    pub(super) text: &'a str,
    pub(super) file: &'a str,
}

impl Validator<'_> {
    fn at<T>(&self, value: &Spanned<T>) -> Position {
        Position::of(self.file, self.text, value.span().start)
    }

    fn bad<T>(&self, value: &Spanned<T>, message: impl Into<String>) -> PolicyError {
        PolicyError::invalid(self.at(value), message)
    }

    fn count(&self, value: &Spanned<i64>, key: &str, max: i64) -> Result<u32, PolicyError> {
        let n = *value.get_ref();
        if !(0..=max).contains(&n) {
            return Err(self.bad(
                value,
                format!("`{key}` must be between 0 and {max}, not {n}"),
            ));
        }
        Ok(n as u32)
    }

    fn strings(&self, values: Vec<Spanned<String>>, key: &str) -> Result<Vec<String>, PolicyError> {
        values
            .into_iter()
            .map(|v| {
                if v.get_ref().trim().is_empty() {
                    Err(self.bad(&v, format!("`{key}` has an empty entry")))
                } else {
                    Ok(v.into_inner())
                }
            })
            .collect()
    }

    /// Validate the whole file, section by section.
    pub(super) fn policy(
        &self,
        raw: PolicyFile,
        origin: Origin,
        digest: String,
        files: PolicyFiles,
    ) -> Result<Policy, PolicyError> {
        if let Some(version) = &raw.version {
            if *version.get_ref() != 1 {
                return Err(self
                    .bad(
                        version,
                        format!("unsupported policy version {}", version.get_ref()),
                    )
                    .with_hint(
                        "this vouch understands `version = 1`; upgrade vouch for newer policies",
                    ));
            }
        }
        // In file order, so the first error reported is the first in the file.
        let signatures = self.signatures(raw.signatures)?;
        let secrets = self.secrets(raw.secrets)?;
        let review = self.review(raw.review)?;
        let refs = self.refs(raw.branch, raw.tag)?;
        let commit_message = self.commit_message(raw.commit_message)?;
        let attestation = self.attestation(raw.attestation.unwrap_or_default())?;
        let server = self.server(raw.server)?;
        let warnings = self.unenforced(&refs);
        Ok(Policy {
            origin,
            digest,
            warnings,
            signatures,
            secrets,
            review,
            refs,
            commit_message,
            attestation,
            server,
            files,
        })
    }

    fn retired(&self, entries: Vec<file::RetiredKey>) -> Result<Vec<(String, i64)>, PolicyError> {
        let mut retired = Vec::new();
        for r in entries {
            let Some(time) = crate::time::parse_rfc3339(r.since.get_ref()) else {
                return Err(self
                    .bad(
                        &r.since,
                        format!("`since` is not a date: {:?}", r.since.get_ref()),
                    )
                    .with_hint(
                        "write an RFC 3339 date such as \"2026-01-31\" or \"2026-01-31T12:00:00Z\"",
                    ));
            };
            retired.push((r.key.into_inner(), time));
        }
        Ok(retired)
    }

    fn signatures(&self, s: file::SignaturesSection) -> Result<SignaturesPolicy, PolicyError> {
        let retired = self.retired(s.retired)?;
        let signatures = SignaturesPolicy {
            required: s.required,
            allowed_signers: s.allowed_signers.into_inner(),
            keys_dir: s.keys_dir.into_inner().trim_end_matches('/').to_string(),
            require_author_identity: s.require_author_identity,
            accept_x509: s.accept_x509,
            allow_unsigned_merges: s.allow_unsigned_merges,
            forge_signers: self.strings(s.forge_signers, "forge_signers")?,
            max_key_age_days: match &s.max_key_age_days {
                Some(v) => Some(self.count(v, "max_key_age_days", 100_000)?),
                None => None,
            },
            retired,
            compromised: self.strings(s.compromised, "compromised")?,
            exempt_commits: self.commit_ids(s.exempt_commits)?,
        };
        Ok(signatures)
    }

    fn secrets(&self, sec: file::SecretsSection) -> Result<SecretsPolicy, PolicyError> {
        let max_file_bytes = *sec.max_file_bytes.get_ref();
        if max_file_bytes <= 0 || max_file_bytes as u64 > MAX_SCANNED_FILE_BYTES {
            return Err(self
                .bad(
                    &sec.max_file_bytes,
                    format!(
                        "`max_file_bytes` must be between 1 and {MAX_SCANNED_FILE_BYTES} (512 MiB, the most git's diff engine reads as text), not {max_file_bytes}"
                    ),
                )
                .with_hint("the default is 268435456 (256 MiB); a file over the limit fails the check unless `oversize = \"warn\"`"));
        }
        let oversize = Oversize::parse(sec.oversize.get_ref()).ok_or_else(|| {
            let given = sec.oversize.get_ref();
            let err = self.bad(&sec.oversize, format!("unknown `oversize` value {given:?}"));
            match error::did_you_mean(given, ["fail", "warn"]) {
                Some(best) => {
                    err.with_hint(format!("did you mean \"{best}\"? (\"fail\" or \"warn\")"))
                }
                None => err.with_hint(
                    "use \"fail\" (a file too large to scan fails the check) or \"warn\"",
                ),
            }
        })?;
        let min_confidence = Confidence::parse(sec.min_confidence.get_ref()).ok_or_else(|| {
            self.bad(
                &sec.min_confidence,
                format!("unknown confidence {:?}", sec.min_confidence.get_ref()),
            )
            .with_hint("use \"low\", \"medium\" or \"high\"")
        })?;
        let mut allow_paths = Vec::new();
        for p in &sec.allow_paths {
            allow_paths
                .push(Glob::new(p.get_ref()).map_err(|e| {
                    self.bad(p, format!("bad path pattern {:?}: {e}", p.get_ref()))
                })?);
        }
        let secrets = SecretsPolicy {
            enabled: sec.enabled,
            rules_file: sec.rules_file.into_inner(),
            baseline: sec.baseline.into_inner(),
            inline_allow: sec.inline_allow,
            max_file_bytes: max_file_bytes as u64,
            oversize,
            allow_paths,
            disable_rules: self.strings(sec.disable_rules, "disable_rules")?,
            min_confidence,
        };
        Ok(secrets)
    }

    fn review(&self, r: file::ReviewSection) -> Result<ReviewPolicy, PolicyError> {
        let mut not_independent = BTreeSet::new();
        for item in &r.not_independent {
            let found = Involvement::ALL
                .iter()
                .find(|(name, _)| name == item.get_ref());
            match found {
                Some((_, inv)) => {
                    not_independent.insert(*inv);
                }
                None => {
                    let names = Involvement::ALL.map(|(n, _)| n);
                    let mut err = self.bad(
                        item,
                        format!("unknown role {:?} in `not_independent`", item.get_ref()),
                    );
                    err = match error::did_you_mean(item.get_ref(), names) {
                        Some(best) => err.with_hint(format!("did you mean \"{best}\"?")),
                        None => err.with_hint(format!("use any of: {}", names.join(", "))),
                    };
                    return Err(err);
                }
            }
        }
        let min_permission = Permission::parse(r.min_permission.get_ref()).ok_or_else(|| {
            self.bad(
                &r.min_permission,
                format!("unknown permission {:?}", r.min_permission.get_ref()),
            )
            .with_hint("use \"read\", \"triage\", \"write\", \"maintain\" or \"admin\"")
        })?;
        let mut bots = Vec::new();
        for b in r.bots {
            if b.login.get_ref().trim().is_empty() {
                return Err(self.bad(&b.login, "a bot needs a `login`"));
            }
            bots.push(Bot {
                login: b.login.into_inner(),
                signer: b.signer.into_inner(),
            });
        }
        let review = ReviewPolicy {
            required_approvals: self.count(&r.required_approvals, "required_approvals", 100)?,
            require_code_owners: r.require_code_owners,
            not_independent,
            min_permission,
            owner_change_request_blocks: r.owner_change_request_blocks,
            current_head_only: r.current_head_only,
            bots,
        };
        Ok(review)
    }

    fn refs(
        &self,
        branches: Vec<RefRuleSection>,
        tags: Vec<RefRuleSection>,
    ) -> Result<Vec<RefRule>, PolicyError> {
        let mut refs = Vec::new();
        for rule in branches {
            refs.push(self.ref_rule(rule, RefKind::Branch)?);
        }
        for rule in tags {
            refs.push(self.ref_rule(rule, RefKind::Tag)?);
        }
        Ok(refs)
    }

    fn commit_message(
        &self,
        cm: file::CommitMessageSection,
    ) -> Result<CommitMessagePolicy, PolicyError> {
        let commit_message = CommitMessagePolicy {
            require_signoff: cm.require_signoff,
            max_subject_length: match &cm.max_subject_length {
                Some(v) => Some(self.count(v, "max_subject_length", 10_000)? as usize),
                None => None,
            },
            forbid_autosquash: cm.forbid_autosquash,
        };
        Ok(commit_message)
    }

    fn attestation(&self, a: file::AttestationSection) -> Result<AttestationPolicy, PolicyError> {
        if !a.notes_ref.get_ref().starts_with("refs/notes/") {
            return Err(self
                .bad(
                    &a.notes_ref,
                    format!(
                        "`notes_ref` {:?} is not under refs/notes/",
                        a.notes_ref.get_ref()
                    ),
                )
                .with_hint("use a ref such as \"refs/notes/vouch\""));
        }
        let merge = MergeMode::parse(a.merge.get_ref()).ok_or_else(|| {
            self.bad(
                &a.merge,
                format!("unknown merge mode {:?}", a.merge.get_ref()),
            )
            .with_hint("use \"on-approval\", \"merge-queue\" or \"off\"")
        })?;
        if let Some(id) = &a.verifier_id {
            if !id.get_ref().contains(':') {
                return Err(self
                    .bad(id, format!("`verifier_id` {:?} is not a URI", id.get_ref()))
                    .with_hint(
                        "name the verifier with a URI, e.g. \"https://git.example.com/vouch\"",
                    ));
            }
        }
        let attestation = AttestationPolicy {
            enabled: a.enabled,
            notes_ref: a.notes_ref.into_inner(),
            verifier_id: a.verifier_id.map(Spanned::into_inner),
            trusted_verifiers: self.strings(a.trusted_verifiers, "trusted_verifiers")?,
            merge,
            retired: self.retired(a.retired)?,
            compromised: self.strings(a.compromised, "compromised")?,
            exempt_commits: self.commit_ids(a.exempt_commits)?,
        };
        Ok(attestation)
    }

    fn server(&self, server: file::ServerSection) -> Result<ServerPolicy, PolicyError> {
        Ok(ServerPolicy {
            pusher_env: match server.pusher_env {
                Some(v) if v.get_ref().is_empty() || v.get_ref().contains('=') => {
                    return Err(self.bad(&v, "`pusher_env` must be an environment variable name"));
                }
                Some(v) => Some(v.into_inner()),
                None => None,
            },
        })
    }

    /// A warning for each key written in the policy that no enforcement point acts on yet.
    fn unenforced(&self, refs: &[RefRule]) -> Vec<PolicyWarning> {
        let mut warnings = Vec::new();
        for rule in refs.iter().filter(|r| !r.required_checks.is_empty()) {
            // The `required_checks` key of this rule: the first one at or after its line.
            let line: usize = rule
                .defined_at
                .rsplit(':')
                .next()
                .and_then(|l| l.parse().ok())
                .unwrap_or(1);
            let from: usize = self
                .text
                .split_inclusive('\n')
                .take(line.saturating_sub(1))
                .map(str::len)
                .sum();
            let offset = self.text[from..]
                .find("required_checks")
                .map_or(from, |i| from + i);
            let at = Position::of(self.file, self.text, offset);
            warnings.push(PolicyWarning {
                at,
                message: format!(
                    "`required_checks` of {} {:?} is not enforced yet: no hook can see other checks' results, and the bot that will require them is not installed by this version",
                    rule.table(),
                    rule.written
                ),
                hint: "require these checks in the forge's branch protection until vouch's bot enforces them".into(),
            });
        }
        warnings
    }

    fn commit_ids(&self, values: Vec<Spanned<String>>) -> Result<Vec<String>, PolicyError> {
        values
            .into_iter()
            .map(|v| {
                let id = v.get_ref();
                if (id.len() == 40 || id.len() == 64) && id.bytes().all(|b| b.is_ascii_hexdigit()) {
                    Ok(id.to_ascii_lowercase())
                } else {
                    Err(self
                        .bad(&v, format!("{id:?} is not a full commit id"))
                        .with_hint("write the whole 40-hex-digit id (`git rev-parse <commit>`)"))
                }
            })
            .collect()
    }

    fn ref_rule(&self, rule: RefRuleSection, kind: RefKind) -> Result<RefRule, PolicyError> {
        let table = match kind {
            RefKind::Branch => "[[branch]]",
            RefKind::Tag => "[[tag]]",
        };
        let written = rule.pattern.get_ref().trim().to_string();
        if written.is_empty() {
            return Err(self
                .bad(&rule.pattern, format!("{table} pattern is empty"))
                .with_hint("name a branch or tag, e.g. \"main\" or \"release/*\""));
        }
        let prefix = match kind {
            RefKind::Branch => "refs/heads/",
            RefKind::Tag => "refs/tags/",
        };
        let full = if written.starts_with("refs/") {
            if !written.starts_with(prefix) {
                return Err(self
                    .bad(
                        &rule.pattern,
                        format!("{table} pattern {written:?} is not under {prefix}"),
                    )
                    .with_hint(format!(
                        "write the short name, or a full ref under {prefix}"
                    )));
            }
            written.clone()
        } else {
            format!("{prefix}{written}")
        };
        let pattern = Glob::new(&full).map_err(|e| {
            self.bad(
                &rule.pattern,
                format!("bad {table} pattern {written:?}: {e}"),
            )
        })?;
        if kind == RefKind::Tag {
            if let Some(v) = &rule.require_review {
                return Err(self
                    .bad(v, "`require_review` applies to [[branch]] rules only")
                    .with_hint("remove it; tags are protected by `allow_force_push`, `allow_deletion` and `push_allow`"));
            }
            if let Some(first) = rule.required_checks.first() {
                return Err(self.bad(first, "`required_checks` applies to [[branch]] rules only"));
            }
        }
        let at = self.at(&rule.pattern);
        Ok(RefRule {
            kind,
            pattern,
            written,
            defined_at: format!("{}:{}", at.file, at.line),
            allow_deletion: rule.allow_deletion,
            allow_force_push: rule.allow_force_push,
            require_review: kind == RefKind::Branch
                && rule.require_review.as_ref().is_none_or(|v| *v.get_ref()),
            push_allow: self.strings(rule.push_allow, "push_allow")?,
            required_checks: self.strings(rule.required_checks, "required_checks")?,
        })
    }
}
