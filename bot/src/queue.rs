//! The durable queue: every accepted delivery and the jobs it asks for, in one database.
//!
//! SQLite (one file, WAL) is the default and serves one replica; PostgreSQL lets several
//! replicas share the work, each claiming jobs with `FOR UPDATE SKIP LOCKED` under a lease that
//! expires if its holder dies. The same statements run on both (`$N` parameters), apart from the
//! schema's id column and the claim's locking clause.
//!
//! Invariants:
//! - a delivery (`X-GitHub-Delivery`) is accepted once; its jobs are inserted in the same
//!   transaction, so a crash never keeps one without the other;
//! - at most one live (queued or running) job per (repository, head sha, target branch);
//!   an event for a job already running marks it to run again once it finishes, so a review
//!   submitted mid-evaluation is never lost;
//! - a newer head for a pull request supersedes queued jobs for its older heads;
//! - jobs on one repository are claimed one at a time, across every replica.

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("database {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("database: {0}")]
    Query(#[from] sqlx::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// What a job is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Judge a pull request's head against its base branch.
    Pull,
    /// Judge a merge queue group's head (`merge_group`).
    MergeGroup,
    /// Look for open pull requests of an installation (or one repository) without a verdict.
    Scan,
}

impl JobKind {
    fn as_str(self) -> &'static str {
        match self {
            JobKind::Pull => "pull",
            JobKind::MergeGroup => "merge_group",
            JobKind::Scan => "scan",
        }
    }
    fn parse(s: &str) -> JobKind {
        match s {
            "merge_group" => JobKind::MergeGroup,
            "scan" => JobKind::Scan,
            _ => JobKind::Pull,
        }
    }
}

/// A job to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: JobKind,
    pub installation: i64,
    /// `owner/name`; empty for an installation-wide scan.
    pub repo: String,
    /// The pull request number (0 for merge groups and scans).
    pub pull: i64,
    pub head_sha: String,
    /// The target branch, short (`main`).
    pub base: String,
    /// The merge group's head ref, or empty.
    pub head_ref: String,
    /// The merge group's base sha, or empty.
    pub base_sha: String,
}

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub job: NewJob,
    /// 1 on the first run.
    pub attempt: u32,
    pub check_run_id: Option<i64>,
}

/// How a delivery was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    pub duplicate: bool,
    pub queued: usize,
}

#[derive(Debug, Clone)]
pub struct Queue {
    pool: AnyPool,
    backend: Backend,
}

/// The tables, for both backends: only the job id column is spelled differently
/// (`ID_COLUMN`).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS deliveries (
  id TEXT PRIMARY KEY, event TEXT NOT NULL, action TEXT NOT NULL, received_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
  ID_COLUMN,
  kind TEXT NOT NULL, installation BIGINT NOT NULL, repo TEXT NOT NULL, pull BIGINT NOT NULL,
  head_sha TEXT NOT NULL, base TEXT NOT NULL, head_ref TEXT NOT NULL, base_sha TEXT NOT NULL,
  state TEXT NOT NULL, attempts BIGINT NOT NULL, run_at BIGINT NOT NULL,
  lease_owner TEXT, lease_until BIGINT, rerun BIGINT NOT NULL, last_error TEXT,
  created_at BIGINT NOT NULL, finished_at BIGINT, check_run_id BIGINT, delivery TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_live ON jobs (repo, head_sha, base) WHERE state IN ('queued', 'running');
CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (state, run_at);
CREATE TABLE IF NOT EXISTS pushers (
  repo TEXT NOT NULL, pull BIGINT NOT NULL, login TEXT NOT NULL, head_sha TEXT NOT NULL, at BIGINT NOT NULL,
  PRIMARY KEY (repo, pull));
";

const JOB_COLUMNS: &str =
    "id, kind, installation, repo, pull, head_sha, base, head_ref, base_sha, attempts, check_run_id";

fn now() -> i64 {
    vouch_rules::time::unix_now()
}

fn job_from(row: &AnyRow) -> Result<Job, sqlx::Error> {
    Ok(Job {
        id: row.try_get("id")?,
        attempt: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
        check_run_id: row.try_get("check_run_id")?,
        job: NewJob {
            kind: JobKind::parse(&row.try_get::<String, _>("kind")?),
            installation: row.try_get("installation")?,
            repo: row.try_get("repo")?,
            pull: row.try_get("pull")?,
            head_sha: row.try_get("head_sha")?,
            base: row.try_get("base")?,
            head_ref: row.try_get("head_ref")?,
            base_sha: row.try_get("base_sha")?,
        },
    })
}

impl Queue {
    /// Connect and create the schema if it is not there.
    pub async fn open(url: &str) -> Result<Queue, QueueError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let connect_url = match backend {
            // Create the file on first start; a relative path is relative to the working folder.
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_string(),
        };
        let connect_err = |source| QueueError::Connect {
            url: redact_url(url),
            source,
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 8,
            })
            .acquire_timeout(Duration::from_secs(10));
        if backend == Backend::Sqlite {
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query("PRAGMA busy_timeout = 10000")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA synchronous = NORMAL")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(&connect_url).await.map_err(connect_err)?;
        if backend == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await
                .map_err(connect_err)?;
        }
        let schema = SCHEMA.replace(
            "ID_COLUMN",
            match backend {
                Backend::Sqlite => "id INTEGER PRIMARY KEY AUTOINCREMENT",
                Backend::Postgres => "id BIGSERIAL PRIMARY KEY",
            },
        );
        let mut tx = pool.begin().await.map_err(connect_err)?;
        if backend == Backend::Postgres {
            // Replicas starting together must not race on CREATE TABLE.
            sqlx::query("SELECT pg_advisory_xact_lock(7061756368)")
                .execute(&mut *tx)
                .await?;
        }
        for statement in schema.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Queue { pool, backend })
    }

    /// True when the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// Whether several processes may share this queue.
    pub fn shared(&self) -> bool {
        self.backend == Backend::Postgres
    }

    /// Accept a delivery and its jobs, once. A known delivery id changes nothing.
    pub async fn accept(
        &self,
        delivery: &str,
        event: &str,
        action: &str,
        jobs: &[NewJob],
        pusher: Option<(&str, i64, &str, &str)>,
    ) -> Result<Accepted, QueueError> {
        let mut tx = self.pool.begin().await?;
        let t = now();
        let fresh = sqlx::query(
            "INSERT INTO deliveries (id, event, action, received_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
        )
        .bind(delivery)
        .bind(event)
        .bind(action)
        .bind(t)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if fresh == 0 {
            tx.rollback().await?;
            return Ok(Accepted {
                duplicate: true,
                queued: 0,
            });
        }
        if let Some((repo, pull, login, head)) = pusher {
            sqlx::query(
                "INSERT INTO pushers (repo, pull, login, head_sha, at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (repo, pull) DO UPDATE SET login = excluded.login, head_sha = excluded.head_sha, at = excluded.at",
            )
            .bind(repo)
            .bind(pull)
            .bind(login)
            .bind(head)
            .bind(t)
            .execute(&mut *tx)
            .await?;
        }
        let mut queued = 0;
        for job in jobs {
            if Self::insert(&mut tx, job, Some(delivery), t).await? {
                queued += 1;
            }
        }
        tx.commit().await?;
        Ok(Accepted {
            duplicate: false,
            queued,
        })
    }

    /// Queue a job outside any delivery (reconciliation, scans). True when a job was added.
    pub async fn enqueue(&self, job: &NewJob) -> Result<bool, QueueError> {
        let mut tx = self.pool.begin().await?;
        let added = Self::insert(&mut tx, job, None, now()).await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn insert(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        job: &NewJob,
        delivery: Option<&str>,
        t: i64,
    ) -> Result<bool, QueueError> {
        if job.kind == JobKind::Pull {
            // A newer head makes queued jobs for the older heads of the same pull request moot.
            sqlx::query(
                "UPDATE jobs SET state = 'superseded', finished_at = $1 \
                 WHERE repo = $2 AND pull = $3 AND kind = 'pull' AND head_sha <> $4 AND state = 'queued'",
            )
            .bind(t)
            .bind(&job.repo)
            .bind(job.pull)
            .bind(&job.head_sha)
            .execute(&mut **tx)
            .await?;
        }
        let added = sqlx::query(
            "INSERT INTO jobs (kind, installation, repo, pull, head_sha, base, head_ref, base_sha, state, attempts, run_at, rerun, created_at, delivery) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', 0, $9, 0, $10, $11) ON CONFLICT DO NOTHING",
        )
        .bind(job.kind.as_str())
        .bind(job.installation)
        .bind(&job.repo)
        .bind(job.pull)
        .bind(&job.head_sha)
        .bind(&job.base)
        .bind(&job.head_ref)
        .bind(&job.base_sha)
        .bind(t)
        .bind(t)
        .bind(delivery)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if added == 0 {
            // Already live: if it is running, it may have read the forge before this event.
            sqlx::query(
                "UPDATE jobs SET rerun = 1 WHERE repo = $1 AND head_sha = $2 AND base = $3 AND state = 'running'",
            )
            .bind(&job.repo)
            .bind(&job.head_sha)
            .bind(&job.base)
            .execute(&mut **tx)
            .await?;
        }
        Ok(added > 0)
    }

    /// Claim the next ready job, if any, for `lease`. A running job whose lease ran out (its
    /// holder died) is ready again. Jobs on a repository another job holds wait.
    pub async fn claim(&self, owner: &str, lease: Duration) -> Result<Option<Job>, QueueError> {
        let t = now();
        let until = t + i64::try_from(lease.as_secs()).unwrap_or(i64::MAX / 2);
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
             WHERE id = (SELECT j.id FROM jobs j \
               WHERE ((j.state = 'queued' AND j.run_at <= $3) OR (j.state = 'running' AND j.lease_until < $4)) \
               AND (j.repo = '' OR NOT EXISTS (SELECT 1 FROM jobs o WHERE o.repo = j.repo AND o.id <> j.id \
                    AND o.state = 'running' AND o.lease_until >= $5)) \
               ORDER BY j.run_at, j.id LIMIT 1{lock}) \
             AND (state = 'queued' OR lease_until < $6) \
             RETURNING {JOB_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(owner)
            .bind(until)
            .bind(t)
            .bind(t)
            .bind(t)
            .bind(t)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(job_from).transpose()?)
    }

    /// Extend the lease of a job this owner holds. False when it no longer holds it.
    pub async fn heartbeat(
        &self,
        id: i64,
        owner: &str,
        lease: Duration,
    ) -> Result<bool, QueueError> {
        let until = now() + i64::try_from(lease.as_secs()).unwrap_or(i64::MAX / 2);
        let n = sqlx::query(
            "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND lease_owner = $3 AND state = 'running'",
        )
        .bind(until)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Remember the check run a job writes to, so a retry updates it instead of adding another.
    pub async fn set_check_run(&self, id: i64, check_run: i64) -> Result<(), QueueError> {
        sqlx::query("UPDATE jobs SET check_run_id = $1 WHERE id = $2")
            .bind(check_run)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The check run a job writes to, if it has one yet.
    pub async fn check_run_of(&self, id: i64) -> Result<Option<i64>, QueueError> {
        let row = sqlx::query("SELECT check_run_id FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get("check_run_id")?,
            None => None,
        })
    }

    /// The job is done; if an event arrived while it ran, it runs again.
    pub async fn finish(&self, id: i64, owner: &str) -> Result<(), QueueError> {
        let t = now();
        sqlx::query(
            "UPDATE jobs SET state = CASE WHEN rerun = 1 THEN 'queued' ELSE 'done' END, \
             attempts = CASE WHEN rerun = 1 THEN 0 ELSE attempts END, \
             run_at = $1, finished_at = $2, rerun = 0, lease_owner = NULL, lease_until = NULL, last_error = NULL \
             WHERE id = $3 AND lease_owner = $4",
        )
        .bind(t)
        .bind(t)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Try again after `delay`.
    pub async fn retry(
        &self,
        id: i64,
        owner: &str,
        error: &str,
        delay: Duration,
    ) -> Result<(), QueueError> {
        let at = now() + i64::try_from(delay.as_secs()).unwrap_or(3600);
        sqlx::query(
            "UPDATE jobs SET state = 'queued', run_at = $1, last_error = $2, lease_owner = NULL, lease_until = NULL \
             WHERE id = $3 AND lease_owner = $4",
        )
        .bind(at)
        .bind(error)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The job has failed for good (its check run already says why).
    pub async fn fail(&self, id: i64, owner: &str, error: &str) -> Result<(), QueueError> {
        sqlx::query(
            "UPDATE jobs SET state = 'failed', finished_at = $1, last_error = $2, lease_owner = NULL, lease_until = NULL \
             WHERE id = $3 AND lease_owner = $4",
        )
        .bind(now())
        .bind(error)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The job is moot (its pull request moved on or closed).
    pub async fn drop_job(&self, id: i64, owner: &str) -> Result<(), QueueError> {
        sqlx::query(
            "UPDATE jobs SET state = 'superseded', finished_at = $1, lease_owner = NULL, lease_until = NULL \
             WHERE id = $2 AND lease_owner = $3",
        )
        .bind(now())
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Give a job back unfinished (shutdown): it is ready again at once.
    pub async fn release(&self, id: i64, owner: &str) -> Result<(), QueueError> {
        sqlx::query(
            "UPDATE jobs SET state = 'queued', run_at = $1, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, \
             lease_owner = NULL, lease_until = NULL WHERE id = $2 AND lease_owner = $3 AND state = 'running'",
        )
        .bind(now())
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// SQLite serves one process: jobs it left running when it died are ready again now,
    /// without waiting for their lease to run out.
    pub async fn recover(&self) -> Result<u64, QueueError> {
        if self.backend != Backend::Sqlite {
            return Ok(0);
        }
        let n = sqlx::query(
            "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL WHERE state = 'running'",
        )
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n)
    }

    /// Jobs waiting or running.
    pub async fn depth(&self) -> Result<i64, QueueError> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM jobs WHERE state IN ('queued', 'running')")
                .fetch_one(&self.pool)
                .await?;
        Ok(row.try_get("n")?)
    }

    /// Who last pushed to a pull request's head, as the webhook saw it, and at which head.
    pub async fn pusher(
        &self,
        repo: &str,
        pull: i64,
    ) -> Result<Option<(String, String)>, QueueError> {
        let row = sqlx::query("SELECT login, head_sha FROM pushers WHERE repo = $1 AND pull = $2")
            .bind(repo)
            .bind(pull)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some((r.try_get("login")?, r.try_get("head_sha")?)),
            None => None,
        })
    }

    /// Counts of jobs by state, for tests and `/metrics`.
    pub async fn states(&self) -> Result<Vec<(String, i64)>, QueueError> {
        let rows =
            sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state ORDER BY state")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("state")?, r.try_get("n")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(QueueError::from)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(repo: &str, pull: i64, head: &str) -> NewJob {
        NewJob {
            kind: JobKind::Pull,
            installation: 1,
            repo: repo.into(),
            pull,
            head_sha: head.into(),
            base: "main".into(),
            head_ref: String::new(),
            base_sha: String::new(),
        }
    }

    async fn queue(dir: &tempfile::TempDir) -> Queue {
        let url = format!("sqlite://{}", dir.path().join("q.db").display());
        Queue::open(&url).await.unwrap()
    }

    #[tokio::test]
    async fn a_delivery_is_accepted_once() {
        let dir = tempfile::tempdir().unwrap();
        let q = queue(&dir).await;
        let a = q
            .accept("d1", "pull_request", "opened", &[job("o/r", 1, "a")], None)
            .await
            .unwrap();
        assert_eq!(
            a,
            Accepted {
                duplicate: false,
                queued: 1
            }
        );
        let b = q
            .accept("d1", "pull_request", "opened", &[job("o/r", 1, "a")], None)
            .await
            .unwrap();
        assert!(b.duplicate);
        assert_eq!(q.depth().await.unwrap(), 1);
    }

    #[tokio::test]
    async fn a_newer_head_supersedes_and_a_live_job_is_not_doubled() {
        let dir = tempfile::tempdir().unwrap();
        let q = queue(&dir).await;
        q.accept("d1", "e", "a", &[job("o/r", 1, "a")], None)
            .await
            .unwrap();
        let again = q
            .accept("d2", "e", "a", &[job("o/r", 1, "a")], None)
            .await
            .unwrap();
        assert_eq!(again.queued, 0);
        q.accept("d3", "e", "a", &[job("o/r", 1, "b")], None)
            .await
            .unwrap();
        let states = q.states().await.unwrap();
        assert!(states.contains(&("superseded".into(), 1)), "{states:?}");
        let claimed = q
            .claim("w", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claimed.job.head_sha, "b");
        assert_eq!(claimed.attempt, 1);
    }

    #[tokio::test]
    async fn an_event_during_a_run_runs_the_job_again() {
        let dir = tempfile::tempdir().unwrap();
        let q = queue(&dir).await;
        q.accept("d1", "e", "a", &[job("o/r", 1, "a")], None)
            .await
            .unwrap();
        let j = q
            .claim("w", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        q.accept(
            "d2",
            "pull_request_review",
            "submitted",
            &[job("o/r", 1, "a")],
            None,
        )
        .await
        .unwrap();
        q.finish(j.id, "w").await.unwrap();
        let again = q
            .claim("w", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.id, j.id);
        q.finish(again.id, "w").await.unwrap();
        assert!(q
            .claim("w", Duration::from_secs(60))
            .await
            .unwrap()
            .is_none());
    }

    #[tokio::test]
    async fn one_repository_runs_one_job_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let q = queue(&dir).await;
        q.accept(
            "d1",
            "e",
            "a",
            &[job("o/r", 1, "a"), job("o/r", 2, "b"), job("o/s", 3, "c")],
            None,
        )
        .await
        .unwrap();
        let first = q
            .claim("w1", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        let second = q
            .claim("w2", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.job.repo, "o/r");
        assert_eq!(second.job.repo, "o/s");
        assert!(q
            .claim("w3", Duration::from_secs(60))
            .await
            .unwrap()
            .is_none());
        q.finish(first.id, "w1").await.unwrap();
        assert_eq!(
            q.claim("w3", Duration::from_secs(60))
                .await
                .unwrap()
                .unwrap()
                .job
                .pull,
            2
        );
    }

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redact_url("postgres://bot:hunter2@db/q"),
            "postgres://bot:***@db/q"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
