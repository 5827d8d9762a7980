//! How sure a finding is, and why. Every candidate that passes its rule's filters is assessed
//! once: a provider format keeps its rule's confidence (a valid checksum makes it high); a
//! generic hit (a rule of provider `Unknown`) is judged by its value's shape and entropy and by
//! the name it was given, and may be dropped outright when it is the near-miss of a provider's
//! format (`sk-…` too short for any key rule) or a name a provider rule owns (`DATADOG_API_KEY`
//! whose value the Datadog rule rejected). The reasons travel with the finding (`why`).

use crate::policy::Confidence;
use crate::secrets::rule::Rule;
use crate::secrets::validate::{entropy, Checksum};
use std::sync::Arc;

/// The provider of the generic rules.
pub const GENERIC_PROVIDER: &str = "Unknown";

/// Why a candidate is (or is not) reported.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub confidence: Confidence,
    /// Short phrases, most telling first: `checksum: github valid`, `keyword: db_password`.
    pub reasons: Vec<String>,
}

/// Literals that belong to provider rules, for generic hits to defer to.
#[derive(Debug, Default)]
pub struct Owners {
    /// Token prefixes (`sk-`, `ghp_`, `xoxb-`, `akia`): a generic value starting with one is a
    /// provider's format that its own rule did not accept.
    prefixes: Vec<(String, usize)>,
    /// Provider names (`datadog`, `sendgrid`): a generic setting named after one is that
    /// provider's to judge.
    names: Vec<(String, Vec<usize>)>,
}

/// Words generic rules look for: never a provider's own.
const GENERIC_WORDS: [&str; 12] = [
    "secret",
    "token",
    "password",
    "passwd",
    "passphrase",
    "credential",
    "apikey",
    "api_key",
    "bearer",
    "authorization",
    "private",
    "access",
];

impl Owners {
    pub fn new(rules: &[Arc<Rule>]) -> Owners {
        let mut owners = Owners::default();
        for (i, rule) in rules.iter().enumerate() {
            if rule.provider == GENERIC_PROVIDER {
                continue;
            }
            for k in &rule.keywords {
                if GENERIC_WORDS.iter().any(|w| k.contains(w)) || k.contains("key") {
                    continue;
                }
                let alnum = k.bytes().all(|b| b.is_ascii_alphanumeric());
                if (k.len() >= 3
                    && !alnum
                    && k.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric()))
                    || (k.len() >= 4 && alnum)
                {
                    owners.prefixes.push((k.clone(), i));
                }
            }
            let provider = rule.provider.to_ascii_lowercase();
            let first: String = provider
                .split(|c: char| !c.is_ascii_alphanumeric())
                .next()
                .unwrap_or("")
                .to_string();
            let whole: String = provider
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect();
            // Keywords that name the provider (`sonar` for SonarQube) count as its name too.
            let named: Vec<String> = rule
                .keywords
                .iter()
                .filter(|k| {
                    k.len() >= 5
                        && k.bytes().all(|b| b.is_ascii_lowercase())
                        && first.len() >= 4
                        && (first.starts_with(k.as_str()) || k.starts_with(first.as_str()))
                })
                .cloned()
                .collect();
            for n in [first, whole].into_iter().chain(named) {
                if n.len() < 5
                    || GENERIC_WORDS.iter().any(|w| n.contains(w))
                    || SHARED_NAMES.contains(&n.as_str())
                {
                    continue;
                }
                match owners.names.iter_mut().find(|(m, _)| *m == n) {
                    Some((_, owned)) if !owned.contains(&i) => owned.push(i),
                    Some(_) => {}
                    None => owners.names.push((n, vec![i])),
                }
            }
        }
        owners
    }

    fn prefix_owner(&self, secret: &[u8]) -> Option<usize> {
        self.prefixes
            .iter()
            .find(|(p, _)| {
                secret.len() > p.len() && secret[..p.len()].eq_ignore_ascii_case(p.as_bytes())
            })
            .map(|&(_, i)| i)
    }

    /// The provider rule owning a word of `name` (`DATADOG_API_KEY`, `datadogApiKey`).
    fn name_owners(&self, name: &[u8]) -> Option<&[usize]> {
        let mut words: Vec<Vec<u8>> = Vec::new();
        let mut word: Vec<u8> = Vec::new();
        for (i, &b) in name.iter().enumerate() {
            let camel = b.is_ascii_uppercase() && i > 0 && name[i - 1].is_ascii_lowercase();
            if !b.is_ascii_alphanumeric() || camel {
                words.push(std::mem::take(&mut word));
            }
            if b.is_ascii_alphanumeric() {
                word.push(b.to_ascii_lowercase());
            }
        }
        words.push(word);
        self.names
            .iter()
            .find(|(n, _)| words.iter().any(|w| w == n.as_bytes()))
            .map(|(_, owned)| owned.as_slice())
    }
}

/// Provider names that are also what people call their own settings (`MYSQL_PASSWORD`,
/// `DOCKER_PASSWORD`, `SPLIT_TOKEN`): a generic hit named so is still judged on its own.
const SHARED_NAMES: [&str; 44] = [
    "mysql",
    "postgresql",
    "postgres",
    "redis",
    "rabbitmq",
    "docker",
    "mongodb",
    "oracle",
    "kubernetes",
    "spring",
    "django",
    "flask",
    "laravel",
    "symfony",
    "wordpress",
    "jenkins",
    "gradle",
    "nuget",
    "netrc",
    "apache",
    "elastic",
    "application",
    "customer",
    "crypto",
    "databases",
    "alpha",
    "better",
    "close",
    "frame",
    "loops",
    "modal",
    "render",
    "split",
    "stream",
    "square",
    "rocket",
    "matrix",
    "depot",
    "branch",
    "abstract",
    "checkout",
    "composer",
    "kerberos",
    "couchdb",
];

/// Digests of nothing (the empty input): documentation and tests, never a credential.
const EMPTY_DIGESTS: [&str; 4] = [
    "d41d8cd98f00b204e9800998ecf8427e",
    "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
];

/// Parts of a name that say the value is public or a digest, not a credential.
const NOT_SECRET_NAMES: [&str; 16] = [
    "hash",
    "checksum",
    "digest",
    "sha1",
    "sha256",
    "sha512",
    "md5",
    "etag",
    "fingerprint",
    "integrity",
    "public",
    "publishable",
    "uuid",
    "_id",
    "-id",
    "thumbprint",
];

/// Values that say "test", whatever their shape.
const TEST_WORDS: [&str; 7] = ["test", "fake", "mock", "demo", "foobar", "lorem", "invalid"];

/// Judge a candidate `secret` of `rule`, given the name it was assigned to (a generic rule's
/// `name` group). `None`: not a finding at all.
pub fn assess(
    rule: &Rule,
    secret: &[u8],
    name: Option<&[u8]>,
    owners: &Owners,
    rules: &[Arc<Rule>],
) -> Option<Assessment> {
    let bits = entropy(secret);
    let shape = format!("entropy {bits:.1} bits/char, {} chars", secret.len());
    if rule.provider != GENERIC_PROVIDER {
        let mut reasons = vec![format!("{} format", rule.provider)];
        let mut confidence = rule.confidence;
        if let Some(c) = rule.checksum {
            reasons.insert(0, checksum_reason(c));
            confidence = Confidence::High;
        }
        reasons.push(shape);
        return Some(Assessment {
            confidence,
            reasons,
        });
    }
    let lower = secret.to_ascii_lowercase();
    if EMPTY_DIGESTS.iter().any(|d| lower == d.as_bytes()) {
        return None;
    }
    if owners.prefix_owner(secret).is_some() {
        return None;
    }
    let mut reasons = Vec::new();
    let mut strong_name = true;
    if let Some(name) = name {
        let lname = name.to_ascii_lowercase();
        if NOT_SECRET_NAMES
            .iter()
            .any(|w| memchr::memmem::find(&lname, w.as_bytes()).is_some())
        {
            return None;
        }
        if let Some(owned) = owners.name_owners(name) {
            // Named after a provider: the value must have that provider's shape. Its rules see
            // it in the plainest assignment (their own context may be narrower than ours).
            let provider = owned
                .iter()
                .filter_map(|&i| rules.get(i))
                .find(|r| takes_value(r, name, secret))?;
            reasons.push(format!("{} value shape", provider.provider));
        }
        strong_name = lname != b"key" && lname != b"\"key\"" && lname != b"'key'";
        let shown: String = String::from_utf8_lossy(&name[..name.len().min(48)]).into_owned();
        reasons.push(format!("keyword: {shown}"));
    }
    let passwordish = name.is_some_and(|n| {
        let n = n.to_ascii_lowercase();
        ["pass", "pwd"]
            .iter()
            .any(|w| memchr::memmem::find(&n, w.as_bytes()).is_some())
    });
    let hex = secret.iter().all(u8::is_ascii_hexdigit);
    let strong_value = if passwordish {
        secret.len() >= 12 && bits >= 3.2
    } else if hex {
        secret.len() >= 24 && bits >= 3.0
    } else {
        secret.len() >= 16 && bits >= 3.5
    };
    let testish = TEST_WORDS
        .iter()
        .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some());
    reasons.push(shape);
    let confidence = if testish {
        reasons.push("value reads as a test value".into());
        Confidence::Low
    } else if strong_value && strong_name {
        rule.confidence
    } else {
        reasons.push(if strong_name {
            "value too short or too regular to be sure".into()
        } else {
            "bare `key` name".into()
        });
        Confidence::Low
    };
    Some(Assessment {
        confidence,
        reasons,
    })
}

/// Whether `rule` accepts `secret` assigned to `name` as `name = "secret"`.
fn takes_value(rule: &Rule, name: &[u8], secret: &[u8]) -> bool {
    let Ok(regex) = rule.regex() else {
        return false;
    };
    let probe = [name, b" = \"", secret, b"\""].concat();
    regex.captures_iter(&probe).any(|caps| {
        caps.name("secret")
            .or_else(|| caps.get(1))
            .or_else(|| caps.get(0))
            .is_some_and(|m| m.as_bytes() == secret)
    }) && rule.checksum.is_none_or(|c| c.accepts(secret))
}

fn checksum_reason(c: Checksum) -> String {
    format!("checksum: {} valid", c.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::builtin;

    fn rule(id: &str) -> Arc<Rule> {
        builtin::rules()
            .unwrap()
            .iter()
            .find(|r| r.id == id)
            .cloned()
            .unwrap()
    }

    #[test]
    fn generic_hits_are_judged_by_shape_name_and_owner() {
        let rules = builtin::rules().unwrap();
        let owners = Owners::new(rules);
        let generic = rule("generic-secret-setting");
        let judge = |secret: &str, name: &str| {
            assess(
                &generic,
                secret.as_bytes(),
                Some(name.as_bytes()),
                &owners,
                rules,
            )
            .map(|a| a.confidence)
        };
        let cases = [
            (
                "strong",
                "Qm9v7Lk2Wx8Rt4Pz1Nc6Hd3J",
                "APP_SECRET",
                Some(Confidence::Medium),
            ),
            (
                "short password",
                "Zr8q2Kx5Lm0T",
                "DB_PASSWORD",
                Some(Confidence::Medium),
            ),
            (
                "short token",
                "Zr8q2Kx5Lm0T",
                "AUTH_TOKEN",
                Some(Confidence::Low),
            ),
            (
                "test value",
                "test9v7Lk2Wx8Rt4Pz1Nc6H",
                "APP_SECRET",
                Some(Confidence::Low),
            ),
            (
                "empty sha256",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "token",
                None,
            ),
            (
                "a digest by name",
                "9c1e5a7b3d2f4e6a8b0c9d1e3f5a7b2c",
                "token_hash",
                None,
            ),
            (
                "provider prefix near-miss",
                "ghp_Qm9v7Lk2Wx8Rt4Pz1Nc6",
                "TOKEN",
                None,
            ),
            (
                "bare key",
                "Qm9v7Lk2Wx8Rt4Pz1Nc6Hd3J",
                "key",
                Some(Confidence::Low),
            ),
        ];
        for (what, secret, name, want) in cases {
            assert_eq!(judge(secret, name), want, "{what}");
        }
    }

    #[test]
    fn provider_formats_keep_their_confidence_and_checksums_raise_it() {
        let rules = builtin::rules().unwrap();
        let owners = Owners::new(rules);
        let github = rule("github-pat-classic");
        let a = assess(&github, b"ghp_0123", None, &owners, rules).unwrap();
        assert_eq!(a.confidence, Confidence::High);
        assert_eq!(a.reasons[0], "checksum: github valid");
    }
}
