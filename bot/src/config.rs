//! `bot.toml`: where the bot listens, keeps its queue and mirrors, and how it signs in to
//! GitHub. Every key can be overridden by a `VOUCH_BOT_<KEY>` environment variable (the
//! `[github]` keys as `VOUCH_BOT_GITHUB_<KEY>`), so a container needs no file at all.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A configuration that cannot be used, naming the file or variable and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{what}: {message}; {fix}")]
    Invalid {
        what: String,
        message: String,
        fix: String,
    },
}

impl ConfigError {
    fn invalid(
        what: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        ConfigError::Invalid {
            what: what.into(),
            message: message.into(),
            fix: fix.into(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    listen: Option<String>,
    database: Option<String>,
    cache_dir: Option<PathBuf>,
    cache_max_bytes: Option<u64>,
    workers: Option<usize>,
    reconcile_interval: Option<u64>,
    job_attempts: Option<u32>,
    lease_seconds: Option<u64>,
    #[serde(default)]
    github: GithubFile,
    #[serde(default)]
    merge: MergeFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeFile {
    key_path: Option<PathBuf>,
    committer_name: Option<String>,
    committer_email: Option<String>,
    pusher: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GithubFile {
    api_url: Option<String>,
    app_id: Option<u64>,
    private_key_path: Option<PathBuf>,
    webhook_secret_path: Option<PathBuf>,
}

/// The bot's settings, validated, with its secrets loaded.
#[derive(Debug)]
pub struct Config {
    pub listen: String,
    /// `sqlite://…` (a relative path is relative to the working directory) or `postgres://…`.
    pub database: String,
    pub cache_dir: PathBuf,
    pub cache_max_bytes: u64,
    pub workers: usize,
    pub reconcile_interval: Duration,
    pub job_attempts: u32,
    pub lease: Duration,
    pub github: Github,
    /// The signed merge (policy `[attestation] merge`); `None` when no merge key is configured,
    /// and the bot then only judges.
    pub merge: Option<Merger>,
}

/// Who the bot is when it makes the signed merge, and the key it signs with.
#[derive(Debug)]
pub struct Merger {
    /// An unencrypted OpenSSH Ed25519 or ECDSA P-256 private key: it signs the merge commit
    /// (git's SSH signature format) and the attestation (DSSE).
    pub key: SecretString,
    pub key_source: String,
    pub committer_name: String,
    pub committer_email: String,
    /// The identity branch protection must let push (`push_allow`), e.g. `vouch-bot[bot]`.
    pub pusher: String,
}

/// How the bot reaches GitHub and proves it is the App.
#[derive(Debug)]
pub struct Github {
    pub api_url: String,
    pub app_id: u64,
    /// The App's RSA private key, PEM (PKCS#1 or PKCS#8).
    pub private_key: SecretString,
    pub webhook_secret: SecretString,
}

fn env(key: &str) -> Option<String> {
    std::env::var(format!("VOUCH_BOT_{key}"))
        .ok()
        .filter(|v| !v.is_empty())
}

fn parse_env<T: std::str::FromStr>(key: &str) -> Result<Option<T>, ConfigError> {
    match env(key) {
        None => Ok(None),
        Some(v) => v.trim().parse().map(Some).map_err(|_| {
            ConfigError::invalid(
                format!("VOUCH_BOT_{key}"),
                format!("{v:?} is not a number"),
                "set it to a whole number",
            )
        }),
    }
}

fn read_secret(path: &Path, what: &str, fix: &str) -> Result<SecretString, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::invalid(
            format!("{what} {}", path.display()),
            format!("cannot read it ({e})"),
            fix,
        )
    })?;
    Ok(SecretString::from(text))
}

impl Config {
    /// Read `path` (if given) and apply the environment overrides.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let file = match path {
            None => File::default(),
            Some(path) => {
                let shown = path.display().to_string();
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: shown.clone(),
                    source,
                })?;
                toml::from_str::<File>(&text).map_err(|e| {
                    let (line, column) =
                        e.span().map(|s| line_col(&text, s.start)).unwrap_or((1, 1));
                    ConfigError::Syntax {
                        path: shown,
                        line,
                        column,
                        message: e.message().to_string(),
                    }
                })?
            }
        };
        let listen = env("LISTEN")
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        if listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError::invalid(
                "listen",
                format!("{listen:?} is not an address and port"),
                "write it as \"127.0.0.1:8080\" or \"0.0.0.0:8080\"",
            ));
        }
        let database = env("DATABASE")
            .or(file.database)
            .unwrap_or_else(|| "sqlite://vouch-bot.db".into());
        if !(database.starts_with("sqlite:")
            || database.starts_with("postgres://")
            || database.starts_with("postgresql://"))
        {
            return Err(ConfigError::invalid(
                "database",
                format!("{database:?} is neither sqlite nor postgres"),
                "use \"sqlite://vouch-bot.db\" (one replica) or \"postgres://user@host/db\" (several)",
            ));
        }
        let cache_dir = env("CACHE_DIR")
            .map(PathBuf::from)
            .or(file.cache_dir)
            .unwrap_or_else(|| PathBuf::from("vouch-bot-cache"));
        let cache_max_bytes = parse_env("CACHE_MAX_BYTES")?
            .or(file.cache_max_bytes)
            .unwrap_or(10 << 30);
        let workers = parse_env("WORKERS")?.or(file.workers).unwrap_or(2).max(1);
        // 0 turns reconciliation off (a replica that leaves it to the others, or a test).
        let reconcile_interval = Duration::from_secs(
            parse_env("RECONCILE_INTERVAL")?
                .or(file.reconcile_interval)
                .unwrap_or(900),
        );
        let job_attempts = parse_env("JOB_ATTEMPTS")?
            .or(file.job_attempts)
            .unwrap_or(6)
            .max(1);
        let lease = Duration::from_secs(
            parse_env("LEASE_SECONDS")?
                .or(file.lease_seconds)
                .unwrap_or(120)
                .max(5),
        );

        let g = file.github;
        let api_url = env("GITHUB_API_URL")
            .or(g.api_url)
            .unwrap_or_else(|| "https://api.github.com".into())
            .trim_end_matches('/')
            .to_string();
        if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
            return Err(ConfigError::invalid(
                "github.api_url",
                format!("{api_url:?} is not an http(s) URL"),
                "use \"https://api.github.com\" or your GitHub Enterprise \"https://HOST/api/v3\"",
            ));
        }
        let app_id = parse_env("GITHUB_APP_ID")?.or(g.app_id).ok_or_else(|| {
            ConfigError::invalid(
                "github.app_id",
                "missing",
                "set app_id to the App's id (its settings page, \"App ID\")",
            )
        })?;
        let private_key = match env("GITHUB_PRIVATE_KEY") {
            Some(pem) => SecretString::from(pem),
            None => {
                let path = env("GITHUB_PRIVATE_KEY_PATH")
                    .map(PathBuf::from)
                    .or(g.private_key_path)
                    .ok_or_else(|| {
                        ConfigError::invalid(
                            "github.private_key_path",
                            "missing",
                            "point it at the App's private key (.pem), or put the key itself in VOUCH_BOT_GITHUB_PRIVATE_KEY",
                        )
                    })?;
                read_secret(
                    &path,
                    "github.private_key_path",
                    "download a private key from the App's settings and make it readable by the bot only",
                )?
            }
        };
        if jsonwebtoken::EncodingKey::from_rsa_pem(private_key.expose_secret().as_bytes()).is_err()
        {
            return Err(ConfigError::invalid(
                "github private key",
                "not an RSA private key in PEM (PKCS#1 or PKCS#8)",
                "use the .pem file GitHub generated for the App, unchanged",
            ));
        }
        let webhook_secret = match env("GITHUB_WEBHOOK_SECRET") {
            Some(s) => SecretString::from(s),
            None => {
                let path = env("GITHUB_WEBHOOK_SECRET_PATH")
                    .map(PathBuf::from)
                    .or(g.webhook_secret_path)
                    .ok_or_else(|| {
                        ConfigError::invalid(
                            "github.webhook_secret_path",
                            "missing",
                            "point it at a file holding the App's webhook secret, or set VOUCH_BOT_GITHUB_WEBHOOK_SECRET",
                        )
                    })?;
                let s = read_secret(
                    &path,
                    "github.webhook_secret_path",
                    "write the App's webhook secret into that file",
                )?;
                // Files usually end with a newline the secret does not have.
                SecretString::from(s.expose_secret().trim_end_matches(['\r', '\n']).to_string())
            }
        };
        if webhook_secret.expose_secret().is_empty() {
            return Err(ConfigError::invalid(
                "webhook secret",
                "empty",
                "set a long random secret in the App's settings and here (`openssl rand -hex 32`)",
            ));
        }
        let m = file.merge;
        let merge = match env("MERGE_KEY_PATH").map(PathBuf::from).or(m.key_path) {
            None => None,
            Some(path) => {
                let key = read_secret(
                    &path,
                    "merge.key_path",
                    "make one with `ssh-keygen -t ed25519 -N '' -f merge-key` and make it readable by the bot only",
                )?;
                let key_source = format!("merge.key_path {}", path.display());
                if let Err(e) = vouch_rules::attest::keys::SigningKey::from_openssh(
                    key.expose_secret(),
                    &key_source,
                ) {
                    return Err(ConfigError::invalid(key_source, e.to_string(), e.hint()));
                }
                Some(Merger {
                    key,
                    key_source,
                    committer_name: env("MERGE_COMMITTER_NAME")
                        .or(m.committer_name)
                        .unwrap_or_else(|| "vouch-bot".into()),
                    committer_email: env("MERGE_COMMITTER_EMAIL")
                        .or(m.committer_email)
                        .unwrap_or_else(|| "vouch-bot@users.noreply.github.com".into()),
                    pusher: env("MERGE_PUSHER")
                        .or(m.pusher)
                        .unwrap_or_else(|| "vouch-bot[bot]".into()),
                })
            }
        };
        Ok(Config {
            merge,
            listen,
            database,
            cache_dir,
            cache_max_bytes,
            workers,
            reconcile_interval,
            job_attempts,
            lease,
            github: Github {
                api_url,
                app_id,
                private_key,
                webhook_secret,
            },
        })
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, column)
}
