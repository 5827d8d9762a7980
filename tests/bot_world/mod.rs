//! A world for the bot's end-to-end tests: the real `vouch-bot` binary, a fake GitHub serving
//! GitHub's published examples and a real bare repository over git smart HTTP, commits signed
//! with real ssh-keygen keys, and webhooks from GitHub's published payloads, signed.

#![allow(dead_code, clippy::unwrap_used)]

use crate::common::{vouch_bin, Run, Sandbox};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use vouch_fake_github::{
    sign_webhook, webhook_payload, CheckRun, FakeGitHub, Options, Pull, PullCommit, Review,
};

pub const OWNER: &str = "octo-org";
pub const NAME: &str = "widgets";
pub const REPO: &str = "octo-org/widgets";
pub const INSTALLATION: i64 = 77;
pub const APP_ID: u64 = 4242;
pub const SECRET: &str = "test-webhook-secret-not-a-real-one";

/// The `vouch-bot` binary cargo built for this test run.
pub fn bot_bin() -> PathBuf {
    let bin = vouch_bin().with_file_name(format!("vouch-bot{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: build it first (`cargo build --workspace --bins`; ./install.sh --test does)",
        bin.display()
    );
    bin
}

/// A free loopback port (bound, then released for the bot to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A signing identity: an SSH key pair and the e-mail its commits carry.
#[derive(Debug, Clone)]
pub struct Person {
    pub login: String,
    pub email: String,
    pub key: PathBuf,
    pub public: String,
}

/// An HTTP answer: status and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// POST `body` to `http://addr/path` with `headers`; the status and body of the answer.
pub fn post(port: u16, path: &str, headers: &[(&str, String)], body: &[u8]) -> Answer {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    // A server may answer (413) before the whole body is sent and close; that is fine.
    let _ = s.write_all(body);
    read_answer(&mut s)
}

pub fn get(port: u16, path: &str) -> Option<Answer> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).ok()?;
    Some(read_answer(&mut s))
}

fn read_answer(s: &mut TcpStream) -> Answer {
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Answer { status, body }
}

/// The world: sandbox, fake GitHub, bare repository, working clone, the bot process.
pub struct World {
    pub sb: Sandbox,
    pub rt: tokio::runtime::Runtime,
    pub fake: FakeGitHub,
    pub bare: PathBuf,
    pub work: PathBuf,
    pub alice: Person,
    pub bob: Person,
    pub carol: Person,
    pub port: u16,
    pub config: PathBuf,
    pub bot: Option<Child>,
    deliveries: AtomicU64,
    /// Extra lines for bot.toml (top-level keys).
    pub extra_config: String,
    /// bot.toml's `audit_interval`: 0 (the scenarios' default) audits only on events.
    pub audit_interval: u64,
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(mut child) = self.bot.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn sh(sb: &Sandbox, cwd: &Path, program: &str, args: &[&str]) -> Run {
    let run = sb.run(cwd, Path::new(program), args, &[], None);
    run.assert_ok();
    run
}

fn person(sb: &Sandbox, login: &str) -> Person {
    let (key, public) = sb.ssh_key(&format!("{login}.key"));
    Person {
        login: login.to_string(),
        email: format!("{login}@example.com"),
        key,
        public,
    }
}

/// The default policy of the scenarios: signed commits from the listed keys, one independent
/// approval, code owners, `main` protected.
pub const POLICY: &str = "[signatures]\nrequired = true\n\n[review]\nrequired_approvals = 1\nrequire_code_owners = true\nmin_permission = \"write\"\n\n[[branch]]\npattern = \"main\"\nrequire_review = true\n";

impl World {
    /// A world whose `main` holds the scenario policy, CODEOWNERS (`* @carol`) and the signers
    /// alice, bob and carol. The bot is not started yet.
    pub fn new() -> World {
        Self::with_key_format("-traditional")
    }

    /// `key_format`: `-traditional` for a PKCS#1 App key (as GitHub hands it out), `` for PKCS#8.
    pub fn with_key_format(key_format: &str) -> World {
        let sb = Sandbox::new();
        let pem = sb.path().join("app.pem");
        let mut args = vec!["genrsa"];
        if !key_format.is_empty() {
            args.push(key_format);
        }
        args.extend(["-out", pem.to_str().unwrap(), "2048"]);
        sh(&sb, sb.path(), "openssl", &args);
        let public = sh(
            &sb,
            sb.path(),
            "openssl",
            &["rsa", "-in", pem.to_str().unwrap(), "-pubout"],
        )
        .stdout();
        std::fs::write(sb.path().join("webhook-secret"), format!("{SECRET}\n")).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let fake = rt.block_on(FakeGitHub::start(Options {
            app_id: APP_ID,
            app_public_key_pem: public,
            token_ttl: Duration::from_secs(3600),
        }));
        let alice = person(&sb, "alice");
        let bob = person(&sb, "bob");
        let carol = person(&sb, "carol");

        let bare = sb.path().join("widgets.git");
        sh(
            &sb,
            sb.path(),
            "git",
            &["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()],
        );
        let work = sb.path().join("work");
        std::fs::create_dir_all(&work).unwrap();
        sh(&sb, &work, "git", &["init", "-q", "-b", "main"]);
        sh(
            &sb,
            &work,
            "git",
            &["remote", "add", "origin", bare.to_str().unwrap()],
        );
        fake.add_installation(INSTALLATION, OWNER);
        fake.add_repo(INSTALLATION, OWNER, NAME, &bare, "main");
        for p in [&alice, &bob, &carol] {
            fake.set_permission(OWNER, NAME, &p.login, "write");
        }
        let w = World {
            sb,
            rt,
            fake,
            bare,
            work,
            alice,
            bob,
            carol,
            port: free_port(),
            config: PathBuf::new(),
            bot: None,
            deliveries: AtomicU64::new(0),
            extra_config: String::new(),
            audit_interval: 0,
        };
        w.write(".vouch/policy.toml", POLICY);
        let signers: String = [&w.alice, &w.bob, &w.carol]
            .iter()
            .map(|p| format!("{} namespaces=\"git\" {}\n", p.email, p.public))
            .collect();
        w.write(".vouch/allowed_signers", &signers);
        w.write(".github/CODEOWNERS", "* @carol\n");
        w.write("README.md", "# widgets\n");
        let alice = w.alice.clone();
        w.commit_as(&alice, "policy, signers and owners", true);
        w.git(&["push", "-q", "origin", "main"]);
        w
    }

    pub fn git(&self, args: &[&str]) -> String {
        sh(&self.sb, &self.work, "git", args)
            .stdout()
            .trim()
            .to_string()
    }

    pub fn write(&self, rel: &str, content: &str) {
        let p = self.work.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    /// Commit everything as `who` (author and committer), signed with their key when `signed`.
    pub fn commit_as(&self, who: &Person, message: &str, signed: bool) -> String {
        self.git(&["add", "-A"]);
        let name = format!("user.name={}", who.login);
        let email = format!("user.email={}", who.email);
        let key = format!("user.signingkey={}", who.key.display());
        let mut args = vec![
            "-c",
            &name,
            "-c",
            &email,
            "-c",
            "gpg.format=ssh",
            "-c",
            &key,
        ];
        args.extend(["commit", "-q", "--allow-empty", "-m", message]);
        if signed {
            args.push("-S");
        }
        let run = self.sb.run(
            &self.work,
            Path::new("git"),
            &args,
            &[
                ("GIT_AUTHOR_NAME", who.login.as_str()),
                ("GIT_AUTHOR_EMAIL", who.email.as_str()),
                ("GIT_COMMITTER_NAME", who.login.as_str()),
                ("GIT_COMMITTER_EMAIL", who.email.as_str()),
            ],
            None,
        );
        run.assert_ok();
        self.git(&["rev-parse", "HEAD"])
    }

    pub fn main_sha(&self) -> String {
        self.git(&["rev-parse", "main"])
    }

    /// Start a topic branch from main.
    pub fn topic(&self, name: &str) {
        self.git(&["checkout", "-q", "-B", name, "main"]);
    }

    /// Publish the current branch as pull request `number` by `author` into main: the branch
    /// and `refs/pull/N/head` in the bare repository, and the pull request in the fake.
    pub fn open_pull(&self, number: u64, author: &Person, committers: &[&Person]) -> String {
        let branch = self.git(&["rev-parse", "--abbrev-ref", "HEAD"]);
        let head = self.git(&["rev-parse", "HEAD"]);
        self.git(&[
            "push",
            "-q",
            "-f",
            "origin",
            &format!("HEAD:refs/heads/{branch}"),
            &format!("HEAD:refs/pull/{number}/head"),
        ]);
        let base_sha = self.main_sha();
        let shas = self.git(&["rev-list", "--reverse", &format!("{base_sha}..{head}")]);
        let commits = shas
            .lines()
            .map(|sha| {
                let email = self.git(&["show", "-s", "--format=%ae", sha]);
                let who = committers
                    .iter()
                    .find(|p| p.email == email)
                    .map(|p| p.login.clone());
                PullCommit {
                    sha: sha.to_string(),
                    author_login: who.clone(),
                    author_email: email.clone(),
                    committer_login: who,
                    committer_email: email,
                }
            })
            .collect();
        self.fake.set_pull(
            OWNER,
            NAME,
            Pull {
                number,
                author: author.login.clone(),
                base: "main".into(),
                base_sha,
                head_ref: branch,
                head_sha: head.clone(),
                draft: false,
                state: "open".into(),
                commits,
            },
        );
        head
    }

    pub fn approve(&self, number: u64, who: &Person, commit: &str) {
        let id = 1000 + self.deliveries.fetch_add(1, Ordering::SeqCst) as i64;
        self.fake.add_review(
            OWNER,
            NAME,
            number,
            Review {
                id,
                login: who.login.clone(),
                state: "APPROVED".into(),
                commit_id: commit.to_string(),
                submitted_at: "2026-12-01T10:00:00Z".into(),
            },
        );
    }

    /// Write bot.toml and start the bot; wait until it answers /healthz.
    pub fn start_bot(&mut self) {
        self.start_bot_with(&[]);
    }

    pub fn start_bot_with(&mut self, env: &[(&str, &str)]) {
        let p = self.sb.path();
        let config = p.join("bot.toml");
        let text = format!(
            "listen = \"127.0.0.1:{port}\"\ndatabase = \"sqlite://{db}\"\ncache_dir = \"{cache}\"\nreconcile_interval = 0\naudit_interval = {audit}\njob_attempts = 4\nlease_seconds = 10\nworkers = 2\n{extra}\n[github]\napi_url = \"{api}\"\napp_id = {APP_ID}\nprivate_key_path = \"{pem}\"\nwebhook_secret_path = \"{secret}\"\n",
            port = self.port,
            db = p.join("bot.db").display(),
            cache = p.join("cache").display(),
            extra = self.extra_config,
            audit = self.audit_interval,
            api = self.fake.url(),
            pem = p.join("app.pem").display(),
            secret = p.join("webhook-secret").display(),
        );
        std::fs::write(&config, text).unwrap();
        self.config = config.clone();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p.join("bot.log"))
            .unwrap();
        let mut cmd = Command::new(bot_bin());
        self.sb.home.isolate(&mut cmd);
        cmd.args(["serve", "--config", config.to_str().unwrap()])
            .current_dir(p)
            .env("VOUCH_BOT_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        self.bot = Some(cmd.spawn().unwrap());
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if get(self.port, "/healthz").is_some_and(|a| a.status == 200) {
                return;
            }
            if let Some(status) = self.bot.as_mut().unwrap().try_wait().unwrap() {
                panic!("vouch-bot exited with {status}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("vouch-bot did not come up:\n{}", self.log());
    }

    /// SIGKILL the bot.
    pub fn kill_bot(&mut self) {
        if let Some(mut child) = self.bot.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// SIGTERM the bot and wait for it to exit; its exit status.
    pub fn stop_bot(&mut self) -> std::process::ExitStatus {
        let mut child = self.bot.take().expect("the bot runs");
        sh(
            &self.sb,
            self.sb.path(),
            "kill",
            &["-TERM", &child.id().to_string()],
        );
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "vouch-bot did not stop on SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.sb.path().join("bot.log")).unwrap_or_default()
    }

    /// A pull_request (or pull_request_review) payload from GitHub's examples, edited for
    /// pull request `number` at `head`.
    pub fn pull_payload(
        &self,
        event: &str,
        action: &str,
        number: u64,
        head: &str,
        sender: &str,
    ) -> Value {
        let file = match event {
            "pull_request_review" => "submitted.payload.json",
            _ => "synchronize.payload.json",
        };
        let mut p = webhook_payload(event, file);
        p["action"] = action.into();
        p["installation"] = json!({"id": INSTALLATION});
        p["repository"]["full_name"] = REPO.into();
        p["repository"]["name"] = NAME.into();
        p["repository"]["owner"]["login"] = OWNER.into();
        p["sender"]["login"] = sender.into();
        if p.get("number").is_some() {
            p["number"] = number.into();
        }
        let pr = &mut p["pull_request"];
        pr["number"] = number.into();
        pr["state"] = "open".into();
        pr["head"]["sha"] = head.into();
        pr["base"]["ref"] = "main".into();
        p
    }

    /// Send a signed delivery; the answer.
    pub fn deliver(&self, event: &str, payload: &Value) -> Answer {
        let n = self.deliveries.fetch_add(1, Ordering::SeqCst);
        self.deliver_as(
            event,
            payload,
            &format!("delivery-{n}-{}", std::process::id()),
        )
    }

    pub fn deliver_as(&self, event: &str, payload: &Value, delivery: &str) -> Answer {
        let body = serde_json::to_vec(payload).unwrap();
        let sig = sign_webhook(SECRET.as_bytes(), &body);
        post(
            self.port,
            "/webhook",
            &[
                ("X-GitHub-Event", event.to_string()),
                ("X-GitHub-Delivery", delivery.to_string()),
                ("X-Hub-Signature-256", sig),
            ],
            &body,
        )
    }

    /// The check runs on `head`.
    pub fn checks_on(&self, head: &str) -> Vec<CheckRun> {
        self.fake
            .check_runs()
            .into_iter()
            .filter(|c| c.head_sha == head)
            .collect()
    }

    /// Wait for a completed check run on `head` (the latest one); panic with the bot's log and
    /// the fake's requests if none comes.
    pub fn completed(&self, head: &str) -> CheckRun {
        self.completed_n(head, 1)
    }

    /// Wait until `n` check runs on `head` are completed; the latest.
    pub fn completed_n(&self, head: &str, n: usize) -> CheckRun {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let done: Vec<CheckRun> = self
                .checks_on(head)
                .into_iter()
                .filter(|c| c.status == "completed")
                .collect();
            if done.len() >= n {
                return done.last().unwrap().clone();
            }
            if Instant::now() > deadline {
                panic!(
                    "no completed check run on {head}\nchecks: {:#?}\nrequests: {:#?}\nviolations: {:#?}\nbot log:\n{}",
                    self.fake.check_runs(),
                    self.fake.requests(),
                    self.fake.violations(),
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Assert the fake saw nothing wrong in any request.
    pub fn assert_clean(&self) {
        let v = self.fake.violations();
        assert!(
            v.is_empty(),
            "the fake GitHub saw bad requests: {v:#?}\nbot log:\n{}",
            self.log()
        );
        // Installation tokens look like GitHub's (`ghs_…`); none may reach the log.
        let log = self.log();
        assert!(
            !log.contains("ghs_"),
            "an installation token reached the bot's log:\n{log}"
        );
    }

    /// Run the vouch CLI in the working clone.
    pub fn vouch(&self, args: &[&str]) -> Run {
        self.sb.run(&self.work, &vouch_bin(), args, &[], None)
    }

    pub fn run_bot_cli(&self, args: &[&str]) -> Run {
        self.sb.run(
            self.sb.path(),
            &bot_bin(),
            args,
            &[("VOUCH_BOT_LOG", "warn")],
            None,
        )
    }
}

/// The summary and text of a check run, for assertions.
pub fn summary(c: &CheckRun) -> String {
    format!(
        "{}\n{}\n{}",
        c.output_title.clone().unwrap_or_default(),
        c.output_summary.clone().unwrap_or_default(),
        c.output_text.clone().unwrap_or_default()
    )
}
