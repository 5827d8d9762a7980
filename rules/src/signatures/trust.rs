//! Who the policy trusts to sign: SSH signers from the allowed-signers file and OpenPGP signers
//! from the keys folder, read from the policy snapshot (the target branch), indexed by key.

use super::allowed_signers::{self, AllowedSigner};
use super::openpgp::{self, PgpKey};
use crate::policy::{Policy, PolicyError, Position};
use std::collections::HashMap;

/// An OpenPGP signer: one `.asc` file.
#[derive(Debug, Clone)]
pub struct PgpSigner {
    /// The file's stem: `alice` for `.vouch/keys/alice.asc`.
    pub name: String,
    /// The file, for messages.
    pub file: String,
    /// E-mails from the certificates' valid user IDs.
    pub identities: Vec<String>,
    pub keys: Vec<PgpKey>,
}

/// Everything the policy trusts, ready for fast lookup.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    pub ssh: Vec<AllowedSigner>,
    pub pgp: Vec<PgpSigner>,
    /// `SHA256:…` → lines naming that key (plain keys only).
    ssh_keys: HashMap<String, Vec<usize>>,
    /// `SHA256:…` → `cert-authority` lines naming that CA key.
    ssh_cas: HashMap<String, Vec<usize>>,
    /// Upper-case hex fingerprint or key id → (signer, key).
    pgp_keys: HashMap<String, Vec<(usize, usize)>>,
    /// Where the SSH signers came from, for messages.
    pub allowed_signers_file: String,
}

impl Trust {
    /// Build the index from parsed signers.
    pub fn new(ssh: Vec<AllowedSigner>, pgp: Vec<PgpSigner>, allowed_signers_file: String) -> Self {
        let mut trust = Trust {
            ssh,
            pgp,
            allowed_signers_file,
            ..Trust::default()
        };
        for (i, line) in trust.ssh.iter().enumerate() {
            let map = if line.cert_authority {
                &mut trust.ssh_cas
            } else {
                &mut trust.ssh_keys
            };
            map.entry(line.fingerprint.clone()).or_default().push(i);
        }
        for (s, signer) in trust.pgp.iter().enumerate() {
            for (k, key) in signer.keys.iter().enumerate() {
                for id in [&key.fingerprint, &key.key_id] {
                    trust.pgp_keys.entry(id.clone()).or_default().push((s, k));
                }
            }
        }
        trust
    }

    /// Allowed-signers lines for a plain SSH key.
    pub fn ssh_lines(&self, fingerprint: &str) -> impl Iterator<Item = &AllowedSigner> {
        self.ssh_keys
            .get(fingerprint)
            .into_iter()
            .flatten()
            .map(|&i| &self.ssh[i])
    }

    /// `cert-authority` lines for a CA key.
    pub fn ssh_ca_lines(&self, fingerprint: &str) -> impl Iterator<Item = &AllowedSigner> {
        self.ssh_cas
            .get(fingerprint)
            .into_iter()
            .flatten()
            .map(|&i| &self.ssh[i])
    }

    /// OpenPGP keys matching any of `issuers` (fingerprints or key ids), each once.
    pub fn pgp_keys(&self, issuers: &[String]) -> Vec<(&PgpSigner, &PgpKey)> {
        let mut seen = Vec::new();
        for issuer in issuers {
            for &(s, k) in self.pgp_keys.get(issuer).into_iter().flatten() {
                if !seen.contains(&(s, k)) {
                    seen.push((s, k));
                }
            }
        }
        seen.into_iter()
            .map(|(s, k)| (&self.pgp[s], &self.pgp[s].keys[k]))
            .collect()
    }

    /// True when the policy trusts no key at all.
    pub fn is_empty(&self) -> bool {
        self.ssh.is_empty() && self.pgp.is_empty()
    }
}

/// Load the signers the policy points at. Missing files mean no signers of that kind; malformed
/// ones are errors naming file, line and fix.
pub fn load(policy: &Policy) -> Result<Trust, PolicyError> {
    let files = &policy.files;
    let path = policy.signatures.allowed_signers.as_str();
    let display = files.display(path);
    let ssh = match files.get(path) {
        Some(bytes) => {
            let text = std::str::from_utf8(bytes).map_err(|e| {
                let text = String::from_utf8_lossy(bytes);
                PolicyError::invalid(
                    Position::of(&display, &text, e.valid_up_to()),
                    "the file is not UTF-8 text",
                )
                .with_hint("save the allowed-signers file as UTF-8")
            })?;
            allowed_signers::parse(text, &display)?
        }
        None => Vec::new(),
    };
    let mut pgp = Vec::new();
    for (path, bytes) in files.under(&policy.signatures.keys_dir) {
        let Some(name) = path.rsplit('/').next().and_then(|f| f.strip_suffix(".asc")) else {
            continue;
        };
        let display = files.display(path);
        let certs = openpgp::parse_certificates(bytes).map_err(|e| {
            PolicyError::invalid(Position::of(&display, "", 0), e).with_hint(format!(
                "put one ASCII-armoured OpenPGP public key in {path} (`gpg --export --armor KEYID`), or run `vouch keys add --gpg KEYID`"
            ))
        })?;
        let mut signer = PgpSigner {
            name: name.to_string(),
            file: display,
            identities: Vec::new(),
            keys: Vec::new(),
        };
        for cert in certs {
            // Several certificates in one file usually share the signer's e-mail (GitHub's
            // web-flow file: the 2017 key and the 2024 key, both noreply@github.com).
            for id in cert.identities {
                if !signer.identities.contains(&id) {
                    signer.identities.push(id);
                }
            }
            signer.keys.extend(cert.keys);
        }
        pgp.push(signer);
    }
    Ok(Trust::new(ssh, pgp, display))
}
