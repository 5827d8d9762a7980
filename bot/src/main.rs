//! `vouch-bot serve | check-config | replay`.

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
use secrecy::ExposeSecret as _;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{watch, Notify};
use tracing::{info, warn};
use vouch_bot::config::Config;
use vouch_bot::events::{self, Plan};
use vouch_bot::github::GitHub;
use vouch_bot::metrics::Metrics;
use vouch_bot::mirror::Mirrors;
use vouch_bot::queue::{redact_url, JobKind, Queue};
use vouch_bot::server::{self, AppState};
use vouch_bot::worker::{lease_owner, Bot};

#[derive(Debug, Parser)]
#[command(
    name = "vouch-bot",
    version,
    about = "The vouch GitHub App: every pull request judged, shown as a check run"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve webhooks and judge pull requests until SIGTERM.
    Serve {
        /// The bot's configuration (see examples/bot/bot.toml); VOUCH_BOT_* variables override it.
        #[arg(long, value_name = "FILE", env = "VOUCH_BOT_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Check the configuration, the App key, the database and the cache folder, then exit.
    CheckConfig {
        #[arg(long, value_name = "FILE", env = "VOUCH_BOT_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Judge a saved delivery and print the check run it would post, without posting it.
    Replay {
        #[arg(long, value_name = "FILE", env = "VOUCH_BOT_CONFIG")]
        config: Option<PathBuf>,
        /// The delivery's event (its X-GitHub-Event header), e.g. pull_request.
        event: String,
        /// The delivery's JSON payload.
        payload: PathBuf,
        /// Also write the pull request facts it was judged with here (for `vouch check --pull-request`).
        #[arg(long, value_name = "FILE")]
        facts_out: Option<PathBuf>,
    },
}

fn logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("VOUCH_BOT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

async fn build(config: Config) -> anyhow::Result<Arc<Bot>> {
    let metrics = Arc::new(Metrics::new());
    let github = GitHub::new(
        &config.github.api_url,
        config.github.app_id,
        &config.github.private_key,
        Arc::clone(&metrics),
    )
    .context("the GitHub App private key (github.private_key_path) cannot be used")?;
    let queue = Queue::open(&config.database).await?;
    let mirrors = Mirrors::new(&config.cache_dir, config.cache_max_bytes)?;
    Ok(Arc::new(Bot {
        config: Arc::new(config),
        queue,
        github,
        mirrors,
        metrics,
        wake: Notify::new(),
        owner: lease_owner(),
    }))
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listen = config.listen.clone();
    let secret = Arc::new(config.github.webhook_secret.clone());
    let bot = build(config).await?;
    let recovered = bot.queue.recover().await?;
    if recovered > 0 {
        info!(
            jobs = recovered,
            "jobs left running by the last run are queued again"
        );
    }
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (`listen` in bot.toml)"))?;
    info!(listen = %listener.local_addr().map(|a| a.to_string()).unwrap_or(listen.clone()),
          database = %redact_url(&bot.config.database), workers = bot.config.workers, "vouch-bot serving");
    let (stop_tx, stop_rx) = watch::channel(false);
    let workers = {
        let bot = Arc::clone(&bot);
        let stop = stop_rx.clone();
        tokio::spawn(async move { bot.run_workers(stop).await })
    };
    let reconcile = tokio::spawn(Arc::clone(&bot).reconcile_loop(stop_rx.clone()));
    let app = server::router(AppState {
        bot: Arc::clone(&bot),
        secret,
    });
    let mut http_stop = stop_rx.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = http_stop.changed().await;
    });
    let signals = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        anyhow::Ok(())
    };
    let server = tokio::spawn(async move { server.await });
    signals.await?;
    info!("shutting down: no new deliveries; in-flight jobs finish or go back to the queue");
    let _ = stop_tx.send(true);
    let _ = server.await;
    let _ = workers.await;
    reconcile.abort();
    bot.queue.close().await;
    info!("stopped");
    Ok(())
}

async fn check_config(config: Config) -> anyhow::Result<()> {
    println!("listen             {}", config.listen);
    println!("database           {}", redact_url(&config.database));
    println!("cache_dir          {}", config.cache_dir.display());
    println!("cache_max_bytes    {}", config.cache_max_bytes);
    println!("workers            {}", config.workers);
    println!(
        "reconcile_interval {} s",
        config.reconcile_interval.as_secs()
    );
    println!("github.api_url     {}", config.github.api_url);
    println!("github.app_id      {}", config.github.app_id);
    if config
        .github
        .webhook_secret
        .expose_secret()
        .trim()
        .is_empty()
    {
        bail!("the webhook secret is empty: put the App's webhook secret in github.webhook_secret_path");
    }
    let bot = build(config).await?;
    if !bot.queue.ping().await {
        bail!(
            "the database {} does not answer",
            redact_url(&bot.config.database)
        );
    }
    let probe = bot.mirrors.root().join(".vouch-bot-write-test");
    std::fs::write(&probe, b"")
        .with_context(|| format!("cannot write in cache_dir {}", bot.mirrors.root().display()))?;
    let _ = std::fs::remove_file(&probe);
    println!("ok: the key loads, the database answers, the cache folder is writable");
    Ok(())
}

async fn replay(
    config: Config,
    event: &str,
    payload: &PathBuf,
    facts_out: Option<&PathBuf>,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(payload)
        .with_context(|| format!("cannot read {}", payload.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}:{}:{}: {e}", payload.display(), e.line(), e.column()))?;
    let plan = events::plan(event, &value)?;
    let jobs = match plan {
        Plan::Ignore(why) => {
            println!("{{\"ignored\": {}}}", serde_json::Value::String(why));
            return Ok(());
        }
        Plan::Queue { jobs, .. } => jobs,
    };
    let bot = build(config).await?;
    let mut out = Vec::new();
    for job in jobs.iter().filter(|j| j.kind != JobKind::Scan) {
        match bot.verdict(job, None).await? {
            None => out.push(serde_json::json!({
                "repository": job.repo, "head_sha": job.head_sha,
                "skipped": "the pull request has moved on from this head, or is closed",
            })),
            Some(v) => {
                if let Some(path) = facts_out {
                    std::fs::write(path, serde_json::to_string_pretty(&v.facts)?)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                }
                let name = events::check_name(&job.base);
                let bodies = vouch_bot::checkrun::completion(
                    &v.report,
                    &vouch_rules::time::iso(vouch_rules::time::unix_now()),
                );
                out.push(serde_json::json!({
                    "repository": job.repo, "name": name, "head_sha": job.head_sha,
                    "conclusion": v.report.conclusion, "requests": bodies,
                }));
            }
        }
    }
    if out.is_empty() {
        warn!("the delivery only asks for a scan; nothing to replay");
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    logging();
    let config_path = match &cli.command {
        Command::Serve { config }
        | Command::CheckConfig { config }
        | Command::Replay { config, .. } => config.clone(),
    };
    let config = match Config::load(config_path.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let outcome = match cli.command {
        Command::Serve { .. } => serve(config).await,
        Command::CheckConfig { .. } => check_config(config).await,
        Command::Replay {
            event,
            payload,
            facts_out,
            ..
        } => replay(config, &event, &payload, facts_out.as_ref()).await,
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
