//! The workers: claim a job, judge it, write its check run; retry what may recover, and end
//! what cannot as a failed check run that says why. Also the reconciliation that re-queues
//! pull requests whose verdict was never written (GitHub does not redeliver).

use crate::checkrun::{self, Report};
use crate::config::Config;
use crate::evaluate::{self, JudgeError, Ready};
use crate::events::{check_name, scan_job};
use crate::github::{backoff, GitHub};
use crate::metrics::Metrics;
use crate::mirror::Mirrors;
use crate::queue::{Job, JobKind, NewJob, Queue};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};
use tracing::{info, warn};

/// How long in-flight jobs may run on after SIGTERM before they are given back to the queue.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// The bot's moving parts, shared by the server, the workers and reconciliation.
#[derive(Debug)]
pub struct Bot {
    pub config: Arc<Config>,
    pub queue: Queue,
    pub github: GitHub,
    pub mirrors: Mirrors,
    pub metrics: Arc<Metrics>,
    /// Woken when the webhook queues work.
    pub wake: Notify,
    /// This process's name on leases.
    pub owner: String,
}

/// A judged job.
#[derive(Debug)]
pub struct Verdicted {
    pub report: Report,
    /// The pull request facts it was judged with (`null` for a merge group).
    pub facts: Value,
    /// The check run showing it, when one was written.
    pub check_run: Option<i64>,
}

/// How a job ended.
#[derive(Debug)]
enum Done {
    Judged(&'static str),
    Stale,
    Scanned(usize),
}

fn now_iso() -> String {
    vouch_rules::time::iso(vouch_rules::time::unix_now())
}

/// A name for this process on leases: host, process id and a random part.
pub fn lease_owner() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!(
        "{host}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

impl Bot {
    /// Run `config.workers` workers until `shutdown` turns true.
    pub async fn run_workers(self: &Arc<Self>, shutdown: watch::Receiver<bool>) {
        let mut set = tokio::task::JoinSet::new();
        for n in 0..self.config.workers.max(1) {
            let bot = Arc::clone(self);
            let stop = shutdown.clone();
            set.spawn(async move { bot.worker(n, stop).await });
        }
        while set.join_next().await.is_some() {}
    }

    async fn worker(self: Arc<Self>, n: usize, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            match self.queue.claim(&self.owner, self.config.lease).await {
                Ok(Some(job)) => self.process(job, shutdown.clone()).await,
                Ok(None) => {
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = shutdown.changed() => {}
                    }
                }
                Err(e) => {
                    warn!(worker = n, error = %e, "cannot claim a job");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }
        }
    }

    async fn process(self: &Arc<Self>, job: Job, mut shutdown: watch::Receiver<bool>) {
        let started = Instant::now();
        let id = job.id;
        info!(job = id, kind = ?job.job.kind, repo = %job.job.repo, pull = job.job.pull, head = %job.job.head_sha, attempt = job.attempt, "job started");
        let beat = {
            let bot = Arc::clone(self);
            let every = (self.config.lease / 3).max(Duration::from_secs(1));
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    match bot.queue.heartbeat(id, &bot.owner, bot.config.lease).await {
                        Ok(true) => {}
                        Ok(false) => {
                            warn!(job = id, "lost the job's lease");
                            return;
                        }
                        Err(e) => warn!(job = id, error = %e, "cannot extend the job's lease"),
                    }
                }
            })
        };
        let work = self.execute(&job);
        tokio::pin!(work);
        let result = tokio::select! {
            r = &mut work => Some(r),
            _ = async {
                while !*shutdown.borrow() {
                    if shutdown.changed().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => None,
        };
        beat.abort();
        let seconds = started.elapsed().as_secs_f64();
        let q = &self.queue;
        let owner = &self.owner;
        let recorded = match result {
            None => {
                info!(job = id, "shutting down: job given back to the queue");
                q.release(id, owner).await
            }
            Some(Ok(Done::Judged(conclusion))) => {
                self.metrics.job(conclusion, seconds);
                info!(job = id, conclusion, seconds, "job done");
                q.finish(id, owner).await
            }
            Some(Ok(Done::Stale)) => {
                self.metrics.job("superseded", seconds);
                info!(job = id, "job superseded: the pull request moved on");
                q.drop_job(id, owner).await
            }
            Some(Ok(Done::Scanned(n))) => {
                self.metrics.job("scanned", seconds);
                info!(job = id, queued = n, "scan done");
                if n > 0 {
                    self.wake.notify_waiters();
                }
                q.finish(id, owner).await
            }
            Some(Err(e)) if e.retryable() && job.attempt < self.config.job_attempts => {
                let delay = e.wait().unwrap_or_else(|| backoff(job.attempt));
                self.metrics.job("retried", seconds);
                warn!(job = id, attempt = job.attempt, error = %e, retry_in = delay.as_secs_f64(), "job failed; will retry");
                q.retry(id, owner, &e.to_string(), delay).await
            }
            Some(Err(e)) => {
                self.metrics.job("failed", seconds);
                warn!(job = id, attempt = job.attempt, error = %e, "job failed for good");
                let why = e.to_string();
                if job.job.kind != JobKind::Scan {
                    if let Err(post) = self.post_failure(&job, &why).await {
                        warn!(job = id, error = %post, "cannot write the failed check run either");
                    }
                }
                q.fail(id, owner, &why).await
            }
        };
        if let Err(e) = recorded {
            warn!(job = id, error = %e, "cannot record the job's end; its lease will run out and it runs again");
        }
        let _ = self
            .queue
            .depth()
            .await
            .map(|d| self.metrics.queue_depth.set(d));
    }

    async fn execute(&self, job: &Job) -> Result<Done, JudgeError> {
        match job.job.kind {
            JobKind::Scan => self.scan(&job.job).await.map(Done::Scanned),
            JobKind::Pull | JobKind::MergeGroup => {
                let Some(judged) = self.verdict(&job.job, Some(job)).await? else {
                    return Ok(Done::Stale);
                };
                let report = judged.report;
                let check = match judged.check_run {
                    Some(id) => id,
                    None => self.check_run(job).await?,
                };
                for body in checkrun::completion(&report, &now_iso()) {
                    self.github
                        .update_check_run(job.job.installation, &job.job.repo, check, &body)
                        .await?;
                }
                Ok(Done::Judged(report.conclusion))
            }
        }
    }

    /// The job's check run, created (in progress) the first time, moved back to in progress on a
    /// retry.
    async fn check_run(&self, job: &Job) -> Result<i64, JudgeError> {
        let j = &job.job;
        // This attempt may have created it after the job was claimed.
        let known = match job.check_run_id {
            Some(id) => Some(id),
            None => self
                .queue
                .check_run_of(job.id)
                .await
                .map_err(|e| JudgeError::Internal(e.to_string()))?,
        };
        if let Some(id) = known {
            return Ok(id);
        }
        let body = checkrun::started(
            &check_name(&j.base),
            &j.head_sha,
            &job.id.to_string(),
            &now_iso(),
        );
        let id = self
            .github
            .create_check_run(j.installation, &j.repo, &body)
            .await?;
        self.queue
            .set_check_run(job.id, id)
            .await
            .map_err(|e| JudgeError::Internal(e.to_string()))?;
        Ok(id)
    }

    async fn started(&self, job: &Job) -> Result<i64, JudgeError> {
        match job.check_run_id {
            Some(id) => {
                let body = checkrun::restarted(&now_iso());
                self.github
                    .update_check_run(job.job.installation, &job.job.repo, id, &body)
                    .await?;
                Ok(id)
            }
            None => self.check_run(job).await,
        }
    }

    /// Judge a job: its report, and the pull request facts it was judged with. `None` when the
    /// job is stale. With `job`, the check run shows progress while it runs; without (replay),
    /// nothing is written to GitHub.
    pub async fn verdict(
        &self,
        j: &NewJob,
        job: Option<&Job>,
    ) -> Result<Option<Verdicted>, JudgeError> {
        let gh = &self.github;
        let (repository, pull) = match j.kind {
            JobKind::Pull => {
                let pull = gh
                    .pull(j.installation, &j.repo, u64::try_from(j.pull).unwrap_or(0))
                    .await?;
                if let Ready::Stale { current_head } = evaluate::current(j, &pull) {
                    if let Some(id) = job.and_then(|job| job.check_run_id) {
                        let by = current_head.unwrap_or_else(|| "a closed state".into());
                        gh.update_check_run(
                            j.installation,
                            &j.repo,
                            id,
                            &checkrun::superseded(&now_iso(), &by),
                        )
                        .await?;
                    }
                    return Ok(None);
                }
                (pull.repository.clone(), Some(pull))
            }
            _ => (gh.repository(j.installation, &j.repo).await?, None),
        };
        let check_run = match job {
            Some(job) => Some(self.started(job).await?),
            None => None,
        };
        let held = self.mirrors.hold(&j.repo).await?;
        evaluate::sync_mirror(
            gh,
            &self.mirrors,
            &held,
            j,
            &repository.clone_url,
            &repository.default_branch,
        )
        .await?;
        let (policy, teams) = evaluate::base_policy(&held, &j.base).await?;
        let facts = match &pull {
            Some(pull) => {
                let pusher = self
                    .queue
                    .pusher(&j.repo, j.pull)
                    .await
                    .map_err(|e| JudgeError::Internal(e.to_string()))?;
                Some(evaluate::pull_facts(gh, j, pull, &teams, pusher).await?)
            }
            None => None,
        };
        let now = vouch_rules::time::unix_now();
        let merge_policy = self.config.merge.is_some().then(|| policy.clone());
        let judged = evaluate::judge(&held, policy, j, facts, now).await?;
        let reproduce = evaluate::reproduce(j, &judged, &judged.verdict.judged_at);
        let mut report = checkrun::report(&judged.verdict, &reproduce);
        if let Some(policy) = merge_policy {
            let approved = judged
                .verdict
                .evidence
                .review
                .as_ref()
                .is_some_and(|r| r.approvals.iter().any(|a| a.counted));
            let merge_group = j.kind == JobKind::MergeGroup;
            if job.is_some()
                && judged.verdict.passed()
                && crate::merge::wanted(&policy, merge_group, approved)
            {
                match self
                    .land(&held, j, &repository.clone_url, policy, &judged, now)
                    .await
                {
                    Ok(merge) => {
                        info!(repo = %j.repo, base = %j.base, %merge, "made, attested and pushed the signed merge");
                    }
                    Err(why) => {
                        warn!(repo = %j.repo, base = %j.base, error = %why, "the signed merge failed; nothing was pushed");
                        report = checkrun::merge_failed(&report, &why);
                    }
                }
            }
        }
        drop(held);
        let mirrors = self.mirrors.clone();
        tokio::spawn(async move {
            for evicted in mirrors.evict().await {
                info!(mirror = %evicted.display(), "evicted a mirror to keep the cache within cache_max_bytes");
            }
        });
        let facts = serde_json::to_value(&judged.prepared.facts).unwrap_or(Value::Null);
        Ok(Some(Verdicted {
            report,
            facts,
            check_run,
        }))
    }

    /// The signed merge of a passing change: made and attested in the mirror, then pushed with
    /// the installation token, merge and note in one atomic push. The error says why not.
    async fn land(
        &self,
        held: &crate::mirror::Held,
        j: &NewJob,
        clone_url: &str,
        policy: vouch_rules::Policy,
        judged: &evaluate::Judged,
        now: i64,
    ) -> Result<git2::Oid, String> {
        let token = self
            .github
            .installation_token(j.installation)
            .await
            .map_err(|e| e.to_string())?;
        // The attestation chains to the forge's notes, not to whatever the mirror last saw.
        self.mirrors
            .fetch(
                held,
                &j.repo,
                clone_url,
                &token,
                &["+refs/notes/*:refs/notes/*".to_string()],
            )
            .await
            .map_err(|e| e.to_string())?;
        let base_tip = git2::Oid::from_str(&judged.prepared.base_tip).map_err(|e| e.to_string())?;
        let head = git2::Oid::from_str(&judged.prepared.head).map_err(|e| e.to_string())?;
        let message = if j.kind == JobKind::MergeGroup {
            format!("Merge queue group {} into {}", j.head_ref, j.base)
        } else {
            format!("Merge pull request #{} into {}", j.pull, j.base)
        };
        let repository_uri = format!("git+{clone_url}");
        let path = held.path.clone();
        let config = Arc::clone(&self.config);
        let verdict = judged.verdict.clone();
        let base = j.base.clone();
        let made = tokio::task::spawn_blocking(move || {
            let Some(merger) = &config.merge else {
                return Err("no [merge] key_path in the bot's configuration".to_string());
            };
            let repo = git2::Repository::open_bare(&path).map_err(|e| e.message().to_string())?;
            let plan = crate::merge::Plan {
                policy: &policy,
                verdict: &verdict,
                base: &base,
                base_tip,
                head,
                message,
                repository_uri,
                now,
            };
            crate::merge::make(&repo, &plan, merger).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| format!("merge task: {e}"))??;
        self.mirrors
            .push(held, &j.repo, clone_url, &token, &made.refspecs)
            .await
            .map_err(|e| e.to_string())?;
        Ok(made.merge)
    }

    /// Write the check run of a job that cannot be judged: failed, saying why.
    async fn post_failure(&self, job: &Job, why: &str) -> Result<(), JudgeError> {
        let report = checkrun::could_not_judge(why, job.attempt);
        let id = self.check_run(job).await?;
        for body in checkrun::completion(&report, &now_iso()) {
            self.github
                .update_check_run(job.job.installation, &job.job.repo, id, &body)
                .await?;
        }
        Ok(())
    }

    /// Queue the open pull requests of a scan's repositories that need judging. Without a head,
    /// those whose head has no completed `vouch:` check run; with one, those at that head, again.
    async fn scan(&self, j: &NewJob) -> Result<usize, JudgeError> {
        let gh = &self.github;
        let repos = if j.repo.is_empty() {
            gh.installation_repositories(j.installation).await?
        } else {
            vec![gh.repository(j.installation, &j.repo).await?]
        };
        let mut queued = 0;
        for repo in repos {
            for pull in gh.open_pulls(j.installation, &repo.full_name).await? {
                if !j.head_sha.is_empty() && pull.head_sha != j.head_sha {
                    continue;
                }
                if j.head_sha.is_empty() {
                    let runs = gh
                        .check_runs(
                            j.installation,
                            &repo.full_name,
                            &pull.head_sha,
                            &check_name(&pull.base_ref),
                        )
                        .await?;
                    if runs.iter().any(|r| r.status == "completed") {
                        continue;
                    }
                }
                let job = NewJob {
                    kind: JobKind::Pull,
                    installation: j.installation,
                    repo: repo.full_name.clone(),
                    pull: i64::try_from(pull.number).unwrap_or(i64::MAX),
                    head_sha: pull.head_sha.clone(),
                    base: pull.base_ref.clone(),
                    head_ref: String::new(),
                    base_sha: String::new(),
                };
                if self
                    .queue
                    .enqueue(&job)
                    .await
                    .map_err(|e| JudgeError::Internal(e.to_string()))?
                {
                    queued += 1;
                }
            }
        }
        Ok(queued)
    }

    /// Queue a scan of every installation: at start and every `reconcile_interval`.
    pub async fn reconcile(&self) -> Result<usize, JudgeError> {
        let mut queued = 0;
        for installation in self.github.installations().await? {
            if self
                .queue
                .enqueue(&scan_job(installation, "", ""))
                .await
                .map_err(|e| JudgeError::Internal(e.to_string()))?
            {
                queued += 1;
            }
        }
        if queued > 0 {
            self.wake.notify_waiters();
        }
        Ok(queued)
    }

    /// Reconcile now and then every interval, until shutdown.
    pub async fn reconcile_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        if self.config.reconcile_interval.is_zero() {
            info!("reconciliation is off (reconcile_interval = 0)");
            return;
        }
        loop {
            match self.reconcile().await {
                Ok(n) => info!(installations = n, "reconciliation queued"),
                Err(e) => warn!(error = %e, "reconciliation failed; next try at the next interval"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.config.reconcile_interval) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

impl JudgeError {
    /// How long GitHub asked us to wait, when it did.
    pub fn wait(&self) -> Option<Duration> {
        match self {
            JudgeError::GitHub(e) => e.wait(),
            _ => None,
        }
    }
}
