//! `vouch keys add|list|retire|compromise`: manage the repository's trusted signers.
//!
//! Edits the working tree's `.vouch/` (the allowed-signers file, `keys/*.asc`, and the
//! `[signatures]` retired/compromised lists of `policy.toml`, comments and layout kept); the user
//! commits the change, and it takes effect once merged into the branch it protects.

use crate::exit::{Outcome, UsageError};
use crate::output::Output;
use anyhow::Context as _;
use std::path::{Path, PathBuf};
use vouch_rules::policy::{Policy, PolicyFiles, POLICY_PATH};
use vouch_rules::report::Format;
use vouch_rules::sanitize::for_terminal;
use vouch_rules::signatures::{allowed_signers, iso, openpgp};

/// Print a line on stdout; a closed pipe (`| head`) is not an error.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Trust a signer: an SSH public key (.pub) or an OpenPGP key (.asc file or --gpg KEYID).
    Add(AddArgs),
    /// List the trusted signers with their keys, identities and state.
    List,
    /// Retire a key: signatures made before --since stay valid, later ones fail.
    Retire(RetireArgs),
    /// Mark a key compromised: every signature by it fails, except on --exempt commits.
    Compromise(CompromiseArgs),
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// An SSH public key file (`~/.ssh/id_ed25519.pub`) or an armoured OpenPGP public key.
    #[arg(required_unless_present = "gpg", conflicts_with = "gpg")]
    pub file: Option<PathBuf>,
    /// Export the OpenPGP key KEYID from your keyring (`gpg --export --armor KEYID`).
    #[arg(long, value_name = "KEYID")]
    pub gpg: Option<String>,
    /// An e-mail the signer commits as (repeatable). Required for SSH keys; for OpenPGP keys,
    /// each must be one of the key's user IDs.
    #[arg(long = "identity", value_name = "EMAIL")]
    pub identities: Vec<String>,
    /// OpenPGP: the signer's name, the file stem under the keys folder (default: the first
    /// identity's part before `@`).
    #[arg(long)]
    pub name: Option<String>,
    /// SSH: the key is valid from this date (YYYY-MM-DD), written as `valid-after`.
    #[arg(long, value_name = "DATE")]
    pub valid_after: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct RetireArgs {
    /// The key: `SHA256:…`, an OpenPGP fingerprint, or its .pub/.asc file.
    pub key: String,
    /// Retirement date (RFC 3339 or YYYY-MM-DD); default: now.
    #[arg(long)]
    pub since: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct CompromiseArgs {
    /// The key: `SHA256:…`, an OpenPGP fingerprint, or its .pub/.asc file.
    pub key: String,
    /// Known-good commits signed by the key, exempt from the rule (repeatable; any revision).
    #[arg(long, value_name = "COMMIT")]
    pub exempt: Vec<String>,
}

pub fn run(c: Command, out: &Output) -> anyhow::Result<Outcome> {
    let root = workdir()?;
    match c {
        Command::Add(a) => add(&root, a),
        Command::List => list(&root, out),
        Command::Retire(a) => retire(&root, a),
        Command::Compromise(a) => compromise(&root, a),
    }
}

fn workdir() -> anyhow::Result<PathBuf> {
    let repo = super::open_repo()?;
    repo.workdir().map(Path::to_path_buf).ok_or_else(|| {
        UsageError::new("this repository has no working tree")
            .hint("run `vouch keys` in a clone, then commit and push the .vouch/ change")
            .into()
    })
}

/// The working tree's policy (for the file locations), or the defaults when there is none.
fn working_policy(root: &Path) -> anyhow::Result<Policy> {
    let files = PolicyFiles::from_dir(root)?;
    Ok(match Policy::load(files.clone())? {
        Some(p) => p,
        None => {
            let mut p = Policy::builtin();
            p.files = files;
            p
        }
    })
}

fn read_key_input(a: &AddArgs) -> anyhow::Result<Vec<u8>> {
    if let Some(id) = &a.gpg {
        let output = std::process::Command::new("gpg")
            .args(["--export", "--armor", id])
            .output()
            .context("cannot run gpg")?;
        if !output.status.success() || output.stdout.is_empty() {
            return Err(UsageError::new(format!("gpg has no public key {id:?}"))
                .hint("list your keys with `gpg --list-keys`")
                .into());
        }
        return Ok(output.stdout);
    }
    let file = a.file.as_deref().unwrap_or(Path::new(""));
    std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))
}

fn add(root: &Path, a: AddArgs) -> anyhow::Result<Outcome> {
    let policy = working_policy(root)?;
    let bytes = read_key_input(&a)?;
    let text = String::from_utf8_lossy(&bytes);
    if text
        .trim_start()
        .starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    {
        add_pgp(root, &policy, &a, &bytes)
    } else {
        add_ssh(root, &policy, &a, text.trim())
    }
}

fn add_pgp(root: &Path, policy: &Policy, a: &AddArgs, bytes: &[u8]) -> anyhow::Result<Outcome> {
    let certs = openpgp::parse_certificates(bytes).map_err(UsageError::new)?;
    let ids: Vec<String> = certs.iter().flat_map(|c| c.identities.clone()).collect();
    for wanted in &a.identities {
        if !ids.iter().any(|i| i.eq_ignore_ascii_case(wanted)) {
            return Err(UsageError::new(format!(
                "the key has no user ID for {wanted} (it has: {})",
                ids.join(", ")
            ))
            .hint(format!(
                "add one with `gpg --quick-add-uid KEYID 'Name <{wanted}>'` and export again"
            ))
            .into());
        }
    }
    let fingerprints: Vec<String> = certs
        .iter()
        .flat_map(|c| c.keys.iter().map(|k| k.primary_fingerprint.clone()))
        .collect();
    if fingerprints.is_empty() {
        return Err(
            UsageError::new("the key has no signing-capable key or subkey")
                .hint("add a signing subkey with `gpg --quick-add-key FINGERPRINT ed25519 sign`")
                .into(),
        );
    }
    let name = match &a.name {
        Some(n) => n.clone(),
        None => ids
            .first()
            .and_then(|e| e.split('@').next())
            .unwrap_or("signer")
            .to_string(),
    };
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(
            UsageError::new(format!("{name:?} is not a usable signer name"))
                .hint("pass --name with letters, digits, '-' or '_'")
                .into(),
        );
    }
    let rel = format!("{}/{name}.asc", policy.signatures.keys_dir);
    let path = root.join(&rel);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let replaced = path.exists();
    std::fs::write(&path, bytes).with_context(|| format!("cannot write {rel}"))?;
    say!(
        "{} OpenPGP signer {} ({}) for {}",
        if replaced { "updated" } else { "added" },
        for_terminal(&name),
        fingerprints.join(", "),
        for_terminal(&ids.join(", "))
    );
    commit_hint(&rel, &format!("trust {name}'s OpenPGP key"));
    Ok(Outcome::Pass)
}

fn add_ssh(root: &Path, policy: &Policy, a: &AddArgs, key: &str) -> anyhow::Result<Outcome> {
    if a.identities.is_empty() {
        return Err(UsageError::new("an SSH key needs at least one --identity")
            .hint("pass the e-mail the signer commits as: --identity alice@example.com")
            .into());
    }
    if a.identities.iter().any(|i| i.contains([',', ' ', '"'])) {
        return Err(
            UsageError::new("an identity may not contain commas, spaces or quotes")
                .hint("pass one e-mail per --identity")
                .into(),
        );
    }
    let mut options = vec!["namespaces=\"git\"".to_string()];
    if let Some(date) = &a.valid_after {
        let t = vouch_rules::time::parse_rfc3339(date).ok_or_else(|| {
            UsageError::new(format!("{date:?} is not a date")).hint("write YYYY-MM-DD")
        })?;
        options.push(format!(
            "valid-after=\"{}\"",
            iso(t).get(..10).unwrap_or("").replace('-', "")
        ));
    }
    let line = format!(
        "{} {} {}",
        a.identities.join(","),
        options.join(","),
        key.lines().next().unwrap_or("")
    );
    let parsed = allowed_signers::parse(&line, "the key").map_err(|e| {
        UsageError::new(format!("not an SSH public key: {e}"))
            .hint("pass the .pub file (e.g. ~/.ssh/id_ed25519.pub), not the private key")
    })?;
    let fingerprint = parsed
        .first()
        .map(|s| s.fingerprint.clone())
        .unwrap_or_default();
    let rel = policy.signatures.allowed_signers.clone();
    let path = root.join(&rel);
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    let existing = allowed_signers::parse(&text, &rel)?;
    if existing
        .iter()
        .any(|s| s.fingerprint == fingerprint && a.identities.iter().all(|i| s.allows(i)))
    {
        say!(
            "{fingerprint} is already trusted for {}",
            for_terminal(&a.identities.join(", "))
        );
        return Ok(Outcome::Pass);
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&line);
    text.push('\n');
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(&path, text).with_context(|| format!("cannot write {rel}"))?;
    say!(
        "added SSH key {fingerprint} for {}",
        for_terminal(&a.identities.join(", "))
    );
    commit_hint(&rel, &format!("trust {fingerprint}"));
    Ok(Outcome::Pass)
}

fn commit_hint(path: &str, what: &str) {
    say!("now commit it and get it merged: git add {path} && git commit -S -m \"vouch: {what}\"");
}

fn list(root: &Path, out: &Output) -> anyhow::Result<Outcome> {
    let policy = working_policy(root)?;
    let trust = vouch_rules::signatures::load(&policy)?;
    let rows = vouch_rules::signatures::roster::roster(
        &trust,
        &policy.signatures,
        vouch_rules::time::unix_now(),
    );
    if out.format == Format::Json {
        say!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(Outcome::Pass);
    }
    if rows.is_empty() {
        say!(
            "no signers: add one with `vouch keys add ~/.ssh/id_ed25519.pub --identity you@example.com`"
        );
    }
    for r in rows {
        say!(
            "{:7} {:<24} {:<40} {}{}",
            r.kind,
            for_terminal(&r.signer),
            r.fingerprint,
            for_terminal(&r.identities.join(",")),
            if r.state.is_empty() {
                String::new()
            } else {
                format!("  [{}]", for_terminal(&r.state.join("; ")))
            }
        );
    }
    Ok(Outcome::Pass)
}

/// A fingerprint from what the user typed: `SHA256:…`, hex, or a key file.
fn fingerprint_of(arg: &str) -> anyhow::Result<String> {
    let path = Path::new(arg);
    if path.is_file() {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {arg}"))?;
        let text = String::from_utf8_lossy(&bytes);
        if text
            .trim_start()
            .starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----")
        {
            let certs = openpgp::parse_certificates(&bytes).map_err(UsageError::new)?;
            return certs
                .first()
                .and_then(|c| c.keys.first())
                .map(|k| k.primary_fingerprint.clone())
                .ok_or_else(|| UsageError::new("the key has no signing key").into());
        }
        let line = format!("x {}", text.trim());
        let parsed = allowed_signers::parse(&line, arg)
            .map_err(|e| UsageError::new(format!("not a key file: {e}")))?;
        return Ok(parsed
            .first()
            .map(|s| s.fingerprint.clone())
            .unwrap_or_default());
    }
    if let Some(fp) = vouch_rules::signatures::fingerprint::parse(arg) {
        return Ok(fp);
    }
    Err(UsageError::new(format!("{arg:?} is not a key fingerprint or key file"))
        .hint("pass `SHA256:…` (ssh-keygen -lf KEY.pub), an OpenPGP fingerprint, or the key file; `vouch keys list` shows them")
        .into())
}

/// Edit `[signatures]` in the working tree's policy, keeping comments and layout, and check
/// the result still validates.
fn edit_policy(root: &Path, edit: impl FnOnce(&mut toml_edit::Table)) -> anyhow::Result<()> {
    let path = root.join(POLICY_PATH);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        UsageError::new(format!("cannot read {POLICY_PATH}: {e}"))
            .hint("create the policy first with `vouch init`")
    })?;
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| UsageError::new(format!("{POLICY_PATH} is not valid TOML: {e}")))?;
    let table = doc
        .entry("signatures")
        .or_insert_with(toml_edit::table)
        .as_table_mut()
        .ok_or_else(|| UsageError::new(format!("`signatures` in {POLICY_PATH} is not a table")))?;
    edit(table);
    let new = doc.to_string();
    vouch_rules::policy::Policy::parse(
        &new,
        POLICY_PATH,
        vouch_rules::policy::Origin::File {
            origin: String::new(),
        },
        String::new(),
        PolicyFiles::new(""),
    )?;
    std::fs::write(&path, new).with_context(|| format!("cannot write {POLICY_PATH}"))?;
    Ok(())
}

fn retire(root: &Path, a: RetireArgs) -> anyhow::Result<Outcome> {
    let fp = fingerprint_of(&a.key)?;
    let since = match &a.since {
        Some(s) => vouch_rules::time::parse_rfc3339(s).ok_or_else(|| {
            UsageError::new(format!("{s:?} is not a date"))
                .hint("write YYYY-MM-DD or an RFC 3339 time")
        })?,
        None => vouch_rules::change::unix_now(),
    };
    let since_text = iso(since);
    edit_policy(root, |t| {
        let list = t.entry("retired").or_insert(toml_edit::Item::ArrayOfTables(
            toml_edit::ArrayOfTables::new(),
        ));
        if let Some(arr) = list.as_array_of_tables_mut() {
            let mut entry = toml_edit::Table::new();
            entry["key"] = toml_edit::value(fp.clone());
            entry["since"] = toml_edit::value(since_text.clone());
            arr.push(entry);
        }
    })?;
    say!("retired {fp} from {since_text}: signatures made before stay valid");
    commit_hint(POLICY_PATH, &format!("retire {fp}"));
    Ok(Outcome::Pass)
}

fn compromise(root: &Path, a: CompromiseArgs) -> anyhow::Result<Outcome> {
    let fp = fingerprint_of(&a.key)?;
    let mut exempt = Vec::new();
    if !a.exempt.is_empty() {
        let repo = super::open_repo()?;
        for rev in &a.exempt {
            let id = repo
                .revparse_single(rev)
                .and_then(|o| o.peel_to_commit())
                .map_err(|e| UsageError::new(format!("cannot resolve {rev:?}: {}", e.message())))?
                .id();
            exempt.push(id.to_string());
        }
    }
    edit_policy(root, |t| {
        push_unique(t, "compromised", std::slice::from_ref(&fp));
        push_unique(t, "exempt_commits", &exempt);
    })?;
    say!(
        "marked {fp} compromised: every signature by it now fails{}",
        if exempt.is_empty() {
            String::new()
        } else {
            format!(" except on {} exempt commit(s)", exempt.len())
        }
    );
    commit_hint(POLICY_PATH, &format!("{fp} is compromised"));
    Ok(Outcome::Pass)
}

fn push_unique(table: &mut toml_edit::Table, key: &str, values: &[String]) {
    if values.is_empty() {
        return;
    }
    let item = table
        .entry(key)
        .or_insert(toml_edit::value(toml_edit::Array::new()));
    if let Some(arr) = item.as_array_mut() {
        for v in values {
            if !arr.iter().any(|x| x.as_str() == Some(v)) {
                arr.push(v.as_str());
            }
        }
    }
}
