//! `scripts/bench-bot.sh`: the bot's figures on loopback against the fake GitHub.
//!
//! - webhook acknowledgement p50/p99 at 200 deliveries/s (4 senders, 50/s each, 5 s);
//! - webhook → completed check run p50/p99 for a 20-commit pull request on a warm mirror;
//! - resident memory of the idle bot.

#![allow(clippy::unwrap_used)]

#[path = "../tests/bot_world/mod.rs"]
mod bot_world;
#[path = "../tests/common/mod.rs"]
mod common;

use bot_world::World;
use serde_json::json;
use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mut w = World::new();
    w.start_bot();
    std::thread::sleep(Duration::from_secs(2));
    let pid = w.bot.as_ref().unwrap().id();
    let idle = rss_kib(pid);

    // A 20-commit pull request, approved by its code owner.
    w.topic("topic");
    let alice = w.alice.clone();
    for n in 0..20 {
        w.write(&format!("src/f{n}.rs"), &format!("pub fn f{n}() {{}}\n"));
        w.commit_as(&alice, &format!("Change {n}"), true);
    }
    let head = w.open_pull(1, &alice, &[&alice]);
    let carol = w.carol.clone();
    w.approve(1, &carol, &head);
    let opened = w.pull_payload("pull_request", "opened", 1, &head, "alice");
    assert_eq!(w.deliver("pull_request", &opened).status, 202);
    w.completed(&head); // warms the mirror

    // Webhook → completed check run, one re-run at a time.
    let mut rerun = vouch_fake_github::webhook_payload("check_run", "rerequested.payload.json");
    rerun["installation"] = json!({"id": bot_world::INSTALLATION});
    rerun["repository"]["full_name"] = bot_world::REPO.into();
    rerun["check_run"]["name"] = "vouch: main".into();
    rerun["check_run"]["head_sha"] = head.clone().into();
    rerun["check_run"]["pull_requests"] = json!([{"number": 1, "head": {"ref": "topic", "sha": head}, "base": {"ref": "main", "sha": w.main_sha()}}]);
    let mut judged = Vec::new();
    for k in 0..20 {
        let t = Instant::now();
        assert_eq!(w.deliver("check_run", &rerun).status, 202);
        let c = w.completed_n(&head, k + 2);
        assert_eq!(c.conclusion.as_deref(), Some("success"));
        judged.push(t.elapsed());
    }
    judged.sort();

    // Acknowledgement latency at 200 deliveries/s: reviews on the same pull request (each is
    // recorded; the jobs they ask for coalesce into the live one).
    let review = w.pull_payload("pull_request_review", "submitted", 1, &head, "carol");
    let body = serde_json::to_vec(&review).unwrap();
    let sig = vouch_fake_github::sign_webhook(bot_world::SECRET.as_bytes(), &body);
    let port = w.port;
    let senders: Vec<_> = (0..4)
        .map(|s| {
            let body = body.clone();
            let sig = sig.clone();
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                let start = Instant::now();
                for i in 0..250u32 {
                    let due = start + Duration::from_millis(20) * i;
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let t = Instant::now();
                    let a = bot_world::post(
                        port,
                        "/webhook",
                        &[
                            ("X-GitHub-Event", "pull_request_review".to_string()),
                            ("X-GitHub-Delivery", format!("bench-{s}-{i}")),
                            ("X-Hub-Signature-256", sig.clone()),
                        ],
                        &body,
                    );
                    lat.push(t.elapsed());
                    assert!(a.status == 202 || a.status == 200, "{}", a.body);
                }
                lat
            })
        })
        .collect();
    let mut acks: Vec<Duration> = senders
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    acks.sort();
    let busy = rss_kib(pid);

    println!("vouch-bot on loopback against the fake GitHub (2-core machine)");
    println!(
        "webhook ack at 200/s ({} deliveries): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        acks.len(),
        percentile(&acks, 0.5).as_secs_f64() * 1e3,
        percentile(&acks, 0.99).as_secs_f64() * 1e3,
        acks.last().unwrap().as_secs_f64() * 1e3
    );
    println!(
        "webhook -> completed check run, 20-commit pull request, warm mirror ({} runs): p50 {:.0} ms, p99 {:.0} ms",
        judged.len(),
        percentile(&judged, 0.5).as_secs_f64() * 1e3,
        percentile(&judged, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "idle RSS {:.1} MB; after the load {:.1} MB",
        idle as f64 / 1024.0,
        busy as f64 / 1024.0
    );
}
