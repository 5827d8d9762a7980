//! git's and OpenSSH's allowed-signers file (`ssh-keygen(1)`, "ALLOWED SIGNERS"), parsed so the
//! same file works as git's `gpg.ssh.allowedSignersFile`.
//!
//! One signer per line: `principals [options] keytype base64-key [comment]`. Principals are a
//! comma-separated list of patterns (`*`, `?`, `!` negation), optionally in double quotes.
//! Options: `cert-authority`, `namespaces="git,…"`, `valid-after=`, `valid-before=`
//! (`YYYYMMDD[HHMM[SS]][Z]`). `#` starts a comment line.

use crate::policy::{PolicyError, Position};
use ssh_key::{HashAlg, PublicKey};

/// One line of an allowed-signers file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedSigner {
    /// Principal patterns, as written (comma-separated in the file).
    pub principals: Vec<String>,
    /// The key is a certificate authority: it vouches for certificates, not signatures.
    pub cert_authority: bool,
    /// `namespaces=`; `None` means every namespace.
    pub namespaces: Option<Vec<String>>,
    /// Unix seconds, inclusive.
    pub valid_after: Option<i64>,
    /// Unix seconds, exclusive.
    pub valid_before: Option<i64>,
    pub key: PublicKey,
    /// An Ed25519 key decoded once, so each signature skips the point decompression.
    pub ed25519: Option<ed25519_dalek::VerifyingKey>,
    /// `SHA256:…`, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    /// 1-based line in the file.
    pub line: usize,
}

impl AllowedSigner {
    /// Whether the principal patterns accept `principal` (OpenSSH `match_pattern_list`).
    pub fn allows(&self, principal: &str) -> bool {
        pattern_list_matches(principal, &self.principals)
    }

    /// Whether the line is usable for `namespace`.
    pub fn allows_namespace(&self, namespace: &str) -> bool {
        self.namespaces
            .as_ref()
            .is_none_or(|ns| pattern_list_matches(namespace, ns))
    }

    /// Whether `time` (Unix seconds) lies in the line's validity window.
    pub fn valid_at(&self, time: i64) -> bool {
        self.valid_after.is_none_or(|a| time >= a) && self.valid_before.is_none_or(|b| time < b)
    }
}

/// Parse an allowed-signers file. `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Vec<AllowedSigner>, PolicyError> {
    let mut signers = Vec::new();
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let trimmed = body.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let lead = body.len() - trimmed.len();
        let mut cursor = Cursor {
            text: trimmed,
            pos: 0,
            base: start + lead,
            whole: text,
            file,
        };
        signers.push(cursor.signer(index + 1)?);
    }
    Ok(signers)
}

/// The options field of a line.
#[derive(Debug, Default)]
struct Options {
    cert_authority: bool,
    namespaces: Option<Vec<String>>,
    valid_after: Option<i64>,
    valid_before: Option<i64>,
}

struct Cursor<'a> {
    text: &'a str,
    pos: usize,
    base: usize,
    whole: &'a str,
    file: &'a str,
}

const FORMAT_HINT: &str =
    "write `principals [options] keytype base64-key`, e.g. `alice@example.com namespaces=\"git\" ssh-ed25519 AAAA…`, or run `vouch keys add`";

impl Cursor<'_> {
    fn error(&self, at: usize, message: impl Into<String>) -> PolicyError {
        PolicyError::invalid(Position::of(self.file, self.whole, self.base + at), message)
    }

    fn skip_space(&mut self) {
        let rest = &self.text[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// A token up to whitespace, as written (quotes kept); double-quoted sections may contain
    /// spaces.
    fn token(&mut self) -> Result<(usize, String), PolicyError> {
        self.skip_space();
        let start = self.pos;
        let mut quoted = false;
        for (i, c) in self.text[start..].char_indices() {
            match c {
                '"' => quoted = !quoted,
                c if c.is_whitespace() && !quoted => {
                    self.pos = start + i;
                    return Ok((start, self.text[start..start + i].to_string()));
                }
                _ => {}
            }
        }
        if quoted {
            return Err(self
                .error(start, "unterminated double quote")
                .with_hint("close the quoted principals or option value with `\"`"));
        }
        self.pos = self.text.len();
        Ok((start, self.text[start..].to_string()))
    }

    fn signer(&mut self, line: usize) -> Result<AllowedSigner, PolicyError> {
        let (at, principals) = self.token()?;
        let principals: Vec<String> = principals
            .replace('"', "")
            .split(',')
            .map(str::to_string)
            .collect();
        if principals.iter().any(|p| p.trim().is_empty()) {
            return Err(self.error(at, "empty principal").with_hint(
                "list principals (e-mail addresses) separated by commas, without spaces",
            ));
        }
        let mut options = Options::default();
        let (at, word) = self.token()?;
        if word.is_empty() {
            return Err(self
                .error(at, "a key is missing after the principals")
                .with_hint(FORMAT_HINT));
        }
        let (key_at, key_type) = if is_key_type(&word) {
            (at, word)
        } else {
            options = self.options(at, &word)?;
            let (at, word) = self.token()?;
            if word.is_empty() {
                return Err(self
                    .error(at, "a key is missing after the options")
                    .with_hint(FORMAT_HINT));
            }
            (at, word)
        };
        let (_, blob) = self.token()?;
        let comment = self.text[self.pos..].trim();
        let key = PublicKey::from_openssh(&format!("{key_type} {blob}")).map_err(|e| {
            self.error(key_at, format!("not an SSH public key ({e}): `{key_type}`"))
                .with_hint("paste the whole line of the .pub file: key type, then the base64 key")
        })?;
        Ok(AllowedSigner {
            principals,
            cert_authority: options.cert_authority,
            namespaces: options.namespaces,
            valid_after: options.valid_after,
            valid_before: options.valid_before,
            fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
            ed25519: key
                .key_data()
                .ed25519()
                .and_then(|k| ed25519_dalek::VerifyingKey::try_from(k).ok()),
            key: PublicKey::new(key.key_data().clone(), comment),
            line,
        })
    }

    fn options(&self, at: usize, word: &str) -> Result<Options, PolicyError> {
        let mut signer = Options::default();
        for option in split_options(word) {
            let (name, value) = match option.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (option, None),
            };
            let name = name.to_ascii_lowercase();
            let known = [
                "cert-authority",
                "namespaces",
                "valid-after",
                "valid-before",
            ];
            let value = if known.contains(&name.as_str()) {
                value
            } else {
                None
            };
            // OpenSSH requires option values in double quotes; so does vouch, so the file
            // means the same to both.
            let value = match value {
                Some(v) if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') => {
                    Some(&v[1..v.len() - 1])
                }
                Some(_) => {
                    return Err(self
                        .error(
                            at,
                            format!("the value of `{name}` must be in double quotes"),
                        )
                        .with_hint(format!(
                            "write {name}=\"…\" (OpenSSH refuses unquoted values too)"
                        )))
                }
                None => None,
            };
            match (name.as_str(), value) {
                ("cert-authority", None) => signer.cert_authority = true,
                ("namespaces", Some(v)) => {
                    signer.namespaces = Some(v.split(',').map(str::to_string).collect());
                }
                ("valid-after", Some(v)) => signer.valid_after = Some(self.time(at, v)?),
                ("valid-before", Some(v)) => signer.valid_before = Some(self.time(at, v)?),
                _ => {
                    return Err(self
                        .error(at, format!("unknown option or key type `{option}`"))
                        .with_hint(
                            "options are cert-authority, namespaces=\"git\", valid-after=\"YYYYMMDD\", valid-before=\"YYYYMMDD\"; key types start with ssh- or ecdsa-",
                        ))
                }
            }
        }
        Ok(signer)
    }

    fn time(&self, at: usize, value: &str) -> Result<i64, PolicyError> {
        crate::time::parse_compact(value).ok_or_else(|| {
            self.error(at, format!("`{value}` is not a time"))
                .with_hint("write YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, optionally ending in Z (vouch reads every time as UTC)")
        })
    }
}

/// Options are separated by commas outside double quotes.
fn split_options(word: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in word.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&word[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&word[start..]);
    parts
}

fn is_key_type(word: &str) -> bool {
    word.starts_with("ssh-") || word.starts_with("ecdsa-") || word.starts_with("sk-")
}

/// OpenSSH `match_pattern_list`: the last word is not "last match wins" but "any negated match
/// refuses"; otherwise any positive match accepts.
pub fn pattern_list_matches(subject: &str, patterns: &[String]) -> bool {
    let mut matched = false;
    for pattern in patterns {
        let (negated, pattern) = match pattern.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, pattern.as_str()),
        };
        if wildcard(&subject.to_ascii_lowercase(), &pattern.to_ascii_lowercase()) {
            if negated {
                return false;
            }
            matched = true;
        }
    }
    matched
}

/// `*` matches any run, `?` one character.
fn wildcard(subject: &str, pattern: &str) -> bool {
    let s: Vec<char> = subject.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    let (mut si, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            si += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIV2aPkbQu3ghS4Ld0rGTDImgaKzxiq6Ef5ucxfQkeuz";

    #[test]
    fn lines_with_options_quotes_and_comments() {
        let text = format!(
            "# team\n\nalice@example.com {KEY} laptop\n\"bob@example.com,*@bots.example.com\" namespaces=\"git,file\",valid-after=\"20260101\",valid-before=\"20270101Z\" {KEY}\n*@example.com cert-authority {KEY}\n"
        );
        let signers = parse(&text, "allowed_signers").unwrap();
        assert_eq!(signers.len(), 3);
        assert_eq!(signers[0].line, 3);
        assert_eq!(signers[0].key.comment(), "laptop");
        assert!(signers[0].fingerprint.starts_with("SHA256:"));
        assert!(signers[1].allows("ci@bots.example.com"));
        assert!(!signers[1].allows("alice@example.com"));
        assert_eq!(
            signers[1].namespaces.as_deref(),
            Some(&["git".to_string(), "file".to_string()][..])
        );
        assert_eq!(signers[1].valid_after, Some(1_767_225_600));
        assert!(!signers[1].valid_at(1_767_225_599));
        assert!(signers[1].valid_at(1_767_225_600));
        assert!(signers[2].cert_authority);
    }

    #[test]
    fn errors_name_the_line_and_the_fix() {
        let cases = [
            (
                "bad option",
                format!("a@x nope=1 {KEY}\n"),
                1,
                "unknown option",
            ),
            ("no key", "a@x\n".to_string(), 1, "key is missing"),
            (
                "bad key",
                "# c\na@x ssh-ed25519 !!!!\n".to_string(),
                2,
                "not an SSH public key",
            ),
            (
                "bad time",
                format!("a@x valid-after=\"2026\" {KEY}\n"),
                1,
                "is not a time",
            ),
            (
                "unquoted value",
                format!("a@x valid-after=20260101 {KEY}\n"),
                1,
                "double quotes",
            ),
            ("open quote", format!("\"a@x {KEY}\n"), 1, "unterminated"),
        ];
        for (name, text, line, message) in cases {
            let err = parse(&text, "f").unwrap_err();
            let PolicyError::Invalid {
                at,
                message: m,
                hint,
            } = &err
            else {
                panic!("{name}: {err:?}");
            };
            assert_eq!(at.line, line, "{name}");
            assert!(m.contains(message), "{name}: {m}");
            assert!(hint.is_some(), "{name}");
        }
    }

    #[test]
    fn patterns_as_openssh() {
        let list = |s: &str| s.split(',').map(str::to_string).collect::<Vec<_>>();
        let cases = [
            ("a@x", "a@x", true),
            ("A@X", "a@x", true),
            ("b@x", "*@x", true),
            ("b@x", "*@x,!b@x", false),
            ("b@y", "?@y", true),
            ("bb@y", "?@y", false),
            ("c@z", "a@x,b@x", false),
        ];
        for (subject, patterns, want) in cases {
            assert_eq!(
                pattern_list_matches(subject, &list(patterns)),
                want,
                "{subject} {patterns}"
            );
        }
    }
}
