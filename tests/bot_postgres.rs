//! The bot's scale-out path: two replicas sharing one real PostgreSQL (started here with
//! `initdb` and `pg_ctl` in a temp folder on a free port) take 50 queued jobs between them, and
//! each job is judged exactly once.

#![allow(clippy::unwrap_used)]

mod bot_world;
mod common;

use bot_world::{bot_bin, free_port, get, World};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's PostgreSQL server binaries (`initdb`, `pg_ctl`), newest version first.
fn pg_bin() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.retain(|p| p.join("initdb").exists());
    versions.sort();
    versions.pop().unwrap_or_else(|| {
        panic!("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb): run ./install.sh --test, which installs Debian's postgresql package")
    })
}

/// A PostgreSQL server in a temp folder; stopped on drop.
struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_user: Option<&'static str>,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Postgres {
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match self.as_user {
            // PostgreSQL refuses to run as root; Debian's package made the `postgres` user.
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(path);
                c
            }
            None => Command::new(path),
        }
    }

    fn start(dir: &Path) -> Postgres {
        let bin = pg_bin();
        let data = dir.join("pgdata");
        let as_user = is_root().then_some("postgres");
        if let Some(user) = as_user {
            std::fs::create_dir_all(&data).unwrap();
            let ok = Command::new("chown")
                .args(["-R", user])
                .arg(dir)
                .status()
                .unwrap();
            assert!(ok.success());
        }
        let pg = Postgres {
            bin,
            data,
            port: free_port(),
            as_user,
        };
        let out = pg
            .command("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "vouch",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(&pg.data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            pg.port,
            dir.display()
        );
        let out = pg
            .command("pg_ctl")
            .args(["-w", "-t", "60", "-D"])
            .arg(&pg.data)
            .args(["-o", &opts, "-l"])
            .arg(dir.join("pg.log"))
            .arg("start")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&out.stdout),
            std::fs::read_to_string(dir.join("pg.log")).unwrap_or_default()
        );
        pg
    }

    fn url(&self) -> String {
        format!("postgres://vouch@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-w", "-m", "immediate", "-D"])
            .arg(&self.data)
            .arg("stop")
            .output();
    }
}

fn replica(w: &World, n: usize, db: &str) -> (Child, u16) {
    let port = free_port();
    let log = std::fs::File::create(w.sb.path().join(format!("replica{n}.log"))).unwrap();
    let mut cmd = Command::new(bot_bin());
    w.sb.home.isolate(&mut cmd);
    cmd.args(["serve", "--config", w.config.to_str().unwrap()])
        .current_dir(w.sb.path())
        .env("VOUCH_BOT_LISTEN", format!("127.0.0.1:{port}"))
        .env("VOUCH_BOT_DATABASE", db)
        .env("VOUCH_BOT_CACHE_DIR", w.sb.path().join(format!("cache{n}")))
        .env("VOUCH_BOT_WORKERS", "3")
        .env("VOUCH_BOT_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    (cmd.spawn().unwrap(), port)
}

/// Freeze (`STOP`) or resume (`CONT`) a replica.
fn signal(child: &std::process::Child, which: &str) {
    let ok = std::process::Command::new("kill")
        .args([&format!("-{which}"), &child.id().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -{which} {}", child.id());
}

#[test]
fn two_replicas_share_fifty_jobs_each_judged_once() {
    let mut w = World::new();
    let pg = Postgres::start(&w.sb.path().join("pg"));
    // 50 pull requests, each with its own signed commit.
    let alice = w.alice.clone();
    let mut heads = Vec::new();
    for n in 1..=50u64 {
        w.topic(&format!("topic-{n}"));
        w.write(&format!("f{n}.txt"), &format!("{n}\n"));
        w.commit_as(&alice, &format!("Change {n}"), true);
        heads.push(w.open_pull(n, &alice, &[&alice]));
    }
    // Write the config (sqlite by default) with the harness, then stop that bot; the replicas
    // take the database from the environment.
    w.start_bot();
    w.stop_bot();
    let mut replicas = vec![replica(&w, 1, &pg.url()), replica(&w, 2, &pg.url())];
    let deadline = Instant::now() + Duration::from_secs(60);
    for (_, port) in &replicas {
        while get(*port, "/readyz").is_none_or(|a| a.status != 200) {
            assert!(Instant::now() < deadline, "a replica did not become ready");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let deliver = |i: usize, port: u16| {
        let n = i as u64 + 1;
        let payload = w.pull_payload("pull_request", "opened", n, &heads[i], "alice");
        let body = serde_json::to_vec(&payload).unwrap();
        let sig = vouch_fake_github::sign_webhook(bot_world::SECRET.as_bytes(), &body);
        let a = bot_world::post(
            port,
            "/webhook",
            &[
                ("X-GitHub-Event", "pull_request".to_string()),
                ("X-GitHub-Delivery", format!("pg-{n}")),
                ("X-Hub-Signature-256", sig),
            ],
            &body,
        );
        assert_eq!(a.status, 202, "{}", a.body);
    };
    // Each replica works the queue alone once (the other one frozen), so both are shown to
    // take jobs whatever the timing of the shared run below.
    for (i, (alone, frozen)) in [(1usize, 0usize), (0, 1)].into_iter().enumerate() {
        signal(&replicas[frozen].0, "STOP");
        deliver(i, replicas[alone].1);
        w.completed(&heads[i]);
        signal(&replicas[frozen].0, "CONT");
    }
    // The rest alternate between the replicas, as a load balancer would send them; both race
    // for every job on the one queue.
    for i in 2..heads.len() {
        deliver(i, replicas[i % 2].1);
    }
    for head in &heads {
        w.completed(head);
    }
    std::thread::sleep(Duration::from_secs(2));
    for head in &heads {
        let runs = w.checks_on(head);
        assert_eq!(runs.len(), 1, "head {head}: {runs:#?}");
        assert_eq!(runs[0].status, "completed");
    }
    let logs: Vec<String> = (1..=2)
        .map(|n| std::fs::read_to_string(w.sb.path().join(format!("replica{n}.log"))).unwrap())
        .collect();
    let done: Vec<usize> = logs.iter().map(|l| l.matches("job done").count()).collect();
    assert_eq!(
        done.iter().sum::<usize>(),
        50,
        "jobs done per replica: {done:?}"
    );
    assert!(
        done.iter().all(|&d| d > 0),
        "a replica did no job, not even the one it had alone: {done:?}"
    );
    for (child, _) in replicas.iter_mut() {
        let _ = child.kill();
        let _ = child.wait();
    }
    w.assert_clean();
}
